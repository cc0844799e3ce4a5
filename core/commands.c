/* commands: the named wishes (ctl lines, rule actions, CSV rows) validated against the state
 * and turned into facts. A command is refused whole or done whole: validation comes before
 * the first fact. Nothing here reads the clock but through the engine's facts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

const char *cmd_str(const cJSON *c, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

struct match *cmd_match(struct engine *e, const cJSON *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "match");
    return cJSON_IsNumber(v) ? state_match(&e->state, (long long)v->valuedouble) : NULL;
}

int cmd_refuse(struct error *err, const char *fmt, const char *arg)
{
    return error_set(err, ERR_INPUT, NULL, 0, fmt, arg);
}

static bool is_set_field(const char *k)
{
    switch (k[0]) {
    case 's': return !strcmp(k, "skills");
    case 'w': return !strcmp(k, "wants");
    case 't': return !strcmp(k, "tags");
    default: return false;
    }
}

/* The person a command describes: {"person": {...}} (CSV import), or the command's own
 * fields (ctl: `person add --id p9 --level 3` is {"cmd":"person.add","id":"p9","level":3});
 * `skills`, `wants` and `tags` may be given as "a;b" text. base (may be NULL) is overlaid. */
static cJSON *person_fields(const cJSON *c, const cJSON *base)
{
    const cJSON *nested = cJSON_GetObjectItemCaseSensitive(c, "person");
    cJSON *out = base ? cJSON_Duplicate(base, 1) : cJSON_CreateObject();
    const cJSON *src = cJSON_IsObject(nested) ? nested : c, *it;
    cJSON_ArrayForEach(it, src) {
        if (strcmp(it->string, "cmd") == 0)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(out, it->string);
        if (cJSON_IsNull(it))
            continue;   /* null clears a field on update */
        bool set = is_set_field(it->string);
        if (set && cJSON_IsString(it)) {
            cJSON *arr = cJSON_CreateArray();
            char *copy = strdup(it->valuestring);
            for (char *tok = strtok(copy, ";"); tok; tok = strtok(NULL, ";")) {
                while (*tok == ' ')
                    tok++;
                size_t n = strlen(tok);
                while (n > 0 && tok[n - 1] == ' ')
                    tok[--n] = '\0';
                if (n > 0)
                    cJSON_AddItemToArray(arr, cJSON_CreateString(tok));
            }
            free(copy);
            cJSON_AddItemToObject(out, it->string, arr);
        } else {
            cJSON_AddItemToObject(out, it->string, cJSON_Duplicate(it, 1));
        }
    }
    return out;
}

/* The common ctl line, "cmd" first and then the person's fields as they are (none null, no
 * set given as "a;b" text, no nested "person", no key twice), needs no copy: person_fields
 * would give its members after "cmd", in order, unchanged. *view becomes a read-only object
 * over them (only for reading through ->next, as person_from_json does; never to free or
 * change). False when the command is not of that shape. */
static bool fields_view(const cJSON *c, cJSON *view)
{
    if (!c->child || !c->child->string || strcmp(c->child->string, "cmd") != 0)
        return false;
    for (const cJSON *it = c->child->next; it; it = it->next) {
        if (!it->string || cJSON_IsNull(it) || strcmp(it->string, "person") == 0 ||
            (cJSON_IsString(it) && is_set_field(it->string)))
            return false;
        for (const cJSON *later = it->next; later; later = later->next)
            if (later->string && later->string[0] == it->string[0] && strcmp(later->string, it->string) == 0)
                return false;
    }
    *view = (cJSON){ .type = cJSON_Object, .child = c->child->next };
    return true;
}

/* {"phase":"added","person":{...}}: its nodes from the engine's pool when the person's can
 * be (person_to_json_made), else cJSON's; *pj is its person object (NULL when out of memory). */
static cJSON *person_added_fact(struct engine *e, const struct person *p, cJSON **pj)
{
    struct json_maker m = engine_pool_maker(e);
    cJSON *f = engine_pool_fact(e, "person");
    if (f && engine_pool_add(f, "phase", engine_pool_literal(e, "added")) &&
        engine_pool_add(f, "person", *pj = person_to_json_made(p, &m)))
        return f;
    f = engine_fact(e, "person");
    engine_add_literal(f, "phase", "added");
    *pj = person_to_json(p);
    if (!cJSON_AddItemToObjectCS(f, "person", *pj)) {
        cJSON_Delete(*pj);
        *pj = NULL;
    }
    return f;
}

