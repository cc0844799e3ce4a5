/* Tests for solve/groups: every answer must be a valid grouping (checked here from the
 * raw input) whose value equals an exhaustive search over groups (small instances),
 * solve_assign's optimum where the two problems coincide, or carries a
 * no-negative-cycle certificate (medium instances with departments). */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solve/assign.h"
#include "solve/flow.h"
#include "solve/groups.h"

/* ---- seeded randomness (splitmix64), one state per test ---- */

struct rng { unsigned long long s; };

static unsigned long long rng_next(struct rng *r)
{
    unsigned long long z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rng_int(struct rng *r, int lo, int hi)   /* inclusive */
{
    return lo + (int)(rng_next(r) % (unsigned long long)(hi - lo + 1));
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

/* ---- instances ---- */

struct inst {
    int n_mentors, n_mentees, n_edges, size, n_cats;
    bool distinct;
    int *groups, *category;         /* category NULL = all -1 */
    long long *priority;            /* NULL = all 0 */
    struct solve_group_edge *edges;
    enum solve_groups_objective objective;
    enum solve_groups_method method;
};

static struct solve_groups_input as_input(const struct inst *t)
{
    return (struct solve_groups_input){
        .n_mentors = t->n_mentors, .groups = t->groups,
        .n_mentees = t->n_mentees, .category = t->category, .priority = t->priority,
        .size = t->size, .distinct = t->distinct,
        .n_edges = t->n_edges, .edges = t->edges, .objective = t->objective,
        .method = t->method,
    };
}

static void inst_free(struct inst *t)
{
    free(t->groups);
    free(t->category);
    free(t->priority);
    free(t->edges);
    memset(t, 0, sizeof *t);
}

static double gen_score(struct rng *r, int kind)
{
    static const double few[] = {-1.0, 0.0, 0.5, 1.0, 2.0};
    switch (kind) {
    case 0:  return rng_int(r, -3, 6);                                 /* integers */
    case 1:  return rng_int(r, -3000, 6000) / 1000.0 + (rng_unit(r) - 0.5) * 1e-6; /* rounding */
    case 2:  return few[rng_int(r, 0, 4)];                             /* many ties */
    default: return (rng_unit(r) * 2.0 - 1.0) * 1e9;                   /* large */
    }
}

struct shape {
    int min_mentees, max_mentees, min_mentors, max_mentors;
    int max_groups, max_total_groups, max_size, max_cats;
    double density;
};

/* A random instance: every pair is allowed with probability density, some are listed
 * twice with another score, and the list is shuffled. */
static void gen(struct rng *r, struct inst *t, const struct shape *s,
                enum solve_groups_objective obj)
{
    memset(t, 0, sizeof *t);
    t->objective = obj;
    t->n_mentees = rng_int(r, s->min_mentees, s->max_mentees);
    t->n_mentors = rng_int(r, s->min_mentors, s->max_mentors);
    t->groups = malloc(((size_t)t->n_mentors + 1) * sizeof *t->groups);
    int total = 0;
    for (int i = 0; i < t->n_mentors; i++) {
        int g = rng_int(r, 0, s->max_groups);
        if (total + g > s->max_total_groups)
            g = s->max_total_groups - total;
        t->groups[i] = g;
        total += g;
    }
    t->size = rng_int(r, 0, 7) == 0 ? 0 : rng_int(r, 1, s->max_size);
    t->distinct = rng_int(r, 0, 4) != 0;
    t->n_cats = rng_int(r, 1, s->max_cats);
    if (rng_int(r, 0, 7) != 0) {
        t->category = malloc(((size_t)t->n_mentees + 1) * sizeof *t->category);
        for (int j = 0; j < t->n_mentees; j++)
            t->category[j] = rng_int(r, 0, 5) == 0 ? -1 : rng_int(r, 0, t->n_cats - 1);
    }
    int prio_kind = rng_int(r, 0, 2);
    if (prio_kind > 0) {
        t->priority = malloc(((size_t)t->n_mentees + 1) * sizeof *t->priority);
        for (int j = 0; j < t->n_mentees; j++)
            t->priority[j] = prio_kind == 1 ? rng_int(r, 0, 3) : (long long)(rng_unit(r) * 1e10);
    }
    int score_kind = rng_int(r, 0, 3);
    size_t room = 2 * (size_t)t->n_mentees * (size_t)t->n_mentors + 1;
    t->edges = malloc(room * sizeof *t->edges);
    for (int j = 0; j < t->n_mentees; j++)
        for (int i = 0; i < t->n_mentors; i++) {
            if (rng_unit(r) >= s->density)
                continue;
            t->edges[t->n_edges++] = (struct solve_group_edge){i, j, gen_score(r, score_kind)};
            if (rng_int(r, 0, 9) == 0)
                t->edges[t->n_edges++] = (struct solve_group_edge){i, j, gen_score(r, score_kind)};
        }
    for (int e = t->n_edges - 1; e > 0; e--) {
        int k = rng_int(r, 0, e);
        struct solve_group_edge x = t->edges[e];
        t->edges[e] = t->edges[k];
        t->edges[k] = x;
    }
}

/* ---- reference computations, from the raw input only ---- */

struct table { int m; long long *micro; unsigned char *listed; };

static struct table table_make(const struct inst *t)
{
    size_t cells = (size_t)t->n_mentees * (size_t)t->n_mentors + 1;
    struct table tb = {t->n_mentors, malloc(cells * sizeof(long long)), calloc(cells, 1)};
    for (int e = 0; e < t->n_edges; e++) {
        size_t c = (size_t)t->edges[e].mentee * (size_t)tb.m + (size_t)t->edges[e].mentor;
        long long micro = llround(t->edges[e].score * 1e6);
        if (!tb.listed[c] || micro > tb.micro[c])
            tb.micro[c] = micro;
        tb.listed[c] = 1;
    }
    return tb;
}

static void table_free(struct table *tb)
{
    free(tb->micro);
    free(tb->listed);
}

static long long prio(const struct inst *t, int j)
{
    return t->priority ? t->priority[j] : 0;
}

static int cat(const struct inst *t, int j)
{
    return t->category ? t->category[j] : -1;
}

struct value { long long count, priority, score_micro; };

static void key_of(enum solve_groups_objective obj, struct value v, long long k[3])
{
    if (obj == SOLVE_GROUPS_COVERAGE) {
        k[0] = v.count; k[1] = v.priority; k[2] = v.score_micro;
    } else {
        k[0] = v.score_micro; k[1] = v.count; k[2] = v.priority;
    }
}

static int key_cmp(enum solve_groups_objective obj, struct value a, struct value b)
{
    long long ka[3], kb[3];
    key_of(obj, a, ka);
    key_of(obj, b, kb);
    for (int k = 0; k < 3; k++)
        if (ka[k] != kb[k])
            return ka[k] < kb[k] ? -1 : 1;
    return 0;
}

static int value_eq(struct value a, struct value b)
{
    return a.count == b.count && a.priority == b.priority && a.score_micro == b.score_micro;
}

static int total_groups(const struct inst *t)
{
    int s = 0;
    for (int i = 0; i < t->n_mentors; i++)
        s += t->groups[i];
    return s;
}

/* The mentor leading group g (groups numbered mentor by mentor). */
static int leader(const struct inst *t, int g)
{
    for (int i = 0; i < t->n_mentors; i++) {
        if (g < t->groups[i])
            return i;
        g -= t->groups[i];
    }
    return -1;
}

/* Checks every rule of a grouping; returns 0 and its value when valid, else -1 with
 * the reason in why. */
static int grouping_check(const struct inst *t, const struct table *tb, const int *group_of,
                          int n_groups, struct value *v, char *why, size_t why_len)
{
    int G = total_groups(t), rc = -1;
    *v = (struct value){0, 0, 0};
    int *load = calloc((size_t)G + 1, sizeof *load);
    if (n_groups != G) {
        snprintf(why, why_len, "n_groups %d, want %d", n_groups, G);
        goto out;
    }
    for (int j = 0; j < t->n_mentees; j++) {
        int g = group_of[j];
        if (g < -1 || g >= G) {
            snprintf(why, why_len, "mentee %d in group %d of %d", j, g, G);
            goto out;
        }
        if (g < 0)
            continue;
        int i = leader(t, g);
        size_t c = (size_t)j * (size_t)tb->m + (size_t)i;
        if (!tb->listed[c]) {
            snprintf(why, why_len, "pair (%d,%d) is not listed", i, j);
            goto out;
        }
        if (++load[g] > t->size) {
            snprintf(why, why_len, "group %d over size %d", g, t->size);
            goto out;
        }
        if (t->distinct && cat(t, j) >= 0)
            for (int k = 0; k < j; k++)
                if (group_of[k] == g && cat(t, k) == cat(t, j)) {
                    snprintf(why, why_len, "mentees %d and %d of category %d in group %d",
                             k, j, cat(t, j), g);
                    goto out;
                }
        v->count++;
        v->priority += prio(t, j);
        v->score_micro += tb->micro[c];
    }
    rc = 0;
out:
    free(load);
    return rc;
}

static struct value checked_value(const struct inst *t, const struct table *tb,
                                  const int *group_of, int n_groups, const char *what)
{
    struct value v;
    char why[160];
    int rc = grouping_check(t, tb, group_of, n_groups, &v, why, sizeof why);
    cr_assert_eq(rc, 0, "%s: invalid grouping: %s", what, why);
    return v;
}

/* Exhaustive search over groups (not mentors), so it owes nothing to the solver's
 * model: every mentee joins no group or any group that the rules allow. */
struct brute {
    const struct inst *t;
    const struct table *tb;
    int G, *lead, *load, *members;     /* members[g * n + k]: the k-th mentee of group g */
    struct value cur, best;
};

static void brute_rec(struct brute *b, int j)
{
    const struct inst *t = b->t;
    if (j == t->n_mentees) {
        if (key_cmp(t->objective, b->cur, b->best) > 0)
            b->best = b->cur;
        return;
    }
    brute_rec(b, j + 1);
    for (int g = 0; g < b->G; g++) {
        int i = b->lead[g];
        size_t c = (size_t)j * (size_t)b->tb->m + (size_t)i;
        if (!b->tb->listed[c] || b->load[g] >= t->size)
            continue;
        int clash = 0;
        if (t->distinct && cat(t, j) >= 0)
            for (int k = 0; k < b->load[g]; k++)
                clash |= cat(t, b->members[g * t->n_mentees + k]) == cat(t, j);
        if (clash)
            continue;
        struct value saved = b->cur;
        b->members[g * t->n_mentees + b->load[g]++] = j;
        b->cur.count++;
        b->cur.priority += prio(t, j);
        b->cur.score_micro += b->tb->micro[c];
        brute_rec(b, j + 1);
        b->load[g]--;
        b->cur = saved;
    }
}

static struct value brute_best(const struct inst *t, const struct table *tb)
{
    struct brute b = {.t = t, .tb = tb, .G = total_groups(t)};
    b.lead = malloc(((size_t)b.G + 1) * sizeof *b.lead);
    b.load = calloc((size_t)b.G + 1, sizeof *b.load);
    b.members = malloc(((size_t)b.G * (size_t)t->n_mentees + 1) * sizeof *b.members);
    for (int g = 0; g < b.G; g++)
        b.lead[g] = leader(t, g);
    brute_rec(&b, 0);
    free(b.lead);
    free(b.load);
    free(b.members);
    return b.best;
}

/* Optimality certificate for larger instances: the grouping as a circulation
 *   H -> mentee -> (mentor, category) or mentor -> mentor -> H
 * (caps 1, 1, groups[i], groups[i] * size) is optimal iff its residual graph has no
 * cycle of lexicographically negative cost (cost = -gain). This trusts the model's
 * equivalence, which the brute-force tests check on small instances. Bellman-Ford from
 * a virtual source. Returns 1 when optimal. */
struct arc { int u, v; long long c[3]; };

static int certify(const struct inst *t, const struct table *tb, const int *group_of)
{
    int n = t->n_mentees, m = t->n_mentors, C = t->n_cats, H = 0;
    int nv = 1 + n + m + m * C;
    size_t room = 2 * ((size_t)n * (size_t)m + (size_t)n + (size_t)m * (size_t)(C + 1) + 1);
    struct arc *arcs = malloc(room * sizeof *arcs);
    int na = 0;
    int *mentor_of = malloc(((size_t)n + 1) * sizeof *mentor_of);
    int *load = calloc((size_t)m + 1, sizeof *load);
    int *cat_load = calloc((size_t)m * (size_t)C + 1, sizeof *cat_load);
    for (int j = 0; j < n; j++) {
        mentor_of[j] = group_of[j] < 0 ? -1 : leader(t, group_of[j]);
        if (mentor_of[j] >= 0) {
            load[mentor_of[j]]++;
            if (t->distinct && cat(t, j) >= 0)
                cat_load[mentor_of[j] * C + cat(t, j)]++;
        }
    }
    for (int j = 0; j < n; j++) {
        arcs[na++] = mentor_of[j] >= 0 ? (struct arc){1 + j, H, {0, 0, 0}}
                                       : (struct arc){H, 1 + j, {0, 0, 0}};
        for (int i = 0; i < m; i++) {
            size_t c = (size_t)j * (size_t)m + (size_t)i;
            if (!tb->listed[c] || t->groups[i] == 0 || t->size == 0)
                continue;
            int to = (t->distinct && cat(t, j) >= 0) ? 1 + n + m + i * C + cat(t, j) : 1 + n + i;
            struct value g1 = {1, prio(t, j), tb->micro[c]};
            long long k[3];
            key_of(t->objective, g1, k);
            if (mentor_of[j] == i)
                arcs[na++] = (struct arc){to, 1 + j, {k[0], k[1], k[2]}};
            else
                arcs[na++] = (struct arc){1 + j, to, {-k[0], -k[1], -k[2]}};
        }
    }
    for (int i = 0; i < m; i++) {
        for (int c = 0; c < C; c++) {
            int node = 1 + n + m + i * C + c, fl = cat_load[i * C + c];
            if (fl < t->groups[i])
                arcs[na++] = (struct arc){node, 1 + n + i, {0, 0, 0}};
            if (fl > 0)
                arcs[na++] = (struct arc){1 + n + i, node, {0, 0, 0}};
        }
        if (load[i] < (long long)t->groups[i] * t->size)
            arcs[na++] = (struct arc){1 + n + i, H, {0, 0, 0}};
        if (load[i] > 0)
            arcs[na++] = (struct arc){H, 1 + n + i, {0, 0, 0}};
    }
    long long (*d)[3] = calloc((size_t)nv, sizeof *d);
    int changed = 1;
    for (int round = 0; round < nv && changed; round++) {
        changed = 0;
        for (int a = 0; a < na; a++) {
            long long nd[3];
            for (int k = 0; k < 3; k++)
                nd[k] = d[arcs[a].u][k] + arcs[a].c[k];
            int less = 0;
            for (int k = 0; k < 3; k++)
                if (nd[k] != d[arcs[a].v][k]) {
                    less = nd[k] < d[arcs[a].v][k];
                    break;
                }
            if (less) {
                memcpy(d[arcs[a].v], nd, sizeof nd);
                changed = 1;
            }
        }
    }
    free(d);
    free(arcs);
    free(mentor_of);
    free(load);
    free(cat_load);
    return !changed;   /* still relaxing after nv rounds: a negative cycle */
}

/* ---- randomized checks ---- */

/* Priorities of a first tick plus waiting seconds (1e12 + s): what tandem's matching hands
 * the solvers, and the largest values cost scaling's scalar must take. */
static void huge_priorities(struct rng *r, struct inst *t, int spread)
{
    free(t->priority);
    t->priority = malloc(((size_t)t->n_mentees + 1) * sizeof *t->priority);
    for (int j = 0; j < t->n_mentees; j++)
        t->priority[j] = 1000000000000LL + rng_int(r, 0, spread);
}

static void brute_many_with(enum solve_groups_objective obj, unsigned long long seed0, int count,
                            enum solve_groups_method method)
{
    int ran = 0;
    static const double densities[] = {0.3, 0.6, 0.9, 1.0};
    for (int k = 0; k < count; k++) {
        unsigned long long seed = seed0 + (unsigned long long)k;
        struct rng r = {seed};
        struct inst t;
        /* Mostly the larger sizes, where mistakes hide; every eighth from zero up. */
        int lo = k % 8 == 0 ? 0 : 1;
        struct shape s = {4 * lo, 7, lo, 3, 3, 4, 3, 3, densities[k % 4]};
        gen(&r, &t, &s, obj);
        t.method = method;
        if (method == SOLVE_GROUPS_SCALING && k % 3 == 1)
            huge_priorities(&r, &t, k % 2 ? 3 : 40000000);
        struct solve_groups_input in = as_input(&t);
        struct table tb = table_make(&t);
        int group_of[8], n_groups = -7;
        enum solve_groups_method used = SOLVE_GROUPS_AUTO;
        int rc = solve_groups_used(&in, group_of, &n_groups, &used);
        cr_assert_eq(rc, 0, "seed %llu: rc %d", seed, rc);
        ran += used == method;
        cr_assert(method == SOLVE_GROUPS_AUTO || used == method || used == SOLVE_GROUPS_AUTO,
                  "seed %llu: asked for method %d, ran %d", seed, (int)method, (int)used);
        struct value got = checked_value(&t, &tb, group_of, n_groups, "brute");
        struct value want = brute_best(&t, &tb);
        cr_assert(value_eq(got, want),
                  "seed %llu obj %d: got (%lld,%lld,%lld) want (%lld,%lld,%lld)", seed,
                  (int)obj, got.count, got.priority, got.score_micro, want.count,
                  want.priority, want.score_micro);
        table_free(&tb);
        inst_free(&t);
    }
    /* An instance with no usable pair (size 0, no group, no edge) reports AUTO. */
    if (method != SOLVE_GROUPS_AUTO)
        cr_assert_geq(ran, count / 2, "method %d ran on only %d of %d", (int)method, ran, count);
}

static void brute_many(enum solve_groups_objective obj, unsigned long long seed0, int count)
{
    brute_many_with(obj, seed0, count, SOLVE_GROUPS_AUTO);
}

Test(solve_groups, brute_force_coverage, .timeout = 30)
{
    brute_many(SOLVE_GROUPS_COVERAGE, 1000, 4000);
}

Test(solve_groups, brute_force_quality, .timeout = 30)
{
    brute_many(SOLVE_GROUPS_QUALITY, 300000, 4000);
}

Test(solve_groups, brute_force_ssp_and_scaling, .timeout = 30)
{
    brute_many_with(SOLVE_GROUPS_COVERAGE, 10000, 2000, SOLVE_GROUPS_SSP);
    brute_many_with(SOLVE_GROUPS_QUALITY, 20000, 2000, SOLVE_GROUPS_SSP);
    brute_many_with(SOLVE_GROUPS_COVERAGE, 30000, 4000, SOLVE_GROUPS_SCALING);
    brute_many_with(SOLVE_GROUPS_QUALITY, 40000, 4000, SOLVE_GROUPS_SCALING);
}

/* Mentors leading several groups, where the split into groups matters most. */
Test(solve_groups, brute_force_several_groups_per_mentor, .timeout = 30)
{
    for (int k = 0; k < 1200; k++) {
        unsigned long long seed = 5000000 + (unsigned long long)k;
        struct rng r = {seed};
        struct inst t;
        struct shape s = {5, 7, 1, 2, 3, 4, 2, 2, 1.0};
        gen(&r, &t, &s, k % 2 ? SOLVE_GROUPS_QUALITY : SOLVE_GROUPS_COVERAGE);
        t.distinct = true;
        t.method = k % 4 < 2 ? SOLVE_GROUPS_SSP : SOLVE_GROUPS_SCALING;
        struct solve_groups_input in = as_input(&t);
        struct table tb = table_make(&t);
        int group_of[8], n_groups;
        cr_assert_eq(solve_groups(&in, group_of, &n_groups), 0);
        struct value got = checked_value(&t, &tb, group_of, n_groups, "several");
        struct value want = brute_best(&t, &tb);
        cr_assert(value_eq(got, want), "seed %llu: differs from brute force", seed);
        table_free(&tb);
        inst_free(&t);
    }
}

static void certify_many(enum solve_groups_objective obj, unsigned long long seed0, int count)
{
    for (int k = 0; k < count; k++) {
        unsigned long long seed = seed0 + (unsigned long long)k;
        struct rng r = {seed};
        struct inst t;
        struct shape s = {0, 80, 0, 14, 3, 1000, 5, 6, 0.05 + 0.3 * rng_unit(&r)};
        gen(&r, &t, &s, obj);
        if (k % 4 == 3)
            huge_priorities(&r, &t, 90000000);
        struct table tb = table_make(&t);
        int *group_of = malloc(((size_t)t.n_mentees + 1) * sizeof *group_of), n_groups;
        struct value v[2];
        for (int q = 0; q < 2; q++) {
            t.method = q == 0 ? SOLVE_GROUPS_SSP : SOLVE_GROUPS_SCALING;
            struct solve_groups_input in = as_input(&t);
            cr_assert_eq(solve_groups(&in, group_of, &n_groups), 0, "seed %llu", seed);
            v[q] = checked_value(&t, &tb, group_of, n_groups, "certify");
            cr_assert(certify(&t, &tb, group_of), "seed %llu obj %d method %d: not optimal",
                      seed, (int)obj, (int)t.method);
        }
        cr_assert(value_eq(v[0], v[1]), "seed %llu: ssp and scaling values differ", seed);
        free(group_of);
        table_free(&tb);
        inst_free(&t);
    }
}

Test(solve_groups, certificate_medium_coverage, .timeout = 30)
{
    certify_many(SOLVE_GROUPS_COVERAGE, 7000000, 400);
}

Test(solve_groups, certificate_medium_quality, .timeout = 30)
{
    certify_many(SOLVE_GROUPS_QUALITY, 8000000, 400);
}

/* Where categories cannot bind (not distinct, all -1, or all different), groups is
 * assignment with capacity groups[i] * size: solve_assign, a separate solver, must
 * reach the same value. */
Test(solve_groups, equals_solve_assign_when_categories_cannot_bind, .timeout = 30)
{
    for (int k = 0; k < 150; k++) {
        unsigned long long seed = 9100000 + (unsigned long long)k;
        struct rng r = {seed};
        struct inst t;
        struct shape s = {0, 150, 0, 25, 2, 1000, 6, 4, 0.02 + 0.2 * rng_unit(&r)};
        gen(&r, &t, &s, k % 2 ? SOLVE_GROUPS_QUALITY : SOLVE_GROUPS_COVERAGE);
        int how = k % 3;
        if (how == 0) {
            t.distinct = false;
        } else {
            t.distinct = true;
            free(t.category);
            t.category = malloc(((size_t)t.n_mentees + 1) * sizeof *t.category);
            for (int j = 0; j < t.n_mentees; j++)
                t.category[j] = how == 1 ? -1 : j;
        }
        struct solve_groups_input in = as_input(&t);
        struct table tb = table_make(&t);
        int *group_of = malloc(((size_t)t.n_mentees + 1) * sizeof *group_of), n_groups;
        int *mentor_of = malloc(((size_t)t.n_mentees + 1) * sizeof *mentor_of);
        int *cap = malloc(((size_t)t.n_mentors + 1) * sizeof *cap);
        struct solve_edge *ae = malloc(((size_t)t.n_edges + 1) * sizeof *ae);
        for (int i = 0; i < t.n_mentors; i++)
            cap[i] = t.groups[i] * t.size;
        for (int e = 0; e < t.n_edges; e++)
            ae[e] = (struct solve_edge){t.edges[e].mentor, t.edges[e].mentee, t.edges[e].score};
        struct solve_assign_input ain = {
            .n_mentors = t.n_mentors, .capacity = cap, .n_mentees = t.n_mentees,
            .priority = t.priority, .n_edges = t.n_edges, .edges = ae,
            .objective = t.objective == SOLVE_GROUPS_QUALITY ? SOLVE_QUALITY : SOLVE_COVERAGE,
        };
        cr_assert_eq(solve_groups(&in, group_of, &n_groups), 0);
        cr_assert_eq(solve_assign(&ain, mentor_of), 0);
        struct value got = checked_value(&t, &tb, group_of, n_groups, "vs assign");
        struct solve_value want = solve_assign_value(&ain, mentor_of);
        cr_assert(got.count == want.count && got.priority == want.priority &&
                  got.score_micro == want.score_micro,
                  "seed %llu how %d: groups (%lld,%lld,%lld) assign (%lld,%lld,%lld)", seed, how,
                  got.count, got.priority, got.score_micro, want.count, want.priority,
                  want.score_micro);
        free(group_of); free(mentor_of); free(cap); free(ae);
        table_free(&tb);
        inst_free(&t);
    }
}

/* Priorities spread over 2^50 with scores of +-1e9 make a scalar (see costscale.c) past
 * 128 bits with room for prices: cost scaling refuses, and the SSP method answers,
 * optimally. */
Test(solve_groups, scaling_refuses_and_falls_back_to_ssp)
{
    for (int k = 0; k < 8; k++) {
        struct rng r = {9200000 + (unsigned long long)k};
        struct inst t;
        struct shape s = {60, 80, 5, 14, 3, 1000, 5, 6, 0.2};
        gen(&r, &t, &s, k % 2 ? SOLVE_GROUPS_QUALITY : SOLVE_GROUPS_COVERAGE);
        free(t.priority);
        t.priority = malloc(((size_t)t.n_mentees + 1) * sizeof *t.priority);
        for (int j = 0; j < t.n_mentees; j++)
            t.priority[j] = (long long)(rng_next(&r) >> 14);
        for (int e = 0; e < t.n_edges; e++)
            t.edges[e].score = (rng_unit(&r) * 2 - 1) * 1e9;
        t.size = 3;
        t.method = SOLVE_GROUPS_SCALING;
        struct solve_groups_input in = as_input(&t);
        struct table tb = table_make(&t);
        int *group_of = malloc(((size_t)t.n_mentees + 1) * sizeof *group_of), n_groups;
        enum solve_groups_method used;
        cr_assert_eq(solve_groups_used(&in, group_of, &n_groups, &used), 0);
        cr_assert_eq(used, SOLVE_GROUPS_SSP, "seed %d: ran %d", k, (int)used);
        (void)checked_value(&t, &tb, group_of, n_groups, "fallback");
        cr_assert(certify(&t, &tb, group_of), "seed %d: not optimal", k);
        free(group_of);
        table_free(&tb);
        inst_free(&t);
    }
}

/* The shape that made the SSP method slow (senior_leader: 28 mentees a seat-scarce mentor,
 * 5 candidates each, scores 1 or 2, equal first-tick priorities): AUTO gives up on SSP past
 * its budget and answers by cost scaling, with SSP's value; with seats for everyone and
 * spread scores, SSP stays. */
Test(solve_groups, auto_turns_to_scaling_when_searches_grow, .timeout = 30)
{
    for (int k = 0; k < 2; k++) {
        struct rng r = {9300000 + (unsigned long long)k};
        struct inst t = {.n_mentees = 2800, .size = 12, .objective = SOLVE_GROUPS_COVERAGE};
        t.n_mentors = k == 0 ? t.n_mentees / 28 : t.n_mentees / 4;
        t.groups = malloc((size_t)t.n_mentors * sizeof *t.groups);
        for (int i = 0; i < t.n_mentors; i++)
            t.groups[i] = 1;
        huge_priorities(&r, &t, 0);
        t.edges = malloc((size_t)t.n_mentees * 5 * sizeof *t.edges);
        for (int j = 0; j < t.n_mentees; j++)
            for (int q = 0; q < 5; q++)
                t.edges[t.n_edges++] = (struct solve_group_edge){
                    rng_int(&r, 0, t.n_mentors - 1), j,
                    k == 0 ? 1 + (rng_int(&r, 0, 11) != 0) : rng_int(&r, 0, 1000000) / 1e3};
        struct table tb = table_make(&t);
        int *group_of = malloc((size_t)t.n_mentees * sizeof *group_of), n_groups;
        enum solve_groups_method used;
        struct solve_groups_input in = as_input(&t);
        cr_assert_eq(solve_groups_used(&in, group_of, &n_groups, &used), 0);
        cr_assert_eq(used, k == 0 ? SOLVE_GROUPS_SCALING : SOLVE_GROUPS_SSP, "k %d: ran %d", k, (int)used);
        struct value a = checked_value(&t, &tb, group_of, n_groups, "auto");
        t.method = SOLVE_GROUPS_SSP;
        in = as_input(&t);
        cr_assert_eq(solve_groups_used(&in, group_of, &n_groups, &used), 0);
        cr_assert_eq(used, SOLVE_GROUPS_SSP);
        struct value b = checked_value(&t, &tb, group_of, n_groups, "ssp");
        cr_assert(value_eq(a, b), "k %d: auto (%lld,%lld,%lld) ssp (%lld,%lld,%lld)", k,
                  a.count, a.priority, a.score_micro, b.count, b.priority, b.score_micro);
        free(group_of);
        table_free(&tb);
        inst_free(&t);
    }
}

/* The checks above must be able to fail. */
Test(solve_groups, checkers_catch_bad_and_worse_groupings)
{
    int groups[2] = {1, 1}, category[3] = {0, 0, 1};
    struct solve_group_edge e[4] = {{0, 0, 1}, {0, 1, 1}, {0, 2, 1}, {1, 1, 1}};
    struct inst t = {.n_mentors = 2, .n_mentees = 3, .n_edges = 4, .size = 2, .n_cats = 2,
                     .distinct = true, .groups = groups, .category = category, .edges = e,
                     .objective = SOLVE_GROUPS_COVERAGE};
    struct table tb = table_make(&t);
    struct value v;
    char why[160];
    int same_cat[3] = {0, 0, -1}, over[3] = {0, 0, 0}, unlisted[3] = {1, -1, -1};
    int range[3] = {2, -1, -1}, best[3] = {0, 1, 0}, worse[3] = {0, -1, 0};
    category[1] = 1; category[2] = 2;       /* three kinds, so only the size is broken */
    cr_assert_neq(grouping_check(&t, &tb, over, 2, &v, why, sizeof why), 0);
    category[1] = 0; category[2] = 1;
    cr_assert_neq(grouping_check(&t, &tb, same_cat, 2, &v, why, sizeof why), 0);
    cr_assert_neq(grouping_check(&t, &tb, unlisted, 2, &v, why, sizeof why), 0);
    cr_assert_neq(grouping_check(&t, &tb, range, 2, &v, why, sizeof why), 0);
    cr_assert_neq(grouping_check(&t, &tb, best, 3, &v, why, sizeof why), 0);
    cr_assert_eq(grouping_check(&t, &tb, best, 2, &v, why, sizeof why), 0, "%s", why);
    cr_assert_eq(v.count, 3);
    cr_assert_eq(grouping_check(&t, &tb, worse, 2, &v, why, sizeof why), 0, "%s", why);
    cr_assert_lt(key_cmp(t.objective, v, brute_best(&t, &tb)), 0);
    cr_assert_not(certify(&t, &tb, worse));
    cr_assert(certify(&t, &tb, best));
    table_free(&tb);
}

Test(solve_groups, deterministic_and_independent_of_edge_order, .timeout = 30)
{
    for (int k = 0; k < 80; k++) {
        struct rng r = {910000 + (unsigned long long)k};
        struct inst t;
        struct shape s = {20, 80, 1, 15, 3, 1000, 4, 5, 0.3};
        gen(&r, &t, &s, k % 2 ? SOLVE_GROUPS_QUALITY : SOLVE_GROUPS_COVERAGE);
        t.method = k < 40 ? SOLVE_GROUPS_AUTO : SOLVE_GROUPS_SCALING;
        struct solve_groups_input in = as_input(&t);
        size_t sz = (size_t)t.n_mentees * sizeof(int);
        int *a = malloc(sz), *b = malloc(sz), *c = malloc(sz), na, nb, nc;
        cr_assert_eq(solve_groups(&in, a, &na), 0);
        cr_assert_eq(solve_groups(&in, b, &nb), 0);
        cr_assert(na == nb && memcmp(a, b, sz) == 0, "seed %d: two runs differ", k);
        for (int e = t.n_edges - 1; e > 0; e--) {
            int x = rng_int(&r, 0, e);
            struct solve_group_edge tmp = t.edges[e];
            t.edges[e] = t.edges[x];
            t.edges[x] = tmp;
        }
        cr_assert_eq(solve_groups(&in, c, &nc), 0);
        cr_assert(na == nc && memcmp(a, c, sz) == 0, "seed %d: edge order changed the answer", k);
        free(a); free(b); free(c);
        inst_free(&t);
    }
}

/* ---- the rules, one at a time ---- */

static void solve_ok(const struct solve_groups_input *in, int *group_of, int *n_groups)
{
    int rc = solve_groups(in, group_of, n_groups);
    cr_assert_eq(rc, 0, "rc %d", rc);
}

Test(solve_groups, one_of_each_department_per_group)
{
    int groups[1] = {1}, category[3] = {4, 4, 4}, g[3], ng;
    struct solve_group_edge e[3] = {{0, 0, 1}, {0, 1, 3}, {0, 2, 2}};
    struct solve_groups_input in = {.n_mentors = 1, .groups = groups, .n_mentees = 3,
                                    .category = category, .size = 3, .distinct = true,
                                    .n_edges = 3, .edges = e};
    solve_ok(&in, g, &ng);
    cr_assert(ng == 1 && g[0] == -1 && g[1] == 0 && g[2] == -1, "the best-scored one alone");
    in.distinct = false;
    solve_ok(&in, g, &ng);
    cr_assert(g[0] == 0 && g[1] == 0 && g[2] == 0, "without distinct all three fit");
}

Test(solve_groups, no_department_is_always_allowed)
{
    int groups[1] = {1}, category[4] = {-1, -1, 2, -1}, g[4], ng;
    struct solve_group_edge e[4] = {{0, 0, 1}, {0, 1, 1}, {0, 2, 1}, {0, 3, 1}};
    struct solve_groups_input in = {.n_mentors = 1, .groups = groups, .n_mentees = 4,
                                    .category = category, .size = 4, .distinct = true,
                                    .n_edges = 4, .edges = e};
    solve_ok(&in, g, &ng);
    for (int j = 0; j < 4; j++)
        cr_assert_eq(g[j], 0);
    in.category = NULL;             /* NULL: nobody has one */
    solve_ok(&in, g, &ng);
    for (int j = 0; j < 4; j++)
        cr_assert_eq(g[j], 0);
}

/* A mentor with two groups of two takes two of each department, one per group. */
Test(solve_groups, several_groups_split_departments)
{
    int groups[1] = {2}, category[5] = {0, 0, 1, 1, 0}, g[5], ng;
    struct solve_group_edge e[5] = {{0, 0, 1}, {0, 1, 1}, {0, 2, 1}, {0, 3, 1}, {0, 4, 1}};
    long long pr[5] = {0, 0, 0, 0, 9};
    struct solve_groups_input in = {.n_mentors = 1, .groups = groups, .n_mentees = 5,
                                    .category = category, .priority = pr, .size = 2,
                                    .distinct = true, .n_edges = 5, .edges = e};
    solve_ok(&in, g, &ng);
    cr_assert_eq(ng, 2);
    cr_assert(g[4] >= 0, "the one who waited longest is in");
    cr_assert(g[2] >= 0 && g[3] >= 0 && g[2] != g[3]);
    cr_assert((g[0] < 0) != (g[1] < 0), "one of mentees 0 and 1 makes the second department 0");
    int dep0 = g[0] >= 0 ? g[0] : g[1];
    cr_assert(dep0 != g[4]);
}

/* Groups are numbered mentor by mentor; empty groups count; sizes are balanced. */
Test(solve_groups, numbering_and_balance)
{
    int groups[3] = {2, 0, 3}, g[7], ng;
    struct solve_group_edge e[7];
    for (int j = 0; j < 7; j++)
        e[j] = (struct solve_group_edge){j < 2 ? 0 : 2, j, 1};
    struct solve_groups_input in = {.n_mentors = 3, .groups = groups, .n_mentees = 7,
                                    .size = 4, .n_edges = 7, .edges = e};
    solve_ok(&in, g, &ng);
    cr_assert_eq(ng, 5);
    cr_assert(g[0] >= 0 && g[0] < 2 && g[1] >= 0 && g[1] < 2 && g[0] != g[1],
              "mentor 0's two mentees spread over groups 0 and 1");
    int load[5] = {0};
    for (int j = 2; j < 7; j++) {
        cr_assert(g[j] >= 2 && g[j] < 5, "mentor 2's groups are 2, 3, 4");
        load[g[j]]++;
    }
    for (int k = 2; k < 5; k++)
        cr_assert(load[k] == 1 || load[k] == 2, "five over three groups: 2, 2, 1");
}

Test(solve_groups, objectives_disagree_as_specified)
{
    /* Groups of one: mentee 0 with mentor 0 scores 5 alone; mentee 0 with mentor 1
     * and mentee 1 with mentor 0 place two for a total of 2. */
    int groups[2] = {1, 1}, g[3], ng;
    struct solve_group_edge e[3] = {{0, 0, 5}, {0, 1, 1}, {1, 0, 1}};
    struct solve_groups_input in = {.n_mentors = 2, .groups = groups, .n_mentees = 3,
                                    .size = 1, .n_edges = 3, .edges = e,
                                    .objective = SOLVE_GROUPS_COVERAGE};
    solve_ok(&in, g, &ng);
    cr_assert(g[0] == 1 && g[1] == 0, "coverage places two (total score 2)");
    in.objective = SOLVE_GROUPS_QUALITY;
    solve_ok(&in, g, &ng);
    cr_assert(g[0] == 0 && g[1] == -1, "quality takes the 5");
    /* Quality leaves out a negative pair that coverage takes. */
    struct solve_group_edge neg[1] = {{0, 2, -1}};
    in.n_edges = 1; in.edges = neg;
    solve_ok(&in, g, &ng);
    cr_assert_eq(g[2], -1);
    in.objective = SOLVE_GROUPS_COVERAGE;
    solve_ok(&in, g, &ng);
    cr_assert_eq(g[2], 0);
}

Test(solve_groups, longest_waiting_first_when_seats_are_short)
{
    int groups[1] = {1}, g[4], ng;
    long long pr[4] = {1, 7, 3, 7};
    struct solve_group_edge e[4] = {{0, 0, 9}, {0, 1, 1}, {0, 2, 9}, {0, 3, 1}};
    struct solve_groups_input in = {.n_mentors = 1, .groups = groups, .n_mentees = 4,
                                    .priority = pr, .size = 2, .n_edges = 4, .edges = e};
    solve_ok(&in, g, &ng);
    cr_assert(g[0] == -1 && g[1] == 0 && g[2] == -1 && g[3] == 0);
}

Test(solve_groups, duplicate_edge_counts_its_higher_score)
{
    int groups[2] = {1, 1}, g[1], ng;
    struct solve_group_edge e[3] = {{0, 0, 1}, {1, 0, 2}, {0, 0, 3}};
    struct solve_groups_input in = {.n_mentors = 2, .groups = groups, .n_mentees = 1,
                                    .size = 1, .n_edges = 3, .edges = e,
                                    .objective = SOLVE_GROUPS_QUALITY};
    solve_ok(&in, g, &ng);
    cr_assert_eq(g[0], 0);
}

Test(solve_groups, empty_and_zero_sized)
{
    int groups[2] = {1, 0}, g[2] = {7, 7}, ng = -1;
    struct solve_group_edge e[2] = {{0, 0, 1}, {1, 1, 1}};
    struct solve_groups_input in = {.n_mentors = 2, .groups = groups, .n_mentees = 2,
                                    .size = 0, .n_edges = 2, .edges = e};
    solve_ok(&in, g, &ng);
    cr_assert(ng == 1 && g[0] == -1 && g[1] == -1, "size 0 places nobody");
    in.size = 3;
    solve_ok(&in, g, &ng);
    cr_assert(g[0] == 0 && g[1] == -1, "a mentor with no group takes nobody");
    struct solve_groups_input none = {.objective = SOLVE_GROUPS_QUALITY};
    ng = -1;
    cr_assert_eq(solve_groups(&none, NULL, &ng), 0);
    cr_assert_eq(ng, 0);
    in.n_edges = 0; in.edges = NULL;
    solve_ok(&in, g, &ng);
    cr_assert(g[0] == -1 && g[1] == -1);
}

Test(solve_groups, bad_input_is_einval_and_leaves_output_alone)
{
    int groups[2] = {1, 1}, neg_groups[2] = {1, -1}, category[2] = {0, 1};
    int bad_category[2] = {0, -2}, out[2] = {7, 7}, ng = 7;
    long long negpr[2] = {0, -1};
    struct solve_group_edge ok[1] = {{0, 0, 1}};
    struct solve_groups_input base = {.n_mentors = 2, .groups = groups, .n_mentees = 2,
                                      .category = category, .size = 2, .distinct = true,
                                      .n_edges = 1, .edges = ok};
    struct solve_group_edge bad_edges[] = {
        {2, 0, 1}, {-1, 0, 1}, {0, 2, 1}, {0, -1, 1},
        {0, 0, NAN}, {0, 0, INFINITY}, {0, 0, -INFINITY}, {0, 0, 1e9 + 1}, {0, 0, -1.5e9},
    };
    for (size_t k = 0; k < sizeof bad_edges / sizeof bad_edges[0]; k++) {
        struct solve_groups_input in = base;
        in.edges = &bad_edges[k];
        cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL, "bad edge %zu", k);
    }
    struct solve_groups_input in = base;
    in.groups = neg_groups;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    in = base; in.category = bad_category;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    in = base; in.priority = negpr;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    in = base; in.size = -1;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    in = base; in.n_mentors = -1;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    in = base; in.n_mentees = -1;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    in = base; in.n_edges = -1;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    in = base; in.groups = NULL;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    in = base; in.edges = NULL;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    in = base; in.objective = (enum solve_groups_objective)7;
    cr_assert_eq(solve_groups(&in, out, &ng), -EINVAL);
    cr_assert_eq(solve_groups(NULL, out, &ng), -EINVAL);
    cr_assert_eq(solve_groups(&base, NULL, &ng), -EINVAL);
    cr_assert_eq(solve_groups(&base, out, NULL), -EINVAL);
    cr_assert(out[0] == 7 && out[1] == 7 && ng == 7, "output touched on error");
    struct solve_group_edge edge_max[1] = {{0, 0, -1e9}};
    in = base; in.edges = edge_max;
    cr_assert_eq(solve_groups(&in, out, &ng), 0, "the boundary itself is allowed");
    cr_assert(out[0] == 0 && ng == 2);
}

Test(solve_groups, what_int_and_int64_cannot_hold_is_refused)
{
    int groups[2] = {INT_MAX, 1}, out[2] = {7, 7}, ng = 7;
    struct solve_group_edge e[2] = {{0, 0, 1}, {0, 1, 1}};
    struct solve_groups_input in = {.n_mentors = 2, .groups = groups, .n_mentees = 2,
                                    .size = INT_MAX, .n_edges = 2, .edges = e};
    cr_assert_eq(solve_groups(&in, out, &ng), -EOVERFLOW, "group numbers beyond int");
    groups[1] = 0;
    cr_assert_eq(solve_groups(&in, out, &ng), 0, "INT_MAX groups of INT_MAX still work");
    cr_assert(ng == INT_MAX && out[0] >= 0 && out[1] >= 0 && out[0] != out[1]);
    long long pr[2] = {LLONG_MAX / 64, LLONG_MAX / 64};
    int small[2] = {1, 1}, keep[2] = {7, 7};
    in.groups = small; in.size = 2; in.priority = pr;
    ng = 7;
    cr_assert_eq(solve_groups(&in, keep, &ng), -EOVERFLOW);
    cr_assert(keep[0] == 7 && keep[1] == 7 && ng == 7);
    in.n_edges = 1;             /* a mentee with no pair does not count */
    cr_assert_eq(solve_groups(&in, keep, &ng), 0);
    cr_assert(keep[0] == 0 && keep[1] == -1);
}

/* Just under the -EOVERFLOW limit, with the largest scores: UBSan watches every sum. */
Test(solve_groups, near_the_range_limit_is_exact)
{
    enum { N = 40, M = 6, C = 4 };
    int groups[M], category[N], out[N], ng;
    long long pr[N];
    struct solve_group_edge e[N * 4];
    struct rng r = {4242};
    for (int i = 0; i < M; i++)
        groups[i] = rng_int(&r, 1, 2);
    int ne = 0;
    for (int j = 0; j < N; j++) {
        pr[j] = LLONG_MAX / 64 / N - rng_int(&r, 0, 1000);
        category[j] = rng_int(&r, 0, C - 1);
        for (int k = 0; k < 4; k++)
            e[ne++] = (struct solve_group_edge){rng_int(&r, 0, M - 1), j,
                                                (rng_unit(&r) * 2.0 - 1.0) * 1e9};
    }
    for (int obj = 0; obj < 2; obj++) {
        struct inst t = {.n_mentors = M, .n_mentees = N, .n_edges = ne, .size = 3, .n_cats = C,
                         .distinct = true, .groups = groups, .category = category,
                         .priority = pr, .edges = e, .objective = (enum solve_groups_objective)obj};
        struct solve_groups_input in = as_input(&t);
        struct table tb = table_make(&t);
        cr_assert_eq(solve_groups(&in, out, &ng), 0);
        (void)checked_value(&t, &tb, out, ng, "near limit");
        cr_assert(certify(&t, &tb, out), "objective %d not optimal", obj);
        table_free(&tb);
    }
}

/* ---- solve/flow, the helper underneath ---- */

Test(solve_groups, flow_refuses_networks_it_cannot_solve_exactly)
{
    struct flow *f = NULL;
    const struct flow_cost zero = {{0, 0, 0}}, neg = {{0, -1, 5}}, pos = {{0, 1, -5}};
    cr_assert_eq(flow_new(NULL, 3, 3), -EINVAL);
    cr_assert_eq(flow_new(&f, 0, 3), -EINVAL);
    cr_assert_eq(flow_new(&f, 3, -1), -EINVAL);
    cr_assert_eq(flow_new(&f, 3, INT_MAX), -ENOMEM);
    cr_assert_eq(flow_new(&f, 4, 4), 0);
    cr_assert_eq(flow_arc(f, FLOW_HUB, 1, 1, &zero), -EINVAL, "an entry arc starts empty");
    cr_assert_eq(flow_arc(f, FLOW_HUB, 1, 0, &neg), -EINVAL, "an entry arc costs nothing");
    cr_assert_eq(flow_arc(f, 1, 1, 1, &zero), -EINVAL);
    cr_assert_eq(flow_arc(f, 1, 4, 1, &zero), -EINVAL);
    cr_assert_eq(flow_arc(f, 1, 2, -1, &zero), -EINVAL);
    cr_assert_eq(flow_arc(f, FLOW_HUB, 1, 0, &zero), 0);
    cr_assert_eq(flow_arc(f, 1, 2, 1, &neg), 1);
    cr_assert_eq(flow_arc(f, 2, FLOW_HUB, 1, &zero), 2);
    cr_assert_eq(flow_insert(f, 0), -EINVAL, "not built yet");
    cr_assert_eq(flow_arc(f, 2, 3, 1, &zero), 3);
    cr_assert_eq(flow_arc(f, 3, 2, 1, &zero), -EINVAL, "room for four arcs only");
    cr_assert_eq(flow_build(f), 0);
    cr_assert_eq(flow_arc(f, 3, 2, 1, &zero), -EINVAL, "built already");
    cr_assert_eq(flow_build(f), -EINVAL, "built already");
    cr_assert_eq(flow_insert(f, 0), 1);
    cr_assert_eq(flow_amount(f, 1), 1);
    flow_free(f);
    /* An arc into an entry node from elsewhere, or a negative one elsewhere: refused. */
    cr_assert_eq(flow_new(&f, 4, 4), 0);
    flow_arc(f, FLOW_HUB, 1, 0, &zero);
    flow_arc(f, 2, 1, 1, &zero);
    cr_assert_eq(flow_build(f), -EINVAL);
    cr_assert_eq(flow_build(f), -EINVAL, "a failed build cannot be retried");
    flow_free(f);
    cr_assert_eq(flow_new(&f, 4, 4), 0);
    flow_arc(f, FLOW_HUB, 1, 0, &zero);
    flow_arc(f, 1, 2, 1, &pos);
    flow_arc(f, 2, 3, 1, &neg);
    cr_assert_eq(flow_build(f), -EINVAL);
    flow_free(f);
    struct flow_cost huge = {{0, -(LLONG_MAX / 64), 0}}, over = {{0, LLONG_MIN, 0}};
    cr_assert_eq(flow_new(&f, 4, 4), 0);
    flow_arc(f, FLOW_HUB, 1, 0, &zero);
    flow_arc(f, FLOW_HUB, 2, 0, &zero);
    flow_arc(f, 1, 3, 1, &huge);
    flow_arc(f, 2, 3, 1, &huge);
    cr_assert_eq(flow_build(f), -EOVERFLOW, "two at the limit sum past it");
    flow_free(f);
    cr_assert_eq(flow_new(&f, 3, 2), 0);
    flow_arc(f, FLOW_HUB, 1, 0, &zero);
    flow_arc(f, 1, 2, 1, &over);
    cr_assert_eq(flow_build(f), -EOVERFLOW);
    flow_free(f);
    flow_free(NULL);
}

/* A unit goes in only along a negative cycle, and may push an earlier one out. */
Test(solve_groups, flow_inserts_along_the_cheapest_cycle)
{
    struct flow *f = NULL;
    const struct flow_cost zero = {{0, 0, 0}}, c3 = {{-3, 0, 0}};
    const struct flow_cost c5 = {{-5, 0, 0}}, c0 = {{0, 0, 0}};
    /* Entry nodes 1, 2, 3; one seat at node 4. */
    cr_assert_eq(flow_new(&f, 5, 10), 0);
    int e1 = flow_arc(f, FLOW_HUB, 1, 0, &zero), e2 = flow_arc(f, FLOW_HUB, 2, 0, &zero);
    int e3 = flow_arc(f, FLOW_HUB, 3, 0, &zero);
    int a1 = flow_arc(f, 1, 4, 1, &c3), a2 = flow_arc(f, 2, 4, 1, &c5), a3 = flow_arc(f, 3, 4, 1, &c0);
    int seat = flow_arc(f, 4, FLOW_HUB, 1, &zero);
    cr_assert_eq(flow_build(f), 0);
    cr_assert_eq(flow_amount(f, a1), 0);
    cr_assert_eq(flow_insert(f, e1), 1);
    cr_assert(flow_amount(f, a1) == 1 && flow_amount(f, seat) == 1);
    cr_assert_eq(flow_insert(f, e2), 1, "worth 5 against 3: takes the seat");
    cr_assert(flow_amount(f, a1) == 0 && flow_amount(f, a2) == 1 && flow_amount(f, e1) == 0);
    cr_assert_eq(flow_insert(f, e3), 0, "a zero-cost unit never enters");
    cr_assert(flow_amount(f, a3) == 0 && flow_amount(f, seat) == 1);
    cr_assert_eq(flow_insert(f, a1), -EINVAL, "not an entry arc");
    cr_assert_eq(flow_amount(f, 99), -1);
    flow_free(f);
}

/* A pool of the shape the engine will hand over: k candidates per mentee, twelve
 * departments, groups of four. */
Test(solve_groups, sized_pool_with_candidates, .timeout = 60)
{
    enum { N = 3000, M = 300, K = 10, C = 12 };
    struct rng r = {77};
    int *groups = malloc(M * sizeof *groups), *category = malloc(N * sizeof *category);
    int *out = malloc(N * sizeof *out), ng;
    long long *pr = malloc(N * sizeof *pr);
    struct solve_group_edge *e = malloc((size_t)N * K * sizeof *e);
    for (int i = 0; i < M; i++)
        groups[i] = rng_int(&r, 0, 2);
    int ne = 0;
    for (int j = 0; j < N; j++) {
        pr[j] = rng_int(&r, 0, 1000000) * 1000LL;
        category[j] = rng_int(&r, 0, C - 1);
        for (int k = 0; k < K; k++)
            e[ne++] = (struct solve_group_edge){rng_int(&r, 0, M - 1), j,
                                                rng_int(&r, 0, 1000) / 10.0};
    }
    for (int obj = 0; obj < 2; obj++) {
        struct inst t = {.n_mentors = M, .n_mentees = N, .n_edges = ne, .size = 4, .n_cats = C,
                         .distinct = true, .groups = groups, .category = category,
                         .priority = pr, .edges = e, .objective = (enum solve_groups_objective)obj};
        struct solve_groups_input in = as_input(&t);
        struct table tb = table_make(&t);
        cr_assert_eq(solve_groups(&in, out, &ng), 0);
        struct value v = checked_value(&t, &tb, out, ng, "sized");
        cr_assert_geq(v.count, 1);
        table_free(&tb);
    }
    free(groups); free(category); free(out); free(pr); free(e);
}
