/* journal: writing, verifying, repairing and replaying STATE/events.jsonl.
 * One judge (verify_line) reads every line at open and in a replay; a line
 * journal_append prints gets the same checks (on the event it was printed
 * from when cJSON surely reads its print back as it was), so what is written
 * always reads back. It must never modify a line in place or cut more than a
 * torn tail, and never cut anything it has not first copied aside. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "json_print.h"

#define TS_LEN      20                    /* YYYY-MM-DDTHH:MM:SSZ */
#define CRC_TAG     CRC32C_SEAL_TAG
#define CRC_SUFFIX  CRC32C_SEAL_LEN       /* ,"crc":"xxxxxxxx"} */
#define READ_CHUNK  (1u << 20)            /* big reads: logs reach a million lines */
#define SMALL_IO    8192                  /* stack buffers for backward scans and copies */
#define SEQ_MAX     9007199254740992.0    /* 2^53: beyond it a double no longer counts by one */

/* What the seq and ts checks need to know about the line before. */
struct chain {
    bool known;                           /* false only before the first line of a resumed replay */
    long long last_seq;                   /* 0 before line 1 */
    char last_ts[TS_LEN + 1];             /* "" before line 1 */
};

/* verify_line's verdict when the bytes themselves are damaged (no or wrong
 * crc): only the caller knows whether the line is last and so merely torn. */
enum { LINE_DAMAGED = 1 };

struct journal {
    int fd;                               /* O_APPEND, holds the flock */
    char *path;
    long long size;                       /* bytes committed */
    struct chain committed;               /* as of the last commit */
    struct chain pending;                 /* including buffered lines */
    char *buf;                            /* buffered lines, each with its '\n' */
    size_t len, cap;
    unsigned long long epoch;             /* counts commits and rollbacks: what a mark is valid for */
    bool failed;                          /* a commit failed: refuse until reopened */
    char failure[300];
};

/* One pass over a file's lines, shared by journal_open and journal_replay. */
struct scan {
    int fd;
    const char *path;
    long long size;                       /* file size when the scan began; growth is not read */
    long long data_end;                   /* size without the NUL bytes at its end */
    struct chain chain;
    long long next_line;                  /* number of the next line to read */
    long long good_end;                   /* offset after the last verified, '\n'-ended line */
    long long tail_line;                  /* a torn last line: its number, else 0 */
    long long tail_off;                   /* ... and where it starts */
    char tail_why[sizeof ((struct error *)0)->msg];
    long long bare_line;                  /* a verified last line lacking its '\n': its number, else 0 */
    long long bare_end;                   /* ... and where it ends */
};

/* ---- small helpers ------------------------------------------------------ */

static bool ts_valid(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != TS_LEN)
        return false;
    for (int i = 0; i < TS_LEN; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    }
#define TWO(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    /* Fixed width makes string order time order; the ranges keep out
     * look-alikes such as month 13 that would sort but mean nothing. */
    return TWO(5) >= 1 && TWO(5) <= 12 && TWO(8) >= 1 && TWO(8) <= 31 && TWO(11) <= 23 && TWO(14) <= 59 &&
           TWO(17) <= 60;
#undef TWO
}

static bool reserved_key(const char *k)
{
    /* Any case: cJSON_GetObjectItem ignores case, so a "Seq" could shadow
     * "seq" for a careless reader. */
    switch (k[0] | 0x20) {                /* the first letter in lower case: only these can match */
    case 's': return strcasecmp(k, "seq") == 0;
    case 't': return strcasecmp(k, "ts") == 0 || strcasecmp(k, "type") == 0;
    case 'c': return strcasecmp(k, "crc") == 0;
    default: return false;
    }
}

static ssize_t pread_full(int fd, char *buf, size_t len, long long off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + (long long)done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;                        /* the file shrank: the caller sees a short count */
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static int write_full(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;                  /* no progress and no reason: do not spin */
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsyncs the directory holding path so a created file's name is durable too. */
static int fsync_dir(const char *path, struct error *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, ERR_SYSTEM, dir, 0, "cannot open the directory to sync it: %s", strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    /* EINVAL: the filesystem cannot sync a directory; nothing more to do. */
    if (rc != 0 && e != EINVAL)
        return error_set(err, ERR_SYSTEM, dir, 0, "cannot sync the directory: %s", strerror(e));
    return 0;
}

/* ---- the one line judge ------------------------------------------------- */

/* cJSON 1.7.15 cuts a string short at \u0000 or at a \u not followed by four
 * hex digits, silently (PITFALLS). cJSON never prints either, so a sealed
 * line holding one was not written by tandem: find them instead of misreading.
 * Escapes are consumed pairwise from the left, so "\\u0000" (an escaped
 * backslash, then text) is not mistaken for one. */
static bool escapes_sound(const char *p, size_t n)
{
    const char *end = p + n;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p < 2)
            return false;
        if (p[1] == 'u') {
            if (end - p < 6)
                return false;
            uint32_t v = 0;
            for (int i = 2; i < 6; i++) {
                char c = p[i];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (d < 0)
                    return false;
                v = v << 4 | (uint32_t)d;
            }
            if (v == 0)
                return false;
            p += 6;
        } else {
            p += 2;
        }
    }
    return true;
}

