/* snapshot: the state saved as one sealed JSON line beside the log, and loaded back with every
 * member checked. A snapshot is only a shortcut through the log: it must never be written
 * unless it names the exact log line it follows, never be trusted when anything about it is
 * off, and never change the log. */
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "journal.h"
#include "json_arena.h"

#define CRC_SUFFIX   CRC32C_SEAL_LEN        /* ,"crc":"xxxxxxxx"} as in a log line */
#define CRC_TAG      CRC32C_SEAL_TAG
#define INT53        9007199254740992.0     /* 2^53: past it a double no longer counts by one */
#define TIME_LAST    253402300799LL         /* 9999-12-31T23:59:59Z, the last time the log can hold */
#define FILE_MAX     (4LL << 30)            /* a bigger file is not one of ours */
#define PREFIX       "snapshot-"
#define PATH_LEN     4352

/* Indexed by enum match_phase, enum goal_phase, enum objective. */
static const char *const match_phases[] = { "proposed", "active", "closed", "rejected" };
static const char *const goal_phases[] = { "set", "achieved", "dropped" };
static const char *const objectives[] = { "coverage", "quality" };

/* ---- small I/O helpers ---------------------------------------------------------------- */

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
            break;
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
            errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_dir(const char *dir, struct error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, ERR_SYSTEM, dir, 0, "cannot open the directory to sync it: %s", strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL)   /* EINVAL: a file system that cannot sync directories */
        return error_set(err, ERR_SYSTEM, dir, 0, "cannot sync the directory: %s", strerror(e));
    return 0;
}

/* True when p[0..n) ends with ,"crc":"xxxxxxxx"} sealing the bytes before it. */
static bool sealed(const char *p, size_t n, uint32_t *crc_out)
{
    uint32_t stored;
    if (n < CRC_SUFFIX + 2 || !crc32c_seal_read(p, n, &stored))
        return false;
    if (crc_out)
        *crc_out = stored;
    return crc32c(0, p, n - CRC_SUFFIX) == stored;
}

/* cJSON 1.7.15 silently cuts a string at \u0000 or at a \u without four hex digits
 * (PITFALLS); cJSON never prints either, so a sealed file holding one is not ours. */
static bool escapes_sound(const char *p, size_t n)
{
    const char *end = p + n;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p < 2)
            return false;
        if (p[1] != 'u') {
            p += 2;
            continue;
        }
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
    }
    return true;
}

/* Reads the log line that ends (with its '\n') at byte off of path and gives its seq and its
 * crc. Returns 0; 1 when there is no sound line ending there (why says what); ERR_SYSTEM when
 * the log cannot be read. */
