/* tzone_test: UTC offsets from the system's zoneinfo (checked against known dates, DST
 * included) and meeting placement inside every zone's working hours on weekdays. */
#include "tzone.h"

#include <criterion/criterion.h>

static tdm_time T(const char *s)
{
    tdm_time t;
    cr_assert_eq(time_parse(s, &t), 0, "%s", s);
    return t;
}

Test(tzone, offsets_follow_daylight_saving)
{
    cr_assert_eq(tz_offset("Europe/Berlin", T("2027-01-15T12:00:00Z")), 3600);
    cr_assert_eq(tz_offset("Europe/Berlin", T("2027-07-15T12:00:00Z")), 7200);
    cr_assert_eq(tz_offset("America/New_York", T("2027-01-15T12:00:00Z")), -5 * 3600);
    cr_assert_eq(tz_offset("America/New_York", T("2027-07-15T12:00:00Z")), -4 * 3600);
    cr_assert_eq(tz_offset("Asia/Kolkata", T("2027-07-15T12:00:00Z")), 5 * 3600 + 1800);
    cr_assert_eq(tz_offset("Australia/Sydney", T("2027-01-15T12:00:00Z")), 11 * 3600);
    cr_assert_eq(tz_offset(NULL, 0), 0);
    cr_assert_eq(tz_offset("", 0), 0);
    /* the cache gives the same answer twice, and switching zones does not mix them up */
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(tz_offset("Europe/Berlin", T("2027-07-15T12:00:00Z")), 7200);
        cr_assert_eq(tz_offset("Asia/Tokyo", T("2027-07-15T12:00:00Z")), 9 * 3600);
    }
}

Test(tzone, placement_inside_everyones_hours)
{
    const char *zones[] = { "Europe/Berlin", "America/New_York" };
    /* Friday 2027-01-15 00:00 UTC: Berlin opens 08:00 UTC, New York 14:00 UTC -> 14:00 UTC */
    cr_assert_eq(tz_place(zones, 2, T("2027-01-15T00:00:00Z"), 9 * 60, 17 * 60, 3600), T("2027-01-15T14:00:00Z"));
    /* Friday 15:30 UTC: Berlin closes 16:00 UTC, too late for an hour -> Monday 14:00 UTC */
    cr_assert_eq(tz_place(zones, 2, T("2027-01-15T15:30:00Z"), 9 * 60, 17 * 60, 3600), T("2027-01-18T14:00:00Z"));
    /* half-hour steps: 14:10 goes to 14:30 */
    cr_assert_eq(tz_place(zones, 2, T("2027-01-18T14:10:00Z"), 9 * 60, 17 * 60, 1800), T("2027-01-18T14:30:00Z"));
}

Test(tzone, no_common_hours_and_unknown_zones)
{
    const char *far[] = { "Asia/Tokyo", "Europe/Berlin" };   /* 8 hours apart, 8-hour days */
    cr_assert_eq(tz_place(far, 2, T("2027-01-15T00:00:00Z"), 9 * 60, 17 * 60, 3600), 0);
    const char *none[] = { NULL, "" };
    cr_assert_eq(tz_place(none, 2, T("2027-01-15T03:17:00Z"), 9 * 60, 17 * 60, 3600), T("2027-01-15T03:17:00Z"));
    cr_assert_eq(tz_gap(far, 2, T("2027-01-15T00:00:00Z")), 8 * 3600);
    const char *one[] = { "Asia/Tokyo", NULL };
    cr_assert_eq(tz_gap(one, 2, 0), 0);
}
