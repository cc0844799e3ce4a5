/* tail: the log as operators read it. Following uses a libuv fs event on the state directory
 * (the log may be replaced by a new simulation, so the directory, not the file, is watched) and
 * a timer that re-reads now and then, so a missed or coalesced notification only delays a line.
 * Control characters in the log are shown escaped: a log line can never drive the terminal. */
#include "tail.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "journal.h"

const char *const tail_known_types[] = { "rules", "person", "enroll", "match", "meeting", "intro", "goal",
                                         "feedback", "review", "reup", "close", "flag", "note", "rule.error",
                                         NULL };

/* Where a read ended: the offset after its last line, that line's crc and seq. A daemon cuts
 * the log back to its last commit when a commit fails, after tail may have shown lines of it;
 * the newest checkpoint still on disk is where following goes on. */
#define TAIL_CHECKPOINTS 256
struct checkpoint {
    long long end, seq;
    char crc[8];
};

struct tail {
    const struct tail_options *o;
    FILE *out;
    long long offset;              /* after the last complete line read */
    ino_t inode;                   /* of the file offset is in */
    long long last_seq;            /* of the last line read */
    struct checkpoint cp[TAIL_CHECKPOINTS];   /* a ring, newest at cp_next - 1 */
    int cp_next, n_cp;
    char **match_program;          /* match id -> its program (interned in programs) */
    long long n_match_program;
    char **programs;
    int n_programs;
    uv_loop_t loop;
    uv_fs_event_t watch;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
    bool watching;
    int rc;                        /* the first failure while following */
    struct error *err;
};

/* ---- filters --------------------------------------------------------------------------- */

static bool names_person(const cJSON *v, const char *id, int depth)
{
    if (depth > 4 || !v)
        return false;
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, id) == 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (it->string && strcmp(it->string, "decisions") == 0 && cJSON_GetObjectItemCaseSensitive(it, id))
            return true;
        if (it->string && strcmp(it->string, "text") == 0)
            continue;
        if (names_person(it, id, depth + 1))
            return true;
    }
    return false;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long long match_id(const cJSON *ev)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev, "match");
    return cJSON_IsNumber(m) && m->valuedouble >= 1 && m->valuedouble < 9007199254740992.0 ? (long long)m->valuedouble
                                                                                           : 0;
}

/* Remembers which program a new match belongs to, for --program. */
static int remember_match(struct tail *t, const cJSON *ev)
{
    const char *prog = str(ev, "program");
    long long id = match_id(ev);
    if (!prog || id < 1 || id > 100000000)
        return 0;
    const char *name = NULL;
    for (int i = 0; i < t->n_programs && !name; i++)
        if (strcmp(t->programs[i], prog) == 0)
            name = t->programs[i];
    if (!name) {
        char **p = realloc(t->programs, (size_t)(t->n_programs + 1) * sizeof *p);
        if (!p)
            return -1;
        t->programs = p;
        if (!(p[t->n_programs] = strdup(prog)))
            return -1;
        name = p[t->n_programs++];
    }
    if (id > t->n_match_program) {
        long long cap = t->n_match_program ? t->n_match_program : 256;
        while (cap < id)
            cap *= 2;
        char **m = realloc(t->match_program, (size_t)cap * sizeof *m);
        if (!m)
            return -1;
        memset(m + t->n_match_program, 0, (size_t)(cap - t->n_match_program) * sizeof *m);
        t->match_program = m;
        t->n_match_program = cap;
    }
    t->match_program[id - 1] = (char *)name;
    return 0;
}

static bool passes(const struct tail *t, const cJSON *ev, const char *type)
{
    const struct tail_options *o = t->o;
    if (o->n_types) {
        bool ok = false;
        for (int i = 0; i < o->n_types && !ok; i++)
            ok = strcmp(o->types[i], type) == 0;
        if (!ok)
            return false;
    }
    if (o->since) {
        tdm_time ts;
        const char *s = str(ev, "ts");
        if (!s || time_parse(s, &ts) < 0 || ts < o->since)
            return false;
    }
    if (o->match && match_id(ev) != o->match)
        return false;
    if (o->program) {
        const char *prog = str(ev, "program");
        long long id = match_id(ev);
        if (!prog && id >= 1 && id <= t->n_match_program)
            prog = t->match_program[id - 1];
        if (!prog || strcmp(prog, o->program) != 0)
            return false;
    }
    if (o->person) {
        const cJSON *it;
        cJSON_ArrayForEach(it, ev)
            if (strcmp(it->string, "type") != 0 && strcmp(it->string, "ts") != 0 &&
                names_person(it, o->person, 0))
                return true;
        return false;
    }
    return true;
}

/* ---- printing -------------------------------------------------------------------------- */

#define DIM "\033[2m"
#define OFF "\033[0m"