static int log_line_before(const char *path, long long off, long long *seq, uint32_t *crc, char *why,
                           size_t why_len, struct error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            snprintf(why, why_len, "there is no log %s", path);
            return 1;
        }
        return error_set(err, ERR_SYSTEM, path, 0, "cannot open the event log: %s", strerror(errno));
    }
    int rc = 1;
    char *line = NULL;
    struct stat st;
    char b[8192];
    if (fstat(fd, &st) != 0) {
        rc = error_set(err, ERR_SYSTEM, path, 0, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (off < 2 || off > (long long)st.st_size) {
        snprintf(why, why_len, "log offset %lld is outside the log (%lld bytes)", off, (long long)st.st_size);
        goto out;
    }
    if (pread_full(fd, b, 1, off - 1) != 1) {
        rc = error_set(err, ERR_SYSTEM, path, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (b[0] != '\n') {
        snprintf(why, why_len, "no log line ends at offset %lld", off);
        goto out;
    }
    long long start = 0, pos = off - 1;   /* the line is [start, off - 1) */
    while (pos > 0) {
        size_t want = pos < (long long)sizeof b ? (size_t)pos : sizeof b;
        if (pread_full(fd, b, want, pos - (long long)want) != (ssize_t)want) {
            rc = error_set(err, ERR_SYSTEM, path, 0, "cannot read: %s", strerror(errno));
            goto out;
        }
        char *nl = memrchr(b, '\n', want);
        if (nl != NULL) {
            start = pos - (long long)want + (nl - b) + 1;
            break;
        }
        pos -= (long long)want;
        if (off - 1 - pos > (long long)JOURNAL_MAX_LINE) {
            snprintf(why, why_len, "the log line before offset %lld is too long", off);
            goto out;
        }
    }
    size_t n = (size_t)(off - 1 - start);
    if (!(line = malloc(n + 1))) {
        rc = error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
        goto out;
    }
    if (pread_full(fd, line, n, start) != (ssize_t)n) {
        rc = error_set(err, ERR_SYSTEM, path, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    line[n] = '\0';
    if (memchr(line, '\0', n) || !sealed(line, n, crc)) {
        snprintf(why, why_len, "the log line ending at offset %lld does not verify", off);
        goto out;
    }
    cJSON *ev = cJSON_ParseWithOpts(line, NULL, 1);
    const cJSON *first = ev ? ev->child : NULL;
    if (!first || strcmp(first->string, "seq") != 0 || !cJSON_IsNumber(first) || first->valuedouble < 1 ||
        first->valuedouble > INT53 || first->valuedouble != floor(first->valuedouble)) {
        snprintf(why, why_len, "the log line ending at offset %lld has no seq", off);
    } else {
        *seq = (long long)first->valuedouble;
        rc = 0;
    }
    cJSON_Delete(ev);
out:
    free(line);
    close(fd);
    return rc;
}

/* ---- state -> JSON ---------------------------------------------------------------------- */

/* Adds v under k, a string that outlives the tree (a literal or a static table's entry), so
 * the key is not copied: a big state makes millions of members. False (v freed) when either
 * is missing. */
static cJSON *put(cJSON *o, const char *k, cJSON *v)
{
    if (!o || !v) {
        cJSON_Delete(v);
        return NULL;
    }
    cJSON_AddItemToObjectCS(o, k, v);
    return v;
}

/* Numbers go out as exact numerals in raw nodes: cJSON prints numbers with 15 digits and
 * accepts a result within an epsilon, which can lose the last bit of a double or the last
 * digit of a big integer (and printing them is its slowest path). */
static bool add_ll(cJSON *o, const char *k, long long v)
{
    char b[24];
    snprintf(b, sizeof b, "%lld", v);
    return put(o, k, cJSON_CreateRaw(b)) != NULL;
}

static bool add_int(cJSON *o, const char *k, int v)
{
    return add_ll(o, k, v);
}

static bool add_bool(cJSON *o, const char *k, bool v)
{
    return put(o, k, cJSON_CreateBool(v)) != NULL;
}

static bool add_real(cJSON *o, const char *k, double v)
{
    if (!isfinite(v))
        return false;
    char b[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(b, sizeof b, "%.*g", digits, v);
        if (strtod(b, NULL) == v)
            break;
    }
    return put(o, k, cJSON_CreateRaw(b)) != NULL;
}

/* A time as RFC 3339; null for 0 where 0 means "none". Times outside what the log can hold
 * cannot come from events: refuse them rather than write one that reads back different. */
static bool add_time(cJSON *o, const char *k, tdm_time t, bool zero_is_null)
{
    if (zero_is_null && t == 0)
        return put(o, k, cJSON_CreateNull()) != NULL;
    if (t < 0 || t > TIME_LAST)
        return false;
    char b[21];
    time_format(t, b);
    return put(o, k, cJSON_CreateString(b)) != NULL;
}

static bool add_str(cJSON *o, const char *k, const char *v)
{
    return put(o, k, v ? cJSON_CreateString(v) : cJSON_CreateNull()) != NULL;
}

static bool add_strs(cJSON *o, const char *k, char *const *v, int n)
{
    cJSON *a = put(o, k, cJSON_CreateArray());
    for (int i = 0; a && i < n; i++) {
        cJSON *x = cJSON_CreateString(v[i] ? v[i] : "");
        if (!x)
            return false;
        cJSON_AddItemToArray(a, x);
    }
    return a != NULL;
}

static bool add_duration(cJSON *o, const char *k, struct duration d)
{
    char b[48];
    duration_format(d, b, sizeof b);
    return put(o, k, cJSON_CreateString(b)) != NULL;
}

static bool add_ids(const struct state *s, cJSON *o, const char *k, const int *v, int n)
{
    cJSON *a = put(o, k, cJSON_CreateArray());
    for (int i = 0; a && i < n; i++) {
        if (v[i] < 0 || v[i] >= s->n_people)
            return false;
        cJSON *x = cJSON_CreateString(s->people[v[i]].p.id);
        if (!x)
            return false;
        cJSON_AddItemToArray(a, x);
    }
    return a != NULL;
}

static cJSON *program_json(const struct program *p)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add_str(o, "name", p->name) && add_str(o, "model", p->model) &&
              add_duration(o, "term", p->term) && add_duration(o, "cadence", p->cadence) &&
              add_duration(o, "review_every", p->review_every) && add_duration(o, "match_every", p->match_every) &&
              add_str(o, "objective", objectives[p->objective == OBJECTIVE_QUALITY]) &&
              add_bool(o, "approve", p->approve) && add_bool(o, "reup", p->reup) &&
              add_bool(o, "rotate", p->rotate) && add_strs(o, "prompts", p->prompts, p->n_prompts) &&
              add_bool(o, "live", p->live) && add_time(o, "since", p->since, false);
    cJSON *life = ok ? cJSON_AddObjectToObject(o, "lifecycle") : NULL;
    ok = life && lifecycle_to_json(&p->life, life);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* A match's life (state.h); acks as a string of 0/1 per party, or null. */
static bool add_life(cJSON *o, const struct match *m)
{
    const struct match_life *l = &m->life;
    cJSON *j = put(o, "life", cJSON_CreateObject());
    char acks[4096];
    int n = m->n_mentors + m->n_mentees;
    if (l->acks && n >= (int)sizeof acks)
        return false;
    for (int i = 0; l->acks && i < n; i++)
        acks[i] = l->acks[i] ? '1' : '0';
    acks[l->acks ? n : 0] = '\0';
    return j && add_time(j, "last_activity", l->last_activity, false) && add_time(j, "last_held", l->last_held, false) &&
           add_bool(j, "idle_flagged", l->idle_flagged) && add_bool(j, "stalled_flagged", l->stalled_flagged) &&
           add_bool(j, "goals_flagged", l->goals_flagged) && add_int(j, "goal_steps", l->goal_steps) &&
           add_int(j, "goal_steps_at_review", l->goal_steps_at_review) &&
           add_real(j, "feedback_sum_at_review", l->feedback_sum_at_review) &&
           add_int(j, "feedback_n_at_review", l->feedback_n_at_review) &&
           add_real(j, "last_period_rating", l->last_period_rating) &&
           add_str(j, "acks", l->acks ? acks : NULL) && add_str(j, "prompt", l->prompt) &&
           add_int(j, "checkins", l->checkins);
}

static cJSON *match_json(const struct state *s, const struct match *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || m->program < 0 || m->program >= s->n_programs || m->phase < MATCH_PROPOSED ||
        m->phase > MATCH_REJECTED) {
        cJSON_Delete(o);
        return NULL;
    }
    bool ok = add_ll(o, "id", m->id) && add_str(o, "program", s->programs[m->program].name) &&
              add_str(o, "phase", match_phases[m->phase]) && add_ids(s, o, "mentors", m->mentors, m->n_mentors) &&
              add_ids(s, o, "mentees", m->mentees, m->n_mentees) && add_real(o, "score", m->score) &&
              add_time(o, "started", m->started, false) && add_time(o, "term_ends", m->term_ends, false) &&
              add_time(o, "closed_at", m->closed_at, true) && add_str(o, "close_reason", m->close_reason) &&
              add_int(o, "terms", m->terms) &&
              add_time(o, "next_meeting", m->next_meeting, true) &&
              add_int(o, "meeting_n", m->meeting_n) && add_int(o, "held", m->held) &&
              add_int(o, "missed", m->missed) &&
              add_int(o, "cancelled", m->cancelled) &&
              add_int(o, "held_at_review", m->held_at_review) &&
              add_int(o, "missed_at_review", m->missed_at_review) &&
              add_int(o, "reviews", m->reviews) && add_bool(o, "reup_open", m->reup_open) &&
              add_ids(s, o, "guests", m->guests, m->n_guests);
    if (ok && m->answers) {
        cJSON *a = put(o, "answers", cJSON_CreateArray());
        for (int i = 0; ok && i < m->n_mentors + m->n_mentees; i++) {
            char b[8];
            snprintf(b, sizeof b, "%d", m->answers[i]);
            cJSON *x = a ? cJSON_CreateRaw(b) : NULL;
            ok = x != NULL;
            if (ok)
                cJSON_AddItemToArray(a, x);
        }
    } else if (ok) {
        ok = put(o, "answers", cJSON_CreateNull()) != NULL;
    }
    ok = ok && add_real(o, "feedback_sum", m->feedback_sum) &&
         add_int(o, "feedback_n", m->feedback_n) && add_int(o, "flags", m->flags) && add_life(o, m);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *goal_json(const struct goal *g)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && g->phase >= GOAL_SET && g->phase <= GOAL_DROPPED && add_ll(o, "id", g->id) &&
              add_ll(o, "match", g->match) && add_str(o, "text", g->text) && add_str(o, "measure", g->measure) &&
              add_time(o, "due", g->due, true) && add_str(o, "phase", goal_phases[g->phase]) &&
              add_int(o, "progress_n", g->progress_n);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Adds item to array a; false (and item freed) when either is missing. */
static bool push(cJSON *a, cJSON *item)
{
    if (!a || !item) {
        cJSON_Delete(item);
        return false;
    }
    cJSON_AddItemToArray(a, item);
    return true;
}

cJSON *snapshot_state_to_json(const struct state *s)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add_ll(o, "seq", s->seq) && add_time(o, "now", s->now, false) &&
              add_ll(o, "n_events", s->n_events) && add_str(o, "rules_file", s->rules_file) &&
              add_str(o, "rules_sha256", s->rules_sha256) && add_bool(o, "simulated", s->simulated) &&
              add_strs(o, "priorities", s->priorities, s->n_priorities);
    cJSON *c = ok ? put(o, "counters", cJSON_CreateObject()) : NULL;
    ok = c && add_ll(c, "reviews", s->reviews) && add_ll(c, "reups_renewed", s->reups_renewed) &&
         add_ll(c, "reups_closed", s->reups_closed) && add_ll(c, "flags", s->flags) && add_ll(c, "notes", s->notes) &&
         add_ll(c, "rule_errors", s->rule_errors) && add_ll(c, "feedback_n", s->feedback_n) &&
         add_real(c, "feedback_sum", s->feedback_sum) && add_ll(c, "goals_set", s->goals_set) &&
         add_ll(c, "goals_achieved", s->goals_achieved) && add_ll(c, "goals_dropped", s->goals_dropped);
    cJSON *cr = ok ? put(c, "closes_by_reason", cJSON_CreateObject()) : NULL;
    ok = cr != NULL;
    for (int i = 0; ok && i < 8; i++) {
        /* The slot past the last reason is never counted (state.c stops at the NULL). */
        if (close_reasons[i])
            ok = add_ll(cr, close_reasons[i], s->closes_by_reason[i]);
        else
            ok = s->closes_by_reason[i] == 0;
    }

    cJSON *a = ok ? put(o, "people", cJSON_CreateArray()) : NULL;
    for (int i = 0; a && ok && i < s->n_people; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON *pj = person_to_json(&s->people[i].p);
        ok = push(a, r) && pj;
        if (!ok) {
            cJSON_Delete(pj);
            break;
        }
        put(r, "person", pj);
        ok = add_bool(r, "left", s->people[i].left) &&
             add_int(r, "flags", s->people[i].flags);
    }
    a = ok ? put(o, "programs", cJSON_CreateArray()) : NULL;
    for (int i = 0; a && ok && i < s->n_programs; i++)
        ok = push(a, program_json(&s->programs[i]));
    a = ok && a ? put(o, "enrollments", cJSON_CreateArray()) : NULL;
    for (int i = 0; a && ok && i < s->n_enrollments; i++) {
        const struct enrollment *e = &s->enrollments[i];
        cJSON *r = cJSON_CreateObject();
        ok = push(a, r) && e->person >= 0 && e->person < s->n_people && e->program >= 0 &&
             e->program < s->n_programs && e->role >= 0 && e->role < ROLE_COUNT &&
             add_str(r, "person", s->people[e->person].p.id) && add_str(r, "program", s->programs[e->program].name) &&
             add_str(r, "role", role_names[e->role]) && add_time(r, "waiting_since", e->waiting_since, false);
    }
    a = ok && a ? put(o, "matches", cJSON_CreateArray()) : NULL;
    for (int i = 0; a && ok && i < s->n_matches; i++)
        ok = push(a, match_json(s, &s->matches[i]));
    a = ok && a ? put(o, "goals", cJSON_CreateArray()) : NULL;
    for (int i = 0; a && ok && i < s->n_goals; i++)
        ok = push(a, goal_json(&s->goals[i]));
    a = ok && a ? put(o, "requests", cJSON_CreateArray()) : NULL;
    for (int i = 0; a && ok && i < s->n_requests; i++) {
        const struct request *q = &s->requests[i];
        cJSON *r = cJSON_CreateObject();
        ok = push(a, r) && q->program >= 0 && q->program < s->n_programs && q->mentee >= 0 &&
             q->mentee < s->n_people && add_ll(r, "id", q->id) && add_str(r, "program", s->programs[q->program].name) &&
             add_str(r, "mentee", s->people[q->mentee].p.id) && add_ids(s, r, "choices", q->choices, q->n_choices) &&
             add_int(r, "at", q->at) && add_time(r, "asked_at", q->asked_at, false) &&
             add_str(r, "phase", request_phases[q->phase]) && add_ll(r, "match", q->match);
    }
    if (!ok || !a) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- JSON -> state ---------------------------------------------------------------------- */

/* Where a reader is, for messages: "state.matches[12]" (then ".held: ..."). */
struct rd {
    struct error *err;
    char where[64];
};

static int failv(struct rd *r, const char *key, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return error_set(r->err, ERR_INPUT, NULL, 0, "%s%s%s: %s", r->where,
                     r->where[0] && key ? "." : "", key ? key : "", msg);
}

__attribute__((format(printf, 3, 4))) static int fail(struct rd *r, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(r, key, fmt, ap);
    va_end(ap);
    return rc;
}

static int oom(struct rd *r)
{
    return error_set(r->err, ERR_SYSTEM, NULL, 0, "out of memory");
}

/* o must be an object with exactly the members names[0..n) (case-sensitive, each once); v[i]
 * gets the member named names[i]. */
static int members(struct rd *r, const cJSON *o, const char *const *names, int n, const cJSON **v)
{
    if (!cJSON_IsObject(o))
        return fail(r, NULL, "not an object");
    for (int i = 0; i < n; i++)
        v[i] = NULL;
    int guess = 0;
    for (const cJSON *m = o->child; m; m = m->next, guess++) {
        /* Members come in the order snapshot_state_to_json writes them: try that first. */
        int i = guess < n && strcmp(m->string, names[guess]) == 0 ? guess : 0;
        while (i < n && strcmp(m->string, names[i]) != 0)
            i++;
        if (i == n)
            return fail(r, m->string, "unknown member");
        if (v[i])
            return fail(r, m->string, "repeated member");
        v[i] = m;
    }
    for (int i = 0; i < n; i++)
        if (!v[i])
            return fail(r, names[i], "missing");
    return 0;
}

/* A number node, or a raw numeral as snapshot_state_to_json makes (only a tree that was never
 * printed has those). */
static bool node_double(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return isfinite(*out);
    }
    if (!cJSON_IsRaw(v) || !v->valuestring || !v->valuestring[0])
        return false;
    const char *s = v->valuestring;
    if (!(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
        return false;
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*out);
}

static int get_ll(struct rd *r, const cJSON *v, const char *k, long long min, long long max, long long *out)
{
    double d;
    if (!node_double(v, &d) || d != floor(d) || d < (double)min || d > (double)max || fabs(d) > INT53)
        return fail(r, k, "must be a whole number from %lld to %lld", min, max);
    *out = (long long)d;
    return 0;
}

static int get_int(struct rd *r, const cJSON *v, const char *k, int *out)
{
    long long x;
    int rc = get_ll(r, v, k, 0, INT32_MAX, &x);
    if (rc == 0)
        *out = (int)x;
    return rc;
}

static int get_count(struct rd *r, const cJSON *v, const char *k, long long *out)
{
    return get_ll(r, v, k, 0, (long long)INT53, out);
}

static int get_real(struct rd *r, const cJSON *v, const char *k, double *out)
{
    if (!node_double(v, out))
        return fail(r, k, "must be a finite number");
    return 0;
}

static int get_bool(struct rd *r, const cJSON *v, const char *k, bool *out)
{
    if (!cJSON_IsBool(v))
        return fail(r, k, "must be true or false");
    *out = cJSON_IsTrue(v);
    return 0;
}

/* A time in the canonical form time_format writes; null gives 0 when nullable. */
static int get_time(struct rd *r, const cJSON *v, const char *k, bool nullable, tdm_time *out)
{
    if (nullable && cJSON_IsNull(v)) {
        *out = 0;
        return 0;
    }
    char back[21];
    tdm_time t;
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 20 || time_parse(v->valuestring, &t) < 0 ||
        (time_format(t, back), strcmp(back, v->valuestring) != 0))
        return fail(r, k, "must be a time YYYY-MM-DDTHH:MM:SSZ%s", nullable ? " or null" : "");
    *out = t;
    return 0;
}

static bool text_ok(const char *s)
{
    return person_utf8_valid(s, strlen(s), NULL);
}

/* A string (a copy in *out), or NULL for null when nullable. */
static int get_str(struct rd *r, const cJSON *v, const char *k, bool nullable, char **out)
{
    *out = NULL;
    if (nullable && cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !text_ok(v->valuestring))
        return fail(r, k, "must be a UTF-8 string%s", nullable ? " or null" : "");
    return (*out = strdup(v->valuestring)) ? 0 : oom(r);
}

/* A string that must be one of names[0..n); its index in *out. */
static int get_enum(struct rd *r, const cJSON *v, const char *k, const char *const *names, int n, int *out)
{
    for (int i = 0; cJSON_IsString(v) && i < n; i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return fail(r, k, "must be one of %s ... %s", names[0], names[n - 1]);
}

static int get_strs(struct rd *r, const cJSON *v, const char *k, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(v))
        return fail(r, k, "must be an array of strings");
    int len = cJSON_GetArraySize(v);
    if (len == 0)
        return 0;
    if (!(*out = calloc((size_t)len, sizeof **out)))
        return oom(r);
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsString(it) || !text_ok(it->valuestring))
            return fail(r, k, "must be an array of strings");
        if (!((*out)[(*n)++] = strdup(it->valuestring)))
            return oom(r);
    }
    return 0;
}

static int get_duration(struct rd *r, const cJSON *v, const char *k, struct duration *out)
{
    char why[128];
    if (!cJSON_IsString(v) || duration_parse(v->valuestring, out, why, sizeof why) < 0)
        return fail(r, k, "must be a duration such as 2w or 6mo");
    return 0;
}

static int get_person_ref(struct rd *r, const struct state *s, const cJSON *v, const char *k, int *out)
{
    int p = cJSON_IsString(v) ? state_person(s, v->valuestring) : -1;
    if (p < 0)
        return fail(r, k, "names no person of the snapshot");
    *out = p;
    return 0;
}

static int get_program_ref(struct rd *r, const struct state *s, const cJSON *v, const char *k, int *out)
{
    int p = cJSON_IsString(v) ? state_program(s, v->valuestring) : -1;
    if (p < 0)
        return fail(r, k, "names no program of the snapshot");
    *out = p;
    return 0;
}

static int get_people_refs(struct rd *r, const struct state *s, const cJSON *v, const char *k, int **out, int *n)
{
    if (!cJSON_IsArray(v))
        return fail(r, k, "must be an array of person ids");
    int len = cJSON_GetArraySize(v);
    /* Never NULL, as state.c's read_people leaves it. */
    if (!(*out = calloc((size_t)(len ? len : 1), sizeof **out)))
        return oom(r);
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        int rc = get_person_ref(r, s, it, k, &(*out)[*n]);
        if (rc < 0)
            return rc;
        (*n)++;
    }
    return 0;
}

/* Arrays the state grows with state.c's grow(): sized exactly, cap = n, so grow() goes on
 * from there. */
static int alloc_array(struct rd *r, const cJSON *a, const char *k, size_t elem, void **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(a))
        return fail(r, k, "must be an array");
    int len = cJSON_GetArraySize(a);
    if (len > 0 && !(*out = calloc((size_t)len, elem)))
        return oom(r);
    *n = len;
    return 0;
}