static int bad_escape(const char *path, long long line, struct error *err)
{
    return error_set(err, ERR_INPUT, path, (int)line,
                     "a \\u escape that cJSON would misread (\\u0000, or not four hex digits)");
}

/* key == lit, for the short literals of the envelope, without a call. */
static inline bool key_is(const char *key, const char *lit)
{
    size_t i = 0;
    for (; lit[i]; i++)
        if (key[i] != lit[i])
            return false;
    return key[i] == '\0';
}

/* Checks the object's envelope and its place in the chain; updates nothing. sealed: ev was
 * read from a line, whose last member is the line's own crc (checked from its bytes). */
static int check_event(const cJSON *ev, bool sealed, const struct chain *c, const char *path, long long line,
                       long long *seq_out, const char **ts_out, struct error *err)
{
    if (!cJSON_IsObject(ev))
        return error_set(err, ERR_INPUT, path, (int)line, "not a JSON object");
    const cJSON *seq = ev->child;
    const cJSON *ts = seq ? seq->next : NULL;
    const cJSON *type = ts ? ts->next : NULL;
    if (seq == NULL || !key_is(seq->string, "seq") || !cJSON_IsNumber(seq))
        return error_set(err, ERR_INPUT, path, (int)line, "the first member must be \"seq\", a number");
    if (ts == NULL || !key_is(ts->string, "ts") || !cJSON_IsString(ts))
        return error_set(err, ERR_INPUT, path, (int)line, "the second member must be \"ts\", a string");
    if (type == NULL || !key_is(type->string, "type") || !cJSON_IsString(type) || type->valuestring[0] == '\0')
        return error_set(err, ERR_INPUT, path, (int)line, "the third member must be \"type\", a non-empty string");
    double d = seq->valuedouble;
    if (!(d >= 1 && d <= SEQ_MAX) || d != (double)(long long)d)
        return error_set(err, ERR_INPUT, path, (int)line, "seq must be a whole number from 1 to 2^53");
    /* The ts of the event before (when there is one) was judged valid when it joined the
     * chain: the same text (most events, made within one second) need not be judged again. */
    if (!(c->known && c->last_ts[0] && strcmp(ts->valuestring, c->last_ts) == 0) && !ts_valid(ts->valuestring))
        return error_set(err, ERR_INPUT, path, (int)line, "ts \"%.40s\" is not YYYY-MM-DDTHH:MM:SSZ",
                         ts->valuestring);
    for (const cJSON *m = type->next; m != NULL; m = m->next) {
        if (sealed && m->next == NULL && strcmp(m->string, "crc") == 0)
            break;                        /* the line's own crc, already checked from its bytes */
        if (reserved_key(m->string))
            return error_set(err, ERR_INPUT, path, (int)line, "member \"%.40s\" repeats a journal key", m->string);
    }
    long long s = (long long)d;
    if (c->known && s != c->last_seq + 1) {
        if (s <= c->last_seq)
            return error_set(err, ERR_INPUT, path, (int)line,
                             "seq %lld repeats or goes back (the event before has %lld)", s, c->last_seq);
        return error_set(err, ERR_INPUT, path, (int)line, "seq gap: %lld where %lld was expected", s,
                         c->last_seq + 1);
    }
    if (c->known && strcmp(ts->valuestring, c->last_ts) < 0)
        return error_set(err, ERR_INPUT, path, (int)line, "ts %s goes back before %s (the event before)",
                         ts->valuestring, c->last_ts);
    *seq_out = s;
    *ts_out = ts->valuestring;
    return 0;
}

static void chain_move(struct chain *c, long long seq, const char *ts)
{
    c->known = true;
    c->last_seq = seq;
    memcpy(c->last_ts, ts, TS_LEN + 1);
}

/* Judges one line p[0..n) (its '\n' excluded; p[n] must be writable, it is
 * borrowed for a NUL and restored). Returns 0 when the line is sound and
 * follows c (then c moves on to it and, when out is not NULL, *out is the
 * caller's object without its "crc" member); LINE_DAMAGED when its bytes are
 * damaged (no, malformed or wrong crc, NULs, empty, too long); ERR_INPUT when
 * the bytes are as written but wrong (CRLF, not an object, bad envelope,
 * seq/ts out of order); ERR_SYSTEM when out of memory. err gets the reason. */
