/* tail: the event log for operators, one readable line an event (or JSON for jq), filtered,
 * and followed as it grows (libuv fs events, with a periodic re-check in case one is missed).
 * It only reads the log: it never locks, repairs or writes it. */
#ifndef TANDEM_TAIL_H
#define TANDEM_TAIL_H

#include <stdbool.h>
#include <stdio.h>

#include "clock.h"
#include "error.h"

#define TAIL_MAX_TYPES 32

struct tail_options {
    const char *path;               /* STATE/events.jsonl */
    bool follow;                    /* -f: keep reading as the log grows, until SIGINT/SIGTERM */
    bool json;                      /* each event as one JSON line, without its crc */
    bool color;                     /* ANSI colours on the readable form */
    const char *types[TAIL_MAX_TYPES];   /* only these types (none: all) */
    int n_types;
    const char *program;            /* only events about this program (NULL: all) */
    long long match;                /* only events about this match (0: all) */
    const char *person;             /* only events naming this person (NULL: all) */
    tdm_time since;                 /* only events with ts >= since (0: all) */
    int recheck_ms;                 /* follow: re-read at least this often (0: 1000) */
    FILE *out;                      /* stdout when NULL */
};

/* Prints the log's events that pass the filters, then with follow waits for more. Returns 0
 * (also when a signal ends following), ERR_INPUT for a damaged log (FILE:LINE) or a missing
 * one, ERR_SYSTEM when the output or the file watch fails. */
int tail_run(const struct tail_options *o, struct error *err);

/* The event types this build writes, NULL-terminated (for --type's "did you mean"). */
extern const char *const tail_known_types[];

#endif