static int read_people(struct rd *r, struct state *s, const cJSON *a)
{
    static const char *const keys[] = { "person", "left", "flags" };
    int n;
    snprintf(r->where, sizeof r->where, "state");
    int rc = alloc_array(r, a, "people", sizeof *s->people, (void **)&s->people, &n);
    if (rc < 0)
        return rc;
    s->cap_people = n;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        int i = s->n_people;
        const cJSON *v[3];
        snprintf(r->where, sizeof r->where, "state.people[%d]", i);
        if ((rc = members(r, it, keys, 3, v)) < 0)
            return rc;
        struct error pe = { 0 };
        rc = person_from_json(v[0], &s->people[i].p, &pe);
        if (rc == ERR_SYSTEM)
            return oom(r);
        if (rc < 0)
            return fail(r, "person", "%s", pe.msg);
        s->n_people++;   /* counted now so state_free frees it */
        if (state_person(s, s->people[i].p.id) >= 0)
            return fail(r, "person", "id %s repeats an earlier person's", s->people[i].p.id);
        if (strmap_put(&s->person_index, s->people[i].p.id, i) < 0)
            return oom(r);
        if ((rc = get_bool(r, v[1], keys[1], &s->people[i].left)) < 0 ||
            (rc = get_int(r, v[2], keys[2], &s->people[i].flags)) < 0)
            return rc;
    }
    return 0;
}

