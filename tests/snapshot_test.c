/* snapshot_test: snapshots against the log they shortcut, with real files in fresh temp
 * directories. States come from replaying real logs: a hand-written one that uses every
 * event type and phase (proposed/rejected matches, open re-ups with answers, people who left,
 * programs no longer declared), and a year of the example organization simulated in-process
 * (tests run from the repository root). The yardstick is always a full replay of the log:
 * snapshot + the rest of the log must give the same state, report and met pairs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "crc32c.h"
#include "engine.h"
#include "journal.h"
#include "report.h"
#include "rules.h"
#include "snapshot.h"
#include "state.h"

static char g_dir[64];
static char g_log[128];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/tandem-snapshot-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    snprintf(g_log, sizeof g_log, "%s/events.jsonl", g_dir);
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

TestSuite(snapshot, .init = setup, .fini = teardown, .timeout = 30);

/* ---- building logs ---------------------------------------------------------------------- */

struct hand {
    struct journal *j;
    struct state s;
};

/* Journals and applies {"seq":next,"ts":TS,"type":TYPE,<body>}, body JSON written with '. */
static void ev(struct hand *h, const char *ts, const char *type, const char *fmt, ...)
{
    char body[4096], line[4608];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    for (char *c = body; *c; c++)
        if (*c == '\'')
            *c = '"';
    snprintf(line, sizeof line, "{\"seq\":%lld,\"ts\":\"%s\",\"type\":\"%s\"%s%s}", h->s.seq + 1, ts, type,
             body[0] ? "," : "", body);
    cJSON *e = cJSON_Parse(line);
    cr_assert_not_null(e, "test event is not JSON: %s", line);
    struct error err = { 0 };
    cr_assert_eq(journal_append(h->j, e, &err), 0, "journal_append %s: %s", line, err.msg);
    cr_assert_eq(journal_commit(h->j, JOURNAL_SYNC_OFF, &err), 0, "%s", err.msg);
    cr_assert_eq(state_apply(&h->s, e, &err), 0, "state_apply %s: %s", line, err.msg);
    cJSON_Delete(e);
}

#define PROGRAMS2                                                                                        \
    "'programs':[{'name':'core','model':'one_to_one','term':'6mo','cadence':'2w','review_every':'3mo',"   \
    "'match_every':'1w','objective':'coverage','approve':true,'reup':false,"                           \
    "'prompts':['What next?','Und jetzt? \\u00e9']},"                                                   \
    "{'name':'circle','model':'group','term':'1y','cadence':'1mo','review_every':'3mo','match_every':'2w',"  \
    "'objective':'quality','approve':false,'rotate':true,'prompts':[]}]"

/* A log at g_log using every event type and phase state_apply knows, ending with an open
 * re-up (one answer in), a proposed match, a program the rules no longer declare and a person
 * who left. Leaves h->s as the state the events made in memory and the journal closed. (A
 * replay of the file can differ in the last bit of a double: cJSON prints 15 digits, so
 * compare snapshots of the file with full_replay.) */
