/* tzone: local time per IANA zone (see tzone.h). */
#include "tzone.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_SIZE 8192    /* entries (zone, hour) -> offset; a power of two */
#define STEP 1800          /* placement step: half an hour */
#define SEARCH_DAYS 14

struct entry {
    char *zone;            /* owned; NULL: empty slot */
    long long hour;        /* t / 3600 */
    int offset;
};

static struct entry cache[CACHE_SIZE];
static char *tz_set;       /* the zone TZ holds now */


static int lookup(const char *zone, tdm_time t)
{
    if (!tz_set || strcmp(tz_set, zone) != 0) {
        char *copy = strdup(zone);
        if (!copy)
            return 0;
        free(tz_set);
        tz_set = copy;
        setenv("TZ", zone, 1);
        tzset();
    }
    time_t tt = (time_t)t;
    struct tm tm;
    return localtime_r(&tt, &tm) ? (int)tm.tm_gmtoff : 0;
}

/* Per zone, the offsets at the first and the last second of each UTC day in a range that
 * grows a year at a time: a day whose two agree has one offset throughout (zones change
 * at most once a day), so only the few days with a change are asked hour by hour. Filling a
 * year costs one tzset for the zone instead of one each time placement switches zones. */
struct zone_days {
    char *zone;
    long long first;       /* the first day held (days since the epoch) */
    int n;
    int (*off)[2];         /* [day - first] = { offset at 00:00:00, offset at 23:59:59 } UTC */
};

static struct zone_days *zone_days;
static int n_zone_days, cap_zone_days;
/* zone name -> 1 + its index in zone_days (0: empty), open addressing by a hash of the name:
 * a person's zone string has its own address, so with thousands of people the address
 * slots below miss often, and a scan of every zone name per miss was 2% of a simulation. */
static int *zone_slots;
static size_t n_zone_slots;   /* a power of two, more than twice n_zone_days */

static uint64_t name_hash(const char *z)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *z; z++)
        h = (h ^ (unsigned char)*z) * 1099511628211ULL;
    return h;
}

/* The slot zone sits in, or the empty one where it would go. */
static size_t zone_slot(const char *zone)
{
    size_t i = name_hash(zone) & (n_zone_slots - 1);
    while (zone_slots[i] != 0 && strcmp(zone_days[zone_slots[i] - 1].zone, zone) != 0)
        i = (i + 1) & (n_zone_slots - 1);
    return i;
}

/* Makes room for one more zone in the slots. False when out of memory. */
static bool zone_slots_room(void)
{
    if ((size_t)(n_zone_days + 1) * 2 < n_zone_slots)
        return true;
    size_t n = n_zone_slots ? n_zone_slots * 2 : 64;
    int *slots = calloc(n, sizeof *slots);
    if (!slots)
        return false;
    free(zone_slots);
    zone_slots = slots;
    n_zone_slots = n;
    for (int i = 0; i < n_zone_days; i++)
        zone_slots[zone_slot(zone_days[i].zone)] = i + 1;
    return true;
}

static struct zone_days *days_of(const char *zone)
{
    /* Callers pass the same few strings (people's timezone fields) again and again: a slot
     * per string address remembers its zone, checked with one comparison (an address can be
     * reused for another name once a person changes). */
    static struct { const char *at; int zone; } seen[256];
    size_t at = ((uintptr_t)zone >> 4) & 255;
    if (seen[at].at == zone && seen[at].zone < n_zone_days &&
        strcmp(zone_days[seen[at].zone].zone, zone) == 0)
        return &zone_days[seen[at].zone];
    if (!zone_slots_room())
        return NULL;
    size_t slot = zone_slot(zone);
    if (zone_slots[slot] == 0) {
        if (n_zone_days == cap_zone_days) {
            int ncap = cap_zone_days ? cap_zone_days * 2 : 16;
            struct zone_days *nz = realloc(zone_days, (size_t)ncap * sizeof *nz);
            if (!nz)
                return NULL;
            zone_days = nz;
            cap_zone_days = ncap;
        }
        char *copy = strdup(zone);
        if (!copy)
            return NULL;
        zone_days[n_zone_days] = (struct zone_days){ .zone = copy };
        zone_slots[slot] = ++n_zone_days;
    }
    seen[at].at = zone;
    seen[at].zone = zone_slots[slot] - 1;
    return &zone_days[zone_slots[slot] - 1];
}

