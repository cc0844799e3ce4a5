/* clock_test: durations, calendar months, civil dates, RFC 3339 and the clock.
 * The civil arithmetic is checked against timegm/gmtime_r as an independent
 * oracle; nothing here may depend on TZ or on the time the test runs at. */
#include "clock.h"
#include "error.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* A deterministic generator, so a failure reproduces. */
static unsigned long long rng_next(unsigned long long *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static long long rng_range(unsigned long long *s, long long lo, long long hi)
{
    return lo + (long long)(rng_next(s) % (unsigned long long)(hi - lo + 1));
}

static tdm_time T(const char *s)
{
    tdm_time t = -12345;
    int rc = time_parse(s, &t);
    cr_assert_eq(rc, 0, "time_parse(\"%s\") refused", s);
    return t;
}

/* The oracle's text for t: strftime over gmtime_r. */
static void oracle_format(tdm_time t, char buf[static 32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    cr_assert_not_null(gmtime_r(&tt, &tm));
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static tdm_time oracle_timegm(int y, int m, int d)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
    return (tdm_time)timegm(&tm);
}

/* ---- duration_parse / duration_format ---- */

Test(duration, accepts)
{
    static const struct { const char *in; int months; long long secs; const char *canon; } ok[] = {
        { "15m", 0, 900, "15m" },
        { "1m", 0, 60, "1m" },
        { "60m", 0, 3600, "1h" },
        { "2h", 0, 7200, "2h" },
        { "24h", 0, 86400, "1d" },
        { "3d", 0, 259200, "3d" },
        { "14d", 0, 1209600, "2w" },
        { "2w", 0, 1209600, "2w" },
        { "6mo", 6, 0, "6mo" },
        { "12mo", 12, 0, "1y" },
        { "18mo", 18, 0, "18mo" },
        { "1y", 12, 0, "1y" },
        { "100y", 1200, 0, "100y" },
        { "1200mo", 1200, 0, "100y" },
        { "36525d", 0, 36525LL * 86400, "5217w" },   /* 5217w + 6d: not whole weeks */
        { "5217w", 0, 5217LL * 7 * 86400, "5217w" },
        { "876600h", 0, 876600LL * 3600, "36525d" },
        { "52596000m", 0, 52596000LL * 60, "36525d" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct duration d = { -1, -1 };
        char why[128] = "";
        int rc = duration_parse(ok[i].in, &d, why, sizeof why);
        cr_expect_eq(rc, 0, "\"%s\" refused: %s", ok[i].in, why);
        cr_expect_eq(d.months, ok[i].months, "\"%s\" months %d", ok[i].in, d.months);
        cr_expect_eq(d.seconds, ok[i].secs, "\"%s\" seconds %lld", ok[i].in, d.seconds);
    }
}

Test(duration, formats_canonically)
{
    static const struct { struct duration d; const char *text; } cases[] = {
        { { 6, 0 }, "6mo" }, { { 12, 0 }, "1y" }, { { 24, 0 }, "2y" }, { { 13, 0 }, "13mo" },
        { { 0, 1209600 }, "2w" }, { { 0, 1296000 }, "15d" }, { { 0, 86400 }, "1d" },
        { { 0, 90000 }, "25h" }, { { 0, 900 }, "15m" }, { { 0, 5400 }, "90m" },
        { { 0, 0 }, "0m" }, { { 0, 90 }, "90s" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        duration_format(cases[i].d, buf, sizeof buf);
        cr_expect_str_eq(buf, cases[i].text, "{%d, %lld} formatted as \"%s\"",
                         cases[i].d.months, cases[i].d.seconds, buf);
    }
    char tiny[3];
    duration_format((struct duration){ 6, 0 }, tiny, sizeof tiny);
    cr_expect_str_eq(tiny, "6m", "truncated and terminated");
}

Test(duration, parse_format_round_trip)
{
    static const char *units[] = { "m", "h", "d", "w", "mo", "y" };
    for (size_t u = 0; u < 6; u++) {
        for (long long n = 1; n <= 100; n++) {
            char in[32], out[32];
            snprintf(in, sizeof in, "%lld%s", n, units[u]);
            struct duration d, d2;
            cr_assert_eq(duration_parse(in, &d, NULL, 0), 0, "%s", in);
            duration_format(d, out, sizeof out);
            cr_assert_eq(duration_parse(out, &d2, NULL, 0), 0, "%s -> %s", in, out);
            cr_expect(d.months == d2.months && d.seconds == d2.seconds, "%s -> %s changed", in, out);
        }
    }
}

Test(duration, refuses)
{
    static const char *bad[] = {
        "", "0d", "00d", "0mo", "3x", "-1d", "+1d", " 1d", "1d ", "1 d", "1.5d", "1,5d",
        "d", "mo", "15", "1M", "1D", "1Y", "1MO", "1dd", "1mon", "1months", "1s", "1ms",
        "01d", "007w", "101y", "1201mo", "36526d", "5218w", "876601h", "52596001m",
        "99999999999999999999999999d", "18446744073709551617m", "1d\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct duration d = { 7, 7 };
        char why[160] = "";
        int rc = duration_parse(bad[i], &d, why, sizeof why);
        cr_expect_eq(rc, ERR_INPUT, "\"%s\" accepted", bad[i]);
        cr_expect(d.months == 7 && d.seconds == 7, "\"%s\" wrote *out on failure", bad[i]);
        cr_expect(strncmp(why, "bad duration \"", 14) == 0, "\"%s\": reason \"%s\"", bad[i], why);
        cr_expect_null(strchr(why, '\n'), "\"%s\": reason spans lines", bad[i]);
    }
    struct duration d;
    cr_expect_eq(duration_parse(NULL, &d, NULL, 0), ERR_INPUT);
}

Test(duration, reasons_for_a_person)
{
    static const struct { const char *in; const char *why; } cases[] = {
        { "3x", "bad duration \"3x\": unit must be m, h, d, w, mo or y" },
        { "0d", "bad duration \"0d\": must be more than zero" },
        { "15", "bad duration \"15\": missing unit: m, h, d, w, mo or y" },
        { "1.5d", "bad duration \"1.5d\": must be a whole number" },
        { "-1d", "bad duration \"-1d\": must start with a positive whole number, like \"2w\"" },
        { "101y", "bad duration \"101y\": must be at most 100 years" },
        { "99999999999999999999w", "bad duration \"99999999999999999999w\": must be at most 100 years" },
        { "06mo", "bad duration \"06mo\": write it without leading zeros (\"6mo\")" },
        { "", "bad duration \"\": expected a number then a unit, like \"2w\" or \"6mo\"" },
        { "1d\n2", "bad duration \"1d?2\": unit must be m, h, d, w, mo or y" },
        { "1\"d", "bad duration \"1?d\": unit must be m, h, d, w, mo or y" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct duration d;
        char why[160];
        cr_expect_eq(duration_parse(cases[i].in, &d, why, sizeof why), ERR_INPUT);
        cr_expect_str_eq(why, cases[i].why);
    }
    /* A long input is cut in the reason; a short buffer is truncated, not overrun. */
    char why[160], small[8];
    struct duration d;
    duration_parse("1234567890123456789012345678901234567890x", &d, why, sizeof why);
    cr_expect_str_eq(why, "bad duration \"12345678901234567890123456789012...\": "
                          "unit must be m, h, d, w, mo or y");
    memset(small, 'Z', sizeof small);
    duration_parse("3x", &d, small, sizeof small);
    cr_expect_str_eq(small, "bad dur");
}

/* ---- clock_add ---- */

Test(clock_add, calendar_months_clamp_to_month_end)
{
    struct duration mo1 = { 1, 0 }, mo2 = { 2, 0 }, y1 = { 12, 0 };
    char buf[21];
    static const struct { const char *from; struct duration d; long long n; const char *to; } cases[] = {
        { "2027-01-31", { 1, 0 }, 1, "2027-02-28T00:00:00Z" },
        { "2027-01-31", { 1, 0 }, 2, "2027-03-31T00:00:00Z" },   /* from the 31st, not Feb 28 + 1mo */
        { "2027-01-31", { 2, 0 }, 1, "2027-03-31T00:00:00Z" },
        { "2028-01-31", { 1, 0 }, 1, "2028-02-29T00:00:00Z" },
        { "2100-01-31", { 1, 0 }, 1, "2100-02-28T00:00:00Z" },   /* not a leap year */
        { "2000-01-31", { 1, 0 }, 1, "2000-02-29T00:00:00Z" },   /* a leap year */
        { "2027-03-31", { 1, 0 }, 1, "2027-04-30T00:00:00Z" },
        { "2027-12-15", { 1, 0 }, 1, "2028-01-15T00:00:00Z" },   /* year roll */
        { "2027-12-31", { 1, 0 }, 2, "2028-02-29T00:00:00Z" },
        { "2027-11-30", { 3, 0 }, 1, "2028-02-29T00:00:00Z" },
        { "2027-12-31", { 12, 0 }, 1, "2028-12-31T00:00:00Z" },
        { "2027-12-31", { 13, 0 }, 1, "2029-01-31T00:00:00Z" },
        { "2028-02-29", { 12, 0 }, 1, "2029-02-28T00:00:00Z" },
        { "2028-02-29", { 12, 0 }, 4, "2032-02-29T00:00:00Z" },  /* from the original, not Feb 28 */
        { "2028-02-29", { 12, 0 }, 100, "2128-02-29T00:00:00Z" },
        { "2027-01-31T13:45:10Z", { 1, 0 }, 1, "2027-02-28T13:45:10Z" },  /* time of day kept */
        { "2027-01-31T23:59:59Z", { 6, 0 }, 1, "2027-07-31T23:59:59Z" },
        { "2027-01-01", { 0, 1209600 }, 1, "2027-01-15T00:00:00Z" },
        { "2027-01-01", { 0, 1209600 }, 26, "2027-12-31T00:00:00Z" },
        { "2027-01-01T10:00:00Z", { 0, 900 }, 3, "2027-01-01T10:45:00Z" },
        { "2027-02-28", { 0, 86400 }, 1, "2027-03-01T00:00:00Z" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        time_format(clock_add(T(cases[i].from), cases[i].d, cases[i].n), buf);
        cr_expect_str_eq(buf, cases[i].to, "%s + %lld*{%d,%lld}", cases[i].from, cases[i].n,
                         cases[i].d.months, cases[i].d.seconds);
    }
    /* n multiples always count from the original date: each is its month's min(31, end). */
    static const char *ends[] = { "2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31",
                                  "2027-06-30", "2027-07-31", "2027-08-31", "2027-09-30", "2027-10-31",
                                  "2027-11-30", "2027-12-31", "2028-01-31", "2028-02-29", "2028-03-31" };
    tdm_time start = T("2027-01-31");
    for (long long n = 0; n < 15; n++)
        cr_expect_eq(clock_add(start, mo1, n), T(ends[n]), "2027-01-31 + %lldmo", n);
    cr_expect_eq(clock_add(start, mo2, 0), start);
    cr_expect_eq(clock_add(T("2028-02-29"), y1, 1), clock_add(T("2028-02-29"), mo1, 12));
}

/* An independent check of calendar months: walk with gmtime_r/timegm and
 * compare the fields the definition names. */
Test(clock_add, months_property_against_gmtime)
{
    unsigned long long seed = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 20000; i++) {
        tdm_time t = rng_range(&seed, 0, 253402300799LL - 200LL * 366 * 86400);  /* leaves room */
        int months = (int)rng_range(&seed, 1, 24);
        long long n = rng_range(&seed, 0, 50);
        tdm_time r = clock_add(t, (struct duration){ months, 0 }, n);

        time_t tt = (time_t)t, rr = (time_t)r;
        struct tm a, b;
        cr_assert_not_null(gmtime_r(&tt, &a));
        cr_assert_not_null(gmtime_r(&rr, &b));
        long long want_idx = (a.tm_year + 1900LL) * 12 + a.tm_mon + months * n;
        long long got_idx = (b.tm_year + 1900LL) * 12 + b.tm_mon;
        cr_assert_eq(got_idx, want_idx, "t=%lld +%lld*%dmo: wrong month", t, n, months);
        /* the last day of the target month, from timegm's normalisation of day 0 of the next */
        struct tm next = { .tm_year = b.tm_year, .tm_mon = b.tm_mon + 1, .tm_mday = 0 };
        timegm(&next);
        int want_day = a.tm_mday < next.tm_mday ? a.tm_mday : next.tm_mday;
        cr_assert_eq(b.tm_mday, want_day, "t=%lld +%lld*%dmo: day %d, want %d", t, n, months,
                     b.tm_mday, want_day);
        cr_assert(b.tm_hour == a.tm_hour && b.tm_min == a.tm_min && b.tm_sec == a.tm_sec,
                  "t=%lld: time of day changed", t);
    }
}

Test(clock_add, seconds_and_saturation)
{
    tdm_time t = T("2027-01-01");
    cr_expect_eq(clock_add(t, (struct duration){ 0, 3600 }, 5), t + 5 * 3600);
    cr_expect_eq(clock_add(t, (struct duration){ 0, 3600 }, 0), t);
    cr_expect_eq(clock_add(t, (struct duration){ 1, 3600 }, 1), T("2027-02-01T01:00:00Z"));
    cr_expect_eq(clock_add(t, (struct duration){ 0, 86400 }, LLONG_MAX / 2), TDM_TIME_MAX);
    cr_expect_eq(clock_add(t, (struct duration){ 1200, 0 }, LLONG_MAX / 2), TDM_TIME_MAX);
    cr_expect_eq(clock_add(t, (struct duration){ 12, 0 }, 1000000000000LL), TDM_TIME_MAX);
    cr_expect_eq(clock_add(TDM_TIME_MAX - 10, (struct duration){ 0, 60 }, 1), TDM_TIME_MAX);
    cr_expect_eq(clock_add(TDM_TIME_MAX - 10, (struct duration){ 1, 0 }, 1), TDM_TIME_MAX);
    /* going back works the same way, should a caller ever need it */
    cr_expect_eq(clock_add(T("2027-03-31"), (struct duration){ 1, 0 }, -1), T("2027-02-28"));
    cr_expect_eq(clock_add(T("2027-01-15"), (struct duration){ 1, 0 }, -1), T("2026-12-15"));
}

/* ---- civil dates ---- */

Test(civil, every_day_against_timegm_and_gmtime)
{
    /* Every day from 1600 to 2500: 328,000 days through four century rules. */
    long long first = days_from_civil(1600, 1, 1);
    cr_assert_eq(first * 86400, oracle_timegm(1600, 1, 1));
    long long day = first;
    for (int y = 1600; y <= 2500; y++) {
        for (int m = 1; m <= 12; m++) {
            struct tm nx = { .tm_year = y - 1900, .tm_mon = m, .tm_mday = 0 };
            timegm(&nx);
            cr_assert_eq(days_in_month(y, m), nx.tm_mday, "days_in_month(%d, %d)", y, m);
            for (int d = 1; d <= nx.tm_mday; d++, day++) {
                long long got = days_from_civil(y, m, d);
                if (got != day || got * 86400 != oracle_timegm(y, m, d))
                    cr_assert_fail("days_from_civil(%d-%d-%d) = %lld, want %lld", y, m, d, got, day);
                int yy, mm, dd;
                civil_from_days(day, &yy, &mm, &dd);
                if (yy != y || mm != m || dd != d)
                    cr_assert_fail("civil_from_days(%lld) = %d-%d-%d, want %d-%d-%d", day, yy, mm, dd, y, m, d);
            }
        }
    }
    cr_expect_eq(days_in_month(2027, 0), 0);
    cr_expect_eq(days_in_month(2027, 13), 0);
}

Test(civil, wide_random_round_trip_against_gmtime)
{
    unsigned long long seed = 12345;
    for (int i = 0; i < 200000; i++) {
        /* roughly years -1,000,000 to +1,000,000 */
        long long day = rng_range(&seed, -365242500LL, 365242500LL);
        int y, m, d;
        civil_from_days(day, &y, &m, &d);
        cr_assert_eq(days_from_civil(y, m, d), day, "round trip of day %lld", day);
        time_t tt = (time_t)(day * 86400);
        struct tm tm;
        cr_assert_not_null(gmtime_r(&tt, &tm));
        cr_assert(tm.tm_year + 1900LL == y && tm.tm_mon + 1 == m && tm.tm_mday == d,
                  "day %lld: %d-%d-%d, gmtime says %lld-%d-%d", day, y, m, d,
                  tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday);
    }
    /* the ends of the int year range, and clamping beyond them, without overflow */
    static const int ends[] = { INT_MAX, INT_MIN + 1 };
    for (int i = 0; i < 2; i++) {
        int y, m, d;
        civil_from_days(days_from_civil(ends[i], 12, 31), &y, &m, &d);
        cr_expect(y == ends[i] && m == 12 && d == 31, "year %d came back as %d-%d-%d", ends[i], y, m, d);
    }
    int y, m, d;
    civil_from_days(LLONG_MAX, &y, &m, &d);
    cr_expect_eq(y, INT_MAX);
    civil_from_days(LLONG_MIN, &y, &m, &d);
    cr_expect_eq(y, INT_MIN);
    cr_expect_eq(days_from_civil(1970, 1, 1), 0);
    cr_expect_eq(days_from_civil(1969, 12, 31), -1);
    cr_expect_eq(days_from_civil(0, 3, 1), -719468);
}

/* ---- time_parse / time_format ---- */

Test(time, parses_the_three_forms)
{
    cr_expect_eq(T("2027-01-01"), 1798761600);
    cr_expect_eq(T("2000-01-01T00:00:00Z"), 946684800);
    cr_expect_eq(T("2027-01-31T13:45:10Z"), 1801403110);
    cr_expect_eq(T("2028-02-29"), 1835395200);
    cr_expect_eq(T("1970-01-01T00:00:00Z"), 0);
    cr_expect_eq(T("2027-01-01T10:00:00+02:00"), T("2027-01-01T08:00:00Z"));
    cr_expect_eq(T("2027-01-01T01:00:00+02:00"), T("2026-12-31T23:00:00Z"));
    cr_expect_eq(T("2027-01-01T10:00:00-05:30"), T("2027-01-01T15:30:00Z"));
    cr_expect_eq(T("2027-01-01T10:00:00-00:00"), T("2027-01-01T10:00:00Z"));
    cr_expect_eq(T("2027-01-01T10:00:00.123456Z"), T("2027-01-01T10:00:00Z"));
    cr_expect_eq(T("2027-01-01T10:00:00.9+01:00"), T("2027-01-01T09:00:00Z"));
    cr_expect_eq(T("2027-01-01t10:00:00z"), T("2027-01-01T10:00:00Z"));
    cr_expect_eq(T("2027-01-01 10:00:00Z"), T("2027-01-01T10:00:00Z"));
    cr_expect_eq(T("2016-12-31T23:59:60Z"), T("2017-01-01T00:00:00Z"));
    cr_expect_eq(T("9999-12-31T23:59:59Z"), 253402300799LL);
}

Test(time, refuses)
{
    static const char *bad[] = {
        "2027-02-29", "2027-13-01", "2027-00-10", "2027-01-00", "2027-01-32", "2027-04-31",
        "2100-02-29", "2027-01-01junk", "2027-01-01T10:00:00Zjunk", "2027-01-01T10:00:00Z ",
        "2027-01-01T24:00:00Z", "2027-01-01T10:60:00Z", "2027-01-01T10:00:61Z",
        "2027-01-01T10:00:00", "2027-01-01T10:00Z", "2027-01-01T", "2027-01-01T10:00:00.Z",
        "2027-01-01T10:00:00+0200", "2027-01-01T10:00:00+24:00", "2027-01-01T10:00:00+02:60",
        "2027-01-01T10:00:00+2:00", "2027-1-01", "27-01-01", "20270101", " 2027-01-01",
        "1969-12-31", "0000-01-01", "10000-01-01", "1970-01-01T00:30:00+01:00",
        "2027-01-01T1:00:00Z", "2027-01-01X10:00:00Z", "", "-2027-01-01", "2027/01/01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tdm_time t = 42;
        cr_expect_eq(time_parse(bad[i], &t), ERR_INPUT, "\"%s\" accepted", bad[i]);
        cr_expect_eq(t, 42, "\"%s\" wrote *out on failure", bad[i]);
    }
    tdm_time t;
    cr_expect_eq(time_parse(NULL, &t), ERR_INPUT);
}

Test(time, format_and_parse_round_trip_against_strftime)
{
    char buf[21], want[32];
    time_format(0, buf);
    cr_expect_str_eq(buf, "1970-01-01T00:00:00Z");
    time_format(1801403110, buf);
    cr_expect_str_eq(buf, "2027-01-31T13:45:10Z");
    time_format(TDM_TIME_MAX, buf);
    cr_expect_str_eq(buf, "9999-12-31T23:59:59Z");
    time_format(LLONG_MIN, buf);
    cr_expect_str_eq(buf, "0000-01-01T00:00:00Z");
    time_format(-1, buf);
    cr_expect_str_eq(buf, "1969-12-31T23:59:59Z");

    unsigned long long seed = 777;
    for (int i = 0; i < 200000; i++) {
        tdm_time t = rng_range(&seed, 0, 253402300799LL);
        time_format(t, buf);
        oracle_format(t, want);
        cr_assert_str_eq(buf, want, "t=%lld", t);
        tdm_time back = -1;
        cr_assert_eq(time_parse(buf, &back), 0, "%s refused", buf);
        cr_assert_eq(back, t, "%s parsed as %lld, want %lld", buf, back, t);
    }
}

/* ---- the clock ---- */

Test(clock, virtual_moves_only_forward_when_told)
{
    struct clock c;
    clock_init_virtual(&c, T("2027-01-01"));
    cr_expect_eq(c.kind, CLOCK_VIRTUAL);
    cr_expect_eq(clock_now(&c), T("2027-01-01"));
    cr_expect_eq(clock_now(&c), T("2027-01-01"), "a virtual clock does not move by itself");
    cr_expect_eq(clock_advance(&c, T("2027-01-15")), 0);
    cr_expect_eq(clock_now(&c), T("2027-01-15"));
    cr_expect_eq(clock_advance(&c, T("2027-01-15")), 0, "advancing to now is fine");
    cr_expect_eq(clock_advance(&c, T("2027-01-14")), ERR_INPUT, "never backwards");
    cr_expect_eq(clock_now(&c), T("2027-01-15"), "a refused advance changes nothing");
    cr_expect_eq(clock_advance(&c, TDM_TIME_MAX), 0);
    cr_expect_eq(clock_now(&c), TDM_TIME_MAX);
}

Test(clock, real_reads_the_system_and_never_goes_back)
{
    struct clock c;
    time_t before = time(NULL);
    clock_init_real(&c);
    time_t after = time(NULL);
    cr_expect_eq(c.kind, CLOCK_REAL);
    tdm_time now = clock_now(&c);
    cr_expect(now >= before && now <= after + 1, "real clock %lld not near system time %lld", now,
              (long long)before);
    tdm_time last = now;
    for (int i = 0; i < 1000; i++) {
        tdm_time n = clock_now(&c);
        cr_assert_geq(n, last);
        last = n;
    }
    /* A system clock that stepped back (simulated: the last value lies ahead)
     * holds program time still. */
    tdm_time held = (tdm_time)time(NULL) + 3600;
    c.now = held;
    cr_expect_eq(clock_now(&c), held, "went back to the system time");
    cr_expect_eq(clock_now(&c), held);
    cr_expect_eq(clock_advance(&c, held + 10), ERR_INPUT, "a real clock is not advanced by hand");
    cr_expect_eq(clock_now(&c), held);
}
