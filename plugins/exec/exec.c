/* exec: pipes chosen event types, one JSON line each, into a long-running command's stdin
 * (mail or chat glue: `while read line; do ...; done`). The daemon's loop never waits for it:
 * lines wait in a bounded queue, a full queue drops new events (counted and logged), and a
 * command that dies is restarted with a doubling backoff; lines it had not taken are sent again.
 * In simulate nothing is dropped: a full queue waits for the command (host->run_once). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "tandem/plugin.h"

#define BACKOFF_MIN_MS 100
#define STEADY_MS 10000       /* a command that ran this long gets the short backoff again */
#define WRITE_MAX 256         /* lines per write */

struct exec;

/* One run of the command: its process and the pipe to its stdin, freed when both are closed. */
struct child {
    struct exec *x;
    uv_process_t proc;
    uv_pipe_t pipe;
    int open_handles;
    bool running;             /* spawned and not exited yet */
    bool pipe_closing;
};

struct exec {
    tandem_ctx *ctx;
    const struct tandem_host *host;
    uv_loop_t *loop;
    char *command;
    bool simulate;
    /* The queue: lines not yet taken by the command; the first `in_flight` are being written. */
    char **ring;
    size_t *lens;
    int head, len, cap;
    int in_flight;
    uv_write_t wreq;
    uv_buf_t bufs[WRITE_MAX];
    struct child *child;      /* the running command, NULL when there is none */
    uv_timer_t restart, grace;
    uint64_t backoff_ms, backoff_max_ms, grace_ms, started_ms;
    long long drops, drops_logged, restarts;
    int open_handles;         /* the two timers */
    bool closing, gave_up;
};

static void kick(struct exec *x);
static void spawn(struct exec *x);

static void maybe_free(struct exec *x)
{
    if (!x->closing || x->open_handles > 0 || x->child)
        return;
    for (int i = 0; i < x->len; i++)
        free(x->ring[(x->head + i) % x->cap]);
    free(x->ring);
    free(x->lens);
    free(x->command);
    free(x);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct exec *x = h->data;
    x->open_handles--;
    maybe_free(x);
}

static void on_child_handle_closed(uv_handle_t *h)
{
    struct child *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct exec *x = c->x;
    if (x->child == c)
        x->child = NULL;
    free(c);
    if (x->closing && x->len > 0 && !x->gave_up) {
        /* Stopping with lines left: one more run takes them (a command that dies at every
         * start cannot hold the stop up: this is the last). */
        x->gave_up = true;
        spawn(x);
        return;
    }
    if (x->closing) {
        if (x->len > 0)
            x->host->log(x->ctx, TANDEM_LOG_ERROR, "%d event(s) not delivered: the command is gone", x->len);
        if (!uv_is_closing((uv_handle_t *)&x->grace))
            uv_close((uv_handle_t *)&x->grace, on_timer_closed);
        if (!uv_is_closing((uv_handle_t *)&x->restart))
            uv_close((uv_handle_t *)&x->restart, on_timer_closed);
        maybe_free(x);
    }
}

static void close_pipe(struct child *c)
{
    if (!c->pipe_closing) {
        c->pipe_closing = true;
        uv_close((uv_handle_t *)&c->pipe, on_child_handle_closed);
    }
}

static void on_restart(uv_timer_t *t)
{
    spawn(t->data);
}

static void schedule_restart(struct exec *x)
{
    if (x->closing)
        return;
    x->host->log(x->ctx, TANDEM_LOG_WARN, "restarting `%s` in %.1f s", x->command, (double)x->backoff_ms / 1000);
    uv_timer_start(&x->restart, on_restart, x->backoff_ms, 0);
    x->backoff_ms = x->backoff_ms * 2 > x->backoff_max_ms ? x->backoff_max_ms : x->backoff_ms * 2;
}

static void on_child_exit(uv_process_t *p, int64_t status, int sig)
{
    struct child *c = p->data;
    struct exec *x = c->x;
    c->running = false;
    if (uv_now(x->loop) - x->started_ms >= STEADY_MS)
        x->backoff_ms = BACKOFF_MIN_MS;
    if (!x->closing || status != 0 || sig != 0)
        x->host->log(x->ctx, x->closing ? TANDEM_LOG_WARN : TANDEM_LOG_ERROR,
                     "`%s` exited (status %lld, signal %d) with %d event(s) waiting", x->command,
                     (long long)status, sig, x->len);
    close_pipe(c);   /* a write in flight is cancelled: its lines stay queued */
    uv_close((uv_handle_t *)&c->proc, on_child_handle_closed);
    schedule_restart(x);
}

