/* event_filter: the filterable fields of each event type follow the event table of SPEC
 * section 3 and the README's; seq and ts are every event's; program and model those of every
 * event about a match or a program, whether the event has the field or not. */
#include "event_filter.h"

#include <stdio.h>
#include <string.h>

#include "suggest.h"

#define COMMON "seq", "ts"
#define OF_MATCH "match", "program", "model"

static const struct {
    const char *type;
    const char *const *fields;
} FIELDS[] = {
    { "person", (const char *const[]){ COMMON, "phase", NULL } },
    { "enroll", (const char *const[]){ COMMON, "person", "program", "model", "role", NULL } },
    { "match", (const char *const[]){ COMMON, "match", "phase", "program", "model", "score", "term_ends", NULL } },
    { "meeting", (const char *const[]){ COMMON, OF_MATCH, "phase", "at", "prompt", "rescheduled", "outside_hours",
                                        NULL } },
    { "intro", (const char *const[]){ COMMON, OF_MATCH, "contact", "rule", NULL } },
    { "goal", (const char *const[]){ COMMON, OF_MATCH, "goal", "phase", "text", "due", "measure", "priority", "rule",
                                     NULL } },
    { "feedback", (const char *const[]){ COMMON, OF_MATCH, "from", "rating", NULL } },
    { "review", (const char *const[]){ COMMON, OF_MATCH, "n", "meetings_held", "meetings_missed", "held_total",
                                       "missed_total", "goals_open", "goals_achieved", "feedback_avg", NULL } },
    { "reup", (const char *const[]){ COMMON, OF_MATCH, "phase", "term_ends", "person", "decision", "outcome", NULL } },
    { "close", (const char *const[]){ COMMON, OF_MATCH, "reason", "text", "rule", NULL } },
    { "flag", (const char *const[]){ COMMON, OF_MATCH, "person", "reason", "rule", "signal", NULL } },
    { "note", (const char *const[]){ COMMON, "text", "rule", NULL } },
    { "ack", (const char *const[]){ COMMON, OF_MATCH, "person", NULL } },
    { "prompt", (const char *const[]){ COMMON, OF_MATCH, "text", "rule", NULL } },
    { "checkin", (const char *const[]){ COMMON, OF_MATCH, "n", "after", NULL } },
    { "request", (const char *const[]){ COMMON, OF_MATCH, "request", "phase", "person", "to", "from", "respond_by",
                                        "reason", "by", NULL } },
};

/* The fields the log writes as numbers, as booleans; every other filterable field is text. */
static const char *const NUMBERS[] = { "seq", "match", "n", "meetings_held", "meetings_missed", "held_total",
                                       "missed_total", "goals_open", "goals_achieved", "feedback_avg", "score",
                                       "rating", "goal", "request", NULL };
static const char *const BOOLEANS[] = { "rescheduled", "outside_hours", "signal", NULL };

/* The phases each type's events have (README, the event log table). */
static const struct {
    const char *type;
    const char *const *phases;
} PHASES[] = {
    { "person", (const char *const[]){ "added", "updated", "left", NULL } },
    { "match", (const char *const[]){ "proposed", "approved", "rejected", "active", NULL } },
    { "meeting", (const char *const[]){ "scheduled", "held", "missed", "cancelled", NULL } },
    { "goal", (const char *const[]){ "set", "progress", "achieved", "dropped", NULL } },
    { "reup", (const char *const[]){ "open", "answered", "decided", NULL } },
    { "request", (const char *const[]){ "open", "moved", "accepted", "expired", "withdrawn", NULL } },
};

static bool listed(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

const char *event_filter_value_error(const char *type, const char *field, const cJSON *value, char *buf,
                                     size_t len)
{
    bool number = listed(NUMBERS, field), boolean = listed(BOOLEANS, field);
    const char *want = number ? "a number" : boolean ? "true or false" : "a string";
    if (number ? !cJSON_IsNumber(value) : boolean ? !cJSON_IsBool(value) : !cJSON_IsString(value)) {
        snprintf(buf, len, "%s events write %s as %s", type, field, want);
        return buf;
    }
    if (strcmp(field, "phase") != 0)
        return NULL;
    for (size_t i = 0; i < sizeof PHASES / sizeof *PHASES; i++) {
        if (strcmp(PHASES[i].type, type) != 0 || listed(PHASES[i].phases, value->valuestring))
            continue;
        int n = 0;
        while (PHASES[i].phases[n])
            n++;
        char hint[96];
        snprintf(buf, len, "%s events have no phase \"%s\"%s", type, value->valuestring,
                 suggest_hint(value->valuestring, PHASES[i].phases, n, hint, sizeof hint));
        return buf;
    }
    return NULL;
}

const char *const *event_filter_fields(const char *type)
{
    for (size_t i = 0; i < sizeof FIELDS / sizeof *FIELDS; i++)
        if (strcmp(FIELDS[i].type, type) == 0)
            return FIELDS[i].fields;
    return NULL;
}

static bool same_value(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsString(a))
        return cJSON_IsString(b) && strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsNumber(a))
        return cJSON_IsNumber(b) && a->valuedouble == b->valuedouble;
    if (cJSON_IsBool(a))
        return cJSON_IsBool(b) && cJSON_IsTrue(a) == cJSON_IsTrue(b);
    return false;
}

bool event_filter_match(const cJSON *filter, const cJSON *event, const char *program, const char *model)
{
    if (!filter)
        return true;
    const cJSON *want;
    cJSON_ArrayForEach(want, filter) {
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(event, want->string);
        cJSON derived = { .type = cJSON_String };
        if (!have) {
            bool is_program = strcmp(want->string, "program") == 0;
            derived.valuestring = (char *)(is_program ? program : strcmp(want->string, "model") == 0 ? model : NULL);
            if (!derived.valuestring)
                return false;
            have = &derived;
        }
        bool any = false;
        const cJSON *v;
        cJSON_ArrayForEach(v, want) {
            if ((any = same_value(v, have)))
                break;
        }
        if (!any)
            return false;
    }
    return true;
}
