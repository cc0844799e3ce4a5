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

static int cmd_person_add(struct cmd_ctx *x, const cJSON *c, struct error *err)
{
    struct engine *e = x->e;
    struct person p;
    int rc = person_from_json(cJSON_GetObjectItemCaseSensitive(c, "person"), &p, err);
    if (rc < 0)
        return rc;
    bool exists = state_person(&e->state, p.id) >= 0;
    if (exists) {
        rc = cmd_refuse(err, "person \"%s\" exists already (use person update)", p.id);
        person_free(&p);
        return rc;
    }
    cJSON *f = engine_fact(e, "person");
    cJSON_AddStringToObject(f, "phase", "added");
    cJSON_AddItemToObject(f, "person", person_to_json(&p));
    person_free(&p);
    if ((rc = engine_commit(e, f, x->depth, err)) < 0)
        return rc;
    return engine_enroll_person(x, e->state.n_people - 1, e->state.seq, err);
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
    return engine_commit(e, f, x->depth, err);
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
    if (!m || !match_live(m))
        return cmd_refuse(err, "goal: no live match%s", "");
    if (!text || !*text)
        return cmd_refuse(err, "goal: text is required%s", "");
    tdm_time due_at = 0;
    if (due) {
        struct duration d;
        char why[160];
        if (time_parse(due, &due_at) < 0) {
            if (duration_parse(due, &d, why, sizeof why) < 0)
                return cmd_refuse(err, "goal: due must be a date or a duration: %s", why);
            due_at = clock_add(clock_now(&e->clock), d, 1);
        }
    }
    cJSON *f = engine_fact(e, "goal");
    cJSON_AddNumberToObject(f, "match", (double)m->id);
    cJSON_AddNumberToObject(f, "goal", (double)(e->state.n_goals + 1));
    cJSON_AddStringToObject(f, "phase", "set");
    cJSON_AddStringToObject(f, "text", text);
    if (due_at)
        engine_add_time(f, "due", due_at);
    if (measure)
        cJSON_AddStringToObject(f, "measure", measure);
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
    if (strcmp(name, "flag") == 0) return cmd_flag(&x, c, err);
    if (strcmp(name, "note") == 0) return cmd_note(&x, c, err);
    if (strcmp(name, "close") == 0) return cmd_close(&x, c, err);
    if (strcmp(name, "goal.set") == 0) return cmd_goal_set(&x, c, err);
    return cmd_refuse(err, "unknown command \"%s\"", name);
}
