/* sqlite: mirrors the program into an SQLite file so analysts can use SQL: people, programs,
 * enrolments, matches (and their people), meetings, goals, feedback, reviews, re-ups, flags.
 * WAL mode, one transaction per batch of events, and meta.last_seq written in the same
 * transaction, so the mirror is never half a batch and always knows where it stands: at open
 * it catches up from the log (all of it when the file was lost). The schema is in README.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "tandem/plugin.h"

#define SCHEMA_VERSION "1"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS people(id TEXT PRIMARY KEY, name TEXT, email TEXT, title TEXT, location TEXT,"
    " department TEXT, level INTEGER, tenure_years REAL, timezone TEXT, capacity INTEGER, manager TEXT,"
    " plan TEXT, skills TEXT, wants TEXT, tags TEXT, attrs TEXT, left INTEGER NOT NULL DEFAULT 0,"
    " added_at TEXT, updated_at TEXT, left_at TEXT);"
    "CREATE TABLE IF NOT EXISTS programs(name TEXT PRIMARY KEY, model TEXT, term TEXT, cadence TEXT,"
    " review_every TEXT, match_every TEXT, objective TEXT, approve INTEGER, live INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS enrollments(person TEXT NOT NULL, program TEXT NOT NULL, role TEXT NOT NULL,"
    " at TEXT, PRIMARY KEY(person, program, role));"
    "CREATE TABLE IF NOT EXISTS matches(id INTEGER PRIMARY KEY, program TEXT, model TEXT, phase TEXT,"
    " score REAL, why TEXT, started_at TEXT, term_ends TEXT, terms INTEGER NOT NULL DEFAULT 1,"
    " closed_at TEXT, close_reason TEXT);"
    "CREATE TABLE IF NOT EXISTS match_people(match INTEGER NOT NULL, person TEXT NOT NULL, side TEXT NOT NULL,"
    " PRIMARY KEY(match, person));"
    "CREATE TABLE IF NOT EXISTS meetings(id INTEGER PRIMARY KEY, match INTEGER NOT NULL, at TEXT, phase TEXT,"
    " scheduled_at TEXT, resolved_at TEXT, attendees TEXT, guests TEXT, prompt TEXT);"
    "CREATE INDEX IF NOT EXISTS meetings_match ON meetings(match, phase);"
    "CREATE TABLE IF NOT EXISTS goals(id INTEGER PRIMARY KEY, match INTEGER, text TEXT, due TEXT, measure TEXT,"
    " phase TEXT, progress INTEGER NOT NULL DEFAULT 0, set_at TEXT, closed_at TEXT);"
    "CREATE TABLE IF NOT EXISTS feedback(seq INTEGER PRIMARY KEY, at TEXT, match INTEGER, program TEXT,"
    " from_person TEXT, rating INTEGER, text TEXT);"
    "CREATE TABLE IF NOT EXISTS reviews(seq INTEGER PRIMARY KEY, at TEXT, match INTEGER, n INTEGER,"
    " meetings_held INTEGER, meetings_missed INTEGER, goals_open INTEGER, goals_achieved INTEGER,"
    " feedback_avg REAL);"
    "CREATE TABLE IF NOT EXISTS reups(seq INTEGER PRIMARY KEY, at TEXT, match INTEGER, phase TEXT,"
    " person TEXT, decision TEXT, decisions TEXT, outcome TEXT);"
    "CREATE TABLE IF NOT EXISTS flags(seq INTEGER PRIMARY KEY, at TEXT, match INTEGER, person TEXT,"
    " reason TEXT, rule TEXT);"
    "CREATE TABLE IF NOT EXISTS intros(seq INTEGER PRIMARY KEY, at TEXT, match INTEGER, contact TEXT);";

#define N_STMT 64           /* more than the distinct statements below */

struct cached_stmt {
    const char *sql;
    sqlite3_stmt *st;
};

struct mirror {
    tandem_ctx *ctx;
    const struct tandem_host *host;
    sqlite3 *db;
    char *path;
    struct cached_stmt cache[N_STMT];
    int n_cache;
    bool in_tx;
    bool behind;              /* a batch failed: catch up from the log at the next flush */
    long long last_seq;       /* committed in the file */
    long long seq;            /* handled in the open transaction */
};

