/* report: counts per program and overall. Text is rendered from the JSON object, so the two
 * formats can never disagree. */
#include "report.h"

#include <math.h>
#include <string.h>

struct tally {
    long long enrolled_mentors, enrolled_mentees, matches, live, closed, held, missed, cancelled,
        reviews, renewed, reup_closed, flags, goals, goals_achieved;
    double feedback_sum;
    long long feedback_n;
};

static void tally_program(const struct state *s, int prog, struct tally *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < s->n_enrollments; i++) {
        const struct enrollment *e = &s->enrollments[i];
        if (e->program != prog)
            continue;
        bool lead = e->role == ROLE_MENTOR || e->role == ROLE_LEADER;
        t->enrolled_mentors += lead;
        t->enrolled_mentees += !lead;
    }
    for (int i = 0; i < s->n_matches; i++) {
        const struct match *m = &s->matches[i];
        if (m->program != prog)
            continue;
        t->matches++;
        t->live += match_live(m);
        t->closed += m->phase == MATCH_CLOSED;
        t->held += m->held;
        t->missed += m->missed;
        t->cancelled += m->cancelled;
        t->reviews += m->reviews;
        t->renewed += m->terms - 1;
        t->flags += m->flags;
        t->feedback_sum += m->feedback_sum;
        t->feedback_n += m->feedback_n;
        if (m->phase == MATCH_CLOSED && m->close_reason &&
            (strcmp(m->close_reason, "completed") == 0 || strcmp(m->close_reason, "exited") == 0))
            t->reup_closed++;
    }
    for (int g = 0; g < s->n_goals; g++) {
        const struct match *m = state_match(s, s->goals[g].match);
        if (m && m->program == prog) {
            t->goals++;
            t->goals_achieved += s->goals[g].phase == GOAL_ACHIEVED;
        }
    }
}

