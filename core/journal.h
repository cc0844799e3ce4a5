/* journal: STATE/events.jsonl, the append-only event log and source of truth
 * (SPEC 3). It knows only seq, ts, type and crc, never what events mean. It
 * must never rewrite a line in place, acknowledge a line before it is on disk
 * per the sync policy, or cut anything but a torn last line (kept aside). */
#ifndef TANDEM_JOURNAL_H
#define TANDEM_JOURNAL_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "error.h"

/* A line: the event printed unformatted by cJSON with its closing '}' replaced
 * by ,"crc":"xxxxxxxx"} and a '\n'; xxxxxxxx is crc32c() in lowercase hex of
 * the bytes from '{' up to (not including) ,"crc". In a verified log line N
 * holds seq N. */

/* Longest line the journal writes or reads, newline excluded. Longer events
 * are refused by journal_append; a longer line in a file is damaged. */
#define JOURNAL_MAX_LINE (64u << 20)

struct journal;

enum journal_sync {
    JOURNAL_SYNC_ALWAYS,  /* fdatasync on every commit */
    JOURNAL_SYNC_BATCH,   /* same here: the caller groups commands into one commit */
    JOURNAL_SYNC_OFF,     /* no fdatasync: the OS decides, a crash can lose commits */
};

/* Opens the log at path for appending, creating it (mode 0600, directory
 * fsynced) when absent, under an exclusive flock(LOCK_EX|LOCK_NB) held until
 * journal_close: a second tandem on the same state gets ERR_INPUT saying the
 * log is in use. If truncate is true the content is discarded (after the lock
 * is taken) to start a fresh log, as `simulate` does.
 * Otherwise every line is verified (crc, JSON object with seq, ts, type first,
 * seq 1, 2, 3 … with no gap, ts non-decreasing). Repairs, each reported on
 * report (may be NULL) as "FILE:LINE: what, N bytes, where it went":
 *  - a torn or damaged last line, and NUL bytes after the last line, are
 *    copied to PATH.torn-<unix-time>-<line> (fsynced, with its directory) and
 *    cut with ftruncate + fsync; nothing before them is touched;
 *  - a last line that verifies but lacks its final '\n' gets it (fsynced).
 * Refused with ERR_INPUT naming FILE:LINE, file untouched: a damaged line
 * anywhere but last, a seq gap or duplicate, a decreasing ts, CRLF endings,
 * a line whose crc is right but that is not a journal JSON object.
 * ERR_SYSTEM for I/O and memory failures. On success *out is the caller's, to
 * release with journal_close; on failure *out is NULL. */
int journal_open(const char *path, bool truncate, FILE *report, struct journal **out, struct error *err);

/* Closes the log: buffered lines are dropped (never committed), the lock is
 * released, j is freed. j may be NULL. */
/* journal_open, verifying from byte `start` (a line start; the line before it is checked for
 * continuity, the lines before that are trusted: a snapshot vouches for them) and handing each
 * verified event to fn on the way (fn may be NULL), so a restart reads the log once. */
typedef int (*journal_event_fn)(void *ctx, const cJSON *event, long long line);
int journal_open_at(const char *path, bool truncate, long long start, journal_event_fn fn, void *ctx, FILE *report,
                    struct journal **out, struct error *err);
void journal_close(struct journal *j);

/* Seq of the last appended event (committed or buffered); 0 for an empty log. */
long long journal_last_seq(const struct journal *j);

/* ts of the last appended event, "" for an empty log. The string belongs to j
 * and is valid until the next append, rollback or close. */
const char *journal_last_ts(const struct journal *j);

/* Offset just after the last committed line (the file size a reader may trust). */
long long journal_end_offset(const struct journal *j);

/* Buffers one event as a line. The event must be a cJSON object whose first
 * three members are "seq" (a number == last_seq + 1), "ts" (a string
 * "YYYY-MM-DDTHH:MM:SSZ" not less than the last ts) and "type" (a non-empty
 * string), with no other member named seq, ts, type or crc in any case. The
 * printed line gets the checks journal_open makes (on the event itself when
 * cJSON is sure to read its print back unchanged, else by parsing the line),
 * so a committed line always verifies later. Does not take ownership of event.
 * ERR_INPUT with a message when the event is refused (nothing is buffered),
 * ERR_SYSTEM when out of memory or when the journal has failed. */