/* ---- small helpers ---- */

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The prepared statement for sql, cached by its address; *cached false: finalize it after use. */
static sqlite3_stmt *stmt(struct mirror *m, const char *sql, bool *cached)
{
    *cached = true;
    for (int i = 0; i < m->n_cache; i++)
        if (m->cache[i].sql == sql)
            return m->cache[i].st;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(m->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    if (m->n_cache < N_STMT)
        m->cache[m->n_cache++] = (struct cached_stmt){ sql, st };
    else
        *cached = false;
    return st;
}

/* Runs sql (a static string: statements are cached by address) with binds from fmt:
 * s a string (NULL: null), i a long long, d a double, v a cJSON value (numbers as numbers,
 * strings as text, anything else as its JSON text, NULL/null as null). 0 or -1. */
static int run(struct mirror *m, const char *sql, const char *fmt, ...)
{
    bool cached;
    sqlite3_stmt *st = stmt(m, sql, &cached);
    if (!st)
        goto fail;
    va_list ap;
    va_start(ap, fmt);
    for (int i = 1; fmt[i - 1]; i++) {
        switch (fmt[i - 1]) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
            break;
        }
        case 'i': sqlite3_bind_int64(st, i, va_arg(ap, long long)); break;
        case 'd': sqlite3_bind_double(st, i, va_arg(ap, double)); break;
        case 'v': {
            const cJSON *v = va_arg(ap, const cJSON *);
            if (!v || cJSON_IsNull(v)) {
                sqlite3_bind_null(st, i);
            } else if (cJSON_IsNumber(v)) {
                sqlite3_bind_double(st, i, v->valuedouble);
            } else if (cJSON_IsString(v)) {
                sqlite3_bind_text(st, i, v->valuestring, -1, SQLITE_TRANSIENT);
            } else if (cJSON_IsBool(v)) {
                sqlite3_bind_int(st, i, cJSON_IsTrue(v));
            } else {
                char *t = cJSON_PrintUnformatted(v);
                t ? sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
                free(t);
            }
            break;
        }
        }
    }
    va_end(ap);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!cached)
        sqlite3_finalize(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
fail:
    m->host->log(m->ctx, TANDEM_LOG_ERROR, "%s: %s", m->path, sqlite3_errmsg(m->db));
    return -1;
}

