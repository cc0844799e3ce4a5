/* clock: program time and its arithmetic (durations, calendar months, RFC 3339),
 * and the engine's one source of "now". Everything is UTC: this room never reads
 * TZ, never calls localtime, and holds no global state. */
#ifndef TANDEM_CLOCK_H
#define TANDEM_CLOCK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Seconds since the Unix epoch, UTC. */
typedef long long tdm_time;

/* The largest time; clock_add saturates to it ("never") instead of overflowing. */
#define TDM_TIME_MAX LLONG_MAX

/* A length of program time. Exactly one of the two is non-zero in a value that
 * duration_parse produced; months are calendar months (1y = 12 months). */
struct duration {
    int months;
    long long seconds;
};

/* Parses "15m" (minutes), "2h", "3d", "2w", "6mo" or "1y" (= 12 months): a
 * positive whole number without leading zeros, then the unit, nothing else, at
 * most 100 years (1200mo, 36525d). Unit letters are lower case ("M" would be
 * ambiguous). Returns 0 and fills *out, or ERR_INPUT and writes a one-line
 * reason for a person into why (may be NULL; truncated to why_len), e.g.
 *   bad duration "3x": unit must be m, h, d, w, mo or y
 * *out is left untouched on failure. */
int duration_parse(const char *s, struct duration *out, char *why, size_t why_len);

/* Writes the canonical text of d into buf (truncated to len, always
 * NUL-terminated when len > 0): months as "Ny" when they divide into years,
 * else "Nmo"; seconds as the largest of w, d, h, m that divides them. Values
 * duration_parse cannot produce still format without loss: a zero duration is
 * "0m", seconds that are not whole minutes are "Ns" (not parseable back). When
 * both fields are set, only months are written. */
void duration_format(struct duration d, char *buf, size_t len);

/* Returns t + n*d. Months are calendar months counted from t itself, the day
 * clamped to the target month's last day and the time of day kept:
 * 2027-01-31 + 1mo = 2027-02-28, + 2*1mo = 2027-03-31, 2028-01-31 + 1mo =
 * 2028-02-29. If both fields of d are set, months are added first, then
 * seconds. n >= 0 is the contract (a negative n goes back the same way).
 * Never fails: a result past the representable range is TDM_TIME_MAX (and
 * LLONG_MIN below it). */
tdm_time clock_add(tdm_time t, struct duration d, long long n);

/* Parses an RFC 3339 time: "2027-01-01" (midnight UTC),
 * "2027-01-01T10:00:00Z", "2027-01-01T10:00:00+02:00" (converted to UTC).
 * 't'/'z' and a space for 'T' are accepted as RFC 3339 allows; fractional
 * seconds (".5") are accepted and dropped; second 60 (a leap second) is taken as
 * the next minute's 0. A time with a clock but no zone is refused (it would need
 * a time zone). Fields are range-checked (month 1-12, day within the month with
 * leap years, 00-23:00-59:00-60, offset up to 23:59), the year must be
 * 1970-9999 and the result not before the epoch. Returns 0 and fills *out, or
 * ERR_INPUT (*out untouched). */
int time_parse(const char *s, tdm_time *out);

/* Writes t as "2027-01-01T00:00:00Z" (20 characters and a NUL) into buf.
 * Times outside years 0000-9999 are clamped to that range's ends, so the text
 * always fits; TDM_TIME_MAX prints as "9999-12-31T23:59:59Z". */
void time_format(tdm_time t, char buf[static 21]);

/* Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian; month
 * 1-12, day 1-31; out-of-range days are counted on, as timegm does). Pure
 * integer arithmetic; valid for every int year. */
long long days_from_civil(int y, int m, int d);

/* The inverse: the civil date of a day count. The year must fit in an int
 * (|days| < about 7.8e11); beyond that it is clamped to INT_MIN/INT_MAX. */
void civil_from_days(long long days, int *y, int *m, int *d);

/* Days in month m (1-12) of year y, leap years included; 0 for a bad month. */
int days_in_month(long long y, int m);

/* The engine's one source of time. A virtual clock moves only when told (the
 * simulation jumps it to the next due item); a real clock reads the system time.
 * The struct is the caller's (embed it; nothing to free). The libuv timer of the
 * real clock belongs to the daemon, not here. */
enum clock_kind { CLOCK_VIRTUAL, CLOCK_REAL };

struct clock {
    enum clock_kind kind;
    tdm_time now;          /* virtual: the time; real: the latest value returned */
};

/* Starts a virtual clock at start. */
void clock_init_virtual(struct clock *c, tdm_time start);

/* Starts a real clock at the current system time. */
void clock_init_real(struct clock *c);

/* The current program time. Virtual: c->now. Real: the system time, but never
 * earlier than a value already returned (a system clock stepped back holds
 * program time still until it catches up), so it updates c->now — which is why
 * c is not const. */
tdm_time clock_now(struct clock *c);

/* Moves a virtual clock forward to t (t == now is fine). Returns 0, or ERR_INPUT
 * when t is earlier than now or the clock is real (the system moves it). */
int clock_advance(struct clock *c, tdm_time t);

#endif
