/* lifecycle: a program's settings for keeping relationships alive (stagnation signals,
 * the re-up window, goals, expectations and training, check-ins, working hours, requests).
 * One parser for all three places they come from: the rule file (lua_api turns the Lua
 * fields into JSON first), the `rules` event of the log, and snapshots. */
#ifndef TANDEM_LIFECYCLE_H
#define TANDEM_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "clock.h"

enum on_stalled { STALLED_CLOSE, STALLED_FLAG };
enum reup_default { REUP_DEFAULT_CLOSE, REUP_DEFAULT_RENEW };

struct lifecycle {
    struct duration stalled_after;   /* no activity this long: stalled (zero: never) */
    enum on_stalled on_stalled;      /* close the match (reason stalled) or only flag it */
    struct duration reup_window;     /* the re-up opens this long before term_ends */
    enum reup_default reup_default;  /* what a party who never answered chose */
    struct duration goals_within;    /* goals due within this of the start (zero: no rule) */
    char *expectations;              /* NULL: none */
    char **training;
    int n_training;
    bool acknowledge;                /* both parties `ack` before the first meeting */
    struct duration *checkins;       /* from the match start */
    int n_checkins;
    int hours_from, hours_to;        /* local working hours, minutes after midnight */
    struct duration meeting_length;
    int max_tz_gap;                  /* hours between the parties' UTC offsets; -1: no cap */
    struct duration respond_within;  /* a requested mentor's time to answer */
};

/* The names of the rule-file fields this room owns (NULL-terminated). */
extern const char *const lifecycle_fields[];

/* The defaults: stalled_after 90d (close), reup_window 2w (close), no goals_within, no
 * expectations or training, no ack, no check-ins, hours 09:00-17:00, meetings 1h, no tz cap,
 * respond_within 3d. */
void lifecycle_defaults(struct lifecycle *l);
void lifecycle_free(struct lifecycle *l);

/* Reads the fields named in lifecycle_fields from obj (absent ones keep their defaults).
 * Returns 0, or ERR_INPUT with the offending field's name in *field and a reason in why;
 * l is then left with its defaults (nothing to free but what lifecycle_free frees). */
int lifecycle_from_json(struct lifecycle *l, const cJSON *obj, const char **field, char *why, size_t why_len);

/* Adds every field to obj in the form lifecycle_from_json reads back. Returns false on ENOMEM. */
bool lifecycle_to_json(const struct lifecycle *l, cJSON *obj);

#endif