static int verify_line(char *p, size_t n, struct chain *c, const char *path, long long line, cJSON **out,
                       struct error *err)
{
    int ln = (int)line;
    /* CRLF first: a converted file is not a torn one, and must say so. */
    if (n > 0 && p[n - 1] == '\r')
        return error_set(err, ERR_INPUT, path, ln,
                         "CRLF line ending: the journal uses LF only (was it edited or converted on Windows?)");
    if (n == 0)
        return error_set(err, LINE_DAMAGED, path, ln, "empty line");
    if (n > JOURNAL_MAX_LINE)
        return error_set(err, LINE_DAMAGED, path, ln, "line longer than %u bytes", JOURNAL_MAX_LINE);
    if (memchr(p, '\0', n) != NULL)
        return error_set(err, LINE_DAMAGED, path, ln, "NUL bytes in the line");
    uint32_t stored;
    if (n < CRC_SUFFIX + 1 || !crc32c_seal_read(p, n, &stored))
        return error_set(err, LINE_DAMAGED, path, ln, "no ,\"crc\":\"xxxxxxxx\"} at its end (cut short?)");
    /* The crc is checked before parsing: nothing in a damaged line is trusted. */
    uint32_t computed = crc32c(0, p, n - CRC_SUFFIX);
    if (computed != stored)
        return error_set(err, LINE_DAMAGED, path, ln,
                         "crc mismatch: the line says %08" PRIx32 ", its bytes give %08" PRIx32, stored, computed);

    if (!escapes_sound(p, n - CRC_SUFFIX))
        return bad_escape(path, line, err);
    char saved = p[n];
    p[n] = '\0';
    const char *end = NULL;
    cJSON *ev = cJSON_ParseWithOpts(p, &end, 1);
    p[n] = saved;
    if (ev == NULL) {
        long at = end != NULL && end >= p ? (long)(end - p) + 1 : 0;
        return error_set(err, ERR_INPUT, path, ln, "not valid JSON though its crc is right (error near byte %ld)", at);
    }
    long long seq = 0;
    const char *ts = NULL;
    int rc = check_event(ev, true, c, path, line, &seq, &ts, err);
    if (rc != 0 || ts == NULL) {        /* ts == NULL only to reassure the compiler */
        cJSON_Delete(ev);
        return rc != 0 ? rc : ERR_INPUT;
    }
    chain_move(c, seq, ts);
    if (out != NULL) {
        cJSON_Delete(cJSON_DetachItemViaPointer(ev, cJSON_GetArrayItem(ev, cJSON_GetArraySize(ev) - 1)));
        *out = ev;
    } else {
        cJSON_Delete(ev);
    }
    return 0;
}

/* ---- scanning a file ---------------------------------------------------- */

/* Sets s->data_end: the file's end minus the NUL bytes there (a crash can
 * leave allocated but unwritten blocks), never below start. */
static int find_data_end(struct scan *s, long long start, struct error *err)
{
    char b[SMALL_IO];
    long long end = s->size;
    while (end > start) {
        size_t want = end - start < (long long)sizeof b ? (size_t)(end - start) : sizeof b;
        ssize_t got = pread_full(s->fd, b, want, end - (long long)want);
        if (got != (ssize_t)want)
            return error_set(err, ERR_SYSTEM, s->path, 0, "cannot read: %s", got < 0 ? strerror(errno) : "file shrank");
        size_t k = want;
        while (k > 0 && b[k - 1] == '\0')
            k--;
        if (k > 0) {
            end = end - (long long)want + (long long)k;
            break;
        }
        end -= (long long)want;
    }
    s->data_end = end;
    return 0;
}

/* Judges one line at file offset off: a damaged line is a torn tail when it
 * is last, and refuses the log otherwise. */
static int scan_one(struct scan *s, char *p, size_t n, bool ended, long long off, journal_event_fn fn, void *ctx,
                    struct error *err)
{
    bool last = !ended || off + (long long)n + 1 >= s->data_end;
    struct error le = {0};
    cJSON *ev = NULL;
    int rc = verify_line(p, n, &s->chain, s->path, s->next_line, fn != NULL && ended ? &ev : NULL, &le);
    if (rc == LINE_DAMAGED) {
        if (last) {
            s->tail_line = s->next_line;
            s->tail_off = off;
            snprintf(s->tail_why, sizeof s->tail_why, "%s", le.msg);
            return 0;
        }
        return error_set(err, ERR_INPUT, s->path, (int)s->next_line,
                         "damaged line (%s); only a torn last line may be cut, so the log is refused as it is: "
                         "restore it from a backup or move the damage aside by hand",
                         le.msg);
    }
    if (rc != 0)
        return error_set(err, rc, le.file, le.line, "%s", le.msg);
    if (!ended) {
        s->bare_line = s->next_line++;
        s->bare_end = off + (long long)n;
        return 0;
    }
    s->good_end = off + (long long)n + 1;
    long long line = s->next_line++;
    if (ev == NULL)
        return 0;
    rc = fn(ctx, ev, line);
    cJSON_Delete(ev);
    return rc;
}

/* A line longer than JOURNAL_MAX_LINE starting at off: reads on (without
 * keeping it) to learn whether it is the last line, hence torn. */
