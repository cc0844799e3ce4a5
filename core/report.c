/* report: program health from the event log. Flows are counted from events inside the window
 * as they are replayed; stocks (enrolment, live matches, pairings) are read from the state at
 * the window's end. Text is rendered from the JSON object, so the formats never disagree. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

#define WEEK (7 * 86400LL)
#define MAX_WEEKS 5300                   /* about a hundred years: a bound, not a limit in practice */

/* ---- growing arrays -------------------------------------------------------------------- */

/* Grows *v (of *n elements of size sz) to at least want, zero-filling; -1 when out of memory. */
static int grow_to(void *v, int *n, int want, size_t sz)
{
    if (want <= *n)
        return 0;
    int cap = *n ? *n : 16;
    while (cap < want)
        cap *= 2;
    char *p = realloc(*(void **)v, (size_t)cap * sz);
    if (!p)
        return -1;
    memset(p + (size_t)*n * sz, 0, (size_t)(cap - *n) * sz);
    *(void **)v = p;
    *n = cap;
    return 0;
}

static int add_wait(struct report_tally *t, double days)
{
    if (t->n_waits == t->cap_waits) {
        long long cap = t->cap_waits ? t->cap_waits * 2 : 64;
        double *w = realloc(t->waits, (size_t)cap * sizeof *w);
        if (!w)
            return -1;
        t->waits = w;
        t->cap_waits = cap;
    }
    t->waits[t->n_waits++] = days;
    return 0;
}

void report_init(struct report *r, const struct report_options *o)
{
    memset(r, 0, sizeof *r);
    if (o)
        r->o = *o;
    r->origin = r->o.since;
    r->cur_week = r->o.since ? 0 : -1;
}

void report_free(struct report *r)
{
    for (int i = 0; i < r->n_progs; i++)
        free(r->progs[i].waits);
    free(r->total.waits);
    free(r->progs);
    free(r->matches);
    free(r->enrols);
    free(r->seq_program);
    free(r->weeks);
    memset(r, 0, sizeof *r);
}

/* ---- feeding --------------------------------------------------------------------------- */

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool number(const cJSON *o, const char *k, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v))
        return false;
    *out = v->valuedouble;
    return true;
}

/* The program an event is about, or -1 (a person's flag, a note, the rules). */
static int event_program(const struct report *r, const struct state *s, const cJSON *ev, const char *type)
{
    const char *name = str(ev, "program");
    if (name)
        return state_program(s, name);
    double id;
    if (number(ev, "match", &id)) {
        const struct match *m = state_match(s, (long long)id);
        return m ? m->program : -1;
    }
    if (strcmp(type, "rule.error") == 0 && number(ev, "cause", &id) && id >= 1 && id < (double)r->n_seq)
        return r->seq_program[(long long)id];
    return -1;
}

static bool counted(const struct report *r, const struct state *s, int prog)
{
    return !r->o.program || (prog >= 0 && strcmp(s->programs[prog].name, r->o.program) == 0);
}

static bool lead_role(enum role role)
{
    return role == ROLE_MENTOR || role == ROLE_LEADER;
}

/* Live and flagged-live matches now: the end of the week in hand. */
static void close_week(struct report *r, const struct state *s)
{
    if (r->cur_week >= 0 && r->cur_week < r->n_weeks) {
        struct report_week *w = &r->weeks[r->cur_week];
        w->live = w->flagged_live = 0;
        for (int i = 0; i < s->n_matches; i++) {
            const struct match *m = &s->matches[i];
            if (m->phase != MATCH_ACTIVE || !counted(r, s, m->program))
                continue;
            w->live++;
            w->flagged_live += m->flags > 0;
        }
    }
    r->cur_week++;
}

/* Moves the weekly series up to the week of ts (closing the weeks before it). */
static int advance_weeks(struct report *r, const struct state *s, tdm_time ts)
{
    if (r->cur_week < 0) {
        r->origin = ts - ((ts % 86400) + 86400) % 86400;   /* that day's midnight */
        r->cur_week = 0;
    }
    long long w = (ts - r->origin) / WEEK;
    if (w >= MAX_WEEKS)
        w = MAX_WEEKS - 1;
    if (grow_to(&r->weeks, &r->n_weeks, (int)w + 1, sizeof *r->weeks) < 0)
        return -1;
    while (r->cur_week < w)
        close_week(r, s);
    return 0;
}

