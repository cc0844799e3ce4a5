/* state: the in-memory program state and state_apply, the only code that changes it.
 * Pure: no Lua, no I/O, no clock. Everything it needs is in the fact it applies. */
#include "state.h"
#include "state_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

const char *const role_names[ROLE_COUNT] = { "mentor", "mentee", "peer", "leader", "attendee" };
const char *const close_reasons[8] = { "completed", "exited", "rotated", "cancelled",
                                       "left", "stalled", "rule", NULL };

static int idlist_add(struct idlist *l, int v)
{
    if (l->n == l->cap) {
        int ncap = l->cap ? l->cap * 2 : 4;
        int *nv = realloc(l->v, (size_t)ncap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = v;
    return 0;
}

/* Removes v's first copy, moving the last entry into its place (order is not kept). */
static void idlist_drop(struct idlist *l, int v)
{
    for (int i = 0; i < l->n; i++)
        if (l->v[i] == v) {
            l->v[i] = l->v[--l->n];
            return;
        }
}

static void idlist_free(struct idlist *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

void state_init(struct state *s)
{
    static unsigned generations;
    memset(s, 0, sizeof *s);
    s->generation = ++generations;
}

void program_free(struct program *p)
{
    lifecycle_free(&p->life);
    free(p->name);
    free(p->model);
    for (int i = 0; i < p->n_prompts; i++)
        free(p->prompts[i]);
    free(p->prompts);
}

void state_offer_person(struct state *s, const cJSON *json, struct person *p)
{
    state_offer_clear(s);
    if (json == NULL) {
        person_free(p);
        return;
    }
    s->offer = *p;
    s->offer_json = json;
    person_init(p);
}

void state_offer_clear(struct state *s)
{
    if (s->offer_json)
        person_free(&s->offer);
    s->offer_json = NULL;
}

void state_free(struct state *s)
{
    state_offer_clear(s);
    for (int i = 0; i < s->n_people; i++) {
        person_free(&s->people[i].p);
        idlist_free(&s->people[i].enrollments);
        idlist_free(&s->people[i].matches);
        idlist_free(&s->people[i].live);
    }
    free(s->people);
    free(s->chain_up);
    free(s->chain_depth);
    strmap_free(&s->person_index);
    for (int i = 0; i < s->n_programs; i++)
        program_free(&s->programs[i]);
    free(s->programs);
    free(s->enrollments);
    for (int i = 0; i < s->n_matches; i++) {
        free(s->matches[i].mentors);
        free(s->matches[i].mentees);
        free(s->matches[i].close_reason);
        free(s->matches[i].answers);
        free(s->matches[i].guests);
        idlist_free(&s->matches[i].goals);
        match_life_free(&s->matches[i].life);
    }
    for (int i = 0; i < s->n_requests; i++)
        state_request_free(&s->requests[i]);
    free(s->requests);
    free(s->matches);
    for (int i = 0; i < s->n_goals; i++) {
        free(s->goals[i].text);
        free(s->goals[i].measure);
    }
    free(s->goals);
    u64set_free(&s->met);
    u64set_free(&s->met_in_program);
    for (int i = 0; i < s->n_priorities; i++)
        free(s->priorities[i]);
    free(s->priorities);
    free(s->rules_file);
    free(s->rules_sha256);
    memset(s, 0, sizeof *s);
}

/* Grows *arr (of elem bytes) so that index n fits. */
int state_grow(void *arr, int *cap, int n, size_t elem)
{
    if (n < *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 64;
    while (ncap <= n)
        ncap *= 2;
    void *p = realloc(*(void **)arr, (size_t)ncap * elem);
    if (!p)
        return -ENOMEM;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
    *(void **)arr = p;
    *cap = ncap;
    return 0;
}

int state_person(const struct state *s, const char *id)
{
    return id ? strmap_get(&s->person_index, id) : -1;
}

int state_program(const struct state *s, const char *name)
{
    for (int i = 0; name && i < s->n_programs; i++)
        if (strcmp(s->programs[i].name, name) == 0)
            return i;
    return -1;
}

struct match *state_match(const struct state *s, long long id)
{
    if (id < 1 || id > s->n_matches)
        return NULL;
    return &s->matches[id - 1];
}

int state_enrollment(const struct state *s, int person, int program, enum role role)
{
    if (person < 0 || person >= s->n_people)
        return -1;
    const struct idlist *l = &s->people[person].enrollments;
    for (int k = 0; k < l->n; k++) {
        const struct enrollment *e = &s->enrollments[l->v[k]];
        if (e->program == program && e->role == role)
            return l->v[k];
    }
    return -1;
}

int role_parse(const char *name)
{
    for (int i = 0; name && i < ROLE_COUNT; i++)
        if (strcmp(name, role_names[i]) == 0)
            return i;
    return -1;
}

static uint64_t pair_key(int a, int b, int prog)
{
    if (a > b) {
        int t = a;
        a = b;
        b = t;
    }
    /* 24 bits per person index and 15 for the program keep keys distinct up to 16M people. */
    return ((uint64_t)(prog + 1) << 48) | ((uint64_t)a << 24) | (uint64_t)b;
}

/* The bit of person b in another person's met_sig (a multiplicative hash of the index). */
static unsigned met_bit(int b)
{
    return (unsigned)(((uint64_t)(unsigned)b * 0x9e3779b97f4a7c15ULL) >> 56);
}

static void met_sig_add(struct state *s, int a, int b)
{
    unsigned k = met_bit(b);
    s->people[a].met_sig[k >> 6] |= 1ULL << (k & 63);
}

bool state_met(const struct state *s, int a, int b, int prog)
{
    unsigned k = met_bit(b);
    if (!(s->people[a].met_sig[k >> 6] >> (k & 63) & 1))
        return false;   /* never met anyone whose bit b has: no lookup */
    if (prog < 0)
        return u64set_has(&s->met, pair_key(a, b, -1));
    return u64set_has(&s->met_in_program, pair_key(a, b, prog));
}

/* Fills the chain cache: every manager looked up by id once per change of the people, then
 * each person's depth, walking each chain once (a stack of the walk, resolved from the top
 * down). Logically the state does not change. Returns false when there is no memory. */
static bool chains_build(const struct state *cs)
{
    struct state *s = (struct state *)cs;
    int n = s->n_people;
    int *up = realloc(s->chain_up, (size_t)(n + 1) * sizeof *up);
    if (up)
        s->chain_up = up;
    int *depth = realloc(s->chain_depth, (size_t)(n + 1) * sizeof *depth);
    if (depth)
        s->chain_depth = depth;
    int *stack = malloc((size_t)(n + 1) * sizeof *stack);
    if (!up || !depth || !stack) {
        free(stack);
        s->chains_epoch = 0;
        return false;
    }
    enum { UNKNOWN = -3, ON_STACK = -2, CYCLE = -1 };
    for (int i = 0; i < n; i++) {
        up[i] = state_person(s, s->people[i].p.manager);
        depth[i] = UNKNOWN;
    }
    for (int i = 0; i < n; i++) {
        int top = 0, cur = i;
        while (cur >= 0 && depth[cur] == UNKNOWN) {
            depth[cur] = ON_STACK;
            stack[top++] = cur;
            cur = up[cur];
        }
        /* cur: no manager (-1), one of known depth, or one on this walk or of a cycle */
        bool cyclic = cur >= 0 && (depth[cur] == ON_STACK || depth[cur] == CYCLE);
        int base = cur < 0 ? -1 : depth[cur];
        while (top > 0) {
            int p = stack[--top];
            depth[p] = cyclic ? CYCLE : ++base;
        }
    }
    free(stack);
    s->chains_epoch = s->people_epoch + 1;
    return true;
}

/* True when `above` is on the management chain over `who`. A chain longer than the number of
 * people is a cycle in the data: the walk stops there. */
static bool manages(const struct state *s, int above, int who)
{
    if (s->chains_epoch != s->people_epoch + 1 && !chains_build(s)) {
        for (int depth = 0, cur = who; depth < s->n_people; depth++) {   /* no memory: by id */
            cur = state_person(s, s->people[cur].p.manager);
            if (cur < 0 || cur == above)
                return cur == above;
        }
        return false;
    }
    const int *up = s->chain_up, *depth = s->chain_depth;
    int steps = s->n_people;
    if (depth[who] >= 0 && depth[above] >= 0) {
        if (depth[above] >= depth[who])
            return false;
        steps = depth[who] - depth[above];   /* the one ancestor at above's depth */
    }
    for (int cur = who; steps-- > 0;) {
        cur = up[cur];
        if (cur < 0 || cur == above)
            return cur == above;
    }
    return false;
}

bool state_reporting_line(const struct state *s, int a, int b)
{
    return manages(s, a, b) || manages(s, b, a);
}

int state_mentor_load(const struct state *s, int person, int prog)
{
    int load = 0;
    const struct idlist *l = &s->people[person].live;   /* live matches only */
    for (int i = 0; i < l->n; i++) {
        const struct match *m = &s->matches[l->v[i] - 1];
        if (m->program != prog)
            continue;
        for (int k = 0; k < m->n_mentors; k++)
            load += m->mentors[k] == person;
    }
    return load;
}

bool state_is_matched(const struct state *s, int person, int prog)
{
    const struct idlist *l = &s->people[person].live;   /* live matches only */
    for (int i = 0; i < l->n; i++) {
        const struct match *m = &s->matches[l->v[i] - 1];
        if (m->program != prog)
            continue;
        for (int k = 0; k < m->n_mentees; k++)
            if (m->mentees[k] == person)
                return true;
    }
    return false;
}

int match_party(const struct match *m, int person)
{
    for (int i = 0; person >= 0 && i < m->n_mentors; i++)
        if (m->mentors[i] == person)
            return i;
    for (int i = 0; person >= 0 && i < m->n_mentees; i++)
        if (m->mentees[i] == person)
            return m->n_mentors + i;
    return -1;
}

/* ---- reading fields of a fact ---- */

/* cJSON_GetObjectItemCaseSensitive with the first byte compared before strcmp: facts are
 * read field by field, a few hundred thousand times a simulated year. */
static const cJSON *member(const cJSON *o, const char *k)
{
    if (!cJSON_IsObject(o))
        return NULL;
    for (const cJSON *c = o->child; c; c = c->next)
        if (c->string && c->string[0] == k[0] && strcmp(c->string, k) == 0)
            return c;
    return NULL;
}

const char *fact_str(const cJSON *o, const char *k)
{
    const cJSON *v = member(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool fact_num(const cJSON *o, const char *k, double *out)
{
    const cJSON *v = member(o, k);
    if (!cJSON_IsNumber(v))
        return false;
    *out = v->valuedouble;
    return true;
}

int fact_time(const cJSON *o, const char *k, tdm_time *out)
{
    const char *v = fact_str(o, k);
    return v ? time_parse(v, out) : ERR_INPUT;
}

char *state_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int fact_refused(struct error *err, const char *type, const char *what)
{
    return error_set(err, ERR_INPUT, NULL, 0, "%s event: %s", type, what);
}

/* ---- rules ---- */

static int parse_duration_field(const cJSON *o, const char *k, struct duration *d)
{
    const char *v = fact_str(o, k);
    char why[128];
    return v ? duration_parse(v, d, why, sizeof why) : ERR_INPUT;
}

static int apply_program(struct state *s, const cJSON *pj, struct error *err)
{
    const char *name = fact_str(pj, "name");
    const char *model = fact_str(pj, "model");
    if (!name || !model)
        return fact_refused(err, "rules", "program without name or model");
    int i = state_program(s, name);
    if (i < 0) {
        struct program *np = realloc(s->programs, (size_t)(s->n_programs + 1) * sizeof *np);
        if (!np)
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
        s->programs = np;
        i = s->n_programs++;
        memset(&s->programs[i], 0, sizeof s->programs[i]);
        s->programs[i].since = s->now;
    } else {
        tdm_time since = s->programs[i].since;
        program_free(&s->programs[i]);
        memset(&s->programs[i], 0, sizeof s->programs[i]);
        s->programs[i].since = since;
    }
    struct program *p = &s->programs[i];
    p->name = strdup(name);
    p->model = strdup(model);
    if (parse_duration_field(pj, "term", &p->term) || parse_duration_field(pj, "cadence", &p->cadence) ||
        parse_duration_field(pj, "review_every", &p->review_every) ||
        parse_duration_field(pj, "match_every", &p->match_every))
        return fact_refused(err, "rules", "program with a missing or bad duration");
    const char *obj = fact_str(pj, "objective");
    p->objective = obj && strcmp(obj, "quality") == 0 ? OBJECTIVE_QUALITY : OBJECTIVE_COVERAGE;
    p->approve = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pj, "approve"));
    p->reup = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(pj, "reup"));
    p->rotate = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pj, "rotate"));
    const cJSON *prompts = cJSON_GetObjectItemCaseSensitive(pj, "prompts");
    int n = cJSON_GetArraySize(prompts);
    if (n > 0) {
        p->prompts = calloc((size_t)n, sizeof *p->prompts);
        const cJSON *it;
        cJSON_ArrayForEach(it, prompts)
            if (cJSON_IsString(it))
                p->prompts[p->n_prompts++] = strdup(it->valuestring);
    }
    const char *field = NULL;
    char why[200], msg[300];
    int rc = lifecycle_from_json(&p->life, pj, &field, why, sizeof why);
    if (rc != 0) {
        snprintf(msg, sizeof msg, "program %s: %s %s", name, field ? field : "", why);
        return rc == ERR_SYSTEM ? error_set(err, ERR_SYSTEM, NULL, 0, "out of memory") : fact_refused(err, "rules", msg);
    }
    p->live = true;
    return 0;
}

static int apply_rules(struct state *s, const cJSON *ev, struct error *err)
{
    const char *phase = fact_str(ev, "phase");
    if (!phase)
        return fact_refused(err, "rules", "no phase");
    if (strcmp(phase, "rejected") == 0)
        return 0;   /* the old rules keep running */
    for (int i = 0; i < s->n_programs; i++)
        s->programs[i].live = false;
    const cJSON *pj;
    cJSON_ArrayForEach(pj, cJSON_GetObjectItemCaseSensitive(ev, "programs"))
        if (apply_program(s, pj, err) < 0)
            return err->code;
    for (int i = 0; i < s->n_priorities; i++)
        free(s->priorities[i]);
    free(s->priorities);
    s->priorities = NULL;
    s->n_priorities = 0;
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(ev, "priorities");
    int n = cJSON_GetArraySize(pr);
    if (n > 0) {
        s->priorities = calloc((size_t)n, sizeof *s->priorities);
        const cJSON *it;
        cJSON_ArrayForEach(it, pr)
            if (cJSON_IsString(it))
                s->priorities[s->n_priorities++] = strdup(it->valuestring);
    }
    free(s->rules_file);
    free(s->rules_sha256);
    s->rules_file = state_strdup(fact_str(ev, "file"));
    s->rules_sha256 = state_strdup(fact_str(ev, "sha256"));
    const char *clock = fact_str(ev, "clock");
    s->simulated = clock && strcmp(clock, "virtual") == 0;
    return 0;
}

/* ---- people and enrolments ---- */

static int apply_person(struct state *s, const cJSON *ev, struct error *err)
{
    s->people_epoch++;
    const char *phase = fact_str(ev, "phase");
    const cJSON *pj = cJSON_GetObjectItemCaseSensitive(ev, "person");
    if (!phase)
        return fact_refused(err, "person", "no phase");
    if (strcmp(phase, "left") == 0) {
        const char *id = cJSON_IsString(pj) ? pj->valuestring : fact_str(pj, "id");
        int i = state_person(s, id);
        if (i < 0)
            return fact_refused(err, "person", "left: no such person");
        s->people[i].left = true;
        s->people[i].version = s->people_epoch;
        return 0;
    }
    struct person p;
    int rc = 0;
    if (pj != NULL && pj == s->offer_json) {
        p = s->offer;                   /* what person_from_json(pj) would give */
        s->offer_json = NULL;
    } else {
        rc = person_from_json(pj, &p, err);
    }
    if (rc < 0)
        return rc;
    int i = state_person(s, p.id);
    if (strcmp(phase, "added") == 0 && i < 0) {
        if (state_grow(&s->people, &s->cap_people, s->n_people, sizeof *s->people) < 0 ||
            strmap_put(&s->person_index, p.id, s->n_people) < 0) {
            person_free(&p);
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
        }
        s->people[s->n_people].p = p;
        s->people[s->n_people].left = false;
        s->people[s->n_people].version = s->people_epoch;
        s->n_people++;
        return 0;
    }
    if (i < 0) {
        person_free(&p);
        return fact_refused(err, "person", "updated: no such person");
    }
    person_free(&s->people[i].p);
    s->people[i].p = p;
    s->people[i].left = false;
    s->people[i].version = s->people_epoch;
    return 0;
}

static int apply_enroll(struct state *s, const cJSON *ev, struct error *err)
{
    int person = state_person(s, fact_str(ev, "person"));
    int prog = state_program(s, fact_str(ev, "program"));
    int role = role_parse(fact_str(ev, "role"));
    if (person < 0 || prog < 0 || role < 0)
        return fact_refused(err, "enroll", "unknown person, program or role");
    if (state_enrollment(s, person, prog, role) >= 0)
        return 0;
    if (state_grow(&s->enrollments, &s->cap_enrollments, s->n_enrollments, sizeof *s->enrollments) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    if (idlist_add(&s->people[person].enrollments, s->n_enrollments) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    s->enrollments[s->n_enrollments++] = (struct enrollment){
        .person = person, .program = prog, .role = role, .waiting_since = s->now };
    return 0;
}

/* ---- matches ---- */

static int read_people(const struct state *s, const cJSON *arr, int **out, int *n)
{
    int len = cJSON_GetArraySize(arr);
    *out = calloc((size_t)(len ? len : 1), sizeof **out);
    *n = 0;
    if (!*out)
        return -ENOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        int p = cJSON_IsString(it) ? state_person(s, it->valuestring) : -1;
        if (p < 0)
            return ERR_INPUT;
        (*out)[(*n)++] = p;
    }
    return 0;
}

static void set_waiting(struct state *s, int person, int prog, tdm_time since)
{
    const struct idlist *l = &s->people[person].enrollments;
    for (int i = 0; i < l->n; i++) {
        struct enrollment *e = &s->enrollments[l->v[i]];
        if (e->program == prog && e->role != ROLE_MENTOR && e->role != ROLE_LEADER)
            e->waiting_since = since;
    }
}

/* The derived indexes a new match adds: its parties' match lists and the met pairs. */
static int index_match(struct state *s, const struct match *m)
{
    int n = m->n_mentors + m->n_mentees;
    for (int a = 0; a < n; a++) {
        int pa = a < m->n_mentors ? m->mentors[a] : m->mentees[a - m->n_mentors];
        if (idlist_add(&s->people[pa].matches, (int)m->id) < 0 ||
            (match_live(m) && idlist_add(&s->people[pa].live, (int)m->id) < 0))
            return -ENOMEM;
        /* Everyone in a group has now met everyone else in it. */
        for (int b = a + 1; b < n; b++) {
            int pb = b < m->n_mentors ? m->mentors[b] : m->mentees[b - m->n_mentors];
            met_sig_add(s, pa, pb);
            met_sig_add(s, pb, pa);
            if (u64set_add(&s->met, pair_key(pa, pb, -1)) < 0 ||
                u64set_add(&s->met_in_program, pair_key(pa, pb, m->program)) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

static int apply_match_new(struct state *s, const cJSON *ev, long long id, const char *phase,
                           struct error *err)
{
    if (id != s->n_matches + 1)
        return fact_refused(err, "match", "match ids must follow one another");
    int prog = state_program(s, fact_str(ev, "program"));
    if (prog < 0)
        return fact_refused(err, "match", "unknown program");
    tdm_time term_ends;
    if (fact_time(ev, "term_ends", &term_ends) < 0)
        return fact_refused(err, "match", "term_ends missing or not a time");
    struct match m = { .id = id, .program = prog, .started = s->now, .terms = 1, .term_ends = term_ends };
    m.phase = strcmp(phase, "proposed") == 0 ? MATCH_PROPOSED : MATCH_ACTIVE;
    m.life.last_activity = m.life.last_held = s->now;
    m.life.last_period_rating = -1;
    if (read_people(s, cJSON_GetObjectItemCaseSensitive(ev, "mentors"), &m.mentors, &m.n_mentors) ||
        read_people(s, cJSON_GetObjectItemCaseSensitive(ev, "mentees"), &m.mentees, &m.n_mentees)) {
        free(m.mentors);
        free(m.mentees);
        return fact_refused(err, "match", "unknown person in mentors or mentees");
    }
    fact_num(ev, "score", &m.score);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "acknowledge")))
        m.life.acks = calloc((size_t)(m.n_mentors + m.n_mentees), 1);
    if (state_grow(&s->matches, &s->cap_matches, s->n_matches, sizeof *s->matches) < 0 ||
        (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "acknowledge")) && !m.life.acks)) {
        free(m.mentors);
        free(m.mentees);
        free(m.life.acks);
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    }
    s->matches[s->n_matches++] = m;
    if (index_match(s, &s->matches[s->n_matches - 1]) < 0)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    return 0;
}

/* Sets an existing match's phase, keeping its parties' lists of live matches. */
static int set_phase(struct state *s, struct match *m, enum match_phase phase)
{
    bool was = match_live(m);
    m->phase = phase;
    if (was == match_live(m))
        return 0;
    for (int a = 0; a < m->n_mentors + m->n_mentees; a++) {
        int pa = a < m->n_mentors ? m->mentors[a] : m->mentees[a - m->n_mentors];
        if (was)
            idlist_drop(&s->people[pa].live, (int)m->id);
        else if (idlist_add(&s->people[pa].live, (int)m->id) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int apply_match(struct state *s, const cJSON *ev, struct error *err)
{
    const char *phase = fact_str(ev, "phase");
    double id;
    if (!phase || !fact_num(ev, "match", &id))
        return fact_refused(err, "match", "no phase or match id");
    if (strcmp(phase, "proposed") == 0 || (strcmp(phase, "active") == 0 && !state_match(s, (long long)id)))
        return apply_match_new(s, ev, (long long)id, phase, err);
    struct match *m = state_match(s, (long long)id);
    if (!m)
        return fact_refused(err, "match", "no such match");
    if (strcmp(phase, "approved") == 0 || strcmp(phase, "active") == 0) {
        if (set_phase(s, m, MATCH_ACTIVE) < 0)
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
        m->started = s->now;
        m->life.last_activity = m->life.last_held = s->now;
        fact_time(ev, "term_ends", &m->term_ends);
    } else if (strcmp(phase, "rejected") == 0) {
        set_phase(s, m, MATCH_REJECTED);   /* a drop: never fails */
        m->closed_at = s->now;
        for (int k = 0; k < m->n_mentees; k++)
            set_waiting(s, m->mentees[k], m->program, s->now);
    } else {
        return fact_refused(err, "match", "unknown phase");
    }
    return 0;
}

struct match *fact_match(const struct state *s, const cJSON *ev)
{
    double id;
    return fact_num(ev, "match", &id) ? state_match(s, (long long)id) : NULL;
}

static int apply_meeting(struct state *s, const cJSON *ev, struct error *err)
{
    struct match *m = fact_match(s, ev);
    const char *phase = fact_str(ev, "phase");
    if (!m || !phase)
        return fact_refused(err, "meeting", "no such match or no phase");
    if (strcmp(phase, "scheduled") == 0) {
        if (fact_time(ev, "at", &m->next_meeting) < 0)
            return fact_refused(err, "meeting", "scheduled without a valid at");
        /* A meeting moved to another time is the same meeting: the cadence does not advance. */
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "rescheduled")))
            m->meeting_n++;
        const char *prompt = fact_str(ev, "prompt");
        if (prompt || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "rescheduled"))) {
            free(m->life.prompt);
            m->life.prompt = state_strdup(prompt);
        }
        return 0;
    }
    m->next_meeting = 0;
    if (strcmp(phase, "held") == 0) {
        m->held++;
        m->life.last_held = s->now;
        m->life.idle_flagged = false;
        match_life_touch(s, m);
    } else if (strcmp(phase, "missed") == 0) {
        m->missed++;
    } else if (strcmp(phase, "cancelled") == 0) {
        m->cancelled++;
    } else {
        return fact_refused(err, "meeting", "unknown phase");
    }
    return 0;
}

