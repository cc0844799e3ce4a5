/* control: protocol validation, the ctl client (plain blocking POSIX sockets) and the
 * libuv server. Replies are queued per client by ticket, so a client sees its replies in
 * the order of its lines even when some wait for a group commit. */
#include "control.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
        if (strcmp(c->fields[i].name, name) == 0)
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
                if (strcmp(a->string, b->string) == 0)
                    return "a key appears twice";
        const char *bad = deep_check(a, depth + 1);
        if (bad)
            return bad;
    }
    return NULL;
}

cJSON *control_parse(const char *line, size_t len, char *why, size_t why_len)
{
    why[0] = '\0';
    if (len > CONTROL_LINE_MAX) {
        snprintf(why, why_len, "line longer than %d bytes", CONTROL_LINE_MAX);
        return NULL;
    }
    size_t bad_at;
    if (!person_utf8_valid(line, len, &bad_at)) {
        snprintf(why, why_len, "invalid UTF-8 or a NUL byte at offset %zu", bad_at);
        return NULL;
    }
    if (memmem(line, len, "\\u0000", 6)) {
        snprintf(why, why_len, "\\u0000 is not allowed in strings");
        return NULL;
    }
    char *copy = strndup(line, len);
    const char *end = NULL;
    cJSON *c = copy ? cJSON_ParseWithOpts(copy, &end, 1) : NULL;
    if (!c) {
        snprintf(why, why_len, "bad JSON near byte %ld", end && copy ? (long)(end - copy) : 0L);
        free(copy);
        return NULL;
    }
    free(copy);
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

/* ---- ctl's words and flags ---- */

cJSON *control_from_args(int argc, char **argv, char *why, size_t why_len)
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

void control_usage(FILE *out)
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

/* ---- the client ---- */

char *control_send(const char *sock_path, const char *line, char *why, size_t why_len)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(sock_path) >= sizeof addr.sun_path) {
        snprintf(why, why_len, "socket path too long: %s", sock_path);
        return NULL;
    }
    strcpy(addr.sun_path, sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        snprintf(why, why_len, "cannot reach the daemon at %s: %s", sock_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t len = strlen(line);
    char *msg = malloc(len + 2);
    if (!msg) {
        close(fd);
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    memcpy(msg, line, len);
    msg[len] = '\n';
    size_t off = 0;
    while (off < len + 1) {
        ssize_t n = send(fd, msg + off, len + 1 - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, why_len, "write to the daemon failed: %s", strerror(errno));
            free(msg);
            close(fd);
            return NULL;
        }
        off += (size_t)n;
    }
    free(msg);
    size_t cap = 4096, got = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    for (;;) {
        if (got + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                snprintf(why, why_len, "out of memory reading the reply");
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + got, cap - got - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (memchr(buf + got - (size_t)n, '\n', (size_t)n))
            break;
    }
    close(fd);
    buf[got] = '\0';
    char *nl = strchr(buf, '\n');
    if (!nl) {
        snprintf(why, why_len, "the daemon closed the connection without a reply");
        free(buf);
        return NULL;
    }
    *nl = '\0';
    return buf;
}

/* ---- the server ---- */

struct pending_reply {
    unsigned long long ticket;
    char *text;               /* NULL until the reply is ready */
};

struct control_client {
    uv_pipe_t pipe;
    uv_timer_t idle;
    struct control_server *server;
    char *buf;
    size_t len, cap;
    bool discarding;          /* inside an overlong line: drop bytes up to its newline */
    bool closing;
    bool paused;              /* reading stopped until the client reads its replies */
    char *out;                /* replies ready to send, gathered into one write */
    size_t out_len, out_cap;
    int handles_open;
    struct pending_reply *pending;
    int n_pending, cap_pending;
    unsigned long long next_ticket;
    struct control_client *next;
};

struct control_server {
    uv_pipe_t pipe;
    uv_loop_t *loop;
    char *path;
    control_cmd_fn fn;
    void *ctx;
    struct control_client *clients;
    int n_clients;
};

struct write_req {
    uv_write_t req;
    char *text;
    struct control_client *client;
};

/* A client that sends without reading its replies is not read from until it catches up:
 * its replies would otherwise pile up in the daemon's memory. */
#define CLIENT_PENDING_MAX 1024
#define CLIENT_UNSENT_MAX (1u << 20)

static bool too_full(struct control_client *c)
{
    return c->n_pending > CLIENT_PENDING_MAX ||
           uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) + c->out_len > CLIENT_UNSENT_MAX;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

static void maybe_free_client(struct control_client *c)
{
    if (c->handles_open > 0 || c->n_pending > 0)
        return;
    for (int i = 0; i < c->n_pending; i++)
        free(c->pending[i].text);
    free(c->pending);
    free(c->buf);
    free(c->out);
    free(c);
}

static void on_client_handle_closed(uv_handle_t *h)
{
    struct control_client *c = h->data;
    c->handles_open--;
    maybe_free_client(c);
}

static void client_close(struct control_client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    struct control_server *s = c->server;
    for (struct control_client **p = &s->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    s->n_clients--;
    uv_close((uv_handle_t *)&c->pipe, on_client_handle_closed);
    uv_close((uv_handle_t *)&c->idle, on_client_handle_closed);
}

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct control_client *c = w->client;
    (void)status;   /* a client that went away just misses its reply */
    free(w->text);
    free(w);
    if (c->paused && !c->closing && c->n_pending <= CLIENT_PENDING_MAX / 2 &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) <= CLIENT_UNSENT_MAX / 2) {
        c->paused = false;
        uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    }
}

/* Sends what replies have gathered with one write (one syscall for many replies). */
static void client_flush(struct control_client *c)
{
    if (c->closing || c->out_len == 0)
        return;
    struct write_req *w = malloc(sizeof *w);
    if (!w) {
        client_close(c);
        return;
    }
    w->text = c->out;
    w->client = c;
    uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0) {
        free(w->text);
        free(w);
        client_close(c);
    }
}