static void hand_log(struct hand *h)
{
    struct error err = { 0 };
    state_init(&h->s);
    cr_assert_eq(journal_open(g_log, false, NULL, &h->j, &err), 0, "%s", err.msg);
    const char *d1 = "2027-01-01T00:00:00Z", *d2 = "2027-01-08T09:30:00Z", *d3 = "2027-02-01T10:00:00Z",
               *d4 = "2027-04-01T10:00:00Z", *d5 = "2027-07-01T12:00:00Z";
    ev(h, d1, "rules", "'phase':'loaded','file':'org.lua','sha256':'ab12','clock':'real',"
                       "'priorities':['development','inclusion'],%s", PROGRAMS2);
    ev(h, d1, "person", "'phase':'added','person':{'id':'boss','level':14,'capacity':0,'tenure_years':12.1}");
    ev(h, d1, "person", "'phase':'added','person':{'id':'m1','name':'Mia \\u00d8','level':8,'department':'Eng',"
                        "'skills':['go','sql'],'wants':['coaching'],'tags':['senior'],'capacity':2,"
                        "'manager':'boss','timezone':'Europe/Berlin','tenure_years':0.30000000000000004,"
                        "'attrs':{'q_style':'direct','q_background':'arts'}}");
    ev(h, d1, "person", "'phase':'added','person':{'id':'m2','level':7,'department':'Sales','capacity':1}");
    for (int i = 1; i <= 6; i++)
        ev(h, d1, "person", "'phase':'added','person':{'id':'e%d','level':%d,'wants':['sql'],'manager':'m%d'}", i,
           1 + i % 5, 1 + i % 2);
    ev(h, d1, "rule.error", "'rule':'org.lua:12','cause':4,'message':'boom'");
    ev(h, d1, "enroll", "'person':'m1','program':'core','role':'mentor'");
    ev(h, d1, "enroll", "'person':'m2','program':'core','role':'mentor'");
    ev(h, d1, "enroll", "'person':'e1','program':'core','role':'mentee'");
    ev(h, d2, "enroll", "'person':'e2','program':'core','role':'mentee'");
    ev(h, d2, "enroll", "'person':'e3','program':'circle','role':'peer'");
    ev(h, d2, "enroll", "'person':'e4','program':'circle','role':'peer'");
    ev(h, d2, "enroll", "'person':'e5','program':'circle','role':'attendee'");
    ev(h, d2, "enroll", "'person':'boss','program':'circle','role':'leader'");
    ev(h, d2, "match", "'match':1,'phase':'proposed','program':'core','model':'one_to_one','mentors':['m1'],"
                       "'mentees':['e1'],'score':0.30000000000000004,'why':{'skills':1},"
                       "'term_ends':'2027-07-08T09:30:00Z'");
    ev(h, d2, "match", "'match':2,'phase':'proposed','program':'core','model':'one_to_one','mentors':['m2'],"
                       "'mentees':['e2'],'score':2.5,'why':{},'term_ends':'2027-07-08T09:30:00Z'");
    ev(h, d3, "match", "'match':1,'phase':'approved','term_ends':'2027-08-01T10:00:00Z'");
    ev(h, d3, "match", "'match':2,'phase':'rejected'");
    ev(h, d3, "match", "'match':3,'phase':'active','program':'circle','model':'group','mentors':['boss'],"
                       "'mentees':['e3','e4','e5'],'score':1e-7,'why':{},'term_ends':'2028-02-01T10:00:00Z'");
    ev(h, d3, "meeting", "'match':1,'phase':'scheduled','at':'2027-02-15T10:00:00Z'");
    ev(h, d3, "meeting", "'match':1,'phase':'held','at':'2027-02-15T10:00:00Z','attendees':['m1','e1'],"
                         "'guests':[],'prompt':'What next?'");
    ev(h, d3, "meeting", "'match':1,'phase':'scheduled','at':'2027-03-01T10:00:00Z'");
    ev(h, d3, "meeting", "'match':1,'phase':'missed','at':'2027-03-01T10:00:00Z'");
    ev(h, d3, "meeting", "'match':3,'phase':'scheduled','at':'2027-03-01T10:00:00Z'");
    ev(h, d3, "meeting", "'match':3,'phase':'cancelled','at':'2027-03-01T10:00:00Z'");
    ev(h, d3, "meeting", "'match':3,'phase':'scheduled','at':'2027-04-01T10:00:00Z'");
    ev(h, d3, "intro", "'match':1,'contact':'m2'");
    ev(h, d3, "intro", "'match':3,'contact':'e6'");
    ev(h, d3, "intro", "'match':3,'contact':'m1'");
    ev(h, d3, "goal", "'match':1,'goal':1,'phase':'set','text':'Ship a SQL report','due':'2027-06-01T00:00:00Z',"
                      "'measure':'report merged','rule':'one_to_one.lua:40'");
    ev(h, d3, "goal", "'match':3,'goal':2,'phase':'set','text':'Meet monthly'");
    ev(h, d3, "goal", "'match':1,'goal':3,'phase':'set','text':'Present once','measure':'talk given'");
    ev(h, d4, "goal", "'match':1,'goal':1,'phase':'progress'");
    ev(h, d4, "goal", "'match':1,'goal':1,'phase':'achieved'");
    ev(h, d4, "goal", "'match':3,'goal':2,'phase':'dropped'");
    ev(h, d4, "feedback", "'match':1,'from':'e1','rating':4");
    ev(h, d4, "feedback", "'match':1,'from':'m1','rating':5");
    ev(h, d4, "feedback", "'program':'circle','from':'e3','rating':3");
    ev(h, d4, "review", "'match':1,'n':1,'meetings_held':1,'meetings_missed':1,'held_total':1,'missed_total':1,"
                        "'goals_open':2,'goals_achieved':0,'feedback_avg':4.5");
    ev(h, d4, "review", "'match':3,'n':1,'meetings_held':0,'meetings_missed':0,'held_total':0,'missed_total':0,"
                        "'goals_open':1,'goals_achieved':0,'feedback_avg':null");
    ev(h, d4, "flag", "'match':3,'reason':'stagnant','rule':'org.lua:30'");
    ev(h, d4, "flag", "'person':'e2','reason':'waiting','rule':'org.lua:31'");
    ev(h, d4, "note", "'text':'quarter done','fields':{'n':1},'rule':'org.lua:33'");
    ev(h, d4, "person", "'phase':'updated','person':{'id':'m2','level':8,'title':'Lead','capacity':1}");
    ev(h, d4, "person", "'phase':'left','person':'e6'");
    ev(h, d5, "reup", "'match':3,'phase':'open','term_ends':'2028-02-01T10:00:00Z'");
    ev(h, d5, "reup", "'match':3,'phase':'answered','person':'e4','decision':'exit'");
    ev(h, d5, "reup", "'match':3,'phase':'decided','decisions':{'e4':'exit'},'outcome':'close'");
    ev(h, d5, "close", "'match':3,'reason':'exited'");
    ev(h, d5, "reup", "'match':1,'phase':'open','term_ends':'2027-08-01T10:00:00Z'");
    ev(h, d5, "reup", "'match':1,'phase':'answered','person':'m1','decision':'renew'");
    ev(h, d5, "reup", "'match':1,'phase':'answered','person':'e1','decision':'renew'");
    ev(h, d5, "reup", "'match':1,'phase':'decided','decisions':{'m1':'renew','e1':'renew'},'outcome':'renew',"
                      "'term_ends':'2028-02-01T10:00:00Z'");
    ev(h, d5, "match", "'match':4,'phase':'active','program':'core','model':'one_to_one','mentors':['m2'],"
                       "'mentees':['e2'],'score':3,'why':{},'term_ends':'2028-01-01T12:00:00Z'");
    ev(h, d5, "close", "'match':4,'reason':'rule','text':'never met','rule':'org.lua:50'");
    ev(h, d5, "rules", "'phase':'rejected','file':'bad.lua','error':'bad.lua:1: syntax'");
    ev(h, d5, "rules", "'phase':'reloaded','file':'org2.lua','sha256':'cd34','clock':'real','priorities':['career'],"
                       "'programs':[{'name':'core','model':'one_to_one','term':'1y','cadence':'1w',"
                       "'review_every':'2mo','match_every':'3d','objective':'quality','approve':false,"
                       "'prompts':['What now?','Und jetzt? \\u00e9']}]");
    ev(h, d5, "match", "'match':5,'phase':'proposed','program':'core','model':'one_to_one','mentors':['m1'],"
                       "'mentees':['e2'],'score':1,'why':{},'term_ends':'2028-07-01T12:00:00Z'");
    ev(h, d5, "reup", "'match':1,'phase':'open','term_ends':'2028-02-01T10:00:00Z'");
    ev(h, d5, "reup", "'match':1,'phase':'answered','person':'e1','decision':'exit'");
    journal_close(h->j);
    h->j = NULL;
}

/* The example organization (rules/examples/acme.lua, people.csv) simulated for days into
 * dir, in-process as `tandem simulate` does. */
