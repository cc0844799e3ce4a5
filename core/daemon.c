/* daemon: the run loop. A reply goes out only after its events are on disk: at once with
 * --fsync always/off; with --fsync batch, every command read in one turn of the loop shares
 * one write and one fdatasync at the end of that turn (group commit: while a sync runs, the
 * next commands wait in the socket and form the next group, so a group never waits longer
 * than the sync before it — well under the 10 ms the contract allows).
 * Signal handlers are libuv signal watchers: they run in the loop, never mid-command.
 * When the log cannot be written (a full or failing disk) nothing that was not written is
 * acknowledged, the state goes back to what the disk holds, writes are refused with an error
 * reply, and one is tried again at most every LOG_RETRY_MS; the daemon goes on. */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "engine.h"

#define DUE_RECHECK_MS (60 * 60 * 1000)   /* re-read the clock at least hourly (clock steps) */
#define LOG_RETRY_MS 1000                 /* a failed log is tried again at most this often */

struct waiting_reply {
    struct control_client *client;
    unsigned long long ticket;
    char *line;                /* the reply, printed (control_reply_line) */
};

struct snapshot_waiter {       /* a `ctl snapshot` waiting for a snapshot at seq >= want */
    struct control_client *client;
    unsigned long long ticket;
    long long want;
};

struct daemon {
    uv_loop_t loop;
    struct engine e;
    struct control_server *ctl;
    uv_timer_t due_timer;
    uv_check_t group_commit;   /* runs after each turn's I/O: commits the turn's commands */
    uv_signal_t sighup, sigterm, sigint;
    struct waiting_reply *waiting;
    int n_waiting, cap_waiting;
    bool stopping;
    time_t started;
    const struct daemon_options *o;
    char sock[4200];
    int exit_code;
    struct error fatal;
    bool log_failed;           /* the last write or sync of the log failed: writes are refused */
    bool log_rebuilt;          /* ... and the state has been rebuilt from the disk since */
    bool log_retrying;         /* writes are tried again; the next commit tells */
    uint64_t retry_at;         /* uv_now() before which no write is tried */
    char log_error[1200];      /* why the log failed, for replies, status and stderr */
    int snap_pid;              /* a child writing a snapshot (engine_snapshot_fork), 0 when none */
    long long snap_seq;        /* ... the seq it writes */
    uv_pipe_t snap_pipe;       /* ... its report: why it failed, or nothing */
    char snap_why[1200];
    size_t snap_why_len;
    char snap_buf[512];
    struct snapshot_waiter *snap_waiting;
    int n_snap_waiting, cap_snap_waiting;
};

static void stop(struct daemon *d, int code);
static void rearm_due(struct daemon *d);

static cJSON *error_reply(const char *msg)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddFalseToObject(r, "ok");
    cJSON_AddStringToObject(r, "error", msg);
    return r;
}

static void fail(struct daemon *d, const struct error *err)
{
    char buf[1200];
    fprintf(stderr, "tandem: %s\n", error_text(err, buf, sizeof buf));
    d->fatal = *err;
    stop(d, 3);
}

/* Brings the state back to what the disk holds (see engine_rebuild). */
static void rebuild(struct daemon *d)
{
    struct error err = { 0 };
    char buf[1200];
    d->log_rebuilt = engine_rebuild(&d->e, &err) == 0;
    if (d->log_rebuilt)
        fprintf(stderr, "tandem: state rebuilt from the log at seq %lld; what was not written is dropped\n",
                d->e.state.seq);
    else
        fprintf(stderr, "tandem: cannot rebuild the state from the log yet: %s\n", error_text(&err, buf, sizeof buf));
}

/* The log could not be written: every reply still waiting for a commit becomes an error (its
 * facts are not on disk), the state is rebuilt from the disk, and writes are refused until
 * the retry time. */
