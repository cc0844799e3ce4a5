/* tzone_test: UTC offsets from the system's zoneinfo (checked against known dates, DST
 * included) and meeting placement inside every zone's working hours on weekdays. */
#include "tzone.h"

#include <stdbool.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* What glibc says for zone at t, asked directly (the reference for the cached answers). Each
 * Criterion test runs in its own process, so tzone has not set TZ yet when this does. */
static int glibc_offset(const char *zone, tdm_time t)
{
    setenv("TZ", zone, 1);
    tzset();
    time_t tt = (time_t)t;
    struct tm tm;
    cr_assert(localtime_r(&tt, &tm));
    return (int)tm.tm_gmtoff;
}

#define HOURS (2 * 366 * 24)

Test(tzone, every_hour_of_two_years_matches_glibc_across_transitions)
{
    /* Days hold one offset unless a transition falls inside them: every hour of 2027-2028,
     * asked from the end backwards and hopping between zones, agrees with glibc. */
    const char *zones[] = { "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
                            "America/Sao_Paulo", "Europe/London" };
    enum { NZ = 6 };
    tdm_time from = T("2027-01-01T00:00:00Z");
    static int want[NZ][HOURS];
    for (int z = 0; z < NZ; z++)
        for (int h = 0; h < HOURS; h++)
            want[z][h] = glibc_offset(zones[z], from + h * 3600LL);
    unsetenv("TZ");
    tzset();
    for (int h = HOURS - 1; h >= 0; h--)
        for (int z = 0; z < NZ; z++) {
            int got = tz_offset(zones[z], from + h * 3600LL);
            cr_assert_eq(got, want[z][h], "%s, hour %d of 2027-2028: %d, glibc %d", zones[z], h, got, want[z][h]);
        }
    /* the last second before and the first after Berlin's spring change (01:00 UTC) */
    cr_assert_eq(tz_offset("Europe/Berlin", T("2027-03-28T00:59:59Z")), 3600);
    cr_assert_eq(tz_offset("Europe/Berlin", T("2027-03-28T01:00:00Z")), 7200);
}

/* Many zones, each name in a string of its own (as people's timezone fields are): every one
 * answers as the C library does, however many zones the lookup by name has had to hold. */
Test(tzone, many_zones_by_name)
{
    static const char *const names[] = {
        "Europe/Berlin", "Europe/London", "Europe/Paris", "Europe/Madrid", "Europe/Rome",
        "Europe/Warsaw", "Europe/Helsinki", "Europe/Athens", "Europe/Lisbon", "Europe/Dublin",
        "Europe/Oslo", "Europe/Zurich", "America/New_York", "America/Chicago", "America/Denver",
        "America/Los_Angeles", "America/Sao_Paulo", "America/Mexico_City", "America/Toronto",
        "America/Bogota", "America/Lima", "America/Halifax", "America/Anchorage",
        "Pacific/Honolulu", "Pacific/Auckland", "Asia/Tokyo", "Asia/Seoul", "Asia/Shanghai",
        "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dubai", "Asia/Singapore", "Asia/Jakarta",
        "Asia/Manila", "Asia/Karachi", "Asia/Tehran", "Africa/Cairo", "Africa/Lagos",
        "Africa/Nairobi", "Africa/Johannesburg", "Australia/Sydney", "Australia/Perth",
        "Australia/Adelaide", "Atlantic/Reykjavik", "UTC",
    };
    const int n = (int)(sizeof names / sizeof names[0]);
    const tdm_time when[] = { T("2027-01-15T12:00:00Z"), T("2027-07-15T12:00:00Z") };
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < n; i++) {
            char *copy = strdup(names[i]);   /* a new address each time: found by its name */
            for (int w = 0; w < 2; w++) {
                setenv("TZ", names[i], 1);
                tzset();
                time_t tt = (time_t)when[w];
                struct tm tm;
                cr_assert_not_null(localtime_r(&tt, &tm));
                cr_assert_eq(tz_offset(copy, when[w]), (int)tm.tm_gmtoff, "%s", names[i]);
            }
            free(copy);
        }
}