static void simulate(const char *dir, int days)
{
    struct error err = { 0 };
    tdm_time start = 0;
    cr_assert_eq(time_parse("2027-01-01", &start), 0);
    struct rules *r = NULL;
    cr_assert_eq(rules_load("rules/examples/acme.lua", "rules", &r, &err), 0,
                 "rules_load (run the tests from the repository root): %s", err.msg);
    struct engine e;
    struct engine_options o = { .state_dir = dir, .sync = JOURNAL_SYNC_OFF, .simulate = true, .seed = 1,
                                .start = start, .diag = stderr };
    cr_assert_eq(engine_open(&e, &o, &err), 0, "%s", err.msg);
    cr_assert_eq(engine_use_rules(&e, r, &err), 0, "%s", err.msg);
    struct people_csv_result res = { 0 };
    cr_assert_eq(engine_import_people(&e, "rules/examples/people.csv", stderr, &res, &err), 0, "%s", err.msg);
    cr_assert_eq(engine_advance(&e, start + days * 86400LL, NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(engine_sync(&e, &err), 0, "%s", err.msg);
    engine_close(&e);
}

/* ---- replaying and comparing -------------------------------------------------------------- */

static int apply_fn(void *ctx, const cJSON *event, long long line)
{
    (void)line;
    struct error err = { 0 };
    int rc = state_apply(ctx, event, &err);
    cr_assert_eq(rc, 0, "replay: %s", err.msg);
    return 0;
}

struct upto {
    struct state *s;
    long long last;
};

static int apply_upto(void *ctx, const cJSON *event, long long line)
{
    struct upto *u = ctx;
    apply_fn(u->s, event, line);
    return u->s->seq == u->last ? 1 : 0;
}

/* The state after seq `last` of the log, and the offset just after that line. */
static long long replay_to(struct state *s, long long last)
{
    struct error err = { 0 };
    struct upto u = { s, last };
    long long off = -1;
    state_init(s);
    int rc = journal_replay(g_log, 0, apply_upto, &u, NULL, &off, &err);
    cr_assert_eq(rc, 1, "the log ended before seq %lld (rc %d: %s)", last, rc, err.msg);
    cr_assert_eq(s->seq, last);
    return off;
}

static void full_replay(struct state *s)
{
    struct error err = { 0 };
    state_init(s);
    cr_assert_eq(engine_replay(g_log, s, NULL, &err), 0, "%s", err.msg);
}

static char *state_text(const struct state *s)
{
    cJSON *j = snapshot_state_to_json(s);
    cr_assert_not_null(j, "snapshot_state_to_json failed");
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cr_assert_not_null(t);
    return t;
}

static char *report_of(const struct state *s)
{
    cJSON *j = report_state_json(s);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return t;
}

/* Everything a reader of the state can see, compared: the serialized state (every field),
 * the report, the lookups and state_met for every pair of the first 300 people in every
 * program and overall. */
static void assert_same_state(const struct state *a, const struct state *b)
{
    char *ta = state_text(a), *tb = state_text(b);
    size_t at = 0;
    while (ta[at] && ta[at] == tb[at])
        at++;
    cr_assert_str_eq(ta, tb, "the states differ at byte %zu: ...%.120s... vs ...%.120s...", at,
                     ta + (at > 60 ? at - 60 : 0), tb + (at > 60 ? at - 60 : 0));
    free(ta);
    free(tb);
    char *ra = report_of(a), *rb = report_of(b);
    cr_assert_str_eq(ra, rb, "the reports differ");
    free(ra);
    free(rb);
    cr_assert_eq(a->seq, b->seq);
    cr_assert_eq(a->now, b->now);
    cr_assert_eq(a->n_people, b->n_people);
    for (int i = 0; i < a->n_people; i++)
        cr_assert_eq(state_person(b, a->people[i].p.id), i, "person %s moved", a->people[i].p.id);
    for (int i = 0; i < a->n_matches; i++) {
        /* Doubles must come back to the bit, not within cJSON's epsilon. */
        cr_assert(memcmp(&a->matches[i].score, &b->matches[i].score, sizeof(double)) == 0, "match %d score", i + 1);
        cr_assert(memcmp(&a->matches[i].feedback_sum, &b->matches[i].feedback_sum, sizeof(double)) == 0);
    }
    cr_assert(memcmp(&a->feedback_sum, &b->feedback_sum, sizeof(double)) == 0);
    /* The derived indexes, rebuilt by state_reindex, hold the same as state_apply built. */
    for (int i = 0; i < a->n_people; i++) {
        const struct person_rec *pa = &a->people[i], *pb = &b->people[i];
        cr_assert_eq(pa->enrollments.n, pb->enrollments.n, "person %d enrolments", i);
        cr_assert_eq(pa->matches.n, pb->matches.n, "person %d matches", i);
        for (int k = 0; k < pa->enrollments.n; k++)
            cr_assert_eq(pa->enrollments.v[k], pb->enrollments.v[k]);
        for (int k = 0; k < pa->matches.n; k++)
            cr_assert_eq(pa->matches.v[k], pb->matches.v[k]);
        /* The live ones, in whatever order closes left them: the same set. */
        cr_assert_eq(pa->live.n, pb->live.n, "person %d live matches", i);
        for (int k = 0; k < pa->live.n; k++) {
            int found = 0;
            for (int q = 0; q < pb->live.n; q++)
                found += pb->live.v[q] == pa->live.v[k];
            cr_assert_eq(found, 1, "person %d live match %d", i, pa->live.v[k]);
            cr_assert(match_live(&a->matches[pa->live.v[k] - 1]));
        }
    }
    for (int i = 0; i < a->n_matches; i++) {
        const struct match *ma = &a->matches[i], *mb = &b->matches[i];
        cr_assert_eq(ma->goals.n, mb->goals.n, "match %d goals", i + 1);
        for (int k = 0; k < ma->goals.n; k++)
            cr_assert_eq(ma->goals.v[k], mb->goals.v[k]);
        cr_assert_eq(ma->n_guests, mb->n_guests);
        cr_assert_eq(ma->guests == NULL, mb->guests == NULL, "match %d guests NULL-ness", i + 1);
    }
    int n = a->n_people < 300 ? a->n_people : 300;
    long long met = 0;
    for (int x = 0; x < n; x++)
        for (int y = x + 1; y < n; y++)
            for (int p = -1; p < a->n_programs; p++) {
                bool ma = state_met(a, x, y, p), mb = state_met(b, x, y, p);
                cr_assert_eq(ma, mb, "met(%s, %s, %d) differs", a->people[x].p.id, a->people[y].p.id, p);
                met += ma;
            }
    (void)met;
}

static long long count_met(const struct state *s, int prog)
{
    long long met = 0;
    for (int x = 0; x < s->n_people; x++)
        for (int y = x + 1; y < s->n_people; y++)
            met += state_met(s, x, y, prog);
    return met;
}

/* ---- files -------------------------------------------------------------------------------- */

static char *snap_name(long long seq)
{
    char *p;
    cr_assert_neq(asprintf(&p, "%s/snapshot-%012lld.json", g_dir, seq), -1);
    return p;
}

/* Names in g_dir starting with "snapshot-", sorted, joined by spaces. */
static char *snap_files(void)
{
    struct dirent **list;
    int n = scandir(g_dir, &list, NULL, alphasort);
    cr_assert_geq(n, 0);
    char *out = calloc(1, 4096);
    for (int i = 0; i < n; i++) {
        if (strncmp(list[i]->d_name, "snapshot-", 9) == 0) {
            if (out[0])
                strcat(out, " ");
            strncat(out, list[i]->d_name, 4000 - strlen(out));
        }
        free(list[i]);
    }
    free(list);
    return out;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void write_all(const char *path, const char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Rewrites a snapshot file after mut changes its parsed document, sealed with a right crc,
 * so that only the check under test can catch it. */
static void reseal(const char *path, void (*mut)(cJSON *doc))
{
    size_t n;
    char *b = read_all(path, &n);
    cr_assert(n > 20 && b[n - 1] == '\n');
    char *crc = strstr(b, ",\"crc\":\"");
    cr_assert_not_null(crc);
    strcpy(crc, "}");
    cJSON *doc = cJSON_Parse(b);
    cr_assert_not_null(doc);
    free(b);
    mut(doc);
    char *t = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    size_t body = strlen(t) - 1;
    char *out;
    cr_assert_neq(asprintf(&out, "%.*s,\"crc\":\"%08" PRIx32 "\"}\n", (int)body, t, crc32c(0, t, body)), -1);
    write_all(path, out, strlen(out));
    free(out);
    free(t);
}

static void write_snap(const struct state *s, long long off)
{
    struct error err = { 0 };
    cr_assert_eq(snapshot_write(g_dir, s, off, &err), 0, "snapshot_write: %s", err.msg);
}

/* snapshot_load into a fresh state; returns its code, *out the state (freed by the caller),
 * report text in *rep (caller frees). */
static int load(struct state *out, long long *off, char **rep)
{
    struct error err = { 0 };
    size_t rlen = 0;
    char *rbuf = NULL;
    FILE *rf = open_memstream(&rbuf, &rlen);
    state_init(out);
    *off = -7;
    int rc = snapshot_load(g_dir, g_log, out, off, rf, &err);
    fclose(rf);
    cr_assert_geq(rc, 0, "snapshot_load: %s", err.msg);
    if (rep)
        *rep = rbuf;
    else
        free(rbuf);
    return rc;
}

/* ---- state <-> JSON ----------------------------------------------------------------------- */

Test(snapshot, hand_log_round_trips_every_field)
{
    struct hand h;
    hand_log(&h);
    struct state *s = &h.s;
    /* The log reached what the test claims to cover. */
    cr_assert_eq(s->n_matches, 5);
    cr_assert_eq(s->matches[1].phase, MATCH_REJECTED);
    cr_assert_eq(s->matches[4].phase, MATCH_PROPOSED);
    cr_assert(s->matches[0].reup_open && s->matches[0].answers && s->matches[0].answers[1] == 2);
    cr_assert(s->people[state_person(s, "e6")].left);
    cr_assert(!s->programs[state_program(s, "circle")].live);
    cr_assert_eq(s->goals_dropped, 1);

    cJSON *j = snapshot_state_to_json(s);
    cr_assert_not_null(j);
    struct state back;
    state_init(&back);
    struct error err = { 0 };
    cr_assert_eq(snapshot_state_from_json(j, &back, &err), 0, "%s", err.msg);
    cJSON *j2 = snapshot_state_to_json(&back);
    cr_assert(cJSON_Compare(j, j2, 1), "state -> json -> state -> json changed");
    assert_same_state(s, &back);

    /* Through text, as a file holds it (numbers parsed, not raw). */
    char *t = cJSON_PrintUnformatted(j);
    cJSON *parsed = cJSON_Parse(t);
    struct state back2;
    state_init(&back2);
    cr_assert_eq(snapshot_state_from_json(parsed, &back2, &err), 0, "%s", err.msg);
    assert_same_state(s, &back2);

    /* Fields the report does not show, read straight. */
    const struct match *m = state_match(&back2, 1);
    cr_assert_eq(m->terms, 2);
    cr_assert_eq(m->held, 1);
    cr_assert_eq(m->missed, 1);
    cr_assert_eq(m->held_at_review, 1);
    cr_assert_eq(m->meeting_n, 2);
    cr_assert_eq(m->answers[0], 0);
    cr_assert_eq(m->answers[1], 2);
    cr_assert_eq(state_match(&back2, 3)->cancelled, 1);
    const struct match *m3 = state_match(&back2, 3);
    cr_assert_eq(m3->n_guests, 2);
    cr_assert_str_eq(back2.people[m3->guests[0]].p.id, "e6");
    cr_assert_str_eq(back2.people[m3->guests[1]].p.id, "m1");
    cr_assert_null(state_match(&back2, 2)->guests);
    cr_assert_eq(state_match(&back2, 1)->goals.n, 2);
    cr_assert_eq(back2.programs[1].rotate, true);
    cr_assert_eq(back2.programs[1].reup, true);
    cr_assert_str_eq(state_match(&back2, 4)->close_reason, "rule");
    cr_assert_eq(back2.people[state_person(&back2, "e2")].flags, 1);
    cr_assert_eq(back2.enrollments[1].waiting_since, s->enrollments[1].waiting_since);
    cr_assert_eq(back2.programs[1].since, s->programs[1].since);
    cr_assert_str_eq(back2.programs[0].prompts[1], s->programs[0].prompts[1]);
    cr_assert_eq(back2.closes_by_reason[1], 1);   /* exited */
    cr_assert_eq(back2.closes_by_reason[6], 1);   /* rule */
    cr_assert_eq(back2.rule_errors, 1);
    cr_assert_eq(back2.notes, 1);
    cr_assert_str_eq(back2.rules_sha256, "cd34");
    cr_assert_eq(back2.simulated, false);
    cr_assert_eq(back2.cap_people, back2.n_people);
    /* Met pairs: group match 3 (closed) and rejected match 2 count too. */
    cr_assert(state_met(&back2, state_person(&back2, "e3"), state_person(&back2, "e5"), 1));
    cr_assert(state_met(&back2, state_person(&back2, "boss"), state_person(&back2, "e4"), -1));
    cr_assert(state_met(&back2, state_person(&back2, "m2"), state_person(&back2, "e2"), 0));
    cr_assert(!state_met(&back2, state_person(&back2, "e3"), state_person(&back2, "e5"), 0));
    cr_assert_eq(count_met(&back2, -1), count_met(s, -1));
    cr_assert_gt(count_met(s, -1), 8);

    /* The reloaded state keeps taking events like the original. */
    struct error e2 = { 0 };
    cJSON *next = cJSON_Parse("{\"seq\":0,\"ts\":\"2027-08-01T00:00:00Z\",\"type\":\"match\",\"match\":6,"
                              "\"phase\":\"active\",\"program\":\"core\",\"mentors\":[\"m1\"],\"mentees\":[\"e4\"],"
                              "\"score\":1,\"term_ends\":\"2028-08-01T00:00:00Z\"}");
    cJSON_SetNumberValue(cJSON_GetObjectItem(next, "seq"), (double)(s->seq + 1));
    cr_assert_eq(state_apply(s, next, &e2), 0, "%s", e2.msg);
    cr_assert_eq(state_apply(&back2, next, &e2), 0, "%s", e2.msg);
    assert_same_state(s, &back2);

    cJSON_Delete(next);
    free(t);
    cJSON_Delete(parsed);
    cJSON_Delete(j);
    cJSON_Delete(j2);
    state_free(&back);
    state_free(&back2);
    state_free(s);
}

/* Each mutation of a good state object must be refused with ERR_INPUT and a message naming
 * where, leaving a state state_free can release. */
static char *g_good;   /* the hand log's state object as text */

static void expect_refused(const char *what, const char *path_in_msg, void (*mut)(cJSON *st))
{
    struct state s;
    state_init(&s);
    cJSON *j = cJSON_Parse(g_good);
    /* The unchanged text loads: only the mutation can be what is refused. */
    struct error err = { 0 };
    cr_assert_eq(snapshot_state_from_json(j, &s, &err), 0, "%s", err.msg);
    state_free(&s);
    mut(j);
    int rc = snapshot_state_from_json(j, &s, &err);
    cr_assert_eq(rc, ERR_INPUT, "%s: accepted (rc %d)", what, rc);
    cr_assert(strstr(err.msg, path_in_msg) != NULL, "%s: message \"%s\" does not name %s", what, err.msg, path_in_msg);
    state_free(&s);
    cJSON_Delete(j);
}

static cJSON *item(cJSON *o, const char *arr, int i)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(o, arr);
    cr_assert_not_null(a, "no %s", arr);
    return cJSON_GetArrayItem(a, i);
}

static void set(cJSON *o, const char *k, cJSON *v)
{
    cr_assert(cJSON_ReplaceItemInObjectCaseSensitive(o, k, v), "no member %s", k);
}

static void m_unknown(cJSON *st) { cJSON_AddNumberToObject(st, "extra", 1); }
static void m_case(cJSON *st) { cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(st, "seq"); cJSON_AddItemToObject(st, "Seq", v); }
static void m_missing(cJSON *st) { cJSON_DeleteItemFromObjectCaseSensitive(item(st, "matches", 2), "held"); }
static void m_dup(cJSON *st) { cJSON_AddNumberToObject(item(st, "matches", 0), "held", 1); }
static void m_type(cJSON *st) { set(item(st, "matches", 0), "held", cJSON_CreateString("1")); }
static void m_neg(cJSON *st) { set(cJSON_GetObjectItem(st, "counters"), "reviews", cJSON_CreateNumber(-1)); }
static void m_frac(cJSON *st) { set(item(st, "goals", 0), "progress_n", cJSON_CreateNumber(1.5)); }
static void m_person(cJSON *st) { cJSON_ReplaceItemInArray(cJSON_GetObjectItem(item(st, "matches", 0), "mentees"), 0, cJSON_CreateString("nobody")); }
static void m_program(cJSON *st) { set(item(st, "enrollments", 0), "program", cJSON_CreateString("gone")); }
static void m_role(cJSON *st) { set(item(st, "enrollments", 0), "role", cJSON_CreateString("boss")); }
static void m_goal_match(cJSON *st) { set(item(st, "goals", 1), "match", cJSON_CreateNumber(99)); }
static void m_match_id(cJSON *st) { set(item(st, "matches", 1), "id", cJSON_CreateNumber(7)); }
static void m_answers(cJSON *st) { cJSON_DeleteItemFromArray(cJSON_GetObjectItem(item(st, "matches", 0), "answers"), 0); }
static void m_answers_closed(cJSON *st) { set(item(st, "matches", 1), "answers", cJSON_CreateIntArray((int[]){ 0, 0 }, 2)); }
static void m_answer_val(cJSON *st) { cJSON_ReplaceItemInArray(cJSON_GetObjectItem(item(st, "matches", 0), "answers"), 0, cJSON_CreateNumber(3)); }
static void m_time(cJSON *st) { set(st, "now", cJSON_CreateString("2027-07-01")); }
static void m_time2(cJSON *st) { set(item(st, "matches", 0), "started", cJSON_CreateString("2027-07-01T12:00:00+00:00")); }
static void m_phase(cJSON *st) { set(item(st, "matches", 0), "phase", cJSON_CreateString("Active")); }
static void m_dup_person(cJSON *st) { cJSON_AddItemToArray(cJSON_GetObjectItem(st, "people"), cJSON_Duplicate(item(st, "people", 0), 1)); }
static void m_bad_person(cJSON *st) { set(cJSON_GetObjectItem(item(st, "people", 0), "person"), "level", cJSON_CreateNumber(16)); }
static void m_duration(cJSON *st) { set(item(st, "programs", 0), "term", cJSON_CreateString("6 months")); }
static void m_dup_program(cJSON *st) { cJSON_AddItemToArray(cJSON_GetObjectItem(st, "programs"), cJSON_Duplicate(item(st, "programs", 0), 1)); }
static void m_reason(cJSON *st) { cJSON_AddNumberToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "counters"), "closes_by_reason"), "bored", 1); }
static void m_not_array(cJSON *st) { set(st, "goals", cJSON_CreateObject()); }
static void m_guest(cJSON *st) { cJSON_AddItemToArray(cJSON_GetObjectItem(item(st, "matches", 2), "guests"), cJSON_CreateString("ghost")); }
static void m_guests_null(cJSON *st) { set(item(st, "matches", 0), "guests", cJSON_CreateNull()); }
static void m_rotate(cJSON *st) { set(item(st, "programs", 1), "rotate", cJSON_CreateNumber(1)); }
static void m_inf(cJSON *st) { set(item(st, "matches", 0), "score", cJSON_CreateNumber(1e308 * 10)); }