static const char *type_color(const char *type, const cJSON *ev)
{
    static const struct { const char *type, *sgr; } COLORS[] = {
        { "rules", "\033[34m" },   { "match", "\033[32m" },  { "meeting", "\033[36m" }, { "close", "\033[33m" },
        { "flag", "\033[1;33m" },  { "reup", "\033[35m" },   { "goal", "\033[36m" },    { "rule.error", "\033[1;31m" },
        { NULL, NULL },
    };
    const char *phase = str(ev, "phase");
    if (strcmp(type, "meeting") == 0 && phase && strcmp(phase, "missed") == 0)
        return "\033[31m";
    if (strcmp(type, "rules") == 0 && phase && strcmp(phase, "rejected") == 0)
        return "\033[1;31m";
    for (int i = 0; COLORS[i].type; i++)
        if (strcmp(COLORS[i].type, type) == 0)
            return COLORS[i].sgr;
    return "";
}

/* Control characters are shown escaped so a log line cannot drive the terminal. */
static void print_safe(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\x%02x", ch);
        else
            fputc(ch, out);
    }
}

static void print_line(struct tail *t, const cJSON *ev, const char *type)
{
    FILE *out = t->out;
    bool c = t->o->color;
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
    const char *ts = str(ev, "ts");
    const char *tc = c ? type_color(type, ev) : "";
    fprintf(out, "%s%6.0f %s%s %s", c ? DIM : "", cJSON_IsNumber(seq) ? seq->valuedouble : 0, ts ? ts : "-",
            c ? OFF : "", tc);
    /* The type is padded to 10 columns (the readable form's second column). */
    int w = 0;
    for (const char *p = type; *p; p++, w++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, out);
    fprintf(out, "%s%*s", c && *tc ? OFF : "", w < 10 ? 10 - w : 0, "");
    const cJSON *it;
    cJSON_ArrayForEach(it, ev) {
        if (!strcmp(it->string, "seq") || !strcmp(it->string, "ts") || !strcmp(it->string, "type") ||
            !strcmp(it->string, "crc"))
            continue;
        fputc(' ', out);
        if (c)
            fputs(DIM, out);
        print_safe(out, it->string);
        fputs(c ? "=" OFF : "=", out);
        if (cJSON_IsString(it)) {
            print_safe(out, it->valuestring);
        } else {
            char *text = cJSON_PrintUnformatted(it);
            if (text)
                print_safe(out, text);
            free(text);
        }
    }
    fputc('\n', out);
}

static int on_event(void *ctx, const cJSON *ev, long long line)
{
    struct tail *t = ctx;
    t->last_seq = line;
    const char *type = str(ev, "type");
    if (!type)
        return 0;
    if (strcmp(type, "match") == 0 && remember_match(t, ev) < 0)
        return error_set(t->err, ERR_SYSTEM, NULL, 0, "out of memory");
    if (!passes(t, ev, type))
        return 0;
    if (t->o->json) {
        char *text = cJSON_PrintUnformatted(ev);
        if (!text)
            return error_set(t->err, ERR_SYSTEM, NULL, 0, "out of memory");
        fputs(text, t->out);
        fputc('\n', t->out);
        free(text);
    } else {
        print_line(t, ev, type);
    }
    return 0;
}

/* The crc of the line that ends at byte end of fd (its last bytes are `"crc":"XXXXXXXX"}\n`). */
static bool crc_before(int fd, long long end, char crc[8])
{
    char b[12];
    return end >= (long long)sizeof b && pread(fd, b, sizeof b, end - (long long)sizeof b) == (ssize_t)sizeof b &&
           memcmp(b + 10, "}\n", 2) == 0 && (memcpy(crc, b + 2, 8), true);
}

/* A log that is no longer what was read up to offset (same file, cut back by a failed commit,
 * maybe written again since): goes back to the newest checkpoint still on disk, so what
 * follows it is read (again). Returns false when none is left (read the log from the start). */
static bool rewind_to_checkpoint(struct tail *t, int fd)
{
    long long shown = t->last_seq;
    while (t->n_cp > 0) {
        const struct checkpoint *c = &t->cp[(t->cp_next - 1 + TAIL_CHECKPOINTS) % TAIL_CHECKPOINTS];
        char crc[8];
        if (crc_before(fd, c->end, crc) && memcmp(crc, c->crc, 8) == 0) {
            if (c->end == t->offset)
                return true;   /* nothing changed after all */
            fprintf(stderr, "tandem: %s was cut back to seq %lld (a commit that failed): the events shown "
                    "after it up to seq %lld were not written; following from there\n", t->o->path, c->seq, shown);
            t->offset = c->end;
            t->last_seq = c->seq;
            return true;
        }
        t->cp_next = (t->cp_next - 1 + TAIL_CHECKPOINTS) % TAIL_CHECKPOINTS;
        t->n_cp--;
    }
    return false;
}

