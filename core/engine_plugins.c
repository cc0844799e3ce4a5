/* engine_plugins: the engine's side of the plugin table. Facts are kept in an outbox when
 * they are made and handed to the plugins only after the log commit that put them on disk,
 * in seq order. A plugin's command goes through the ctl door (protocol_parse, then
 * engine_submit); one asked for while events are being handed out waits for the end of that
 * batch, so a plugin never re-enters the engine from its own callback, and rounds of such
 * commands stop at ENGINE_MAX_DEPTH. */
#include "engine.h"
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "protocol.h"
#include "lua_x.h"
#include "plugin.h"

struct queued_cmd {
    char plugin[40];
    cJSON *cmd;
};

struct engine_plugin_io {
    cJSON *outbox;            /* facts made but not yet shown to plugins, in seq order */
    struct queued_cmd *q;     /* commands plugins asked for during a batch */
    int nq, capq;
    bool delivering;
    uv_loop_t *loop;          /* the daemon's, or own_loop in simulate */
    uv_loop_t own_loop;
    bool own, in_loop, closed;
};

/* ---- the outbox and delivery ---- */

void engine_plugins_keep(struct engine *e, const cJSON *f)
{
    if (!e->pio || !e->plugins || e->pio->closed)
        return;
    /* As the log line reads back: numbers kept raw in the state (person fields) become plain
     * numbers, so a plugin sees the same event live and in a replay. */
    char *s = cJSON_PrintUnformatted(f);
    cJSON *copy = s ? cJSON_Parse(s) : NULL;
    free(s);
    if (copy)
        cJSON_AddItemToArray(e->pio->outbox, copy);
}

static void clear_outbox(struct engine_plugin_io *io)
{
    cJSON_Delete(io->outbox);
    io->outbox = cJSON_CreateArray();
}

/* Runs the loop once without waiting (simulate), so plugins' I/O moves between batches. */
static void pump(struct engine *e)
{
    struct engine_plugin_io *io = e->pio;
    if (!io->own || io->in_loop || io->closed)
        return;
    io->in_loop = true;
    uv_run(io->loop, UV_RUN_NOWAIT);
    io->in_loop = false;
}

static int deliver(struct engine *e, struct error *err)
{
    struct engine_plugin_io *io = e->pio;
    if (io->delivering || io->closed)
        return 0;
    io->delivering = true;
    int rc = 0;
    for (int round = 0; rc == 0; round++) {
        int n = cJSON_GetArraySize(io->outbox);
        if (n == 0 && io->nq == 0)
            break;
        cJSON *batch = io->outbox;
        io->outbox = cJSON_CreateArray();
        const cJSON *ev;
        cJSON_ArrayForEach(ev, batch)
            plugins_deliver(e->plugins, ev);
        cJSON_Delete(batch);
        if (n > 0)
            plugins_flush(e->plugins);
        struct queued_cmd *q = io->q;
        int nq = io->nq;
        io->q = NULL;
        io->nq = io->capq = 0;
        for (int i = 0; i < nq; i++) {
            if (rc == 0 && round >= ENGINE_MAX_DEPTH) {
                plugins_log(e->plugins, q[i].plugin,
                            "error: command dropped: plugins' commands set off more than %d rounds",
                            ENGINE_MAX_DEPTH);
            } else if (rc == 0) {
                struct error cerr = { 0 };
                int crc = engine_submit(e, q[i].cmd, NULL, &cerr);
                if (crc == ERR_INPUT)
                    plugins_log(e->plugins, q[i].plugin, "error: command refused: %s", cerr.msg);
                else if (crc < 0) {
                    *err = cerr;
                    rc = crc;
                }
            }
            cJSON_Delete(q[i].cmd);
        }
        free(q);
        if (rc == 0 && nq > 0)
            rc = journal_commit(e->journal, e->sync, err);   /* what those commands made */
        if (rc < 0)
            clear_outbox(io);
    }
    io->delivering = false;
    pump(e);
    return rc;
}

int engine_log_commit(struct engine *e, enum journal_sync sync, struct error *err)
{
    int rc = journal_commit(e->journal, sync, err);
    if (!e->pio)
        return rc;
    if (rc < 0) {
        clear_outbox(e->pio);   /* those facts never reached the disk */
        return rc;
    }
    return deliver(e, err);
}

/* ---- the backend of the host table ---- */