static int cmd_person_add(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    struct person p;
    cJSON view;
    cJSON *fields = fields_view(c, &view) ? NULL : person_fields(c, NULL);
    int rc = person_from_json(fields ? fields : &view, &p, err);
    cJSON_Delete(fields);
    if (rc < 0)
        return rc;
    bool exists = state_person(&e->state, p.id) >= 0;
    if (exists) {
        rc = cmd_refuse(err, "person \"%s\" exists already (use person update)", p.id);
        person_free(&p);
        return rc;
    }
    cJSON *pj;
    cJSON *f = person_added_fact(e, &p, &pj);
    state_offer_person(&e->state, pj, &p);   /* applying the fact need not read pj again */
    rc = engine_commit(e, f, x->depth, err);
    state_offer_clear(&e->state);
    if (rc < 0)
        return rc;
    return engine_enroll_person(x, e->state.n_people - 1, e->state.seq, err);
}

static int cmd_person_update(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const cJSON *nested = cJSON_GetObjectItemCaseSensitive(c, "person");
    const char *id = cmd_str(cJSON_IsObject(nested) ? nested : c, "id");
    int idx = state_person(&e->state, id);
    if (idx < 0)
        return cmd_refuse(err, "no person \"%s\"", id ? id : "");
    /* A whole record (an HRIS row) replaces the person; loose fields change just those.
     * Someone who left and is updated is back. */
    cJSON *base = cJSON_IsObject(nested) ? NULL : person_to_json(&e->state.people[idx].p);
    cJSON *fields = person_fields(c, base);
    cJSON_Delete(base);
    struct person p;
    int rc = person_from_json(fields, &p, err);
    cJSON_Delete(fields);
    if (rc < 0)
        return rc;
    cJSON *f = engine_fact(e, "person");
    cJSON_AddStringToObject(f, "phase", "updated");
    cJSON_AddItemToObject(f, "person", person_to_json(&p));
    person_free(&p);
    if ((rc = engine_commit(e, f, x->depth, err)) < 0)
        return rc;
    return engine_enroll_person(x, idx, e->state.seq, err);
}

/* Someone leaving closes their live matches (reason left), then leaves. */
static int cmd_person_leave(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const char *id = cmd_str(c, "id");
    int idx = state_person(&e->state, id);
    if (idx < 0 || e->state.people[idx].left)
        return cmd_refuse(err, "no person \"%s\"", id ? id : "");
    for (int i = 0; i < e->state.n_matches; i++) {
        const struct match *m = &e->state.matches[i];
        if (!match_live(m) || match_party(m, idx) < 0)
            continue;
        int rc = commands_close_match(x, m, "left", NULL, err);
        if (rc < 0)
            return rc;
    }
    cJSON *f = engine_fact(e, "person");
    cJSON_AddStringToObject(f, "phase", "left");
    cJSON_AddStringToObject(f, "person", id);
    return engine_commit(e, f, x->depth, err);
}

static int cmd_enroll(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const char *person = cmd_str(c, "person"), *program = cmd_str(c, "program"), *role = cmd_str(c, "role");
    int idx = state_person(&e->state, person);
    int prog = state_program(&e->state, program);
    int r = role_parse(role);
    if (idx < 0 || e->state.people[idx].left)
        return cmd_refuse(err, "no person \"%s\"", person ? person : "");
    if (prog < 0 || !e->state.programs[prog].live)
        return cmd_refuse(err, "no program \"%s\" in the rules in force", program ? program : "");
    int rp = engine_rules_prog(e, prog);
    if (r < 0 || rp < 0 || (r != e->rules->programs[rp].role_mentor && r != e->rules->programs[rp].role_mentee))
        return cmd_refuse(err, "role \"%s\" is not one of this program's sides", role ? role : "");
    if (state_enrollment(&e->state, idx, prog, (enum role)r) >= 0)
        return cmd_refuse(err, "enrolled already in that role%s", "");
    cJSON *f = engine_fact(e, "enroll");
    cJSON_AddStringToObject(f, "person", person);
    cJSON_AddStringToObject(f, "program", program);
    cJSON_AddStringToObject(f, "role", role);
    return engine_commit(e, f, x->depth, err);
}

