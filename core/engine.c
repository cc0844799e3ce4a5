/* engine: submit -> validate -> facts -> journal -> apply -> dispatch, one way only.
 * Facts are created one at a time and committed before the next is made, so seq is always
 * the state's seq + 1. Rules run only after a fact is applied, never during replay. */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- facts ---- */

static cJSON *fact(struct engine *e, const char *type)
{
    char ts[21];
    time_format(clock_now(&e->clock), ts);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "seq", (double)(e->state.seq + 1));
    cJSON_AddStringToObject(f, "ts", ts);
    cJSON_AddStringToObject(f, "type", type);
    return f;
}

static void add_time(cJSON *o, const char *k, tdm_time t)
{
    char buf[21];
    time_format(t, buf);
    cJSON_AddStringToObject(o, k, buf);
}

static void schedule_match(struct engine *e, const struct match *m);

/* Journals, applies and queues one fact for the rules. Takes ownership of f. */
static int commit(struct engine *e, cJSON *f, int depth, struct error *err)
{
    int rc = journal_append(e->journal, f, err);
    if (rc == 0)
        rc = state_apply(&e->state, f, err);
    if (rc < 0) {
        cJSON_Delete(f);
        /* A fact the engine made and cannot keep is an engine failure. */
        return err->code = ERR_SYSTEM;
    }
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(f, "match");
    if (cJSON_IsNumber(mid)) {
        const struct match *m = state_match(&e->state, (long long)mid->valuedouble);
        if (m)
            schedule_match(e, m);
    }
    if (e->q_head + e->q_len == e->q_cap) {
        if (e->q_head > 0) {
            memmove(e->queue, e->queue + e->q_head, (size_t)e->q_len * sizeof *e->queue);
            e->q_head = 0;
        } else {
            int ncap = e->q_cap ? e->q_cap * 2 : 64;
            struct pending_event *q = realloc(e->queue, (size_t)ncap * sizeof *q);
            if (!q) {
                cJSON_Delete(f);
                return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
            }
            e->queue = q;
            e->q_cap = ncap;
        }
    }
    e->queue[e->q_head + e->q_len++] = (struct pending_event){ f, depth };
    return 0;
}

static int rule_error(struct engine *e, const char *where, long long cause, const char *message,
                      int depth, struct error *err)
{
    cJSON *f = fact(e, "rule.error");
    cJSON_AddStringToObject(f, "rule", where && *where ? where : "");
    if (cause > 0)
        cJSON_AddNumberToObject(f, "cause", (double)cause);
    else
        cJSON_AddNullToObject(f, "cause");
    cJSON_AddStringToObject(f, "message", message);
    return commit(e, f, depth, err);
}

/* ---- the schedule: derived from the state, never journaled ---- */

static const struct program *program_of(const struct engine *e, const struct match *m)
{
    return &e->state.programs[m->program];
}

static tdm_time review_due(const struct engine *e, const struct match *m)
{
    return clock_add(m->started, program_of(e, m)->review_every, m->reviews + 1);
}

/* In simulate the program's admin answers a proposal the next day. */
static tdm_time approval_due(const struct match *m)
{
    return m->started + 86400;
}

static void schedule_match(struct engine *e, const struct match *m)
{
    if (m->phase == MATCH_PROPOSED && e->simulating)
        schedule_push(e->due, (struct due){ approval_due(m), DUE_APPROVAL, m->id });
    if (m->phase != MATCH_ACTIVE)
        return;
    if (m->next_meeting)
        schedule_push(e->due, (struct due){ m->next_meeting, DUE_MEETING, m->id });
    schedule_push(e->due, (struct due){ review_due(e, m), DUE_REVIEW, m->id });
    if (!m->reup_open)
        schedule_push(e->due, (struct due){ m->term_ends, DUE_REUP, m->id });
}

static int ensure_ticks(struct engine *e)
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
        /* The first tick at or after now, counted from the log's first event. */
        struct duration every = e->state.programs[i].match_every;
        long long step = 0;
        while (clock_add(e->state.epoch, every, step) < e->state.now)
            step++;
        e->tick_n[i] = step;
        e->next_tick[i] = clock_add(e->state.epoch, every, step);
        schedule_push(e->due, (struct due){ e->next_tick[i], DUE_MATCH, i });
    }
    e->n_ticks = n;
    return 0;
}