static int be_submit(void *ctx, const char *plugin, const cJSON *cmd, char *why, size_t why_len)
{
    struct engine *e = ctx;
    char *line = cJSON_PrintUnformatted(cmd);
    if (!line)
        return TANDEM_EFAILED;
    cJSON *c = protocol_parse(line, strlen(line), why, why_len);
    free(line);
    if (!c)
        return TANDEM_EREFUSED;
    const char *name = cJSON_GetObjectItemCaseSensitive(c, "cmd")->valuestring;
    if (!strcmp(name, "status") || !strcmp(name, "reload") || !strcmp(name, "snapshot")) {
        snprintf(why, why_len, "%s is the daemon's, not a command (use query for the state)", name);
        cJSON_Delete(c);
        return TANDEM_EREFUSED;
    }
    struct engine_plugin_io *io = e->pio;
    if (io->delivering) {
        if (io->nq == io->capq) {
            int cap = io->capq ? io->capq * 2 : 16;
            struct queued_cmd *q = realloc(io->q, (size_t)cap * sizeof *q);
            if (!q) {
                cJSON_Delete(c);
                return TANDEM_EFAILED;
            }
            io->q = q;
            io->capq = cap;
        }
        struct queued_cmd *q = &io->q[io->nq++];
        snprintf(q->plugin, sizeof q->plugin, "%s", plugin);
        q->cmd = c;
        return TANDEM_OK;
    }
    struct error err = { 0 };
    int rc = engine_submit(e, c, NULL, &err);
    cJSON_Delete(c);
    if (rc < 0)
        snprintf(why, why_len, "%s", err.msg);
    return rc == 0 ? TANDEM_OK : rc == ERR_INPUT ? TANDEM_EREFUSED : TANDEM_EFAILED;
}

static void add_time(cJSON *o, const char *k, tdm_time t)
{
    if (t)
        engine_add_time(o, k, t);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *ids_json(const struct state *s, const int *idx, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s->people[idx[i]].p.id));
    return a;
}

static cJSON *match_json(const struct state *s, const struct match *m)
{
    static const char *const phases[] = { "proposed", "active", "closed", "rejected" };
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)m->id);
    cJSON_AddStringToObject(o, "program", s->programs[m->program].name);
    cJSON_AddStringToObject(o, "model", s->programs[m->program].model);
    cJSON_AddStringToObject(o, "phase", phases[m->phase]);
    cJSON_AddItemToObject(o, "mentors", ids_json(s, m->mentors, m->n_mentors));
    cJSON_AddItemToObject(o, "mentees", ids_json(s, m->mentees, m->n_mentees));
    cJSON_AddNumberToObject(o, "score", m->score);
    add_time(o, "started", m->started);
    add_time(o, "term_ends", m->term_ends);
    add_time(o, "next_meeting", m->next_meeting);
    cJSON_AddNumberToObject(o, "held", m->held);
    cJSON_AddNumberToObject(o, "missed", m->missed);
    add_time(o, "closed_at", m->closed_at);
    if (m->close_reason)
        cJSON_AddStringToObject(o, "close_reason", m->close_reason);
    return o;
}

static const char *arg_str(const cJSON *args, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool state_wanted(const struct match *m, const char *st)
{
    if (!st)
        return true;
    if (!strcmp(st, "live"))
        return match_live(m);
    if (!strcmp(st, "active"))
        return m->phase == MATCH_ACTIVE;
    if (!strcmp(st, "proposed"))
        return m->phase == MATCH_PROPOSED;
    if (!strcmp(st, "closed"))
        return m->phase == MATCH_CLOSED;
    return false;
}

static cJSON *be_query(void *ctx, const char *what, const cJSON *args)
{
    struct engine *e = ctx;
    const struct state *s = &e->state;
    if (!strcmp(what, "person")) {
        const char *id = arg_str(args, "id");
        int i = id ? state_person(s, id) : -1;
        if (i < 0)
            return NULL;
        cJSON *o = person_to_json(&s->people[i].p);
        char *t = cJSON_PrintUnformatted(o);   /* raw numbers to plain ones, as in events */
        cJSON_Delete(o);
        o = t ? cJSON_Parse(t) : NULL;
        free(t);
        if (o)
            cJSON_AddBoolToObject(o, "left", s->people[i].left);
        return o;
    }
    if (!strcmp(what, "match")) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(args, "id");
        const struct match *m = cJSON_IsNumber(id) ? state_match(s, (long long)id->valuedouble) : NULL;
        return m ? match_json(s, m) : NULL;
    }
    if (!strcmp(what, "matches")) {
        const char *prog = arg_str(args, "program"), *person = arg_str(args, "person"), *st = arg_str(args, "state");
        int sp = prog ? state_program(s, prog) : -1, pi = person ? state_person(s, person) : -1;
        cJSON *a = cJSON_CreateArray();
        if ((prog && sp < 0) || (person && pi < 0))
            return a;
        for (int i = 0; i < s->n_matches; i++) {
            const struct match *m = &s->matches[i];
            if ((prog && m->program != sp) || (person && match_party(m, pi) < 0) || !state_wanted(m, st))
                continue;
            cJSON_AddItemToArray(a, match_json(s, m));
        }
        return a;
    }
    if (!strcmp(what, "status")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seq", (double)journal_last_seq(e->journal));
        add_time(o, "now", clock_now(&e->clock));
        int people, live;
        state_counts(s, &people, &live);
        cJSON_AddNumberToObject(o, "people", people);
        cJSON_AddNumberToObject(o, "live_matches", live);
        cJSON_AddBoolToObject(o, "simulating", e->simulating);
        return o;
    }
    return NULL;
}

struct replay_ctx {
    long long after;
    tandem_event_fn fn;
    void *data;
};

