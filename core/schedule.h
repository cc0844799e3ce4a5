/* schedule: the min-heap of due items (next meeting, review, re-up, matching tick,
 * rotation). The engine rebuilds it from the state; it is never journaled and
 * knows nothing of what the items mean. */
#ifndef TANDEM_SCHEDULE_H
#define TANDEM_SCHEDULE_H

#include "clock.h"

#include <stdbool.h>
#include <stddef.h>

/* One due item, copied in and out by value. */
struct due {
    tdm_time when;     /* when it is due */
    int kind;          /* what is due: a small engine-defined code */
    long long key;     /* which one: a match id, a program index, ... */
};

/* Opaque binary min-heap ordered by when, then kind, then key, then insertion
 * order (FIFO), so the order is total and a simulation byte-identical from run
 * to run. Duplicates are kept; the engine drops stale items when it pops them.
 * Not thread-safe; one owner. */
struct schedule;

/* A new empty schedule, owned by the caller (schedule_free). NULL on ENOMEM. */
struct schedule *schedule_new(void);

/* Frees s and every item in it. NULL is fine. */
void schedule_free(struct schedule *s);

/* Adds a copy of d. Returns 0, or -ENOMEM (s unchanged). */
int schedule_push(struct schedule *s, struct due d);

/* Copies the first item into *out without removing it; false when empty
 * (*out untouched). */
bool schedule_peek(const struct schedule *s, struct due *out);

/* Removes the first item and copies it into *out (out may be NULL to drop it);
 * false when empty. */
bool schedule_pop(struct schedule *s, struct due *out);

/* Keeps only the items keep(d, ctx) accepts (asked once per item, in no set order) and
 * restores the heap in O(n): the kept items pop in the order they would have. Returns how
 * many were dropped. For a caller whose stale items would pile up between pops. */
size_t schedule_filter(struct schedule *s, bool (*keep)(const struct due *d, void *ctx), void *ctx);

/* How many items are queued. */
size_t schedule_size(const struct schedule *s);

/* Removes every item; keeps the memory for reuse. */
void schedule_clear(struct schedule *s);

#endif
