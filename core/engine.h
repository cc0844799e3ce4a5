/* engine: the one way state changes. A command (a CSV row, a ctl line, a due item, a rule's
 * action) is validated against the state and turned into facts; each fact is journaled, then
 * applied, then shown to the rules as an event; what the rules ask for comes back as commands
 * through the same door, at most ENGINE_MAX_DEPTH deep. Time comes from one clock. */
#ifndef TANDEM_ENGINE_H
#define TANDEM_ENGINE_H

#include <stdbool.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "clock.h"
#include "error.h"
#include "journal.h"
#include "people_csv.h"
#include "rules.h"
#include "schedule.h"
#include "sim.h"
#include "state.h"

#define ENGINE_MAX_DEPTH 8

enum due_kind { DUE_APPROVAL, DUE_MEETING, DUE_REVIEW, DUE_REUP, DUE_MATCH };

struct engine_options {
    const char *state_dir;      /* created 0700 if absent */
    enum journal_sync sync;
    bool simulate;              /* virtual clock, seeded behaviour, a fresh log */
    unsigned long long seed;
    tdm_time start;             /* virtual clock start (simulate) */
    FILE *diag;                 /* where repairs and warnings are reported (stderr) */
};

struct pending_event {
    cJSON *event;
    int depth;
};

struct engine {
    struct state state;
    struct journal *journal;
    struct rules *rules;        /* owned; NULL until rules are loaded */
    struct clock clock;
    struct schedule *due;
    bool simulating;
    struct sim sim;
    enum journal_sync sync;
    bool hold_commit;           /* the daemon groups commits itself (--fsync batch) */
    FILE *diag;
    struct pending_event *queue;
    int q_head, q_len, q_cap;
    tdm_time *next_tick;        /* per state program: the next matching tick */
    long long *tick_n;
    int n_ticks;
    char dir[4096];             /* STATE */
    char path[4200];            /* STATE/events.jsonl */
    long long snapshot_seq;     /* seq of the newest snapshot written or loaded */
};

/* Opens the state directory and its log (replaying what is there into the state), or, when
 * simulating, starts a fresh log. Returns 0 or a negative code with err set. */
int engine_open(struct engine *e, const struct engine_options *o, struct error *err);
void engine_close(struct engine *e);

/* Takes ownership of r and records it with a `rules` event (phase loaded or reloaded),
 * then enrols everyone the new programs accept. */
int engine_use_rules(struct engine *e, struct rules *r, struct error *err);

/* Imports people from a CSV export as person commands. Bad rows go to `errors`. */
int engine_import_people(struct engine *e, const char *csv, FILE *errors, struct people_csv_result *res,
                         struct error *err);

/* Executes one command and everything its events set off, then commits the log per the
 * sync policy. When facts is an array, copies of the command's own facts are appended.
 * Returns 0, ERR_INPUT (the command was refused: nothing happened) or ERR_SYSTEM. */
int engine_submit(struct engine *e, const cJSON *cmd, cJSON *facts, struct error *err);

/* Virtual clock: fires every due item up to and including `until`, in order, then moves the
 * clock there. progress (may be NULL) is called now and then with the current time. */
typedef void (*engine_progress_fn)(void *ctx, tdm_time now);
int engine_advance(struct engine *e, tdm_time until, engine_progress_fn progress, void *ctx, struct error *err);

/* Real clock: fires every item due by now, in order. */
int engine_fire_due(struct engine *e, struct error *err);
/* The time of the next current due item; false when nothing is due. */
bool engine_next_due(struct engine *e, tdm_time *when);
/* With hold_commit: writes and syncs (per the policy) everything appended so far. */
int engine_commit_pending(struct engine *e, struct error *err);
/* Records that a rule file was refused (a `rules` event, phase rejected); the old rules go on. */
int engine_reject_rules(struct engine *e, const char *path, const char *message, struct error *err);

/* Commits what is pending, then writes a snapshot of the state (STATE/snapshot-SEQ.json) so
 * the next start replays only the log after it. */
int engine_snapshot(struct engine *e, struct error *err);

/* After the log failed (journal_failed): the state may hold facts that never reached the
 * disk. Rebuilds it from the newest snapshot and the log as the disk has it (journal_reopen:
 * the failed tail is cut), with the due schedule derived again; the rules stay. On failure
 * (the disk still failing) nothing changes and the log stays failed: call it again later. */
int engine_rebuild(struct engine *e, struct error *err);

/* Commits anything pending and syncs the log to disk. */
int engine_sync(struct engine *e, struct error *err);

/* Rebuilds a state from a log without locking it or running any rule (report, tail). */
int engine_replay(const char *path, struct state *s, FILE *diag, struct error *err);

#endif
