/* protocol: the control protocol's commands — the table of every command, its fields and
 * their types; strict validation of one line; ctl's words and flags; the usage text. The
 * socket server (control) and plugins' submit (engine_plugins) both take commands through it. */
#include "protocol.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "person.h"

/* ---- the command table: every command, its fields and their types ---- */

enum ftype { F_STR, F_INT, F_NUM, F_SET, F_OBJ };

struct field { const char *name; enum ftype type; };

struct command {
    const char *name;          /* protocol name; ctl words are its dot-separated parts */
    const char *help;
    struct field fields[20];
};

#define PERSON_FIELDS                                                                                        \
    { "id", F_STR }, { "name", F_STR }, { "email", F_STR }, { "title", F_STR }, { "location", F_STR },      \
    { "department", F_STR }, { "level", F_INT }, { "tenure_years", F_NUM }, { "timezone", F_STR },           \
    { "skills", F_SET }, { "wants", F_SET }, { "tags", F_SET }, { "capacity", F_INT }, { "manager", F_STR }, \
    { "plan", F_STR }, { "attrs", F_OBJ }

static const struct command COMMANDS[] = {
    { "person.add", "add a person (the CSV's columns as flags; custom fields in attrs)", { PERSON_FIELDS } },
    { "person.update", "change a person's fields (--id names them)", { PERSON_FIELDS } },
    { "person.leave", "a person leaves: their live matches close (reason left)", { { "id", F_STR } } },
    { "enroll", "enrol a person in a program as mentor or mentee",
      { { "person", F_STR }, { "program", F_STR }, { "role", F_STR } } },
    { "match.propose", "make a match by hand in a program (mentors and mentees: ids, a;b)",
      { { "program", F_STR }, { "mentors", F_SET }, { "mentees", F_SET }, { "why", F_OBJ } } },
    { "match.approve", "approve a proposed match", { { "match", F_INT } } },
    { "match.reject", "reject a proposed match", { { "match", F_INT } } },
    { "meeting.held", "the scheduled meeting was held", { { "match", F_INT } } },
    { "meeting.missed", "the scheduled meeting was missed", { { "match", F_INT } } },
    { "meeting.cancel", "cancel the scheduled meeting", { { "match", F_INT } } },
    { "goal.set", "set a goal (due: a date or a duration from now; priority: one of the organization's)",
      { { "match", F_INT }, { "text", F_STR }, { "due", F_STR }, { "measure", F_STR }, { "priority", F_STR } } },
    { "goal.progress", "record progress on a goal", { { "goal", F_INT }, { "text", F_STR } } },
    { "goal.achieve", "a goal is achieved", { { "goal", F_INT }, { "text", F_STR } } },
    { "goal.drop", "a goal is dropped", { { "goal", F_INT }, { "text", F_STR } } },
    { "feedback", "a rating 1-5 on a match (from a party) or a program",
      { { "match", F_INT }, { "program", F_STR }, { "from", F_STR }, { "rating", F_INT }, { "text", F_STR } } },
    { "introduce", "introduce a contact to a match: they join its later meetings as a guest",
      { { "match", F_INT }, { "contact", F_STR } } },
    { "reup", "a party's re-up decision: renew or exit",
      { { "match", F_INT }, { "person", F_STR }, { "decision", F_STR } } },
    { "reup.renew", "renew the match for every party (an admin's decision)", { { "match", F_INT } } },
    { "ack", "a party acknowledges the program's expectations and training",
      { { "match", F_INT }, { "person", F_STR } } },
    { "prompt", "the discussion prompt for the match's next meeting", { { "match", F_INT }, { "text", F_STR } } },
    { "meeting.reschedule", "move the scheduled meeting (at: a time or a duration from now)",
      { { "match", F_INT }, { "at", F_STR } } },
    { "request", "a mentee asks for mentors in order (mentors: ids, a;b); each has respond_within to answer",
      { { "person", F_STR }, { "program", F_STR }, { "mentors", F_SET } } },
    { "request.accept", "the mentor asked accepts: the match is made",
      { { "request", F_INT }, { "person", F_STR } } },
    { "request.decline", "the mentor asked declines: the next choice is asked",
      { { "request", F_INT }, { "person", F_STR } } },
    { "request.withdraw", "the mentee withdraws the request", { { "request", F_INT } } },
    { "reload", "reload the rule file; a failing one is rejected and the old rules go on", { { NULL, 0 } } },
    { "status", "uptime, seq, people, live matches, next due item, rules", { { NULL, 0 } } },
    { "snapshot", "write a snapshot now: the next start replays only the log after it", { { NULL, 0 } } },
};
#define N_COMMANDS (sizeof COMMANDS / sizeof *COMMANDS)

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