static int read_programs(struct rd *r, struct state *s, const cJSON *a)
{
    enum { NAME, MODEL, TERM, CADENCE, REVIEW, MATCH_EVERY, OBJECTIVE, APPROVE, REUP, ROTATE, PROMPTS, LIVE, SINCE,
           LIFE, N };
    static const char *const keys[N] = { "name", "model", "term", "cadence", "review_every", "match_every",
                                         "objective", "approve", "reup", "rotate", "prompts", "live", "since",
                                         "lifecycle" };
    int n;
    snprintf(r->where, sizeof r->where, "state");
    int rc = alloc_array(r, a, "programs", sizeof *s->programs, (void **)&s->programs, &n);
    if (rc < 0)
        return rc;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        struct program *p = &s->programs[s->n_programs];
        const cJSON *v[N];
        int obj = 0;
        snprintf(r->where, sizeof r->where, "state.programs[%d]", s->n_programs);
        if ((rc = members(r, it, keys, N, v)) < 0)
            return rc;
        if (cJSON_IsString(v[NAME]) && state_program(s, v[NAME]->valuestring) >= 0)
            return fail(r, keys[NAME], "repeats an earlier program's name");
        s->n_programs++;   /* counted now so state_free frees what is read */
        if ((rc = get_str(r, v[NAME], keys[NAME], false, &p->name)) < 0 ||
            (rc = get_str(r, v[MODEL], keys[MODEL], false, &p->model)) < 0 ||
            (rc = get_duration(r, v[TERM], keys[TERM], &p->term)) < 0 ||
            (rc = get_duration(r, v[CADENCE], keys[CADENCE], &p->cadence)) < 0 ||
            (rc = get_duration(r, v[REVIEW], keys[REVIEW], &p->review_every)) < 0 ||
            (rc = get_duration(r, v[MATCH_EVERY], keys[MATCH_EVERY], &p->match_every)) < 0 ||
            (rc = get_enum(r, v[OBJECTIVE], keys[OBJECTIVE], objectives, 2, &obj)) < 0 ||
            (rc = get_bool(r, v[APPROVE], keys[APPROVE], &p->approve)) < 0 ||
            (rc = get_bool(r, v[REUP], keys[REUP], &p->reup)) < 0 ||
            (rc = get_bool(r, v[ROTATE], keys[ROTATE], &p->rotate)) < 0 ||
            (rc = get_strs(r, v[PROMPTS], keys[PROMPTS], &p->prompts, &p->n_prompts)) < 0 ||
            (rc = get_bool(r, v[LIVE], keys[LIVE], &p->live)) < 0 ||
            (rc = get_time(r, v[SINCE], keys[SINCE], false, &p->since)) < 0)
            return rc;
        p->objective = obj == 1 ? OBJECTIVE_QUALITY : OBJECTIVE_COVERAGE;
        const char *field = NULL;
        char why[200];
        if (!cJSON_IsObject(v[LIFE]))
            return fail(r, keys[LIFE], "not an object");
        if (lifecycle_from_json(&p->life, v[LIFE], &field, why, sizeof why) != 0)
            return fail(r, field ? field : keys[LIFE], "%s", why);
    }
    return 0;
}

