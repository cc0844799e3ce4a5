/* report_test: program health computed from a state built from hand-written events (the
 * same kind of helper as state_test), checked number by number against what the events
 * say, and the text rendering checked against the JSON and the 100-column promise. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     /* open_memstream */
#endif
#include <criterion/criterion.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report.h"
#include "state.h"

/* ---- building a state from events ------------------------------------------------------- */

/* Every event a test applies is fed through the report's accumulator (each Criterion test runs
 * in its own process, so one accumulator per file is one per test). */
static struct report R;
static struct report_options RO;

static void fresh(struct state *s)
{
    state_init(s);
    report_init(&R, &RO);
}

/* Applies {"seq":next,"ts":TS,"type":TYPE,<body>} (body JSON written with ' for "). */
static void ok(struct state *s, const char *ts, const char *type, const char *fmt, ...)
{
    char body[4096], line[4608];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    for (char *c = body; *c; c++)
        if (*c == '\'')
            *c = '"';
    snprintf(line, sizeof line, "{\"seq\":%lld,\"ts\":\"%s\",\"type\":\"%s\"%s%s}", s->seq + 1, ts, type,
             body[0] ? "," : "", body);
    cJSON *ev = cJSON_Parse(line);
    cr_assert_not_null(ev, "not JSON: %s", line);
    struct error err = { 0 };
    int rc = report_feed(&R, s, ev, &err);
    cr_assert(rc == 0 || rc == 1, "refused %s: %s", line, err.msg);
    cJSON_Delete(ev);
}

static const char *PROGRAM_FMT =
    "{'name':'%s','model':'one_to_one','term':'6mo','cadence':'2w','review_every':'3mo',"
    "'match_every':'1w','objective':'coverage','approve':false,'prompts':[]}";

static void rules(struct state *s, const char *file, const char *priorities, const char *const *names, int n)
{
    char progs[2048] = "";
    for (int i = 0; i < n; i++) {
        char one[512];
        snprintf(one, sizeof one, PROGRAM_FMT, names[i]);
        strcat(progs, i ? "," : "");
        strcat(progs, one);
    }
    ok(s, "2027-01-01T00:00:00Z", "rules", "'phase':'loaded','file':'%s','sha256':'00','priorities':[%s],"
       "'programs':[%s]", file, priorities, progs);
}

static void match(struct state *s, const char *ts, int id, const char *prog, const char *mentor,
                  const char *mentee)
{
    ok(s, ts, "match", "'match':%d,'phase':'active','program':'%s','model':'one_to_one','mentors':['%s'],"
       "'mentees':['%s'],'score':1,'why':{},'term_ends':'2027-07-01T00:00:00Z'", id, prog, mentor, mentee);
}