static void spawn(struct exec *x)
{
    struct child *c = calloc(1, sizeof *c);
    if (!c) {
        schedule_restart(x);
        return;
    }
    c->x = x;
    uv_pipe_init(x->loop, &c->pipe, 0);
    c->pipe.data = c->proc.data = c;
    c->open_handles = 2;
    char *args[] = { "/bin/sh", "-c", x->command, NULL };
    uv_stdio_container_t stdio[3] = {
        { .flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&c->pipe },
        { .flags = UV_INHERIT_FD, .data.fd = 1 },
        { .flags = UV_INHERIT_FD, .data.fd = 2 },
    };
    uv_process_options_t o = { .exit_cb = on_child_exit, .file = args[0], .args = args, .stdio_count = 3,
                               .stdio = stdio };
    x->child = c;
    x->restarts++;
    x->started_ms = uv_now(x->loop);
    int rc = uv_spawn(x->loop, &c->proc, &o);
    if (rc < 0) {
        x->host->log(x->ctx, TANDEM_LOG_ERROR, "cannot start `%s`: %s", x->command, uv_strerror(rc));
        uv_close((uv_handle_t *)&c->proc, on_child_handle_closed);   /* a failed spawn still needs it */
        close_pipe(c);
        schedule_restart(x);
        return;
    }
    c->running = true;
    kick(x);
}

static void on_written(uv_write_t *req, int status)
{
    struct exec *x = req->data;
    int n = x->in_flight;
    x->in_flight = 0;
    if (status < 0) {
        /* The command stopped reading: its lines stay first in the queue for the next run. */
        if (x->child && x->child->running && !x->closing)
            uv_process_kill(&x->child->proc, SIGTERM);
        return;
    }
    for (int i = 0; i < n; i++)
        free(x->ring[(x->head + i) % x->cap]);
    x->head = (x->head + n) % x->cap;
    x->len -= n;
    if (x->drops > x->drops_logged && x->len < x->cap / 2) {
        x->host->log(x->ctx, TANDEM_LOG_WARN, "the command caught up; %lld event(s) dropped in all", x->drops);
        x->drops_logged = x->drops;
    }
    kick(x);
}

/* Writes what is queued, one write at a time; at a stop, an empty queue closes stdin (EOF). */
static void kick(struct exec *x)
{
    struct child *c = x->child;
    if (!c || !c->running || c->pipe_closing || x->in_flight > 0)
        return;
    if (x->len == 0) {
        if (x->closing)
            close_pipe(c);
        return;
    }
    int n = x->len < WRITE_MAX ? x->len : WRITE_MAX;
    for (int i = 0; i < n; i++) {
        int k = (x->head + i) % x->cap;
        x->bufs[i] = uv_buf_init(x->ring[k], (unsigned)x->lens[k]);
    }
    x->wreq.data = x;
    if (uv_write(&x->wreq, (uv_stream_t *)&c->pipe, x->bufs, (unsigned)n, on_written) == 0)
        x->in_flight = n;
    else
        uv_process_kill(&c->proc, SIGTERM);
}

static void exec_event(void *data, const cJSON *event)
{
    struct exec *x = data;
    if (x->len == x->cap && x->simulate) {
        /* Simulate: wait for the command rather than drop (the host refuses if it cannot). */
        while (x->len == x->cap && x->host->run_once(x->ctx) == TANDEM_OK)
            ;
    }
    if (x->len == x->cap) {
        if (x->drops++ == x->drops_logged)
            x->host->log(x->ctx, TANDEM_LOG_ERROR, "queue full (%d events): dropping events until `%s` catches up",
                         x->cap, x->command);
        return;
    }
    char *s = cJSON_PrintUnformatted(event);
    if (!s)
        return;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    int k = (x->head + x->len) % x->cap;
    x->ring[k] = line;
    x->lens[k] = n + 1;
    x->len++;
    kick(x);
}

static void on_grace(uv_timer_t *t)
{
    struct exec *x = t->data;
    if (x->child && x->child->running) {
        x->host->log(x->ctx, TANDEM_LOG_WARN, "`%s` did not finish within %.1f s of the stop: terminated",
                     x->command, (double)x->grace_ms / 1000);
        x->gave_up = true;
        uv_process_kill(&x->child->proc, SIGKILL);
    }
}