static int cmd_match_answer(struct cmd_ctx *x, const cJSON *c, bool yes, struct error *err)
{
    struct match *m = cmd_match(x->e, c);
    if (!m)
        return cmd_refuse(err, "no such match%s", "");
    if (m->phase != MATCH_PROPOSED)
        return cmd_refuse(err, "match is not waiting for approval%s", "");
    return ticks_answer_proposal(x, m, yes, err);
}

static int cmd_meeting(struct cmd_ctx *x, const cJSON *c, const char *phase, struct error *err)
{
    struct match *m = cmd_match(x->e, c);
    if (!m || m->phase != MATCH_ACTIVE)
        return cmd_refuse(err, "no active match%s", "");
    if (!m->next_meeting)
        return cmd_refuse(err, "the match has no meeting scheduled%s", "");
    return ticks_meeting_outcome(x, m, phase, err);
}

static int cmd_goal_update(struct cmd_ctx *x, const cJSON *c, const char *phase, struct error *err)
{
    struct engine *e = x->e;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "goal");
    if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > e->state.n_goals)
        return cmd_refuse(err, "no such goal%s", "");
    const struct goal *g = &e->state.goals[(long long)id->valuedouble - 1];
    if (g->phase != GOAL_SET)
        return cmd_refuse(err, "the goal is %s already", g->phase == GOAL_ACHIEVED ? "achieved" : "dropped");
    cJSON *f = engine_fact(e, "goal");
    cJSON_AddNumberToObject(f, "match", (double)g->match);
    cJSON_AddNumberToObject(f, "goal", (double)g->id);
    cJSON_AddStringToObject(f, "phase", phase);
    const char *text = cmd_str(c, "text");
    if (text)
        cJSON_AddStringToObject(f, "text", text);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return engine_commit(e, f, x->depth, err);
}

/* Feedback on a match (from one of its parties) or on a program (from someone enrolled). */
static int cmd_feedback(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmd_match(e, c);
    const char *program = cmd_str(c, "program"), *from = cmd_str(c, "from"), *text = cmd_str(c, "text");
    const cJSON *rating = cJSON_GetObjectItemCaseSensitive(c, "rating");
    int who = state_person(&e->state, from);
    if (!cJSON_IsNumber(rating) || rating->valuedouble != floor(rating->valuedouble) || rating->valuedouble < 1 ||
        rating->valuedouble > 5)
        return cmd_refuse(err, "rating must be a whole number from 1 to 5%s", "");
    if (who < 0)
        return cmd_refuse(err, "no person \"%s\"", from ? from : "");
    int prog = state_program(&e->state, program);
    if (m) {
        if (m->phase == MATCH_PROPOSED || m->phase == MATCH_REJECTED || match_party(m, who) < 0)
            return cmd_refuse(err, "%s is not a party of that match", from);
    } else if (prog >= 0) {
        bool enrolled = false;
        for (int r = 0; r < ROLE_COUNT; r++)
            enrolled |= state_enrollment(&e->state, who, prog, (enum role)r) >= 0;
        if (!enrolled)
            return cmd_refuse(err, "%s is not enrolled in that program", from);
    } else {
        return cmd_refuse(err, "feedback needs a match or a program%s", "");
    }
    cJSON *f = engine_fact(e, "feedback");
    if (m)
        cJSON_AddNumberToObject(f, "match", (double)m->id);
    else
        cJSON_AddStringToObject(f, "program", program);
    cJSON_AddStringToObject(f, "from", from);
    cJSON_AddNumberToObject(f, "rating", rating->valuedouble);
    if (text)
        cJSON_AddStringToObject(f, "text", text);
    return engine_commit(e, f, x->depth, err);
}

/* An introduction (network model): the contact joins the match's later meetings as a guest. */
static int cmd_introduce(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmd_match(e, c);
    const char *contact = cmd_str(c, "contact");
    int who = state_person(&e->state, contact);
    if (!m || m->phase != MATCH_ACTIVE)
        return cmd_refuse(err, "introduce: no active match%s", "");
    if (who < 0 || e->state.people[who].left)
        return cmd_refuse(err, "introduce: no person \"%s\"", contact ? contact : "");
    if (match_party(m, who) >= 0)
        return cmd_refuse(err, "introduce: %s is in the match already", contact);
    for (int i = 0; i < m->n_guests; i++)
        if (m->guests[i] == who)
            return cmd_refuse(err, "introduce: %s was introduced already", contact);
    cJSON *f = engine_fact(e, "intro");
    cJSON_AddNumberToObject(f, "match", (double)m->id);
    cJSON_AddStringToObject(f, "contact", contact);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return engine_commit(e, f, x->depth, err);
}