static int exec_sql(struct mirror *m, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(m->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    m->host->log(m->ctx, TANDEM_LOG_ERROR, "%s: %s", m->path, msg ? msg : sqlite3_errmsg(m->db));
    sqlite3_free(msg);
    return -1;
}

/* ---- events to rows ---- */

static int person(struct mirror *m, const cJSON *ev, const char *ts)
{
    const char *phase = str(ev, "phase");
    if (phase && strcmp(phase, "left") == 0)
        return run(m, "UPDATE people SET left = 1, left_at = ?2 WHERE id = ?1", "ss", str(ev, "person"), ts);
    const cJSON *p = item(ev, "person");
    return run(m,
               "INSERT INTO people(id, name, email, title, location, department, level, tenure_years, timezone,"
               " capacity, manager, plan, skills, wants, tags, attrs, left, added_at, updated_at)"
               " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,0,?17,?17)"
               " ON CONFLICT(id) DO UPDATE SET name=?2, email=?3, title=?4, location=?5, department=?6, level=?7,"
               " tenure_years=?8, timezone=?9, capacity=?10, manager=?11, plan=?12, skills=?13, wants=?14,"
               " tags=?15, attrs=?16, left=0, left_at=NULL, updated_at=?17",
               "vvvvvvvvvvvvvvvvs", item(p, "id"), item(p, "name"), item(p, "email"), item(p, "title"),
               item(p, "location"), item(p, "department"), item(p, "level"), item(p, "tenure_years"),
               item(p, "timezone"), item(p, "capacity"), item(p, "manager"), item(p, "plan"), item(p, "skills"),
               item(p, "wants"), item(p, "tags"), item(p, "attrs"), ts);
}

static int rules(struct mirror *m, const cJSON *ev)
{
    const cJSON *progs = item(ev, "programs"), *p;
    if (!cJSON_IsArray(progs))
        return 0;   /* a rejected reload changes nothing */
    if (run(m, "UPDATE programs SET live = 0", "") < 0)
        return -1;
    cJSON_ArrayForEach(p, progs)
        if (run(m,
                "INSERT INTO programs(name, model, term, cadence, review_every, match_every, objective, approve,"
                " live) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,1) ON CONFLICT(name) DO UPDATE SET model=?2, term=?3,"
                " cadence=?4, review_every=?5, match_every=?6, objective=?7, approve=?8, live=1",
                "vvvvvvvv", item(p, "name"), item(p, "model"), item(p, "term"), item(p, "cadence"),
                item(p, "review_every"), item(p, "match_every"), item(p, "objective"), item(p, "approve")) < 0)
            return -1;
    return 0;
}

static int match(struct mirror *m, const cJSON *ev, const char *ts)
{
    const char *phase = str(ev, "phase");
    const cJSON *id = item(ev, "match");
    if (!phase)
        return 0;
    if (!strcmp(phase, "approved"))
        return run(m, "UPDATE matches SET phase = 'active', started_at = ?2, term_ends = ?3 WHERE id = ?1", "vsv",
                   id, ts, item(ev, "term_ends"));
    if (!strcmp(phase, "rejected"))
        return run(m, "UPDATE matches SET phase = 'rejected', closed_at = ?2 WHERE id = ?1", "vs", id, ts);
    if (run(m,
            "INSERT OR REPLACE INTO matches(id, program, model, phase, score, why, started_at, term_ends)"
            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
            "vvvsvvsv", id, item(ev, "program"), item(ev, "model"), phase, item(ev, "score"), item(ev, "why"), ts,
            item(ev, "term_ends")) < 0)
        return -1;
    static const char *const sides[] = { "mentors", "mentees" };
    for (int k = 0; k < 2; k++) {
        const cJSON *who;
        cJSON_ArrayForEach(who, item(ev, sides[k]))
            if (run(m, "INSERT OR REPLACE INTO match_people(match, person, side) VALUES(?1,?2,?3)", "vvs", id, who,
                    k ? "mentee" : "mentor") < 0)
                return -1;
    }
    return 0;
}

static int meeting(struct mirror *m, const cJSON *ev, const char *ts)
{
    const char *phase = str(ev, "phase");
    const cJSON *id = item(ev, "match");
    if (!phase)
        return 0;
    if (!strcmp(phase, "scheduled"))
        return run(m, "INSERT INTO meetings(match, at, phase, scheduled_at) VALUES(?1,?2,'scheduled',?3)", "vvs", id,
                   item(ev, "at"), ts);
    /* held, missed or cancelled: the match's scheduled meeting */
    if (run(m,
            "UPDATE meetings SET phase = ?2, resolved_at = ?3, at = coalesce(?4, at), attendees = ?5, guests = ?6,"
            " prompt = ?7 WHERE id = (SELECT max(id) FROM meetings WHERE match = ?1 AND phase = 'scheduled')",
            "vssvvvv", id, phase, ts, item(ev, "at"), item(ev, "attendees"), item(ev, "guests"),
            item(ev, "prompt")) < 0)
        return -1;
    if (sqlite3_changes(m->db) > 0)
        return 0;
    return run(m,
               "INSERT INTO meetings(match, at, phase, resolved_at, attendees, guests, prompt)"
               " VALUES(?1,?2,?3,?4,?5,?6,?7)",
               "vvssvvv", id, item(ev, "at"), phase, ts, item(ev, "attendees"), item(ev, "guests"),
               item(ev, "prompt"));
}

static int goal(struct mirror *m, const cJSON *ev, const char *ts)
{
    const char *phase = str(ev, "phase");
    const cJSON *id = item(ev, "goal");
    if (!phase)
        return 0;
    if (!strcmp(phase, "set"))
        return run(m,
                   "INSERT OR REPLACE INTO goals(id, match, text, due, measure, phase, set_at)"
                   " VALUES(?1,?2,?3,?4,?5,'set',?6)",
                   "vvvvvs", id, item(ev, "match"), item(ev, "text"), item(ev, "due"), item(ev, "measure"), ts);
    if (!strcmp(phase, "progress"))
        return run(m, "UPDATE goals SET progress = progress + 1 WHERE id = ?1", "v", id);
    return run(m, "UPDATE goals SET phase = ?2, closed_at = ?3 WHERE id = ?1", "vss", id, phase, ts);
}

static int reup(struct mirror *m, const cJSON *ev, const char *ts, long long seq)
{
    const char *phase = str(ev, "phase"), *outcome = str(ev, "outcome");
    const cJSON *id = item(ev, "match");
    if (run(m,
            "INSERT OR REPLACE INTO reups(seq, at, match, phase, person, decision, decisions, outcome)"
            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
            "isvvvvvv", seq, ts, id, item(ev, "phase"), item(ev, "person"), item(ev, "decision"),
            item(ev, "decisions"), item(ev, "outcome")) < 0)
        return -1;
    if (phase && !strcmp(phase, "decided") && outcome && !strcmp(outcome, "renew"))
        return run(m, "UPDATE matches SET terms = terms + 1, term_ends = coalesce(?2, term_ends) WHERE id = ?1",
                   "vv", id, item(ev, "term_ends"));
    return 0;
}

static int apply(struct mirror *m, const cJSON *ev)
{
    const char *type = str(ev, "type"), *ts = str(ev, "ts");
    long long seq = (long long)cJSON_GetNumberValue(item(ev, "seq"));
    if (!type || seq <= m->seq)
        return 0;
    int rc = 0;
    if (!strcmp(type, "person"))
        rc = person(m, ev, ts);
    else if (!strcmp(type, "rules"))
        rc = rules(m, ev);
    else if (!strcmp(type, "enroll"))
        rc = run(m, "INSERT OR IGNORE INTO enrollments(person, program, role, at) VALUES(?1,?2,?3,?4)", "vvvs",
                 item(ev, "person"), item(ev, "program"), item(ev, "role"), ts);
    else if (!strcmp(type, "match"))
        rc = match(m, ev, ts);
    else if (!strcmp(type, "meeting"))
        rc = meeting(m, ev, ts);
    else if (!strcmp(type, "goal"))
        rc = goal(m, ev, ts);
    else if (!strcmp(type, "feedback"))
        rc = run(m,
                 "INSERT OR REPLACE INTO feedback(seq, at, match, program, from_person, rating, text)"
                 " VALUES(?1,?2,?3,?4,?5,?6,?7)",
                 "isvvvvv", seq, ts, item(ev, "match"), item(ev, "program"), item(ev, "from"), item(ev, "rating"),
                 item(ev, "text"));
    else if (!strcmp(type, "review"))
        rc = run(m,
                 "INSERT OR REPLACE INTO reviews(seq, at, match, n, meetings_held, meetings_missed, goals_open,"
                 " goals_achieved, feedback_avg) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                 "isvvvvvvv", seq, ts, item(ev, "match"), item(ev, "n"), item(ev, "meetings_held"),
                 item(ev, "meetings_missed"), item(ev, "goals_open"), item(ev, "goals_achieved"),
                 item(ev, "feedback_avg"));
    else if (!strcmp(type, "reup"))
        rc = reup(m, ev, ts, seq);
    else if (!strcmp(type, "close"))
        rc = run(m, "UPDATE matches SET phase = 'closed', closed_at = ?2, close_reason = ?3 WHERE id = ?1", "vsv",
                 item(ev, "match"), ts, item(ev, "reason"));
    else if (!strcmp(type, "flag"))
        rc = run(m, "INSERT OR REPLACE INTO flags(seq, at, match, person, reason, rule) VALUES(?1,?2,?3,?4,?5,?6)",
                 "isvvvv", seq, ts, item(ev, "match"), item(ev, "person"), item(ev, "reason"), item(ev, "rule"));
    else if (!strcmp(type, "intro"))
        rc = run(m, "INSERT OR REPLACE INTO intros(seq, at, match, contact) VALUES(?1,?2,?3,?4)", "isvv", seq, ts,
                 item(ev, "match"), item(ev, "contact"));
    if (rc == 0)
        m->seq = seq;
    return rc;
}

/* ---- batches ---- */

static int begin(struct mirror *m)
{
    if (m->in_tx)
        return 0;
    if (exec_sql(m, "BEGIN IMMEDIATE") < 0)
        return -1;
    m->in_tx = true;
    return 0;
}

static int commit(struct mirror *m)
{
    if (!m->in_tx)
        return 0;
    int rc = run(m, "INSERT OR REPLACE INTO meta(key, value) VALUES('last_seq', ?1)", "i", m->seq);
    if (rc == 0)
        rc = exec_sql(m, "COMMIT");
    if (rc < 0) {
        exec_sql(m, "ROLLBACK");
        m->seq = m->last_seq;
        m->behind = true;
    } else {
        m->last_seq = m->seq;
    }
    m->in_tx = false;
    return rc;
}

static void on_replayed(void *data, const cJSON *ev)
{
    struct mirror *m = data;
    if (!m->behind && apply(m, ev) < 0)
        m->behind = true;
}

/* Everything in the log after last_seq, in one transaction. */
static int catch_up(struct mirror *m)
{
    if (begin(m) < 0)
        return -1;
    m->behind = false;
    if (m->host->replay(m->ctx, m->last_seq, on_replayed, m) != TANDEM_OK)
        m->behind = true;
    if (m->behind) {
        exec_sql(m, "ROLLBACK");
        m->in_tx = false;
        m->seq = m->last_seq;
        return -1;
    }
    return commit(m);
}

static void sqlite_event(void *data, const cJSON *ev)
{
    struct mirror *m = data;
    if (m->behind || begin(m) < 0)
        return;
    if (apply(m, ev) < 0) {
        exec_sql(m, "ROLLBACK");
        m->in_tx = false;
        m->seq = m->last_seq;
        m->behind = true;
    }
}

static void sqlite_flush(void *data)
{
    struct mirror *m = data;
    if (m->behind) {
        if (catch_up(m) == 0)
            m->host->log(m->ctx, TANDEM_LOG_INFO, "%s caught up with the log at seq %lld", m->path, m->last_seq);
        return;
    }
    commit(m);
}

static void finalize(struct mirror *m)
{
    for (int i = 0; i < m->n_cache; i++)
        sqlite3_finalize(m->cache[i].st);
    m->n_cache = 0;
    sqlite3_close(m->db);
    m->db = NULL;
}

static void sqlite_close(void *data)
{
    struct mirror *m = data;
    if (m->in_tx)
        commit(m);
    finalize(m);
    free(m->path);
    free(m);
}

static void remove_files(const char *path)
{
    char buf[4200];
    unlink(path);
    snprintf(buf, sizeof buf, "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof buf, "%s-shm", path);
    unlink(buf);
}

static int open_db(struct mirror *m)
{
    if (sqlite3_open_v2(m->path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(m->db, 2000);   /* an analyst's long read must not fail a batch at once */
    if (exec_sql(m, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;") < 0 || exec_sql(m, SCHEMA) < 0)
        return -1;
    m->last_seq = m->seq = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(m->db, "SELECT value FROM meta WHERE key = 'last_seq'", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        m->last_seq = m->seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return exec_sql(m, "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '" SCHEMA_VERSION "')");
}

static int sqlite_open(tandem_ctx *ctx, const struct tandem_host *host, const cJSON *config, void **data,
                       char *why, size_t why_len)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, config)
        if (strcmp(it->string, "path") != 0) {
            snprintf(why, why_len, "unknown config key \"%s\" (path)", it->string);
            return TANDEM_EREFUSED;
        }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(config, "path");
    if (p && (!cJSON_IsString(p) || !p->valuestring[0])) {
        snprintf(why, why_len, "path: a file name (relative to the state directory)");
        return TANDEM_EREFUSED;
    }
    struct mirror *m = calloc(1, sizeof *m);
    if (!m)
        return TANDEM_EFAILED;
    m->ctx = ctx;
    m->host = host;
    const char *name = p ? p->valuestring : "tandem.sqlite";
    char buf[4200];
    if (name[0] == '/')
        snprintf(buf, sizeof buf, "%s", name);
    else
        snprintf(buf, sizeof buf, "%s/%s", host->state_dir(ctx), name);
    m->path = strdup(buf);
    if (host->simulating(ctx))
        remove_files(m->path);   /* the log starts afresh: so does its mirror */
    if (open_db(m) < 0) {
        snprintf(why, why_len, "%s: %s", m->path, m->db ? sqlite3_errmsg(m->db) : "cannot open");
        finalize(m);
        free(m->path);
        free(m);
        return TANDEM_EREFUSED;
    }
    /* A mirror ahead of the log belongs to another log: start it again. */
    cJSON *st = host->query(ctx, "status", NULL);
    long long log_seq = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "seq"));
    cJSON_Delete(st);
    if (m->last_seq > log_seq) {
        host->log(ctx, TANDEM_LOG_WARN, "%s is at seq %lld but the log at %lld: rebuilding it", m->path, m->last_seq,
                  log_seq);
        finalize(m);
        remove_files(m->path);
        if (open_db(m) < 0) {
            snprintf(why, why_len, "%s: cannot rebuild", m->path);
            finalize(m);
            free(m->path);
            free(m);
            return TANDEM_EREFUSED;
        }
    }
    if (catch_up(m) < 0) {
        snprintf(why, why_len, "%s: cannot catch up with the log (see above)", m->path);
        finalize(m);
        free(m->path);
        free(m);
        return TANDEM_EREFUSED;
    }
    host->subscribe(ctx, "*");
    *data = m;
    return TANDEM_OK;
}

static const struct tandem_plugin plugin = {
    .abi = TANDEM_PLUGIN_ABI,
    .signature = TANDEM_PLUGIN_SIGNATURE,
    .name = "sqlite",
    .version = "1.0",
    .open = sqlite_open,
    .event = sqlite_event,
    .flush = sqlite_flush,
    .close = sqlite_close,
};

TANDEM_PLUGIN_ENTRY(sqlite)
{
    return &plugin;
}