/* Placement over more zones than were ever seen (each new one grows the table of zones while
 * the call is under way): the same slot as for one of them, since they all keep one time. */
Test(tzone, placement_over_many_new_zones)
{
    const char *zones[] = {
        "Europe/Paris", "Europe/Rome", "Europe/Madrid", "Europe/Vienna", "Europe/Amsterdam",
        "Europe/Brussels", "Europe/Oslo", "Europe/Stockholm", "Europe/Copenhagen", "Europe/Prague",
        "Europe/Budapest", "Europe/Warsaw", "Europe/Zurich", "Europe/Belgrade", "Europe/Zagreb",
        "Europe/Ljubljana", "Europe/Bratislava", "Europe/Luxembourg", "Europe/Monaco", "Europe/Berlin",
    };
    const int n = (int)(sizeof zones / sizeof zones[0]);
    /* Saturday 2027-01-16 10:00 UTC -> Monday 08:00 UTC (09:00 in all of them) */
    cr_assert_eq(tz_place(zones, n, T("2027-01-16T10:00:00Z"), 9 * 60, 17 * 60, 3600), T("2027-01-18T08:00:00Z"));
    cr_assert_eq(tz_place(zones + n - 1, 1, T("2027-01-16T10:00:00Z"), 9 * 60, 17 * 60, 3600),
                 T("2027-01-18T08:00:00Z"));
}

/* tz_place skips ahead over hours that cannot fit; it must give what trying every half-hour
 * step with tz_offset gives, across daylight-saving days, half- and quarter-hour zones and
 * windows no zone mix can share. */
static bool ref_fits(const char *zone, tdm_time t, int from, int to, int len)
{
    long long local = t + tz_offset(zone, t);
    long long days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int minute = (int)((local - days * 86400) / 60);
    int wday = (int)(((days % 7) + 11) % 7);
    return wday >= 1 && wday <= 5 && minute >= from && minute * 60 + len <= to * 60;
}

static tdm_time ref_place(const char *const *zones, int n, tdm_time from, int hf, int ht, int len)
{
    bool any = false;
    for (int i = 0; i < n; i++)
        any |= *zones[i] != '\0';
    if (!any)
        return from;   /* no zone constrains: as documented */
    tdm_time start = (from + 1799) / 1800 * 1800;
    for (tdm_time t = start; t < start + 14 * 86400LL; t += 1800) {
        bool ok = true;
        for (int i = 0; ok && i < n; i++)
            ok = !*zones[i] || ref_fits(zones[i], t, hf, ht, len);
        if (ok)
            return t;
    }
    return 0;
}

Test(tzone, placement_equals_trying_every_step)
{
    static const char *const names[] = {
        "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "Pacific/Auckland",
        "America/Sao_Paulo", "Asia/Kathmandu", "America/St_Johns", "Europe/London", "", "Asia/Tokyo",
    };
    unsigned long long x = 88172645463325252ULL;
    int placed = 0;
    for (int k = 0; k < 5000; k++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        const char *zones[3];
        int n = 1 + (int)(x % 3);
        for (int i = 0; i < n; i++)
            zones[i] = names[(x >> (8 * i + 4)) % 11];
        tdm_time from = 1700000000LL + (long long)((x >> 20) % (3LL * 365 * 86400));
        int hf = (int)((x >> 40) % 12) * 60 + (int)((x >> 50) % 2) * 30;
        int ht = hf + 60 + (int)((x >> 44) % 10) * 60, len = 1800 * (1 + (int)((x >> 52) % 4));
        tdm_time want = ref_place(zones, n, from, hf, ht, len);
        tdm_time got = tz_place(zones, n, from, hf, ht, len);
        cr_assert_eq(got, want, "case %d: %d zones %s %s, from %lld, %d-%d, len %d: got %lld want %lld", k, n, zones[0], n > 1 ? zones[1] : "-", (long long)from, hf, ht, len, (long long)got, (long long)want);
        placed += want != 0;
    }
    cr_assert_gt(placed, 1000);   /* most cases place a meeting, so the skips are exercised */
}