static const struct field *find_field(const struct command *c, const char *name)
{
    for (int i = 0; i < 20 && c->fields[i].name; i++)
        if (c->fields[i].name[0] == name[0] && strcmp(c->fields[i].name, name) == 0)
            return &c->fields[i];
    return NULL;
}

static const char *const TYPE_NAMES[] = { "a string", "a whole number", "a number", "a string or a list of strings",
                                          "an object" };

static bool type_ok(const cJSON *v, enum ftype t)
{
    switch (t) {
    case F_STR: return cJSON_IsString(v) || cJSON_IsNull(v);
    case F_INT: return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
    case F_NUM: return cJSON_IsNumber(v);
    case F_OBJ: return cJSON_IsObject(v) || cJSON_IsNull(v);
    case F_SET:
        if (cJSON_IsString(v) || cJSON_IsNull(v))
            return true;
        if (!cJSON_IsArray(v))
            return false;
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
            if (!cJSON_IsString(it))
                return false;
        return true;
    }
    return false;
}

/* Duplicate keys and out-of-range integers, anywhere in the value. */
static const char *deep_check(const cJSON *v, int depth)
{
    if (depth > 32)
        return "nested too deep";
    if (cJSON_IsNumber(v) && fabs(v->valuedouble) >= 9007199254740992.0)
        return "numbers must stay below 2^53 to be represented exactly";
    for (const cJSON *a = v->child; a; a = a->next) {
        if (cJSON_IsObject(v))
            for (const cJSON *b = a->next; b; b = b->next)
                if (a->string[0] == b->string[0] && strcmp(a->string, b->string) == 0)
                    return "a key appears twice";
        const char *bad = deep_check(a, depth + 1);
        if (bad)
            return bad;
    }
    return NULL;
}

/* The bytes' checks before parsing: valid UTF-8, no NUL, no \u0000. An ASCII line (nearly every
 * one) is checked in one pass; anything else goes through person_utf8_valid and memmem. */
static bool bytes_ok(const char *line, size_t len, char *why, size_t why_len)
{
    const unsigned char *s = (const unsigned char *)line;
    bool ascii = true, nul_escape = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == 0 || s[i] >= 0x80) {
            ascii = false;
            break;
        }
        if (s[i] == '\\' && len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
            nul_escape = true;
    }
    if (!ascii) {
        size_t bad_at;
        if (!person_utf8_valid(line, len, &bad_at)) {
            snprintf(why, why_len, "invalid UTF-8 or a NUL byte at offset %zu", bad_at);
            return false;
        }
        nul_escape = memmem(line, len, "\\u0000", 6) != NULL;
    }
    if (nul_escape) {
        snprintf(why, why_len, "\\u0000 is not allowed in strings");
        return false;
    }
    return true;
}

static bool command_ok(const cJSON *c, char *why, size_t why_len);

/* A line's length and bytes (see bytes_ok); false with the reason in why. */
static bool line_ok(const char *line, size_t len, char *why, size_t why_len)
{
    why[0] = '\0';
    if (len > PROTOCOL_LINE_MAX) {
        snprintf(why, why_len, "line longer than %d bytes", PROTOCOL_LINE_MAX);
        return false;
    }
    return bytes_ok(line, len, why, why_len);
}

