/* engine: submit -> validate -> facts -> journal -> apply -> dispatch, one way only.
 * Facts are created one at a time and committed before the next is made, so seq is always
 * the state's seq + 1. Rules run only after a fact is applied, never during replay. */
#include "engine.h"
#include "engine_internal.h"
#include "snapshot.h"
#include "json_print.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- facts ---- */

/* Facts are made by the thousand a second: their envelope's keys are literals that cJSON need
 * not copy (cJSON_AddItemToObjectCS), and the time is printed once per second, not per fact. */
cJSON *engine_fact(struct engine *e, const char *type)
{
    tdm_time now = clock_now(&e->clock);
    if (now != e->fact_time || e->fact_ts[0] == '\0') {
        time_format(now, e->fact_ts);
        e->fact_time = now;
    }
    cJSON *f = cJSON_CreateObject();
    cJSON_AddItemToObjectCS(f, "seq", cJSON_CreateNumber((double)(e->state.seq + 1)));
    cJSON_AddItemToObjectCS(f, "ts", cJSON_CreateString(e->fact_ts));
    cJSON_AddItemToObjectCS(f, "type", cJSON_CreateStringReference(type));
    return f;
}

void engine_add_str(cJSON *o, const char *literal_key, const char *value)
{
    cJSON_AddItemToObjectCS(o, literal_key, cJSON_CreateString(value));
}

/* A reference is never freed nor changed by cJSON; cJSON_Duplicate copies its text. */
void engine_add_literal(cJSON *o, const char *literal_key, const char *literal_value)
{
    cJSON_AddItemToObjectCS(o, literal_key, cJSON_CreateStringReference(literal_value));
}

void engine_add_time(cJSON *o, const char *k, tdm_time t)
{
    char buf[21];
    time_format(t, buf);
    cJSON_AddStringToObject(o, k, buf);
}

/* ---- the fact pool ---- */

#define POOL_CHUNK 16384

struct fact_pool_chunk {
    struct fact_pool_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

static void *pool_alloc(struct fact_pool *p, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct fact_pool_chunk *c = p->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > POOL_CHUNK ? n : POOL_CHUNK;
        if (!(c = malloc(sizeof *c + cap)))
            return NULL;
        *c = (struct fact_pool_chunk){ p->head, 0, cap };
        p->head = c;
    }
    void *r = (char *)c->data + c->used;
    c->used += n;
    return r;
}

static bool pool_owns(const struct fact_pool *p, const void *x)
{
    for (const struct fact_pool_chunk *c = p->head; c; c = c->next)
        if ((const char *)x >= (const char *)c->data && (const char *)x < (const char *)c->data + c->cap)
            return true;
    return false;
}

/* Gives everything back, keeping the newest chunk for the next facts (keep false: none). */
static void pool_empty(struct fact_pool *p, bool keep)
{
    struct fact_pool_chunk *c = p->head, *rest = c ? c->next : NULL;
    if (!keep) {
        rest = c;
        p->head = NULL;
    } else if (c) {
        c->next = NULL;
        c->used = 0;
    }
    while (rest) {
        struct fact_pool_chunk *next = rest->next;
        free(rest);
        rest = next;
    }
}

static cJSON *pool_node(struct engine *e, int type)
{
    cJSON *n = pool_alloc(&e->pool, sizeof *n);
    if (n)
        *n = (cJSON){ .type = type };
    return n;
}

/* Strings are references (cJSON_IsReference): nothing would free their text, were the tree
 * ever handed to cJSON_Delete by mistake; cJSON_Duplicate copies it. */
cJSON *engine_pool_literal(struct engine *e, const char *literal)
{
    cJSON *n = pool_node(e, cJSON_String | cJSON_IsReference);
    if (n)
        n->valuestring = (char *)literal;
    return n;
}

cJSON *engine_pool_string(struct engine *e, const char *s)
{
    size_t len = strlen(s) + 1;
    char *text = pool_alloc(&e->pool, len);
    if (!text)
        return NULL;
    memcpy(text, s, len);
    return engine_pool_literal(e, text);
}

/* As cJSON_CreateNumber sets it: valueint saturated at the ends of int. */
cJSON *engine_pool_number(struct engine *e, double d)
{
    cJSON *n = pool_node(e, cJSON_Number);
    if (n) {
        n->valuedouble = d;
        n->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
    }
    return n;
}

bool engine_pool_add(cJSON *o, const char *literal_key, cJSON *item)
{
    return item && cJSON_AddItemToObjectCS(o, literal_key, item);
}