static int apply_goal(struct state *s, const cJSON *ev, struct error *err)
{
    const char *phase = fact_str(ev, "phase");
    double id;
    if (!phase || !fact_num(ev, "goal", &id))
        return fact_refused(err, "goal", "no phase or goal id");
    if (strcmp(phase, "set") == 0) {
        struct match *m = fact_match(s, ev);
        if (!m || (long long)id != s->n_goals + 1)
            return fact_refused(err, "goal", "no such match, or goal ids out of order");
        if (state_grow(&s->goals, &s->cap_goals, s->n_goals, sizeof *s->goals) < 0)
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
        if (idlist_add(&m->goals, (int)id) < 0)
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
        struct goal *g = &s->goals[s->n_goals++];
        memset(g, 0, sizeof *g);
        g->id = (long long)id;
        g->match = m->id;
        g->text = state_strdup(fact_str(ev, "text"));
        g->measure = state_strdup(fact_str(ev, "measure"));
        fact_time(ev, "due", &g->due);
        s->goals_set++;
        m->life.goal_steps++;
        match_life_touch(s, m);
        return 0;
    }
    if (id < 1 || id > s->n_goals)
        return fact_refused(err, "goal", "no such goal");
    struct goal *g = &s->goals[(long long)id - 1];
    struct match *gm = state_match(s, g->match);
    if (gm && (strcmp(phase, "progress") == 0 || strcmp(phase, "achieved") == 0)) {
        gm->life.goal_steps++;
        match_life_touch(s, gm);
    }
    if (strcmp(phase, "progress") == 0) {
        g->progress_n++;
    } else if (strcmp(phase, "achieved") == 0) {
        g->phase = GOAL_ACHIEVED;
        s->goals_achieved++;
    } else if (strcmp(phase, "dropped") == 0) {
        g->phase = GOAL_DROPPED;
        s->goals_dropped++;
    } else {
        return fact_refused(err, "goal", "unknown phase");
    }
    return 0;
}