/* True when the line before offset is still the one read last (the log was not cut there). */
static bool offset_holds(struct tail *t)
{
    if (t->offset == 0 || t->n_cp == 0)
        return true;
    int fd = open(t->o->path, O_RDONLY | O_CLOEXEC);
    char crc[8];
    const struct checkpoint *c = &t->cp[(t->cp_next - 1 + TAIL_CHECKPOINTS) % TAIL_CHECKPOINTS];
    bool ok = fd < 0 || (crc_before(fd, t->offset, crc) && memcmp(crc, c->crc, 8) == 0) ||
              rewind_to_checkpoint(t, fd);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Reads what was appended since the last read (or all of a log that was replaced or cut back
 * past every checkpoint). */
static int read_more(struct tail *t, FILE *diag)
{
    struct stat st;
    bool same = stat(t->o->path, &st) == 0 && st.st_ino == t->inode;
    if (t->offset > 0 && (!same || !offset_holds(t))) {
        fprintf(stderr, "tandem: %s was replaced; reading it from the start\n", t->o->path);
        t->offset = 0;
        t->n_cp = t->cp_next = 0;
        t->n_match_program = 0;
        free(t->match_program);
        t->match_program = NULL;
    }
    if (stat(t->o->path, &st) == 0)
        t->inode = st.st_ino;
    long long end = t->offset;
    int rc = journal_replay(t->o->path, t->offset, on_event, t, diag, &end, t->err);
    if (rc == ERR_INPUT && !diag && t->offset > 0) {
        /* Following, the log may have been cut between the check above and the read: the
         * next read rewinds. A log damaged for good fails that one the same way. */
        long long at = t->offset;
        if (!offset_holds(t) || t->offset != at)
            return 0;
    }
    if (rc < 0)
        return rc;
    if (end > t->offset) {
        int fd = open(t->o->path, O_RDONLY | O_CLOEXEC);
        struct checkpoint *c = &t->cp[t->cp_next];
        if (fd >= 0 && crc_before(fd, end, c->crc)) {
            c->end = end;
            c->seq = t->last_seq;
            t->cp_next = (t->cp_next + 1) % TAIL_CHECKPOINTS;
            t->n_cp += t->n_cp < TAIL_CHECKPOINTS;
        }
        if (fd >= 0)
            close(fd);
    }
    t->offset = end;
    if (fflush(t->out) != 0 || ferror(t->out))
        return error_set(t->err, ERR_SYSTEM, NULL, 0, "cannot write the output: %s", strerror(errno));
    return 0;
}

/* ---- following ------------------------------------------------------------------------- */

static void stop(struct tail *t)
{
    if (t->watching)
        uv_close((uv_handle_t *)&t->watch, NULL);
    t->watching = false;
    if (!uv_is_closing((uv_handle_t *)&t->timer)) {
        uv_close((uv_handle_t *)&t->timer, NULL);
        uv_close((uv_handle_t *)&t->sigint, NULL);
        uv_close((uv_handle_t *)&t->sigterm, NULL);
    }
}

static void follow_read(struct tail *t)
{
    int rc = read_more(t, NULL);   /* a line being written is not torn: say nothing of it */
    if (rc < 0) {
        t->rc = rc;
        stop(t);
    }
}

static void on_change(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct tail *t = h->data;
    (void)events;
    if (status < 0)
        return;   /* the timer still re-reads */
    char copy[4200];
    snprintf(copy, sizeof copy, "%s", t->o->path);
    if (!filename || strcmp(filename, basename(copy)) == 0)
        follow_read(t);
}

static void on_timer(uv_timer_t *h)
{
    follow_read(h->data);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    stop(h->data);
}

static int follow(struct tail *t)
{
    int r = uv_loop_init(&t->loop);
    if (r < 0)
        return error_set(t->err, ERR_SYSTEM, NULL, 0, "event loop: %s", uv_strerror(r));
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", t->o->path);
    char *d = dirname(dir);
    t->watch.data = t->timer.data = t->sigint.data = t->sigterm.data = t;
    int recheck = t->o->recheck_ms > 0 ? t->o->recheck_ms : 1000;
    uv_fs_event_init(&t->loop, &t->watch);
    if (uv_fs_event_start(&t->watch, on_change, d, 0) == 0) {
        t->watching = true;
    } else {
        uv_close((uv_handle_t *)&t->watch, NULL);   /* no inotify left: the timer alone, more often */
        recheck = recheck > 200 ? 200 : recheck;
    }
    uv_timer_init(&t->loop, &t->timer);
    uv_timer_start(&t->timer, on_timer, (uint64_t)recheck, (uint64_t)recheck);
    uv_signal_init(&t->loop, &t->sigint);
    uv_signal_start(&t->sigint, on_signal, SIGINT);
    uv_signal_init(&t->loop, &t->sigterm);
    uv_signal_start(&t->sigterm, on_signal, SIGTERM);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    r = uv_loop_close(&t->loop);
    if (r < 0 && t->rc == 0)
        t->rc = error_set(t->err, ERR_SYSTEM, NULL, 0, "event loop left open: %s", uv_strerror(r));
    return t->rc;
}

int tail_run(const struct tail_options *o, struct error *err)
{
    struct tail t;
    memset(&t, 0, sizeof t);
    t.o = o;
    t.out = o->out ? o->out : stdout;
    t.err = err;
    int rc = read_more(&t, o->follow ? NULL : stderr);
    if (rc == 0 && o->follow)
        rc = follow(&t);
    for (int i = 0; i < t.n_programs; i++)
        free(t.programs[i]);
    free(t.programs);
    free(t.match_program);
    return rc;
}
