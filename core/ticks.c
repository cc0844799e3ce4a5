/* ticks: what falls due on the schedule — matching ticks, meetings, reviews, re-ups and
 * approvals. In simulate the behaviour model answers for people; on a real clock the
 * parties answer over the control socket and ticks only open the moment. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "tzone.h"

/* The time zones of a match's parties, in party order (NULL where none is known). */
static int match_zones(const struct state *s, const struct match *m, const char **zones, int max)
{
    int n = 0;
    for (int i = 0; i < m->n_mentors + m->n_mentees && n < max; i++)
        zones[n++] = s->people[i < m->n_mentors ? m->mentors[i] : m->mentees[i - m->n_mentors]].p.timezone;
    return n;
}

/* The cadence gives the day; the meeting is placed at the first half hour from then that lies
 * inside every party's working hours on a weekday in their own time zone. 0: no such time
 * within two weeks (clocks changed since the match, or no common hour at all). */
static tdm_time place_meeting(struct engine *e, const struct match *m, tdm_time nominal)
{
    const struct lifecycle *l = &engine_program_of(e, m)->life;
    const char *zones[64];
    int n = match_zones(&e->state, m, zones, 64);
    return tz_place(zones, n, nominal, l->hours_from, l->hours_to, (int)l->meeting_length.seconds);
}

int ticks_schedule_meeting(struct cmd_ctx *x, const struct match *m, struct error *err)
{
    struct engine *e = x->e;
    const struct program *p = engine_program_of(e, m);
    cJSON *f = engine_fact(e, "meeting");
    cJSON_AddNumberToObject(f, "match", (double)m->id);
    cJSON_AddStringToObject(f, "phase", "scheduled");
    tdm_time nominal = clock_add(m->started, p->cadence, m->meeting_n + 1), at = place_meeting(e, m, nominal);
    engine_add_time(f, "at", at ? at : nominal);
    if (!at)
        cJSON_AddTrueToObject(f, "outside_hours");   /* kept on the cadence, said plainly */
    if (p->n_prompts > 0)   /* the program's prompts in turn; a rule may choose another (tandem.prompt) */
        cJSON_AddStringToObject(f, "prompt", p->prompts[m->meeting_n % p->n_prompts]);
    return engine_commit(e, f, x->depth, err);
}

static cJSON *id_list(const struct state *s, const int *idx, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s->people[idx[i]].p.id));
    return a;
}

/* Resolves the scheduled meeting as held, missed or cancelled, then schedules the next. */
int ticks_meeting_outcome(struct cmd_ctx *x, struct match *m, const char *phase, struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    bool held = strcmp(phase, "held") == 0;
    cJSON *f = engine_fact(e, "meeting");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", phase);
    engine_add_time(f, "at", m->next_meeting);
    if (held) {
        cJSON *att = id_list(&e->state, m->mentors, m->n_mentors);
        for (int i = 0; i < m->n_mentees; i++)
            cJSON_AddItemToArray(att, cJSON_CreateString(e->state.people[m->mentees[i]].p.id));
        cJSON_AddItemToObject(f, "attendees", att);
        cJSON_AddItemToObject(f, "guests", id_list(&e->state, m->guests, m->n_guests));
    }
    if (m->life.prompt)
        cJSON_AddStringToObject(f, "prompt", m->life.prompt);
    int rc = engine_commit(e, f, x->depth, err);
    if (rc < 0)
        return rc;
    return ticks_schedule_meeting(x, state_match(&e->state, id), err);
}

static int tick_meeting(struct cmd_ctx *x, struct match *m, struct error *err)
{
    struct engine *e = x->e;
    if (!e->simulating)
        return 0;   /* on a real clock, people report meetings over the control socket */
    bool held = sim_meeting_held(&e->sim, m->id, m->meeting_n);
    return ticks_meeting_outcome(x, m, held ? "held" : "missed", err);
}