static int scan_long(struct scan *s, long long off, long long pos, struct error *err)
{
    char b[SMALL_IO];
    bool last = true;
    while (pos < s->data_end) {
        size_t want = s->data_end - pos < (long long)sizeof b ? (size_t)(s->data_end - pos) : sizeof b;
        ssize_t got = pread_full(s->fd, b, want, pos);
        if (got <= 0)
            return error_set(err, ERR_SYSTEM, s->path, 0, "cannot read: %s", got < 0 ? strerror(errno) : "file shrank");
        char *nl = memchr(b, '\n', (size_t)got);
        if (nl != NULL) {
            last = pos + (nl - b) + 1 >= s->data_end;
            break;
        }
        pos += got;
    }
    if (!last)
        return error_set(err, ERR_INPUT, s->path, (int)s->next_line,
                         "damaged line (longer than %u bytes); only a torn last line may be cut", JOURNAL_MAX_LINE);
    s->tail_line = s->next_line;
    s->tail_off = off;
    snprintf(s->tail_why, sizeof s->tail_why, "line longer than %u bytes", JOURNAL_MAX_LINE);
    return 0;
}

/* Reads the lines in [start, s->data_end) in big chunks, holding at most one
 * line plus one chunk, and judges each with scan_one. Stops at the first
 * refusal, at a torn tail, or when fn returns non-zero (that value). */