static int apply_feedback(struct state *s, const cJSON *ev, struct error *err)
{
    double rating;
    if (!fact_num(ev, "rating", &rating) || rating < 1 || rating > 5)
        return fact_refused(err, "feedback", "rating must be 1-5");
    struct match *m = fact_match(s, ev);
    if (m) {
        m->feedback_sum += rating;
        m->feedback_n++;
        match_life_touch(s, m);
    }
    s->feedback_sum += rating;
    s->feedback_n++;
    return 0;
}

static int apply_review(struct state *s, const cJSON *ev, struct error *err)
{
    struct match *m = fact_match(s, ev);
    if (!m)
        return fact_refused(err, "review", "no such match");
    m->reviews++;
    m->held_at_review = m->held;
    m->missed_at_review = m->missed;
    struct match_life *l = &m->life;
    l->goal_steps_at_review = l->goal_steps;
    if (m->feedback_n > l->feedback_n_at_review)
        l->last_period_rating = (m->feedback_sum - l->feedback_sum_at_review) / (m->feedback_n - l->feedback_n_at_review);
    l->feedback_sum_at_review = m->feedback_sum;
    l->feedback_n_at_review = m->feedback_n;
    s->reviews++;
    return 0;
}

static int apply_reup(struct state *s, const cJSON *ev, struct error *err)
{
    struct match *m = fact_match(s, ev);
    const char *phase = fact_str(ev, "phase");
    if (!m || !phase)
        return fact_refused(err, "reup", "no such match or no phase");
    if (strcmp(phase, "open") == 0) {
        m->reup_open = true;
        free(m->answers);
        m->answers = calloc((size_t)(m->n_mentors + m->n_mentees), 1);
        return m->answers ? 0 : error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    }
    if (strcmp(phase, "answered") == 0) {
        int who = match_party(m, state_person(s, fact_str(ev, "person")));
        const char *d = fact_str(ev, "decision");
        if (!m->reup_open || who < 0 || !d || (strcmp(d, "renew") != 0 && strcmp(d, "exit") != 0))
            return fact_refused(err, "reup", "answered: no open re-up, not a party, or a decision other than renew/exit");
        m->answers[who] = strcmp(d, "renew") == 0 ? 1 : 2;
        match_life_touch(s, m);
        return 0;
    }
    const char *outcome = fact_str(ev, "outcome");
    if (strcmp(phase, "decided") != 0 || !outcome)
        return fact_refused(err, "reup", "unknown phase or no outcome");
    m->reup_open = false;
    free(m->answers);
    m->answers = NULL;
    if (strcmp(outcome, "renew") == 0) {
        if (fact_time(ev, "term_ends", &m->term_ends) < 0)
            return fact_refused(err, "reup", "renew without term_ends");
        m->terms++;
        s->reups_renewed++;
    } else {
        s->reups_closed++;
    }
    return 0;
}