/* The scenario every JSON test reads. Expected numbers are written next to the events. */
static void scenario(struct state *s)
{
    fresh(s);
    const char *names[] = { "core", "stretch", "quiet" };
    rules(s, "acme.lua", "'development','inclusion'", names, 3);
    const char *people[] = { "boss", "m1", "m2", "e1", "e2", "e3", "e4" };
    for (int i = 0; i < 7; i++)
        ok(s, "2027-01-01T00:00:00Z", "person", "'phase':'added','person':{'id':'%s'}", people[i]);
    /* core: 2 mentors, 3 mentees; stretch: 1 and 1; quiet: none. */
    ok(s, "2027-01-01T00:00:00Z", "enroll", "'person':'m1','program':'core','role':'mentor'");
    ok(s, "2027-01-01T00:00:00Z", "enroll", "'person':'m2','program':'core','role':'mentor'");
    ok(s, "2027-01-01T00:00:00Z", "enroll", "'person':'e1','program':'core','role':'mentee'");
    ok(s, "2027-01-01T00:00:00Z", "enroll", "'person':'e2','program':'core','role':'mentee'");
    ok(s, "2027-01-01T00:00:00Z", "enroll", "'person':'e3','program':'core','role':'mentee'");
    ok(s, "2027-01-01T00:00:00Z", "enroll", "'person':'boss','program':'stretch','role':'mentor'");
    ok(s, "2027-01-01T00:00:00Z", "enroll", "'person':'e4','program':'stretch','role':'mentee'");

    match(s, "2027-01-01T00:00:00Z", 1, "core", "m2", "e1");
    match(s, "2027-01-01T00:00:00Z", 2, "core", "m1", "e2");
    match(s, "2027-01-01T00:00:00Z", 3, "stretch", "boss", "e4");
    ok(s, "2027-01-01T00:00:00Z", "goal", "'match':1,'goal':1,'phase':'set','text':'a'");
    ok(s, "2027-01-01T00:00:00Z", "goal", "'match':3,'goal':2,'phase':'set','text':'b'");
    /* core: held 3 (2 on match 1, 1 on match 2), missed 1; stretch: missed 1. */
    ok(s, "2027-01-15T00:00:00Z", "meeting", "'match':1,'phase':'held','at':'2027-01-15T00:00:00Z'");
    ok(s, "2027-01-15T00:00:00Z", "meeting", "'match':2,'phase':'held','at':'2027-01-15T00:00:00Z'");
    ok(s, "2027-01-15T00:00:00Z", "meeting", "'match':3,'phase':'missed','at':'2027-01-15T00:00:00Z'");
    ok(s, "2027-01-29T00:00:00Z", "meeting", "'match':1,'phase':'missed','at':'2027-01-29T00:00:00Z'");
    ok(s, "2027-02-12T00:00:00Z", "meeting", "'match':1,'phase':'held','at':'2027-02-12T00:00:00Z'");
    ok(s, "2027-02-12T00:00:00Z", "meeting", "'match':2,'phase':'cancelled','at':'2027-02-12T00:00:00Z'");
    /* feedback: core 4 and 5 (avg 4.5), stretch 2; total (4+5+2)/3 = 3.67. */
    ok(s, "2027-04-01T00:00:00Z", "feedback", "'match':1,'from':'e1','rating':4");
    ok(s, "2027-04-01T00:00:00Z", "feedback", "'match':1,'from':'m2','rating':5");
    ok(s, "2027-04-01T00:00:00Z", "feedback", "'match':3,'from':'e4','rating':2");
    ok(s, "2027-04-01T00:00:00Z", "review", "'match':1,'n':1,'meetings_held':2,'meetings_missed':1");
    ok(s, "2027-04-01T00:00:00Z", "goal", "'match':1,'goal':1,'phase':'achieved'");
    ok(s, "2027-04-01T00:00:00Z", "goal", "'match':3,'goal':2,'phase':'progress'");
    /* flags: one on match 1 (core), one on person e4 (totals only). */
    ok(s, "2027-04-01T00:00:00Z", "flag", "'match':1,'reason':'stagnant','rule':'acme.lua:40'");
    ok(s, "2027-04-01T00:00:00Z", "flag", "'person':'e4','reason':'watch','rule':'acme.lua:41'");
    /* match 3 closed by a rule; match 1 renewed; match 2 completed at re-up. */
    ok(s, "2027-05-01T00:00:00Z", "close", "'match':3,'reason':'rule','text':'never met','rule':'acme.lua:50'");
    ok(s, "2027-07-01T00:00:00Z", "reup", "'match':1,'phase':'open','term_ends':'2027-07-01T00:00:00Z'");
    ok(s, "2027-07-01T00:00:00Z", "reup", "'match':1,'phase':'decided','decisions':{'m2':'renew','e1':'renew'},"
       "'outcome':'renew','term_ends':'2028-01-01T00:00:00Z'");
    ok(s, "2027-07-01T00:00:00Z", "reup", "'match':2,'phase':'open','term_ends':'2027-07-01T00:00:00Z'");
    ok(s, "2027-07-01T00:00:00Z", "reup", "'match':2,'phase':'decided','decisions':{'m1':'exit','e2':'exit'},"
       "'outcome':'close'");
    ok(s, "2027-07-01T00:00:00Z", "close", "'match':2,'reason':'completed'");
    ok(s, "2027-07-02T00:00:00Z", "note", "'text':'pair renewed','fields':{'match':1}");
    ok(s, "2027-07-02T00:00:00Z", "note", "'text':'another'");
    ok(s, "2027-07-03T00:00:00Z", "rule.error", "'rule':'acme.lua:60','cause':3,'message':'boom'");
    ok(s, "2027-07-04T00:00:00Z", "person", "'phase':'left','person':{'id':'e3'}");
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    cr_assert(cJSON_IsNumber(v), "\"%s\" is not a number", k);
    return v->valuedouble;
}