static void count_event(struct report_tally *t, const struct state *s, struct report *r, const cJSON *ev,
                        const char *type, int new_matches)
{
    const char *phase = str(ev, "phase");
    double id = 0;
    number(ev, "match", &id);
    if (strcmp(type, "match") == 0) {
        t->matches += new_matches;
    } else if (strcmp(type, "meeting") == 0 && phase) {
        t->held += strcmp(phase, "held") == 0;
        t->missed += strcmp(phase, "missed") == 0;
        t->cancelled += strcmp(phase, "cancelled") == 0;
    } else if (strcmp(type, "review") == 0) {
        t->reviews++;
    } else if (strcmp(type, "goal") == 0 && phase) {
        t->goals_set += strcmp(phase, "set") == 0;
        t->goals_achieved += strcmp(phase, "achieved") == 0;
        t->goals_dropped += strcmp(phase, "dropped") == 0;
    } else if (strcmp(type, "feedback") == 0) {
        double rating;
        if (!number(ev, "rating", &rating))
            return;
        t->fb_sum[REPORT_FB_ALL] += rating;
        t->fb_n[REPORT_FB_ALL]++;
        const struct match *m = id > 0 ? state_match(s, (long long)id) : NULL;
        int way = -1;
        if (m) {
            int who = match_party(m, state_person(s, str(ev, "from")));
            if (who >= 0)
                way = who < m->n_mentors ? REPORT_FB_MENTORS : REPORT_FB_MENTEES;
        } else if (str(ev, "program")) {
            way = REPORT_FB_PROGRAM;
        }
        if (way >= 0) {
            t->fb_sum[way] += rating;
            t->fb_n[way]++;
        }
    } else if (strcmp(type, "reup") == 0 && phase) {
        const char *outcome = str(ev, "outcome");
        t->reups_opened += strcmp(phase, "open") == 0;
        t->reups_answered += strcmp(phase, "answered") == 0;
        if (strcmp(phase, "decided") == 0 && outcome) {
            t->reups_renewed += strcmp(outcome, "renew") == 0;
            t->reups_closed += strcmp(outcome, "renew") != 0;
        }
    } else if (strcmp(type, "close") == 0) {
        const char *reason = str(ev, "reason");
        int i = 0;
        while (close_reasons[i] && !(reason && strcmp(reason, close_reasons[i]) == 0))
            i++;
        t->closes++;
        t->closes_by_reason[i < 7 ? i : 7]++;
    } else if (strcmp(type, "flag") == 0) {
        t->flags++;
        if (id >= 1 && id <= r->n_matches && !r->matches[(long long)id - 1].flagged)
            t->flagged_matches++;   /* the caller marks the match once every tally has seen it */
    } else if (strcmp(type, "note") == 0) {
        t->notes++;
    } else if (strcmp(type, "rule.error") == 0) {
        t->rule_errors++;
    } else if (strcmp(type, "intro") == 0) {
        t->intros++;
    }
    /* Any other type (a newer engine's) is not counted, and not an error. */
}

static void count_week(struct report_week *w, const cJSON *ev, const char *type, int new_matches)
{
    const char *phase = str(ev, "phase");
    if (strcmp(type, "meeting") == 0 && phase) {
        w->held += strcmp(phase, "held") == 0;
        w->missed += strcmp(phase, "missed") == 0;
    } else if (strcmp(type, "match") == 0) {
        w->started += new_matches;
    } else if (strcmp(type, "close") == 0) {
        w->closes++;
        const char *reason = str(ev, "reason");
        w->stalled += reason && strcmp(reason, "stalled") == 0;
    } else if (strcmp(type, "flag") == 0) {
        w->flags++;
    }
}

/* A new match: its parties' enrolments in the program are matched; a mentee's first match
 * gives their time to match. */
static int note_match(struct report *r, const struct state *s, const struct match *m, tdm_time ts, bool in)
{
    int parties = m->n_mentors + m->n_mentees;
    for (int a = 0; a < parties; a++) {
        int person = a < m->n_mentors ? m->mentors[a] : m->mentees[a - m->n_mentors];
        const struct idlist *l = &s->people[person].enrollments;
        for (int i = 0; i < l->n; i++) {
            const struct enrollment *e = &s->enrollments[l->v[i]];
            struct report_enrol *re = &r->enrols[l->v[i]];
            if (e->program != m->program || lead_role(e->role) != (a < m->n_mentors) || re->matched)
                continue;
            re->matched = true;
            if (!in || lead_role(e->role) || !counted(r, s, m->program))
                continue;
            double days = (double)(ts - re->since) / 86400.0;
            if (add_wait(&r->total, days) < 0 || add_wait(&r->progs[m->program], days) < 0)
                return -1;
        }
    }
    return 0;
}