/* A match made by hand (an admin, or a rule: flash's follow-up): the same checks as the
 * matching tick's, in the named program. */
int cmd_when(struct engine *e, const char *text, tdm_time *out, char *why, size_t why_len)
{
    struct duration d;
    if (time_parse(text, out) == 0)
        return 0;
    if (duration_parse(text, &d, why, why_len) < 0)
        return ERR_INPUT;
    *out = clock_add(clock_now(&e->clock), d, 1);
    return 0;
}

int cmd_people(const struct state *s, const cJSON *c, const char *key, int **out, int *n, struct error *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(c, key);
    /* ctl gives "a;b"; rules and raw lines give a list */
    cJSON *tmp = NULL;
    if (cJSON_IsString(list)) {
        tmp = cJSON_CreateArray();
        char *copy = strdup(list->valuestring);
        for (char *tok = copy ? strtok(copy, ";") : NULL; tok; tok = strtok(NULL, ";"))
            cJSON_AddItemToArray(tmp, cJSON_CreateString(tok));
        free(copy);
        list = tmp;
    }
    *n = 0;
    *out = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof **out);
    if (!*out) {
        cJSON_Delete(tmp);
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    }
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        int p = cJSON_IsString(it) ? state_person(s, it->valuestring) : -1;
        if (p < 0) {
            rc = error_set(err, ERR_INPUT, NULL, 0, "no person \"%s\" in %s",
                           cJSON_IsString(it) ? it->valuestring : "?", key);
            break;
        }
        (*out)[(*n)++] = p;
    }
    cJSON_Delete(tmp);
    return rc;
}

static int cmd_match_propose(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct state *s = &e->state;
    const char *program = cmd_str(c, "program");
    int sp = state_program(s, program);
    int rp = engine_rules_prog(e, sp);
    if (sp < 0 || rp < 0)
        return cmd_refuse(err, "no program \"%s\" in the rules in force", program ? program : "");
    struct rules_group g = { 0 };
    const char *sides[2] = { "mentors", "mentees" };
    int *idx[2] = { NULL, NULL }, n[2] = { 0, 0 };
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++)
        rc = cmd_people(s, c, sides[k], &idx[k], &n[k], err);
    g.mentors = idx[0];
    g.n_mentors = n[0];
    g.mentees = idx[1];
    g.n_mentees = n[1];
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(c, "why");
    g.why = cJSON_IsObject(why) ? (cJSON *)why : NULL;
    if (rc == 0) {
        bool *taken = calloc((size_t)s->n_people + 1, sizeof *taken);
        const char *bad = ticks_group_invalid(e, sp, &e->rules->programs[rp], &g, taken);
        free(taken);
        rc = bad ? cmd_refuse(err, "match.propose: %s", bad) : ticks_make_match(x, sp, &g, err);
    }
    free(idx[0]);
    free(idx[1]);
    return rc;
}

/* One party's re-up answer; when the last party has answered, the re-up is decided. */
static int cmd_reup(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    struct match *m = cmd_match(e, c);
    const char *person = cmd_str(c, "person"), *decision = cmd_str(c, "decision");
    if (!m || !m->reup_open)
        return cmd_refuse(err, "no re-up is open for that match%s", "");
    int who = match_party(m, state_person(&e->state, person));
    if (who < 0)
        return cmd_refuse(err, "\"%s\" is not a party of that match", person ? person : "");
    if (!decision || (strcmp(decision, "renew") != 0 && strcmp(decision, "exit") != 0))
        return cmd_refuse(err, "decision must be renew or exit%s", "");
    if (m->answers[who])
        return cmd_refuse(err, "%s has answered already", person);
    long long id = m->id;
    cJSON *f = engine_fact(e, "reup");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "phase", "answered");
    cJSON_AddStringToObject(f, "person", person);
    cJSON_AddStringToObject(f, "decision", decision);
    int rc = engine_commit(e, f, x->depth, err);
    if (rc < 0)
        return rc;
    m = state_match(&e->state, id);
    int n = m->n_mentors + m->n_mentees;
    cJSON *decisions = cJSON_CreateObject();
    for (int i = 0; i < n; i++) {
        if (!m->answers[i]) {
            cJSON_Delete(decisions);
            return 0;   /* someone has yet to answer */
        }
        int p = i < m->n_mentors ? m->mentors[i] : m->mentees[i - m->n_mentors];
        cJSON_AddStringToObject(decisions, e->state.people[p].p.id, m->answers[i] == 1 ? "renew" : "exit");
    }
    return ticks_reup_decide(x, id, decisions, NULL, err);
}