Test(snapshot, state_from_json_refuses_what_is_off)
{
    struct hand h;
    hand_log(&h);
    cJSON *good = snapshot_state_to_json(&h.s);
    g_good = cJSON_PrintUnformatted(good);
    cJSON_Delete(good);
    state_free(&h.s);
    expect_refused("unknown member", "state.extra", m_unknown);
    expect_refused("member in another case", "Seq", m_case);
    expect_refused("missing member", "state.matches[2].held", m_missing);
    expect_refused("repeated member", "state.matches[0].held", m_dup);
    expect_refused("string for a number", "state.matches[0].held", m_type);
    expect_refused("negative counter", "state.counters.reviews", m_neg);
    expect_refused("fraction", "state.goals[0].progress_n", m_frac);
    expect_refused("unknown person", "state.matches[0].mentees", m_person);
    expect_refused("unknown program", "state.enrollments[0].program", m_program);
    expect_refused("unknown role", "state.enrollments[0].role", m_role);
    expect_refused("goal of no match", "state.goals[1].match", m_goal_match);
    expect_refused("match ids out of order", "state.matches[1].id", m_match_id);
    expect_refused("answers short", "state.matches[0].answers", m_answers);
    expect_refused("answers with no re-up", "state.matches[1].answers", m_answers_closed);
    expect_refused("answer 3", "state.matches[0].answers", m_answer_val);
    expect_refused("date for a time", "state.now", m_time);
    expect_refused("offset time", "state.matches[0].started", m_time2);
    expect_refused("phase case", "state.matches[0].phase", m_phase);
    expect_refused("repeated person", "repeats", m_dup_person);
    expect_refused("bad person", "state.people[0].person", m_bad_person);
    expect_refused("bad duration", "state.programs[0].term", m_duration);
    expect_refused("repeated program", "state.programs[2].name", m_dup_program);
    expect_refused("unknown close reason", "closes_by_reason.bored", m_reason);
    expect_refused("object for an array", "state.goals", m_not_array);
    expect_refused("infinite score", "state.matches[0].score", m_inf);
    expect_refused("unknown guest", "state.matches[2].guests", m_guest);
    expect_refused("null guests", "state.matches[0].guests", m_guests_null);
    expect_refused("number for a bool", "state.programs[1].rotate", m_rotate);

    struct state s;
    state_init(&s);
    struct error err = { 0 };
    cJSON *arr = cJSON_CreateArray();
    cr_assert_eq(snapshot_state_from_json(arr, &s, &err), ERR_INPUT);
    cr_assert_eq(snapshot_state_from_json(NULL, &s, NULL), ERR_INPUT);
    cJSON_Delete(arr);
    state_free(&s);
    free(g_good);
}