static int sim_feedback(struct cmd_ctx *x, const struct match *m, struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    int n = m->n_mentors + m->n_mentees;
    for (int i = 0; i < n; i++) {
        const struct match *cur = state_match(&e->state, id);
        int who = i < cur->n_mentors ? cur->mentors[i] : cur->mentees[i - cur->n_mentors];
        cJSON *f = engine_fact(e, "feedback");
        cJSON_AddNumberToObject(f, "match", (double)id);
        cJSON_AddStringToObject(f, "from", e->state.people[who].p.id);
        cJSON_AddNumberToObject(f, "rating", sim_rating(&e->sim, id, who, cur->reviews + 1));
        int rc = engine_commit(e, f, x->depth, err);
        if (rc < 0)
            return rc;
    }
    /* Open goals move now and then. */
    const struct idlist *ids = &state_match(&e->state, id)->goals;
    for (int k = 0; k < ids->n; k++) {
        const struct goal *goal = &e->state.goals[ids->v[k] - 1];
        if (goal->phase != GOAL_SET)
            continue;
        int review = state_match(&e->state, id)->reviews + 1;
        if (!sim_goal_moves(&e->sim, goal->id, review))
            continue;
        bool done = sim_goal_achieved(&e->sim, goal->id, review);
        cJSON *f = engine_fact(e, "goal");
        cJSON_AddNumberToObject(f, "match", (double)id);
        cJSON_AddNumberToObject(f, "goal", (double)goal->id);
        cJSON_AddStringToObject(f, "phase", done ? "achieved" : "progress");
        int rc = engine_commit(e, f, x->depth, err);
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
    for (int k = 0; k < m->goals.n; k++) {
        const struct goal *goal = &e->state.goals[m->goals.v[k] - 1];
        open += goal->phase == GOAL_SET;
        achieved += goal->phase == GOAL_ACHIEVED;
    }
    cJSON *f = engine_fact(e, "review");
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
    /* The trend: this period's ratings against the last period that had any; goals that did
     * not move although some are open. */
    const struct match_life *l = &m->life;
    cJSON *trend = cJSON_AddObjectToObject(f, "trend");
    int n_now = m->feedback_n - l->feedback_n_at_review;
    if (n_now > 0 && l->last_period_rating >= 0) {
        double now = (m->feedback_sum - l->feedback_sum_at_review) / n_now;
        cJSON_AddStringToObject(trend, "ratings", now <= l->last_period_rating - 0.5   ? "falling"
                                                  : now >= l->last_period_rating + 0.5 ? "rising"
                                                                                      : "steady");
    } else {
        cJSON_AddNullToObject(trend, "ratings");
    }
    bool goals_stalled = open > 0 && l->goal_steps == l->goal_steps_at_review;
    if (open > 0 || l->goal_steps > l->goal_steps_at_review)
        cJSON_AddStringToObject(trend, "goals", goals_stalled ? "stalled" : "moving");
    else
        cJSON_AddNullToObject(trend, "goals");
    int rc = engine_commit(e, f, x->depth, err);
    if (rc < 0 || !goals_stalled)
        return rc;
    return ticks_signal(x, id, "goals_stalled", err);   /* no goal progress in a review period */
}

static int tick_reup(struct cmd_ctx *x, struct match *m, struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    if (engine_program_of(e, m)->rotate)
        return commands_close_match(x, m, "rotated", NULL, err);     /* on to the next mentor */
    if (!engine_program_of(e, m)->reup)
        return commands_close_match(x, m, "completed", NULL, err);   /* a program without re-ups */
    cJSON *f = engine_fact(e, "reup");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", "open");
    engine_add_time(f, "term_ends", m->term_ends);
    return engine_commit(e, f, x->depth, err);   /* answers come until term_ends (ticks_life.c) */
}

/* Renew only when all renew; no one renewing is a completed term, a split a no-fault exit. */
int ticks_reup_decide(struct cmd_ctx *x, long long id, cJSON *decisions, cJSON *defaulted, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = state_match(&e->state, id);
    int renew = 0, n = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, decisions) {
        n++;
        renew += cJSON_IsString(d) && strcmp(d->valuestring, "renew") == 0;
    }
    cJSON *f = engine_fact(e, "reup");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", "decided");
    cJSON_AddItemToObject(f, "decisions", decisions);
    if (defaulted)   /* who never answered: the program's reup_default chose for them */
        cJSON_AddItemToObject(f, "defaulted", defaulted);
    cJSON_AddStringToObject(f, "outcome", renew == n ? "renew" : "close");
    if (renew == n)
        engine_add_time(f, "term_ends", clock_add(m->term_ends, engine_program_of(e, m)->term, 1));
    int rc = engine_commit(e, f, x->depth, err);
    if (rc < 0 || renew == n)
        return rc;
    return commands_close_match(x, state_match(&e->state, id), renew == 0 ? "completed" : "exited", NULL, err);
}

struct waiter { int person; tdm_time since; };

/* A proposed match approved starts its term now; a rejected one returns its mentees to the pool. */
int ticks_answer_proposal(struct cmd_ctx *x, struct match *m, bool yes, struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    cJSON *f = engine_fact(e, "match");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", yes ? "approved" : "rejected");
    if (yes)
        engine_add_time(f, "term_ends", clock_add(clock_now(&e->clock), engine_program_of(e, m)->term, 1));
    int rc = engine_commit(e, f, x->depth, err);
    if (rc < 0 || !yes || state_match(&e->state, id)->life.acks)
        return rc;   /* with acknowledgements to come, the first meeting waits for them */
    return ticks_schedule_meeting(x, state_match(&e->state, id), err);
}

