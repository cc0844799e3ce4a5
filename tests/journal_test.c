/* journal_test: the event log against real files in a fresh temp directory,
 * with real fsync. Lines are checked with a bitwise CRC-32C written here, never
 * with the table under test. Tests must never touch anything outside their
 * temp directory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     /* asprintf, open_memstream */
#endif
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "crc32c.h"
#include "error.h"
#include "journal.h"

/* Criterion runs each test in its own process; these are per-test. */
static char g_dir[64];
static char g_path[128];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/tandem-journal-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/events.jsonl", g_dir);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void teardown(void)
{
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(journal, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------ */

/* Bit-at-a-time CRC-32C, independent of the table in core/crc32c.c. */
static uint32_t ref_crc(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

static void ts_of(long long seq, char out[21])
{
    /* One event per minute from 2027-01-01T00:00:00Z, enough for 1440 * 28. */
    unsigned m = (unsigned)(seq - 1);
    snprintf(out, 21, "2027-01-%02uT%02u:%02u:00Z", 1 + m / 1440 % 28, m / 60 % 24, m % 60);
}

static cJSON *event(long long seq, const char *ts, const char *type)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "seq", (double)seq);
    cJSON_AddStringToObject(e, "ts", ts);
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddNumberToObject(e, "n", (double)(seq * 10));
    cJSON_AddStringToObject(e, "text", "a \"quoted\" line\nwith \\ and \xc3\xa9");
    cJSON *o = cJSON_AddObjectToObject(e, "fields");
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddItemToObject(o, "ids", cJSON_CreateArray());
    return e;
}

static cJSON *event_n(long long seq)
{
    char ts[21];
    ts_of(seq, ts);
    return event(seq, ts, "note");
}

static int append_n(struct journal *j, long long seq, struct error *err)
{
    cJSON *e = event_n(seq);
    int rc = journal_append(j, e, err);
    cJSON_Delete(e);
    return rc;
}

/* Writes events 1..n to a fresh log at path. */
static void write_log(const char *path, long long n)
{
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(path, true, NULL, &j, &err), 0, "%s", err.msg);
    for (long long s = 1; s <= n; s++)
        cr_assert_eq(append_n(j, s, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    journal_close(j);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (cap - *len < 65536) {
            cap = cap * 2 + 65536;
            buf = realloc(buf, cap + 1);
            cr_assert_not_null(buf);
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static void spill(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* Offset just after the k-th '\n' (k >= 1), or 0 for k == 0. */
static size_t after_line(const char *buf, size_t len, int k)
{
    size_t off = 0;
    for (int i = 0; i < k; i++) {
        const char *nl = memchr(buf + off, '\n', len - off);
        cr_assert_not_null(nl, "fewer than %d lines", k);
        off = (size_t)(nl - buf) + 1;
    }
    return off;
}

/* A journal line for body (an object without its closing '}'), sealed with
 * the reference crc, as an outside writer would produce it. */
static char *sealed(const char *body)
{
    char *line;
    cr_assert_gt(asprintf(&line, "%s,\"crc\":\"%08x\"}\n", body, ref_crc(body, strlen(body))), 0);
    return line;
}

/* Replay collector. */
struct seen {
    int n;
    long long seq[64], line[64];
    cJSON *ev[64];
    int stop_after;                     /* return 42 after this many events, 0 = never */
};

static int collect(void *ctx, const cJSON *ev, long long line)
{
    struct seen *s = ctx;
    cr_assert_lt(s->n, 64);
    s->seq[s->n] = (long long)cJSON_GetObjectItemCaseSensitive(ev, "seq")->valuedouble;
    s->line[s->n] = line;
    s->ev[s->n] = cJSON_Duplicate(ev, true);
    s->n++;
    return s->stop_after != 0 && s->n == s->stop_after ? 42 : 0;
}

static void seen_free(struct seen *s)
{
    for (int i = 0; i < s->n; i++)
        cJSON_Delete(s->ev[i]);
}

/* Runs a replay of g_path from offset, asserts its rc, returns how many events. */
static int replay_count(long long offset, int want_rc, long long *end, char **report)
{
    struct seen s = {0};
    struct error err = {0};
    char *rep = NULL;
    size_t replen = 0;
    FILE *rf = open_memstream(&rep, &replen);
    int rc = journal_replay(g_path, offset, collect, &s, rf, end, &err);
    fclose(rf);
    cr_assert_eq(rc, want_rc, "replay rc %d: %s:%d: %s", rc, err.file, err.line, err.msg);
    for (int i = 0; i < s.n; i++) {
        cr_assert_eq(s.seq[i], s.line[i], "line number and seq differ");
        if (i > 0)
            cr_assert_eq(s.seq[i], s.seq[i - 1] + 1);
    }
    int n = s.n;
    seen_free(&s);
    if (report != NULL)
        *report = rep;
    else
        free(rep);
    return n;
}

/* Finds the single torn copy in g_dir; NULL when there is none. */
static char *torn_copy(void)
{
    DIR *d = opendir(g_dir);
    cr_assert_not_null(d);
    char *found = NULL;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "events.jsonl.torn-", 18) == 0) {
            cr_assert_null(found, "more than one torn copy");
            cr_assert_gt(asprintf(&found, "%s/%s", g_dir, de->d_name), 0);
        }
    }
    closedir(d);
    return found;
}

/* ---- crc32c ------------------------------------------------------------- */

Test(journal, crc32c_matches_the_standard_and_a_bitwise_reference)
{
    cr_assert_eq(crc32c(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(crc32c_table_only(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(crc32c(0, NULL, 0), 0u);
    unsigned char buf[1100];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    /* Odd starts and lengths: the word-at-a-time path must match byte for byte. */
    for (size_t start = 0; start < 9; start++) {
        for (size_t len = 0; len <= 1024; len += 37 + start) {
            uint32_t want = ref_crc(buf + start, len);
            cr_assert_eq(crc32c(0, buf + start, len), want, "start %zu len %zu", start, len);
            cr_assert_eq(crc32c_table_only(0, buf + start, len), want, "table, start %zu len %zu", start, len);
            size_t cut = len / 3;
            cr_assert_eq(crc32c(crc32c(0, buf + start, cut), buf + start + cut, len - cut), want, "chained");
            cr_assert_eq(crc32c_table_only(crc32c_table_only(0, buf + start, cut), buf + start + cut, len - cut), want,
                         "table, chained");
        }
    }
}

/* ---- writing ------------------------------------------------------------ */

Test(journal, append_commit_replay_round_trip)
{
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_last_seq(j), 0);
    cr_assert_str_eq(journal_last_ts(j), "");
    cJSON *orig[3];
    for (int i = 0; i < 3; i++) {
        orig[i] = event_n(i + 1);
        cr_assert_eq(journal_append(j, orig[i], &err), 0, "%s", err.msg);
    }
    cr_assert_eq(journal_last_seq(j), 3);
    cr_assert_eq(journal_end_offset(j), 0, "nothing is committed before journal_commit");
    struct stat st;
    cr_assert_eq(stat(g_path, &st), 0);
    cr_assert_eq(st.st_size, 0, "append must not write");
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    cr_assert_eq(stat(g_path, &st), 0);
    cr_assert_eq(journal_end_offset(j), (long long)st.st_size);
    journal_close(j);

    /* Every line: the cJSON print with its '}' replaced by the crc, checked
     * with the reference implementation. */
    size_t len;
    char *buf = slurp(g_path, &len);
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        char *nl = memchr(buf + off, '\n', len - off);
        cr_assert_not_null(nl);
        size_t n = (size_t)(nl - (buf + off));
        char *line = buf + off;
        cr_assert_geq(n, 18);
        cr_assert_eq(memcmp(line + n - 18, ",\"crc\":\"", 8), 0);
        char hex[9];
        snprintf(hex, sizeof hex, "%08x", ref_crc(line, n - 18));
        cr_assert_eq(memcmp(line + n - 10, hex, 8), 0, "line %d crc %.8s, reference %s", i + 1, line + n - 10, hex);
        cr_assert_eq(memcmp(line + n - 2, "\"}", 2), 0);
        char *printed = cJSON_PrintUnformatted(orig[i]);
        cr_assert_eq(strlen(printed) - 1, n - 18);
        cr_assert_eq(memcmp(printed, line, n - 18), 0, "line %d is not the cJSON print", i + 1);
        cJSON_free(printed);
        off += n + 1;
    }
    cr_assert_eq(off, len, "exactly three lines");
    free(buf);

    struct seen s = {0};
    long long end = -1;
    cr_assert_eq(journal_replay(g_path, 0, collect, &s, NULL, &end, &err), 0, "%s", err.msg);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(end, (long long)len);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(s.line[i], i + 1);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(s.ev[i], "crc"), "replay hands the event without its crc");
        cr_assert(cJSON_Compare(s.ev[i], orig[i], true), "event %d differs after the round trip", i + 1);
        cJSON_Delete(orig[i]);
    }
    seen_free(&s);

    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    char ts3[21];
    ts_of(3, ts3);
    cr_assert_eq(journal_last_seq(j), 3);
    cr_assert_str_eq(journal_last_ts(j), ts3);
    cr_assert_eq(append_n(j, 4, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_OFF, &err), 0, "%s", err.msg);
    journal_close(j);
    cr_assert_eq(replay_count(0, 0, NULL, NULL), 4);
}

Test(journal, append_enforces_seq_ts_type_and_reserved_keys)
{
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    const char *t1 = "2027-01-01T10:00:00Z";
    struct {
        const char *json;
        const char *why;
    } bad1[] = {
        {"{\"seq\":2,\"ts\":\"2027-01-01T10:00:00Z\",\"type\":\"x\"}", "seq"},     /* the first is 1 */
        {"{\"seq\":0,\"ts\":\"2027-01-01T10:00:00Z\",\"type\":\"x\"}", "seq"},
        {"{\"seq\":1.5,\"ts\":\"2027-01-01T10:00:00Z\",\"type\":\"x\"}", "seq"},
        {"{\"seq\":\"1\",\"ts\":\"2027-01-01T10:00:00Z\",\"type\":\"x\"}", "seq"},
        {"{\"ts\":\"2027-01-01T10:00:00Z\",\"seq\":1,\"type\":\"x\"}", "seq"},
        {"{\"seq\":1,\"ts\":\"2027-01-01 10:00:00\",\"type\":\"x\"}", "ts"},
        {"{\"seq\":1,\"ts\":\"2027-13-01T10:00:00Z\",\"type\":\"x\"}", "ts"},
        {"{\"seq\":1,\"ts\":\"2027-01-01T10:00:00Z\"}", "type"},
        {"{\"seq\":1,\"ts\":\"2027-01-01T10:00:00Z\",\"type\":\"\"}", "type"},
        {"{\"seq\":1,\"ts\":\"2027-01-01T10:00:00Z\",\"type\":\"x\",\"crc\":\"00000000\"}", "crc"},
        {"{\"seq\":1,\"ts\":\"2027-01-01T10:00:00Z\",\"type\":\"x\",\"Seq\":2,\"a\":1}", "Seq"},
        {"[1,2,3]", "object"},
        {"{}", "object"},
    };
    for (size_t i = 0; i < sizeof bad1 / sizeof bad1[0]; i++) {
        cJSON *e = cJSON_Parse(bad1[i].json);
        cr_assert_not_null(e);
        memset(&err, 0, sizeof err);
        cr_assert_eq(journal_append(j, e, &err), ERR_INPUT, "accepted %s", bad1[i].json);
        cr_assert_not_null(strstr(err.msg, bad1[i].why), "%s: message \"%s\" does not mention %s", bad1[i].json,
                           err.msg, bad1[i].why);
        cJSON_Delete(e);
        cr_assert_eq(journal_last_seq(j), 0, "a refused event moved last_seq");
    }
    cJSON *e = event(1, t1, "x");
    cr_assert_eq(journal_append(j, e, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_append(j, e, &err), ERR_INPUT, "a duplicate seq was accepted");
    cr_assert_not_null(strstr(err.msg, "seq 1"), "%s", err.msg);
    cJSON_Delete(e);
    e = event(3, t1, "x");
    cr_assert_eq(journal_append(j, e, &err), ERR_INPUT, "a seq gap was accepted");
    cr_assert_not_null(strstr(err.msg, "gap"), "%s", err.msg);
    cJSON_Delete(e);
    e = event(2, "2027-01-01T09:59:59Z", "x");
    cr_assert_eq(journal_append(j, e, &err), ERR_INPUT, "a decreasing ts was accepted");
    cr_assert_not_null(strstr(err.msg, "goes back"), "%s", err.msg);
    cJSON_Delete(e);
    e = event(2, t1, "x");              /* an equal ts is fine */
    cr_assert_eq(journal_append(j, e, &err), 0, "%s", err.msg);
    cJSON_Delete(e);
    cr_assert_eq(journal_last_seq(j), 2);
    cr_assert_str_eq(journal_last_ts(j), t1);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_BATCH, &err), 0, "%s", err.msg);
    journal_close(j);
    cr_assert_eq(replay_count(0, 0, NULL, NULL), 2, "refused events reached the file");
}

/* journal_append judges most events without parsing their print again; the ones cJSON may
 * not read back as they were (raw text, nesting past its parse limit) are parsed, so the
 * verdict is the one journal_open gives. */
Test(journal, append_refuses_what_would_not_read_back)
{
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    cJSON *deep = event_n(1), *inner = deep;
    for (int i = 0; i < CJSON_NESTING_LIMIT + 5; i++)
        inner = cJSON_AddObjectToObject(inner, "o");
    cr_assert_eq(journal_append(j, deep, &err), ERR_INPUT, "an event nested past cJSON's parse limit was accepted");
    cJSON_Delete(deep);
    cJSON *raw = event_n(1);
    cJSON_AddRawToObject(raw, "r", "{not json");
    cr_assert_eq(journal_append(j, raw, &err), ERR_INPUT, "raw text that is not JSON was accepted");
    cJSON_Delete(raw);
    raw = event_n(1);
    cJSON_AddRawToObject(raw, "r", "[1,{\"b\":2}]");
    char *printed = NULL;
    cr_assert_eq(journal_append_text(j, raw, &printed, &err), 0, "%s", err.msg);
    char *expect = cJSON_PrintUnformatted(raw);
    cr_assert_str_eq(printed, expect, "the text handed back is not cJSON's print of the event");
    cJSON_free(expect);
    cJSON_free(printed);
    cJSON_Delete(raw);
    cJSON *fine = event_n(2);
    inner = fine;
    for (int i = 0; i < 150; i++)
        inner = cJSON_AddObjectToObject(inner, "o");
    cr_assert_eq(journal_append(j, fine, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_OFF, &err), 0, "%s", err.msg);
    journal_close(j);
    struct seen s = {0};
    cr_assert_eq(journal_replay(g_path, 0, collect, &s, NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(s.n, 2);
    /* Printed, not cJSON_Compare: it compares each level twice, 2^150 times here. */
    char *back = cJSON_PrintUnformatted(s.ev[1]), *sent = cJSON_PrintUnformatted(fine);
    cr_assert_str_eq(back, sent, "a nested event changed on the way");
    cJSON_free(back);
    cJSON_free(sent);
    seen_free(&s);
    cJSON_Delete(fine);
}

Test(journal, text_that_looks_like_an_escape_round_trips)
{
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    cJSON *e = event_n(1);
    /* A backslash then "u0000", and a real control character (printed \u0001). */
    cJSON_AddStringToObject(e, "raw", "C:\\u0000\\x \x01 end");
    cr_assert_eq(journal_append(j, e, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    journal_close(j);
    struct seen s = {0};
    cr_assert_eq(journal_replay(g_path, 0, collect, &s, NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(s.n, 1);
    cr_assert(cJSON_Compare(s.ev[0], e, true), "the string changed on the way");
    seen_free(&s);
    cJSON_Delete(e);
}

Test(journal, rollback_drops_buffered_lines_and_restores_seq_and_ts)
{
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    journal_rollback(j);                /* nothing buffered: harmless */
    cr_assert_eq(append_n(j, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(append_n(j, 2, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    long long end = journal_end_offset(j);
    cr_assert_eq(append_n(j, 3, &err), 0, "%s", err.msg);
    cr_assert_eq(append_n(j, 4, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_last_seq(j), 4);
    journal_rollback(j);
    char ts2[21];
    ts_of(2, ts2);
    cr_assert_eq(journal_last_seq(j), 2);
    cr_assert_str_eq(journal_last_ts(j), ts2);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_end_offset(j), end, "rolled-back lines were written");
    cJSON *e = event(3, "2027-02-01T00:00:00Z", "other");
    cr_assert_eq(journal_append(j, e, &err), 0, "%s", err.msg);
    cJSON_Delete(e);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    journal_close(j);

    struct seen s = {0};
    cr_assert_eq(journal_replay(g_path, 0, collect, &s, NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(s.ev[2], "type")->valuestring, "other");
    seen_free(&s);
}

Test(journal, a_failed_commit_is_undone_and_the_journal_refuses_until_reopened)
{
    write_log(g_path, 2);
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    long long before = journal_end_offset(j);
    for (long long s = 3; s <= 6; s++)
        cr_assert_eq(append_n(j, s, &err), 0, "%s", err.msg);
    /* A real short write then EFBIG: the file may grow only 100 bytes more. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)before + 100;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), ERR_SYSTEM);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    cr_assert_not_null(strstr(err.msg, "write"), "%s", err.msg);
    struct stat st;
    cr_assert_eq(stat(g_path, &st), 0);
    cr_assert_eq(st.st_size, before, "the partial write was not cut back");
    cr_assert_eq(journal_last_seq(j), 2);
    cr_assert_eq(append_n(j, 3, &err), ERR_SYSTEM, "append after a failed commit");
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), ERR_SYSTEM, "commit after a failed commit");
    journal_close(j);

    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_last_seq(j), 2);
    cr_assert_eq(append_n(j, 3, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    journal_close(j);
    cr_assert_eq(replay_count(0, 0, NULL, NULL), 3);
}

static int count_lines(void *ctx, const cJSON *ev, long long line)
{
    (void)ev;
    long long *n = ctx;
    cr_assert_eq(line, *n + 1);
    *n = line;
    return 0;
}

Test(journal, reopen_after_a_failed_commit_cuts_it_and_takes_appends_again)
{
    write_log(g_path, 2);
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    long long before = journal_end_offset(j);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)before + 100;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (int round = 0; round < 2; round++) {
        /* The disk is still full: the commit fails again after a reopen, and is cut again. */
        for (long long s = 3; s <= 6; s++)
            cr_assert_eq(append_n(j, s, &err), 0, "%s", err.msg);
        cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), ERR_SYSTEM);
        cr_assert(journal_failed(j));
        cr_assert_not_null(strstr(err.file, "events.jsonl"), "%s", err.file);
        cr_assert_not_null(strstr(err.msg, "File too large"), "%s", err.msg);
        long long n = 0;
        cr_assert_eq(journal_reopen(j, 0, count_lines, &n, NULL, &err), 0, "%s", err.msg);
        cr_assert_not(journal_failed(j));
        cr_assert_eq(n, 2, "reopen hands over the lines on disk, and only those");
        cr_assert_eq(journal_last_seq(j), 2);
        cr_assert_eq(journal_end_offset(j), before);
    }
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    for (long long s = 3; s <= 4; s++)
        cr_assert_eq(append_n(j, s, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    journal_close(j);
    cr_assert_eq(replay_count(0, 0, NULL, NULL), 4);
}

struct count {
    long long n;
    bool big_ok;
};

static int count_events(void *ctx, const cJSON *ev, long long line)
{
    struct count *c = ctx;
    cr_assert_eq((long long)cJSON_GetObjectItemCaseSensitive(ev, "seq")->valuedouble, line);
    c->n++;
    const cJSON *big = cJSON_GetObjectItemCaseSensitive(ev, "big");
    if (big != NULL) {
        size_t n = strlen(big->valuestring);
        c->big_ok = n == (3u << 20) && big->valuestring[0] == 'a' &&
                    big->valuestring[n - 1] == (char)('a' + (n - 1) % 26);
    }
    return 0;
}

Test(journal, long_lines_and_chunk_boundaries)
{
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    size_t big = 3u << 20;
    char *text = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        text[i] = (char)('a' + i % 26);
    text[big] = '\0';
    for (long long s = 1; s <= 6000; s++) {  /* ~1.5 MiB besides the big line: reads cross chunk edges */
        cJSON *e = event_n(s);
        if (s == 3000)
            cJSON_AddStringToObject(e, "big", text);
        cr_assert_eq(journal_append(j, e, &err), 0, "%s", err.msg);
        cJSON_Delete(e);
    }
    free(text);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_OFF, &err), 0, "%s", err.msg);
    journal_close(j);
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_last_seq(j), 6000);
    journal_close(j);

    struct count c = {0, false};
    long long end = 0;
    cr_assert_eq(journal_replay(g_path, 0, count_events, &c, NULL, &end, &err), 0, "%s", err.msg);
    cr_assert_eq(c.n, 6000);
    cr_assert(c.big_ok, "the 3 MiB string did not come back intact");
    struct stat st;
    cr_assert_eq(stat(g_path, &st), 0);
    cr_assert_eq(end, st.st_size);
}

/* ---- the torn tail ------------------------------------------------------ */

/* Builds a log of 3 good events, damages its end with tail (appended after
 * `keep` bytes of it), then checks: replay reports and skips without touching
 * the file; open reports `line` and the byte count, copies exactly the cut
 * bytes aside, keeps `kept_lines` lines byte for byte, and appends on. */
static void torn_case(size_t keep_minus, const char *tail, size_t tail_len, long long line, long long kept_lines,
                      long long replay_lines, const char *what, bool expect_copy)
{
    write_log(g_path, 3);
    size_t glen;
    char *good = slurp(g_path, &glen);
    size_t keep = glen - keep_minus;
    char *bad = malloc(keep + tail_len + 1);
    memcpy(bad, good, keep);
    memcpy(bad + keep, tail, tail_len);
    size_t blen = keep + tail_len;
    spill(g_path, bad, blen);

    /* Read-only replay first: good lines only, a report, the file untouched. */
    char *rep = NULL;
    long long end = -1;
    cr_assert_eq(replay_count(0, 0, &end, &rep), replay_lines);
    cr_assert_not_null(strstr(rep, what), "replay report \"%s\" lacks \"%s\"", rep, what);
    free(rep);
    cr_assert_eq(end, (long long)after_line(good, glen, (int)replay_lines));
    size_t clen;
    char *cur = slurp(g_path, &clen);
    cr_assert(clen == blen && memcmp(cur, bad, blen) == 0, "replay modified the file");
    free(cur);
    cr_assert_null(torn_copy());

    struct journal *j;
    struct error err = {0};
    char *report = NULL;
    size_t rlen = 0;
    FILE *rf = open_memstream(&report, &rlen);
    cr_assert_eq(journal_open(g_path, false, rf, &j, &err), 0, "%s:%d: %s", err.file, err.line, err.msg);
    fclose(rf);
    char loc[200];
    snprintf(loc, sizeof loc, "%s:%lld: ", g_path, line);
    cr_assert_not_null(strstr(report, loc), "report \"%s\" lacks \"%s\"", report, loc);
    cr_assert_not_null(strstr(report, what), "report \"%s\" lacks \"%s\"", report, what);

    /* What stays: the first kept_lines lines of the good log, byte for byte. */
    size_t kept = after_line(good, glen, (int)kept_lines);
    if (kept_lines == 3)
        kept = glen;
    cur = slurp(g_path, &clen);
    cr_assert(clen == kept && memcmp(cur, good, kept) == 0, "open kept %zu bytes, expected the first %zu", clen, kept);
    free(cur);

    char *copy = torn_copy();
    if (expect_copy) {
        cr_assert_not_null(copy, "nothing was copied aside");
        char suffix[40];
        snprintf(suffix, sizeof suffix, "-%lld", line);
        cr_assert_eq(strcmp(copy + strlen(copy) - strlen(suffix), suffix), 0, "copy %s is not named for line %lld",
                     copy, line);
        size_t cut_from = kept < keep ? kept : keep;  /* a kept line may end in a newline added by open */
        size_t want_len = blen - cut_from;
        char bytes[40];
        snprintf(bytes, sizeof bytes, "%zu bytes", want_len);
        cr_assert_not_null(strstr(report, bytes), "report \"%s\" lacks \"%s\"", report, bytes);
        cur = slurp(copy, &clen);
        cr_assert(clen == want_len && memcmp(cur, bad + cut_from, want_len) == 0,
                  "the copy holds %zu bytes, not the %zu cut", clen, want_len);
        free(cur);
        free(copy);
    } else {
        cr_assert_null(copy, "something was copied aside");
    }
    free(report);

    cr_assert_eq(journal_last_seq(j), kept_lines);
    cr_assert_eq(append_n(j, kept_lines + 1, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    journal_close(j);
    cr_assert_eq(replay_count(0, 0, NULL, NULL), kept_lines + 1);
    free(good);
    free(bad);
}

/* Half of what would be line 4. */
static char *half_line_4(size_t *len)
{
    char ts[21];
    ts_of(4, ts);
    cJSON *e = event(4, ts, "note");
    char *p = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    *len = strlen(p) / 2;
    return p;
}

Test(journal, torn_half_line_is_copied_aside_and_cut)
{
    size_t n;
    char *half = half_line_4(&n);
    torn_case(0, half, n, 4, 3, 3, "no ,\"crc\"", true);
    cJSON_free(half);
}

Test(journal, nul_bytes_after_the_last_line_are_a_torn_tail)
{
    char zeros[4096] = {0};
    torn_case(0, zeros, sizeof zeros, 4, 3, 3, "4096 NUL bytes", true);
}

Test(journal, half_line_then_nuls_is_one_torn_tail)
{
    size_t n;
    char *half = half_line_4(&n);
    char *t = calloc(n + 512, 1);
    memcpy(t, half, n);
    torn_case(0, t, n + 512, 4, 3, 3, "no ,\"crc\"", true);
    free(t);
    cJSON_free(half);
}

Test(journal, missing_final_newline_with_valid_crc_is_added)
{
    torn_case(1, "", 0, 3, 3, 2, "newline", false);
}

Test(journal, missing_final_newline_then_nuls_keeps_the_line)
{
    char zeros[100] = {0};
    torn_case(1, zeros, sizeof zeros, 4, 3, 2, "100 NUL bytes", true);
}

Test(journal, flipped_byte_in_the_last_line_is_cut)
{
    write_log(g_path, 3);
    size_t glen;
    char *good = slurp(g_path, &glen);
    size_t l2 = after_line(good, glen, 2);
    /* Rebuild line 3 with one byte flipped (in its "n":30), as the tail. */
    size_t n3 = glen - l2;
    char *line3 = malloc(n3);
    memcpy(line3, good + l2, n3);
    char *n30 = strstr(line3, "\"n\":30");
    cr_assert_not_null(n30);
    n30[4] ^= 0x01;                     /* '3' becomes '2' */
    torn_case(n3, line3, n3, 3, 2, 2, "crc mismatch", true);
    free(line3);
    free(good);
}

Test(journal, a_file_of_only_nuls_is_cut_to_empty)
{
    char zeros[64] = {0};
    spill(g_path, zeros, sizeof zeros);
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_last_seq(j), 0);
    cr_assert_eq(journal_end_offset(j), 0);
    journal_close(j);
    struct stat st;
    cr_assert_eq(stat(g_path, &st), 0);
    cr_assert_eq(st.st_size, 0);
    char *copy = torn_copy();
    cr_assert_not_null(copy);
    free(copy);
}

/* ---- refusals ----------------------------------------------------------- */

/* Writes content to g_path, expects journal_open and journal_replay to refuse
 * with ERR_INPUT at line, message containing what, the file untouched. */
static void refused(const char *content, size_t len, int line, const char *what)
{
    spill(g_path, content, len);
    struct journal *j = (struct journal *)1;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), ERR_INPUT, "open accepted a log bad at line %d", line);
    cr_assert_null(j);
    cr_assert_str_eq(err.file, g_path);
    cr_assert_eq(err.line, line, "refused at line %d, expected %d (%s)", err.line, line, err.msg);
    cr_assert_not_null(strstr(err.msg, what), "message \"%s\" lacks \"%s\"", err.msg, what);
    size_t clen;
    char *cur = slurp(g_path, &clen);
    cr_assert(clen == len && memcmp(cur, content, len) == 0, "a refused log was modified");
    free(cur);
    cr_assert_null(torn_copy(), "a refused log had something cut");

    struct seen s = {0};
    long long end = -1;
    memset(&err, 0, sizeof err);
    cr_assert_eq(journal_replay(g_path, 0, collect, &s, NULL, &end, &err), ERR_INPUT);
    cr_assert_eq(err.line, line);
    cr_assert_eq(s.n, line - 1, "replay delivered %d events before line %d", s.n, line);
    cr_assert_eq(end, (long long)after_line(content, len, line - 1));
    seen_free(&s);
}

Test(journal, damaged_middle_line_refuses_with_its_number)
{
    write_log(g_path, 4);
    size_t len;
    char *buf = slurp(g_path, &len);
    size_t l1 = after_line(buf, len, 1);
    buf[l1 + 20] ^= 0x20;               /* inside line 2 */
    refused(buf, len, 2, "damaged");
    free(buf);
}

Test(journal, cut_short_middle_line_refuses_with_its_number)
{
    write_log(g_path, 4);
    size_t len;
    char *buf = slurp(g_path, &len);
    size_t l2 = after_line(buf, len, 2), l3 = after_line(buf, len, 3);
    /* Line 3 lost its second half but line 4 follows: not a tail. */
    size_t mid = l2 + (l3 - l2) / 2;
    memmove(buf + mid, buf + l3 - 1, len - (l3 - 1));
    len -= l3 - 1 - mid;
    refused(buf, len, 3, "damaged");
    free(buf);
}

Test(journal, nul_bytes_inside_the_log_refuse)
{
    write_log(g_path, 3);
    size_t len;
    char *buf = slurp(g_path, &len);
    size_t l1 = after_line(buf, len, 1);
    memset(buf + l1 + 5, 0, 10);
    refused(buf, len, 2, "NUL");
    free(buf);
}

Test(journal, crlf_endings_are_refused_and_named)
{
    write_log(g_path, 3);
    size_t len;
    char *buf = slurp(g_path, &len);
    char *crlf = malloc(len * 2);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            crlf[n++] = '\r';
        crlf[n++] = buf[i];
    }
    refused(crlf, n, 1, "CRLF");
    /* Only the last line converted: still refused, not cut as torn. */
    memcpy(crlf, buf, len - 1);
    memcpy(crlf + len - 1, "\r\n", 2);
    refused(crlf, len + 1, 3, "CRLF");
    free(crlf);
    free(buf);
}

/* Concatenates sealed lines for the bodies. */
static char *sealed_log(const char **bodies, int n, size_t *len)
{
    char *all = calloc(1, 1);
    *len = 0;
    for (int i = 0; i < n; i++) {
        char *l = sealed(bodies[i]);
        size_t ll = strlen(l);
        all = realloc(all, *len + ll + 1);
        memcpy(all + *len, l, ll + 1);
        *len += ll;
        free(l);
    }
    return all;
}

#define B(seq, ts) "{\"seq\":" #seq ",\"ts\":\"2027-01-01T00:00:" ts "Z\",\"type\":\"note\""

Test(journal, seq_gap_duplicate_and_first_seq_refuse)
{
    size_t len;
    const char *gap[] = {B(1, "01"), B(2, "02"), B(4, "03"), B(5, "04")};
    char *log = sealed_log(gap, 4, &len);
    refused(log, len, 3, "gap");
    free(log);
    const char *dup[] = {B(1, "01"), B(2, "02"), B(2, "03")};
    log = sealed_log(dup, 3, &len);  /* the last line: sealed, so refused, not cut */
    refused(log, len, 3, "repeats");
    free(log);
    const char *first[] = {B(2, "01"), B(3, "02")};
    log = sealed_log(first, 2, &len);
    refused(log, len, 1, "gap");
    free(log);
}

Test(journal, decreasing_ts_refuses)
{
    size_t len;
    const char *back[] = {B(1, "05"), B(2, "04"), B(3, "06")};
    char *log = sealed_log(back, 3, &len);
    refused(log, len, 2, "goes back");
    free(log);
}

Test(journal, sealed_lines_that_are_not_journal_objects_refuse)
{
    size_t len;
    const char *notjson[] = {B(1, "01"), "[1,2"};
    char *log = sealed_log(notjson, 2, &len);
    refused(log, len, 2, "not valid JSON");
    free(log);
    const char *noseq[] = {B(1, "01"), "{\"ts\":\"2027-01-01T00:00:02Z\",\"type\":\"note\",\"seq\":2", B(3, "03")};
    log = sealed_log(noseq, 3, &len);
    refused(log, len, 2, "first member");
    free(log);
    const char *dupkey[] = {B(1, "01"), B(2, "02") ",\"seq\":3", B(3, "03")};
    log = sealed_log(dupkey, 3, &len);
    refused(log, len, 2, "repeats a journal key");
    free(log);
    const char *nul[] = {B(1, "01") ",\"text\":\"ab\\u0000cd\"", B(2, "02")};
    log = sealed_log(nul, 2, &len);
    refused(log, len, 1, "misread");
    free(log);
    const char *badu[] = {B(1, "01"), B(2, "02") ",\"text\":\"ab\\uZZZZcd\""};
    log = sealed_log(badu, 2, &len);
    refused(log, len, 2, "misread");
    free(log);
    const char *dupcrc[] = {B(1, "01") ",\"crc\":\"00000000\"", B(2, "02")};
    log = sealed_log(dupcrc, 2, &len);
    refused(log, len, 1, "repeats a journal key");
    free(log);
}

/* ---- opening ------------------------------------------------------------ */

Test(journal, a_second_open_on_the_same_log_is_refused)
{
    struct journal *a, *b;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &a, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_open(g_path, false, NULL, &b, &err), ERR_INPUT, "two journals opened the same log");
    cr_assert_null(b);
    cr_assert_not_null(strstr(err.msg, "in use by another tandem"), "%s", err.msg);
    /* Not even truncate may bypass the lock. */
    cr_assert_eq(append_n(a, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(a, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_open(g_path, true, NULL, &b, &err), ERR_INPUT);
    cr_assert_eq(replay_count(0, 0, NULL, NULL), 1);
    journal_close(a);
    cr_assert_eq(journal_open(g_path, false, NULL, &b, &err), 0, "the lock outlived journal_close: %s", err.msg);
    cr_assert_eq(journal_last_seq(b), 1);
    journal_close(b);
}

Test(journal, truncate_starts_a_fresh_log)
{
    write_log(g_path, 3);
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, true, NULL, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_last_seq(j), 0);
    cr_assert_str_eq(journal_last_ts(j), "");
    struct stat st;
    cr_assert_eq(stat(g_path, &st), 0);
    cr_assert_eq(st.st_size, 0);
    cr_assert_eq(append_n(j, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_commit(j, JOURNAL_SYNC_ALWAYS, &err), 0, "%s", err.msg);
    journal_close(j);
    cr_assert_eq(replay_count(0, 0, NULL, NULL), 1);
}

Test(journal, open_refuses_a_directory_and_replay_a_missing_log)
{
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_dir, false, NULL, &j, &err), ERR_SYSTEM, "opened a directory");
    cr_assert_eq(journal_replay(g_path, 0, collect, NULL, NULL, NULL, &err), ERR_INPUT);
    cr_assert_not_null(strstr(err.msg, "no event log"), "%s", err.msg);
}

/* ---- replay ------------------------------------------------------------- */

Test(journal, replay_stops_when_fn_says_and_resumes_from_an_offset)
{
    write_log(g_path, 5);
    size_t len;
    char *buf = slurp(g_path, &len);
    size_t l2 = after_line(buf, len, 2);

    struct seen s = {.stop_after = 2};
    struct error err = {0};
    long long end = -1;
    cr_assert_eq(journal_replay(g_path, 0, collect, &s, NULL, &end, &err), 42, "fn's value is not returned");
    cr_assert_eq(s.n, 2);
    cr_assert_eq(end, (long long)l2, "end offset %lld, expected after line 2 (%zu)", end, l2);
    seen_free(&s);

    memset(&s, 0, sizeof s);
    cr_assert_eq(journal_replay(g_path, end, collect, &s, NULL, &end, &err), 0, "%s", err.msg);
    cr_assert_eq(s.n, 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(s.seq[i], i + 3);
        cr_assert_eq(s.line[i], i + 3, "line numbers restart after an offset");
    }
    cr_assert_eq(end, (long long)len);
    seen_free(&s);

    cr_assert_eq(replay_count((long long)len, 0, &end, NULL), 0, "replay from the end");
    cr_assert_eq(end, (long long)len);
    memset(&err, 0, sizeof err);
    cr_assert_eq(journal_replay(g_path, (long long)l2 + 1, collect, &s, NULL, &end, &err), ERR_INPUT);
    cr_assert_not_null(strstr(err.msg, "not the start of a line"), "%s", err.msg);
    cr_assert_eq(journal_replay(g_path, (long long)len + 10, collect, &s, NULL, &end, &err), ERR_INPUT);
    free(buf);
}

Test(journal, a_resumed_replay_still_checks_seq_across_the_offset)
{
    size_t len;
    const char *gap[] = {B(1, "01"), B(2, "02"), B(4, "03")};
    char *log = sealed_log(gap, 3, &len);
    spill(g_path, log, len);
    struct seen s = {0};
    struct error err = {0};
    long long end = -1;
    long long l2 = (long long)after_line(log, len, 2);
    cr_assert_eq(journal_replay(g_path, l2, collect, &s, NULL, &end, &err), ERR_INPUT);
    cr_assert_eq(err.line, 3);
    cr_assert_not_null(strstr(err.msg, "gap"), "%s", err.msg);
    cr_assert_eq(end, l2);
    cr_assert_eq(s.n, 0);
    free(log);
}

/* ---- lines past JOURNAL_MAX_LINE ---------------------------------------- */

/* Writes the 3-line good log, then a line of `big` junk bytes (ended by '\n'
 * when `ended`), then the given trailer. */
static size_t write_with_long_line(size_t big, bool ended, const char *trailer)
{
    write_log(g_path, 3);
    FILE *f = fopen(g_path, "ab");
    cr_assert_not_null(f);
    char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    for (size_t done = 0; done < big; done += sizeof chunk)
        cr_assert_eq(fwrite(chunk, 1, big - done < sizeof chunk ? big - done : sizeof chunk, f) > 0, 1);
    if (ended)
        fputc('\n', f);
    fputs(trailer, f);
    cr_assert_eq(fclose(f), 0);
    struct stat st;
    cr_assert_eq(stat(g_path, &st), 0);
    return (size_t)st.st_size;
}

Test(journal, an_overlong_middle_line_refuses_and_an_overlong_last_line_is_torn)
{
    size_t big = JOURNAL_MAX_LINE + 100000;   /* read whole, judged by verify_line */
    char *line5 = sealed(B(5, "05"));
    write_with_long_line(big, true, line5);
    free(line5);
    struct journal *j;
    struct error err = {0};
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), ERR_INPUT, "an overlong middle line was accepted");
    cr_assert_eq(err.line, 4);
    cr_assert_not_null(strstr(err.msg, "longer than"), "%s", err.msg);

    /* Longer than the limit by more than a read chunk, unended: the scanner
     * gives up keeping it and reads on only to find where it ends. */
    big = JOURNAL_MAX_LINE + (3u << 20);
    size_t size = write_with_long_line(big, false, "");
    size_t good = size - big;
    cr_assert_eq(journal_open(g_path, false, NULL, &j, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_last_seq(j), 3);
    cr_assert_eq(journal_end_offset(j), (long long)good);
    journal_close(j);
    char *copy = torn_copy();
    cr_assert_not_null(copy);
    struct stat st;
    cr_assert_eq(stat(copy, &st), 0);
    cr_assert_eq((size_t)st.st_size, big, "the copy aside is not the whole overlong line");
    free(copy);
}