static void log_failed(struct daemon *d, const struct error *err)
{
    char buf[1200], why[1400];
    error_text(err, buf, sizeof buf);
    snprintf(d->log_error, sizeof d->log_error, "%s", buf);
    fprintf(stderr, "tandem: %s; nothing unwritten was acknowledged, writes are refused until the log can be "
            "written again (tried every %d ms)\n", buf, LOG_RETRY_MS);
    snprintf(why, sizeof why, "the event log could not be written (%s); nothing was acknowledged", buf);
    for (int i = 0; i < d->n_waiting; i++) {
        struct waiting_reply *w = &d->waiting[i];
        free(w->line);
        if (d->ctl)
            control_reply(d->ctl, w->client, w->ticket, error_reply(why));
    }
    d->n_waiting = 0;
    if (d->ctl)
        control_flush(d->ctl);
    d->log_failed = true;
    d->log_retrying = false;
    d->retry_at = uv_now(&d->loop) + LOG_RETRY_MS;
    rebuild(d);
    /* What was due and lost with the commit is due again in the rebuilt schedule: the timer
     * must come back at the retry time even when no client writes (a failed group commit of
     * a due item is found at the turn's end, after on_due armed the timer for later). */
    rearm_due(d);
}

/* A failure of the engine: the log's (the daemon goes on, refusing writes) or anything else
 * (the daemon stops, exit 3). */
static void engine_failed(struct daemon *d, const struct error *err)
{
    if (journal_failed(d->e.journal))
        log_failed(d, err);
    else
        fail(d, err);
}

/* True when a write may be tried: the log is sound, or its retry time has come and the state
 * matches the disk again. */
static bool log_writable(struct daemon *d)
{
    if (!d->log_failed)
        return true;
    if (uv_now(&d->loop) < d->retry_at)
        return false;
    if (!d->log_rebuilt)
        rebuild(d);
    if (!d->log_rebuilt) {
        d->retry_at = uv_now(&d->loop) + LOG_RETRY_MS;
        return false;
    }
    d->log_failed = false;
    d->log_retrying = true;
    return true;
}

static void log_committed(struct daemon *d)
{
    if (d->log_retrying) {
        d->log_retrying = false;
        d->log_error[0] = '\0';
        fprintf(stderr, "tandem: the event log is written again (seq %lld)\n", d->e.state.seq);
    }
}

static cJSON *refusal(struct daemon *d)
{
    char why[1400];
    snprintf(why, sizeof why, "the event log cannot be written (%s); nothing was done, try again later",
             d->log_error);
    return error_reply(why);
}

/* Sends the replies waiting for the group commit, after committing it. */
static void flush_batch(struct daemon *d)
{
    struct error err = { 0 };
    if (engine_commit_pending(&d->e, &err) != 0) {
        engine_failed(d, &err);        /* fails every waiting reply */
        return;
    }
    log_committed(d);   /* a due item's facts with no client waiting count too */
    for (int i = 0; i < d->n_waiting; i++) {
        struct waiting_reply *w = &d->waiting[i];
        control_reply_line(d->ctl, w->client, w->ticket, w->line);
    }
    d->n_waiting = 0;
    control_flush(d->ctl);
}

/* ---- snapshots: written by a child process while the loop goes on ----
 * A snapshot is a cache: failing to write one is reported (and told to the `ctl snapshot`
 * it was for) and changes nothing else. */

static void snapshot_start(struct daemon *d);

/* Answers the `ctl snapshot`s that a snapshot at seq (written, or failed: why) was for;
 * seq < 0 answers them all. */
static void snapshot_answer(struct daemon *d, long long seq, const char *why)
{
    int k = 0;
    for (int i = 0; i < d->n_snap_waiting; i++) {
        struct snapshot_waiter *w = &d->snap_waiting[i];
        if (seq >= 0 && w->want > seq) {
            d->snap_waiting[k++] = *w;
            continue;
        }
        cJSON *reply = why ? error_reply(why) : cJSON_CreateObject();
        if (!why) {
            cJSON_AddTrueToObject(reply, "ok");
            cJSON_AddNumberToObject(reply, "seq", (double)seq);
        }
        if (d->ctl)
            control_reply(d->ctl, w->client, w->ticket, reply);
        else
            cJSON_Delete(reply);
    }
    d->n_snap_waiting = k;
    if (d->ctl)
        control_flush(d->ctl);
}

static void on_snapshot_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct daemon *d = h->data;
    (void)suggested;
    *buf = uv_buf_init(d->snap_buf, sizeof d->snap_buf);
}