static const cJSON *program(const cJSON *r, const char *name)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r, "programs")) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return p;
    }
    cr_assert_fail("no program %s in the report", name);
    return NULL;
}

struct expect {
    const char *name;
    double mentors, mentees, matches, live, held, missed, reviews, renewed, reup_closed, goals, achieved, flags;
    double feedback;   /* NAN: null */
};

static void check_program(const cJSON *r, const struct expect *x)
{
    const cJSON *p = program(r, x->name);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p, "model")->valuestring, "one_to_one");
    const char *k[] = { "mentors", "mentees", "matches", "live", "meetings_held", "meetings_missed", "reviews",
                        "reups_renewed", "reups_closed", "goals_set", "goals_achieved", "flags" };
    const double v[] = { x->mentors, x->mentees, x->matches, x->live, x->held, x->missed, x->reviews,
                         x->renewed, x->reup_closed, x->goals, x->achieved, x->flags };
    for (int i = 0; i < 12; i++)
        cr_assert_eq(num(p, k[i]), v[i], "%s.%s = %g, expected %g", x->name, k[i], num(p, k[i]), v[i]);
    const cJSON *fb = cJSON_GetObjectItemCaseSensitive(p, "feedback_avg");
    if (isnan(x->feedback))
        cr_assert(cJSON_IsNull(fb), "%s.feedback_avg is null without feedback", x->name);
    else
        cr_assert_float_eq(num(p, "feedback_avg"), x->feedback, 1e-9, "%s.feedback_avg", x->name);
}

/* ---- JSON ------------------------------------------------------------------------------- */

Test(report, json_per_program_numbers)
{
    struct state s;
    scenario(&s);
    cJSON *r = report_json(&R, &s);
    cr_assert_not_null(r);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "programs")), 3);
    const struct expect core = { "core", 2, 3, 2, 1, 3, 1, 1, 1, 1, 1, 1, 1, 4.5 };
    const struct expect stretch = { "stretch", 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 2.0 };
    const struct expect quiet = { "quiet", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NAN };
    check_program(r, &core);
    check_program(r, &stretch);
    check_program(r, &quiet);
    cJSON_Delete(r);
    state_free(&s);
    report_free(&R);
}

Test(report, json_totals_and_header)
{
    struct state s;
    scenario(&s);
    cJSON *r = report_json(&R, &s);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "as_of")->valuestring, "2027-07-04T00:00:00Z");
    cr_assert_eq(num(r, "events"), (double)s.seq);
    cr_assert_eq(num(r, "events"), 44);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "rules")->valuestring, "acme.lua");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(r, "priorities");
    cr_assert_eq(cJSON_GetArraySize(pr), 2);
    cr_assert_str_eq(cJSON_GetArrayItem(pr, 0)->valuestring, "development");
    cr_assert_eq(num(r, "people"), 6, "7 added, 1 left");

    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "totals");
    cr_assert_not_null(t);
    const char *k[] = { "matches", "live", "meetings_held", "meetings_missed", "reviews", "reups_renewed",
                        "reups_closed", "goals_set", "goals_achieved", "flags", "notes", "rule_errors" };
    const double v[] = { 3, 1, 3, 2, 1, 1, 1, 2, 1, 2, 2, 1 };
    for (int i = 0; i < 12; i++)
        cr_assert_eq(num(t, k[i]), v[i], "totals.%s = %g, expected %g", k[i], num(t, k[i]), v[i]);
    cr_assert_float_eq(num(t, "feedback_avg"), 3.67, 1e-9, "11/3 rounded to two places");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(t, "closed_by_reason");
    const char *reasons[] = { "completed", "exited", "rotated", "cancelled", "left", "stalled", "rule" };
    const double closes[] = { 1, 0, 0, 0, 0, 0, 1 };
    cr_assert_eq(cJSON_GetArraySize(c), 7);
    for (int i = 0; i < 7; i++)
        cr_assert_eq(num(c, reasons[i]), closes[i], "closed_by_reason.%s", reasons[i]);
    cJSON_Delete(r);
    state_free(&s);
    report_free(&R);
}