cJSON *engine_pool_fact(struct engine *e, const char *literal_type)
{
    tdm_time now = clock_now(&e->clock);
    if (now != e->fact_time || e->fact_ts[0] == '\0') {
        time_format(now, e->fact_ts);
        e->fact_time = now;
    }
    cJSON *f = pool_node(e, cJSON_Object);
    if (f && engine_pool_add(f, "seq", engine_pool_number(e, (double)(e->state.seq + 1))) &&
        engine_pool_add(f, "ts", engine_pool_string(e, e->fact_ts)) &&
        engine_pool_add(f, "type", engine_pool_literal(e, literal_type)))
        return f;
    return NULL;
}

static cJSON *maker_object(void *ctx)
{
    return pool_node(ctx, cJSON_Object);
}

static cJSON *maker_array(void *ctx)
{
    return pool_node(ctx, cJSON_Array);
}

static cJSON *maker_string(void *ctx, const char *s)
{
    return engine_pool_string(ctx, s);
}

static cJSON *maker_number(void *ctx, double d)
{
    return engine_pool_number(ctx, d);
}

static void maker_drop(void *ctx, cJSON *item)
{
    (void)ctx;
    (void)item;   /* given back with the pool */
}

struct json_maker engine_pool_maker(struct engine *e)
{
    return (struct json_maker){ e, maker_object, maker_array, maker_string, maker_number, maker_drop };
}

/* Frees a fact: cJSON's, or nothing for a pooled one. */
static void fact_free(struct engine *e, cJSON *f)
{
    if (!pool_owns(&e->pool, f))
        cJSON_Delete(f);
}

static void schedule_match(struct engine *e, const struct match *m);
static void schedule_request(struct engine *e, const struct request *r);

/* A fact's "match", "request" and "program" members in one pass: what
 * cJSON_GetObjectItemCaseSensitive finds for each (the first member of that name; it stops
 * at a member without a name), without a strcmp per member and key. */
static struct fact_refs fact_refs(const cJSON *f)
{
    struct fact_refs r = { NULL, NULL, NULL };
    for (const cJSON *m = f->child; m && m->string; m = m->next) {
        const char *k = m->string;
        if (k[0] == 'm' && !r.match && strcmp(k, "match") == 0)
            r.match = m;
        else if (k[0] == 'r' && !r.request && strcmp(k, "request") == 0)
            r.request = m;
        else if (k[0] == 'p' && !r.program && strcmp(k, "program") == 0)
            r.program = m;
    }
    return r;
}

/* The envelope of a queued fact: the journal refused any whose first three members are not
 * seq, ts and type (check_event), so they are read by position. */
static const cJSON *fact_seq(const cJSON *f)
{
    return f->child;
}

static const char *fact_type(const cJSON *f)
{
    return f->child->next->next->valuestring;
}

/* Journals, applies and queues one fact for the rules. Takes ownership of f. */
int engine_commit(struct engine *e, cJSON *f, int depth, struct error *err)
{
    struct journal_mark mark;   /* the journal's print of f: a reply shows it without printing again */
    int rc = journal_append_mark(e->journal, f, &mark, err);
    if (rc == ERR_INPUT) {
        /* The log cannot hold it (a line over its size limit): the command is refused,
         * nothing was written or applied. */
        fact_free(e, f);
        return rc;
    }
    if (rc == 0)
        rc = state_apply(&e->state, f, err);
    if (rc < 0) {
        fact_free(e, f);
        /* A fact the engine made and its own state refuses is an engine failure: nothing
         * more is committed (the line stays in the unwritten buffer). */
        return err->code = ERR_SYSTEM;
    }
    struct fact_refs refs = fact_refs(f);
    const cJSON *mid = refs.match;
    if (cJSON_IsNumber(mid)) {
        const struct match *m = state_match(&e->state, (long long)mid->valuedouble);
        if (m)
            schedule_match(e, m);
    }
    const cJSON *rid = refs.request;
    if (cJSON_IsNumber(rid)) {
        const struct request *r = state_request(&e->state, (long long)rid->valuedouble);
        if (r)
            schedule_request(e, r);
    }
    if (e->q_head + e->q_len == e->q_cap) {
        if (e->q_head > 0) {
            memmove(e->queue, e->queue + e->q_head, (size_t)e->q_len * sizeof *e->queue);
            e->q_head = 0;
        } else {
            int ncap = e->q_cap ? e->q_cap * 2 : 64;
            struct pending_event *q = realloc(e->queue, (size_t)ncap * sizeof *q);
            if (!q) {
                fact_free(e, f);
                return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
            }
            e->queue = q;
            e->q_cap = ncap;
        }
    }
    engine_plugins_keep(e, f);
    e->queue[e->q_head + e->q_len++] = (struct pending_event){ f, mark, refs, depth };
    return 0;
}