int report_feed(struct report *r, struct state *s, const cJSON *ev, struct error *err)
{
    tdm_time ts;
    const char *type = str(ev, "type"), *tstext = str(ev, "ts");
    double seq;
    if (!type || !tstext || time_parse(tstext, &ts) < 0 || !number(ev, "seq", &seq) || seq < 1)
        return error_set(err, ERR_INPUT, NULL, 0, "event without seq, ts or type");
    if (r->o.until && ts >= r->o.until)
        return 1;
    bool in = ts >= r->o.since;
    if (in && advance_weeks(r, s, ts) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    int matches_before = s->n_matches, enrols_before = s->n_enrollments;
    int rc = state_apply(s, ev, err);
    if (rc == ERR_INPUT && strncmp(err->msg, "unknown event type", 18) == 0 && (long long)seq == s->seq + 1) {
        /* A type from a newer engine: the report cannot know what it means, but the log
         * goes on past it (the daemon, which must know, refuses it). */
        s->seq = (long long)seq;
        s->now = ts;
        r->unknown++;
        memset(err, 0, sizeof *err);
        return 0;
    }
    if (rc < 0)
        return rc;
    if (grow_to(&r->progs, &r->n_progs, s->n_programs, sizeof *r->progs) < 0 ||
        grow_to(&r->matches, &r->n_matches, s->n_matches, sizeof *r->matches) < 0 ||
        grow_to(&r->enrols, &r->n_enrols, s->n_enrollments, sizeof *r->enrols) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    if ((long long)seq >= r->n_seq) {
        long long cap = r->n_seq ? r->n_seq : 1024;
        while (cap <= (long long)seq)
            cap *= 2;
        int *p = realloc(r->seq_program, (size_t)cap * sizeof *p);
        if (!p)
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
        for (long long i = r->n_seq; i < cap; i++)
            p[i] = -1;
        r->seq_program = p;
        r->n_seq = cap;
    }
    for (int i = enrols_before; i < s->n_enrollments; i++)
        r->enrols[i].since = ts;
    for (int i = matches_before; i < s->n_matches; i++) {
        r->matches[i].created = ts;
        if (note_match(r, s, &s->matches[i], ts, in) < 0)
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    }
    int prog = event_program(r, s, ev, type);
    r->seq_program[(long long)seq] = prog;
    if (!in || !counted(r, s, prog))
        return 0;
    int new_matches = s->n_matches - matches_before;
    r->in_window++;
    count_event(&r->total, s, r, ev, type, new_matches);
    if (prog >= 0)
        count_event(&r->progs[prog], s, r, ev, type, new_matches);
    if (r->cur_week >= 0 && r->cur_week < r->n_weeks)
        count_week(&r->weeks[r->cur_week], ev, type, new_matches);
    double id;
    if (strcmp(type, "flag") == 0 && number(ev, "match", &id) && id >= 1 && id <= r->n_matches)
        r->matches[(long long)id - 1].flagged = true;
    return 0;
}

/* ---- measures -------------------------------------------------------------------------- */

/* What is read from the state at the window's end, per program or for the whole. */
struct stock {
    long long mentors, mentees, matched_mentees, live, live_in_window;
    long long pairings, cross_department, diverse, career;
    long long here, reached;             /* community: people still here, and those matched */
};

/* True when a and b both answered some q_* question, differently. */
static bool differ_in_answers(const struct person *a, const struct person *b)
{
    for (int i = 0; i < a->n_attrs; i++) {
        if (strncmp(a->attrs[i].key, "q_", 2) != 0)
            continue;
        const char *other = person_attr(b, a->attrs[i].key);
        if (other && strcmp(other, a->attrs[i].value) != 0)
            return true;
    }
    return false;
}

static void pairing(const struct state *s, const struct match *m, struct stock *k)
{
    bool cross = false, diverse = false, career = false;
    int parties = m->n_mentors + m->n_mentees;
    for (int a = 0; a < parties; a++)
        for (int b = a + 1; b < parties; b++) {
            int pa = a < m->n_mentors ? m->mentors[a] : m->mentees[a - m->n_mentors];
            int pb = b < m->n_mentors ? m->mentors[b] : m->mentees[b - m->n_mentors];
            const struct person *x = &s->people[pa].p, *y = &s->people[pb].p;
            cross |= x->department && y->department && strcmp(x->department, y->department) != 0;
            diverse |= differ_in_answers(x, y);
            career |= a < m->n_mentors && b >= m->n_mentors && x->level && y->level && x->level - y->level >= 2;
        }
    k->pairings++;
    k->cross_department += cross;
    k->diverse += diverse;
    k->career += career;
}

/* Stocks for program prog, or for all counted programs when prog < 0. */
static void stock_of(const struct report *r, const struct state *s, int prog, struct stock *k)
{
    memset(k, 0, sizeof *k);
    for (int i = 0; i < s->n_enrollments; i++) {
        const struct enrollment *e = &s->enrollments[i];
        if ((prog >= 0 && e->program != prog) || !counted(r, s, e->program))
            continue;
        bool matched = i < r->n_enrols && r->enrols[i].matched;
        if (lead_role(e->role)) {
            k->mentors++;
        } else {
            k->mentees++;
            k->matched_mentees += matched;
        }
        if (prog >= 0 && !s->people[e->person].left) {
            k->here++;
            k->reached += matched;
        }
    }
    for (int i = 0; i < s->n_matches; i++) {
        const struct match *m = &s->matches[i];
        if ((prog >= 0 && m->program != prog) || !counted(r, s, m->program))
            continue;
        k->live += match_live(m);
        bool held_any = m->phase == MATCH_ACTIVE || (m->phase == MATCH_CLOSED && m->closed_at >= r->o.since);
        k->live_in_window += held_any;
        bool made = i < r->n_matches && r->matches[i].created >= r->o.since;
        if (made && m->phase != MATCH_PROPOSED && m->phase != MATCH_REJECTED)
            pairing(s, m, k);
    }
    if (prog < 0) {
        /* Community over the whole organization: everyone still here (in a counted program
         * when the report is about one). */
        for (int i = 0; i < s->n_people; i++) {
            if (s->people[i].left)
                continue;
            bool in_prog = !r->o.program;
            bool reached = false;
            const struct idlist *el = &s->people[i].enrollments;
            for (int j = 0; j < el->n && !in_prog; j++)
                in_prog = counted(r, s, s->enrollments[el->v[j]].program);
            const struct idlist *ml = &s->people[i].matches;
            for (int j = 0; j < ml->n && !reached; j++) {
                const struct match *m = state_match(s, ml->v[j]);
                reached = m && counted(r, s, m->program);
            }
            k->here += in_prog;
            k->reached += in_prog && reached;
        }
    }
}

/* What each priority an organization may declare is measured by. */
struct priority_measure {
    const char *priority;
    const char *measure;      /* what the value is, for a person */
};

static const struct priority_measure MEASURES[] = {
    { "inclusion", "share of matches whose people come from more than one department" },
    { "diversity", "share of matches whose people come from more than one department" },
    { "development", "share of goals set that were achieved" },
    { "career", "share of matches with a mentor at least two levels above a mentee" },
    { "community", "share of people (still here) who have been in a match" },
    { "retention", "share of re-ups that renewed" },
    { "engagement", "share of scheduled meetings held (held / held + missed)" },
    { "culture", "average feedback rating, 1-5" },
    { NULL, NULL },
};

static double ratio(double a, double b)
{
    return b > 0 ? a / b : NAN;
}

static double measure_value(const struct report_tally *t, const struct stock *k, const char *priority)
{
    if (!strcmp(priority, "inclusion") || !strcmp(priority, "diversity"))
        return ratio((double)k->cross_department, (double)k->pairings);
    if (!strcmp(priority, "career"))
        return ratio((double)k->career, (double)k->pairings);
    if (!strcmp(priority, "development"))
        return ratio((double)t->goals_achieved, (double)t->goals_set);
    if (!strcmp(priority, "community"))
        return ratio((double)k->reached, (double)k->here);
    if (!strcmp(priority, "retention"))
        return ratio((double)t->reups_renewed, (double)(t->reups_renewed + t->reups_closed));
    if (!strcmp(priority, "engagement"))
        return ratio((double)t->held, (double)(t->held + t->missed));
    if (!strcmp(priority, "culture"))
        return ratio(t->fb_sum[REPORT_FB_ALL], (double)t->fb_n[REPORT_FB_ALL]);
    return NAN;
}

static const char *measure_of(const char *priority)
{
    for (int i = 0; MEASURES[i].priority; i++)
        if (strcmp(MEASURES[i].priority, priority) == 0)
            return MEASURES[i].measure;
    return NULL;
}

/* ---- JSON ------------------------------------------------------------------------------ */

/* A number rounded to `places`, or null when it is not a number. */
static void add_real(cJSON *o, const char *k, double v, int places)
{
    double f = pow(10, places);
    if (isnan(v))
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, round(v * f) / f);
}

static void add_int(cJSON *o, const char *k, long long v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void add_waits(cJSON *o, struct report_tally *t)
{
    cJSON *w = cJSON_AddObjectToObject(o, "time_to_match_days");
    add_int(w, "n", t->n_waits);
    double sum = 0;
    for (long long i = 0; i < t->n_waits; i++)
        sum += t->waits[i];
    double median = NAN;
    if (t->n_waits) {
        qsort(t->waits, (size_t)t->n_waits, sizeof *t->waits, cmp_double);
        long long h = t->n_waits / 2;
        median = t->n_waits % 2 ? t->waits[h] : (t->waits[h - 1] + t->waits[h]) / 2;
    }
    add_real(w, "mean", t->n_waits ? sum / (double)t->n_waits : NAN, 1);
    add_real(w, "median", median, 1);
}

static void add_by_priority(cJSON *o, const struct state *s, const struct report_tally *t, const struct stock *k)
{
    cJSON *bp = cJSON_AddArrayToObject(o, "by_priority");
    for (int i = 0; i < s->n_priorities; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "priority", s->priorities[i]);
        const char *measure = measure_of(s->priorities[i]);
        if (measure)
            cJSON_AddStringToObject(p, "measure", measure);
        else
            cJSON_AddNullToObject(p, "measure");
        add_real(p, "value", measure_value(t, k, s->priorities[i]), 3);
        cJSON_AddItemToArray(bp, p);
    }
}

/* The measures a program and the totals share. */
static void add_measures(cJSON *o, struct report_tally *t, const struct stock *k)
{
    add_int(o, "mentors", k->mentors);
    add_int(o, "mentees", k->mentees);
    add_int(o, "enrolled", k->mentors + k->mentees);
    add_int(o, "matched_mentees", k->matched_mentees);
    add_real(o, "matched_share", ratio((double)k->matched_mentees, (double)k->mentees), 3);
    add_waits(o, t);
    add_int(o, "matches", t->matches);
    add_int(o, "live", k->live);
    add_int(o, "meetings_held", t->held);
    add_int(o, "meetings_missed", t->missed);
    add_int(o, "meetings_cancelled", t->cancelled);
    add_real(o, "held_per_match", ratio((double)t->held, (double)k->live_in_window), 2);
    add_real(o, "missed_per_match", ratio((double)t->missed, (double)k->live_in_window), 2);
    add_int(o, "reviews", t->reviews);
    add_int(o, "reups_opened", t->reups_opened);
    add_int(o, "reups_renewed", t->reups_renewed);
    add_int(o, "reups_closed", t->reups_closed);
    add_real(o, "renew_rate", ratio((double)t->reups_renewed, (double)(t->reups_renewed + t->reups_closed)), 3);
    add_int(o, "goals_set", t->goals_set);
    add_int(o, "goals_achieved", t->goals_achieved);
    add_int(o, "goals_dropped", t->goals_dropped);
    add_int(o, "flags", t->flags);
    add_int(o, "flagged_matches", t->flagged_matches);
    add_int(o, "stalled", t->closes_by_reason[5]);
    add_real(o, "feedback_avg", ratio(t->fb_sum[REPORT_FB_ALL], (double)t->fb_n[REPORT_FB_ALL]), 2);
    add_real(o, "feedback_from_mentees", ratio(t->fb_sum[REPORT_FB_MENTEES], (double)t->fb_n[REPORT_FB_MENTEES]), 2);
    add_real(o, "feedback_from_mentors", ratio(t->fb_sum[REPORT_FB_MENTORS], (double)t->fb_n[REPORT_FB_MENTORS]), 2);
    add_real(o, "feedback_program", ratio(t->fb_sum[REPORT_FB_PROGRAM], (double)t->fb_n[REPORT_FB_PROGRAM]), 2);
    add_real(o, "cross_department_share", ratio((double)k->cross_department, (double)k->pairings), 3);
    add_real(o, "diversity_share", ratio((double)k->diverse, (double)k->pairings), 3);
    add_int(o, "rule_errors", t->rule_errors);
    cJSON *closes = cJSON_AddObjectToObject(o, "closed_by_reason");
    for (int i = 0; close_reasons[i]; i++)
        add_int(closes, close_reasons[i], t->closes_by_reason[i]);
    if (t->closes_by_reason[7])
        add_int(closes, "other", t->closes_by_reason[7]);
}

static void add_time(cJSON *o, const char *k, tdm_time t)
{
    char buf[21];
    if (!t) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    time_format(t, buf);
    cJSON_AddStringToObject(o, k, buf);
}

static void finish(struct report *r, const struct state *s)
{
    if (r->done)
        return;
    r->done = true;
    if (r->cur_week < 0 || s->now < r->origin)
        return;
    long long last = (s->now - r->origin) / WEEK;
    if (last >= MAX_WEEKS)
        last = MAX_WEEKS - 1;
    if (grow_to(&r->weeks, &r->n_weeks, (int)last + 1, sizeof *r->weeks) < 0)
        return;
    while (r->cur_week <= last)
        close_week(r, s);
}

cJSON *report_json(struct report *r, const struct state *s)
{
    finish(r, s);
    cJSON *j = cJSON_CreateObject();
    char asof[21];
    time_format(s->now, asof);
    cJSON_AddStringToObject(j, "as_of", asof);
    add_time(j, "since", r->o.since);
    add_time(j, "until", r->o.until);
    if (r->o.program)
        cJSON_AddStringToObject(j, "program", r->o.program);
    else
        cJSON_AddNullToObject(j, "program");
    add_int(j, "events", s->seq);
    add_int(j, "events_in_window", r->in_window);
    add_int(j, "events_unknown", r->unknown);
    if (s->rules_file)
        cJSON_AddStringToObject(j, "rules", s->rules_file);
    cJSON *pr = cJSON_AddArrayToObject(j, "priorities");
    for (int i = 0; i < s->n_priorities; i++)
        cJSON_AddItemToArray(pr, cJSON_CreateString(s->priorities[i]));
    struct stock all;
    stock_of(r, s, -1, &all);
    add_by_priority(j, s, &r->total, &all);
    long long active = 0;
    for (int i = 0; i < s->n_people; i++)
        active += !s->people[i].left;
    add_int(j, "people", active);

    cJSON *progs = cJSON_AddArrayToObject(j, "programs");
    struct report_tally empty = { 0 };
    for (int p = 0; p < s->n_programs; p++) {
        if (!counted(r, s, p))
            continue;
        struct stock k;
        stock_of(r, s, p, &k);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->programs[p].name);
        cJSON_AddStringToObject(o, "model", s->programs[p].model);
        add_measures(o, p < r->n_progs ? &r->progs[p] : &empty, &k);
        add_by_priority(o, s, p < r->n_progs ? &r->progs[p] : &empty, &k);
        cJSON_AddItemToArray(progs, o);
    }
    cJSON *tot = cJSON_AddObjectToObject(j, "totals");
    add_measures(tot, &r->total, &all);
    add_int(tot, "notes", r->total.notes);
    add_int(tot, "intros", r->total.intros);

    /* The model mix: matches made in the window, per model, in the order models appear. */
    cJSON *models = cJSON_AddArrayToObject(j, "models");
    for (int p = 0; p < s->n_programs; p++) {
        if (!counted(r, s, p))
            continue;
        long long n = p < r->n_progs ? r->progs[p].matches : 0;
        cJSON *it;
        bool found = false;
        cJSON_ArrayForEach(it, models) {
            if (strcmp(cJSON_GetObjectItemCaseSensitive(it, "model")->valuestring, s->programs[p].model) == 0) {
                cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "matches");
                cJSON_SetNumberValue(v, v->valuedouble + (double)n);
                found = true;
            }
        }
        if (!found) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "model", s->programs[p].model);
            add_int(m, "matches", n);
            cJSON_AddItemToArray(models, m);
        }
    }
    cJSON *funnel = cJSON_AddObjectToObject(j, "reup_funnel");
    add_int(funnel, "opened", r->total.reups_opened);
    add_int(funnel, "answered", r->total.reups_answered);
    add_int(funnel, "decided", r->total.reups_renewed + r->total.reups_closed);
    add_int(funnel, "renewed", r->total.reups_renewed);
    add_int(funnel, "closed", r->total.reups_closed);

    cJSON *weeks = cJSON_AddArrayToObject(j, "weeks");
    for (int w = 0; w < r->cur_week && w < r->n_weeks; w++) {
        const struct report_week *x = &r->weeks[w];
        cJSON *o = cJSON_CreateObject();
        char day[21];
        time_format(r->origin + w * WEEK, day);
        day[10] = '\0';
        cJSON_AddStringToObject(o, "week", day);
        add_int(o, "held", x->held);
        add_int(o, "missed", x->missed);
        add_int(o, "started", x->started);
        add_int(o, "closes", x->closes);
        add_int(o, "stalled", x->stalled);
        add_int(o, "flags", x->flags);
        add_int(o, "live", x->live);
        add_int(o, "flagged_live", x->flagged_live);
        cJSON_AddItemToArray(weeks, o);
    }
    return j;
}

