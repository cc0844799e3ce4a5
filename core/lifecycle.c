/* lifecycle: parsing and writing a program's lifecycle settings (see lifecycle.h). */
#include "lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

const char *const lifecycle_fields[] = { "stalled_after", "on_stalled", "reup_window", "reup_default",
                                         "goals_within", "expectations", "training", "acknowledge",
                                         "checkins", "hours", "meeting_length", "max_tz_gap",
                                         "respond_within", NULL };

void lifecycle_defaults(struct lifecycle *l)
{
    memset(l, 0, sizeof *l);
    l->stalled_after = (struct duration){ 0, 90 * 86400LL };
    l->on_stalled = STALLED_CLOSE;
    l->reup_window = (struct duration){ 0, 14 * 86400LL };
    l->reup_default = REUP_DEFAULT_CLOSE;
    l->hours_from = 9 * 60;
    l->hours_to = 17 * 60;
    l->meeting_length = (struct duration){ 0, 3600 };
    l->max_tz_gap = -1;
    l->respond_within = (struct duration){ 0, 3 * 86400LL };
}

void lifecycle_free(struct lifecycle *l)
{
    free(l->expectations);
    for (int i = 0; i < l->n_training; i++)
        free(l->training[i]);
    free(l->training);
    free(l->checkins);
    lifecycle_defaults(l);
}

static bool duration_zero(struct duration d)
{
    return d.months == 0 && d.seconds == 0;
}

/* A duration field; allow_off: false (or null) turns it off (zero). */
static int get_duration(const cJSON *v, bool allow_off, struct duration *out, char *why, size_t len)
{
    if (allow_off && (cJSON_IsFalse(v) || cJSON_IsNull(v))) {
        *out = (struct duration){ 0, 0 };
        return 0;
    }
    if (!cJSON_IsString(v)) {
        snprintf(why, len, allow_off ? "must be a duration like \"90d\", or false" : "must be a duration like \"2w\"");
        return ERR_INPUT;
    }
    return duration_parse(v->valuestring, out, why, len);
}

static int get_choice(const cJSON *v, const char *a, const char *b, int *out, char *why, size_t len)
{
    if (cJSON_IsString(v) && (strcmp(v->valuestring, a) == 0 || strcmp(v->valuestring, b) == 0)) {
        *out = strcmp(v->valuestring, b) == 0;
        return 0;
    }
    snprintf(why, len, "must be \"%s\" or \"%s\"", a, b);
    return ERR_INPUT;
}

static int get_strings(const cJSON *v, char ***out, int *n, char *why, size_t len)
{
    if (!cJSON_IsArray(v)) {
        snprintf(why, len, "must be a list of strings");
        return ERR_INPUT;
    }
    int cap = cJSON_GetArraySize(v);
    *out = calloc((size_t)(cap ? cap : 1), sizeof **out);
    if (!*out)
        return ERR_SYSTEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsString(it) || !((*out)[*n] = strdup(it->valuestring))) {
            snprintf(why, len, "must be a list of strings");
            return ERR_INPUT;
        }
        (*n)++;
    }
    return 0;
}

/* "HH:MM-HH:MM", from before to, within one day. */
static int get_hours(const cJSON *v, int *from, int *to, char *why, size_t len)
{
    int h1, m1, h2, m2, used = 0;
    if (cJSON_IsString(v) && sscanf(v->valuestring, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &used) == 4 &&
        v->valuestring[used] == '\0' && strlen(v->valuestring) == 11 && h1 >= 0 && h1 <= 24 && m1 >= 0 &&
        m1 < 60 && h2 >= 0 && h2 <= 24 && m2 >= 0 && m2 < 60 && h1 * 60 + m1 < h2 * 60 + m2 &&
        h2 * 60 + m2 <= 24 * 60) {
        *from = h1 * 60 + m1;
        *to = h2 * 60 + m2;
        return 0;
    }
    snprintf(why, len, "must be local working hours like \"09:00-17:00\" (start before end, within a day)");
    return ERR_INPUT;
}