Test(report, json_totals_agree_with_programs)
{
    struct state s;
    scenario(&s);
    cJSON *r = report_json(&R, &s);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "totals");
    const char *k[] = { "matches", "live", "meetings_held", "meetings_missed", "reviews", "reups_renewed",
                        "reups_closed", "goals_set", "goals_achieved" };
    for (int i = 0; i < 9; i++) {
        double sum = 0;
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r, "programs"))
            sum += num(p, k[i]);
        cr_assert_eq(sum, num(t, k[i]), "programs' %s add up to %g, totals say %g", k[i], sum, num(t, k[i]));
    }
    cJSON_Delete(r);
    state_free(&s);
    report_free(&R);
}

Test(report, json_of_an_empty_state)
{
    struct state s;
    fresh(&s);
    cJSON *r = report_json(&R, &s);
    cr_assert_eq(num(r, "events"), 0);
    cr_assert_eq(num(r, "people"), 0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "programs")), 0);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "totals");
    cr_assert_eq(num(t, "matches"), 0);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(t, "feedback_avg")));
    cJSON_Delete(r);
    state_free(&s);
    report_free(&R);
}

/* ---- text ------------------------------------------------------------------------------- */

static char *text_of(const struct state *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cJSON *j = report_json(&R, s);
    report_text(j, f);
    cJSON_Delete(j);
    fclose(f);
    cr_assert_gt(len, 0);
    return buf;
}

/* The widest line, in columns (the report is ASCII unless names are not). */
static size_t widest(const char *text, char *which, size_t which_len)
{
    size_t best = 0;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n > best) {
            best = n;
            snprintf(which, which_len, "%.*s", (int)n, line);
        }
        line += n + (nl != NULL);
    }
    return best;
}

static const char *line_starting(const char *text, const char *prefix)
{
    for (const char *line = text; line && *line;) {
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            return line;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    cr_assert_fail("no line starting with \"%s\" in:\n%s", prefix, text);
    return NULL;
}

Test(report, text_agrees_with_json)
{
    struct state s;
    scenario(&s);
    char *t = text_of(&s);
    cr_assert(strstr(t, "tandem report as of 2027-07-04T00:00:00Z (44 events)\n"), "%s", t);
    cr_assert(strstr(t, "\nrules: acme.lua\n"));
    cr_assert(strstr(t, "\npriorities: development inclusion\n"));
    cr_assert(strstr(t, "\npeople: 6\n"));

    /* Program rows: name, model, then the twelve numbers as in the JSON. */
    char name[32], model[32];
    double v[10];
    const char *row = line_starting(t, "core ");
    cr_assert_eq(sscanf(row, "%31s %31s %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", name, model, &v[0], &v[1],
                        &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]), 12);
    const double core[] = { 2, 3, 2, 1, 3, 1, 1, 1, 1, 1 };
    for (int i = 0; i < 10; i++)
        cr_assert_eq(v[i], core[i], "core column %d", i + 3);
    row = line_starting(t, "stretch ");
    cr_assert_eq(sscanf(row, "%31s %31s %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", name, model, &v[0], &v[1],
                        &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]), 12);
    const double stretch[] = { 1, 1, 1, 0, 0, 1, 0, 0, 0, 0 };
    for (int i = 0; i < 10; i++)
        cr_assert_eq(v[i], stretch[i], "stretch column %d", i + 3);

    double a, b, c, d, e;
    cr_assert_eq(sscanf(line_starting(t, "matches "), "matches %lf (live %lf)   meetings held %lf, missed %lf"
                        "   reviews %lf", &a, &b, &c, &d, &e), 5);
    cr_assert(a == 3 && b == 1 && c == 3 && d == 2 && e == 1);
    char fb[16];
    cr_assert_eq(sscanf(line_starting(t, "re-ups "), "re-ups renewed %lf, closed %lf   goals set %lf, achieved %lf"
                        "   feedback avg %15s", &a, &b, &c, &d, fb), 5);
    cr_assert(a == 1 && b == 1 && c == 2 && d == 1);
    cr_assert_str_eq(fb, "3.67");
    cr_assert_eq(sscanf(line_starting(t, "flags "), "flags %lf   notes %lf   rule errors %lf", &a, &b, &c), 3);
    cr_assert(a == 2 && b == 2 && c == 1);
    const char *closed = line_starting(t, "closed by reason:");
    cr_assert_eq(strncmp(closed, "closed by reason: completed 1 rule 1\n", 37), 0,
                 "only reasons that happened, in order: %.60s", closed);
    free(t);
    state_free(&s);
    report_free(&R);
}