static int apply_close(struct state *s, const cJSON *ev, struct error *err)
{
    struct match *m = fact_match(s, ev);
    const char *reason = fact_str(ev, "reason");
    if (!m || !reason || !match_live(m))
        return fact_refused(err, "close", "no such live match or no reason");
    set_phase(s, m, MATCH_CLOSED);   /* a drop: never fails */
    m->closed_at = s->now;
    m->next_meeting = 0;
    m->close_reason = strdup(reason);
    for (int i = 0; close_reasons[i]; i++)
        if (strcmp(reason, close_reasons[i]) == 0)
            s->closes_by_reason[i]++;
    /* Mentees go back to the pool; they wait from now. */
    for (int k = 0; k < m->n_mentees; k++)
        set_waiting(s, m->mentees[k], m->program, s->now);
    return 0;
}

static int apply_flag(struct state *s, const cJSON *ev, struct error *err)
{
    struct match *m = fact_match(s, ev);
    int p = state_person(s, fact_str(ev, "person"));
    if (!m && p < 0)
        return fact_refused(err, "flag", "names no match or person");
    if (m) {
        m->flags++;
        /* The built-in stagnation signals are raised once until the match shows life again. */
        const char *reason = fact_str(ev, "reason");
        if (reason && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "signal"))) {
            m->life.idle_flagged |= strcmp(reason, "no_meetings") == 0;
            m->life.stalled_flagged |= strcmp(reason, "stalled") == 0;
            m->life.goals_flagged |= strcmp(reason, "no_goals") == 0;
        }
    }
    if (p >= 0)
        s->people[p].flags++;
    s->flags++;
    return 0;
}