static int cmd_flag(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmd_match(e, c);
    const char *person = cmd_str(c, "person"), *reason = cmd_str(c, "reason");
    if (!m && state_person(&e->state, person) < 0)
        return cmd_refuse(err, "flag: no such match or person%s", "");
    if (!reason || !*reason)
        return cmd_refuse(err, "flag: a reason is required%s", "");
    cJSON *f = engine_fact(e, "flag");
    if (m)
        cJSON_AddNumberToObject(f, "match", (double)m->id);
    else
        cJSON_AddStringToObject(f, "person", person);
    cJSON_AddStringToObject(f, "reason", reason);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return engine_commit(e, f, x->depth, err);
}

static int cmd_note(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    const char *text = cmd_str(c, "text");
    if (!text)
        return cmd_refuse(err, "note: text is required%s", "");
    cJSON *f = engine_fact(x->e, "note");
    cJSON_AddStringToObject(f, "text", text);
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(c, "fields");
    if (fields)
        cJSON_AddItemToObject(f, "fields", cJSON_Duplicate(fields, 1));
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return engine_commit(x->e, f, x->depth, err);
}

/* Cancels the scheduled meeting, then closes the match. */
static int sim_program_feedback(struct cmd_ctx *x, long long id, struct error *err);

int commands_close_match(struct cmd_ctx *x, const struct match *m, const char *reason, const char *text,
                       struct error *err)
{
    struct engine *e = x->e;
    long long id = m->id;
    if (m->next_meeting) {
        cJSON *f = engine_fact(e, "meeting");
        cJSON_AddNumberToObject(f, "match", (double)id);
        cJSON_AddStringToObject(f, "phase", "cancelled");
        engine_add_time(f, "at", m->next_meeting);
        int rc = engine_commit(e, f, x->depth, err);
        if (rc < 0)
            return rc;
    }
    cJSON *f = engine_fact(e, "close");
    cJSON_AddNumberToObject(f, "match", (double)id);
    cJSON_AddStringToObject(f, "reason", reason);
    if (text)
        cJSON_AddStringToObject(f, "text", text);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    int rc = engine_commit(e, f, x->depth, err);
    bool natural_end = strcmp(reason, "completed") == 0 || strcmp(reason, "exited") == 0 ||
                       strcmp(reason, "rotated") == 0 || strcmp(reason, "stalled") == 0;
    return rc < 0 || !e->simulating || !natural_end ? rc : sim_program_feedback(x, id, err);
}

