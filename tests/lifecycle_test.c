/* lifecycle_test: a program's lifecycle settings parse with their defaults, refuse bad values
 * naming the field, and read back what they write. */
#include "lifecycle.h"
#include "error.h"

#include <criterion/criterion.h>
#include <string.h>

static int parse(const char *json, struct lifecycle *l, const char **field, char *why)
{
    cJSON *o = cJSON_Parse(json);
    cr_assert(o, "bad test JSON %s", json);
    int rc = lifecycle_from_json(l, o, field, why, 200);
    cJSON_Delete(o);
    return rc;
}

Test(lifecycle, defaults)
{
    struct lifecycle l;
    const char *field = NULL;
    char why[200];
    cr_assert_eq(parse("{}", &l, &field, why), 0);
    cr_assert_eq(l.stalled_after.seconds, 90 * 86400LL);
    cr_assert_eq(l.on_stalled, STALLED_CLOSE);
    cr_assert_eq(l.reup_window.seconds, 14 * 86400LL);
    cr_assert_eq(l.reup_default, REUP_DEFAULT_CLOSE);
    cr_assert_eq(l.goals_within.seconds, 0);
    cr_assert_eq(l.hours_from, 9 * 60);
    cr_assert_eq(l.hours_to, 17 * 60);
    cr_assert_eq(l.max_tz_gap, -1);
    cr_assert_eq(l.respond_within.seconds, 3 * 86400LL);
    cr_assert_null(l.expectations);
    cr_assert_eq(l.n_checkins, 0);
    lifecycle_free(&l);
}

Test(lifecycle, every_field_round_trips)
{
    struct lifecycle l, back;
    const char *field = NULL;
    char why[200];
    cr_assert_eq(parse("{\"stalled_after\":false,\"on_stalled\":\"flag\",\"reup_window\":\"1mo\","
                       "\"reup_default\":\"renew\",\"goals_within\":\"30d\",\"expectations\":\"Be kind\","
                       "\"training\":[\"A\",\"B\"],\"acknowledge\":true,\"checkins\":[\"1mo\",\"3mo\"],"
                       "\"hours\":\"08:30-16:00\",\"meeting_length\":\"30m\",\"max_tz_gap\":6,"
                       "\"respond_within\":\"1w\"}", &l, &field, why), 0, "%s", why);
    cr_assert_eq(l.stalled_after.seconds, 0);
    cr_assert_eq(l.on_stalled, STALLED_FLAG);
    cr_assert_eq(l.reup_window.months, 1);
    cr_assert_eq(l.reup_default, REUP_DEFAULT_RENEW);
    cr_assert_str_eq(l.training[1], "B");
    cr_assert_eq(l.checkins[1].months, 3);
    cr_assert_eq(l.hours_from, 8 * 60 + 30);
    cr_assert_eq(l.meeting_length.seconds, 1800);
    cr_assert_eq(l.max_tz_gap, 6);
    cJSON *o = cJSON_CreateObject();
    cr_assert(lifecycle_to_json(&l, o));
    cr_assert_eq(lifecycle_from_json(&back, o, &field, why, sizeof why), 0, "%s", why);
    char *a = cJSON_PrintUnformatted(o);
    cJSON *o2 = cJSON_CreateObject();
    lifecycle_to_json(&back, o2);
    char *b = cJSON_PrintUnformatted(o2);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    cJSON_Delete(o);
    cJSON_Delete(o2);
    lifecycle_free(&l);
    lifecycle_free(&back);
}

Test(lifecycle, bad_values_name_the_field)
{
    static const struct { const char *json, *field, *why; } cases[] = {
        { "{\"hours\":\"9-17\"}", "hours", "working hours" },
        { "{\"hours\":\"17:00-09:00\"}", "hours", "start before end" },
        { "{\"on_stalled\":\"maybe\"}", "on_stalled", "\"close\" or \"flag\"" },
        { "{\"reup_default\":1}", "reup_default", "\"close\" or \"renew\"" },
        { "{\"checkins\":[\"1x\"]}", "checkins", "unit" },
        { "{\"checkins\":\"1mo\"}", "checkins", "list of durations" },
        { "{\"max_tz_gap\":27}", "max_tz_gap", "0 to 26" },
        { "{\"max_tz_gap\":2.5}", "max_tz_gap", "whole number" },
        { "{\"stalled_after\":3}", "stalled_after", "or false" },
        { "{\"reup_window\":false}", "reup_window", "duration" },
        { "{\"training\":[1]}", "training", "list of strings" },
        { "{\"acknowledge\":\"yes\"}", "acknowledge", "true or false" },
        { "{\"meeting_length\":\"13h\"}", "meeting_length", "at most 12h" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct lifecycle l;
        const char *field = NULL;
        char why[200] = "";
        cr_assert_eq(parse(cases[i].json, &l, &field, why), ERR_INPUT, "%s accepted", cases[i].json);
        cr_assert_str_eq(field, cases[i].field, "%s", cases[i].json);
        cr_assert(strstr(why, cases[i].why), "%s: \"%s\" lacks \"%s\"", cases[i].json, why, cases[i].why);
        lifecycle_free(&l);
    }
}