static int read_enrollments(struct rd *r, struct state *s, const cJSON *a)
{
    static const char *const keys[] = { "person", "program", "role", "waiting_since" };
    int n;
    snprintf(r->where, sizeof r->where, "state");
    int rc = alloc_array(r, a, "enrollments", sizeof *s->enrollments, (void **)&s->enrollments, &n);
    if (rc < 0)
        return rc;
    s->cap_enrollments = n;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        struct enrollment *e = &s->enrollments[s->n_enrollments];
        const cJSON *v[4];
        int role = 0;
        snprintf(r->where, sizeof r->where, "state.enrollments[%d]", s->n_enrollments);
        if ((rc = members(r, it, keys, 4, v)) < 0 || (rc = get_person_ref(r, s, v[0], keys[0], &e->person)) < 0 ||
            (rc = get_program_ref(r, s, v[1], keys[1], &e->program)) < 0 ||
            (rc = get_enum(r, v[2], keys[2], role_names, ROLE_COUNT, &role)) < 0 ||
            (rc = get_time(r, v[3], keys[3], false, &e->waiting_since)) < 0)
            return rc;
        e->role = (enum role)role;
        s->n_enrollments++;
    }
    return 0;
}

static int read_life(struct rd *r, struct match *m, const cJSON *o)
{
    enum { ACT, HELD, IDLE, STALLED, GOALS, STEPS, STEPS_AT, FB_SUM, FB_N, LAST, ACKS, PROMPT, CHECKINS, N };
    static const char *const keys[N] = { "last_activity", "last_held", "idle_flagged", "stalled_flagged",
                                         "goals_flagged", "goal_steps", "goal_steps_at_review",
                                         "feedback_sum_at_review", "feedback_n_at_review", "last_period_rating",
                                         "acks", "prompt", "checkins" };
    struct match_life *l = &m->life;
    const cJSON *v[N];
    char *acks = NULL;
    size_t len = strlen(r->where);
    snprintf(r->where + len, sizeof r->where - len, ".life");
    int rc;
    if ((rc = members(r, o, keys, N, v)) < 0 || (rc = get_time(r, v[ACT], keys[ACT], false, &l->last_activity)) < 0 ||
        (rc = get_time(r, v[HELD], keys[HELD], false, &l->last_held)) < 0 ||
        (rc = get_bool(r, v[IDLE], keys[IDLE], &l->idle_flagged)) < 0 ||
        (rc = get_bool(r, v[STALLED], keys[STALLED], &l->stalled_flagged)) < 0 ||
        (rc = get_bool(r, v[GOALS], keys[GOALS], &l->goals_flagged)) < 0 ||
        (rc = get_int(r, v[STEPS], keys[STEPS], &l->goal_steps)) < 0 ||
        (rc = get_int(r, v[STEPS_AT], keys[STEPS_AT], &l->goal_steps_at_review)) < 0 ||
        (rc = get_real(r, v[FB_SUM], keys[FB_SUM], &l->feedback_sum_at_review)) < 0 ||
        (rc = get_int(r, v[FB_N], keys[FB_N], &l->feedback_n_at_review)) < 0 ||
        (rc = get_real(r, v[LAST], keys[LAST], &l->last_period_rating)) < 0 ||
        (rc = get_str(r, v[PROMPT], keys[PROMPT], true, &l->prompt)) < 0 ||
        (rc = get_int(r, v[CHECKINS], keys[CHECKINS], &l->checkins)) < 0 ||
        (rc = get_str(r, v[ACKS], keys[ACKS], true, &acks)) < 0)
        return rc;
    if (!acks)
        return 0;
    int n = m->n_mentors + m->n_mentees;
    if ((int)strlen(acks) != n || strspn(acks, "01") != strlen(acks)) {
        free(acks);
        return fail(r, keys[ACKS], "must hold one 0 or 1 per party (%d)", n);
    }
    if (!(l->acks = calloc((size_t)(n ? n : 1), 1))) {
        free(acks);
        return oom(r);
    }
    for (int i = 0; i < n; i++)
        l->acked += l->acks[i] = acks[i] == '1';
    free(acks);
    return 0;
}

static int read_requests(struct rd *r, struct state *s, const cJSON *a)
{
    enum { ID, PROGRAM, MENTEE, CHOICES, AT, ASKED_AT, PHASE, MATCH, N };
    static const char *const keys[N] = { "id", "program", "mentee", "choices", "at", "asked_at", "phase", "match" };
    int n;
    snprintf(r->where, sizeof r->where, "state");
    int rc = alloc_array(r, a, "requests", sizeof *s->requests, (void **)&s->requests, &n);
    if (rc < 0)
        return rc;
    s->cap_requests = n;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        struct request *q = &s->requests[s->n_requests];
        const cJSON *v[N];
        int phase = 0;
        snprintf(r->where, sizeof r->where, "state.requests[%d]", s->n_requests);
        if ((rc = members(r, it, keys, N, v)) < 0)
            return rc;
        s->n_requests++;
        if ((rc = get_ll(r, v[ID], keys[ID], s->n_requests, s->n_requests, &q->id)) < 0 ||
            (rc = get_program_ref(r, s, v[PROGRAM], keys[PROGRAM], &q->program)) < 0 ||
            (rc = get_person_ref(r, s, v[MENTEE], keys[MENTEE], &q->mentee)) < 0 ||
            (rc = get_people_refs(r, s, v[CHOICES], keys[CHOICES], &q->choices, &q->n_choices)) < 0 ||
            (rc = get_int(r, v[AT], keys[AT], &q->at)) < 0 ||
            (rc = get_time(r, v[ASKED_AT], keys[ASKED_AT], false, &q->asked_at)) < 0 ||
            (rc = get_enum(r, v[PHASE], keys[PHASE], request_phases, 4, &phase)) < 0 ||
            (rc = get_ll(r, v[MATCH], keys[MATCH], 0, s->n_matches, &q->match)) < 0)
            return rc;
        if (q->n_choices < 1 || q->at >= q->n_choices)
            return fail(r, keys[AT], "must name one of the choices");
        q->phase = (enum request_phase)phase;
    }
    return 0;
}

