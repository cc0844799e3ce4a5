/* commands_life: the commands that keep a match going — acknowledging expectations, choosing
 * the next meeting's prompt, moving a meeting, renewing at re-up — and mentees' requests
 * for a mentor. Each validates first and makes facts only when the whole command is fine. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

static int cmd_ack(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmd_match(e, c);
    const char *person = cmd_str(c, "person");
    if (!m || m->phase != MATCH_ACTIVE)
        return cmd_refuse(err, "ack: no active match%s", "");
    if (!m->life.acks)
        return cmd_refuse(err, "ack: the match's program asks for no acknowledgement%s", "");
    int who = match_party(m, state_person(&e->state, person));
    if (who < 0)
        return cmd_refuse(err, "ack: \"%s\" is not a party of that match", person ? person : "");
    if (m->life.acks[who])
        return cmd_refuse(err, "ack: %s has acknowledged already", person);
    long long id = m->id;
    cJSON *f = engine_fact(e, "ack");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "person", person);
    int rc = engine_commit(e, f, x->depth, err);
    return rc < 0 ? rc : ticks_after_ack(x, id, err);
}

static int cmd_prompt(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmd_match(e, c);
    const char *text = cmd_str(c, "text");
    if (!m || m->phase != MATCH_ACTIVE)
        return cmd_refuse(err, "prompt: no active match%s", "");
    if (!text || !*text)
        return cmd_refuse(err, "prompt: text is required%s", "");
    cJSON *f = engine_fact(e, "prompt");
    cJSON_AddNumberToObject(f, "match", (double)m->id);
    cJSON_AddStringToObject(f, "text", text);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return engine_commit(e, f, x->depth, err);
}

/* The scheduled meeting moves to `at` (a time, or a duration from now); it stays the same
 * meeting (the cadence does not advance) with the same prompt. */
static int cmd_reschedule(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmd_match(e, c);
    const char *at = cmd_str(c, "at");
    if (!m || m->phase != MATCH_ACTIVE || !m->next_meeting)
        return cmd_refuse(err, "meeting.reschedule: no active match with a meeting scheduled%s", "");
    tdm_time when;
    char why[160] = "";
    if (!at || cmd_when(e, at, &when, why, sizeof why) < 0)
        return cmd_refuse(err, "meeting.reschedule: at must be a time (RFC 3339) or a duration from now %s", why);
    if (when < clock_now(&e->clock))
        return cmd_refuse(err, "meeting.reschedule: %s is in the past", at);
    cJSON *f = engine_fact(e, "meeting");
    cJSON_AddNumberToObject(f, "match", (double)m->id);
    cJSON_AddStringToObject(f, "phase", "scheduled");
    engine_add_time(f, "at", when);
    cJSON_AddTrueToObject(f, "rescheduled");
    if (m->life.prompt)
        cJSON_AddStringToObject(f, "prompt", m->life.prompt);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return engine_commit(e, f, x->depth, err);
}

/* A rule (or an admin) renews for every party: the re-up is decided renew at once. */
static int cmd_renew(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmd_match(e, c);
    if (!m || !m->reup_open)
        return cmd_refuse(err, "reup.renew: no re-up is open for that match%s", "");
    cJSON *decisions = cJSON_CreateObject();
    for (int i = 0; i < m->n_mentors + m->n_mentees; i++) {
        int p = i < m->n_mentors ? m->mentors[i] : m->mentees[i - m->n_mentors];
        cJSON_AddStringToObject(decisions, e->state.people[p].p.id, "renew");
    }
    return ticks_reup_decide(x, m->id, decisions, NULL, err);
}

/* ---- requests ---- */