int engine_rule_error(struct engine *e, const char *where, long long cause, const char *message,
                      int depth, struct error *err)
{
    cJSON *f = engine_fact(e, "rule.error");
    cJSON_AddStringToObject(f, "rule", where && *where ? where : "");
    if (cause > 0)
        cJSON_AddNumberToObject(f, "cause", (double)cause);
    else
        cJSON_AddNullToObject(f, "cause");
    cJSON_AddStringToObject(f, "message", message);
    return engine_commit(e, f, depth, err);
}

/* ---- the schedule: derived from the state, never journaled ---- */

const struct program *engine_program_of(const struct engine *e, const struct match *m)
{
    return &e->state.programs[m->program];
}

/* schedule_filter's test: whether the item is still due. One that is not, and is what the
 * cache says was last queued for its match and kind, is forgotten by the cache too, so the
 * next schedule_match queues that kind again whatever its time. */
static bool due_current(const struct due *d, void *ctx)
{
    struct engine *e = ctx;
    if (ticks_current(e, d))
        return true;
    if (d->kind < DUE_MATCH_KINDS && d->key < e->n_pushed && e->pushed[d->key][d->kind] == d->when)
        e->pushed[d->key][d->kind] = 0;
    return false;
}

#define TIDY_MIN_ITEMS 4096   /* a heap this small is not worth a pass */

/* Items gone stale wait in the heap until popped (a meeting moved, a match closed): over a
 * year they outnumbered the live ones several times (400,000 items for 10,000 people, most of
 * them stale). Once the heap has doubled since the last clearing, the stale ones go, in one
 * pass: amortized O(1) a push, and the heap stays within twice what is due. */
static void schedule_tidy(struct engine *e)
{
    size_t n = schedule_size(e->due);
    if (n < TIDY_MIN_ITEMS || n < 2 * e->due_kept)
        return;
    schedule_filter(e->due, due_current, e);
    e->due_kept = schedule_size(e->due);
}

/* Queues what the match has due, each kind only when its time changed since it was last
 * queued (an item queued earlier and gone stale is dropped when popped, or by schedule_tidy). */
static void schedule_match(struct engine *e, const struct match *m)
{
    if (m->id >= e->n_pushed) {
        long long n = e->n_pushed ? e->n_pushed : 1024;
        while (n <= m->id)
            n *= 2;
        void *p = realloc(e->pushed, (size_t)n * sizeof *e->pushed);
        if (!p)
            return;   /* without the cache every item is simply queued */
        e->pushed = p;
        memset(e->pushed + e->n_pushed, 0, (size_t)(n - e->n_pushed) * sizeof *e->pushed);
        e->n_pushed = n;
    }
    for (int k = 0; k < DUE_MATCH_KINDS; k++) {
        tdm_time when = ticks_due(e, m, k);
        if (!when || (m->id < e->n_pushed && e->pushed[m->id][k] == when))
            continue;
        schedule_push(e->due, (struct due){ when, k, m->id });
        if (m->id < e->n_pushed)
            e->pushed[m->id][k] = when;
    }
    schedule_tidy(e);
}

static void schedule_request(struct engine *e, const struct request *r)
{
    tdm_time when = ticks_request_due(e, r);
    if (when)
        schedule_push(e->due, (struct due){ when, DUE_REQUEST, r->id });
}

/* Arms the matching tick of every program not armed yet. After a replay (replayed), the
 * ticks up to the last event's time count as done: they ran before the stop (a tick that a
 * crash cut short only waits for the next one). A program declared now ticks now. */
static int ensure_ticks(struct engine *e, bool replayed)
{
    int n = e->state.n_programs;
    if (n <= e->n_ticks)
        return 0;
    tdm_time *t = realloc(e->next_tick, (size_t)n * sizeof *t);
    long long *k = realloc(e->tick_n, (size_t)n * sizeof *k);
    if (t)
        e->next_tick = t;
    if (k)
        e->tick_n = k;
    if (!t || !k)
        return -ENOMEM;
    for (int i = e->n_ticks; i < n; i++) {
        struct duration every = e->state.programs[i].match_every;
        long long step = 0;
        for (tdm_time t; (t = clock_add(e->state.programs[i].since, every, step)) < e->state.now ||
                         (replayed && t == e->state.now);)
            step++;
        e->tick_n[i] = step;
        e->next_tick[i] = clock_add(e->state.programs[i].since, every, step);
        schedule_push(e->due, (struct due){ e->next_tick[i], DUE_MATCH, i });
    }
    e->n_ticks = n;
    return 0;
}

/* ---- rules bridge ---- */