static int read_matches(struct rd *r, struct state *s, const cJSON *a)
{
    enum { ID, PROGRAM, PHASE, MENTORS, MENTEES, SCORE, STARTED, TERM_ENDS, CLOSED_AT, CLOSE_REASON, TERMS,
           NEXT_MEETING, MEETING_N, HELD, MISSED, CANCELLED, HELD_AT_REVIEW, MISSED_AT_REVIEW, REVIEWS,
           REUP_OPEN, GUESTS, ANSWERS, FEEDBACK_SUM, FEEDBACK_N, FLAGS, LIFE, N };
    static const char *const keys[N] = {
        "id", "program", "phase", "mentors", "mentees", "score", "started", "term_ends", "closed_at",
        "close_reason", "terms", "next_meeting", "meeting_n", "held", "missed", "cancelled", "held_at_review",
        "missed_at_review", "reviews", "reup_open", "guests", "answers", "feedback_sum", "feedback_n", "flags",
        "life" };
    int n;
    snprintf(r->where, sizeof r->where, "state");
    int rc = alloc_array(r, a, "matches", sizeof *s->matches, (void **)&s->matches, &n);
    if (rc < 0)
        return rc;
    s->cap_matches = n;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        struct match *m = &s->matches[s->n_matches];
        const cJSON *v[N];
        int phase = 0;
        snprintf(r->where, sizeof r->where, "state.matches[%d]", s->n_matches);
        if ((rc = members(r, it, keys, N, v)) < 0)
            return rc;
        s->n_matches++;   /* counted now so state_free frees what is read */
        if ((rc = get_ll(r, v[ID], keys[ID], s->n_matches, s->n_matches, &m->id)) < 0 ||
            (rc = get_program_ref(r, s, v[PROGRAM], keys[PROGRAM], &m->program)) < 0 ||
            (rc = get_enum(r, v[PHASE], keys[PHASE], match_phases, 4, &phase)) < 0 ||
            (rc = get_people_refs(r, s, v[MENTORS], keys[MENTORS], &m->mentors, &m->n_mentors)) < 0 ||
            (rc = get_people_refs(r, s, v[MENTEES], keys[MENTEES], &m->mentees, &m->n_mentees)) < 0 ||
            (rc = get_real(r, v[SCORE], keys[SCORE], &m->score)) < 0 ||
            (rc = get_time(r, v[STARTED], keys[STARTED], false, &m->started)) < 0 ||
            (rc = get_time(r, v[TERM_ENDS], keys[TERM_ENDS], false, &m->term_ends)) < 0 ||
            (rc = get_time(r, v[CLOSED_AT], keys[CLOSED_AT], true, &m->closed_at)) < 0 ||
            (rc = get_str(r, v[CLOSE_REASON], keys[CLOSE_REASON], true, &m->close_reason)) < 0 ||
            (rc = get_int(r, v[TERMS], keys[TERMS], &m->terms)) < 0 ||
            (rc = get_time(r, v[NEXT_MEETING], keys[NEXT_MEETING], true, &m->next_meeting)) < 0 ||
            (rc = get_int(r, v[MEETING_N], keys[MEETING_N], &m->meeting_n)) < 0 ||
            (rc = get_int(r, v[HELD], keys[HELD], &m->held)) < 0 ||
            (rc = get_int(r, v[MISSED], keys[MISSED], &m->missed)) < 0 ||
            (rc = get_int(r, v[CANCELLED], keys[CANCELLED], &m->cancelled)) < 0 ||
            (rc = get_int(r, v[HELD_AT_REVIEW], keys[HELD_AT_REVIEW], &m->held_at_review)) < 0 ||
            (rc = get_int(r, v[MISSED_AT_REVIEW], keys[MISSED_AT_REVIEW], &m->missed_at_review)) < 0 ||
            (rc = get_int(r, v[REVIEWS], keys[REVIEWS], &m->reviews)) < 0 ||
            (rc = get_bool(r, v[REUP_OPEN], keys[REUP_OPEN], &m->reup_open)) < 0 ||
            (rc = get_real(r, v[FEEDBACK_SUM], keys[FEEDBACK_SUM], &m->feedback_sum)) < 0 ||
            (rc = get_int(r, v[FEEDBACK_N], keys[FEEDBACK_N], &m->feedback_n)) < 0 ||
            (rc = get_int(r, v[FLAGS], keys[FLAGS], &m->flags)) < 0)
            return rc;
        m->phase = (enum match_phase)phase;
        if ((rc = read_life(r, m, v[LIFE])) < 0)
            return rc;
        snprintf(r->where, sizeof r->where, "state.matches[%d]", s->n_matches - 1);
        /* state.c grows guests one at a time from NULL: none is NULL. */
        if (cJSON_GetArraySize(v[GUESTS]) > 0 &&
            (rc = get_people_refs(r, s, v[GUESTS], keys[GUESTS], &m->guests, &m->n_guests)) < 0)
            return rc;
        if (!cJSON_IsArray(v[GUESTS]))
            return fail(r, keys[GUESTS], "must be an array of person ids");
        /* state.c keeps answers exactly while a re-up is open, one per party. */
        int parties = m->n_mentors + m->n_mentees;
        const cJSON *ans = v[ANSWERS];
        if (!m->reup_open) {
            if (!cJSON_IsNull(ans))
                return fail(r, keys[ANSWERS], "must be null when no re-up is open");
            continue;
        }
        if (!cJSON_IsArray(ans) || cJSON_GetArraySize(ans) != parties)
            return fail(r, keys[ANSWERS], "must be an array with one answer per party (%d) while a re-up is open",
                        parties);
        if (!(m->answers = calloc((size_t)(parties ? parties : 1), 1)))
            return oom(r);
        int k = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, ans) {
            long long val;
            if ((rc = get_ll(r, x, keys[ANSWERS], 0, 2, &val)) < 0)
                return rc;
            m->answers[k++] = (signed char)val;
        }
    }
    return 0;
}

static int read_goals(struct rd *r, struct state *s, const cJSON *a)
{
    enum { ID, MATCH, TEXT, MEASURE, DUE, PHASE, PROGRESS_N, N };
    static const char *const keys[N] = { "id", "match", "text", "measure", "due", "phase", "progress_n" };
    int n;
    snprintf(r->where, sizeof r->where, "state");
    int rc = alloc_array(r, a, "goals", sizeof *s->goals, (void **)&s->goals, &n);
    if (rc < 0)
        return rc;
    s->cap_goals = n;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        struct goal *g = &s->goals[s->n_goals];
        const cJSON *v[N];
        int phase = 0;
        snprintf(r->where, sizeof r->where, "state.goals[%d]", s->n_goals);
        if ((rc = members(r, it, keys, N, v)) < 0)
            return rc;
        s->n_goals++;
        if ((rc = get_ll(r, v[ID], keys[ID], s->n_goals, s->n_goals, &g->id)) < 0 ||
            (rc = get_ll(r, v[MATCH], keys[MATCH], 1, s->n_matches, &g->match)) < 0 ||
            (rc = get_str(r, v[TEXT], keys[TEXT], true, &g->text)) < 0 ||
            (rc = get_str(r, v[MEASURE], keys[MEASURE], true, &g->measure)) < 0 ||
            (rc = get_time(r, v[DUE], keys[DUE], true, &g->due)) < 0 ||
            (rc = get_enum(r, v[PHASE], keys[PHASE], goal_phases, 3, &phase)) < 0 ||
            (rc = get_int(r, v[PROGRESS_N], keys[PROGRESS_N], &g->progress_n)) < 0)
            return rc;
        g->phase = (enum goal_phase)phase;
    }
    return 0;
}

static int read_counters(struct rd *r, struct state *s, const cJSON *o)
{
    enum { REVIEWS, RENEWED, CLOSED, FLAGS, NOTES, RULE_ERRORS, FEEDBACK_N, FEEDBACK_SUM, GOALS_SET,
           GOALS_ACHIEVED, GOALS_DROPPED, CLOSES, N };
    static const char *const keys[N] = { "reviews", "reups_renewed", "reups_closed", "flags", "notes",
                                         "rule_errors", "feedback_n", "feedback_sum", "goals_set",
                                         "goals_achieved", "goals_dropped", "closes_by_reason" };
    const cJSON *v[N];
    snprintf(r->where, sizeof r->where, "state.counters");
    int rc;
    if ((rc = members(r, o, keys, N, v)) < 0 || (rc = get_count(r, v[REVIEWS], keys[REVIEWS], &s->reviews)) < 0 ||
        (rc = get_count(r, v[RENEWED], keys[RENEWED], &s->reups_renewed)) < 0 ||
        (rc = get_count(r, v[CLOSED], keys[CLOSED], &s->reups_closed)) < 0 ||
        (rc = get_count(r, v[FLAGS], keys[FLAGS], &s->flags)) < 0 ||
        (rc = get_count(r, v[NOTES], keys[NOTES], &s->notes)) < 0 ||
        (rc = get_count(r, v[RULE_ERRORS], keys[RULE_ERRORS], &s->rule_errors)) < 0 ||
        (rc = get_count(r, v[FEEDBACK_N], keys[FEEDBACK_N], &s->feedback_n)) < 0 ||
        (rc = get_real(r, v[FEEDBACK_SUM], keys[FEEDBACK_SUM], &s->feedback_sum)) < 0 ||
        (rc = get_count(r, v[GOALS_SET], keys[GOALS_SET], &s->goals_set)) < 0 ||
        (rc = get_count(r, v[GOALS_ACHIEVED], keys[GOALS_ACHIEVED], &s->goals_achieved)) < 0 ||
        (rc = get_count(r, v[GOALS_DROPPED], keys[GOALS_DROPPED], &s->goals_dropped)) < 0)
        return rc;
    int nr = 0;
    while (nr < 8 && close_reasons[nr])
        nr++;
    const cJSON *cv[8];
    snprintf(r->where, sizeof r->where, "state.counters.closes_by_reason");
    if ((rc = members(r, v[CLOSES], close_reasons, nr, cv)) < 0)
        return rc;
    for (int i = 0; i < nr; i++)
        if ((rc = get_count(r, cv[i], close_reasons[i], &s->closes_by_reason[i])) < 0)
            return rc;
    return 0;
}

