/* protocol: the control protocol's commands — the table of every command, its fields and
 * their types; strict validation of one line; ctl's words and flags; the usage text. The
 * socket server (control) and plugins' submit (engine_plugins) both take commands through it. */
#include "protocol.h"

#include <errno.h>
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

/* protocol_parse on line[0..len) with line[len] == '\0'. */
static cJSON *parse_ended(const char *line, size_t len, char *why, size_t why_len)
{
    why[0] = '\0';
    if (len > PROTOCOL_LINE_MAX) {
        snprintf(why, why_len, "line longer than %d bytes", PROTOCOL_LINE_MAX);
        return NULL;
    }
    if (!bytes_ok(line, len, why, why_len))
        return NULL;
    const char *end = NULL;
    cJSON *c = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);   /* what ParseWithOpts does */
    if (!c) {
        snprintf(why, why_len, "bad JSON near byte %ld", end ? (long)(end - line) : 0L);
        return NULL;
    }
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
            return c;
    }
    cJSON_Delete(c);
    return NULL;
}

cJSON *protocol_parse(const char *line, size_t len, char *why, size_t why_len)
{
    char *copy = len <= PROTOCOL_LINE_MAX ? strndup(line, len) : NULL;
    if (!copy) {
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