/* The rules' index of a state program, or -1 when the rules in force do not declare it. */
int engine_rules_prog(const struct engine *e, int state_prog)
{
    if (!e->rules || state_prog < 0)
        return -1;
    for (int i = 0; i < e->rules->n_programs; i++)
        if (strcmp(e->rules->programs[i].def.name, e->state.programs[state_prog].name) == 0)
            return i;
    return -1;
}

void engine_rules_context(struct engine *e)
{
    e->rules->state = &e->state;
    e->rules->now = clock_now(&e->clock);
}

int engine_enroll_person(struct cmd_ctx *x, int person, long long cause, struct error *err)
{
    struct engine *e = x->e;
    if (!e->rules || e->state.people[person].left)
        return 0;
    engine_rules_context(e);
    for (int i = 0; i < e->rules->n_programs; i++) {
        int sp = state_program(&e->state, e->rules->programs[i].def.name);
        bool mentor, mentee;
        char why[512], where[320];
        rules_roles(e->rules, i, person, &mentor, &mentee, why, sizeof why, where, sizeof where);
        if (why[0]) {
            int rc = engine_rule_error(e, where, cause, why, x->depth, err);
            if (rc < 0)
                return rc;
            continue;
        }
        /* Each side enrols as the role its model names (mentor/mentee, leader/attendee, peer). */
        const struct rules_program *rp = &e->rules->programs[i];
        const int roles[2] = { rp->role_mentor, rp->role_mentee };
        const bool want[2] = { mentor, mentee };
        for (int k = 0; k < 2; k++) {
            if (!want[k] || roles[k] < 0 || state_enrollment(&e->state, person, sp, (enum role)roles[k]) >= 0)
                continue;
            cJSON *f = engine_pool_fact(e, "enroll");
            if (!f || !engine_pool_add(f, "person", engine_pool_string(e, e->state.people[person].p.id)) ||
                !engine_pool_add(f, "program", engine_pool_string(e, e->rules->programs[i].def.name)) ||
                !engine_pool_add(f, "role", engine_pool_literal(e, role_names[roles[k]])))
                return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
            int rc = engine_commit(e, f, x->depth, err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- dispatch ---- */

struct dispatch_ctx {
    struct engine *e;
    const cJSON *event;
    int depth;
    cJSON *actions;        /* collected from every handler that succeeded */
    int rc;
    struct error *err;
};

static void on_handler_done(void *ctx, const cJSON *actions, const char *message, const char *where)
{
    struct dispatch_ctx *d = ctx;
    if (d->rc < 0)
        return;
    if (message) {
        const cJSON *seq = fact_seq(d->event);
        d->rc = engine_rule_error(d->e, where, (long long)seq->valuedouble, message, d->depth + 1, d->err);
        return;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, actions)
        cJSON_AddItemToArray(d->actions, cJSON_Duplicate(a, 1));
}

static int event_program(const struct engine *e, const struct fact_refs refs)
{
    const cJSON *mid = refs.match;
    if (cJSON_IsNumber(mid)) {
        const struct match *m = state_match(&e->state, (long long)mid->valuedouble);
        return m ? engine_rules_prog(e, m->program) : -1;
    }
    const cJSON *prog = refs.program;
    return cJSON_IsString(prog) ? engine_rules_prog(e, state_program(&e->state, prog->valuestring)) : -1;
}

/* A JSON array's text, grown one printed element at a time, between the caller's before and
 * after texts (a reply line is made in one buffer, not copied around the array). */
struct json_list {
    struct json_buf b;
    int n;                 /* elements so far */
    bool failed;           /* out of memory: b is dropped */
};

static void list_put(struct json_list *l, const char *text, size_t n)
{
    if (l->failed)
        return;
    if (l->b.cap - l->b.len <= n) {   /* room for text and the '\0' */
        size_t cap = l->b.cap ? l->b.cap : 1024;
        while (cap - l->b.len <= n)
            cap *= 2;
        char *s = realloc(l->b.s, cap);
        if (!s) {
            free(l->b.s);
            *l = (struct json_list){ .failed = true };
            return;
        }
        l->b.s = s;
        l->b.cap = cap;
    }
    memcpy(l->b.s + l->b.len, text, n);
    l->b.len += n;
    l->b.s[l->b.len] = '\0';
}

/* Adds an event's print: the journal's, from its buffer, while the line is there (a commit
 * comes after the command's events are drained, but a refused command's facts wait in the
 * queue past the commit); else printed again as the journal prints (json_print, or cJSON
 * for what json_print leaves to it), the same bytes. */
static void list_add(struct json_list *l, const struct journal *j, const struct pending_event *pe)
{
    list_put(l, l->n++ == 0 ? "[" : ",", 1);
    size_t body;
    const char *line = journal_buffered(j, pe->mark, &body);
    if (line) {
        list_put(l, line, body);
        list_put(l, "}", 1);
        return;
    }
    struct json_buf b = { 0 };
    if (json_print(pe->event, &b) == 0) {
        list_put(l, b.s, b.len);
        free(b.s);
        return;
    }
    free(b.s);
    char *text = cJSON_PrintUnformatted(pe->event);
    if (!text) {
        free(l->b.s);
        *l = (struct json_list){ .failed = true };
        return;
    }
    list_put(l, text, strlen(text));
    cJSON_free(text);
}

/* Closes the list: before "[...]" after ("[...]" is cJSON_PrintUnformatted's bytes for the
 * array of those elements), owned by the caller; NULL when out of memory. */
static char *list_end(struct json_list *l, const char *after)
{
    if (l->n == 0)
        list_put(l, "[", 1);
    list_put(l, "]", 1);
    list_put(l, after, strlen(after));
    return l->failed ? NULL : l->b.s;
}

static void pending_free(struct engine *e, struct pending_event *pe)
{
    fact_free(e, pe->event);
}

/* Hands each queued event to the rules; the command's own facts are appended to facts
 * (copies) or to list (their text), either or both may be NULL. */
static int drain_queue(struct engine *e, cJSON *facts, struct json_list *list, struct error *err)
{
    while (e->q_len > 0) {
        struct pending_event pe = e->queue[e->q_head++];
        e->q_len--;
        if (e->q_len == 0)
            e->q_head = 0;
        if (facts)
            cJSON_AddItemToArray(facts, cJSON_Duplicate(pe.event, 1));
        if (list)
            list_add(list, e->journal, &pe);
        const char *type = fact_type(pe.event);
        int rc = 0;
        if (e->rules && strcmp(type, "rules") != 0 && strcmp(type, "rule.error") != 0) {
            int prog = event_program(e, pe.refs);
            if (rules_listens(e->rules, type, prog)) {
                struct dispatch_ctx d = { e, pe.event, pe.depth, cJSON_CreateArray(), 0, err };
                engine_rules_context(e);
                rules_dispatch(e->rules, pe.event, prog, on_handler_done, &d);
                rc = d.rc;
                long long cause = (long long)fact_seq(pe.event)->valuedouble;
                const cJSON *a;
                cJSON_ArrayForEach(a, d.actions) {
                    if (rc < 0)
                        break;
                    const char *rule = cmd_str(a, "rule");
                    if (pe.depth + 1 > ENGINE_MAX_DEPTH) {
                        rc = engine_rule_error(e, rule, cause, "cascade deeper than 8 levels: action dropped",
                                        pe.depth + 1, err);
                        continue;
                    }
                    struct error aerr = { 0 };
                    int arc = commands_exec(e, a, pe.depth + 1, rule, &aerr);
                    if (arc == ERR_INPUT)
                        rc = engine_rule_error(e, rule, cause, aerr.msg, pe.depth + 1, err);
                    else if (arc < 0) {
                        *err = aerr;
                        rc = arc;
                    }
                }
                cJSON_Delete(d.actions);
            }
        }
        pending_free(e, &pe);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* drain_queue; once nothing is queued (and no drain is under way further up), no pooled
 * fact is left: the pool's memory is taken again from its start. */
static int drain(struct engine *e, cJSON *facts, struct json_list *list, struct error *err)
{
    e->draining++;
    int rc = drain_queue(e, facts, list, err);
    if (--e->draining == 0 && e->q_len == 0)
        pool_empty(&e->pool, true);
    return rc;
}

/* After a command: its events go to the rules, then the log is committed (unless the
 * caller holds commits to group them). A command refused before its first fact leaves
 * nothing to commit. */
static int finish(struct engine *e, long long seq_before, int rc, cJSON *facts, struct json_list *list,
                  struct error *err)
{
    if (rc == 0)
        rc = drain(e, facts, list, err);
    if (rc == ERR_INPUT && e->state.seq == seq_before)
        return rc;
    if (e->hold_commit)
        return rc;
    int crc = engine_log_commit(e, e->sync, err);
    return rc < 0 ? rc : crc;
}

int engine_submit(struct engine *e, const cJSON *cmd, cJSON *facts, struct error *err)
{
    long long before = e->state.seq;
    return finish(e, before, commands_exec(e, cmd, 0, NULL, err), facts, NULL, err);
}

int engine_submit_json(struct engine *e, const cJSON *cmd, const char *before_text, const char *after_text,
                       char **events, int *n_events, struct error *err)
{
    long long before = e->state.seq;
    struct json_list list = { 0 };
    list_put(&list, before_text, strlen(before_text));
    int rc = finish(e, before, commands_exec(e, cmd, 0, NULL, err), NULL, &list, err);
    *n_events = list.n;
    *events = list_end(&list, after_text);
    if (*events == NULL && rc >= 0)
        rc = error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    return rc;
}

int engine_commit_pending(struct engine *e, struct error *err)
{
    return engine_log_commit(e, e->sync, err);
}

/* Pops stale items until the head is current. */
bool engine_next_due(struct engine *e, tdm_time *when)
{
    struct due d;
    while (schedule_peek(e->due, &d)) {
        if (ticks_current(e, &d)) {
            *when = d.when;
            return true;
        }
        schedule_pop(e->due, &d);
    }
    return false;
}

int engine_fire_due(struct engine *e, struct error *err)
{
    struct due d;
    tdm_time now = clock_now(&e->clock);
    while (schedule_peek(e->due, &d) && d.when <= now) {
        schedule_pop(e->due, &d);
        if (!ticks_current(e, &d))
            continue;
        long long before = e->state.seq;
        int rc = finish(e, before, ticks_fire(e, &d, err), NULL, NULL, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int engine_reject_rules(struct engine *e, const char *path, const char *message, struct error *err)
{
    cJSON *f = engine_fact(e, "rules");
    cJSON_AddStringToObject(f, "phase", "rejected");
    cJSON_AddStringToObject(f, "file", path);
    cJSON_AddStringToObject(f, "error", message);
    long long before = e->state.seq;
    return finish(e, before, engine_commit(e, f, 0, err), NULL, NULL, err);
}

int engine_advance(struct engine *e, tdm_time until, engine_progress_fn progress, void *ctx, struct error *err)
{
    if (ensure_ticks(e, false) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    struct due d;
    long long fired = 0;
    while (schedule_peek(e->due, &d) && d.when <= until) {
        schedule_pop(e->due, &d);
        if (!ticks_current(e, &d))
            continue;
        if (d.when > clock_now(&e->clock))
            clock_advance(&e->clock, d.when);
        long long before = e->state.seq;
        int rc = finish(e, before, ticks_fire(e, &d, err), NULL, NULL, err);
        if (rc < 0)
            return rc;
        if (progress && ++fired % 256 == 0)
            progress(ctx, d.when);
    }
    if (until > clock_now(&e->clock))
        clock_advance(&e->clock, until);
    if (progress)
        progress(ctx, until);
    return 0;
}

int engine_sync(struct engine *e, struct error *err)
{
    return engine_log_commit(e, e->sync == JOURNAL_SYNC_OFF ? JOURNAL_SYNC_ALWAYS : e->sync, err);
}

/* ---- rules and people ---- */

/* Puts r in force and records it; the rules it replaces are handed back in *old (NULL at
 * the first load), still allocated, so a reload whose event fails to commit can go back. */
static int install_rules(struct engine *e, struct rules *r, struct rules **old, struct error *err)
{
    long long before = e->state.seq;
    *old = NULL;
    engine_plugins_lua(e, r);   /* tandem.x, before any handler of r runs */
    if (!e->rules && e->state.rules_sha256 && strcmp(e->state.rules_sha256, r->sha256) == 0 &&
        e->state.rules_file && strcmp(e->state.rules_file, r->path) == 0) {
        /* A restart with the rules already recorded: nothing new to say. */
        e->rules = r;
        e->sim.p = r->sim;
        return ensure_ticks(e, false) < 0 ? error_set(err, ERR_SYSTEM, NULL, 0, "out of memory") : 0;
    }
    bool reload = e->rules != NULL;
    cJSON *f = engine_fact(e, "rules");
    cJSON_AddStringToObject(f, "phase", reload ? "reloaded" : "loaded");
    cJSON_AddStringToObject(f, "file", r->path);
    cJSON_AddStringToObject(f, "sha256", r->sha256);
    cJSON_AddStringToObject(f, "clock", e->simulating ? "virtual" : "real");
    cJSON *pr = cJSON_AddArrayToObject(f, "priorities");
    for (int i = 0; i < r->n_priorities; i++)
        cJSON_AddItemToArray(pr, cJSON_CreateString(r->priorities[i]));
    cJSON_AddItemToObject(f, "programs", rules_programs_json(r));
    *old = e->rules;
    e->rules = r;
    e->sim.p = r->sim;
    int rc = engine_commit(e, f, 0, err);
    if (rc == 0 && ensure_ticks(e, false) < 0)
        rc = error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    struct cmd_ctx x = { e, 0, NULL };
    for (int p = 0; rc == 0 && p < e->state.n_people; p++)
        rc = engine_enroll_person(&x, p, e->state.seq, err);
    return finish(e, before, rc, NULL, NULL, err);
}

int engine_use_rules(struct engine *e, struct rules *r, struct error *err)
{
    struct rules *old;
    int rc = install_rules(e, r, &old, err);
    rules_free(old);
    return rc;
}

int engine_reload_rules(struct engine *e, struct rules *r, struct error *err)
{
    struct rules *old;
    int rc = install_rules(e, r, &old, err);
    if (rc == 0 && e->hold_commit)
        rc = engine_log_commit(e, e->sync, err);   /* now, not with the turn: the swap depends on it */
    if (journal_failed(e->journal) && old) {
        /* The log is the source of truth: its last `rules` event still names the old rules,
         * so they stay in force (the caller rebuilds the state from the disk). */
        rules_free(e->rules);
        e->rules = old;
        e->sim.p = old->sim;
        return rc < 0 ? rc : error_set(err, ERR_SYSTEM, e->path, 0, "the event log failed");
    }
    rules_free(old);
    return rc;
}

struct import_ctx {
    struct engine *e;
    int rc;
    struct error *err;
    FILE *errors;
    const char *path;
    int refused_here;
};

/* A row for someone new is added; for someone known, it updates them if anything changed. */
static int import_row(void *ctx, struct person *p, int line)
{
    struct import_ctx *ic = ctx;
    int known = state_person(&ic->e->state, p->id);
    cJSON *pj = person_to_json(p);
    person_free(p);
    if (known >= 0 && !ic->e->state.people[known].left) {
        cJSON *now = person_to_json(&ic->e->state.people[known].p);
        bool same = cJSON_Compare(now, pj, 1);
        cJSON_Delete(now);
        if (same) {
            cJSON_Delete(pj);
            return 0;
        }
    }
    cJSON *cmd = cJSON_CreateObject();
    cJSON_AddStringToObject(cmd, "cmd", known >= 0 ? "person.update" : "person.add");
    cJSON_AddItemToObject(cmd, "person", pj);
    struct error err = { 0 };
    int rc = engine_submit(ic->e, cmd, NULL, &err);
    cJSON_Delete(cmd);
    if (rc == ERR_INPUT) {
        fprintf(ic->errors, "%s:%d: %s\n", ic->path, line, err.msg);
        ic->refused_here++;
        return 0;
    }
    if (rc < 0) {
        *ic->err = err;
        ic->rc = rc;
        return rc;
    }
    return 0;
}

int engine_import_people(struct engine *e, const char *csv, FILE *errors, struct people_csv_result *res,
                         struct error *err)
{
    struct import_ctx ic = { e, 0, err, errors, csv, 0 };
    int rc = people_csv_read(csv, import_row, &ic, errors, res, err);
    if (ic.rc < 0)
        return ic.rc;
    res->taken -= ic.refused_here;
    res->refused += ic.refused_here;
    return rc;
}

/* ---- open, close, replay ---- */

static int replay_into(void *ctx, const cJSON *event, long long line)
{
    struct state *s = ctx;
    (void)line;
    struct error err = { 0 };
    return state_apply(s, event, &err) < 0 ? ERR_INPUT : 0;
}

int engine_replay(const char *path, struct state *s, FILE *diag, struct error *err)
{
    int rc = journal_replay(path, 0, replay_into, s, diag, NULL, err);
    if (rc == ERR_INPUT && !err->msg[0])
        error_set(err, ERR_INPUT, path, (int)s->seq + 1, "event does not fit the state before it");
    return rc;
}

int engine_open(struct engine *e, const struct engine_options *o, struct error *err)
{
    memset(e, 0, sizeof *e);
    state_init(&e->state);
    e->diag = o->diag ? o->diag : stderr;
    e->sync = o->sync;
    e->simulating = o->simulate;
    e->sim.seed = o->seed;
    if (mkdir(o->state_dir, 0700) < 0 && errno != EEXIST)
        return error_set(err, ERR_SYSTEM, o->state_dir, 0, "cannot create the state directory: %s",
                         strerror(errno));
    snprintf(e->dir, sizeof e->dir, "%s", o->state_dir);
    snprintf(e->path, sizeof e->path, "%s/events.jsonl", o->state_dir);
    if (!(e->due = schedule_new()))
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    if (o->simulate) {
        int rc = journal_open(e->path, true, e->diag, &e->journal, err);
        if (rc == 0)
            rc = snapshot_discard(o->state_dir, err);   /* they belonged to the log just emptied */
        clock_init_virtual(&e->clock, o->start);
        return rc;
    }
    /* The newest valid snapshot, then the log after it, read once: verified and applied in
     * the same pass (a torn tail is cut on the way). */
    long long from = 0;
    int rc = snapshot_load(o->state_dir, e->path, &e->state, &from, e->diag, err);
    if (rc < 0)
        return rc;
    e->snapshot_seq = e->state.seq;
    rc = journal_open_at(e->path, false, from, replay_into, &e->state, e->diag, &e->journal, err);
    if (rc == ERR_INPUT && !err->msg[0])
        error_set(err, ERR_INPUT, e->path, (int)e->state.seq + 1, "event does not fit the state before it");
    if (rc < 0)
        return rc;
    clock_init_real(&e->clock);
    if (e->clock.now < e->state.now)
        e->clock.now = e->state.now;   /* program time never runs backwards */
    if (ensure_ticks(e, true) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    for (int i = 0; i < e->state.n_matches; i++)
        schedule_match(e, &e->state.matches[i]);
    for (int i = 0; i < e->state.n_requests; i++)
        schedule_request(e, &e->state.requests[i]);
    return 0;
}

int engine_rebuild(struct engine *e, struct error *err)
{
    struct state s;
    state_init(&s);
    long long from = 0;
    int rc = snapshot_load(e->dir, e->path, &s, &from, e->diag, err);
    long long snap = rc == 1 ? s.seq : 0;
    if (rc >= 0)
        rc = journal_reopen(e->journal, from, replay_into, &s, e->diag, err);
    if (rc == ERR_INPUT && !err->msg[0])
        error_set(err, ERR_INPUT, e->path, (int)s.seq + 1, "event does not fit the state before it");
    if (rc < 0) {
        state_free(&s);
        return rc;
    }
    while (e->q_len > 0) {              /* events of the facts that were lost with the commit */
        pending_free(e, &e->queue[e->q_head++]);
        e->q_len--;
    }
    e->q_head = 0;
    pool_empty(&e->pool, true);
    state_free(&e->state);
    e->state = s;
    e->snapshot_seq = snap;
    struct schedule *due = schedule_new();
    if (!due)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    schedule_free(e->due);
    e->due = due;
    /* What was queued in the old schedule is not in the new one: forget it, or schedule_match
     * would skip every item whose time has not changed (and nothing would fall due again). */
    free(e->pushed);
    e->pushed = NULL;
    e->n_pushed = 0;
    e->due_kept = 0;
    free(e->next_tick);
    free(e->tick_n);
    e->next_tick = NULL;
    e->tick_n = NULL;
    e->n_ticks = 0;
    if (e->clock.now < e->state.now)
        e->clock.now = e->state.now;
    if (ensure_ticks(e, true) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    for (int i = 0; i < e->state.n_matches; i++)
        schedule_match(e, &e->state.matches[i]);
    return 0;
}

int engine_snapshot_fork(struct engine *e, int *pid, int *fd, long long *seq, struct error *err)
{
    int rc = engine_log_commit(e, e->sync, err);
    if (rc < 0)
        return rc;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "cannot make a pipe for the snapshot: %s", strerror(errno));
    long long offset = journal_end_offset(e->journal);
    fflush(NULL);                       /* nothing buffered is written twice */
    pid_t child = fork();
    if (child < 0) {
        int en = errno;
        close(p[0]);
        close(p[1]);
        return error_set(err, ERR_SYSTEM, NULL, 0, "cannot fork to write the snapshot: %s", strerror(en));
    }
    if (child == 0) {
        /* The child holds a copy of the state as it is now and writes it; the parent's
         * descriptors (the socket, its clients, the log) are closed here so that a client the
         * parent drops sees its connection end, and the child can touch nothing but files. */
        if (p[1] > 3)
            close_range(3, (unsigned)p[1] - 1, 0);
        close_range((unsigned)p[1] + 1, ~0u, 0);
        struct error werr = { 0 };
        char why[1200] = "";
        if (snapshot_write(e->dir, &e->state, offset, &werr) < 0)
            error_text(&werr, why, sizeof why);
        size_t n = strlen(why);
        while (n > 0 && write(p[1], why, n) < 0 && errno == EINTR)
            ;
        _exit(why[0] ? 1 : 0);
    }
    close(p[1]);
    *pid = (int)child;
    *fd = p[0];
    *seq = e->state.seq;
    return 0;
}

void engine_snapshot_written(struct engine *e, long long seq)
{
    if (seq > e->snapshot_seq)
        e->snapshot_seq = seq;
}

void engine_close(struct engine *e)
{
    engine_plugins_free(e);   /* first: a closing plugin may still query the state */
    while (e->q_len > 0) {
        pending_free(e, &e->queue[e->q_head++]);
        e->q_len--;
    }
    pool_empty(&e->pool, false);
    free(e->queue);
    if (e->journal)
        journal_close(e->journal);
    rules_free(e->rules);
    schedule_free(e->due);
    free(e->next_tick);
    free(e->tick_n);
    free(e->pushed);
    state_free(&e->state);
    memset(e, 0, sizeof *e);
}