static int cmd_request(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct state *s = &e->state;
    const char *program = cmd_str(c, "program"), *person = cmd_str(c, "person");
    int sp = state_program(s, program), rp = engine_rules_prog(e, sp);
    if (sp < 0 || rp < 0)
        return cmd_refuse(err, "request: no program \"%s\" in the rules in force", program ? program : "");
    const struct rules_program *prog = &e->rules->programs[rp];
    int mentee = state_person(s, person);
    if (mentee < 0 || s->people[mentee].left || state_enrollment(s, mentee, sp, (enum role)prog->role_mentee) < 0)
        return cmd_refuse(err, "request: \"%s\" is not enrolled as a mentee of this program", person ? person : "");
    if (prog->role_mentor < 0)
        return cmd_refuse(err, "request: program %s has no mentor side", program);
    if (state_is_matched(s, mentee, sp))
        return cmd_refuse(err, "request: %s has a live match in this program", person);
    if (state_open_request(s, mentee, sp))
        return cmd_refuse(err, "request: %s has a request open in this program", person);
    int *choices = NULL, n = 0;
    int rc = cmd_people(s, c, "mentors", &choices, &n, err);
    if (rc == 0 && (n < 1 || n > 20))
        rc = cmd_refuse(err, "request: name one to twenty mentors, in order of preference%s", "");
    for (int i = 0; rc == 0 && i < n; i++) {
        int p = choices[i];
        const char *id = s->people[p].p.id;
        if (s->people[p].left || state_enrollment(s, p, sp, (enum role)prog->role_mentor) < 0)
            rc = cmd_refuse(err, "request: %s is not enrolled as a mentor of this program", id);
        else if (p == mentee)
            rc = cmd_refuse(err, "request: %s cannot mentor themselves", id);
        else if (state_reporting_line(s, p, mentee))
            rc = cmd_refuse(err, "request: %s is in the mentee's reporting line", id);
        else if (!prog->repeat_pairs && state_met(s, p, mentee, sp))
            rc = cmd_refuse(err, "request: %s was matched with the mentee before in this program", id);
        for (int k = 0; rc == 0 && k < i; k++)
            if (choices[k] == p)
                rc = cmd_refuse(err, "request: %s is named twice", id);
    }
    if (rc == 0) {
        cJSON *f = engine_fact(e, "request");
        cJSON_AddNumberToObject(f, "request", (double)(s->n_requests + 1));
        cJSON_AddStringToObject(f, "phase", "open");
        cJSON_AddStringToObject(f, "program", program);
        cJSON_AddStringToObject(f, "person", person);
        cJSON *list = cJSON_AddArrayToObject(f, "mentors");
        for (int i = 0; i < n; i++)
            cJSON_AddItemToArray(list, cJSON_CreateString(s->people[choices[i]].p.id));
        cJSON_AddStringToObject(f, "to", s->people[choices[0]].p.id);
        engine_add_time(f, "respond_by", clock_add(clock_now(&e->clock), s->programs[sp].life.respond_within, 1));
        if (x->rule)
            cJSON_AddStringToObject(f, "rule", x->rule);
        rc = engine_commit(e, f, x->depth, err);
    }
    free(choices);
    return rc;
}

/* The open request a command names; when it names a person too, they must be the mentor asked now. */
static struct request *open_request(struct engine *e, const cJSON *c, const char *what, struct error *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "request");
    struct request *r = cJSON_IsNumber(id) ? state_request(&e->state, (long long)id->valuedouble) : NULL;
    const char *person = cmd_str(c, "person");
    if (!r || r->phase != REQUEST_OPEN) {
        cmd_refuse(err, "%s: no open request with that id", what);
        return NULL;
    }
    if (person && strcmp(person, e->state.people[r->choices[r->at]].p.id) != 0) {
        cmd_refuse(err, "%s: the request is with another mentor now", what);
        return NULL;
    }
    return r;
}

static int cmd_request_answer(struct cmd_ctx *x, const cJSON *c, bool accept, struct error *err)
{
    struct request *r = open_request(x->e, c, accept ? "request.accept" : "request.decline", err);
    if (!r)
        return ERR_INPUT;
    return accept ? ticks_request_accept(x, r, err) : ticks_request_move(x, r, "declined", err);
}

static int cmd_request_withdraw(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct request *r = open_request(x->e, c, "request.withdraw", err);
    if (!r)
        return ERR_INPUT;
    cJSON *f = engine_fact(x->e, "request");
    cJSON_AddNumberToObject(f, "request", (double)r->id);
    cJSON_AddStringToObject(f, "phase", "withdrawn");
    cJSON_AddStringToObject(f, "program", x->e->state.programs[r->program].name);
    return engine_commit(x->e, f, x->depth, err);
}

int commands_life_exec(struct cmd_ctx *x, const char *name, const cJSON *c, struct error *err)
{
    if (strcmp(name, "ack") == 0) return cmd_ack(x, c, err);
    if (strcmp(name, "prompt") == 0) return cmd_prompt(x, c, err);
    if (strcmp(name, "meeting.reschedule") == 0) return cmd_reschedule(x, c, err);
    if (strcmp(name, "reup.renew") == 0) return cmd_renew(x, c, err);
    if (strcmp(name, "request") == 0) return cmd_request(x, c, err);
    if (strcmp(name, "request.accept") == 0) return cmd_request_answer(x, c, true, err);
    if (strcmp(name, "request.decline") == 0) return cmd_request_answer(x, c, false, err);
    if (strcmp(name, "request.withdraw") == 0) return cmd_request_withdraw(x, c, err);
    return 1;
}