/* protocol_parse on line[0..len) with line[len] == '\0'. */
static cJSON *parse_ended(const char *line, size_t len, char *why, size_t why_len)
{
    if (!line_ok(line, len, why, why_len))
        return NULL;
    const char *end = NULL;
    cJSON *c = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);   /* what ParseWithOpts does */
    if (!c) {
        snprintf(why, why_len, "bad JSON near byte %ld", end ? (long)(end - line) : 0L);
        return NULL;
    }
    if (command_ok(c, why, why_len))
        return c;
    cJSON_Delete(c);
    return NULL;
}

/* The checks of a parsed line: no key twice, numbers below 2^53, a known command with only
 * its fields, each of its type. False with the reason in why. */
static bool command_ok(const cJSON *c, char *why, size_t why_len)
{
    const char *bad = deep_check(c, 0);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "cmd");
    const struct command *cmd = cJSON_IsString(name) ? find_command(name->valuestring) : NULL;
    if (bad) {
        snprintf(why, why_len, "%s", bad);
    } else if (!cJSON_IsObject(c)) {
        snprintf(why, why_len, "a command must be a JSON object");
    } else if (!cJSON_IsString(name)) {
        snprintf(why, why_len, "a command needs \"cmd\" (a string, lower case)");
    } else if (!cmd) {
        snprintf(why, why_len, "unknown command \"%.64s\"", name->valuestring);
    } else {
        for (const cJSON *it = c->child; it; it = it->next) {
            if (strcmp(it->string, "cmd") == 0)
                continue;
            const struct field *f = find_field(cmd, it->string);
            if (!f) {
                snprintf(why, why_len, "%s has no field \"%.64s\"", cmd->name, it->string);
                break;
            }
            if (!type_ok(it, f->type)) {
                snprintf(why, why_len, "%s must be %s", f->name, TYPE_NAMES[f->type]);
                break;
            }
        }
        if (!why[0])
            return true;
    }
    return false;
}

cJSON *protocol_parse(const char *line, size_t len, char *why, size_t why_len)
{
    /* memcpy, not strndup: a line may hold a NUL byte, which line_ok refuses by name */
    char *copy = len <= PROTOCOL_LINE_MAX ? malloc(len + 1) : NULL;
    if (copy) {
        memcpy(copy, line, len);
        copy[len] = '\0';
    } else {
        why[0] = '\0';
        snprintf(why, why_len, len > PROTOCOL_LINE_MAX ? "line longer than %d bytes" : "out of memory",
                 PROTOCOL_LINE_MAX);
        return NULL;
    }
    cJSON *c = parse_ended(copy, len, why, why_len);
    free(copy);
    return c;
}

cJSON *protocol_parse_in(char *line, size_t len, char *why, size_t why_len)
{
    char saved = line[len];
    line[len] = '\0';
    cJSON *c = parse_ended(line, len, why, why_len);
    line[len] = saved;
    return c;
}

/* ---- a common line read in place ---- */

static size_t skip_spaces(const char *s, size_t i, size_t len)
{
    while (i < len && s[i] == ' ')
        i++;
    return i;
}

/* A string at s[i] (its opening quote) without escapes or control bytes: the index of its
 * closing quote, or 0 when it is not such a string. */
static size_t plain_string_end(const char *s, size_t i, size_t len, unsigned char *high)
{
    if (i >= len || s[i] != '"')
        return 0;
    for (size_t k = i + 1; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == '"')
            return k;
        if (c == '\\' || c < 0x20)
            return 0;
        *high |= c;
    }
    return 0;
}

/* Where read_plain found one member's key and value in the line. */
struct plain_member {
    size_t key, key_end, val, val_end;
    bool str;
};