static void add_avg(cJSON *o, const char *k, double sum, long long n)
{
    if (n > 0)
        cJSON_AddNumberToObject(o, k, round(sum / (double)n * 100) / 100);
    else
        cJSON_AddNullToObject(o, k);
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

/* The value of one measure over the whole state (NAN when there is nothing to measure). */
static double measure_value(const struct state *s, const char *priority)
{
    if (!strcmp(priority, "inclusion") || !strcmp(priority, "diversity") || !strcmp(priority, "career")) {
        bool career = !strcmp(priority, "career");
        long long n = 0, yes = 0;
        for (int i = 0; i < s->n_matches; i++) {
            const struct match *m = &s->matches[i];
            if (m->phase == MATCH_PROPOSED || m->phase == MATCH_REJECTED)
                continue;
            n++;
            bool hit = false;
            int parties = m->n_mentors + m->n_mentees;
            for (int a = 0; a < parties && !hit; a++)
                for (int b = a + 1; b < parties && !hit; b++) {
                    int pa = a < m->n_mentors ? m->mentors[a] : m->mentees[a - m->n_mentors];
                    int pb = b < m->n_mentors ? m->mentors[b] : m->mentees[b - m->n_mentors];
                    const struct person *x = &s->people[pa].p, *y = &s->people[pb].p;
                    if (career)
                        hit = a < m->n_mentors && b >= m->n_mentors && x->level && y->level && x->level - y->level >= 2;
                    else
                        hit = x->department && y->department && strcmp(x->department, y->department) != 0;
                }
            yes += hit;
        }
        return ratio((double)yes, (double)n);
    }
    if (!strcmp(priority, "development"))
        return ratio((double)s->goals_achieved, (double)s->goals_set);
    if (!strcmp(priority, "community")) {
        long long here = 0, reached = 0;
        for (int i = 0; i < s->n_people; i++) {
            if (s->people[i].left)
                continue;
            here++;
            reached += s->people[i].matches.n > 0;
        }
        return ratio((double)reached, (double)here);
    }
    if (!strcmp(priority, "retention"))
        return ratio((double)s->reups_renewed, (double)(s->reups_renewed + s->reups_closed));
    if (!strcmp(priority, "engagement")) {
        long long held = 0, missed = 0;
        for (int i = 0; i < s->n_matches; i++) {
            held += s->matches[i].held;
            missed += s->matches[i].missed;
        }
        return ratio((double)held, (double)(held + missed));
    }
    if (!strcmp(priority, "culture"))
        return ratio(s->feedback_sum, (double)s->feedback_n);
    return NAN;
}

static const char *measure_of(const char *priority)
{
    for (int i = 0; MEASURES[i].priority; i++)
        if (strcmp(MEASURES[i].priority, priority) == 0)
            return MEASURES[i].measure;
    return NULL;
}

cJSON *report_json(const struct state *s)
{
    cJSON *r = cJSON_CreateObject();
    char ts[21];
    time_format(s->now, ts);
    cJSON_AddStringToObject(r, "as_of", ts);
    cJSON_AddNumberToObject(r, "events", (double)s->seq);
    if (s->rules_file)
        cJSON_AddStringToObject(r, "rules", s->rules_file);
    cJSON *pr = cJSON_AddArrayToObject(r, "priorities");
    for (int i = 0; i < s->n_priorities; i++)
        cJSON_AddItemToArray(pr, cJSON_CreateString(s->priorities[i]));
    cJSON *bp = cJSON_AddArrayToObject(r, "by_priority");
    for (int i = 0; i < s->n_priorities; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "priority", s->priorities[i]);
        const char *measure = measure_of(s->priorities[i]);
        double v = measure_value(s, s->priorities[i]);
        if (measure)
            cJSON_AddStringToObject(o, "measure", measure);
        else
            cJSON_AddNullToObject(o, "measure");
        if (isnan(v))
            cJSON_AddNullToObject(o, "value");
        else
            cJSON_AddNumberToObject(o, "value", round(v * 1000) / 1000);
        cJSON_AddItemToArray(bp, o);
    }
    long long active = 0;
    for (int i = 0; i < s->n_people; i++)
        active += !s->people[i].left;
    cJSON_AddNumberToObject(r, "people", (double)active);

    long long held = 0, missed = 0, live = 0;
    cJSON *progs = cJSON_AddArrayToObject(r, "programs");
    for (int p = 0; p < s->n_programs; p++) {
        struct tally t;
        tally_program(s, p, &t);
        held += t.held;
        missed += t.missed;
        live += t.live;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->programs[p].name);
        cJSON_AddStringToObject(o, "model", s->programs[p].model);
        cJSON_AddNumberToObject(o, "mentors", (double)t.enrolled_mentors);
        cJSON_AddNumberToObject(o, "mentees", (double)t.enrolled_mentees);
        cJSON_AddNumberToObject(o, "matches", (double)t.matches);
        cJSON_AddNumberToObject(o, "live", (double)t.live);
        cJSON_AddNumberToObject(o, "meetings_held", (double)t.held);
        cJSON_AddNumberToObject(o, "meetings_missed", (double)t.missed);
        cJSON_AddNumberToObject(o, "reviews", (double)t.reviews);
        cJSON_AddNumberToObject(o, "reups_renewed", (double)t.renewed);
        cJSON_AddNumberToObject(o, "reups_closed", (double)t.reup_closed);
        cJSON_AddNumberToObject(o, "goals_set", (double)t.goals);
        cJSON_AddNumberToObject(o, "goals_achieved", (double)t.goals_achieved);
        cJSON_AddNumberToObject(o, "flags", (double)t.flags);
        add_avg(o, "feedback_avg", t.feedback_sum, t.feedback_n);
        cJSON_AddItemToArray(progs, o);
    }
    cJSON *tot = cJSON_AddObjectToObject(r, "totals");
    cJSON_AddNumberToObject(tot, "matches", s->n_matches);
    cJSON_AddNumberToObject(tot, "live", (double)live);
    cJSON_AddNumberToObject(tot, "meetings_held", (double)held);
    cJSON_AddNumberToObject(tot, "meetings_missed", (double)missed);
    cJSON_AddNumberToObject(tot, "reviews", (double)s->reviews);
    cJSON_AddNumberToObject(tot, "reups_renewed", (double)s->reups_renewed);
    cJSON_AddNumberToObject(tot, "reups_closed", (double)s->reups_closed);
    cJSON_AddNumberToObject(tot, "goals_set", (double)s->goals_set);
    cJSON_AddNumberToObject(tot, "goals_achieved", (double)s->goals_achieved);
    cJSON_AddNumberToObject(tot, "flags", (double)s->flags);
    cJSON_AddNumberToObject(tot, "notes", (double)s->notes);
    cJSON_AddNumberToObject(tot, "rule_errors", (double)s->rule_errors);
    add_avg(tot, "feedback_avg", s->feedback_sum, s->feedback_n);
    cJSON *closes = cJSON_AddObjectToObject(tot, "closed_by_reason");
    for (int i = 0; close_reasons[i]; i++)
        cJSON_AddNumberToObject(closes, close_reasons[i], (double)s->closes_by_reason[i]);
    return r;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void avg_text(const cJSON *o, const char *k, char *buf, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v))
        snprintf(buf, len, "%.2f", v->valuedouble);
    else
        snprintf(buf, len, "-");
}