/* ---- files: write, load, replay the rest -------------------------------------------------- */

/* Advances s, whose last event ends at byte off of the log, to seq k; returns the offset
 * after seq k's line. */
static long long replay_on(struct state *s, long long off, long long k)
{
    struct error err = { 0 };
    struct upto u = { s, k };
    long long end = -1;
    int rc = journal_replay(g_log, off, apply_upto, &u, NULL, &end, &err);
    cr_assert_eq(rc, 1, "the log ended before seq %lld (rc %d: %s)", k, rc, err.msg);
    return end;
}

/* Snapshots part (its last event ends at off), loads the snapshot into a fresh state and
 * replays the rest of the log: the result must equal the full replay. */
static void cut_and_compare(const struct state *full, const struct state *part, long long off)
{
    write_snap(part, off);
    struct state s;
    long long got_off;
    char *rep;
    cr_assert_eq(load(&s, &got_off, &rep), 1, "no snapshot loaded at seq %lld: %s", part->seq, rep);
    cr_assert_str_eq(rep, "", "a good snapshot reported: %s", rep);
    free(rep);
    cr_assert_eq(got_off, off);
    cr_assert_eq(s.seq, part->seq);
    struct error err = { 0 };
    cr_assert_eq(journal_replay(g_log, got_off, apply_fn, &s, NULL, NULL, &err), 0, "%s", err.msg);
    assert_same_state(full, &s);
    state_free(&s);
}