/* Whether line[0..len) is {"key":value,...} with plain strings and whole numbers of at most
 * 15 digits as the values, spaces the only whitespace (at most PROTOCOL_VIEW_MAX members,
 * found into m[0..*n)); *ascii tells whether every byte is below 0x80. Changes nothing. */
static bool plain_shape(const char *line, size_t len, struct plain_member *m, int *n, bool *ascii)
{
    unsigned char high = 0;
    *n = 0;
    size_t i = skip_spaces(line, 0, len);
    if (i >= len || line[i] != '{')
        return false;
    i = skip_spaces(line, i + 1, len);
    for (;;) {
        if (*n == PROTOCOL_VIEW_MAX)
            return false;
        struct plain_member *it = &m[*n];
        size_t ke = plain_string_end(line, i, len, &high);
        if (!ke)
            return false;
        it->key = i + 1;
        it->key_end = ke;
        i = skip_spaces(line, ke + 1, len);
        if (i >= len || line[i] != ':')
            return false;
        i = skip_spaces(line, i + 1, len);
        if (i < len && line[i] == '"') {
            size_t ve = plain_string_end(line, i, len, &high);
            if (!ve)
                return false;
            *it = (struct plain_member){ it->key, it->key_end, i + 1, ve, true };
            i = ve + 1;
        } else {
            size_t k = i + (i < len && line[i] == '-');
            size_t digits = k;
            while (k < len && line[k] >= '0' && line[k] <= '9')
                k++;
            if (k == digits || k - digits > 15 || (k < len && line[k] != ' ' && line[k] != ',' && line[k] != '}'))
                return false;
            *it = (struct plain_member){ it->key, it->key_end, i, k, false };
            i = k;
        }
        (*n)++;
        i = skip_spaces(line, i, len);
        if (i < len && line[i] == ',') {
            i = skip_spaces(line, i + 1, len);
            continue;
        }
        if (i < len && line[i] == '}')
            break;
        return false;
    }
    *ascii = !(high & 0x80);
    return skip_spaces(line, i + 1, len) == len;
}

/* The tree of a line of plain_shape's members into v, as cJSON_Parse would make it (the same
 * types, values, order and links), its strings NUL-ended in line over their closing quotes. */
static cJSON *plain_tree(char *line, const struct plain_member *m, int n, struct protocol_view *v)
{
    memset(v, 0, sizeof *v);
    v->root.type = cJSON_Object;
    v->root.child = &v->members[0];
    for (int k = 0; k < n; k++) {
        cJSON *it = &v->members[k];
        it->next = k + 1 < n ? &v->members[k + 1] : NULL;
        it->prev = k > 0 ? &v->members[k - 1] : &v->members[n - 1];   /* cJSON: the first's prev is the last */
        line[m[k].key_end] = '\0';
        it->string = line + m[k].key;
        if (m[k].str) {
            line[m[k].val_end] = '\0';
            it->type = cJSON_String;
            it->valuestring = line + m[k].val;
        } else {
            const char *d = line + m[k].val;
            bool neg = *d == '-';
            unsigned long long u = 0;
            for (d += neg; d < line + m[k].val_end; d++)
                u = u * 10 + (unsigned)(*d - '0');
            double x = neg ? -(double)u : (double)u;   /* "-0" is -0.0, as strtod reads it */
            it->type = cJSON_Number;
            it->valuedouble = x;
            it->valueint = x >= INT_MAX ? INT_MAX : x <= (double)INT_MIN ? INT_MIN : (int)x;
        }
    }
    return &v->root;
}

/* A plain line needs no other check of its bytes: no backslash (so no \u0000), no byte below
 * 0x20 (so no NUL); only its UTF-8, when it is not all ASCII. Any other line, or one whose
 * UTF-8 is bad, goes to protocol_parse_in, which says why as protocol_parse would. */