Test(report, text_of_an_empty_state)
{
    struct state s;
    fresh(&s);
    char *t = text_of(&s);
    cr_assert(strstr(t, "(0 events)"));
    cr_assert(strstr(t, "feedback avg -\n"), "no feedback prints -: %s", t);
    cr_assert_null(strstr(t, "rules:"), "no rules line without rules");
    cr_assert_null(strstr(t, "priorities:"));
    free(t);
    state_free(&s);
    report_free(&R);
}

Test(report, text_truncates_long_program_names)
{
    struct state s;
    fresh(&s);
    const char *names[] = { "a_program_name_much_longer_than_sixteen_characters" };
    rules(&s, "r.lua", "", names, 1);
    char *t = text_of(&s);
    cr_assert(strstr(t, "\na_program_name one_to_one "), "the name column is cut at 14: %s", t);
    cr_assert_null(strstr(t, "a_program_name_"));
    free(t);
    state_free(&s);
    report_free(&R);
}

/* BUG (core/report.c report_text): the program table's header and rows are 102 columns wide
 * (column widths 16+12+7+7+7+5+6+6+7+7+6+5 = 91 plus 11 separators), over the 100 columns
 * report.h promises, in every report. Narrowing the name column to 14 fixes it. */
Test(report, text_lines_at_most_100_columns)
{
    struct state s;
    scenario(&s);
    char *t = text_of(&s);
    char line[512];
    size_t w = widest(t, line, sizeof line);
    cr_assert_leq(w, 100, "a line of %zu columns: \"%s\"", w, line);
    free(t);
    state_free(&s);
    report_free(&R);
}

/* BUG (core/report.c report_text): the rules, priorities and "closed by reason" lines have no
 * width bound: a rule file path over 93 characters, three long priorities, or every close
 * reason counted in the thousands (17 + 7 reasons x ~12 columns) print lines over 100 columns.
 * Cut the path from the left (".../acme.lua") and wrap the reasons over two lines. */
Test(report, text_long_values_stay_within_100_columns)
{
    struct state s;
    fresh(&s);
    const char *names[] = { "core" };
    char path[160];
    memset(path, 'd', 130);
    strcpy(path + 130, "/acme.lua");
    rules(&s, path, "'development_of_everyone','inclusion_of_everyone','career_of_everyone'", names, 1);
    for (int i = 0; i < 7; i++)
        R.total.closes_by_reason[i] = 123456;   /* a large organization over some years */
    char *t = text_of(&s);
    char line[512];
    size_t w = widest(t, line, sizeof line);
    cr_assert_leq(w, 100, "a line of %zu columns: \"%s\"", w, line);
    free(t);
    state_free(&s);
    report_free(&R);
}

Test(report, text_lines_except_the_table_fit_100_columns)
{
    /* The part of the promise that holds today: every line but the program table. */
    struct state s;
    scenario(&s);
    for (int i = 0; i < 7; i++)
        R.total.closes_by_reason[i] = 99;
    char *t = text_of(&s);
    for (const char *line = t; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        bool table = strncmp(line, "program ", 8) == 0 || strncmp(line, "core ", 5) == 0 ||
                     strncmp(line, "stretch ", 8) == 0 || strncmp(line, "quiet ", 6) == 0;
        if (!table)
            cr_assert_leq(n, 100, "%.*s", (int)n, line);
        line += n + (nl != NULL);
    }
    free(t);
    state_free(&s);
    report_free(&R);
}

/* ---- windows, filters and the measures read from events ---------------------------------- */

static tdm_time at(const char *ts)
{
    tdm_time t;
    cr_assert_eq(time_parse(ts, &t), 0);
    return t;
}