cJSON *report_state_json(const struct state *s)
{
    struct report r;
    report_init(&r, NULL);
    cJSON *j = report_json(&r, s);
    report_free(&r);
    return j;
}

/* ---- from a log ------------------------------------------------------------------------ */

struct from_log {
    struct report *r;
    struct state *s;
    struct error *err;
};

static int feed_one(void *ctx, const cJSON *ev, long long line)
{
    struct from_log *f = ctx;
    (void)line;
    int rc = report_feed(f->r, f->s, ev, f->err);
    return rc == 1 ? 1 : rc < 0 ? rc : 0;
}

int report_from_log(const char *path, const struct report_options *o, FILE *diag, cJSON **out,
                    struct error *err)
{
    *out = NULL;
    struct report r;
    struct state s;
    report_init(&r, o);
    state_init(&s);
    struct from_log f = { &r, &s, err };
    int rc = journal_replay(path, 0, feed_one, &f, diag, NULL, err);
    if (rc == 1)
        rc = 0;   /* the window ended before the log */
    if (rc == ERR_INPUT && !err->msg[0])
        error_set(err, ERR_INPUT, path, (int)s.seq + 1, "event does not fit the state before it");
    if (rc == 0 && o && o->program && state_program(&s, o->program) < 0) {
        char known[512] = "";
        for (int i = 0; i < s.n_programs; i++) {
            size_t n = strlen(known);
            snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "", s.programs[i].name);
        }
        rc = error_set(err, ERR_INPUT, NULL, 0, "no program \"%s\" in the log (programs: %s)", o->program,
                       s.n_programs ? known : "none");
    }
    if (rc == 0 && !(*out = report_json(&r, &s)))
        rc = error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    report_free(&r);
    state_free(&s);
    return rc;
}