/* Cuts at each of cuts[0..n) (increasing), the partial state carried along in one pass. */
static void cut_at(const struct state *full, const long long *cuts, int n)
{
    struct state part;
    state_init(&part);
    long long off = 0;
    for (int i = 0; i < n; i++) {
        off = replay_on(&part, off, cuts[i]);
        cut_and_compare(full, &part, off);
    }
    state_free(&part);
}

Test(snapshot, simulated_year_round_trips_and_cuts_anywhere)
{
    simulate(g_dir, 200);
    struct state full, back;
    full_replay(&full);
    long long n = full.seq;
    cr_assert_gt(n, 10000);
    cr_assert_gt(full.reups_renewed + full.reups_closed, 10, "the year should reach re-ups");

    /* state -> text -> state -> JSON: the same, met pairs included. */
    cJSON *j = snapshot_state_to_json(&full);
    char *t = cJSON_PrintUnformatted(j);
    cJSON *parsed = cJSON_Parse(t);
    state_init(&back);
    struct error err = { 0 };
    cr_assert_eq(snapshot_state_from_json(parsed, &back, &err), 0, "%s", err.msg);
    cJSON *j2 = snapshot_state_to_json(&back);
    cr_assert(cJSON_Compare(j, j2, 1));
    assert_same_state(&full, &back);
    for (int p = -1; p < full.n_programs; p++)
        cr_assert_eq(count_met(&back, p), count_met(&full, p), "program %d", p);
    cr_assert_gt(count_met(&full, -1), 200);
    free(t);
    cJSON_Delete(j);
    cJSON_Delete(j2);
    cJSON_Delete(parsed);
    state_free(&back);

    const long long cuts[] = { 1, 241, n / 3, 2 * n / 3, n - 1, n };
    cut_at(&full, cuts, 6);
    state_free(&full);
}

Test(snapshot, hand_log_cut_at_every_event_replays_the_same)
{
    struct hand h;
    hand_log(&h);
    struct state full;
    full_replay(&full);
    long long cuts[128];
    cr_assert_lt(full.seq, 128);
    for (long long k = 1; k <= full.seq; k++)
        cuts[k - 1] = k;
    cut_at(&full, cuts, (int)full.seq);
    state_free(&full);
    state_free(&h.s);
}

Test(snapshot, file_is_one_sealed_line)
{
    struct hand h;
    hand_log(&h);
    struct stat st;
    cr_assert_eq(stat(g_log, &st), 0);
    write_snap(&h.s, (long long)st.st_size);
    char *name = snap_name(h.s.seq);
    struct stat sst;
    cr_assert_eq(stat(name, &sst), 0, "no %s", name);
    cr_assert_eq(sst.st_mode & 0777, 0600);
    size_t n;
    char *b = read_all(name, &n);
    cr_assert_eq(b[n - 1], '\n');
    cr_assert_null(memchr(b, '\n', n - 1), "more than one line");
    cr_assert(n > 40 && memcmp(b + n - 19, ",\"crc\":\"", 8) == 0 && memcmp(b + n - 3, "\"}", 2) == 0);
    char want[9];
    snprintf(want, sizeof want, "%08" PRIx32, crc32c(0, b, n - 19));
    cr_assert(memcmp(b + n - 11, want, 8) == 0, "the crc does not seal the bytes before it");
    b[n - 19] = '}';
    b[n - 18] = '\0';
    cJSON *doc = cJSON_ParseWithOpts(b, NULL, 1);
    cr_assert_not_null(doc);
    const char *order[] = { "format", "seq", "log_offset", "log_crc", "state" };
    const cJSON *m = doc->child;
    for (int i = 0; i < 5; i++, m = m->next)
        cr_assert(m && strcmp(m->string, order[i]) == 0, "member %d is not %s", i, order[i]);
    cr_assert_null(m);
    cr_assert_eq(cJSON_GetObjectItem(doc, "format")->valuedouble, SNAPSHOT_FORMAT);
    cr_assert_eq(cJSON_GetObjectItem(doc, "seq")->valuedouble, (double)h.s.seq);
    cr_assert_eq(cJSON_GetObjectItem(doc, "log_offset")->valuedouble, (double)st.st_size);
    /* log_crc is the crc of the log's last line. */
    size_t ln;
    char *log = read_all(g_log, &ln);
    cr_assert(memcmp(log + ln - 11, cJSON_GetObjectItem(doc, "log_crc")->valuestring, 8) == 0);
    char *files = snap_files();
    cr_assert_str_eq(files, strrchr(name, '/') + 1, "a temp file or another file remains: %s", files);
    free(files);
    free(log);
    cJSON_Delete(doc);
    free(b);
    free(name);
    state_free(&h.s);
}