static const cJSON *obj(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    cr_assert_not_null(v, "no \"%s\"", k);
    return v;
}

Test(report, window_counts_only_events_inside_it)
{
    RO.since = at("2027-02-01");
    RO.until = at("2027-07-01");   /* exclusive: the re-ups of 1 July are not in it */
    struct state s;
    scenario(&s);
    cJSON *r = report_json(&R, &s);
    cr_assert_str_eq(obj(r, "as_of")->valuestring, "2027-05-01T00:00:00Z", "the state stops at the window's end");
    cr_assert_str_eq(obj(r, "since")->valuestring, "2027-02-01T00:00:00Z");
    cr_assert_eq(num(r, "events_in_window"), 11);
    const cJSON *t = obj(r, "totals");
    const char *k[] = { "matches", "meetings_held", "meetings_missed", "meetings_cancelled", "reviews",
                        "goals_set", "goals_achieved", "flags", "reups_renewed", "reups_closed", "live" };
    const double v[] = { 0, 1, 0, 1, 1, 0, 1, 2, 0, 0, 2 };
    for (int i = 0; i < 11; i++)
        cr_assert_eq(num(t, k[i]), v[i], "totals.%s = %g, expected %g", k[i], num(t, k[i]), v[i]);
    cr_assert_eq(num(obj(t, "closed_by_reason"), "rule"), 1);
    cr_assert_eq(num(obj(t, "closed_by_reason"), "completed"), 0);
    /* Flows inside the window, stocks at its end: matches 1 and 2 were live in it. */
    cr_assert_float_eq(num(program(r, "core"), "held_per_match"), 0.5, 1e-9);
    cJSON_Delete(r);
    state_free(&s);
    report_free(&R);
}

Test(report, program_filter_keeps_one_program)
{
    RO.program = "stretch";
    struct state s;
    scenario(&s);
    cJSON *r = report_json(&R, &s);
    cr_assert_eq(cJSON_GetArraySize(obj(r, "programs")), 1);
    cr_assert_str_eq(obj(r, "program")->valuestring, "stretch");
    const cJSON *t = obj(r, "totals");
    cr_assert_eq(num(t, "matches"), 1);
    cr_assert_eq(num(t, "mentors"), 1);
    cr_assert_eq(num(t, "mentees"), 1);
    cr_assert_eq(num(t, "meetings_missed"), 1);
    cr_assert_eq(num(t, "flags"), 0, "a person's flag belongs to no program");
    cr_assert_eq(num(t, "notes"), 0);
    cr_assert_eq(num(t, "rule_errors"), 0, "the rule error's cause (seq 3) is a person event");
    cr_assert_float_eq(num(t, "feedback_avg"), 2.0, 1e-9);
    cr_assert_eq(cJSON_GetArraySize(obj(r, "models")), 1);
    cJSON_Delete(r);
    state_free(&s);
    report_free(&R);
}

Test(report, feedback_both_ways_matched_share_and_renew_rate)
{
    struct state s;
    scenario(&s);
    cJSON *r = report_json(&R, &s);
    const cJSON *t = obj(r, "totals");
    cr_assert_float_eq(num(t, "feedback_from_mentees"), 3.0, 1e-9, "e1 4, e4 2");
    cr_assert_float_eq(num(t, "feedback_from_mentors"), 5.0, 1e-9, "m2 5");
    cr_assert(cJSON_IsNull(obj(t, "feedback_program")));
    const cJSON *core = program(r, "core");
    cr_assert_float_eq(num(core, "feedback_from_mentees"), 4.0, 1e-9);
    cr_assert_eq(num(core, "matched_mentees"), 2, "e1 and e2; e3 waits");
    cr_assert_float_eq(num(core, "matched_share"), 0.667, 1e-9);
    cr_assert_float_eq(num(core, "renew_rate"), 0.5, 1e-9, "one renewed, one closed");
    cr_assert_eq(num(t, "reups_opened"), 2);
    const cJSON *fu = obj(r, "reup_funnel");
    cr_assert(num(fu, "opened") == 2 && num(fu, "decided") == 2 && num(fu, "renewed") == 1);
    cJSON_Delete(r);
    state_free(&s);
    report_free(&R);
}