static void write_text(struct control_client *c, char *text)
{
    size_t n = strlen(text);
    if (!c->closing && c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        char *nb = realloc(c->out, cap);
        if (!nb) {
            free(text);
            client_close(c);
            return;
        }
        c->out = nb;
        c->out_cap = cap;
    }
    if (!c->closing) {
        memcpy(c->out + c->out_len, text, n);
        c->out_len += n;
        if (c->out_len >= 65536)
            client_flush(c);
    }
    free(text);
}

void control_flush(struct control_server *s)
{
    for (struct control_client *c = s ? s->clients : NULL; c; c = c->next)
        client_flush(c);
}

/* Sends every ready reply at the head of the queue, in ticket order. */
static void flush_replies(struct control_client *c)
{
    int k = 0;
    while (k < c->n_pending && c->pending[k].text)
        write_text(c, c->pending[k++].text);
    memmove(c->pending, c->pending + k, (size_t)(c->n_pending - k) * sizeof *c->pending);
    c->n_pending -= k;
}

static unsigned long long take_ticket(struct control_client *c)
{
    if (c->n_pending == c->cap_pending) {
        c->cap_pending = c->cap_pending ? c->cap_pending * 2 : 8;
        c->pending = realloc(c->pending, (size_t)c->cap_pending * sizeof *c->pending);
    }
    unsigned long long t = c->next_ticket++;
    c->pending[c->n_pending++] = (struct pending_reply){ t, NULL };
    return t;
}

void control_reply(struct control_server *s, struct control_client *c, unsigned long long ticket, cJSON *reply)
{
    (void)s;
    char *text = cJSON_PrintUnformatted(reply);
    cJSON_Delete(reply);
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        line = strdup("{\"ok\":false,\"error\":\"out of memory\"}\n");
    } else {
        line[n] = '\n';
        line[n + 1] = '\0';
    }
    text = line;
    for (int i = 0; i < c->n_pending; i++)
        if (c->pending[i].ticket == ticket) {
            c->pending[i].text = text;
            break;
        }
    flush_replies(c);
    if (c->closing) {
        /* Gone before its replies: drop what is ready, free when nothing is owed. */
        while (c->n_pending > 0 && c->pending[0].text) {
            free(c->pending[0].text);
            memmove(c->pending, c->pending + 1, (size_t)--c->n_pending * sizeof *c->pending);
        }
        maybe_free_client(c);
    }
}

static void reply_error(struct control_client *c, const char *why)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddFalseToObject(r, "ok");
    cJSON_AddStringToObject(r, "error", why);
    control_reply(c->server, c, take_ticket(c), r);
}