static int tick_approval(struct cmd_ctx *x, struct match *m, struct error *err)
{
    return ticks_answer_proposal(x, m, sim_approves(&x->e->sim, m->id), err);
}

static int cmp_waiter(const void *a, const void *b)
{
    const struct waiter *x = a, *y = b;
    if (x->since != y->since)
        return x->since < y->since ? -1 : 1;
    return x->person - y->person;
}

/* Whether a and b live further apart than the program's max_tz_gap allows. */
static bool tz_too_far(struct engine *e, int sp, int a, int b)
{
    int cap = e->state.programs[sp].life.max_tz_gap;
    const char *zones[2] = { e->state.people[a].p.timezone, e->state.people[b].p.timezone };
    return cap >= 0 && tz_gap(zones, 2, clock_now(&e->clock)) > cap * 3600;
}

/* Checks a group the model proposed against what holds whatever the model says. */
const char *ticks_group_invalid(struct engine *e, int sp, const struct rules_program *rp,
                                 const struct rules_group *g, const bool *taken)
{
    const struct state *s = &e->state;
    bool one_pool = rp->role_mentor < 0;
    if (one_pool ? g->n_mentors != 0 || g->n_mentees < 2 : g->n_mentors < 1 || g->n_mentees < 1)
        return one_pool ? "a group of peers needs two or more people and no mentor"
                        : "a group needs at least one mentor and one mentee";
    for (int i = 0; i < g->n_mentors; i++)
        if (s->people[g->mentors[i]].left ||
            state_enrollment(s, g->mentors[i], sp, (enum role)rp->role_mentor) < 0)
            return "a mentor is not enrolled on the mentor side";
    for (int j = 0; j < g->n_mentees; j++) {
        int p = g->mentees[j];
        if (s->people[p].left || state_enrollment(s, p, sp, (enum role)rp->role_mentee) < 0)
            return "a mentee is not enrolled on the mentee side";
        if ((taken && taken[p]) || state_is_matched(s, p, sp))
            return "a mentee is matched already";
        for (int i = 0; i < g->n_mentors; i++) {
            if (g->mentors[i] == p)
                return "a person cannot mentor themselves";
            if (state_reporting_line(s, g->mentors[i], p))
                return "a mentor is in the mentee's reporting line";
            if (!rp->repeat_pairs && state_met(s, g->mentors[i], p, sp))
                return "this pair was matched before in this program";
            if (tz_too_far(e, sp, g->mentors[i], p))
                return "the pair's time zones are further apart than max_tz_gap";
        }
        /* Peers are each other's mentor: the same exclusions hold between them. */
        for (int k = 0; one_pool && k < j; k++) {
            if (g->mentees[k] == p)
                return "a person appears twice in a group";
            if (state_reporting_line(s, g->mentees[k], p))
                return "one peer is in the other's reporting line";
            if (!rp->repeat_pairs && state_met(s, g->mentees[k], p, sp))
                return "these peers were matched before in this program";
            if (tz_too_far(e, sp, g->mentees[k], p))
                return "the peers' time zones are further apart than max_tz_gap";
        }
    }
    return NULL;
}

/* Records a group as a match of state program sp (proposed when the program wants approval,
 * else active with its first meeting scheduled). The group must have passed ticks_group_invalid. */
int ticks_make_match(struct cmd_ctx *x, int sp, const struct rules_group *g, struct error *err)
{
    struct engine *e = x->e;
    const struct state *s = &e->state;
    const struct program *p = &s->programs[sp];
    cJSON *f = engine_fact(e, "match");
    long long id = s->n_matches + 1;
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", p->approve ? "proposed" : "active");
    cJSON_AddStringToObject(f, "program", p->name);
    cJSON_AddStringToObject(f, "model", p->model);
    cJSON_AddItemToObject(f, "mentors", id_list(s, g->mentors, g->n_mentors));
    cJSON_AddItemToObject(f, "mentees", id_list(s, g->mentees, g->n_mentees));
    cJSON_AddNumberToObject(f, "score", g->score);
    cJSON_AddItemToObject(f, "why", g->why ? cJSON_Duplicate(g->why, 1) : cJSON_CreateObject());
    engine_add_time(f, "term_ends", clock_add(clock_now(&e->clock), p->term, 1));
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    /* What the program expects of both sides, for the match's first conversation. */
    if (p->life.expectations)
        cJSON_AddStringToObject(f, "expectations", p->life.expectations);
    if (p->life.n_training > 0) {
        cJSON *t = cJSON_AddArrayToObject(f, "training");
        for (int i = 0; i < p->life.n_training; i++)
            cJSON_AddItemToArray(t, cJSON_CreateString(p->life.training[i]));
    }
    if (p->life.acknowledge)
        cJSON_AddTrueToObject(f, "acknowledge");
    bool approve = p->approve, acks = p->life.acknowledge;
    int rc = engine_commit(e, f, x->depth, err);
    if (rc < 0)
        return rc;
    /* Parties who share no working hour are flagged now: their meetings keep the cadence's
     * time (max_tz_gap keeps such pairs from being matched at all). */
    const struct match *m = state_match(&e->state, id);
    const struct lifecycle *l = &engine_program_of(e, m)->life;
    const char *zones[64];
    int nz = match_zones(&e->state, m, zones, 64);
    if (!tz_place(zones, nz, clock_now(&e->clock), l->hours_from, l->hours_to, (int)l->meeting_length.seconds) &&
        (rc = ticks_signal(x, id, "no_overlap", err)) < 0)
        return rc;
    if (approve || acks)
        return 0;   /* the first meeting waits for the approval, or the acknowledgements */
    return ticks_schedule_meeting(x, state_match(&e->state, id), err);
}