static int scan_lines(struct scan *s, long long start, journal_event_fn fn, void *ctx, struct error *err)
{
    char *buf = NULL;
    size_t cap = 0, len = 0, off = 0, seen = 0;  /* buf[off..len) not judged yet; no '\n' in buf[off..seen) */
    long long base = start, rd = start;         /* file offsets of buf[0] and of the next read */
    int rc = 0;
    s->good_end = start;
    for (;;) {
        char *nl = len > seen ? memchr(buf + seen, '\n', len - seen) : NULL;
        if (nl != NULL) {
            size_t n = (size_t)(nl - (buf + off));
            rc = scan_one(s, buf + off, n, true, base + (long long)off, fn, ctx, err);
            if (rc != 0 || s->tail_line != 0)
                break;
            off += n + 1;
            seen = off;
            continue;
        }
        seen = len;
        if (rd >= s->data_end) {
            if (off < len)
                rc = scan_one(s, buf + off, len - off, false, base + (long long)off, fn, ctx, err);
            break;
        }
        if (len - off > JOURNAL_MAX_LINE) {
            rc = scan_long(s, base + (long long)off, rd, err);
            break;
        }
        if (off > 0) {                  /* keep only the unfinished line */
            memmove(buf, buf + off, len - off);
            len -= off;
            seen -= off;
            base += (long long)off;
            off = 0;
        }
        size_t want = s->data_end - rd < READ_CHUNK ? (size_t)(s->data_end - rd) : READ_CHUNK;
        if (cap < len + want + 1) {     /* +1: verify_line borrows the byte after a line */
            size_t ncap = cap ? cap : READ_CHUNK + 1;
            while (ncap < len + want + 1)
                ncap *= 2;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                rc = error_set(err, ERR_SYSTEM, s->path, 0, "out of memory reading the log");
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t got = pread_full(s->fd, buf + len, want, rd);
        if (got < 0) {
            rc = error_set(err, ERR_SYSTEM, s->path, 0, "cannot read: %s", strerror(errno));
            break;
        }
        if ((size_t)got < want)         /* shrank under us: judge what there is */
            s->data_end = s->size = rd + got;
        len += (size_t)got;
        rd += got;
    }
    free(buf);
    return rc;
}

/* Verifies the line just before start (a resumed replay) so the seq/ts checks
 * carry on across the boundary and line numbers stay right. */
static int scan_resume(struct scan *s, long long start, struct error *err)
{
    char b[SMALL_IO];
    if (start > s->size)
        return error_set(err, ERR_INPUT, s->path, 0, "offset %lld is past the end of the log (%lld bytes)", start,
                         s->size);
    if (pread_full(s->fd, b, 1, start - 1) != 1 || b[0] != '\n')
        return error_set(err, ERR_INPUT, s->path, 0, "offset %lld is not the start of a line", start);
    long long ls = 0, pos = start - 1;  /* the line before is [ls, start - 1) */
    while (pos > 0) {
        size_t want = pos < (long long)sizeof b ? (size_t)pos : sizeof b;
        if (pread_full(s->fd, b, want, pos - (long long)want) != (ssize_t)want)
            return error_set(err, ERR_SYSTEM, s->path, 0, "cannot read: %s", strerror(errno));
        char *nl = memrchr(b, '\n', want);
        if (nl != NULL) {
            ls = pos - (long long)want + (nl - b) + 1;
            break;
        }
        pos -= (long long)want;
        if (start - 1 - pos > JOURNAL_MAX_LINE)
            return error_set(err, ERR_INPUT, s->path, 0, "the line before offset %lld is longer than %u bytes", start,
                             JOURNAL_MAX_LINE);
    }
    size_t n = (size_t)(start - 1 - ls);
    char *line = malloc(n + 1);
    if (line == NULL)
        return error_set(err, ERR_SYSTEM, s->path, 0, "out of memory reading the log");
    struct error le = {0};
    int rc = 0;
    if (pread_full(s->fd, line, n, ls) != (ssize_t)n)
        rc = error_set(err, ERR_SYSTEM, s->path, 0, "cannot read: %s", strerror(errno));
    else if (verify_line(line, n, &s->chain, s->path, 0, NULL, &le) != 0)
        rc = error_set(err, ERR_INPUT, s->path, 0, "the line before offset %lld does not verify: %s", start, le.msg);
    free(line);
    if (rc == 0)
        s->next_line = s->chain.last_seq + 1;  /* line N holds seq N in a verified log */
    return rc;
}

/* Prepares a scan of the open fd from start (checked to be a line start),
 * finding where its data ends and, when resuming, the seq/ts to carry on from. */
static int scan_begin(struct scan *s, int fd, const char *path, long long start, struct error *err)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->path = path;
    s->good_end = start;                /* what a caller may resume from, even after a refusal */
    s->chain.known = true;
    s->next_line = 1;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return error_set(err, ERR_SYSTEM, path, 0, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return error_set(err, ERR_INPUT, path, 0, "not a regular file");
    s->size = (long long)st.st_size;
    if (start > 0) {
        s->chain.known = false;
        int rc = scan_resume(s, start, err);
        if (rc != 0)
            return rc;
    }
    s->good_end = start;
    return find_data_end(s, start, err);
}

/* ---- repairs at open ---------------------------------------------------- */

/* Copies [off, size) of the log to PATH.torn-<time>-<line>, syncs the copy
 * and its directory, and only then cuts the log at off and syncs it. */
static int cut_tail(struct journal *j, long long off, long long size, long long line, const char *why, FILE *report,
                    struct error *err)
{
    char name[4400];
    int tfd = -1;
    long long now = (long long)time(NULL);
    for (int k = 1; tfd < 0 && k <= 100; k++) {
        /* Same second and line after a repeated crash: never overwrite a copy. */
        if (k == 1)
            snprintf(name, sizeof name, "%s.torn-%lld-%lld", j->path, now, line);
        else
            snprintf(name, sizeof name, "%s.torn-%lld-%lld.%d", j->path, now, line, k);
        tfd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (tfd < 0 && errno != EEXIST)
            return error_set(err, ERR_SYSTEM, name, 0, "cannot create the copy of the torn tail: %s", strerror(errno));
    }
    if (tfd < 0)
        return error_set(err, ERR_SYSTEM, name, 0, "cannot create the copy of the torn tail: too many copies");
    char b[SMALL_IO];
    for (long long pos = off; pos < size;) {
        size_t want = size - pos < (long long)sizeof b ? (size_t)(size - pos) : sizeof b;
        ssize_t got = pread_full(j->fd, b, want, pos);
        if (got != (ssize_t)want || write_full(tfd, b, want) != 0) {
            int e = got < 0 || got == (ssize_t)want ? errno : EIO;
            close(tfd);
            unlink(name);
            return error_set(err, ERR_SYSTEM, name, 0, "cannot copy the torn tail: %s", strerror(e));
        }
        pos += (long long)want;
    }
    if (fsync(tfd) != 0) {
        int e = errno;
        close(tfd);
        return error_set(err, ERR_SYSTEM, name, 0, "cannot sync the copy of the torn tail: %s", strerror(e));
    }
    close(tfd);
    int rc = fsync_dir(name, err);
    if (rc != 0)
        return rc;
    if (ftruncate(j->fd, (off_t)off) != 0 || fsync(j->fd) != 0)
        return error_set(err, ERR_SYSTEM, j->path, 0, "cannot cut the torn tail: %s", strerror(errno));
    if (report != NULL)
        fprintf(report, "%s:%lld: torn last line (%s): %lld bytes copied to %s and cut\n", j->path, line, why,
                size - off, name);
    return 0;
}

/* Verifies the whole log and repairs its tail (see journal_open). */
static int open_verify(struct journal *j, long long start, journal_event_fn fn, void *ctx, FILE *report,
                       struct error *err)
{
    struct scan s;
    int rc = scan_begin(&s, j->fd, j->path, start, err);
    if (rc == 0)
        rc = scan_lines(&s, start, fn, ctx, err);
    if (rc != 0)
        return rc;
    long long keep = s.size;
    if (s.tail_line != 0) {
        rc = cut_tail(j, s.tail_off, s.size, s.tail_line, s.tail_why, report, err);
        keep = s.tail_off;
    } else if (s.data_end < s.size) {
        char why[80];
        snprintf(why, sizeof why, "%lld NUL bytes after the last line", s.size - s.data_end);
        rc = cut_tail(j, s.data_end, s.size, s.next_line, why, report, err);
        keep = s.data_end;
    }
    if (rc != 0)
        return rc;
    if (s.bare_line != 0 && s.tail_line == 0) {
        /* Complete and sealed but for its '\n': the fact is whole, keep it. */
        if (write_full(j->fd, "\n", 1) != 0 || fsync(j->fd) != 0)
            return error_set(err, ERR_SYSTEM, j->path, 0, "cannot add the missing final newline: %s", strerror(errno));
        keep = s.bare_end + 1;
        if (report != NULL)
            fprintf(report, "%s:%lld: the last line lacked its final newline (its crc is right): added it\n", j->path,
                    s.bare_line);
        if (fn != NULL) {
            /* Now whole, the line goes to the caller like the others. */
            struct scan again;
            rc = scan_begin(&again, j->fd, j->path, s.good_end, err);
            if (rc == 0)
                rc = scan_lines(&again, s.good_end, fn, ctx, err);
            if (rc != 0)
                return rc;
            s.chain = again.chain;
        }
    }
    j->size = keep;
    j->committed = s.chain;
    j->pending = s.chain;
    j->epoch++;
    return 0;
}

/* ---- public API --------------------------------------------------------- */

int journal_open(const char *path, bool truncate, FILE *report, struct journal **out, struct error *err)
{
    return journal_open_at(path, truncate, 0, NULL, NULL, report, out, err);
}

int journal_open_at(const char *path, bool truncate, long long start, journal_event_fn fn, void *ctx, FILE *report,
                    struct journal **out, struct error *err)
{
    *out = NULL;
    struct journal *j = calloc(1, sizeof *j);
    if (j == NULL || (j->path = strdup(path)) == NULL) {
        free(j);
        return error_set(err, ERR_SYSTEM, path, 0, "out of memory");
    }
    j->committed.known = j->pending.known = true;
    bool created = true;
    j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (j->fd < 0 && errno == EEXIST) {
        created = false;
        j->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    }
    int rc;
    if (j->fd < 0) {
        rc = error_set(err, ERR_SYSTEM, path, 0, "cannot open the event log: %s", strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(j->fd, &st) != 0) {
        rc = error_set(err, ERR_SYSTEM, path, 0, "cannot stat: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = error_set(err, ERR_INPUT, path, 0, "not a regular file");
        goto fail;
    }
    if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rc = error_set(err, ERR_INPUT, path, 0,
                           "the event log is in use by another tandem (it holds the lock); "
                           "stop it or use another --state");
        else
            rc = error_set(err, ERR_SYSTEM, path, 0, "cannot lock the event log: %s", strerror(errno));
        goto fail;
    }
    if (created && (rc = fsync_dir(path, err)) != 0)
        goto fail;
    if (truncate) {
        /* Only under the lock: never empty another daemon's log. */
        if (ftruncate(j->fd, 0) != 0 || fsync(j->fd) != 0) {
            rc = error_set(err, ERR_SYSTEM, path, 0, "cannot empty the event log: %s", strerror(errno));
            goto fail;
        }
    } else if ((rc = open_verify(j, start, fn, ctx, report, err)) != 0) {
        goto fail;
    }
    *out = j;
    return 0;
fail:
    journal_close(j);
    return rc;
}

void journal_close(struct journal *j)
{
    if (j == NULL)
        return;
    if (j->fd >= 0)
        close(j->fd);                   /* releases the flock */
    free(j->buf);
    free(j->path);
    free(j);
}

long long journal_last_seq(const struct journal *j)
{
    return j->pending.last_seq;
}

const char *journal_last_ts(const struct journal *j)
{
    return j->pending.last_ts;
}

long long journal_end_offset(const struct journal *j)
{
    return j->size;
}

/* After a failed commit nothing is written until an operator reopens the log. */
static int refuse_failed(const struct journal *j, struct error *err)
{
    return error_set(err, ERR_SYSTEM, j->path, 0,
                     "the event log failed earlier (%s); nothing more is written until it is reopened", j->failure);
}

/* True when parsing what cJSON prints of these items gives them back as they are, so the
 * envelope and chain checks may run on the items themselves: no raw text (printed as it
 * is), no member or string without its text (printed as ""), nesting far below cJSON's
 * parse limit (CJSON_NESTING_LIMIT; printing has none). Anything else is printed and parsed
 * again, as journal_open will. */
#define PLAIN_DEPTH 200
static bool plain_items(const cJSON *item, bool members, int depth)
{
    for (; item != NULL; item = item->next) {
        if (members && item->string == NULL)
            return false;
        switch (item->type & 0xFF) {
        case cJSON_False:
        case cJSON_True:
        case cJSON_NULL:
        case cJSON_Number:
            break;
        case cJSON_String:
            if (item->valuestring == NULL)
                return false;
            break;
        case cJSON_Array:
        case cJSON_Object:
            if (depth >= PLAIN_DEPTH || !plain_items(item->child, cJSON_IsObject(item), depth + 1))
                return false;
            break;
        default:
            return false;
        }
    }
    return true;
}

/* Judges a line journal_append has just printed from event (line[0..n), crc sealed) as
 * verify_line would judge it when read back; moves c on when it is sound. */
static int judge_printed(const cJSON *event, char *line, size_t n, struct chain *c, struct error *err)
{
    if (!plain_items(event->child, true, 1))
        return verify_line(line, n, c, NULL, 0, NULL, err);
    /* The bytes are cJSON's print (json_print's, the same bytes) with a fresh seal: what is
     * left to check is the escapes (never one cJSON would misread), the envelope and the chain. */
    if (!escapes_sound(line, n - CRC_SUFFIX))
        return bad_escape(NULL, 0, err);
    long long seq = 0;
    const char *ts = NULL;
    int rc = check_event(event, false, c, NULL, 0, &seq, &ts, err);
    if (rc == 0)
        chain_move(c, seq, ts);
    return rc;
}

int journal_append(struct journal *j, const cJSON *event, struct error *err)
{
    return journal_append_text(j, event, NULL, err);
}

/* Seals line[0..body): appends ,"crc":"xxxxxxxx"} (CRC_SUFFIX bytes, no '\0'). */
static void seal(char *line, size_t body)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t crc = crc32c(0, line, body);
    char *o = line + body;
    memcpy(o, CRC_TAG, sizeof CRC_TAG - 1);
    o += sizeof CRC_TAG - 1;
    for (int shift = 28; shift >= 0; shift -= 4)
        *o++ = hex[(crc >> shift) & 15];
    o[0] = '"';
    o[1] = '}';
}

/* Prints event at the end of j's buffer (from j->len on, '\0'-ended, j->len unchanged):
 * json_print's bytes, or cJSON's own when json_print leaves the event to it. Returns the
 * printed length, or 0 when out of memory (or cJSON refuses the event). */
static size_t print_event(struct journal *j, const cJSON *event)
{
    struct json_buf b = { j->buf, j->len, j->cap };
    size_t start = j->len;
    int rc = json_print(event, &b);
    j->buf = b.s;
    j->cap = b.cap;
    if (rc == 0)
        return b.len - start;
    char *text = cJSON_PrintUnformatted(event);
    if (text == NULL)
        return 0;
    size_t n = strlen(text);
    b.len = start;
    if (n == 0 || json_buf_put(&b, text, n) < 0)
        n = 0;
    j->buf = b.s;
    j->cap = b.cap;
    cJSON_free(text);
    return n;
}

static int append(struct journal *j, const cJSON *event, char **printed, struct journal_mark *mark,
                  struct error *err);

int journal_append_text(struct journal *j, const cJSON *event, char **printed, struct error *err)
{
    return append(j, event, printed, NULL, err);
}

int journal_append_mark(struct journal *j, const cJSON *event, struct journal_mark *mark, struct error *err)
{
    return append(j, event, NULL, mark, err);
}

const char *journal_buffered(const struct journal *j, struct journal_mark mark, size_t *body)
{
    if (mark.epoch != j->epoch || mark.off > j->len || j->len - mark.off < mark.body + CRC_SUFFIX + 1)
        return NULL;
    *body = mark.body;
    return j->buf + mark.off;
}

static int append(struct journal *j, const cJSON *event, char **printed, struct journal_mark *mark,
                  struct error *err)
{
    if (printed != NULL)
        *printed = NULL;
    if (j->failed)
        return refuse_failed(j, err);
    if (!cJSON_IsObject(event) || event->child == NULL)
        return error_set(err, ERR_INPUT, NULL, 0, "event refused: not a JSON object starting with seq, ts, type");
    size_t printed_len = print_event(j, event);
    if (printed_len == 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory printing an event");
    char *line = j->buf + j->len;
    size_t body = printed_len - 1;      /* everything before the closing '}' */
    size_t n = body + CRC_SUFFIX;
    if (line[body] != '}' || memchr(line, '\n', body) != NULL)
        return error_set(err, ERR_INPUT, NULL, 0, "event refused: cJSON did not print it as one object on one line");
    if (n > JOURNAL_MAX_LINE)
        return error_set(err, ERR_INPUT, NULL, 0, "event refused: %zu bytes, over the %u-byte line limit", n,
                         JOURNAL_MAX_LINE);
    char *text = NULL;
    if (printed != NULL) {
        if ((text = cJSON_malloc(printed_len + 1)) == NULL)
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory buffering an event");
        memcpy(text, line, printed_len + 1);
    }
    if (j->cap - j->len < n + 1) {
        size_t ncap = j->cap ? j->cap : 4096;
        while (ncap - j->len < n + 1)
            ncap *= 2;
        char *nb = realloc(j->buf, ncap);
        if (nb == NULL) {
            cJSON_free(text);
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory buffering an event");
        }
        j->buf = nb;
        j->cap = ncap;
        line = j->buf + j->len;
    }
    seal(line, body);
    /* Judge the line as journal_open will: an event that would not verify
     * later (seq, ts, keys, cJSON's nesting limit) is refused now. */
    struct chain c = j->pending;
    struct error le = {0};
    int rc = judge_printed(event, line, n, &c, &le);
    if (rc != 0) {
        cJSON_free(text);
        return error_set(err, rc == ERR_SYSTEM ? ERR_SYSTEM : ERR_INPUT, NULL, 0, "event refused: %s", le.msg);
    }
    line[n] = '\n';
    if (mark != NULL)
        *mark = (struct journal_mark){ j->epoch, j->len, body };
    j->len += n + 1;
    j->pending = c;
    if (printed != NULL)
        *printed = text;
    return 0;
}

int journal_commit(struct journal *j, enum journal_sync sync, struct error *err)
{
    if (j->failed)
        return refuse_failed(j, err);
    if (j->len == 0)
        return 0;
    const char *what = "write";
    int e = 0;
    if (write_full(j->fd, j->buf, j->len) != 0)
        e = errno;
    else if (sync != JOURNAL_SYNC_OFF && fdatasync(j->fd) != 0) {
        e = errno;
        what = "fdatasync";
    }
    if (e != 0) {
        /* After a failed fsync the page cache may claim data the disk lost
         * (PostgreSQL's lesson): undo what this commit wrote, never retry,
         * and refuse all writes until an operator reopens the log. */
        const char *undo = ftruncate(j->fd, (off_t)j->size) == 0 ? "" : " (and cutting it back failed too)";
        snprintf(j->failure, sizeof j->failure, "%s failed: %s%s", what, strerror(e), undo);
        j->failed = true;
        journal_rollback(j);
        return error_set(err, ERR_SYSTEM, j->path, 0, "cannot commit events: %s", j->failure);
    }
    j->size += (long long)j->len;
    j->committed = j->pending;
    j->len = 0;
    j->epoch++;
    if (j->cap > (16u << 20)) {         /* one huge batch should not pin its memory */
        free(j->buf);
        j->buf = NULL;
        j->cap = 0;
    }
    return 0;
}

bool journal_failed(const struct journal *j)
{
    return j->failed;
}

int journal_reopen(struct journal *j, long long start, journal_event_fn fn, void *ctx, FILE *report,
                   struct error *err)
{
    journal_rollback(j);
    /* Everything past j->size is unacknowledged: whatever a failed write or fsync left there
     * (a torn line, or whole lines the page cache holds but the disk may not) goes. The cut
     * reaches the disk with the next commit's fdatasync (it syncs the size), before anything
     * after it is acknowledged. */
    if (ftruncate(j->fd, (off_t)j->size) != 0)
        return error_set(err, ERR_SYSTEM, j->path, 0, "cannot cut the log back to %lld bytes: %s", j->size,
                         strerror(errno));
    int rc = open_verify(j, start, fn, ctx, report, err);
    if (rc != 0)
        return rc;
    j->failed = false;
    j->failure[0] = '\0';
    return 0;
}

bool journal_pending(const struct journal *j)
{
    return j->len > 0;
}

void journal_rollback(struct journal *j)
{
    j->len = 0;
    j->epoch++;
    j->pending = j->committed;
}

int journal_replay(const char *path, long long start_offset, journal_event_fn fn, void *ctx, FILE *report,
                   long long *end_offset, struct error *err)
{
    if (end_offset != NULL)
        *end_offset = start_offset;
    if (start_offset < 0)
        return error_set(err, ERR_INPUT, path, 0, "negative offset %lld", start_offset);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return error_set(err, ERR_INPUT, path, 0, "no event log here");
        return error_set(err, ERR_SYSTEM, path, 0, "cannot open the event log: %s", strerror(errno));
    }
    struct scan s;
    int rc = scan_begin(&s, fd, path, start_offset, err);
    if (rc == 0)
        rc = scan_lines(&s, start_offset, fn, ctx, err);
    if (end_offset != NULL)
        *end_offset = s.good_end;
    close(fd);
    if (rc != 0 || report == NULL)
        return rc;
    if (s.tail_line != 0)
        fprintf(report, "%s:%lld: torn last line (%s): %lld bytes skipped (the file is not changed)\n", path,
                s.tail_line, s.tail_why, s.size - s.tail_off);
    if (s.bare_line != 0)
        fprintf(report, "%s:%lld: the last line lacks its final newline: skipped until the log is reopened\n", path,
                s.bare_line);
    if (s.tail_line == 0 && s.data_end < s.size)
        fprintf(report, "%s:%lld: %lld NUL bytes after the last line: skipped (the file is not changed)\n", path,
                s.next_line, s.size - s.data_end);
    return 0;
}