Test(report, time_to_match_stalled_flagged_and_weeks)
{
    struct state s;
    scenario(&s);
    /* e3 (enrolled 1 January) is matched on 11 July: 191 days; then the match stalls. */
    match(&s, "2027-07-11T00:00:00Z", 4, "core", "m1", "e3");
    ok(&s, "2027-07-12T00:00:00Z", "flag", "'match':4,'reason':'quiet','rule':'acme.lua:40'");
    ok(&s, "2027-07-13T00:00:00Z", "flag", "'match':4,'reason':'quieter','rule':'acme.lua:40'");
    ok(&s, "2027-07-14T00:00:00Z", "close", "'match':4,'reason':'stalled'");
    ok(&s, "2027-07-14T00:00:00Z", "survey", "'match':4");
    cJSON *r = report_json(&R, &s);
    const cJSON *core = program(r, "core");
    const cJSON *w = obj(core, "time_to_match_days");
    cr_assert_eq(num(w, "n"), 3);
    cr_assert_float_eq(num(w, "median"), 0, 1e-9);
    cr_assert_float_eq(num(w, "mean"), 63.7, 1e-9, "(0 + 0 + 191) / 3");
    cr_assert_eq(num(core, "stalled"), 1);
    cr_assert_eq(num(core, "flagged_matches"), 2, "matches 1 and 4, each once");
    cr_assert_eq(num(core, "flags"), 3);
    cr_assert_eq(num(obj(r, "totals"), "matches"), 4);
    cr_assert_eq(num(r, "events_unknown"), 1, "a newer engine's survey event is skipped, not fatal");
    /* Weeks from 1 January: the 15 January meetings are in the third. */
    const cJSON *weeks = obj(r, "weeks");
    cr_assert_str_eq(obj(cJSON_GetArrayItem(weeks, 2), "week")->valuestring, "2027-01-15");
    cr_assert_eq(num(cJSON_GetArrayItem(weeks, 2), "held"), 2);
    cr_assert_eq(num(cJSON_GetArrayItem(weeks, 2), "missed"), 1);
    cr_assert_eq(num(cJSON_GetArrayItem(weeks, 0), "live"), 3);
    cr_assert_eq(num(cJSON_GetArrayItem(weeks, 0), "started"), 3);
    long long stalled = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, weeks)
        stalled += (long long)num(it, "stalled");
    cr_assert_eq(stalled, 1);
    cr_assert_eq(cJSON_GetArraySize(weeks), 28, "1 January to 14 July");
    cJSON_Delete(r);
    state_free(&s);
    report_free(&R);
}

Test(report, pairing_shares_read_departments_and_answers)
{
    struct state s;
    fresh(&s);
    const char *names[] = { "p" };
    rules(&s, "r.lua", "'inclusion'", names, 1);
    ok(&s, "2027-01-01T00:00:00Z", "person", "'phase':'added','person':{'id':'a','department':'X','level':8,"
       "'attrs':{'q_bg':'eng'}}");
    ok(&s, "2027-01-01T00:00:00Z", "person", "'phase':'added','person':{'id':'b','department':'Y','level':3,"
       "'attrs':{'q_bg':'art'}}");
    ok(&s, "2027-01-01T00:00:00Z", "person", "'phase':'added','person':{'id':'c','department':'X','level':7}");
    ok(&s, "2027-01-01T00:00:00Z", "person", "'phase':'added','person':{'id':'d','department':'X','level':6,"
       "'attrs':{'q_bg':'eng'}}");
    match(&s, "2027-01-01T00:00:00Z", 1, "p", "a", "b");   /* cross, diverse, career */
    match(&s, "2027-01-01T00:00:00Z", 2, "p", "c", "d");   /* same department, no shared answer */
    cJSON *r = report_json(&R, &s);
    const cJSON *t = obj(r, "totals");
    cr_assert_float_eq(num(t, "cross_department_share"), 0.5, 1e-9);
    cr_assert_float_eq(num(t, "diversity_share"), 0.5, 1e-9);
    cr_assert_float_eq(num(cJSON_GetArrayItem(obj(r, "by_priority"), 0), "value"), 0.5, 1e-9);
    cJSON_Delete(r);
    state_free(&s);
    report_free(&R);
}
