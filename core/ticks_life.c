/* ticks_life: what keeps relationships from stagnating, on the schedule — acknowledgements
 * (simulated), check-ins, goals_within, the stagnation signals (no meeting held in two
 * cadences, no activity for stalled_after), the end of a re-up window with its defaults,
 * and mentees' requests moving on when a mentor does not answer. */
#include <string.h>

#include "engine_internal.h"

/* Placing meetings inside working days may move one up to three days past its cadence
 * (a Friday evening start goes to Monday morning): the no-meeting signal waits that long. */
#define IDLE_GRACE (3 * 86400LL)

static bool zero(struct duration d)
{
    return d.months == 0 && d.seconds == 0;
}

static int parties(const struct match *m)
{
    return m->n_mentors + m->n_mentees;
}

static int party(const struct match *m, int i)
{
    return i < m->n_mentors ? m->mentors[i] : m->mentees[i - m->n_mentors];
}

tdm_time ticks_due(const struct engine *e, const struct match *m, int k)
{
    const struct program *p = &e->state.programs[m->program];
    const struct lifecycle *l = &p->life;
    if (k == DUE_APPROVAL)   /* in simulate the program's admin answers the next day */
        return m->phase == MATCH_PROPOSED && e->simulating ? m->started + 86400 : 0;
    if (m->phase != MATCH_ACTIVE)
        return 0;
    tdm_time t;
    switch (k) {
    case DUE_MEETING:
        return m->next_meeting;
    case DUE_ACK:   /* simulated parties acknowledge a day after the start */
        return e->simulating && m->life.acks && m->life.acked < parties(m) ? m->started + 86400 : 0;
    case DUE_REVIEW:
        t = clock_add(m->started, p->review_every, m->reviews + 1);
        return t <= m->term_ends ? t : 0;
    case DUE_CHECKIN:
        return m->life.checkins < l->n_checkins ? clock_add(m->started, l->checkins[m->life.checkins], 1) : 0;
    case DUE_GOALS:
        return zero(l->goals_within) || m->life.goals_flagged || m->goals.n > 0
                   ? 0 : clock_add(m->started, l->goals_within, 1);
    case DUE_IDLE:
        return m->life.idle_flagged ? 0 : clock_add(m->life.last_held, p->cadence, 2) + IDLE_GRACE;
    case DUE_STALLED:
        return zero(l->stalled_after) || m->life.stalled_flagged
                   ? 0 : clock_add(m->life.last_activity, l->stalled_after, 1);
    case DUE_REUP:
        if (m->reup_open)
            return 0;
        if (!p->reup || p->rotate)
            return m->term_ends;
        /* The window opens reup_window before the term ends, but never in its first half. */
        t = clock_add(m->term_ends, l->reup_window, -1);
        return t > m->started + (m->term_ends - m->started) / 2 ? t : m->started + (m->term_ends - m->started) / 2;
    case DUE_REUP_END:
        return m->reup_open ? m->term_ends : 0;
    }
    return 0;
}

int ticks_signal(struct cmd_ctx *x, long long match, const char *reason, struct error *err)
{
    cJSON *f = engine_fact(x->e, "flag");
    cJSON_AddNumberToObject(f, "match", (double)match);
    cJSON_AddStringToObject(f, "reason", reason);
    cJSON_AddTrueToObject(f, "signal");
    return engine_commit(x->e, f, x->depth, err);
}

/* The first meeting waits for every acknowledgement the match asks for. */
int ticks_after_ack(struct cmd_ctx *x, long long id, struct error *err)
{
    const struct match *m = state_match(&x->e->state, id);
    if (m->life.acked < parties(m) || m->next_meeting || m->meeting_n > 0)
        return 0;
    return ticks_schedule_meeting(x, m, err);
}

static int sim_acks_fire(struct cmd_ctx *x, struct match *m, struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    for (int i = 0; i < parties(m); i++) {
        m = state_match(&e->state, id);
        if (m->life.acks[i] || !sim_acks(&e->sim, id, i))
            continue;
        cJSON *f = engine_fact(e, "ack");
        cJSON_AddNumberToObject(f, "match", (double)id);
        cJSON_AddStringToObject(f, "person", e->state.people[party(m, i)].p.id);
        int rc = engine_commit(e, f, x->depth, err);
        if (rc < 0)
            return rc;
    }
    return ticks_after_ack(x, id, err);
}

static int checkin_fire(struct cmd_ctx *x, struct match *m, struct error *err)
{
    const struct lifecycle *l = &engine_program_of(x->e, m)->life;
    char after[32];
    duration_format(l->checkins[m->life.checkins], after, sizeof after);
    cJSON *f = engine_fact(x->e, "checkin");
    cJSON_AddNumberToObject(f, "match", (double)m->id);
    cJSON_AddNumberToObject(f, "n", m->life.checkins + 1);
    cJSON_AddStringToObject(f, "after", after);
    return engine_commit(x->e, f, x->depth, err);
}

/* The window closes at term end: a party who never answered chose the program's reup_default
 * (in simulate, most parties answer first, as the behaviour model draws). */
