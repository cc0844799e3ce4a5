/* state_life: applying the facts that keep matches alive (acknowledgements, prompts,
 * check-ins) and mentees' requests for a mentor. Pure, like all of state. */
#include <stdlib.h>
#include <string.h>

#include "state_internal.h"

const char *const request_phases[] = { "open", "accepted", "expired", "withdrawn", NULL };

void match_life_touch(struct state *s, struct match *m)
{
    m->life.last_activity = s->now;
    m->life.stalled_flagged = false;
}

void match_life_free(struct match_life *l)
{
    free(l->acks);
    free(l->prompt);
    l->acks = NULL;
    l->prompt = NULL;
}

void state_request_free(struct request *r)
{
    free(r->choices);
    r->choices = NULL;
}

int state_apply_ack(struct state *s, const cJSON *ev, struct error *err)
{
    struct match *m = fact_match(s, ev);
    int who = m ? match_party(m, state_person(s, fact_str(ev, "person"))) : -1;
    if (!m || who < 0 || !m->life.acks)
        return fact_refused(err, "ack", "no such match, not a party, or the match asks for no acknowledgement");
    if (!m->life.acks[who]) {
        m->life.acks[who] = 1;
        m->life.acked++;
    }
    match_life_touch(s, m);
    return 0;
}

int state_apply_prompt(struct state *s, const cJSON *ev, struct error *err)
{
    struct match *m = fact_match(s, ev);
    const char *text = fact_str(ev, "text");
    if (!m || !text)
        return fact_refused(err, "prompt", "no such match or no text");
    char *t = strdup(text);
    if (!t)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    free(m->life.prompt);
    m->life.prompt = t;
    return 0;
}

int state_apply_checkin(struct state *s, const cJSON *ev, struct error *err)
{
    struct match *m = fact_match(s, ev);
    if (!m)
        return fact_refused(err, "checkin", "no such match");
    m->life.checkins++;
    return 0;
}

struct request *state_request(const struct state *s, long long id)
{
    return id >= 1 && id <= s->n_requests ? &s->requests[id - 1] : NULL;
}

struct request *state_open_request(const struct state *s, int person, int prog)
{
    /* Newest first: an open request is recent. */
    for (int i = s->n_requests - 1; i >= 0; i--)
        if (s->requests[i].phase == REQUEST_OPEN && s->requests[i].mentee == person && s->requests[i].program == prog)
            return &s->requests[i];
    return NULL;
}

static int request_open(struct state *s, const cJSON *ev, long long id, struct error *err)
{
    int prog = state_program(s, fact_str(ev, "program"));
    int mentee = state_person(s, fact_str(ev, "person"));
    const cJSON *mentors = cJSON_GetObjectItemCaseSensitive(ev, "mentors");
    int n = cJSON_GetArraySize(mentors);
    if (id != s->n_requests + 1 || prog < 0 || mentee < 0 || n < 1)
        return fact_refused(err, "request", "open: ids out of order, or unknown program or person, or no mentors");
    if (state_grow(&s->requests, &s->cap_requests, s->n_requests, sizeof *s->requests) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    struct request r = { .id = id, .program = prog, .mentee = mentee, .asked_at = s->now,
                         .phase = REQUEST_OPEN };
    if (!(r.choices = calloc((size_t)n, sizeof *r.choices)))
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, mentors) {
        int p = cJSON_IsString(it) ? state_person(s, it->valuestring) : -1;
        if (p < 0) {
            free(r.choices);
            return fact_refused(err, "request", "open: unknown mentor");
        }
        r.choices[r.n_choices++] = p;
    }
    s->requests[s->n_requests++] = r;
    return 0;
}

/* Phases: open (the mentee asks), moved (declined or unanswered: the next choice is asked,
 * `to`), accepted (`match` made), expired (no choice left), withdrawn. */
int state_apply_request(struct state *s, const cJSON *ev, struct error *err)
{
    const char *phase = fact_str(ev, "phase");
    double id;
    if (!phase || !fact_num(ev, "request", &id))
        return fact_refused(err, "request", "no phase or request id");
    if (strcmp(phase, "open") == 0)
        return request_open(s, ev, (long long)id, err);
    struct request *r = state_request(s, (long long)id);
    if (!r || r->phase != REQUEST_OPEN)
        return fact_refused(err, "request", "no such open request");
    if (strcmp(phase, "moved") == 0) {
        if (r->at + 1 >= r->n_choices)
            return fact_refused(err, "request", "moved past the last choice");
        r->at++;
        r->asked_at = s->now;
    } else if (strcmp(phase, "accepted") == 0) {
        double match;
        if (!fact_num(ev, "match", &match))
            return fact_refused(err, "request", "accepted without a match");
        r->phase = REQUEST_ACCEPTED;
        r->match = (long long)match;
    } else if (strcmp(phase, "expired") == 0) {
        r->phase = REQUEST_EXPIRED;
    } else if (strcmp(phase, "withdrawn") == 0) {
        r->phase = REQUEST_WITHDRAWN;
    } else {
        return fact_refused(err, "request", "unknown phase");
    }
    return 0;
}