static int apply_intro(struct state *s, const cJSON *ev, struct error *err)
{
    struct match *m = fact_match(s, ev);
    int contact = state_person(s, fact_str(ev, "contact"));
    if (!m || contact < 0)
        return fact_refused(err, "intro", "no such match or contact");
    int *g = realloc(m->guests, (size_t)(m->n_guests + 1) * sizeof *g);
    if (!g)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    m->guests = g;
    m->guests[m->n_guests++] = contact;
    match_life_touch(s, m);
    return 0;
}

static int apply_type(struct state *s, const char *type, const cJSON *ev, struct error *err)
{
    if (strcmp(type, "rules") == 0) return apply_rules(s, ev, err);
    if (strcmp(type, "person") == 0) return apply_person(s, ev, err);
    if (strcmp(type, "enroll") == 0) return apply_enroll(s, ev, err);
    if (strcmp(type, "match") == 0) return apply_match(s, ev, err);
    if (strcmp(type, "meeting") == 0) return apply_meeting(s, ev, err);
    if (strcmp(type, "goal") == 0) return apply_goal(s, ev, err);
    if (strcmp(type, "feedback") == 0) return apply_feedback(s, ev, err);
    if (strcmp(type, "review") == 0) return apply_review(s, ev, err);
    if (strcmp(type, "reup") == 0) return apply_reup(s, ev, err);
    if (strcmp(type, "close") == 0) return apply_close(s, ev, err);
    if (strcmp(type, "flag") == 0) return apply_flag(s, ev, err);
    if (strcmp(type, "note") == 0) { s->notes++; return 0; }
    if (strcmp(type, "rule.error") == 0) { s->rule_errors++; return 0; }
    if (strcmp(type, "intro") == 0) return apply_intro(s, ev, err);
    if (strcmp(type, "ack") == 0) return state_apply_ack(s, ev, err);
    if (strcmp(type, "prompt") == 0) return state_apply_prompt(s, ev, err);
    if (strcmp(type, "checkin") == 0) return state_apply_checkin(s, ev, err);
    if (strcmp(type, "request") == 0) return state_apply_request(s, ev, err);
    return error_set(err, ERR_INPUT, NULL, 0, "unknown event type \"%s\"", type);
}

