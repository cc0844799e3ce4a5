/* snapshot: the state as of one seq, saved beside the log so a start can load it and replay
 * only the events after it; restart time then no longer grows with history. A snapshot is a
 * cache: the log stays the source of truth and is never rewritten, and a snapshot that does
 * not verify (its own crc, its format, the log line it claims to follow) is skipped, never
 * repaired or trusted in part. */
#ifndef TANDEM_SNAPSHOT_H
#define TANDEM_SNAPSHOT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "state.h"

/* The version of the file layout ("format") and of the "state" object's schema. A file with
 * another number is skipped (reported), so changing either is safe: bump it. */
#define SNAPSHOT_FORMAT 2

/* How many snapshots snapshot_write keeps (the newest by seq, the one it wrote included). */
#define SNAPSHOT_KEEP 2

/* The log snapshot_write checks the offset against: STATE_DIR/events.jsonl. */
#define SNAPSHOT_LOG_NAME "events.jsonl"

/* A file STATE_DIR/snapshot-<seq, 12 digits or more>.json is one line:
 *   {"format":1,"seq":N,"log_offset":O,"log_crc":"xxxxxxxx","state":{...},"crc":"yyyyyyyy"}\n
 * seq is the state's seq; O is the byte offset just after the log line holding seq N;
 * log_crc is that line's own "crc" value, so a snapshot can never be applied to another log
 * that merely has a line of the same seq at the same offset (simulate starts a fresh log);
 * crc is the CRC-32C (core/crc32c.h, 8 lowercase hex digits) of the line's bytes before
 * ,"crc", sealed like a log line. Integers and doubles are written as exact numerals; times
 * as RFC 3339 UTC (null where the state has 0 for "none"). */

/* Serializes everything in struct state that state_apply builds: people (the log's person
 * object plus left and flags), programs (with reup, rotate, since and live), enrollments,
 * matches with every counter, guests and the re-up answers, goals, priorities, rules
 * file/sha256/simulated, seq, now, n_events and every report counter. People are named by id
 * and programs by name; the order of every array is the state's, so indices are kept. Derived
 * indexes (the met-pair sets, per-person enrolment and match lists, per-match goal lists) are
 * not stored: snapshot_state_from_json rebuilds them with state_reindex. Returns NULL when out of memory or
 * when the state holds something no event can produce (a time outside 1970-9999, a
 * non-finite number). The caller owns the result (cJSON_Delete). */
cJSON *snapshot_state_to_json(const struct state *s);

/* The inverse, into s, which must be freshly state_init'ed (or state_free'd). Every member
 * is checked: types, ranges, unknown or repeated keys, ids and references (people, programs,
 * matches), match and goal ids following one another; then state_reindex rebuilds the derived
 * indexes, the met pairs from every match (proposed, rejected and closed ones too), as
 * state_apply does. Returns 0, or
 * ERR_INPUT with err->msg naming what is off, or ERR_SYSTEM when out of memory; on failure s
 * holds a partial state the caller must state_free. err may be NULL. */
int snapshot_state_from_json(const cJSON *j, struct state *s, struct error *err);

/* Writes STATE_DIR/snapshot-<seq>.json for s, whose last event (seq s->seq) is the line of
 * STATE_DIR/events.jsonl that ends at byte log_offset (with a journal open, that is
 * journal_end_offset() once nothing is left uncommitted). That line is read back first, and
 * a mismatch (a seq that differs: the state is ahead of the committed log) refuses the write
 * with ERR_INPUT: a snapshot that would never load is not written. So is a state at seq 0.
 * Then: a temp file snapshot-<seq>.json.tmp in the same directory (0600), one write (a short
 * or failed write is cut back with ftruncate and the temp removed), fsync, rename over the
 * final name, fsync of the directory; only then older snapshots are deleted, keeping the
 * SNAPSHOT_KEEP newest by seq, together with any *.json.tmp left by a crash. Returns 0,
 * ERR_INPUT (a bad offset, as above) or ERR_SYSTEM with err set; the state is not touched.
 * A failure in the final clean-up (deleting old snapshots) is not an error: they are only
 * disk space, and the next write tries again. */
int snapshot_write(const char *state_dir, const struct state *s, long long log_offset, struct error *err);

/* Finds the newest snapshot in state_dir (by seq) that loads and verifies: its crc, format,
 * JSON and state, and that the log at log_path has a line ending at its log_offset whose seq
 * is the snapshot's seq and whose crc is its log_crc (only that line is read). A snapshot
 * that fails is reported on report (may be NULL) as
 *   "STATE_DIR/snapshot-...json: damaged (why); trying an older one"
 * (or "...; replaying the whole log" when it was the last) and skipped; it is not deleted.
 * On 1, s's previous content is freed and s holds the snapshot's state (met sets rebuilt)
 * and *log_offset the offset to replay from (journal_replay's start_offset). Returns 1 when
 * one was loaded; 0 when there is none that verifies, or no state directory (s and
 * *log_offset untouched: replay the whole log); ERR_SYSTEM when the directory cannot be
 * listed, the log cannot be read or memory runs out (s untouched). A snapshot file that
 * cannot be read counts as damaged: the log can always stand in for it. */
int snapshot_load(const char *state_dir, const char *log_path, struct state *s, long long *log_offset,
                  FILE *report, struct error *err);

/* Deletes every snapshot (and temp file) in state_dir, e.g. when `simulate` starts a fresh
 * log. Returns 0 (also when there is no such directory) or ERR_SYSTEM. */
int snapshot_discard(const char *state_dir, struct error *err);

#endif