/* The child has exited (its pipe is closed): reap it and answer for its snapshot. */
static void on_snapshot_closed(uv_handle_t *h)
{
    struct daemon *d = h->data;
    int status = 0;
    while (waitpid(d->snap_pid, &status, 0) < 0 && errno == EINTR)
        ;
    d->snap_pid = 0;
    d->snap_why[d->snap_why_len] = '\0';
    if (d->snap_why_len == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        snprintf(d->snap_why, sizeof d->snap_why, "the process writing the snapshot ended without saying why (%s %d)",
                 WIFSIGNALED(status) ? "signal" : "exit status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    const char *why = d->snap_why[0] ? d->snap_why : NULL;
    if (why)
        fprintf(stderr, "tandem: snapshot not written: %s\n", why);
    else
        engine_snapshot_written(&d->e, d->snap_seq);
    snapshot_answer(d, d->snap_seq, why);
    if (!d->stopping && d->n_snap_waiting > 0)
        snapshot_start(d);
}

static void on_snapshot_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct daemon *d = stream->data;
    if (nread > 0) {
        size_t room = sizeof d->snap_why - 1 - d->snap_why_len;
        size_t n = (size_t)nread < room ? (size_t)nread : room;
        memcpy(d->snap_why + d->snap_why_len, buf->base, n);
        d->snap_why_len += n;
    } else if (nread < 0) {
        uv_read_stop(stream);
        uv_close((uv_handle_t *)stream, on_snapshot_closed);
    }
}

/* Starts a child writing a snapshot of the state as it is now (at most one at a time). */
static void snapshot_start(struct daemon *d)
{
    if (d->snap_pid)
        return;
    struct error err = { 0 };
    int pid = 0, fd = -1;
    long long seq = 0;
    if (engine_snapshot_fork(&d->e, &pid, &fd, &seq, &err) < 0) {
        char buf[1200];
        error_text(&err, buf, sizeof buf);
        snapshot_answer(d, -1, buf);
        if (journal_failed(d->e.journal))
            log_failed(d, &err);
        else
            fprintf(stderr, "tandem: snapshot not written: %s\n", buf);
        return;
    }
    d->snap_pid = pid;
    d->snap_seq = seq;
    d->snap_why_len = 0;
    uv_pipe_init(&d->loop, &d->snap_pipe, 0);
    d->snap_pipe.data = d;
    int rc = uv_pipe_open(&d->snap_pipe, fd);
    if (rc == 0)
        rc = uv_read_start((uv_stream_t *)&d->snap_pipe, on_snapshot_alloc, on_snapshot_read);
    if (rc < 0) {
        /* Not watched: wait for the child here (the loop stalls this once). */
        d->snap_why_len = (size_t)snprintf(d->snap_why, sizeof d->snap_why, "cannot watch the snapshot writer: %s",
                                           uv_strerror(rc));
        uv_close((uv_handle_t *)&d->snap_pipe, on_snapshot_closed);
    }
}

static void maybe_snapshot(struct daemon *d)
{
    if (d->log_failed || d->snap_pid || d->o->snapshot_every <= 0 ||
        d->e.state.seq - d->e.snapshot_seq < d->o->snapshot_every)
        return;
    snapshot_start(d);
}

/* `ctl snapshot`: answered once a snapshot at the state's seq now (or later) is written. */
static void snapshot_asked(struct daemon *d, struct control_client *c, unsigned long long ticket)
{
    if (d->n_snap_waiting == d->cap_snap_waiting) {
        int cap = d->cap_snap_waiting ? d->cap_snap_waiting * 2 : 8;
        struct snapshot_waiter *w = realloc(d->snap_waiting, (size_t)cap * sizeof *w);
        if (!w) {
            control_reply(d->ctl, c, ticket, error_reply("out of memory"));
            return;
        }
        d->snap_waiting = w;
        d->cap_snap_waiting = cap;
    }
    d->snap_waiting[d->n_snap_waiting++] = (struct snapshot_waiter){ c, ticket, d->e.state.seq };
    snapshot_start(d);
}

static void on_turn_end(uv_check_t *h)
{
    struct daemon *d = h->data;
    if (d->n_waiting == 0 && !journal_pending(d->e.journal))
        return;
    flush_batch(d);
    maybe_snapshot(d);
}

static void on_due(uv_timer_t *t);

static void rearm_due(struct daemon *d)
{
    if (d->stopping)
        return;
    tdm_time when;
    uint64_t delay = DUE_RECHECK_MS;
    if (d->log_failed) {
        uint64_t now = uv_now(&d->loop);
        delay = d->retry_at > now ? d->retry_at - now : 0;
    } else if (engine_next_due(&d->e, &when)) {
        tdm_time now = clock_now(&d->e.clock);
        uint64_t ms = when > now ? (uint64_t)(when - now) * 1000 : 0;
        if (ms < delay)
            delay = ms;
    }
    uv_timer_start(&d->due_timer, on_due, delay, 0);
}

static void on_due(uv_timer_t *t)
{
    struct daemon *d = t->data;
    struct error err = { 0 };
    if (log_writable(d) && (engine_fire_due(&d->e, &err) < 0 || journal_failed(d->e.journal))) {
        engine_failed(d, &err);
        if (d->stopping)
            return;
    }
    /* With --fsync batch the group commit runs after the loop's poll, which may sleep until the
     * next due item: what fired is committed now, not when a client happens to write. */
    if (d->e.hold_commit && !d->stopping && journal_pending(d->e.journal)) {
        flush_batch(d);
        maybe_snapshot(d);
        if (d->stopping)
            return;
    }
    rearm_due(d);
}

static void queue_reply(struct daemon *d, struct control_client *c, unsigned long long ticket, char *line)
{
    if (!d->e.hold_commit) {
        control_reply_line(d->ctl, c, ticket, line);
        return;
    }
    if (d->n_waiting == d->cap_waiting) {
        d->cap_waiting = d->cap_waiting ? d->cap_waiting * 2 : 64;
        d->waiting = realloc(d->waiting, (size_t)d->cap_waiting * sizeof *d->waiting);
    }
    d->waiting[d->n_waiting++] = (struct waiting_reply){ c, ticket, line };
}

static cJSON *status(struct daemon *d)
{
    const struct state *s = &d->e.state;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddTrueToObject(r, "ok");
    cJSON *st = cJSON_AddObjectToObject(r, "status");
    cJSON_AddNumberToObject(st, "uptime_s", (double)(time(NULL) - d->started));
    cJSON_AddNumberToObject(st, "seq", (double)s->seq);
    int people, live;
    state_counts(s, &people, &live);
    cJSON_AddNumberToObject(st, "people", people);
    cJSON_AddNumberToObject(st, "live_matches", live);
    tdm_time when;
    if (engine_next_due(&d->e, &when)) {
        char buf[21];
        time_format(when, buf);
        cJSON_AddStringToObject(st, "next_due", buf);
    } else {
        cJSON_AddNullToObject(st, "next_due");
    }
    cJSON_AddStringToObject(st, "rules", d->e.rules->path);
    cJSON_AddStringToObject(st, "sha256", d->e.rules->sha256);
    static const char *const sync[] = { "always", "batch", "off" };
    cJSON_AddStringToObject(st, "fsync", sync[d->o->sync]);
    cJSON_AddNumberToObject(st, "clients", control_clients(d->ctl));
    if (d->log_failed)
        cJSON_AddStringToObject(st, "log_error", d->log_error);
    else
        cJSON_AddNullToObject(st, "log_error");
    return r;
}

/* Loads the rule file into a fresh state; on any error the old rules keep running and the
 * refusal is logged. Returns the events as a reply. */
static cJSON *reload(struct daemon *d)
{
    struct rules *r;
    struct error err = { 0 };
    int lrc = rules_load(d->o->rules, NULL, &r, &err);
    if (lrc == 0 && (lrc = engine_load_rule_plugins(&d->e, r, &err)) < 0) {
        rules_free(r);   /* a plugin the new rules need cannot load: the old rules go on */
        if (lrc != ERR_INPUT) {
            fail(d, &err);
            return error_reply(err.msg);
        }
    }
    if (lrc < 0) {
        char buf[1200];
        error_text(&err, buf, sizeof buf);
        fprintf(stderr, "tandem: reload rejected: %s\n", buf);
        struct error werr = { 0 };
        if (engine_reject_rules(&d->e, d->o->rules, buf, &werr) < 0) {
            engine_failed(d, &werr);
            return error_reply(werr.msg);
        }
        return error_reply(buf);
    }
    if (engine_reload_rules(&d->e, r, &err) < 0) {
        bool log = journal_failed(d->e.journal);
        char buf[1200], why[1400];
        snprintf(why, sizeof why, "the event log could not be written (%s); the rules in force are still %s",
                 error_text(&err, buf, sizeof buf), d->e.rules->sha256);
        engine_failed(d, &err);
        return error_reply(log ? why : err.msg);
    }
    cJSON *reply = cJSON_CreateObject();
    cJSON_AddTrueToObject(reply, "ok");
    cJSON_AddNumberToObject(reply, "seq", (double)d->e.state.seq);
    cJSON *rules = cJSON_AddObjectToObject(reply, "rules");
    cJSON_AddStringToObject(rules, "file", d->e.rules->path);
    cJSON_AddStringToObject(rules, "sha256", d->e.rules->sha256);
    fprintf(stderr, "tandem: rules reloaded from %s\n", d->o->rules);
    return reply;
}

static void on_command(void *ctx, struct control_client *c, cJSON *cmd, unsigned long long ticket)
{
    struct daemon *d = ctx;
    const char *name = cJSON_GetObjectItemCaseSensitive(cmd, "cmd")->valuestring;
    if (d->stopping) {
        control_reply(d->ctl, c, ticket, error_reply("the daemon is stopping"));
    } else if (strcmp(name, "status") == 0) {
        control_reply(d->ctl, c, ticket, status(d));
    } else if (!log_writable(d)) {
        control_reply(d->ctl, c, ticket, refusal(d));
    } else if (strcmp(name, "snapshot") == 0) {
        snapshot_asked(d, c, ticket);
    } else if (strcmp(name, "reload") == 0) {
        queue_reply(d, c, ticket, control_line(reload(d)));
    } else {
        /* {"ok":true,"events":[...]} and its newline, as control_line would print it: the
         * facts as the journal printed them. */
        char *events = NULL;
        int n_events = 0;
        struct error err = { 0 };
        int rc = engine_submit_json(&d->e, cmd, "{\"ok\":true,\"events\":", "}\n", &events, &n_events, &err);
        if (journal_failed(d->e.journal)) {
            /* Whatever rc says (a refusal can follow facts): nothing reached the disk. */
            free(events);
            char buf[1200], why[1400];
            snprintf(why, sizeof why, "the event log could not be written (%s); nothing was acknowledged",
                     error_text(&err, buf, sizeof buf));
            control_reply(d->ctl, c, ticket, error_reply(why));
            log_failed(d, &err);
        } else if (rc == ERR_INPUT && (!events || n_events == 0)) {
            free(events);
            control_reply(d->ctl, c, ticket, error_reply(err.msg));
        } else if (rc < 0 && rc != ERR_INPUT) {
            free(events);
            control_reply(d->ctl, c, ticket, error_reply(err.msg));
            fail(d, &err);
        } else {
            if (!d->e.hold_commit)
                log_committed(d);
            queue_reply(d, c, ticket, events);
        }
    }
    if (!d->e.hold_commit)
        maybe_snapshot(d);
    rearm_due(d);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    if (signum == SIGHUP) {
        if (log_writable(d))
            cJSON_Delete(reload(d));
        else
            fprintf(stderr, "tandem: reload refused: the event log cannot be written (%s); send SIGHUP again "
                    "once it can\n", d->log_error);
        rearm_due(d);
    } else {
        stop(d, 0);
    }
}

static void stop(struct daemon *d, int code)
{
    if (d->stopping)
        return;
    d->stopping = true;
    d->exit_code = code;
    if (code == 0 && (d->n_waiting > 0 || journal_pending(d->e.journal)))
        flush_batch(d);
    engine_close_plugins(&d->e);   /* their handles close as the loop runs on */
    snapshot_answer(d, -1, "the daemon is stopping");
    if (d->snap_pid && !uv_is_closing((uv_handle_t *)&d->snap_pipe)) {
        /* The snapshot being written is finished (its child reaped) as the loop closes. */
        uv_read_stop((uv_stream_t *)&d->snap_pipe);
        uv_close((uv_handle_t *)&d->snap_pipe, on_snapshot_closed);
    }
    uv_timer_stop(&d->due_timer);
    uv_check_stop(&d->group_commit);
    control_close(d->ctl);
    d->ctl = NULL;
    uv_close((uv_handle_t *)&d->due_timer, NULL);
    uv_close((uv_handle_t *)&d->group_commit, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
}

int daemon_run(const struct daemon_options *o, struct error *err)
{
    struct daemon *d = calloc(1, sizeof *d);
    d->o = o;
    d->started = time(NULL);
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&d->loop);   /* before the plugins, which may start timers and children on it */
    struct engine_options eo = { .state_dir = o->state_dir, .sync = o->sync, .diag = stderr };
    int code = 3;
    if (engine_open(&d->e, &eo, err) < 0) {
        code = err->code == ERR_INPUT ? 1 : 3;
        goto out;
    }
    engine_set_loop(&d->e, &d->loop);
    if (d->e.state.simulated) {
        error_set(err, ERR_INPUT, d->e.path, 0, "holds a simulation; run a daemon on a state of its own");
        code = 1;
        goto out;
    }
    if (o->sync == JOURNAL_SYNC_OFF)
        fprintf(stderr, "tandem: --fsync off: a crash can lose facts that were acknowledged\n");
    struct rules *r;
    if (rules_load(o->rules, NULL, &r, err) < 0) {
        code = 1;
        goto out;
    }
    int prc = 0;
    for (int i = 0; prc == 0 && i < o->n_plugins; i++)
        prc = engine_load_plugin(&d->e, o->plugins[i], o->plugin_configs[i], err);
    if (prc == 0)
        prc = engine_load_rule_plugins(&d->e, r, err);
    if (prc < 0) {
        rules_free(r);
        code = prc == ERR_INPUT ? 1 : 3;
        goto out;
    }
    if (engine_use_rules(&d->e, r, err) < 0)
        goto out;
    if (o->people) {
        struct people_csv_result res = { 0 };
        if (engine_import_people(&d->e, o->people, stderr, &res, err) < 0) {
            code = err->code == ERR_INPUT ? 1 : 3;
            goto out;
        }
        fprintf(stderr, "%s: took %d people, refused %d\n", o->people, res.taken, res.refused);
        if (res.refused > 0 && !o->lenient) {
            error_set(err, ERR_INPUT, o->people, 0, "has bad rows (above); fix them or pass --lenient");
            code = 1;
            goto out;
        }
    }
    /* What fell due while the daemon was down fires now, in order. */
    if (engine_fire_due(&d->e, err) < 0)
        goto out;
    if (engine_sync(&d->e, err) < 0)
        goto out;

    /* Watch the signals before the socket appears: a client may send SIGTERM as soon as it can
     * connect, and that must stop the daemon cleanly, not by the default action. */
    uv_signal_init(&d->loop, &d->sighup);
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sigint);
    d->sighup.data = d->sigterm.data = d->sigint.data = d;
    uv_signal_start(&d->sighup, on_signal, SIGHUP);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    snprintf(d->sock, sizeof d->sock, "%s/tandem.sock", o->state_dir);
    char why[512];
    if (control_listen(&d->loop, d->sock, o->socket_mode, on_command, d, &d->ctl, why, sizeof why) < 0) {
        error_set(err, ERR_SYSTEM, NULL, 0, "%s", why);
        uv_close((uv_handle_t *)&d->sighup, NULL);   /* the loop runs them closed at out */
        uv_close((uv_handle_t *)&d->sigterm, NULL);
        uv_close((uv_handle_t *)&d->sigint, NULL);
        goto out;
    }
    d->e.hold_commit = o->sync == JOURNAL_SYNC_BATCH;
    uv_timer_init(&d->loop, &d->due_timer);
    uv_check_init(&d->loop, &d->group_commit);
    d->due_timer.data = d->group_commit.data = d;
    if (d->e.hold_commit)
        uv_check_start(&d->group_commit, on_turn_end);
    rearm_due(d);
    fprintf(stderr, "tandem: running: %lld events, socket %s\n", d->e.state.seq, d->sock);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    code = d->exit_code;
    if (code == 0 && engine_sync(&d->e, err) < 0)
        code = 3;
    else if (code != 0)
        *err = d->fatal;
    if (code == 0)
        fprintf(stderr, "tandem: stopped cleanly at seq %lld\n", d->e.state.seq);
out:
    engine_close_plugins(&d->e);
    uv_run(&d->loop, UV_RUN_DEFAULT);   /* what is still closing (plugins' handles) finishes */
    if (uv_loop_close(&d->loop) != 0)
        fprintf(stderr, "tandem: a handle was left open at exit\n");
    engine_close(&d->e);
    free(d->waiting);
    free(d->snap_waiting);
    free(d);
    return code;
}
