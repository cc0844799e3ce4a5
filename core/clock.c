/* clock: durations, calendar arithmetic, RFC 3339 and the engine clock, all in UTC
 * with pure integer arithmetic. Must never read TZ, call localtime/mktime, or keep
 * state outside the struct clock it is handed. */
#include "clock.h"

#include "error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SECS_PER_DAY 86400LL
#define MAX_DAYS     36525LL      /* 100 years of 365.25 days: the duration ceiling */

/* ---- civil calendar (H. Hinnant's algorithms, in long long throughout) ---- */

static bool is_leap(long long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(long long y, int m)
{
    static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static long long days_from_civil_ll(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = floor_div(y, 400);
    long long yoe = y - era * 400;                                   /* [0, 399] */
    long long doy = (153LL * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days_ll(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = floor_div(z, 146097);
    long long doe = z - era * 146097;                                     /* [0, 146096] */
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* [0, 365] */
    long long mp = (5 * doy + 2) / 153;                                   /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

long long days_from_civil(int y, int m, int d)
{
    return days_from_civil_ll(y, m, d);
}

void civil_from_days(long long days, int *y, int *m, int *d)
{
    /* Keep z + 719468 and the era arithmetic away from overflow. */
    if (days > LLONG_MAX / 2)
        days = LLONG_MAX / 2;
    if (days < LLONG_MIN / 2)
        days = LLONG_MIN / 2;
    long long yy;
    civil_from_days_ll(days, &yy, m, d);
    *y = yy > INT_MAX ? INT_MAX : yy < INT_MIN ? INT_MIN : (int)yy;
}

/* ---- durations ---- */

/* Copies at most 32 bytes of s for quoting in a reason, with control bytes
 * replaced so the reason stays on one line. */
static void quote_input(const char *s, char *buf, size_t len)
{
    size_t i = 0, n = strlen(s);
    for (; i < n && i < 32 && i + 1 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7f || c == '"') ? '?' : (char)c;
    }
    buf[i] = '\0';
    if (i < n && len > 4 && i + 3 < len)
        strcpy(buf + i, "...");
}

static int duration_refuse(const char *s, char *why, size_t why_len, const char *reason)
{
    if (why && why_len > 0) {
        char q[40];
        quote_input(s ? s : "", q, sizeof q);
        snprintf(why, why_len, "bad duration \"%s\": %s", q, reason);
    }
    return ERR_INPUT;
}

int duration_parse(const char *s, struct duration *out, char *why, size_t why_len)
{
    static const struct { const char *name; long long secs; int months; long long max; } units[] = {
        { "m",  60,           0,  MAX_DAYS * 1440 },
        { "h",  3600,         0,  MAX_DAYS * 24 },
        { "d",  SECS_PER_DAY, 0,  MAX_DAYS },
        { "w",  7 * SECS_PER_DAY, 0, MAX_DAYS / 7 },
        { "mo", 0,            1,  1200 },
        { "y",  0,            12, 100 },
    };
    if (s == NULL || *s == '\0')
        return duration_refuse(s, why, why_len, "expected a number then a unit, like \"2w\" or \"6mo\"");
    if (*s < '0' || *s > '9')
        return duration_refuse(s, why, why_len, "must start with a positive whole number, like \"2w\"");

    const char *p = s;
    long long value = 0;
    bool huge = false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (value > 1000000000000LL)   /* far above every unit's ceiling; stop before overflow */
            huge = true;
        else
            value = value * 10 + (*p - '0');
    }
    if (*p == '.' || *p == ',')
        return duration_refuse(s, why, why_len, "must be a whole number");
    if (*p == '\0')
        return duration_refuse(s, why, why_len, "missing unit: m, h, d, w, mo or y");
    size_t u = 0, nunits = sizeof units / sizeof units[0];
    while (u < nunits && strcmp(p, units[u].name) != 0)
        u++;
    if (u == nunits)
        return duration_refuse(s, why, why_len, "unit must be m, h, d, w, mo or y");
    if (value == 0 && !huge)
        return duration_refuse(s, why, why_len, "must be more than zero");
    if (huge || value > units[u].max)
        return duration_refuse(s, why, why_len, "must be at most 100 years");
    if (*s == '0') {
        /* Refused rather than read, so the text in a rule file is the canonical one. */
        char msg[64];
        snprintf(msg, sizeof msg, "write it without leading zeros (\"%lld%s\")", value, units[u].name);
        return duration_refuse(s, why, why_len, msg);
    }
    out->months = (int)(value * units[u].months);
    out->seconds = value * units[u].secs;
    return 0;
}

void duration_format(struct duration d, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return;
    if (d.months != 0) {
        if (d.months % 12 == 0)
            snprintf(buf, len, "%dy", d.months / 12);
        else
            snprintf(buf, len, "%dmo", d.months);
        return;
    }
    static const struct { long long secs; char unit; } units[] = {
        { 7 * SECS_PER_DAY, 'w' }, { SECS_PER_DAY, 'd' }, { 3600, 'h' }, { 60, 'm' },
    };
    if (d.seconds == 0) {
        snprintf(buf, len, "0m");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (d.seconds % units[i].secs == 0) {
            snprintf(buf, len, "%lld%c", d.seconds / units[i].secs, units[i].unit);
            return;
        }
    }
    snprintf(buf, len, "%llds", d.seconds);
}

/* ---- adding durations ---- */

static tdm_time saturate(bool positive)
{
    return positive ? TDM_TIME_MAX : LLONG_MIN;
}

static tdm_time add_months(tdm_time t, long long months)
{
    long long days = floor_div(t, SECS_PER_DAY);
    long long tod = t - days * SECS_PER_DAY;     /* [0, 86399] */
    long long y;
    int m, d;
    civil_from_days_ll(days, &y, &m, &d);

    /* Month index since year 0; far outside any real program, so overflow here
     * means the answer is past the end of time either way. */
    long long idx;
    if (__builtin_mul_overflow(y, 12LL, &idx) || __builtin_add_overflow(idx, (long long)(m - 1), &idx)
        || __builtin_add_overflow(idx, months, &idx))
        return saturate(months > 0);
    long long ny = floor_div(idx, 12);
    int nm = (int)(idx - ny * 12) + 1;
    /* Beyond this the day count's era arithmetic could overflow; the time
     * certainly cannot be represented. */
    if (ny > 290000000000LL || ny < -290000000000LL)
        return saturate(ny > 0);
    int dim = days_in_month(ny, nm);
    long long nd = days_from_civil_ll(ny, nm, d < dim ? d : dim);
    long long r;
    if (__builtin_mul_overflow(nd, SECS_PER_DAY, &r) || __builtin_add_overflow(r, tod, &r))
        return saturate(nd > 0);
    return r;
}

tdm_time clock_add(tdm_time t, struct duration d, long long n)
{
    if (n == 0)
        return t;
    if (d.months != 0) {
        long long months;
        if (__builtin_mul_overflow((long long)d.months, n, &months))
            return saturate((d.months > 0) == (n > 0));
        t = add_months(t, months);
        if (t == TDM_TIME_MAX || t == LLONG_MIN)
            return t;
    }
    long long secs;
    if (__builtin_mul_overflow(d.seconds, n, &secs))
        return saturate((d.seconds > 0) == (n > 0));
    tdm_time r;
    if (__builtin_add_overflow(t, secs, &r))
        return saturate(secs > 0);
    return r;
}

/* ---- RFC 3339 ---- */

/* Reads exactly n digits at *p; returns -1 when they are not all there. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

int time_parse(const char *s, tdm_time *out)
{
    if (s == NULL)
        return ERR_INPUT;
    const char *p = s;
    int y = digits(&p, 4);
    if (y < 0 || !expect(&p, '-'))
        return ERR_INPUT;
    int mo = digits(&p, 2);
    if (mo < 0 || !expect(&p, '-'))
        return ERR_INPUT;
    int d = digits(&p, 2);
    if (d < 0)
        return ERR_INPUT;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return ERR_INPUT;

    long long secs = 0, offset = 0;
    if (*p != '\0') {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return ERR_INPUT;
        p++;
        int hh = digits(&p, 2);
        if (hh < 0 || !expect(&p, ':'))
            return ERR_INPUT;
        int mm = digits(&p, 2);
        if (mm < 0 || !expect(&p, ':'))
            return ERR_INPUT;
        int ss = digits(&p, 2);
        if (ss < 0 || hh > 23 || mm > 59 || ss > 60)
            return ERR_INPUT;
        if (*p == '.') {
            p++;
            if (*p < '0' || *p > '9')
                return ERR_INPUT;
            while (*p >= '0' && *p <= '9')
                p++;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1;
            p++;
            int oh = digits(&p, 2);
            if (oh < 0 || !expect(&p, ':'))
                return ERR_INPUT;
            int om = digits(&p, 2);
            if (om < 0 || oh > 23 || om > 59)
                return ERR_INPUT;
            offset = sign * (oh * 3600LL + om * 60LL);
        } else {
            return ERR_INPUT;   /* a clock time without a zone */
        }
        secs = hh * 3600LL + mm * 60LL + ss;
    }
    if (*p != '\0')
        return ERR_INPUT;
    /* Local time = UTC + offset, so UTC = local - offset. */
    tdm_time t = days_from_civil(y, mo, d) * SECS_PER_DAY + secs - offset;
    if (t < 0)
        return ERR_INPUT;
    *out = t;
    return 0;
}