/* In simulate, the mentees of a match that runs its course rate the program itself. */
static int sim_program_feedback(struct cmd_ctx *x, long long id, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = state_match(&e->state, id);
    for (int i = 0; i < m->n_mentees; i++) {
        m = state_match(&e->state, id);
        cJSON *f = engine_fact(e, "feedback");
        cJSON_AddStringToObject(f, "program", e->state.programs[m->program].name);
        cJSON_AddStringToObject(f, "from", e->state.people[m->mentees[i]].p.id);
        cJSON_AddNumberToObject(f, "rating", sim_rating(&e->sim, id, m->mentees[i], 1000));
        int rc = engine_commit(e, f, x->depth, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int cmd_close(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    const struct match *m = cmd_match(x->e, c);
    const char *reason = cmd_str(c, "reason");
    if (!m || !match_live(m))
        return cmd_refuse(err, "close: no live match%s", "");
    bool known = false;
    for (int i = 0; reason && close_reasons[i]; i++)
        known |= strcmp(reason, close_reasons[i]) == 0;
    if (!known)
        return cmd_refuse(err, "close: unknown reason \"%s\"", reason ? reason : "");
    return commands_close_match(x, m, reason, cmd_str(c, "text"), err);
}

static int cmd_goal_set(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    const struct match *m = cmd_match(e, c);
    const char *text = cmd_str(c, "text"), *due = cmd_str(c, "due"), *measure = cmd_str(c, "measure");
    const char *priority = cmd_str(c, "priority");
    if (!m || !match_live(m))
        return cmd_refuse(err, "goal: no live match%s", "");
    if (!text || !*text)
        return cmd_refuse(err, "goal: text is required%s", "");
    bool known = false;
    for (int i = 0; priority && i < e->state.n_priorities; i++)
        known |= strcmp(e->state.priorities[i], priority) == 0;
    if (priority && !known)
        return cmd_refuse(err, "goal: \"%s\" is not one of the organization's priorities", priority);
    tdm_time due_at = 0;
    char why[160];
    if (due && cmd_when(e, due, &due_at, why, sizeof why) < 0)
        return cmd_refuse(err, "goal: due must be a date or a duration: %s", why);
    cJSON *f = engine_fact(e, "goal");
    cJSON_AddNumberToObject(f, "match", (double)m->id);
    cJSON_AddNumberToObject(f, "goal", (double)(e->state.n_goals + 1));
    cJSON_AddStringToObject(f, "phase", "set");
    cJSON_AddStringToObject(f, "text", text);
    if (due_at)
        engine_add_time(f, "due", due_at);
    if (measure)
        cJSON_AddStringToObject(f, "measure", measure);
    if (priority)
        cJSON_AddStringToObject(f, "priority", priority);
    /* The goal serves the mentee's career development plan: recorded with it as it stands. */
    cJSON *plans = cJSON_CreateObject();
    for (int i = 0; i < m->n_mentees; i++)
        if (e->state.people[m->mentees[i]].p.plan)
            cJSON_AddStringToObject(plans, e->state.people[m->mentees[i]].p.id, e->state.people[m->mentees[i]].p.plan);
    if (plans->child)
        cJSON_AddItemToObject(f, "plan", plans);
    else
        cJSON_Delete(plans);
    if (x->rule)
        cJSON_AddStringToObject(f, "rule", x->rule);
    return engine_commit(e, f, x->depth, err);
}

int commands_exec(struct engine *e, const cJSON *c, int depth, const char *rule, struct error *err)
{
    struct cmd_ctx x = { e, depth, rule };
    const char *name = cmd_str(c, "cmd");
    if (!name)
        return cmd_refuse(err, "a command needs \"cmd\"%s", "");
    if (strcmp(name, "person.add") == 0) return cmd_person_add(&x, c, err);
    if (strcmp(name, "person.update") == 0) return cmd_person_update(&x, c, err);
    if (strcmp(name, "person.leave") == 0) return cmd_person_leave(&x, c, err);
    if (strcmp(name, "enroll") == 0) return cmd_enroll(&x, c, err);
    if (strcmp(name, "match.approve") == 0) return cmd_match_answer(&x, c, true, err);
    if (strcmp(name, "match.reject") == 0) return cmd_match_answer(&x, c, false, err);
    if (strcmp(name, "meeting.held") == 0) return cmd_meeting(&x, c, "held", err);
    if (strcmp(name, "meeting.missed") == 0) return cmd_meeting(&x, c, "missed", err);
    if (strcmp(name, "meeting.cancel") == 0) return cmd_meeting(&x, c, "cancelled", err);
    if (strcmp(name, "goal.set") == 0) return cmd_goal_set(&x, c, err);
    if (strcmp(name, "goal.progress") == 0) return cmd_goal_update(&x, c, "progress", err);
    if (strcmp(name, "goal.achieve") == 0) return cmd_goal_update(&x, c, "achieved", err);
    if (strcmp(name, "goal.drop") == 0) return cmd_goal_update(&x, c, "dropped", err);
    if (strcmp(name, "feedback") == 0) return cmd_feedback(&x, c, err);
    if (strcmp(name, "reup") == 0) return cmd_reup(&x, c, err);
    if (strcmp(name, "introduce") == 0) return cmd_introduce(&x, c, err);
    if (strcmp(name, "match.propose") == 0) return cmd_match_propose(&x, c, err);
    if (strcmp(name, "flag") == 0) return cmd_flag(&x, c, err);
    if (strcmp(name, "note") == 0) return cmd_note(&x, c, err);
    if (strcmp(name, "close") == 0) return cmd_close(&x, c, err);
    int rc = commands_life_exec(&x, name, c, err);
    if (rc != 1)
        return rc;
    return cmd_refuse(err, "unknown command \"%s\"", name);
}