/* Makes zd hold `day`, adding a year on the side it lies. False when out of memory. */
static bool days_cover(struct zone_days *zd, long long day)
{
    if (zd->n > 0 && day >= zd->first && day < zd->first + zd->n)
        return true;
    long long from = zd->n == 0 ? day - 31 : day < zd->first ? day - 366 : zd->first;
    long long to = zd->n == 0 ? day + 366 : day < zd->first ? zd->first + zd->n : day + 366;
    if (to - from > 200 * 366)
        return false;   /* far-apart times: the hour cache serves them */
    int (*off)[2] = malloc((size_t)(to - from) * sizeof *off);
    if (!off)
        return false;
    for (long long d = from; d < to; d++) {
        long long k = d - zd->first;
        if (zd->n > 0 && k >= 0 && k < zd->n) {
            off[d - from][0] = zd->off[k][0];
            off[d - from][1] = zd->off[k][1];
        } else {
            off[d - from][0] = lookup(zd->zone, d * 86400);
            off[d - from][1] = lookup(zd->zone, d * 86400 + 86399);
        }
    }
    free(zd->off);
    zd->off = off;
    zd->first = from;
    zd->n = (int)(to - from);
    return true;
}

/* The offset of zone (found already: zd, or NULL) at t. */
static int zone_offset(struct zone_days *zd, const char *zone, tdm_time t)
{
    long long day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    if (zd && days_cover(zd, day) && zd->off[day - zd->first][0] == zd->off[day - zd->first][1])
        return zd->off[day - zd->first][0];
    /* Offsets change at most at whole hours in the zones of this world but for a few
     * historical ones; per hour is exact enough for meeting placement. */
    long long hour = t >= 0 ? t / 3600 : -((-t + 3599) / 3600);
    struct entry *e = &cache[((name_hash(zone) ^ (uint64_t)hour) * 0x9E3779B97F4A7C15ULL) & (CACHE_SIZE - 1)];
    if (e->zone && e->hour == hour && strcmp(e->zone, zone) == 0)
        return e->offset;
    int off = lookup(zone, hour * 3600);
    char *copy = strdup(zone);
    if (copy) {
        free(e->zone);
        *e = (struct entry){ copy, hour, off };
    }
    return off;
}

int tz_offset(const char *zone, tdm_time t)
{
    if (!zone || !*zone)
        return 0;
    return zone_offset(days_of(zone), zone, t);
}

/* Whether [t, t + len) is inside the zone's working hours [from, to) (minutes) on a local
 * weekday: then t itself; otherwise the earliest half-hour step after t at which it might
 * be. That step is only as far as the offset is known not to change: within t's UTC day
 * when the zone keeps one offset all that day (zones change at most once a day), else the
 * next step. Until then local time runs evenly, so a time before the day's hours waits for
 * them, and one after them, or on a weekend, waits for the next local day's. */
static tdm_time zone_next(struct zone_days *zd, const char *zone, tdm_time t, int from, int to, int len)
{
    int off = zone_offset(zd, zone, t);
    long long local = t + off;
    long long days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int minute = (int)((local - days * 86400) / 60);
    int wday = (int)(((days % 7) + 11) % 7);   /* 1970-01-01 was a Thursday (4); Sunday 0 */
    bool weekday = wday >= 1 && wday <= 5;
    if (weekday && minute >= from && minute * 60 + len <= to * 60)
        return t;
    long long day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    bool steady = zd && days_cover(zd, day) && zd->off[day - zd->first][0] == zd->off[day - zd->first][1];
    if (!steady)
        return t + STEP;
    long long wait = weekday && minute < from ? days * 86400 + from * 60LL : (days + 1) * 86400 + from * 60LL;
    tdm_time next = wait - off;
    next = next >= 0 ? (next + STEP - 1) / STEP * STEP : -(-next / STEP * STEP);
    tdm_time day_end = (day + 1) * 86400;   /* a whole number of steps */
    if (next > day_end)
        next = day_end;
    return next > t ? next : t + STEP;
}

#define PLACE_ZONES 16   /* zones found once per placement; more are found at each step */

tdm_time tz_place(const char *const *zones, int n, tdm_time from, int hours_from, int hours_to, int length_s)
{
    bool any = false;
    for (int i = 0; i < n; i++)
        if (zones[i] && *zones[i]) {
            any = true;
            days_of(zones[i]);   /* adds a zone not seen yet (which may move zone_days) */
        }
    if (!any)
        return from;
    struct zone_days *zd[PLACE_ZONES];   /* now that none moves */
    for (int i = 0; i < n && i < PLACE_ZONES; i++)
        zd[i] = zones[i] && *zones[i] ? days_of(zones[i]) : NULL;
    tdm_time start = (from + STEP - 1) / STEP * STEP, end = start + SEARCH_DAYS * 86400LL;
    for (tdm_time t = start; t < end;) {
        tdm_time next = t;
        for (int i = 0; next == t && i < n; i++)
            if (zones[i] && *zones[i])
                next = zone_next(i < PLACE_ZONES ? zd[i] : days_of(zones[i]), zones[i], t, hours_from, hours_to,
                                 length_s);
        if (next == t)
            return t;
        t = next;
    }
    return 0;
}

int tz_gap(const char *const *zones, int n, tdm_time t)
{
    int lo = 0, hi = 0;
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (!zones[i] || !*zones[i])
            continue;
        int off = tz_offset(zones[i], t);
        lo = any && lo < off ? lo : off;
        hi = any && hi > off ? hi : off;
        any = true;
    }
    return hi - lo;
}