int journal_append(struct journal *j, const cJSON *event, struct error *err);
/* journal_append that also hands back, when printed is not NULL, the event as cJSON printed
 * it (unformatted, without the line's crc; the caller frees it with cJSON_free), so that a
 * reply showing the event need not print it again. *printed is NULL when refused. */
int journal_append_text(struct journal *j, const cJSON *event, char **printed, struct error *err);

/* Where a buffered line lies: valid until the next commit or rollback (see journal_buffered). */
struct journal_mark {
    unsigned long long epoch;
    size_t off, body;
};
/* journal_append that also says where the line went, so that a reply showing the event can
 * take its print from the buffer (journal_buffered) instead of a copy of its own. */
int journal_append_mark(struct journal *j, const cJSON *event, struct journal_mark *mark, struct error *err);
/* The buffered line that mark names, when it is still buffered (no commit or rollback since):
 * the event as cJSON prints it is the *body bytes returned followed by '}' (the line goes on
 * with its crc). The pointer is valid until the next append, commit or rollback. NULL when
 * the line is no longer buffered. */
const char *journal_buffered(const struct journal *j, struct journal_mark mark, size_t *body);

/* Writes every buffered line with one write() (looping over short writes) and
 * then fdatasync unless sync == JOURNAL_SYNC_OFF. Returns 0 when the lines are
 * on disk per the policy (0 at once when nothing is buffered). On any failure
 * the file is truncated back to its size before this commit, the buffer is
 * dropped, the journal is marked failed (every later append and commit returns
 * ERR_SYSTEM until journal_reopen succeeds; an fsync is never retried) and
 * ERR_SYSTEM is returned naming the file, the call and errno's text. */
int journal_commit(struct journal *j, enum journal_sync sync, struct error *err);

/* True after a failed commit, until journal_reopen succeeds. */
bool journal_failed(const struct journal *j);

/* After a failed commit: cuts the file back to the last committed size (what failed was
 * never acknowledged; after a failed fsync the page cache may hold bytes the disk does
 * not, so they are dropped, not trusted) and verifies the log again from
 * byte start as journal_open_at does, handing each event to fn, on the same descriptor
 * (the lock is kept). On success the journal takes appends again. On failure (the disk
 * still failing: ERR_SYSTEM; a log that no longer verifies: ERR_INPUT) it stays failed and
 * may be reopened again later. */
int journal_reopen(struct journal *j, long long start, journal_event_fn fn, void *ctx, FILE *report,
                   struct error *err);

/* Drops buffered, uncommitted lines and restores the last committed seq and ts
 * (the engine discards a failed command's facts). */
void journal_rollback(struct journal *j);
/* True when lines are appended but not yet committed. */
bool journal_pending(const struct journal *j);

/* Called by journal_replay for each verified event, in order. event is the
 * line's object without its "crc" member (the object that was appended); it
 * belongs to journal_replay and is freed when fn returns. line is the 1-based
 * line number (equal to the event's seq). Return 0 to go on; any other value
 * stops the replay and is returned by it. */

/* Read-only replay of the log at path (report, tail, restart); never modifies
 * the file and takes no lock, so it can read a log a daemon is writing (up to
 * the size it had when the replay began). Verifies each line as journal_open
 * does. start_offset resumes after a byte offset (0 = from the start); it must
 * be a line start (0 or just after a '\n'), and the line before it is verified
 * to carry on the seq/ts checks. A torn last line, NULs after the last line,
 * or a last line lacking its '\n' are reported on report (may be NULL) and
 * skipped: they are not events yet, journal_open decides their fate.
 * *end_offset (may be NULL) receives the offset after the last complete line
 * read, to resume from; when fn stops the replay that is after fn's line.
 * Returns 0, fn's non-zero value, ERR_INPUT naming FILE:LINE for a damaged
 * line elsewhere (or a missing log, or a bad start_offset), ERR_SYSTEM for I/O
 * or memory failures. */
int journal_replay(const char *path, long long start_offset, journal_event_fn fn, void *ctx, FILE *report,
                   long long *end_offset, struct error *err);

#endif