int state_apply(struct state *s, const cJSON *ev, struct error *err)
{
    double seq;
    tdm_time ts;
    const char *type = fact_str(ev, "type");
    if (!fact_num(ev, "seq", &seq) || fact_time(ev, "ts", &ts) < 0 || !type)
        return error_set(err, ERR_INPUT, NULL, 0, "event without seq, ts or type");
    if ((long long)seq != s->seq + 1)
        return error_set(err, ERR_INPUT, NULL, 0, "event seq %lld after %lld", (long long)seq, s->seq);
    /* The apply functions read the event's time as s->now; a refusal puts everything back. */
    long long old_seq = s->seq;
    tdm_time old_now = s->now;
    s->seq = (long long)seq;
    s->now = ts;
    int rc = apply_type(s, type, ev, err);
    if (rc < 0) {
        s->seq = old_seq;
        s->now = old_now;
        return rc;
    }
    s->n_events++;
    return 0;
}

int state_reindex(struct state *s)
{
    u64set_free(&s->met);
    u64set_free(&s->met_in_program);
    for (int i = 0; i < s->n_people; i++) {
        s->people[i].enrollments.n = 0;
        s->people[i].matches.n = 0;
        s->people[i].live.n = 0;
        memset(s->people[i].met_sig, 0, sizeof s->people[i].met_sig);
    }
    for (int i = 0; i < s->n_enrollments; i++)
        if (idlist_add(&s->people[s->enrollments[i].person].enrollments, i) < 0)
            return ERR_SYSTEM;
    for (int i = 0; i < s->n_matches; i++) {
        s->matches[i].goals.n = 0;
        if (index_match(s, &s->matches[i]) < 0)
            return ERR_SYSTEM;
    }
    for (int g = 0; g < s->n_goals; g++) {
        struct match *m = state_match(s, s->goals[g].match);
        if (m && idlist_add(&m->goals, (int)s->goals[g].id) < 0)
            return ERR_SYSTEM;
    }
    return 0;
}

void state_counts(const struct state *s, int *people, int *live_matches)
{
    *people = *live_matches = 0;
    for (int i = 0; i < s->n_people; i++)
        *people += !s->people[i].left;
    for (int i = 0; i < s->n_matches; i++)
        *live_matches += match_live(&s->matches[i]);
}