Test(snapshot, none_loads_nothing)
{
    struct state s;
    long long off;
    char *rep;
    /* No state directory at all. */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/absent", g_dir);
    state_init(&s);
    off = -7;
    struct error err = { 0 };
    cr_assert_eq(snapshot_load(missing, g_log, &s, &off, NULL, &err), 0);
    cr_assert_eq(off, -7);
    /* A directory with a log, other files and names that only look like snapshots. */
    struct hand h;
    hand_log(&h);
    char p[256];
    const char *decoys[] = { "snapshot-abc.json", "snapshot-1.json", "snapshot-0000000000001.json",
                             "snapshot-000000000001.jsonx", "xsnapshot-000000000001.json" };
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, decoys[i]);
        write_all(p, "{}\n", 3);
    }
    cr_assert_eq(load(&s, &off, &rep), 0);
    cr_assert_eq(off, -7, "the offset was touched");
    cr_assert_eq(s.seq, 0);
    cr_assert_eq(s.n_people, 0);
    cr_assert_str_eq(rep, "", "decoys were taken for snapshots: %s", rep);
    free(rep);
    state_free(&s);
    state_free(&h.s);
}

/* Two snapshots, at seq a (older) and b (newest), of the hand log. */
static void two_snapshots(struct hand *h, long long *a, long long *b, long long *off_a)
{
    hand_log(h);
    *a = h->s.seq - 20;
    *b = h->s.seq - 5;
    struct state s;
    *off_a = replay_to(&s, *a);
    write_snap(&s, *off_a);
    state_free(&s);
    long long off_b = replay_to(&s, *b);
    write_snap(&s, off_b);
    state_free(&s);
}

/* The newest is damaged by damage(); load must take the older one, say so, and replaying
 * from it must still give the full state. */
static void falls_back(void (*damage)(const char *path), const char *why)
{
    struct hand h;
    long long a, b, off_a;
    two_snapshots(&h, &a, &b, &off_a);
    char *newest = snap_name(b);
    damage(newest);
    struct state s;
    long long off;
    char *rep;
    cr_assert_eq(load(&s, &off, &rep), 1);
    cr_assert_eq(s.seq, a, "took seq %lld, not the older %lld", s.seq, a);
    cr_assert_eq(off, off_a);
    char want[512];
    snprintf(want, sizeof want, "%s: damaged (", newest);
    cr_assert(strncmp(rep, want, strlen(want)) == 0, "report: %s", rep);
    cr_assert(strstr(rep, why) != NULL, "report does not say \"%s\": %s", why, rep);
    cr_assert(strstr(rep, "; trying an older one\n") != NULL, "report: %s", rep);
    struct error err = { 0 };
    cr_assert_eq(journal_replay(g_log, off, apply_fn, &s, NULL, NULL, &err), 0, "%s", err.msg);
    struct state full;
    full_replay(&full);
    assert_same_state(&full, &s);
    state_free(&full);
    struct stat st;
    cr_assert_eq(stat(newest, &st), 0, "the damaged snapshot was deleted");
    free(rep);
    free(newest);
    state_free(&s);
    state_free(&h.s);
}

static void flip_byte(const char *path)
{
    size_t n;
    char *b = read_all(path, &n);
    b[n / 2] ^= 0x20;
    write_all(path, b, n);
    free(b);
}

static void truncate_half(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
}

static void empty(const char *path) { cr_assert_eq(truncate(path, 0), 0); }

static long long g_other_off;
static void mut_offset(cJSON *doc) { set(doc, "log_offset", cJSON_CreateNumber((double)g_other_off)); }
static void mut_seq_in_state(cJSON *doc) { set(cJSON_GetObjectItem(doc, "state"), "seq", cJSON_CreateNumber(3)); }
static void mut_log_crc(cJSON *doc) { set(doc, "log_crc", cJSON_CreateString("00000000")); }
static void mut_format(cJSON *doc) { set(doc, "format", cJSON_CreateNumber(SNAPSHOT_FORMAT + 1)); }
static void mut_state(cJSON *doc) { set(item(cJSON_GetObjectItem(doc, "state"), "matches", 0), "held", cJSON_CreateNumber(-2)); }
static void mut_mid(cJSON *doc) { set(doc, "log_offset", cJSON_CreateNumber((double)g_other_off + 5)); }

/* The log line before the snapshot's moves to another line's end: its seq no longer fits. */
static void wrong_line(const char *path)
{
    struct state s;
    g_other_off = replay_to(&s, 10);
    state_free(&s);
    reseal(path, mut_offset);
}
static void not_line_end(const char *path)
{
    struct state s;
    g_other_off = replay_to(&s, 10);
    state_free(&s);
    reseal(path, mut_mid);
}
static void wrong_log_crc(const char *path) { reseal(path, mut_log_crc); }
static void wrong_state_seq(const char *path) { reseal(path, mut_seq_in_state); }
static void other_format(const char *path) { reseal(path, mut_format); }
static void bad_state(const char *path) { reseal(path, mut_state); }
Test(snapshot, damaged_newest_falls_back_flipped_byte) { falls_back(flip_byte, "crc"); }
Test(snapshot, damaged_newest_falls_back_truncated) { falls_back(truncate_half, "one line ending in a newline"); }
Test(snapshot, damaged_newest_falls_back_empty) { falls_back(empty, "newline"); }
Test(snapshot, damaged_newest_falls_back_wrong_seq_for_log) { falls_back(wrong_line, "but the log line ending at offset"); }
Test(snapshot, damaged_newest_falls_back_offset_mid_line) { falls_back(not_line_end, "no log line ends at offset"); }
Test(snapshot, damaged_newest_falls_back_other_log) { falls_back(wrong_log_crc, "crc 00000000"); }
Test(snapshot, damaged_newest_falls_back_state_seq) { falls_back(wrong_state_seq, "its state is at seq 3"); }
Test(snapshot, damaged_newest_falls_back_format) { falls_back(other_format, "format 3"); }
Test(snapshot, damaged_newest_falls_back_bad_state) { falls_back(bad_state, "state.matches[0].held"); }

Test(snapshot, name_and_content_must_agree)
{
    struct hand h;
    long long a, b, off_a;
    two_snapshots(&h, &a, &b, &off_a);
    /* The newest copied under a newer name: its content says b, its name b + 3. */
    char *newest = snap_name(b), *fake = snap_name(b + 3);
    size_t n;
    char *buf = read_all(newest, &n);
    write_all(fake, buf, n);
    struct state s;
    long long off;
    char *rep;
    cr_assert_eq(load(&s, &off, &rep), 1);
    cr_assert_eq(s.seq, b);
    cr_assert(strstr(rep, "it says seq") != NULL, "report: %s", rep);
    free(rep);
    free(buf);
    free(newest);
    free(fake);
    state_free(&s);
    state_free(&h.s);
}