static void exec_close(void *data)
{
    struct exec *x = data;
    x->closing = true;
    uv_timer_stop(&x->restart);
    if (!x->child && x->len > 0) {
        x->gave_up = true;
        spawn(x);
    }
    if (x->child) {
        uv_timer_start(&x->grace, on_grace, x->grace_ms, 0);
        kick(x);
        return;
    }
    uv_close((uv_handle_t *)&x->grace, on_timer_closed);
    uv_close((uv_handle_t *)&x->restart, on_timer_closed);
}

static double num(const cJSON *config, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, k);
    return cJSON_IsNumber(v) ? v->valuedouble : v ? -1 : def;
}

static int subscribe(struct exec *x, const cJSON *types, char *why, size_t why_len)
{
    if (!types)
        return x->host->subscribe(x->ctx, "*");
    if (cJSON_IsString(types)) {
        char *copy = strdup(types->valuestring), *save = NULL;
        int rc = TANDEM_OK;
        for (char *t = strtok_r(copy, ",", &save); t && rc == TANDEM_OK; t = strtok_r(NULL, ",", &save))
            if ((rc = x->host->subscribe(x->ctx, t)) != TANDEM_OK)
                snprintf(why, why_len, "types: \"%s\" is not an event type", t);
        free(copy);
        return rc;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, types) {
        if (!cJSON_IsString(t) || x->host->subscribe(x->ctx, t->valuestring) != TANDEM_OK) {
            snprintf(why, why_len, "types: a list of event types (\"match\", \"meeting\", ...) or \"*\"");
            return TANDEM_EREFUSED;
        }
    }
    return TANDEM_OK;
}

static int exec_open(tandem_ctx *ctx, const struct tandem_host *host, const cJSON *config, void **data,
                     char *why, size_t why_len)
{
    static const char *const keys[] = { "command", "types", "queue", "backoff_max", "grace", NULL };
    const cJSON *it;
    cJSON_ArrayForEach(it, config) {
        bool known = false;
        for (int i = 0; keys[i]; i++)
            known |= strcmp(keys[i], it->string) == 0;
        if (!known) {
            snprintf(why, why_len, "unknown config key \"%s\" (command, types, queue, backoff_max, grace)", it->string);
            return TANDEM_EREFUSED;
        }
    }
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(config, "command");
    if (!cJSON_IsString(cmd) || !cmd->valuestring[0]) {
        snprintf(why, why_len, "command: the shell command to pipe events into is required");
        return TANDEM_EREFUSED;
    }
    double queue = num(config, "queue", 10000), backoff_max = num(config, "backoff_max", 30),
           grace = num(config, "grace", 5);
    if (queue < 1 || queue > 10000000 || queue != (int)queue) {
        snprintf(why, why_len, "queue: a whole number of events from 1 to 10000000");
        return TANDEM_EREFUSED;
    }
    if (backoff_max < 0.1 || backoff_max > 86400 || grace < 0 || grace > 3600) {
        snprintf(why, why_len, "backoff_max (0.1-86400 s) and grace (0-3600 s) are numbers of seconds");
        return TANDEM_EREFUSED;
    }
    struct exec *x = calloc(1, sizeof *x);
    if (!x)
        return TANDEM_EFAILED;
    x->ctx = ctx;
    x->host = host;
    x->loop = host->loop(ctx);
    x->simulate = host->simulating(ctx);
    x->command = strdup(cmd->valuestring);
    x->cap = (int)queue;
    x->ring = calloc((size_t)x->cap, sizeof *x->ring);
    x->lens = calloc((size_t)x->cap, sizeof *x->lens);
    x->backoff_ms = BACKOFF_MIN_MS;
    x->backoff_max_ms = (uint64_t)(backoff_max * 1000);
    x->grace_ms = (uint64_t)(grace * 1000);
    int rc = x->ring && x->lens && x->command ? subscribe(x, cJSON_GetObjectItemCaseSensitive(config, "types"), why, why_len)
                                              : TANDEM_EFAILED;
    if (rc != TANDEM_OK) {
        free(x->ring);
        free(x->lens);
        free(x->command);
        free(x);
        return rc;
    }
    uv_timer_init(x->loop, &x->restart);
    uv_timer_init(x->loop, &x->grace);
    x->restart.data = x->grace.data = x;
    x->open_handles = 2;
    spawn(x);
    *data = x;
    return TANDEM_OK;
}

static const struct tandem_plugin plugin = {
    .abi = TANDEM_PLUGIN_ABI,
    .signature = TANDEM_PLUGIN_SIGNATURE,
    .name = "exec",
    .version = "1.0",
    .open = exec_open,
    .event = exec_event,
    .close = exec_close,
};

TANDEM_PLUGIN_ENTRY(exec)
{
    return &plugin;
}