static int reup_end_fire(struct cmd_ctx *x, struct match *m, struct error *err)
{
    struct engine *e = x->e;
    const char *fallback = engine_program_of(e, m)->life.reup_default == REUP_DEFAULT_RENEW ? "renew" : "exit";
    cJSON *decisions = cJSON_CreateObject(), *defaulted = cJSON_CreateArray();
    for (int i = 0; i < parties(m); i++) {
        const char *id = e->state.people[party(m, i)].p.id;
        if (m->answers && m->answers[i]) {
            cJSON_AddStringToObject(decisions, id, m->answers[i] == 1 ? "renew" : "exit");
        } else if (e->simulating && sim_answers_reup(&e->sim, m->id, i, m->terms)) {
            cJSON_AddStringToObject(decisions, id, sim_renews(&e->sim, m->id, i, m->terms) ? "renew" : "exit");
        } else {
            cJSON_AddStringToObject(decisions, id, fallback);
            cJSON_AddItemToArray(defaulted, cJSON_CreateString(id));
        }
    }
    return ticks_reup_decide(x, m->id, decisions, defaulted, err);
}

int ticks_life_fire(struct cmd_ctx *x, struct match *m, int kind, struct error *err)
{
    switch (kind) {
    case DUE_ACK: return sim_acks_fire(x, m, err);
    case DUE_CHECKIN: return checkin_fire(x, m, err);
    case DUE_GOALS: return ticks_signal(x, m->id, "no_goals", err);
    case DUE_IDLE: return ticks_signal(x, m->id, "no_meetings", err);
    case DUE_STALLED:
        if (engine_program_of(x->e, m)->life.on_stalled == STALLED_FLAG)
            return ticks_signal(x, m->id, "stalled", err);
        return commands_close_match(x, m, "stalled", NULL, err);
    case DUE_REUP_END: return reup_end_fire(x, m, err);
    }
    return 0;
}

/* ---- requests ---- */

static tdm_time request_deadline(const struct engine *e, const struct request *r)
{
    return clock_add(r->asked_at, e->state.programs[r->program].life.respond_within, 1);
}

tdm_time ticks_request_due(const struct engine *e, const struct request *r)
{
    if (r->phase != REQUEST_OPEN)
        return 0;
    tdm_time deadline = request_deadline(e, r);
    double after;
    if (e->simulating && sim_request_answer(&e->sim, r->id, r->at, &after))
        return r->asked_at + (tdm_time)((double)(deadline - r->asked_at) * after);
    return deadline;
}

int ticks_request_move(struct cmd_ctx *x, struct request *r, const char *why, struct error *err)
{
    struct engine *e = x->e;
    bool last = r->at + 1 >= r->n_choices;
    cJSON *f = engine_fact(e, "request");
    cJSON_AddNumberToObject(f, "request", (double)r->id);
    cJSON_AddStringToObject(f, "phase", last ? "expired" : "moved");
    cJSON_AddStringToObject(f, "program", e->state.programs[r->program].name);
    cJSON_AddStringToObject(f, "from", e->state.people[r->choices[r->at]].p.id);
    if (!last) {
        cJSON_AddStringToObject(f, "to", e->state.people[r->choices[r->at + 1]].p.id);
        engine_add_time(f, "respond_by",
                        clock_add(clock_now(&e->clock), e->state.programs[r->program].life.respond_within, 1));
    }
    cJSON_AddStringToObject(f, "reason", why);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return engine_commit(e, f, x->depth, err);
}

int ticks_request_accept(struct cmd_ctx *x, struct request *r, struct error *err)
{
    struct engine *e = x->e;
    int rp_i = engine_rules_prog(e, r->program);
    if (rp_i < 0)
        return cmd_refuse(err, "request: the rules in force do not declare program %s",
                          e->state.programs[r->program].name);
    int mentor = r->choices[r->at], mentee = r->mentee;
    struct rules_group g = { .mentors = &mentor, .n_mentors = 1, .mentees = &mentee, .n_mentees = 1 };
    const char *bad = ticks_group_invalid(e, r->program, &e->rules->programs[rp_i], &g, NULL);
    if (bad)
        return cmd_refuse(err, "request: %s", bad);
    long long rid = r->id, match = e->state.n_matches + 1;
    int rc = ticks_make_match(x, r->program, &g, err);
    if (rc < 0)
        return rc;
    cJSON *f = engine_fact(e, "request");
    cJSON_AddNumberToObject(f, "request", (double)rid);
    cJSON_AddStringToObject(f, "phase", "accepted");
    cJSON_AddStringToObject(f, "program", e->state.programs[r->program].name);
    cJSON_AddStringToObject(f, "by", e->state.people[mentor].p.id);
    cJSON_AddNumberToObject(f, "match", (double)match);
    return engine_commit(e, f, x->depth, err);
}

int ticks_request_fire(struct cmd_ctx *x, struct request *r, struct error *err)
{
    struct engine *e = x->e;
    double after;
    int answer = e->simulating ? sim_request_answer(&e->sim, r->id, r->at, &after) : 0;
    if (answer == 1) {
        struct error aerr = { 0 };
        int rc = ticks_request_accept(x, r, &aerr);
        if (rc != ERR_INPUT) {
            if (rc < 0)
                *err = aerr;
            return rc;
        }
        return ticks_request_move(x, state_request(&e->state, r->id), "unavailable", err);
    }
    return ticks_request_move(x, r, answer == 2 ? "declined" : "no answer", err);
}