void report_text(const struct state *s, FILE *out)
{
    cJSON *r = report_json(s);
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(r, "totals");
    fprintf(out, "tandem report as of %s (%lld events)\n", cJSON_GetObjectItemCaseSensitive(r, "as_of")->valuestring,
            s->seq);
    if (s->rules_file) {
        /* A long path is cut from the left: its end names the file. */
        size_t n = strlen(s->rules_file);
        fprintf(out, "rules: %s%s\n", n > 90 ? "..." : "", n > 90 ? s->rules_file + n - 87 : s->rules_file);
    }
    if (s->n_priorities) {
        int col = fprintf(out, "priorities:");
        for (int i = 0; i < s->n_priorities; i++) {
            int w = (int)strlen(s->priorities[i]) + 1;
            if (col + w > 100)
                col = fprintf(out, "\n           ");
            col += fprintf(out, " %s", s->priorities[i]);
        }
        fprintf(out, "\n");
    }
    fprintf(out, "people: %.0f\n", num(r, "people"));
    const cJSON *bp;
    cJSON_ArrayForEach(bp, cJSON_GetObjectItemCaseSensitive(r, "by_priority")) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(bp, "measure");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(bp, "value");
        const char *name = cJSON_GetObjectItemCaseSensitive(bp, "priority")->valuestring;
        if (!cJSON_IsString(m)) {
            fprintf(out, "  %-.20s: no measure for this priority\n", name);
        } else if (!cJSON_IsNumber(v)) {
            fprintf(out, "  %-.20s: - (%.70s)\n", name, m->valuestring);
        } else if (strcmp(name, "culture") == 0) {
            fprintf(out, "  %-.20s: %.2f (%.70s)\n", name, v->valuedouble, m->valuestring);
        } else {
            fprintf(out, "  %-.20s: %.0f%% (%.70s)\n", name, v->valuedouble * 100, m->valuestring);
        }
    }
    fprintf(out, "\n");
    fprintf(out, "%-14s %-13s %7s %7s %7s %5s %5s %6s %7s %7s %6s %5s\n", "program", "model", "mentors",
            "mentees", "matches", "live", "held", "missed", "reviews", "renewed", "closed", "flags");
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(r, "programs")) {
        fprintf(out, "%-14.14s %-13.13s %7.0f %7.0f %7.0f %5.0f %5.0f %6.0f %7.0f %7.0f %6.0f %5.0f\n",
                cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring,
                cJSON_GetObjectItemCaseSensitive(p, "model")->valuestring, num(p, "mentors"), num(p, "mentees"),
                num(p, "matches"), num(p, "live"), num(p, "meetings_held"), num(p, "meetings_missed"),
                num(p, "reviews"), num(p, "reups_renewed"), num(p, "reups_closed"), num(p, "flags"));
    }
    char fb[16];
    avg_text(tot, "feedback_avg", fb, sizeof fb);
    fprintf(out, "\nmatches %.0f (live %.0f)   meetings held %.0f, missed %.0f   reviews %.0f\n",
            num(tot, "matches"), num(tot, "live"), num(tot, "meetings_held"), num(tot, "meetings_missed"),
            num(tot, "reviews"));
    fprintf(out, "re-ups renewed %.0f, closed %.0f   goals set %.0f, achieved %.0f   feedback avg %s\n",
            num(tot, "reups_renewed"), num(tot, "reups_closed"), num(tot, "goals_set"), num(tot, "goals_achieved"),
            fb);
    fprintf(out, "flags %.0f   notes %.0f   rule errors %.0f\n", num(tot, "flags"), num(tot, "notes"),
            num(tot, "rule_errors"));
    int col = fprintf(out, "closed by reason:");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(tot, "closed_by_reason")) {
        if (c->valuedouble <= 0)
            continue;
        char item[64];
        int w = snprintf(item, sizeof item, " %s %.0f", c->string, c->valuedouble);
        if (col + w > 100)
            col = fprintf(out, "\n                 ");
        col += fprintf(out, "%s", item);
    }
    fprintf(out, "\n");
    cJSON_Delete(r);
}