/* ---- text ------------------------------------------------------------------------------ */

static const cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* A value as text: "-" for null; pct: a share as a whole percentage; else `places` decimals. */
static const char *fmt(char *buf, size_t len, const cJSON *v, bool pct, int places)
{
    if (!cJSON_IsNumber(v))
        snprintf(buf, len, "-");
    else if (pct)
        snprintf(buf, len, "%.0f%%", v->valuedouble * 100);
    else
        snprintf(buf, len, "%.*f", places, v->valuedouble);
    return buf;
}

/* Prints the words of a list after a label, wrapping at 100 columns. */
static void wrapped(FILE *out, const char *label, const char *const *words, int n)
{
    int col = fprintf(out, "%s", label);
    int indent = (int)strlen(label);
    for (int i = 0; i < n; i++) {
        int w = (int)strlen(words[i]) + 1;
        if (col + w > 100 && col > indent)
            col = fprintf(out, "\n%*s", indent, "");
        col += fprintf(out, " %.90s", words[i]);
    }
    fprintf(out, "\n");
}

void report_text(const cJSON *r, FILE *out)
{
    const cJSON *tot = item(r, "totals");
    const cJSON *asof = item(r, "as_of");
    fprintf(out, "tandem report as of %s (%.0f events)\n", cJSON_IsString(asof) ? asof->valuestring : "-",
            num(r, "events"));
    const cJSON *since = item(r, "since"), *until = item(r, "until"), *prog = item(r, "program");
    if (cJSON_IsString(since) || cJSON_IsString(until))
        fprintf(out, "window: %s to %s (%.0f events in it)\n", cJSON_IsString(since) ? since->valuestring : "start",
                cJSON_IsString(until) ? until->valuestring : "end", num(r, "events_in_window"));
    if (cJSON_IsString(prog))
        fprintf(out, "program: %.80s\n", prog->valuestring);
    const cJSON *rules = item(r, "rules");
    if (cJSON_IsString(rules)) {
        /* A long path is cut from the left: its end names the file. */
        const char *p = rules->valuestring;
        size_t n = strlen(p);
        fprintf(out, "rules: %s%s\n", n > 90 ? "..." : "", n > 90 ? p + n - 87 : p);
    }
    const cJSON *pr = item(r, "priorities");
    if (cJSON_GetArraySize(pr) > 0) {
        const char *words[16];
        int n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, pr)
            if (n < 16 && cJSON_IsString(it))
                words[n++] = it->valuestring;
        wrapped(out, "priorities:", words, n);
    }
    fprintf(out, "people: %.0f\n", num(r, "people"));
    const cJSON *bp;
    cJSON_ArrayForEach(bp, item(r, "by_priority")) {
        const cJSON *m = item(bp, "measure");
        const cJSON *v = item(bp, "value");
        const char *name = item(bp, "priority")->valuestring;
        if (!cJSON_IsString(m))
            fprintf(out, "  %-.20s: no measure for this priority\n", name);
        else if (!cJSON_IsNumber(v))
            fprintf(out, "  %-.20s: - (%.70s)\n", name, m->valuestring);
        else if (strcmp(name, "culture") == 0)
            fprintf(out, "  %-.20s: %.2f (%.70s)\n", name, v->valuedouble, m->valuestring);
        else
            fprintf(out, "  %-.20s: %.0f%% (%.70s)\n", name, v->valuedouble * 100, m->valuestring);
    }
    fprintf(out, "\n");
    fprintf(out, "%-14s %-13s %7s %7s %7s %5s %5s %6s %7s %7s %6s %5s\n", "program", "model", "mentors",
            "mentees", "matches", "live", "held", "missed", "reviews", "renewed", "closed", "flags");
    const cJSON *p;
    cJSON_ArrayForEach(p, item(r, "programs")) {
        fprintf(out, "%-14.14s %-13.13s %7.0f %7.0f %7.0f %5.0f %5.0f %6.0f %7.0f %7.0f %6.0f %5.0f\n",
                item(p, "name")->valuestring, item(p, "model")->valuestring, num(p, "mentors"), num(p, "mentees"),
                num(p, "matches"), num(p, "live"), num(p, "meetings_held"), num(p, "meetings_missed"),
                num(p, "reviews"), num(p, "reups_renewed"), num(p, "reups_closed"), num(p, "flags"));
    }
    /* Health: shares, time to match, meetings per match, goals, re-ups, trouble. */
    fprintf(out, "\n%-14s %8s %7s %6s %6s %6s %6s %8s %6s %7s %7s %6s\n", "program", "enrolled", "matched",
            "wait-d", "held/m", "miss/m", "goals", "achieved", "renew", "stalled", "flagged", "errors");
    char a[24], b[24], c[24], d[24], e[24];
    cJSON_ArrayForEach(p, item(r, "programs")) {
        fprintf(out, "%-14.14s %8.0f %7s %6s %6s %6s %6.0f %8.0f %6s %7.0f %7.0f %6.0f\n",
                item(p, "name")->valuestring, num(p, "enrolled"), fmt(a, sizeof a, item(p, "matched_share"), 1, 0),
                fmt(b, sizeof b, item(item(p, "time_to_match_days"), "median"), 0, 1),
                fmt(c, sizeof c, item(p, "held_per_match"), 0, 1), fmt(d, sizeof d, item(p, "missed_per_match"), 0, 1),
                num(p, "goals_set"), num(p, "goals_achieved"), fmt(e, sizeof e, item(p, "renew_rate"), 1, 0),
                num(p, "stalled"), num(p, "flagged_matches"), num(p, "rule_errors"));
    }
    fprintf(out, "\n%-14s %9s %9s %10s %10s %9s\n", "program", "fb-mentee", "fb-mentor", "fb-program",
            "cross-dept", "diversity");
    cJSON_ArrayForEach(p, item(r, "programs")) {
        fprintf(out, "%-14.14s %9s %9s %10s %10s %9s\n", item(p, "name")->valuestring,
                fmt(a, sizeof a, item(p, "feedback_from_mentees"), 0, 2),
                fmt(b, sizeof b, item(p, "feedback_from_mentors"), 0, 2),
                fmt(c, sizeof c, item(p, "feedback_program"), 0, 2),
                fmt(d, sizeof d, item(p, "cross_department_share"), 1, 0),
                fmt(e, sizeof e, item(p, "diversity_share"), 1, 0));
    }
    fprintf(out, "\nmatches %.0f (live %.0f)   meetings held %.0f, missed %.0f   reviews %.0f\n",
            num(tot, "matches"), num(tot, "live"), num(tot, "meetings_held"), num(tot, "meetings_missed"),
            num(tot, "reviews"));
    fprintf(out, "re-ups renewed %.0f, closed %.0f   goals set %.0f, achieved %.0f   feedback avg %s\n",
            num(tot, "reups_renewed"), num(tot, "reups_closed"), num(tot, "goals_set"), num(tot, "goals_achieved"),
            fmt(a, sizeof a, item(tot, "feedback_avg"), 0, 2));
    fprintf(out, "flags %.0f   notes %.0f   rule errors %.0f\n", num(tot, "flags"), num(tot, "notes"),
            num(tot, "rule_errors"));
    fprintf(out, "matched %s of mentees   median wait %s days   renew rate %s   stalled %.0f   flagged %.0f\n",
            fmt(a, sizeof a, item(tot, "matched_share"), 1, 0),
            fmt(b, sizeof b, item(item(tot, "time_to_match_days"), "median"), 0, 1),
            fmt(c, sizeof c, item(tot, "renew_rate"), 1, 0), num(tot, "stalled"), num(tot, "flagged_matches"));
    fprintf(out, "feedback from mentees %s, from mentors %s, on programs %s\n",
            fmt(a, sizeof a, item(tot, "feedback_from_mentees"), 0, 2),
            fmt(b, sizeof b, item(tot, "feedback_from_mentors"), 0, 2),
            fmt(c, sizeof c, item(tot, "feedback_program"), 0, 2));
    fprintf(out, "pairings across departments %s, differing in questionnaire answers %s\n",
            fmt(d, sizeof d, item(tot, "cross_department_share"), 1, 0),
            fmt(e, sizeof e, item(tot, "diversity_share"), 1, 0));
    const cJSON *fu = item(r, "reup_funnel");
    fprintf(out, "re-up funnel: opened %.0f, decided %.0f, renewed %.0f, closed %.0f\n", num(fu, "opened"),
            num(fu, "decided"), num(fu, "renewed"), num(fu, "closed"));
    {
        char words[64][48];
        const char *list[64];
        int n = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, item(r, "models")) {
            if (n == 64)
                break;
            snprintf(words[n], sizeof words[n], "%.30s %.0f", item(m, "model")->valuestring, num(m, "matches"));
            list[n] = words[n];
            n++;
        }
        if (n)
            wrapped(out, "model mix:", list, n);
    }
    {
        char words[8][48];
        const char *list[8];
        int n = 0;
        const cJSON *c2;
        cJSON_ArrayForEach(c2, item(tot, "closed_by_reason")) {
            if (c2->valuedouble <= 0 || n == 8)
                continue;
            snprintf(words[n], sizeof words[n], "%s %.0f", c2->string, c2->valuedouble);
            list[n] = words[n];
            n++;
        }
        wrapped(out, "closed by reason:", list, n);
    }
}