void time_format(tdm_time t, char buf[static 21])
{
    /* Clamp to years 0000-9999 so the text always has four year digits. */
    const long long lo = days_from_civil_ll(0, 1, 1) * SECS_PER_DAY;
    const long long hi = days_from_civil_ll(10000, 1, 1) * SECS_PER_DAY - 1;
    if (t < lo)
        t = lo;
    if (t > hi)
        t = hi;
    long long days = floor_div(t, SECS_PER_DAY);
    long long tod = t - days * SECS_PER_DAY;
    long long y;
    int m, d;
    civil_from_days_ll(days, &y, &m, &d);
    /* Written digit by digit: the compiler cannot prove snprintf's fields fit. */
    int fields[6] = { (int)y, m, d, (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60) };
    static const char tmpl[] = "0000-00-00T00:00:00Z";
    static const unsigned char at[6] = { 0, 5, 8, 11, 14, 17 }, width[6] = { 4, 2, 2, 2, 2, 2 };
    memcpy(buf, tmpl, sizeof tmpl);
    for (int f = 0; f < 6; f++)
        for (int i = width[f] - 1, v = fields[f]; i >= 0; i--, v /= 10)
            buf[at[f] + i] = (char)('0' + v % 10);
}

/* ---- the clock ---- */

void clock_init_virtual(struct clock *c, tdm_time start)
{
    c->kind = CLOCK_VIRTUAL;
    c->now = start;
}

void clock_init_real(struct clock *c)
{
    c->kind = CLOCK_REAL;
    c->now = 0;
    c->now = clock_now(c);
}

tdm_time clock_now(struct clock *c)
{
    if (c->kind == CLOCK_VIRTUAL)
        return c->now;
    time_t sys = time(NULL);
    /* time() only fails with a bad pointer; a -1 or a step back both hold still. */
    if (sys != (time_t)-1 && (tdm_time)sys > c->now)
        c->now = (tdm_time)sys;
    return c->now;
}

int clock_advance(struct clock *c, tdm_time t)
{
    if (c->kind != CLOCK_VIRTUAL || t < c->now)
        return ERR_INPUT;
    c->now = t;
    return 0;
}