cJSON *protocol_parse_view(char *line, size_t len, struct protocol_view *v, bool *borrowed, char *why,
                           size_t why_len)
{
    struct plain_member m[PROTOCOL_VIEW_MAX];
    int n;
    bool ascii;
    *borrowed = false;
    why[0] = '\0';
    if (len > PROTOCOL_LINE_MAX || !plain_shape(line, len, m, &n, &ascii) ||
        (!ascii && !person_utf8_valid(line, len, NULL)))
        return protocol_parse_in(line, len, why, why_len);
    cJSON *c = plain_tree(line, m, n, v);
    if (!command_ok(c, why, why_len))
        return NULL;
    *borrowed = true;
    return c;
}

/* ---- ctl's words and flags ---- */

cJSON *protocol_from_args(int argc, char **argv, char *why, size_t why_len)
{
    char name[64] = "";
    int i = 0;
    /* The command's words: `meeting held` -> "meeting.held"; stop at the first flag. */
    for (; i < argc && strncmp(argv[i], "--", 2) != 0; i++) {
        if (strlen(name) + strlen(argv[i]) + 2 > sizeof name)
            break;
        if (name[0])
            strcat(name, ".");
        strcat(name, argv[i]);
    }
    const struct command *cmd = find_command(name);
    if (!cmd) {
        snprintf(why, why_len, "unknown command \"%s\" (tandem ctl --help lists them)", name);
        return NULL;
    }
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "cmd", cmd->name);
    for (; i < argc; i += 2) {
        const char *flag = argv[i];
        if (strncmp(flag, "--", 2) != 0 || i + 1 >= argc) {
            snprintf(why, why_len, "expected --FIELD VALUE, got \"%s\"", flag);
            goto fail;
        }
        const struct field *f = find_field(cmd, flag + 2);
        if (!f) {
            snprintf(why, why_len, "%s has no field \"%s\"", cmd->name, flag + 2);
            goto fail;
        }
        if (cJSON_GetObjectItemCaseSensitive(c, f->name)) {
            snprintf(why, why_len, "--%s given twice", f->name);
            goto fail;
        }
        const char *v = argv[i + 1];
        char *end;
        if (f->type == F_INT) {
            errno = 0;
            long long n = strtoll(v, &end, 10);
            if (*end || end == v || errno || llabs(n) >= 9007199254740992LL) {
                snprintf(why, why_len, "--%s must be a whole number, not \"%s\"", f->name, v);
                goto fail;
            }
            cJSON_AddNumberToObject(c, f->name, (double)n);
        } else if (f->type == F_NUM) {
            double d = strtod(v, &end);
            if (*end || end == v || !isfinite(d)) {
                snprintf(why, why_len, "--%s must be a number, not \"%s\"", f->name, v);
                goto fail;
            }
            cJSON_AddNumberToObject(c, f->name, d);
        } else if (f->type == F_OBJ) {
            cJSON *o = cJSON_Parse(v);
            if (!cJSON_IsObject(o)) {
                cJSON_Delete(o);
                snprintf(why, why_len, "--%s must be a JSON object", f->name);
                goto fail;
            }
            cJSON_AddItemToObject(c, f->name, o);
        } else {
            cJSON_AddStringToObject(c, f->name, v);
        }
    }
    return c;
fail:
    cJSON_Delete(c);
    return NULL;
}

void protocol_usage(FILE *out)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const struct command *c = &COMMANDS[i];
        char words[64];
        snprintf(words, sizeof words, "%s", c->name);
        for (char *d = strchr(words, '.'); d; d = strchr(d, '.'))
            *d = ' ';
        fprintf(out, "  %-15s %s\n", words, c->help);
        if (c->fields[0].name) {
            fprintf(out, "  %-15s", "");
            for (int k = 0; k < 20 && c->fields[k].name; k++)
                fprintf(out, " --%s%s", c->fields[k].name,
                        c->fields[k].type == F_INT ? " N" : c->fields[k].type == F_NUM ? " X" : "");
            fprintf(out, "\n");
        }
    }
}
