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

/* What falls due, in the order things due at the same instant happen. The kinds up to
 * DUE_MATCH_KINDS are per match (key: the match id). */
enum due_kind { DUE_APPROVAL, DUE_MEETING, DUE_ACK, DUE_REVIEW, DUE_CHECKIN, DUE_GOALS, DUE_IDLE, DUE_STALLED,
                DUE_REUP, DUE_REUP_END, DUE_MATCH_KINDS, DUE_REQUEST = DUE_MATCH_KINDS, DUE_MATCH };

struct engine_options {
    const char *state_dir;      /* created 0700 if absent */
    enum journal_sync sync;
    bool simulate;              /* virtual clock, seeded behaviour, a fresh log */
    unsigned long long seed;
    tdm_time start;             /* virtual clock start (simulate) */
    FILE *diag;                 /* where repairs and warnings are reported (stderr) */
};

struct plugins;
struct engine_plugin_io;
struct uv_loop_s;

/* A fact's "match", "request" and "program" members (each NULL when absent). */
struct fact_refs {
    const cJSON *match, *request, *program;
};

struct pending_event {
    cJSON *event;
    struct journal_mark mark;   /* its line in the journal's buffer: a reply takes its print there */
    struct fact_refs refs;      /* found once, when it was committed */
    int depth;
};

/* Memory for the nodes of the most frequent facts (a person added, an enrolment): taken
 * in order, given back all at once when no event is queued any more (engine.c). */
struct fact_pool_chunk;
struct fact_pool {
    struct fact_pool_chunk *head;   /* the chunk taken from; older ones follow */
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
    tdm_time (*pushed)[DUE_MATCH_KINDS];  /* per match id: when each kind was last queued */
    long long n_pushed;
    size_t due_kept;            /* items in `due` after its last clearing of stale ones */
    tdm_time *next_tick;        /* per state program: the next matching tick */
    long long *tick_n;
    int n_ticks;
    char dir[4096];             /* STATE */
    char path[4200];            /* STATE/events.jsonl */
    long long snapshot_seq;     /* seq of the newest snapshot written or loaded */
    struct plugins *plugins;    /* NULL until a plugin is loaded (engine_plugins.c) */
    struct engine_plugin_io *pio;
    struct uv_loop_s *loop;     /* the daemon's loop for plugins; NULL: simulate makes its own */
    struct fact_pool pool;      /* nodes of pooled facts (engine_pool_fact) */
    int draining;               /* drain calls under way: the pool is emptied only outside them */
    tdm_time fact_time;         /* the time engine_fact last printed ... */
    char fact_ts[21];           /* ... and its text ("" before the first fact) */
};

/* Opens the state directory and its log (replaying what is there into the state), or, when
 * simulating, starts a fresh log. Returns 0 or a negative code with err set. */
int engine_open(struct engine *e, const struct engine_options *o, struct error *err);
void engine_close(struct engine *e);

/* Takes ownership of r and records it with a `rules` event (phase loaded or reloaded),
 * then enrols everyone the new programs accept. */
int engine_use_rules(struct engine *e, struct rules *r, struct error *err);

/* A reload: engine_use_rules, with the `rules` event committed at once (also when the caller
 * holds commits). If the log fails, r is freed and the rules in force stay the old ones, as
 * the log says; the state still holds what did not reach the disk (engine_rebuild). */
int engine_reload_rules(struct engine *e, struct rules *r, struct error *err);

/* Imports people from a CSV export as person commands. Bad rows go to `errors`. */
int engine_import_people(struct engine *e, const char *csv, FILE *errors, struct people_csv_result *res,
                         struct error *err);

/* Executes one command and everything its events set off, then commits the log per the
 * sync policy. When facts is an array, copies of the command's own facts are appended.
 * Returns 0, ERR_INPUT (the command was refused: nothing happened) or ERR_SYSTEM. */
int engine_submit(struct engine *e, const cJSON *cmd, cJSON *facts, struct error *err);
/* engine_submit for a reply: *events gets before_text, the command's facts as the text of
 * one JSON array (the bytes cJSON_PrintUnformatted makes of the array engine_submit fills,
 * taken from the journal's own print of each event, so none is printed twice), then
 * after_text; *n_events is how many facts the array holds. The caller frees *events; it is
 * NULL when the command failed for want of memory. */
int engine_submit_json(struct engine *e, const cJSON *cmd, const char *before_text, const char *after_text,
                       char **events, int *n_events, struct error *err);

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

/* Writes a snapshot of the state (STATE/snapshot-SEQ.json) so the next start replays only
 * the log after it, without stopping the caller: commits what is pending, then forks; the
 * child writes the snapshot of the state as it is at that moment (snapshot_write: temp
 * file, fsync, rename, directory fsync) and exits, 0 when it is written. *pid is the child,
 * *fd the read end of a pipe (close-on-exec; the caller closes it) on which the child
 * writes why it failed, or nothing, before it exits; *seq the snapshot's seq. The caller
 * reads fd to its end, reaps pid, and on success calls engine_snapshot_written. Returns 0,
 * or ERR_SYSTEM when the commit failed (see journal_failed) or no child could be made. */
int engine_snapshot_fork(struct engine *e, int *pid, int *fd, long long *seq, struct error *err);
void engine_snapshot_written(struct engine *e, long long seq);

/* After the log failed (journal_failed): the state may hold facts that never reached the
 * disk. Rebuilds it from the newest snapshot and the log as the disk has it (journal_reopen:
 * the failed tail is cut), with the due schedule derived again; the rules stay. On failure
 * (the disk still failing) nothing changes and the log stays failed: call it again later. */
int engine_rebuild(struct engine *e, struct error *err);

/* Commits anything pending and syncs the log to disk. */
int engine_sync(struct engine *e, struct error *err);

/* Plugins (engine_plugins.c). A plugin sees each event after the commit that put it on disk.
 * engine_set_loop gives the daemon's loop to plugins loaded later (without it, as in simulate,
 * the engine runs a loop of its own between batches). engine_load_plugin loads one (see
 * plugins_load); engine_load_rule_plugins the ones r asks for with tandem.plugin that are not
 * loaded yet (an optional one that fails is reported on diag and skipped; another fails with
 * the rule's FILE:LINE and the plugin's reason). engine_close_plugins closes them (the loop must
 * run afterwards for their handles to close; simulate's own loop is run here). */
void engine_set_loop(struct engine *e, struct uv_loop_s *loop);
int engine_load_plugin(struct engine *e, const char *what, const cJSON *config, struct error *err);
int engine_load_rule_plugins(struct engine *e, const struct rules *r, struct error *err);
void engine_close_plugins(struct engine *e);

/* Rebuilds a state from a log without locking it or running any rule (report, tail). */
int engine_replay(const char *path, struct state *s, FILE *diag, struct error *err);

#endif