/* ---- rules bridge ---- */

/* The rules' index of a state program, or -1 when the rules in force do not declare it. */
static int rules_prog(const struct engine *e, int state_prog)
{
    if (!e->rules || state_prog < 0)
        return -1;
    for (int i = 0; i < e->rules->n_programs; i++)
        if (strcmp(e->rules->programs[i].def.name, e->state.programs[state_prog].name) == 0)
            return i;
    return -1;
}

static void rules_context(struct engine *e)
{
    e->rules->state = &e->state;
    e->rules->now = clock_now(&e->clock);
}

/* ---- commands ---- */

struct cmd_ctx {
    struct engine *e;
    int depth;
    const char *rule;     /* FILE:LINE when the command is a rule's action */
};

static const char *cstr(const cJSON *c, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static struct match *cmatch(struct engine *e, const cJSON *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "match");
    return cJSON_IsNumber(v) ? state_match(&e->state, (long long)v->valuedouble) : NULL;
}

static int refuse(struct error *err, const char *fmt, const char *arg)
{
    return error_set(err, ERR_INPUT, NULL, 0, fmt, arg);
}

static int enroll_person(struct cmd_ctx *x, int person, long long cause, struct error *err)
{
    struct engine *e = x->e;
    if (!e->rules || e->state.people[person].left)
        return 0;
    rules_context(e);
    for (int i = 0; i < e->rules->n_programs; i++) {
        int sp = state_program(&e->state, e->rules->programs[i].def.name);
        bool mentor, mentee;
        char why[512], where[320];
        rules_roles(e->rules, i, person, &mentor, &mentee, why, sizeof why, where, sizeof where);
        if (why[0]) {
            int rc = rule_error(e, where, cause, why, x->depth, err);
            if (rc < 0)
                return rc;
            continue;
        }
        const enum role roles[2] = { ROLE_MENTOR, ROLE_MENTEE };
        const bool want[2] = { mentor, mentee };
        for (int k = 0; k < 2; k++) {
            if (!want[k] || state_enrollment(&e->state, person, sp, roles[k]) >= 0)
                continue;
            cJSON *f = fact(e, "enroll");
            cJSON_AddStringToObject(f, "person", e->state.people[person].p.id);
            cJSON_AddStringToObject(f, "program", e->rules->programs[i].def.name);
            cJSON_AddStringToObject(f, "role", role_names[roles[k]]);
            int rc = commit(e, f, x->depth, err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int cmd_person_add(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    struct person p;
    int rc = person_from_json(cJSON_GetObjectItemCaseSensitive(c, "person"), &p, err);
    if (rc < 0)
        return rc;
    bool exists = state_person(&e->state, p.id) >= 0;
    if (exists) {
        rc = refuse(err, "person \"%s\" exists already (use person update)", p.id);
        person_free(&p);
        return rc;
    }
    cJSON *f = fact(e, "person");
    cJSON_AddStringToObject(f, "phase", "added");
    cJSON_AddItemToObject(f, "person", person_to_json(&p));
    person_free(&p);
    if ((rc = commit(e, f, x->depth, err)) < 0)
        return rc;
    return enroll_person(x, e->state.n_people - 1, e->state.seq, err);
}

static int cmd_flag(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmatch(e, c);
    const char *person = cstr(c, "person"), *reason = cstr(c, "reason");
    if (!m && state_person(&e->state, person) < 0)
        return refuse(err, "flag: no such match or person%s", "");
    if (!reason || !*reason)
        return refuse(err, "flag: a reason is required%s", "");
    cJSON *f = fact(e, "flag");
    if (m)
        cJSON_AddNumberToObject(f, "match", (double)m->id);
    else
        cJSON_AddStringToObject(f, "person", person);
    cJSON_AddStringToObject(f, "reason", reason);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return commit(e, f, x->depth, err);
}

static int cmd_note(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    const char *text = cstr(c, "text");
    if (!text)
        return refuse(err, "note: text is required%s", "");
    cJSON *f = fact(x->e, "note");
    cJSON_AddStringToObject(f, "text", text);
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(c, "fields");
    if (fields)
        cJSON_AddItemToObject(f, "fields", cJSON_Duplicate(fields, 1));
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return commit(x->e, f, x->depth, err);
}

/* Cancels the scheduled meeting, then closes the match. */
static int close_match(struct cmd_ctx *x, const struct match *m, const char *reason, const char *text,
                       struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    if (m->next_meeting) {
        cJSON *f = fact(e, "meeting");
        cJSON_AddNumberToObject(f, "match", (double)id);
        cJSON_AddStringToObject(f, "phase", "cancelled");
        add_time(f, "at", m->next_meeting);
        int rc = commit(e, f, x->depth, err);
        if (rc < 0)
            return rc;
    }
    cJSON *f = fact(e, "close");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "reason", reason);
    if (text)
        cJSON_AddStringToObject(f, "text", text);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return commit(e, f, x->depth, err);
}

static int cmd_close(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    const struct match *m = cmatch(x->e, c);
    const char *reason = cstr(c, "reason");
    if (!m || !match_live(m))
        return refuse(err, "close: no live match%s", "");
    bool known = false;
    for (int i = 0; reason && close_reasons[i]; i++)
        known |= strcmp(reason, close_reasons[i]) == 0;
    if (!known)
        return refuse(err, "close: unknown reason \"%s\"", reason ? reason : "");
    return close_match(x, m, reason, cstr(c, "text"), err);
}

static int cmd_goal_set(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmatch(e, c);
    const char *text = cstr(c, "text"), *due = cstr(c, "due"), *measure = cstr(c, "measure");
    if (!m || !match_live(m))
        return refuse(err, "goal: no live match%s", "");
    if (!text || !*text)
        return refuse(err, "goal: text is required%s", "");
    tdm_time due_at = 0;
    if (due) {
        struct duration d;
        char why[160];
        if (time_parse(due, &due_at) < 0) {
            if (duration_parse(due, &d, why, sizeof why) < 0)
                return refuse(err, "goal: due must be a date or a duration: %s", why);
            due_at = clock_add(clock_now(&e->clock), d, 1);
        }
    }
    cJSON *f = fact(e, "goal");
    cJSON_AddNumberToObject(f, "match", (double)m->id);
    cJSON_AddNumberToObject(f, "goal", (double)(e->state.n_goals + 1));
    cJSON_AddStringToObject(f, "phase", "set");
    cJSON_AddStringToObject(f, "text", text);
    if (due_at)
        add_time(f, "due", due_at);
    if (measure)
        cJSON_AddStringToObject(f, "measure", measure);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return commit(e, f, x->depth, err);
}

static int schedule_next_meeting(struct cmd_ctx *x, const struct match *m, struct error *err)
{
    struct engine *e = x->e;
    cJSON *f = fact(e, "meeting");
    cJSON_AddNumberToObject(f, "match", (double)m->id);
    cJSON_AddStringToObject(f, "phase", "scheduled");
    add_time(f, "at", clock_add(m->started, program_of(e, m)->cadence, m->meeting_n + 1));
    return commit(e, f, x->depth, err);
}

static cJSON *id_list(const struct state *s, const int *idx, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s->people[idx[i]].p.id));
    return a;
}

static int tick_meeting(struct cmd_ctx *x, struct match *m, struct error *err)
{
    struct engine *e = x->e;
    if (!e->simulating)
        return 0;   /* on a real clock, people report meetings over the control socket */
    const struct program *p = program_of(e, m);
    bool held = sim_meeting_held(&e->sim, m->id, m->meeting_n);
    long long id = m->id;
    cJSON *f = fact(e, "meeting");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", held ? "held" : "missed");
    add_time(f, "at", m->next_meeting);
    if (held) {
        cJSON *att = id_list(&e->state, m->mentors, m->n_mentors);
        for (int i = 0; i < m->n_mentees; i++)
            cJSON_AddItemToArray(att, cJSON_CreateString(e->state.people[m->mentees[i]].p.id));
        cJSON_AddItemToObject(f, "attendees", att);
        cJSON_AddItemToObject(f, "guests", cJSON_CreateArray());
        if (p->n_prompts > 0)
            cJSON_AddStringToObject(f, "prompt", p->prompts[m->held % p->n_prompts]);
    }
    int rc = commit(e, f, x->depth, err);
    if (rc < 0)
        return rc;
    m = state_match(&e->state, id);
    return schedule_next_meeting(x, m, err);
}

static int sim_feedback(struct cmd_ctx *x, const struct match *m, struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    int n = m->n_mentors + m->n_mentees;
    for (int i = 0; i < n; i++) {
        const struct match *cur = state_match(&e->state, id);
        int who = i < cur->n_mentors ? cur->mentors[i] : cur->mentees[i - cur->n_mentors];
        cJSON *f = fact(e, "feedback");
        cJSON_AddNumberToObject(f, "match", (double)id);
        cJSON_AddStringToObject(f, "from", e->state.people[who].p.id);
        cJSON_AddNumberToObject(f, "rating", sim_rating(&e->sim, id, who, cur->reviews + 1));
        int rc = commit(e, f, x->depth, err);
        if (rc < 0)
            return rc;
    }
    /* Open goals move now and then. */
    for (int g = 0; g < e->state.n_goals; g++) {
        const struct goal *goal = &e->state.goals[g];
        if (goal->match != id || goal->phase != GOAL_SET)
            continue;
        int review = state_match(&e->state, id)->reviews + 1;
        if (!sim_goal_moves(&e->sim, goal->id, review))
            continue;
        bool done = sim_goal_achieved(&e->sim, goal->id, review);
        cJSON *f = fact(e, "goal");
        cJSON_AddNumberToObject(f, "match", (double)id);
        cJSON_AddNumberToObject(f, "goal", (double)goal->id);
        cJSON_AddStringToObject(f, "phase", done ? "achieved" : "progress");
        int rc = commit(e, f, x->depth, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int tick_review(struct cmd_ctx *x, struct match *m, struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    if (e->simulating) {
        int rc = sim_feedback(x, m, err);
        if (rc < 0)
            return rc;
        m = state_match(&e->state, id);
    }
    int open = 0, achieved = 0;
    for (int g = 0; g < e->state.n_goals; g++) {
        const struct goal *goal = &e->state.goals[g];
        if (goal->match == id) {
            open += goal->phase == GOAL_SET;
            achieved += goal->phase == GOAL_ACHIEVED;
        }
    }
    cJSON *f = fact(e, "review");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddNumberToObject(f, "n", m->reviews + 1);
    cJSON_AddNumberToObject(f, "meetings_held", m->held - m->held_at_review);
    cJSON_AddNumberToObject(f, "meetings_missed", m->missed - m->missed_at_review);
    cJSON_AddNumberToObject(f, "held_total", m->held);
    cJSON_AddNumberToObject(f, "missed_total", m->missed);
    cJSON_AddNumberToObject(f, "goals_open", open);
    cJSON_AddNumberToObject(f, "goals_achieved", achieved);
    if (m->feedback_n > 0)
        cJSON_AddNumberToObject(f, "feedback_avg", round(m->feedback_sum / m->feedback_n * 100) / 100);
    else
        cJSON_AddNullToObject(f, "feedback_avg");
    return commit(e, f, x->depth, err);
}

static int tick_reup(struct cmd_ctx *x, struct match *m, struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    cJSON *f = fact(e, "reup");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", "open");
    add_time(f, "term_ends", m->term_ends);
    int rc = commit(e, f, x->depth, err);
    if (rc < 0 || !e->simulating)
        return rc;   /* on a real clock the parties answer over the control socket */

    m = state_match(&e->state, id);
    cJSON *decisions = cJSON_CreateObject();
    int renew = 0, n = m->n_mentors + m->n_mentees;
    for (int i = 0; i < n; i++) {
        int who = i < m->n_mentors ? m->mentors[i] : m->mentees[i - m->n_mentors];
        bool yes = sim_renews(&e->sim, id, who, m->terms);
        renew += yes;
        cJSON_AddStringToObject(decisions, e->state.people[who].p.id, yes ? "renew" : "exit");
    }
    f = fact(e, "reup");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", "decided");
    cJSON_AddItemToObject(f, "decisions", decisions);
    cJSON_AddStringToObject(f, "outcome", renew == n ? "renew" : "close");
    if (renew == n)
        add_time(f, "term_ends", clock_add(m->term_ends, program_of(e, m)->term, 1));
    if ((rc = commit(e, f, x->depth, err)) < 0 || renew == n)
        return rc;
    /* Renew only when all renew; no one renewing is a completed term, a split a no-fault exit. */
    return close_match(x, state_match(&e->state, id), renew == 0 ? "completed" : "exited", NULL, err);
}

struct waiter { int person; tdm_time since; };

/* A proposed match approved starts its term now; a rejected one returns its mentees to the pool. */
static int tick_approval(struct cmd_ctx *x, struct match *m, struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    bool yes = sim_approves(&e->sim, id);
    cJSON *f = fact(e, "match");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", yes ? "approved" : "rejected");
    if (yes)
        add_time(f, "term_ends", clock_add(clock_now(&e->clock), program_of(e, m)->term, 1));
    int rc = commit(e, f, x->depth, err);
    if (rc < 0 || !yes)
        return rc;
    return schedule_next_meeting(x, state_match(&e->state, id), err);
}

static int cmp_waiter(const void *a, const void *b)
{
    const struct waiter *x = a, *y = b;
    if (x->since != y->since)
        return x->since < y->since ? -1 : 1;
    return x->person - y->person;
}

/* Checks a group the model proposed against what holds whatever the model says. */
static const char *group_invalid(struct engine *e, int sp, const struct rules_program *rp,
                                 const struct rules_group *g, const bool *taken)
{
    const struct state *s = &e->state;
    if (g->n_mentors < 1 || g->n_mentees < 1)
        return "a group needs at least one mentor and one mentee";
    for (int i = 0; i < g->n_mentors; i++)
        if (s->people[g->mentors[i]].left || state_enrollment(s, g->mentors[i], sp, ROLE_MENTOR) < 0)
            return "a mentor is not enrolled as a mentor";
    for (int j = 0; j < g->n_mentees; j++) {
        int p = g->mentees[j];
        if (s->people[p].left || state_enrollment(s, p, sp, ROLE_MENTEE) < 0)
            return "a mentee is not enrolled as a mentee";
        if (taken[p] || state_is_matched(s, p, sp))
            return "a mentee is matched already";
        for (int i = 0; i < g->n_mentors; i++) {
            if (g->mentors[i] == p)
                return "a person cannot mentor themselves";
            if (state_reporting_line(s, g->mentors[i], p))
                return "a mentor is in the mentee's reporting line";
            if (!rp->repeat_pairs && state_met(s, g->mentors[i], p, sp))
                return "this pair was matched before in this program";
        }
    }
    return NULL;
}

static int tick_match(struct cmd_ctx *x, int sp, struct error *err)
{
    struct engine *e = x->e;
    const struct state *s = &e->state;
    int rp_i = rules_prog(e, sp);
    if (rp_i < 0)
        return 0;   /* a program the rules in force no longer declare */
    const struct rules_program *rp = &e->rules->programs[rp_i];
    int *mentors = malloc((size_t)(s->n_enrollments + 1) * sizeof *mentors);
    struct waiter *pool = malloc((size_t)(s->n_enrollments + 1) * sizeof *pool);
    int nm = 0, ne = 0;
    if (!mentors || !pool) {
        free(mentors);
        free(pool);
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    }
    for (int i = 0; i < s->n_enrollments; i++) {
        const struct enrollment *en = &s->enrollments[i];
        if (en->program != sp || s->people[en->person].left)
            continue;
        if (en->role == ROLE_MENTOR)
            mentors[nm++] = en->person;
        else if (en->role == ROLE_MENTEE && !state_is_matched(s, en->person, sp))
            pool[ne++] = (struct waiter){ en->person, en->waiting_since };
    }
    /* Longest waiting first: models and the solver see the pool in that order. */
    qsort(pool, (size_t)ne, sizeof *pool, cmp_waiter);
    int *mentees = malloc((size_t)(ne + 1) * sizeof *mentees);
    for (int i = 0; mentees && i < ne; i++)
        mentees[i] = pool[i].person;
    free(pool);
    int rc = 0;
    if (nm > 0 && ne > 0 && mentees) {
        struct rules_group *groups;
        int ng;
        struct error merr = { 0 };
        rules_context(e);
        if (rules_match(e->rules, rp_i, mentors, nm, mentees, ne, &groups, &ng, &merr) < 0) {
            char where[320] = "";
            if (merr.file[0])
                snprintf(where, sizeof where, "%s:%d", merr.file, merr.line);
            else
                snprintf(where, sizeof where, "%s", rp->where);
            rc = rule_error(e, where, 0, merr.msg, x->depth, err);
        } else {
            bool *taken = calloc((size_t)s->n_people + 1, sizeof *taken);
            for (int g = 0; g < ng && rc == 0 && taken; g++) {
                const char *bad = group_invalid(e, sp, rp, &groups[g], taken);
                if (bad) {
                    char msg[256];
                    snprintf(msg, sizeof msg, "model %s: group %d refused: %s", rp->def.model, g + 1, bad);
                    rc = rule_error(e, rp->where, 0, msg, x->depth, err);
                    continue;
                }
                for (int j = 0; j < groups[g].n_mentees; j++)
                    taken[groups[g].mentees[j]] = true;
                const struct program *p = &e->state.programs[sp];
                tdm_time now = clock_now(&e->clock);
                cJSON *f = fact(e, "match");
                long long id = e->state.n_matches + 1;
                cJSON_AddNumberToObject(f, "match", (double)id);
                cJSON_AddStringToObject(f, "phase", p->approve ? "proposed" : "active");
                cJSON_AddStringToObject(f, "program", p->name);
                cJSON_AddStringToObject(f, "model", p->model);
                cJSON_AddItemToObject(f, "mentors", id_list(s, groups[g].mentors, groups[g].n_mentors));
                cJSON_AddItemToObject(f, "mentees", id_list(s, groups[g].mentees, groups[g].n_mentees));
                cJSON_AddNumberToObject(f, "score", groups[g].score);
                cJSON_AddItemToObject(f, "why", groups[g].why ? cJSON_Duplicate(groups[g].why, 1)
                                                              : cJSON_CreateObject());
                add_time(f, "term_ends", clock_add(now, p->term, 1));
                if ((rc = commit(e, f, x->depth, err)) < 0)
                    break;
                if (!p->approve)
                    rc = schedule_next_meeting(x, state_match(&e->state, id), err);
            }
            free(taken);
            rules_groups_free(groups, ng);
        }
    }
    free(mentors);
    free(mentees);
    return rc;
}

/* A due item still due? Items are pushed freely and checked against the state when popped. */
static bool due_current(struct engine *e, const struct due *d)
{
    if (d->kind == DUE_MATCH)
        return d->key < e->n_ticks && e->next_tick[d->key] == d->when;
    const struct match *m = state_match(&e->state, d->key);
    if (d->kind == DUE_APPROVAL)
        return m && m->phase == MATCH_PROPOSED && approval_due(m) == d->when;
    if (!m || m->phase != MATCH_ACTIVE)
        return false;
    switch (d->kind) {
    case DUE_MEETING: return m->next_meeting == d->when;
    case DUE_REVIEW: return review_due(e, m) == d->when && d->when <= m->term_ends;
    case DUE_REUP: return !m->reup_open && m->term_ends == d->when;
    }
    return false;
}

static int exec(struct engine *e, const cJSON *c, int depth, const char *rule, struct error *err)
{
    struct cmd_ctx x = { e, depth, rule };
    const char *name = cstr(c, "cmd");
    if (!name)
        return refuse(err, "a command needs \"cmd\"%s", "");
    if (strcmp(name, "person.add") == 0) return cmd_person_add(&x, c, err);
    if (strcmp(name, "flag") == 0) return cmd_flag(&x, c, err);
    if (strcmp(name, "note") == 0) return cmd_note(&x, c, err);
    if (strcmp(name, "close") == 0) return cmd_close(&x, c, err);
    if (strcmp(name, "goal.set") == 0) return cmd_goal_set(&x, c, err);
    return refuse(err, "unknown command \"%s\"", name);
}

static int fire_due(struct engine *e, const struct due *d, struct error *err)
{
    struct cmd_ctx x = { e, 0, NULL };
    if (d->kind == DUE_MATCH) {
        int sp = (int)d->key;
        e->tick_n[sp]++;
        e->next_tick[sp] = clock_add(e->state.epoch, e->state.programs[sp].match_every, e->tick_n[sp]);
        schedule_push(e->due, (struct due){ e->next_tick[sp], DUE_MATCH, sp });
        return tick_match(&x, sp, err);
    }
    struct match *m = state_match(&e->state, d->key);
    switch (d->kind) {
    case DUE_APPROVAL: return tick_approval(&x, m, err);
    case DUE_MEETING: return tick_meeting(&x, m, err);
    case DUE_REVIEW: return tick_review(&x, m, err);
    case DUE_REUP: return tick_reup(&x, m, err);
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
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(d->event, "seq");
        d->rc = rule_error(d->e, where, (long long)seq->valuedouble, message, d->depth + 1, d->err);
        return;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, actions)
        cJSON_AddItemToArray(d->actions, cJSON_Duplicate(a, 1));
}

static int event_program(const struct engine *e, const cJSON *ev)
{
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(ev, "match");
    if (cJSON_IsNumber(mid)) {
        const struct match *m = state_match(&e->state, (long long)mid->valuedouble);
        return m ? rules_prog(e, m->program) : -1;
    }
    const cJSON *prog = cJSON_GetObjectItemCaseSensitive(ev, "program");
    return cJSON_IsString(prog) ? rules_prog(e, state_program(&e->state, prog->valuestring)) : -1;
}

static int drain(struct engine *e, cJSON *facts, struct error *err)
{
    while (e->q_len > 0) {
        struct pending_event pe = e->queue[e->q_head++];
        e->q_len--;
        if (e->q_len == 0)
            e->q_head = 0;
        if (facts)
            cJSON_AddItemToArray(facts, cJSON_Duplicate(pe.event, 1));
        const char *type = cJSON_GetObjectItemCaseSensitive(pe.event, "type")->valuestring;
        int rc = 0;
        if (e->rules && strcmp(type, "rules") != 0 && strcmp(type, "rule.error") != 0) {
            int prog = event_program(e, pe.event);
            if (rules_listens(e->rules, type, prog)) {
                struct dispatch_ctx d = { e, pe.event, pe.depth, cJSON_CreateArray(), 0, err };
                rules_context(e);
                rules_dispatch(e->rules, pe.event, prog, on_handler_done, &d);
                rc = d.rc;
                long long cause = (long long)cJSON_GetObjectItemCaseSensitive(pe.event, "seq")->valuedouble;
                const cJSON *a;
                cJSON_ArrayForEach(a, d.actions) {
                    if (rc < 0)
                        break;
                    const char *rule = cstr(a, "rule");
                    if (pe.depth + 1 > ENGINE_MAX_DEPTH) {
                        rc = rule_error(e, rule, cause, "cascade deeper than 8 levels: action dropped",
                                        pe.depth + 1, err);
                        continue;
                    }
                    struct error aerr = { 0 };
                    int arc = exec(e, a, pe.depth + 1, rule, &aerr);
                    if (arc == ERR_INPUT)
                        rc = rule_error(e, rule, cause, aerr.msg, pe.depth + 1, err);
                    else if (arc < 0) {
                        *err = aerr;
                        rc = arc;
                    }
                }
                cJSON_Delete(d.actions);
            }
        }
        cJSON_Delete(pe.event);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int finish(struct engine *e, int rc, cJSON *facts, struct error *err)
{
    if (rc == 0)
        rc = drain(e, facts, err);
    if (rc == ERR_INPUT && e->q_len == 0 && journal_last_seq(e->journal) == e->state.seq) {
        /* Refused before any fact: nothing to undo. */
        return rc;
    }
    int crc = journal_commit(e->journal, e->sync, err);
    return rc < 0 ? rc : crc;
}

int engine_submit(struct engine *e, const cJSON *cmd, cJSON *facts, struct error *err)
{
    return finish(e, exec(e, cmd, 0, NULL, err), facts, err);
}

int engine_advance(struct engine *e, tdm_time until, engine_progress_fn progress, void *ctx, struct error *err)
{
    if (ensure_ticks(e) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    struct due d;
    long long fired = 0;
    while (schedule_peek(e->due, &d) && d.when <= until) {
        schedule_pop(e->due, &d);
        if (!due_current(e, &d))
            continue;
        if (d.when > clock_now(&e->clock))
            clock_advance(&e->clock, d.when);
        int rc = finish(e, fire_due(e, &d, err), NULL, err);
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
    return journal_commit(e->journal, e->sync == JOURNAL_SYNC_OFF ? JOURNAL_SYNC_ALWAYS : e->sync, err);
}

/* ---- rules and people ---- */

int engine_use_rules(struct engine *e, struct rules *r, struct error *err)
{
    bool reload = e->rules != NULL;
    cJSON *f = fact(e, "rules");
    cJSON_AddStringToObject(f, "phase", reload ? "reloaded" : "loaded");
    cJSON_AddStringToObject(f, "file", r->path);
    cJSON_AddStringToObject(f, "sha256", r->sha256);
    cJSON_AddStringToObject(f, "clock", e->simulating ? "virtual" : "real");
    cJSON *pr = cJSON_AddArrayToObject(f, "priorities");
    for (int i = 0; i < r->n_priorities; i++)
        cJSON_AddItemToArray(pr, cJSON_CreateString(r->priorities[i]));
    cJSON_AddItemToObject(f, "programs", rules_programs_json(r));
    rules_free(e->rules);
    e->rules = r;
    e->sim.p = r->sim;
    int rc = commit(e, f, 0, err);
    if (rc == 0 && ensure_ticks(e) < 0)
        rc = error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    struct cmd_ctx x = { e, 0, NULL };
    for (int p = 0; rc == 0 && p < e->state.n_people; p++)
        rc = enroll_person(&x, p, e->state.seq, err);
    return finish(e, rc, NULL, err);
}

struct import_ctx {
    struct engine *e;
    int rc;
    struct error *err;
    FILE *errors;
    const char *path;
    int refused_here;
};

static int import_row(void *ctx, struct person *p, int line)
{
    struct import_ctx *ic = ctx;
    cJSON *cmd = cJSON_CreateObject();
    cJSON_AddStringToObject(cmd, "cmd", "person.add");
    cJSON_AddItemToObject(cmd, "person", person_to_json(p));
    person_free(p);
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
    snprintf(e->path, sizeof e->path, "%s/events.jsonl", o->state_dir);
    if (!(e->due = schedule_new()))
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    int rc = journal_open(e->path, o->simulate, e->diag, &e->journal, err);
    if (rc < 0)
        return rc;
    if (o->simulate) {
        clock_init_virtual(&e->clock, o->start);
        return 0;
    }
    clock_init_real(&e->clock);
    if ((rc = engine_replay(e->path, &e->state, e->diag, err)) < 0)
        return rc;
    if (ensure_ticks(e) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    for (int i = 0; i < e->state.n_matches; i++)
        schedule_match(e, &e->state.matches[i]);
    return 0;
}

void engine_close(struct engine *e)
{
    while (e->q_len > 0) {
        cJSON_Delete(e->queue[e->q_head++].event);
        e->q_len--;
    }
    free(e->queue);
    if (e->journal)
        journal_close(e->journal);
    rules_free(e->rules);
    schedule_free(e->due);
    free(e->next_tick);
    free(e->tick_n);
    state_free(&e->state);
    memset(e, 0, sizeof *e);
}