int snapshot_state_from_json(const cJSON *j, struct state *s, struct error *err)
{
    enum { SEQ, NOW, N_EVENTS, RULES_FILE, RULES_SHA, SIMULATED, PRIORITIES, COUNTERS, PEOPLE, PROGRAMS,
           ENROLLMENTS, MATCHES, GOALS, REQUESTS, N };
    static const char *const keys[N] = { "seq", "now", "n_events", "rules_file", "rules_sha256", "simulated",
                                         "priorities", "counters", "people", "programs", "enrollments",
                                         "matches", "goals", "requests" };
    struct error dummy = { 0 };
    struct rd r = { err ? err : &dummy, "state" };
    const cJSON *v[N];
    int rc;
    if ((rc = members(&r, j, keys, N, v)) < 0 || (rc = get_count(&r, v[SEQ], keys[SEQ], &s->seq)) < 0 ||
        (rc = get_time(&r, v[NOW], keys[NOW], false, &s->now)) < 0 ||
        (rc = get_count(&r, v[N_EVENTS], keys[N_EVENTS], &s->n_events)) < 0 ||
        (rc = get_str(&r, v[RULES_FILE], keys[RULES_FILE], true, &s->rules_file)) < 0 ||
        (rc = get_str(&r, v[RULES_SHA], keys[RULES_SHA], true, &s->rules_sha256)) < 0 ||
        (rc = get_bool(&r, v[SIMULATED], keys[SIMULATED], &s->simulated)) < 0 ||
        (rc = get_strs(&r, v[PRIORITIES], keys[PRIORITIES], &s->priorities, &s->n_priorities)) < 0 ||
        (rc = read_counters(&r, s, v[COUNTERS])) < 0 || (rc = read_people(&r, s, v[PEOPLE])) < 0 ||
        (rc = read_programs(&r, s, v[PROGRAMS])) < 0 || (rc = read_enrollments(&r, s, v[ENROLLMENTS])) < 0 ||
        (rc = read_matches(&r, s, v[MATCHES])) < 0 || (rc = read_goals(&r, s, v[GOALS])) < 0 ||
        (rc = read_requests(&r, s, v[REQUESTS])) < 0)
        return rc;
    /* The derived indexes (per-person enrolments and matches, per-match goals, the met pairs
     * from every match, proposed, rejected and closed ones too) are state.c's to build. */
    return state_reindex(s) < 0 ? oom(&r) : 0;
}

/* ---- files ------------------------------------------------------------------------------- */

/* The seq of a file name snapshot-<seq>.json (tmp false) or snapshot-<seq>.json.tmp (tmp
 * true), written exactly as snapshot_write names it; -1 for any other name. */
static long long name_seq(const char *name, bool tmp)
{
    size_t pl = strlen(PREFIX);
    if (strncmp(name, PREFIX, pl) != 0)
        return -1;
    const char *d = name + pl;
    size_t nd = strspn(d, "0123456789");
    const char *suffix = tmp ? ".json.tmp" : ".json";
    if (nd < 12 || nd > 16 || strcmp(d + nd, suffix) != 0)
        return -1;
    long long seq = strtoll(d, NULL, 10);
    char back[32];
    snprintf(back, sizeof back, "%012lld", seq);
    return seq >= 1 && strlen(back) == nd && strncmp(back, d, nd) == 0 ? seq : -1;
}

static void snap_path(char *buf, size_t len, const char *dir, long long seq, bool tmp)
{
    snprintf(buf, len, "%s/" PREFIX "%012lld.json%s", dir, seq, tmp ? ".tmp" : "");
}

static int cmp_desc(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The seqs of the snapshots (or temp files) in dir, newest first, in *out (caller frees).
 * Returns the count, 0 also when dir does not exist, or ERR_SYSTEM. */
static int list_snapshots(const char *dir, bool tmp, long long **out, struct error *err)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return error_set(err, ERR_SYSTEM, dir, 0, "cannot list the state directory: %s", strerror(errno));
    }
    int n = 0, cap = 0, rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        long long seq = name_seq(de->d_name, tmp);
        if (seq < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            long long *nv = realloc(*out, (size_t)cap * sizeof *nv);
            if (!nv) {
                rc = error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
                break;
            }
            *out = nv;
        }
        (*out)[n++] = seq;
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = error_set(err, ERR_SYSTEM, dir, 0, "cannot list the state directory: %s", strerror(errno));
    closedir(d);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        return rc;
    }
    if (n > 1)
        qsort(*out, (size_t)n, sizeof **out, cmp_desc);
    return n;
}

/* Deletes snapshots past the newest keep, and every temp file (a crash's leftovers: the one
 * snapshot_write made is renamed by now; only one tandem writes a state directory). */
static void prune(const char *dir, int keep)
{
    struct error ignored = { 0 };
    char path[PATH_LEN];
    long long *seqs;
    int n = list_snapshots(dir, false, &seqs, &ignored);
    for (int i = keep; i < n; i++) {
        snap_path(path, sizeof path, dir, seqs[i], false);
        unlink(path);
    }
    free(seqs);
    n = list_snapshots(dir, true, &seqs, &ignored);
    for (int i = 0; i < n; i++) {
        snap_path(path, sizeof path, dir, seqs[i], true);
        unlink(path);
    }
    free(seqs);
}

int snapshot_discard(const char *state_dir, struct error *err)
{
    long long *seqs;
    int n = list_snapshots(state_dir, false, &seqs, err);
    if (n < 0)
        return n;
    free(seqs);
    prune(state_dir, 0);
    return n > 0 ? fsync_dir(state_dir, err) : 0;
}

