/* tzone: people's local time, from the system's IANA time zone database (glibc's zoneinfo
 * through localtime_r under TZ), for placing meetings inside working hours. The process's
 * TZ variable is this room's scratch space: nothing else in tandem reads local time. Offsets
 * are cached per zone and hour, since switching TZ makes glibc read the zone file again. */
#ifndef TANDEM_TZONE_H
#define TANDEM_TZONE_H

#include <stdbool.h>

#include "clock.h"

/* The UTC offset (seconds east) of zone at t. A NULL or empty zone, or one the system does
 * not know, is UTC. */
int tz_offset(const char *zone, tdm_time t);

/* The first start at or after `from`, on a 30-minute step, when for every named zone the
 * local day is a weekday (Monday-Friday) and [start, start + length) lies inside the local
 * working hours [hours_from, hours_to) (minutes after midnight). NULL or empty zones do not
 * constrain; when none does, returns from. Searches 14 days; 0 when no start fits. */
tdm_time tz_place(const char *const *zones, int n, tdm_time from, int hours_from, int hours_to, int length_s);

/* The largest difference, in seconds, between the UTC offsets of the named zones at t
 * (NULL or empty zones are left out). */
int tz_gap(const char *const *zones, int n, tdm_time t);

#endif