static void handle_line(struct control_client *c, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return;
    char why[256] = "";
    cJSON *cmd = control_parse(line, len, why, sizeof why);
    if (!cmd) {
        reply_error(c, why);
        return;
    }
    c->server->fn(c->server->ctx, c, cmd, take_ticket(c));
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct control_client *c = h->data;
    (void)suggested;
    if (c->cap - c->len < 16384) {
        c->cap = c->cap ? c->cap * 2 : 32768;
        c->buf = realloc(c->buf, c->cap);
    }
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct control_client *c = stream->data;
    (void)buf;
    if (nread < 0) {
        client_close(c);
        return;
    }
    uv_timer_again(&c->idle);
    size_t start = c->len;
    c->len += (size_t)nread;
    size_t from = 0;
    for (size_t i = start; i < c->len; i++) {
        if (c->buf[i] != '\n')
            continue;
        if (c->discarding)
            c->discarding = false;
        else
            handle_line(c, c->buf + from, i - from);
        from = i + 1;
        if (c->closing)
            return;
    }
    memmove(c->buf, c->buf + from, c->len - from);
    c->len -= from;
    if (c->len > CONTROL_LINE_MAX + 1) {
        if (!c->discarding) {
            char why[96];
            snprintf(why, sizeof why, "line longer than %d bytes", CONTROL_LINE_MAX);
            reply_error(c, why);
        }
        c->discarding = true;
        c->len = 0;
    }
    if (c->cap > 4 * 65536 && c->len < 32768) {
        c->cap = 65536;
        c->buf = realloc(c->buf, c->cap);
    }
    client_flush(c);
    if (too_full(c)) {
        c->paused = true;
        uv_read_stop(stream);
    }
}

static void on_idle(uv_timer_t *t)
{
    client_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct control_server *s = server->data;
    if (status < 0)
        return;
    struct control_client *c = calloc(1, sizeof *c);
    c->server = s;
    uv_pipe_init(s->loop, &c->pipe, 0);
    uv_timer_init(s->loop, &c->idle);
    c->pipe.data = c;
    c->idle.data = c;
    c->handles_open = 2;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->pipe, on_client_handle_closed);
        uv_close((uv_handle_t *)&c->idle, on_client_handle_closed);
        return;
    }
    c->next = s->clients;
    s->clients = c;
    s->n_clients++;
    if (s->n_clients > CONTROL_CLIENTS_MAX) {
        reply_error(c, "too many connections");
        client_flush(c);
        client_close(c);
        return;
    }
    uv_timer_start(&c->idle, on_idle, CONTROL_IDLE_MS, CONTROL_IDLE_MS);
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void on_server_closed(uv_handle_t *h)
{
    struct control_server *s = h->data;
    free(s->path);
    free(s);
}

int control_listen(uv_loop_t *loop, const char *path, int mode, control_cmd_fn fn, void *ctx,
                   struct control_server **out, char *why, size_t why_len)
{
    *out = NULL;
    /* A socket file left by a crash is replaced; one with a listener means another daemon. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(why, why_len, "%s exists and is not a socket", path);
            return -EEXIST;
        }
        char tmp[64];
        char *probe = control_send(path, "{\"cmd\":\"status\"}", tmp, sizeof tmp);
        if (probe) {
            free(probe);
            snprintf(why, why_len, "another tandem is listening on %s", path);
            return -EADDRINUSE;
        }
        unlink(path);
    }
    struct control_server *s = calloc(1, sizeof *s);
    s->loop = loop;
    s->fn = fn;
    s->ctx = ctx;
    s->path = strdup(path);
    uv_pipe_init(loop, &s->pipe, 0);
    s->pipe.data = s;
    /* Created owner-only from the start (a chmod after listen would leave a window: CVE-2023-45145),
     * then set to exactly the mode asked for, before anyone can connect. */
    mode_t old = umask(077);
    int rc = uv_pipe_bind(&s->pipe, path);
    umask(old);
    if (rc == 0 && chmod(path, (mode_t)mode) < 0)
        rc = -errno;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->pipe, 128, on_connection);
    if (rc < 0) {
        snprintf(why, why_len, "cannot listen on %s: %s", path, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->pipe, on_server_closed);   /* frees s when the loop runs */
        return rc;
    }
    *out = s;
    return 0;
}

void control_close(struct control_server *s)
{
    if (!s)
        return;
    while (s->clients)
        client_close(s->clients);
    unlink(s->path);
    uv_close((uv_handle_t *)&s->pipe, on_server_closed);
}

int control_clients(const struct control_server *s)
{
    return s ? s->n_clients : 0;
}