static int replay_one(void *ctx, const cJSON *event, long long line)
{
    struct replay_ctx *r = ctx;
    if (line > r->after)
        r->fn(r->data, event);
    return 0;
}

static int be_replay(void *ctx, long long after_seq, tandem_event_fn fn, void *data)
{
    struct engine *e = ctx;
    struct replay_ctx r = { after_seq, fn, data };
    struct error err = { 0 };
    if (journal_replay(e->path, 0, replay_one, &r, NULL, NULL, &err) < 0) {
        plugins_log(e->plugins, "host", "error: replay: %s", err.msg);
        return TANDEM_EFAILED;
    }
    return TANDEM_OK;
}

static long long be_now(void *ctx)
{
    return clock_now(&((struct engine *)ctx)->clock);
}

static int be_run_once(void *ctx)
{
    struct engine *e = ctx;
    struct engine_plugin_io *io = e->pio;
    if (!io->own || io->in_loop || io->closed)
        return TANDEM_EREFUSED;
    io->in_loop = true;
    uv_run(io->loop, UV_RUN_ONCE);
    io->in_loop = false;
    return TANDEM_OK;
}

static struct uv_loop_s *be_loop(void *ctx)
{
    return ((struct engine *)ctx)->pio->loop;
}

/* ---- loading and closing ---- */

void engine_set_loop(struct engine *e, struct uv_loop_s *loop)
{
    e->loop = loop;
}

static int ensure_table(struct engine *e, struct error *err)
{
    if (e->plugins)
        return 0;
    struct engine_plugin_io *io = calloc(1, sizeof *io);
    if (!io)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    io->outbox = cJSON_CreateArray();
    if (e->loop) {
        io->loop = e->loop;
    } else {
        /* simulate: a loop of the engine's own, run between batches */
        uv_loop_init(&io->own_loop);
        io->loop = &io->own_loop;
        io->own = true;
    }
    struct plugin_backend be = {
        .ctx = e, .submit = be_submit, .query = be_query, .replay = be_replay, .now = be_now,
        .run_once = be_run_once, .loop = be_loop, .simulating = e->simulating, .state_dir = e->dir,
        .log = e->diag,
    };
    e->pio = io;
    if (!(e->plugins = plugins_new(&be)))
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    return 0;
}

int engine_load_plugin(struct engine *e, const char *what, const cJSON *config, struct error *err)
{
    int rc = ensure_table(e, err);
    if (rc < 0)
        return rc;
    /* A plugin sees what is committed from now on (and the history, through replay). */
    if ((rc = engine_sync(e, err)) < 0)
        return rc;
    if ((rc = plugins_load(e->plugins, what, config, err)) < 0)
        return rc;
    if (e->rules)
        engine_plugins_lua(e, e->rules);
    return 0;
}

int engine_load_rule_plugins(struct engine *e, const struct rules *r, struct error *err)
{
    for (int i = 0; i < r->n_plugins; i++) {
        const struct rules_plugin *rp = &r->plugins[i];
        if (plugins_has(e->plugins, rp->name))
            continue;   /* loaded already (by --plugin, or by the rules before a reload) */
        struct error perr = { 0 };
        int rc = engine_load_plugin(e, rp->name, rp->config, &perr);
        if (rc == 0)
            continue;
        char text[1200], file[320];
        error_text(&perr, text, sizeof text);
        snprintf(file, sizeof file, "%s", rp->where);
        char *colon = strrchr(file, ':');
        int line = colon ? atoi(colon + 1) : 0;
        if (colon)
            *colon = '\0';
        if (rc == ERR_INPUT && rp->optional) {
            fprintf(e->diag, "tandem: %s: optional plugin %s not loaded: %s\n", rp->where, rp->name, text);
            continue;
        }
        return error_set(err, rc, file, line, "%s", text);
    }
    return 0;
}

void engine_plugins_lua(struct engine *e, struct rules *r)
{
    int n;
    const struct plugin_lua_fn *f = plugins_lua_fns(e->plugins, &n);
    for (int i = 0; i < n; i++)
        lua_x_add(r, f[i].name, f[i].fn, f[i].data);
}

void engine_close_plugins(struct engine *e)
{
    struct engine_plugin_io *io = e->pio;
    if (!io || io->closed)
        return;
    plugins_close(e->plugins);
    io->closed = true;
    if (io->own) {
        /* Simulate: what the plugins still have in hand (a pipe to drain, a child to wait
         * for) finishes now. */
        uv_run(io->loop, UV_RUN_DEFAULT);
        uv_loop_close(io->loop);
    }
}

void engine_plugins_free(struct engine *e)
{
    if (!e->pio)
        return;
    engine_close_plugins(e);
    plugins_free(e->plugins);
    e->plugins = NULL;
    for (int i = 0; i < e->pio->nq; i++)
        cJSON_Delete(e->pio->q[i].cmd);
    free(e->pio->q);
    cJSON_Delete(e->pio->outbox);
    free(e->pio);
    e->pio = NULL;
}