int snapshot_write(const char *state_dir, const struct state *s, long long log_offset, struct error *err)
{
    char log_path[PATH_LEN], tmp[PATH_LEN], final[PATH_LEN], why[200];
    if (s->seq < 1)
        return error_set(err, ERR_INPUT, NULL, 0, "no snapshot of an empty log");
    snprintf(log_path, sizeof log_path, "%s/" SNAPSHOT_LOG_NAME, state_dir);
    long long line_seq = 0;
    uint32_t line_crc = 0;
    int rc = log_line_before(log_path, log_offset, &line_seq, &line_crc, why, sizeof why, err);
    if (rc < 0)
        return rc;
    if (rc > 0)
        return error_set(err, ERR_INPUT, log_path, 0, "no snapshot written: %s", why);
    if (line_seq != s->seq)
        return error_set(err, ERR_INPUT, log_path, 0,
                         "no snapshot written: the state is at seq %lld but the log line ending at offset %lld "
                         "holds seq %lld (commit pending events first)", s->seq, log_offset, line_seq);

    cJSON *doc = cJSON_CreateObject();
    char crc_text[9];
    snprintf(crc_text, sizeof crc_text, "%08" PRIx32, line_crc);
    cJSON *st = snapshot_state_to_json(s);
    bool ok = doc && st && add_int(doc, "format", SNAPSHOT_FORMAT) && add_ll(doc, "seq", s->seq) &&
              add_ll(doc, "log_offset", log_offset) && put(doc, "log_crc", cJSON_CreateString(crc_text));
    if (ok)
        put(doc, "state", st);
    else
        cJSON_Delete(st);
    char *text = ok ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text)
        return error_set(err, ERR_SYSTEM, NULL, 0,
                         "cannot serialize the state (out of memory, or a value no event can make)");
    /* Sealed like a log line: the crc covers every byte before ,"crc". */
    size_t body = strlen(text) - 1;
    char suffix[CRC_SUFFIX + 2];
    snprintf(suffix, sizeof suffix, CRC_TAG "%08" PRIx32 "\"}\n", crc32c(0, text, body));

    snap_path(tmp, sizeof tmp, state_dir, s->seq, true);
    snap_path(final, sizeof final, state_dir, s->seq, false);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = error_set(err, ERR_SYSTEM, tmp, 0, "cannot create the snapshot: %s", strerror(errno));
        cJSON_free(text);
        return rc;
    }
    if (write_full(fd, text, body) != 0 || write_full(fd, suffix, CRC_SUFFIX + 1) != 0) {
        /* A short write leaves a partial file: cut it back (Redis does the same) and drop it. */
        int e = errno;
        if (ftruncate(fd, 0) != 0) { /* the unlink below removes it anyway */ }
        close(fd);
        unlink(tmp);
        cJSON_free(text);
        return error_set(err, ERR_SYSTEM, tmp, 0, "cannot write the snapshot: %s", strerror(e));
    }
    cJSON_free(text);
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return error_set(err, ERR_SYSTEM, tmp, 0, "cannot sync the snapshot: %s", strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return error_set(err, ERR_SYSTEM, tmp, 0, "cannot close the snapshot: %s", strerror(e));
    }
    if (rename(tmp, final) != 0) {
        int e = errno;
        unlink(tmp);
        return error_set(err, ERR_SYSTEM, final, 0, "cannot rename the snapshot into place: %s", strerror(e));
    }
    if ((rc = fsync_dir(state_dir, err)) < 0)
        return rc;
    /* Only once the new one is durable may the old ones go. */
    prune(state_dir, SNAPSHOT_KEEP);
    return 0;
}

/* Loads the snapshot at path into *out (a fresh state) if it verifies. Returns 0, 1 when it
 * does not (why says why), ERR_SYSTEM for memory or log I/O failures. */
static int load_one(const char *path, long long want_seq, const char *log_path, struct state *out, long long *off,
                    char *why, size_t why_len, struct error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(why, why_len, "cannot open: %s", strerror(errno));
        return 1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
        snprintf(why, why_len, "not a regular file of a sane size");
        close(fd);
        return 1;
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory reading %s", path);
    }
    ssize_t got = pread_full(fd, buf, n, 0);
    int e = errno;
    close(fd);
    cJSON *doc = NULL;
    struct json_arena *arena = NULL;   /* doc's nodes: never cJSON_Delete, json_arena_free */
    int rc = 1;
    if (got != (ssize_t)n) {
        snprintf(why, why_len, "cannot read: %s", got < 0 ? strerror(e) : "the file shrank");
        goto out;
    }
    if (n < 2 || buf[n - 1] != '\n' || memchr(buf, '\n', n - 1) || memchr(buf, '\0', n)) {
        snprintf(why, why_len, "not one line ending in a newline (cut short?)");
        goto out;
    }
    n--;
    uint32_t stored;
    if (!sealed(buf, n, &stored)) {
        snprintf(why, why_len, "crc mismatch or no crc");
        goto out;
    }
    if (!escapes_sound(buf, n - CRC_SUFFIX)) {
        snprintf(why, why_len, "a \\u escape cJSON would misread");
        goto out;
    }
    /* Parse the sealed part only: close the object where ,"crc" began. */
    buf[n - CRC_SUFFIX] = '}';
    buf[n - CRC_SUFFIX + 1] = '\0';
    doc = json_arena_parse(buf, &arena);
    free(buf);
    buf = NULL;
    if (!doc) {
        snprintf(why, why_len, "not valid JSON (or no memory to read it)");
        goto out;
    }
    static const char *const keys[] = { "format", "seq", "log_offset", "log_crc", "state" };
    const cJSON *v[5];
    struct error le = { 0 };
    struct rd r = { &le, "" };
    long long format, seq, log_offset;
    uint32_t log_crc;
    if (members(&r, doc, keys, 5, v) < 0 || get_ll(&r, v[0], keys[0], 0, INT32_MAX, &format) < 0 ||
        get_count(&r, v[1], keys[1], &seq) < 0 || get_count(&r, v[2], keys[2], &log_offset) < 0) {
        snprintf(why, why_len, "%s", le.msg);
        goto out;
    }
    if (format != SNAPSHOT_FORMAT) {
        snprintf(why, why_len, "format %lld, this tandem reads format %d", format, SNAPSHOT_FORMAT);
        goto out;
    }
    if (seq != want_seq) {
        snprintf(why, why_len, "it says seq %lld, its name %lld", seq, want_seq);
        goto out;
    }
    if (!cJSON_IsString(v[3]) || strlen(v[3]->valuestring) != 8 || !crc32c_hex_read(v[3]->valuestring, &log_crc)) {
        snprintf(why, why_len, "log_crc is not 8 lowercase hex digits");
        goto out;
    }
    long long line_seq = 0;
    uint32_t line_crc = 0;
    rc = log_line_before(log_path, log_offset, &line_seq, &line_crc, why, why_len, err);
    if (rc != 0)
        goto out;
    rc = 1;
    if (line_seq != seq || line_crc != log_crc) {
        snprintf(why, why_len, "it follows seq %lld (crc %08" PRIx32 ") but the log line ending at offset %lld is "
                 "seq %lld (crc %08" PRIx32 ")", seq, log_crc, log_offset, line_seq, line_crc);
        goto out;
    }
    struct state tmp;
    state_init(&tmp);
    rc = snapshot_state_from_json(v[4], &tmp, &le);
    if (rc == 0 && tmp.seq != seq) {
        snprintf(le.msg, sizeof le.msg, "its state is at seq %lld, not %lld", tmp.seq, seq);
        rc = ERR_INPUT;
    }
    if (rc == ERR_SYSTEM) {
        if (err)
            *err = le;
    } else if (rc < 0) {
        snprintf(why, why_len, "%s", le.msg);
        rc = 1;
    } else {
        *out = tmp;
        *off = log_offset;
        goto out;
    }
    state_free(&tmp);
out:
    free(buf);
    json_arena_free(arena);
    return rc;
}

int snapshot_load(const char *state_dir, const char *log_path, struct state *s, long long *log_offset,
                  FILE *report, struct error *err)
{
    long long *seqs;
    int n = list_snapshots(state_dir, false, &seqs, err);
    if (n < 0)
        return n;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[PATH_LEN], why[sizeof err->msg];
        struct state got;
        long long off = 0;
        snap_path(path, sizeof path, state_dir, seqs[i], false);
        why[0] = '\0';
        int one = load_one(path, seqs[i], log_path, &got, &off, why, sizeof why, err);
        if (one < 0) {
            rc = one;
            break;
        }
        if (one == 0) {
            state_free(s);
            *s = got;
            *log_offset = off;
            rc = 1;
            break;
        }
        if (report)
            fprintf(report, "%s: damaged (%s); %s\n", path, why,
                    i + 1 < n ? "trying an older one" : "replaying the whole log");
    }
    free(seqs);
    return rc;
}
