/* report: program health from the event log, as text for people, JSON for tools (HTML is
 * rendered from the JSON by report_html). The report reads events as they are replayed
 * (report_feed applies each one to a state and counts it), so flows (meetings, goals,
 * re-ups, ...) can be counted inside a time window while stocks (enrolment, live matches)
 * are read from the state at the window's end. It never runs rules and never writes. */
#ifndef TANDEM_REPORT_H
#define TANDEM_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "state.h"

struct report_options {
    tdm_time since;             /* count events with ts >= since (0: from the start) */
    tdm_time until;             /* ... and ts < until; later events are not applied (0: to the end) */
    const char *program;        /* only this program (NULL: all); borrowed */
};

enum { REPORT_FB_ALL, REPORT_FB_MENTEES, REPORT_FB_MENTORS, REPORT_FB_PROGRAM, REPORT_FB_N };

/* What happened in the window, per program and in total. */
struct report_tally {
    long long matches, held, missed, cancelled, reviews, goals_set, goals_achieved, goals_dropped;
    long long reups_opened, reups_answered, reups_renewed, reups_closed;
    long long flags, flagged_matches, closes, notes, rule_errors, intros;
    long long closes_by_reason[8];       /* in close_reasons order; [7]: any other reason */
    double fb_sum[REPORT_FB_N];
    long long fb_n[REPORT_FB_N];
    double *waits;                       /* days from enrolment to a first match, one per person */
    long long n_waits, cap_waits;
};

/* One week of the window, for the charts. */
struct report_week {
    long long held, missed, started, closes, stalled, flags;
    long long live, flagged_live;        /* at the week's end */
};

/* The accumulator. Fields are visible for tests; use the functions below. */
struct report {
    struct report_options o;
    struct report_tally total;
    struct report_tally *progs;          /* per state program index */
    int n_progs;
    struct report_match { tdm_time created; bool flagged; } *matches;   /* per match id - 1 */
    int n_matches;
    struct report_enrol { tdm_time since; bool matched; } *enrols;       /* per state enrolment */
    int n_enrols;
    int *seq_program;                    /* program index of event seq (-1: none), for rule.error */
    long long n_seq;
    struct report_week *weeks;
    int n_weeks;
    int cur_week;                        /* -1 before the window's first event */
    tdm_time origin;                     /* the first week's start */
    long long in_window;                 /* events counted */
    long long unknown;                   /* events of a type this build does not know (skipped) */
    bool done;
};

void report_init(struct report *r, const struct report_options *o);
void report_free(struct report *r);

/* Applies one event to s (state_apply) and counts it. Returns 0; 1 when the event is at or
 * after the window's end (nothing applied: stop feeding); or state_apply's error. */
int report_feed(struct report *r, struct state *s, const cJSON *ev, struct error *err);

/* The report as a JSON object (schema in README "Report"). Caller owns it. After this call
 * the accumulator is finished: feed it no more. Never fails but for memory (NULL). */
cJSON *report_json(struct report *r, const struct state *s);

/* The stocks a state alone shows (people, enrolment, live matches), with every flow zero:
 * for a caller that has a state and no log (comparing two states). Caller owns it. */
cJSON *report_state_json(const struct state *s);

/* The same, laid out for a terminal, at most 100 columns wide. */
void report_text(const cJSON *report, FILE *out);

/* Replays the log at path (from its start, no snapshot) and builds its report. Returns 0 with
 * *out (caller owns it), or ERR_INPUT (a damaged log; an unknown --program, listing the known)
 * or ERR_SYSTEM. diag gets a torn last line's notice. */
int report_from_log(const char *path, const struct report_options *o, FILE *diag, cJSON **out,
                    struct error *err);

#endif