static int read_field(struct lifecycle *l, const char *k, const cJSON *v, char *why, size_t len)
{
    int c = 0, rc;
    if (strcmp(k, "stalled_after") == 0)
        return get_duration(v, true, &l->stalled_after, why, len);
    if (strcmp(k, "on_stalled") == 0) {
        rc = get_choice(v, "close", "flag", &c, why, len);
        l->on_stalled = c ? STALLED_FLAG : STALLED_CLOSE;
        return rc;
    }
    if (strcmp(k, "reup_window") == 0)
        return get_duration(v, false, &l->reup_window, why, len);
    if (strcmp(k, "reup_default") == 0) {
        rc = get_choice(v, "close", "renew", &c, why, len);
        l->reup_default = c ? REUP_DEFAULT_RENEW : REUP_DEFAULT_CLOSE;
        return rc;
    }
    if (strcmp(k, "goals_within") == 0)
        return get_duration(v, true, &l->goals_within, why, len);
    if (strcmp(k, "expectations") == 0) {
        if (cJSON_IsNull(v))
            return 0;
        if (!cJSON_IsString(v)) {
            snprintf(why, len, "must be a text");
            return ERR_INPUT;
        }
        return (l->expectations = strdup(v->valuestring)) ? 0 : ERR_SYSTEM;
    }
    if (strcmp(k, "training") == 0)
        return get_strings(v, &l->training, &l->n_training, why, len);
    if (strcmp(k, "acknowledge") == 0) {
        if (!cJSON_IsBool(v)) {
            snprintf(why, len, "must be true or false");
            return ERR_INPUT;
        }
        l->acknowledge = cJSON_IsTrue(v);
        return 0;
    }
    if (strcmp(k, "checkins") == 0) {
        int n = cJSON_GetArraySize(v);
        if (!cJSON_IsArray(v) || n > 100) {
            snprintf(why, len, "must be a list of durations from the match start, like {\"1mo\", \"3mo\"}");
            return ERR_INPUT;
        }
        if (!(l->checkins = calloc((size_t)(n ? n : 1), sizeof *l->checkins)))
            return ERR_SYSTEM;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            if ((rc = get_duration(it, false, &l->checkins[l->n_checkins], why, len)) != 0)
                return rc;
            l->n_checkins++;
        }
        return 0;
    }
    if (strcmp(k, "hours") == 0)
        return get_hours(v, &l->hours_from, &l->hours_to, why, len);
    if (strcmp(k, "meeting_length") == 0) {
        if ((rc = get_duration(v, false, &l->meeting_length, why, len)) != 0)
            return rc;
        if (l->meeting_length.months || l->meeting_length.seconds > 12 * 3600) {
            snprintf(why, len, "must be at most 12h");
            return ERR_INPUT;
        }
        return 0;
    }
    if (strcmp(k, "max_tz_gap") == 0) {
        if (cJSON_IsFalse(v) || cJSON_IsNull(v)) {
            l->max_tz_gap = -1;
            return 0;
        }
        if (!cJSON_IsNumber(v) || v->valuedouble != (int)v->valuedouble || v->valuedouble < 0 ||
            v->valuedouble > 26) {
            snprintf(why, len, "must be a whole number of hours from 0 to 26, or false");
            return ERR_INPUT;
        }
        l->max_tz_gap = (int)v->valuedouble;
        return 0;
    }
    if (strcmp(k, "respond_within") == 0)
        return get_duration(v, false, &l->respond_within, why, len);
    return 0;
}

int lifecycle_from_json(struct lifecycle *l, const cJSON *obj, const char **field, char *why, size_t why_len)
{
    lifecycle_defaults(l);
    for (int i = 0; lifecycle_fields[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, lifecycle_fields[i]);
        if (!v)
            continue;
        int rc = read_field(l, lifecycle_fields[i], v, why, why_len);
        if (rc != 0) {
            lifecycle_free(l);
            if (field)
                *field = lifecycle_fields[i];
            if (rc == ERR_SYSTEM)
                snprintf(why, why_len, "out of memory");
            return rc == ERR_SYSTEM ? ERR_SYSTEM : ERR_INPUT;
        }
    }
    return 0;
}

static bool add_duration(cJSON *o, const char *k, struct duration d, bool off_when_zero)
{
    if (off_when_zero && duration_zero(d))
        return cJSON_AddFalseToObject(o, k) != NULL;
    char buf[32];
    duration_format(d, buf, sizeof buf);
    return cJSON_AddStringToObject(o, k, buf) != NULL;
}

bool lifecycle_to_json(const struct lifecycle *l, cJSON *o)
{
    char hours[32];
    snprintf(hours, sizeof hours, "%02d:%02d-%02d:%02d", l->hours_from / 60, l->hours_from % 60, l->hours_to / 60,
             l->hours_to % 60);
    cJSON *training = cJSON_AddArrayToObject(o, "training");
    for (int i = 0; training && i < l->n_training; i++)
        cJSON_AddItemToArray(training, cJSON_CreateString(l->training[i]));
    cJSON *checkins = cJSON_AddArrayToObject(o, "checkins");
    for (int i = 0; checkins && i < l->n_checkins; i++) {
        char buf[32];
        duration_format(l->checkins[i], buf, sizeof buf);
        cJSON_AddItemToArray(checkins, cJSON_CreateString(buf));
    }
    return training && checkins && add_duration(o, "stalled_after", l->stalled_after, true) &&
           cJSON_AddStringToObject(o, "on_stalled", l->on_stalled == STALLED_FLAG ? "flag" : "close") &&
           add_duration(o, "reup_window", l->reup_window, false) &&
           cJSON_AddStringToObject(o, "reup_default", l->reup_default == REUP_DEFAULT_RENEW ? "renew" : "close") &&
           add_duration(o, "goals_within", l->goals_within, true) &&
           (l->expectations ? cJSON_AddStringToObject(o, "expectations", l->expectations)
                            : cJSON_AddNullToObject(o, "expectations")) &&
           cJSON_AddBoolToObject(o, "acknowledge", l->acknowledge) && cJSON_AddStringToObject(o, "hours", hours) &&
           add_duration(o, "meeting_length", l->meeting_length, false) &&
           (l->max_tz_gap < 0 ? cJSON_AddFalseToObject(o, "max_tz_gap")
                              : cJSON_AddNumberToObject(o, "max_tz_gap", l->max_tz_gap)) &&
           add_duration(o, "respond_within", l->respond_within, false);
}