static int tick_match(struct cmd_ctx *x, int sp, struct error *err)
{
    struct engine *e = x->e;
    const struct state *s = &e->state;
    int rp_i = engine_rules_prog(e, sp);
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
        if ((int)en->role == rp->role_mentor)
            mentors[nm++] = en->person;
        else if ((int)en->role == rp->role_mentee && !state_is_matched(s, en->person, sp) &&
                 !state_open_request(s, en->person, sp))   /* who asked a mentor waits for the answer */
            pool[ne++] = (struct waiter){ en->person, en->waiting_since };
    }
    /* Longest waiting first: models and the solver see the pool in that order. */
    qsort(pool, (size_t)ne, sizeof *pool, cmp_waiter);
    int *mentees = malloc((size_t)(ne + 1) * sizeof *mentees);
    for (int i = 0; mentees && i < ne; i++)
        mentees[i] = pool[i].person;
    free(pool);
    int rc = 0;
    bool one_pool = rp->role_mentor < 0;
    if ((one_pool ? ne >= 2 : nm > 0 && ne > 0) && mentees) {
        struct rules_group *groups;
        int ng;
        struct error merr = { 0 };
        engine_rules_context(e);
        if (rules_match(e->rules, rp_i, mentors, nm, mentees, ne, &groups, &ng, &merr) < 0) {
            char where[320] = "";
            if (merr.file[0])
                snprintf(where, sizeof where, "%s:%d", merr.file, merr.line);
            else
                snprintf(where, sizeof where, "%s", rp->where);
            rc = engine_rule_error(e, where, 0, merr.msg, x->depth, err);
        } else {
            bool *taken = calloc((size_t)s->n_people + 1, sizeof *taken);
            for (int g = 0; g < ng && rc == 0 && taken; g++) {
                const char *bad = ticks_group_invalid(e, sp, rp, &groups[g], taken);
                if (bad) {
                    char msg[256];
                    snprintf(msg, sizeof msg, "model %s: group %d refused: %s", rp->def.model, g + 1, bad);
                    rc = engine_rule_error(e, rp->where, 0, msg, x->depth, err);
                    continue;
                }
                for (int j = 0; j < groups[g].n_mentees; j++)
                    taken[groups[g].mentees[j]] = true;
                rc = ticks_make_match(x, sp, &groups[g], err);
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
bool ticks_current(struct engine *e, const struct due *d)
{
    if (d->kind == DUE_MATCH)
        return d->key < e->n_ticks && e->next_tick[d->key] == d->when;
    if (d->kind == DUE_REQUEST) {
        const struct request *r = state_request(&e->state, d->key);
        return r && ticks_request_due(e, r) == d->when;
    }
    const struct match *m = state_match(&e->state, d->key);
    return m && ticks_due(e, m, d->kind) == d->when;
}

int ticks_fire(struct engine *e, const struct due *d, struct error *err)
{
    struct cmd_ctx x = { e, 0, NULL };
    if (d->kind == DUE_MATCH) {
        int sp = (int)d->key;
        e->tick_n[sp]++;
        e->next_tick[sp] = clock_add(e->state.programs[sp].since, e->state.programs[sp].match_every, e->tick_n[sp]);
        schedule_push(e->due, (struct due){ e->next_tick[sp], DUE_MATCH, sp });
        return tick_match(&x, sp, err);
    }
    if (d->kind == DUE_REQUEST)
        return ticks_request_fire(&x, state_request(&e->state, d->key), err);
    struct match *m = state_match(&e->state, d->key);
    switch (d->kind) {
    case DUE_APPROVAL: return tick_approval(&x, m, err);
    case DUE_MEETING: return tick_meeting(&x, m, err);
    case DUE_REVIEW: return tick_review(&x, m, err);
    case DUE_REUP: return tick_reup(&x, m, err);
    default: return ticks_life_fire(&x, m, d->kind, err);
    }
}