Test(snapshot, all_damaged_loads_nothing_and_leaves_the_state)
{
    struct hand h;
    long long a, b, off_a;
    two_snapshots(&h, &a, &b, &off_a);
    char *pa = snap_name(a), *pb = snap_name(b);
    flip_byte(pa);
    truncate_half(pb);
    struct state s;
    long long off;
    char *rep;
    cr_assert_eq(load(&s, &off, &rep), 0);
    cr_assert_eq(s.seq, 0);
    cr_assert_eq(s.n_people, 0);
    cr_assert_eq(off, -7);
    char *second = strchr(rep, '\n');
    cr_assert_not_null(second);
    cr_assert(strstr(rep, "trying an older one") < second, "report: %s", rep);
    cr_assert(strstr(second, "; replaying the whole log\n") != NULL, "report: %s", rep);
    free(rep);
    free(pa);
    free(pb);
    state_free(&h.s);
}

Test(snapshot, a_log_that_lost_its_lines_rejects_the_snapshot)
{
    struct hand h;
    hand_log(&h);
    struct stat st;
    cr_assert_eq(stat(g_log, &st), 0);
    write_snap(&h.s, (long long)st.st_size);
    /* The log is cut back (a fresh log, or an operator's restore): the snapshot is ahead. */
    struct state s;
    long long off10 = replay_to(&s, 10);
    state_free(&s);
    cr_assert_eq(truncate(g_log, off10), 0);
    long long off;
    char *rep;
    cr_assert_eq(load(&s, &off, &rep), 0);
    cr_assert(strstr(rep, "outside the log") != NULL, "report: %s", rep);
    free(rep);
    /* And no log at all. */
    cr_assert_eq(unlink(g_log), 0);
    cr_assert_eq(load(&s, &off, &rep), 0);
    cr_assert(strstr(rep, "no log") != NULL, "report: %s", rep);
    free(rep);
    state_free(&h.s);
}

Test(snapshot, older_snapshots_pruned_to_two_and_temps_removed)
{
    struct hand h;
    hand_log(&h);
    /* A temp file a crash left behind. */
    char *stale = snap_name(3), tmp[256];
    snprintf(tmp, sizeof tmp, "%s.tmp", stale);
    write_all(tmp, "{\"half", 6);
    const long long seqs[] = { 5, 12, 20, 31, 40 };
    for (int i = 0; i < 5; i++) {
        struct state s;
        long long off = replay_to(&s, seqs[i]);
        write_snap(&s, off);
        state_free(&s);
        char *files = snap_files();
        char want[256] = "";
        for (int k = i >= 1 ? i - 1 : 0; k <= i; k++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%ssnapshot-%012lld.json", want[0] ? " " : "",
                     seqs[k]);
        cr_assert_str_eq(files, want, "after writing seq %lld", seqs[i]);
        free(files);
    }
    struct state s;
    long long off;
    cr_assert_eq(load(&s, &off, NULL), 1);
    cr_assert_eq(s.seq, 40);
    state_free(&s);
    /* Writing the same seq again replaces it in place. */
    long long off40 = replay_to(&s, 40);
    write_snap(&s, off40);
    state_free(&s);
    char *files = snap_files();
    cr_assert_str_eq(files, "snapshot-000000000031.json snapshot-000000000040.json");
    free(files);
    free(stale);
    state_free(&h.s);
}

Test(snapshot, write_refuses_an_offset_that_does_not_fit)
{
    struct hand h;
    hand_log(&h);
    struct state s;
    struct error err = { 0 };
    long long off = replay_to(&s, 20);
    /* The state ahead of the committed log (events not yet committed). */
    cr_assert_eq(snapshot_write(g_dir, &h.s, off, &err), ERR_INPUT);
    cr_assert(strstr(err.msg, "commit pending events first") != NULL, "%s", err.msg);
    /* Not a line end, past the end, negative. */
    cr_assert_eq(snapshot_write(g_dir, &s, off - 3, &err), ERR_INPUT);
    cr_assert_eq(snapshot_write(g_dir, &s, 1LL << 40, &err), ERR_INPUT);
    cr_assert_eq(snapshot_write(g_dir, &s, -1, &err), ERR_INPUT);
    /* An empty state. */
    struct state empty_state;
    state_init(&empty_state);
    cr_assert_eq(snapshot_write(g_dir, &empty_state, 0, &err), ERR_INPUT);
    char *files = snap_files();
    cr_assert_str_eq(files, "", "a refused write left %s", files);
    free(files);
    /* No such directory (so no log either). */
    cr_assert_eq(snapshot_write("/nonexistent-tandem-dir", &s, off, &err), ERR_INPUT);
    cr_assert_eq(snapshot_write(g_dir, &s, off, &err), 0, "%s", err.msg);
    state_free(&s);
    state_free(&h.s);
}

Test(snapshot, short_write_leaves_no_file_and_keeps_the_old_ones)
{
    struct hand h;
    long long a, b, off_a;
    two_snapshots(&h, &a, &b, &off_a);
    struct stat st;
    cr_assert_eq(stat(g_log, &st), 0);
    char *before = snap_files();
    /* The file size limit cuts the write short (EFBIG after a partial write). */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = { 2000, 2000 };
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    struct error err = { 0 };
    cr_assert_eq(snapshot_write(g_dir, &h.s, (long long)st.st_size, &err), ERR_SYSTEM);
    cr_assert(strstr(err.msg, "cannot write the snapshot") != NULL, "%s", err.msg);
    char *after = snap_files();
    cr_assert_str_eq(after, before, "a failed write changed the snapshots");
    struct state s;
    long long off;
    cr_assert_eq(load(&s, &off, NULL), 1);
    cr_assert_eq(s.seq, b);
    free(before);
    free(after);
    state_free(&s);
    state_free(&h.s);
}

Test(snapshot, discard_removes_every_snapshot)
{
    struct hand h;
    long long a, b, off_a;
    two_snapshots(&h, &a, &b, &off_a);
    char *stale = snap_name(2), tmp[256];
    snprintf(tmp, sizeof tmp, "%s.tmp", stale);
    write_all(tmp, "x", 1);
    struct error err = { 0 };
    cr_assert_eq(snapshot_discard(g_dir, &err), 0, "%s", err.msg);
    char *files = snap_files();
    cr_assert_str_eq(files, "");
    free(files);
    struct stat st;
    cr_assert_eq(stat(g_log, &st), 0, "the log went too");
    char missing[128];
    snprintf(missing, sizeof missing, "%s/absent", g_dir);
    cr_assert_eq(snapshot_discard(missing, &err), 0);
    free(stale);
    state_free(&h.s);
}
