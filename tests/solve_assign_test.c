/* Tests for solve/assign: every answer must be a valid assignment whose value equals
 * an exhaustive search's optimum (small instances) or carries a no-negative-cycle
 * certificate (medium ones). Never trust solve_assign_value alone: values are
 * recomputed here from the raw input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solve/assign.h"

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
    int n_mentors, n_mentees, n_edges;
    int *capacity;
    long long *priority;            /* NULL = all 0 */
    struct solve_edge *edges;
    enum solve_objective objective;
};

static struct solve_assign_input as_input(const struct inst *t)
{
    return (struct solve_assign_input){
        .n_mentors = t->n_mentors, .capacity = t->capacity,
        .n_mentees = t->n_mentees, .priority = t->priority,
        .n_edges = t->n_edges, .edges = t->edges, .objective = t->objective,
    };
}

static void inst_free(struct inst *t)
{
    free(t->capacity);
    free(t->priority);
    free(t->edges);
    memset(t, 0, sizeof *t);
}

static double gen_score(struct rng *r, int kind, double big)
{
    static const double few[] = {-1.0, 0.0, 0.5, 1.0, 2.0};
    switch (kind) {
    case 0:  return rng_int(r, -3, 6);                                 /* integers */
    case 1:  return rng_int(r, -3000, 6000) / 1000.0 + (rng_unit(r) - 0.5) * 1e-6; /* rounding */
    case 2:  return few[rng_int(r, 0, 4)];                             /* many ties */
    default: return (rng_unit(r) * 2.0 - 1.0) * big;                   /* large */
    }
}

/* A random instance: every pair is allowed with probability density, some are
 * listed twice with another score, and the list is shuffled. */
static void gen(struct rng *r, struct inst *t, int min_mentees, int max_mentees,
                int min_mentors, int max_mentors, int max_cap, double density, double big,
                enum solve_objective obj)
{
    memset(t, 0, sizeof *t);
    t->objective = obj;
    t->n_mentees = rng_int(r, min_mentees, max_mentees);
    t->n_mentors = rng_int(r, min_mentors, max_mentors);
    t->capacity = malloc(((size_t)t->n_mentors + 1) * sizeof *t->capacity);
    for (int i = 0; i < t->n_mentors; i++)
        t->capacity[i] = rng_int(r, 0, max_cap);
    int prio_kind = rng_int(r, 0, 2);
    if (prio_kind > 0) {
        t->priority = malloc(((size_t)t->n_mentees + 1) * sizeof *t->priority);
        for (int j = 0; j < t->n_mentees; j++)
            t->priority[j] = prio_kind == 1 ? rng_int(r, 0, 3)
                                            : (long long)(rng_unit(r) * 1e10);
    }
    int score_kind = rng_int(r, 0, 3);
    size_t room = 2 * (size_t)t->n_mentees * (size_t)t->n_mentors + 1;
    t->edges = malloc(room * sizeof *t->edges);
    for (int j = 0; j < t->n_mentees; j++)
        for (int i = 0; i < t->n_mentors; i++) {
            if (rng_unit(r) >= density)
                continue;
            t->edges[t->n_edges++] = (struct solve_edge){i, j, gen_score(r, score_kind, big)};
            if (rng_int(r, 0, 9) == 0)
                t->edges[t->n_edges++] = (struct solve_edge){i, j, gen_score(r, score_kind, big)};
        }
    for (int e = t->n_edges - 1; e > 0; e--) {
        int k = rng_int(r, 0, e);
        struct solve_edge x = t->edges[e];
        t->edges[e] = t->edges[k];
        t->edges[k] = x;
    }
}

/* ---- reference computations, from the raw input only ---- */

/* Dense pair table: the best score_micro of each listed pair. */
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

/* The objective's order as a comparable triple. */
static void key_of(enum solve_objective obj, struct solve_value v, long long k[3])
{
    if (obj == SOLVE_COVERAGE) {
        k[0] = v.count; k[1] = v.priority; k[2] = v.score_micro;
    } else {
        k[0] = v.score_micro; k[1] = v.count; k[2] = v.priority;
    }
}

static int key_cmp(enum solve_objective obj, struct solve_value a, struct solve_value b)
{
    long long ka[3], kb[3];
    key_of(obj, a, ka);
    key_of(obj, b, kb);
    for (int k = 0; k < 3; k++)
        if (ka[k] != kb[k])
            return ka[k] < kb[k] ? -1 : 1;
    return 0;
}

/* Checks that mentor_of is a valid assignment and returns its value; on an invalid
 * one fails the test with why. */
static struct solve_value ref_value(const struct inst *t, const struct table *tb,
                                    const int *mentor_of, const char *what)
{
    struct solve_value v = {0, 0, 0};
    int *load = calloc((size_t)t->n_mentors + 1, sizeof *load);
    for (int j = 0; j < t->n_mentees; j++) {
        int i = mentor_of[j];
        cr_assert(i >= -1 && i < t->n_mentors, "%s: mentee %d got mentor %d", what, j, i);
        if (i < 0)
            continue;
        size_t c = (size_t)j * (size_t)tb->m + (size_t)i;
        cr_assert(tb->listed[c], "%s: pair (%d,%d) is not listed", what, i, j);
        load[i]++;
        cr_assert(load[i] <= t->capacity[i], "%s: mentor %d over capacity %d", what, i, t->capacity[i]);
        v.count++;
        v.priority += prio(t, j);
        v.score_micro += tb->micro[c];
    }
    free(load);
    return v;
}

/* Exhaustive search: every mentee takes nobody or any listed mentor with room. */
struct brute {
    const struct inst *t;
    const struct table *tb;
    int *load;
    struct solve_value cur, best;
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
    for (int i = 0; i < t->n_mentors; i++) {
        size_t c = (size_t)j * (size_t)b->tb->m + (size_t)i;
        if (!b->tb->listed[c] || b->load[i] >= t->capacity[i])
            continue;
        struct solve_value saved = b->cur;
        b->load[i]++;
        b->cur.count++;
        b->cur.priority += prio(t, j);
        b->cur.score_micro += b->tb->micro[c];
        brute_rec(b, j + 1);
        b->load[i]--;
        b->cur = saved;
    }
}

static struct solve_value brute_best(const struct inst *t, const struct table *tb)
{
    struct brute b = {t, tb, calloc((size_t)t->n_mentors + 1, sizeof(int)), {0, 0, 0}, {0, 0, 0}};
    brute_rec(&b, 0);
    free(b.load);
    return b.best;
}

/* Optimality certificate: the assignment as a circulation (S -> mentee -> mentor -> T
 * -> S) is optimal over all assignments iff its residual graph has no cycle of
 * lexicographically negative cost (cost = -gain). Bellman-Ford from a virtual source.
 * Returns 1 when optimal. */
struct arc { int u, v; long long c[3]; };

static int certify(const struct inst *t, const struct table *tb, const int *mentor_of)
{
    int n = t->n_mentees, m = t->n_mentors, S = 0, T = n + m + 1, nv = n + m + 2;
    size_t room = 2 * ((size_t)n * (size_t)m + (size_t)n + (size_t)m + 2);
    struct arc *arcs = malloc(room * sizeof *arcs);
    int na = 0, flow = 0;
    int *load = calloc((size_t)m + 1, sizeof *load);
    for (int j = 0; j < n; j++) {
        if (mentor_of[j] >= 0) {
            load[mentor_of[j]]++;
            flow++;
            arcs[na++] = (struct arc){1 + j, S, {0, 0, 0}};
        } else {
            arcs[na++] = (struct arc){S, 1 + j, {0, 0, 0}};
        }
        for (int i = 0; i < m; i++) {
            size_t c = (size_t)j * (size_t)m + (size_t)i;
            if (!tb->listed[c])
                continue;
            struct solve_value g1 = {1, prio(t, j), tb->micro[c]};
            long long k[3];
            key_of(t->objective, g1, k);
            if (mentor_of[j] == i)
                arcs[na++] = (struct arc){1 + n + i, 1 + j, {k[0], k[1], k[2]}};
            else
                arcs[na++] = (struct arc){1 + j, 1 + n + i, {-k[0], -k[1], -k[2]}};
        }
    }
    for (int i = 0; i < m; i++) {
        if (load[i] < t->capacity[i])
            arcs[na++] = (struct arc){1 + n + i, T, {0, 0, 0}};
        if (load[i] > 0)
            arcs[na++] = (struct arc){T, 1 + n + i, {0, 0, 0}};
    }
    arcs[na++] = (struct arc){T, S, {0, 0, 0}};
    if (flow > 0)
        arcs[na++] = (struct arc){S, T, {0, 0, 0}};

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
    free(load);
    return !changed;   /* still relaxing after nv rounds: a negative cycle */
}

/* ---- randomized checks ---- */

static void brute_many(enum solve_objective obj, unsigned long long seed0, int count)
{
    static const double densities[] = {0.2, 0.5, 0.8, 1.0};
    for (int k = 0; k < count; k++) {
        struct rng r = {seed0 + (unsigned long long)k};
        struct inst t;
        /* Mostly the larger sizes, where mistakes hide; every eighth from zero up. */
        int lo = k % 8 == 0 ? 0 : 1;
        gen(&r, &t, 4 * lo, 7, 2 * lo, 4, 3, densities[k % 4], 1e9, obj);
        struct solve_assign_input in = as_input(&t);
        struct table tb = table_make(&t);
        int mentor_of[8];
        int rc = solve_assign(&in, mentor_of);
        cr_assert_eq(rc, 0, "seed %llu: rc %d", seed0 + (unsigned long long)k, rc);
        struct solve_value got = ref_value(&t, &tb, mentor_of, "brute");
        struct solve_value want = brute_best(&t, &tb);
        cr_assert(got.count == want.count && got.priority == want.priority &&
                  got.score_micro == want.score_micro,
                  "seed %llu obj %d: got (%lld,%lld,%lld) want (%lld,%lld,%lld)",
                  seed0 + (unsigned long long)k, (int)obj, got.count, got.priority,
                  got.score_micro, want.count, want.priority, want.score_micro);
        struct solve_value lib = solve_assign_value(&in, mentor_of);
        cr_assert(lib.count == got.count && lib.priority == got.priority &&
                  lib.score_micro == got.score_micro,
                  "seed %llu: solve_assign_value disagrees", seed0 + (unsigned long long)k);
        table_free(&tb);
        inst_free(&t);
    }
}

Test(solve_assign, brute_force_coverage)
{
    brute_many(SOLVE_COVERAGE, 1000, 3000);
}

Test(solve_assign, brute_force_quality)
{
    brute_many(SOLVE_QUALITY, 500000, 3000);
}

/* ---- the methods: each optimal on its own, all agreeing ---- */

/* Keeps priorities at most `most`, so that the objective fits one 64-bit integer and the
 * scalar method asked for is the one that runs. */
static void shrink_priorities(struct inst *t, long long most)
{
    if (t->priority != NULL)
        for (int j = 0; j < t->n_mentees; j++)
            t->priority[j] %= most + 1;
}

static const char *method_name(enum solve_method m)
{
    return m == SOLVE_METHOD_LEX ? "lex" : m == SOLVE_METHOD_SPARSE ? "sparse"
         : m == SOLVE_METHOD_DENSE ? "dense" : m == SOLVE_METHOD_SCALING ? "scaling" : "auto";
}

/* Exhaustive search against one method; max_cap 1 makes every instance one the dense
 * method takes. Also checks that the method asked for did run on most instances. */
static void brute_method(enum solve_objective obj, enum solve_method method,
                         unsigned long long seed0, int count, int max_cap)
{
    static const double densities[] = {0.3, 0.6, 0.9, 1.0};
    int ran = 0;
    for (int k = 0; k < count; k++) {
        unsigned long long seed = seed0 + (unsigned long long)k;
        struct rng r = {seed};
        struct inst t;
        int lo = k % 8 == 0 ? 0 : 1;
        gen(&r, &t, 4 * lo, 7, 2 * lo, 5, max_cap, densities[k % 4], 1e3, obj);
        shrink_priorities(&t, 1000);
        struct solve_assign_input in = as_input(&t);
        in.method = method;
        struct table tb = table_make(&t);
        int mentor_of[8];
        enum solve_method used = SOLVE_AUTO;
        int rc = solve_assign_used(&in, mentor_of, &used);
        cr_assert_eq(rc, 0, "seed %llu: rc %d", seed, rc);
        ran += used == method;
        struct solve_value got = ref_value(&t, &tb, mentor_of, method_name(method));
        struct solve_value want = brute_best(&t, &tb);
        cr_assert(key_cmp(obj, got, want) == 0,
                  "%s seed %llu obj %d: got (%lld,%lld,%lld) want (%lld,%lld,%lld)",
                  method_name(method), seed, (int)obj, got.count, got.priority,
                  got.score_micro, want.count, want.priority, want.score_micro);
        table_free(&tb);
        inst_free(&t);
    }
    cr_assert_geq(ran, count * 3 / 4, "%s ran on only %d of %d instances",
                  method_name(method), ran, count);
}

Test(solve_assign, brute_force_sparse_method)
{
    brute_method(SOLVE_COVERAGE, SOLVE_METHOD_SPARSE, 3000000, 2000, 3);
    brute_method(SOLVE_QUALITY, SOLVE_METHOD_SPARSE, 3100000, 2000, 3);
}

Test(solve_assign, brute_force_dense_method)
{
    brute_method(SOLVE_COVERAGE, SOLVE_METHOD_DENSE, 3200000, 2000, 1);
    brute_method(SOLVE_QUALITY, SOLVE_METHOD_DENSE, 3300000, 2000, 1);
}

Test(solve_assign, brute_force_lex_method)
{
    brute_method(SOLVE_COVERAGE, SOLVE_METHOD_LEX, 3400000, 1000, 3);
    brute_method(SOLVE_QUALITY, SOLVE_METHOD_LEX, 3500000, 1000, 3);
}

Test(solve_assign, brute_force_scaling_method)
{
    brute_method(SOLVE_COVERAGE, SOLVE_METHOD_SCALING, 3600000, 2000, 3);
    brute_method(SOLVE_QUALITY, SOLVE_METHOD_SCALING, 3700000, 2000, 3);
    brute_method(SOLVE_COVERAGE, SOLVE_METHOD_SCALING, 3800000, 1000, 1);
}

/* Priorities of a first tick plus waiting seconds (1e12 + s), the shape tandem's matching
 * hands the solvers, and the raw 1e10 ones of gen: cost scaling must run (the least priority
 * is taken off before scaling, see assign.c) and reach the exhaustive optimum. */
Test(solve_assign, brute_force_scaling_with_huge_priorities)
{
    static const double densities[] = {0.3, 0.6, 0.9, 1.0};
    int ran = 0;
    for (int k = 0; k < 2000; k++) {
        unsigned long long seed = 3900000 + (unsigned long long)k;
        struct rng r = {seed};
        struct inst t;
        enum solve_objective obj = k % 2 ? SOLVE_QUALITY : SOLVE_COVERAGE;
        gen(&r, &t, 1, 7, 1, 5, 3, densities[k % 4], 1e3, obj);
        if (k % 3 != 0) {
            free(t.priority);
            t.priority = malloc(((size_t)t.n_mentees + 1) * sizeof *t.priority);
            for (int j = 0; j < t.n_mentees; j++)
                t.priority[j] = 1000000000000LL + rng_int(&r, 0, k % 3 == 1 ? 3 : 40000000);
        }
        struct solve_assign_input in = as_input(&t);
        in.method = SOLVE_METHOD_SCALING;
        struct table tb = table_make(&t);
        int mentor_of[8];
        enum solve_method used = SOLVE_AUTO;
        cr_assert_eq(solve_assign_used(&in, mentor_of, &used), 0, "seed %llu", seed);
        ran += used == SOLVE_METHOD_SCALING;
        struct solve_value got = ref_value(&t, &tb, mentor_of, "scaling");
        struct solve_value want = brute_best(&t, &tb);
        cr_assert(key_cmp(obj, got, want) == 0,
                  "seed %llu obj %d: got (%lld,%lld,%lld) want (%lld,%lld,%lld)", seed, (int)obj,
                  got.count, got.priority, got.score_micro, want.count, want.priority,
                  want.score_micro);
        table_free(&tb);
        inst_free(&t);
    }
    cr_assert_geq(ran, 1900, "scaling ran on only %d of 2000", ran);
}

/* Solves with one method, checks the answer is valid and returns its value. */
static struct solve_value solve_with(const struct inst *t, const struct table *tb,
                                     enum solve_method method, int *mentor_of,
                                     enum solve_method *used)
{
    struct solve_assign_input in = as_input(t);
    in.method = method;
    cr_assert_eq(solve_assign_used(&in, mentor_of, used), 0);
    return ref_value(t, tb, mentor_of, method_name(method));
}

/* Medium instances: the lexicographic solver (the reference) and the scalar methods
 * must reach the same objective value, exactly; the scalar answers also carry the
 * certificate. Dense and sparse shapes, capacities, negative scores and ties. */
Test(solve_assign, methods_agree_on_medium_instances, .timeout = 120)
{
    int runs[5] = {0, 0, 0, 0, 0};
    for (int k = 0; k < 60; k++) {
        unsigned long long seed = 6000000 + (unsigned long long)k;
        struct rng r = {seed};
        struct inst t;
        enum solve_objective obj = k % 2 ? SOLVE_QUALITY : SOLVE_COVERAGE;
        int max_cap = k % 3 == 0 ? 1 : 6;
        double density = k % 4 == 0 ? 1.0 : 0.03 + 0.9 * rng_unit(&r);
        gen(&r, &t, 20, 250, 5, 60, max_cap, density, 1e3, obj);
        if (k % 5 != 0)
            shrink_priorities(&t, 100);
        struct table tb = table_make(&t);
        int *a = malloc(((size_t)t.n_mentees + 1) * sizeof *a);
        struct solve_value ref = solve_with(&t, &tb, SOLVE_METHOD_LEX, a, NULL);
        cr_assert(certify(&t, &tb, a), "seed %llu: lex not optimal", seed);
        const enum solve_method ms[4] = {SOLVE_AUTO, SOLVE_METHOD_SPARSE, SOLVE_METHOD_DENSE,
                                         SOLVE_METHOD_SCALING};
        for (int q = 0; q < 4; q++) {
            enum solve_method used;
            struct solve_value v = solve_with(&t, &tb, ms[q], a, &used);
            runs[used]++;
            cr_assert(key_cmp(obj, v, ref) == 0,
                      "seed %llu %s (ran %s): (%lld,%lld,%lld) vs lex (%lld,%lld,%lld)", seed,
                      method_name(ms[q]), method_name(used), v.count, v.priority, v.score_micro,
                      ref.count, ref.priority, ref.score_micro);
            if (used != SOLVE_METHOD_LEX)
                cr_assert(certify(&t, &tb, a), "seed %llu %s: not optimal", seed, method_name(used));
        }
        free(a);
        table_free(&tb);
        inst_free(&t);
    }
    cr_assert(runs[SOLVE_METHOD_SPARSE] >= 40 && runs[SOLVE_METHOD_DENSE] >= 15 &&
              runs[SOLVE_METHOD_SCALING] >= 55,
              "sparse ran %d times, dense %d, scaling %d", runs[SOLVE_METHOD_SPARSE],
              runs[SOLVE_METHOD_DENSE], runs[SOLVE_METHOD_SCALING]);
}

/* Full matrices, square and both ways rectangular (the dense path puts the smaller side
 * in rows), with scores of both signs: dense against lex. */
Test(solve_assign, dense_square_and_rectangular, .timeout = 60)
{
    const int shapes[4][2] = {{120, 120}, {40, 150}, {150, 40}, {1, 30}};
    for (int k = 0; k < 16; k++) {
        struct rng r = {6100000 + (unsigned long long)k};
        int n = shapes[k % 4][0], m = shapes[k % 4][1];
        struct inst t = {.n_mentees = n, .n_mentors = m, .objective = k % 2 ? SOLVE_QUALITY : SOLVE_COVERAGE};
        t.capacity = malloc((size_t)m * sizeof *t.capacity);
        t.edges = malloc((size_t)n * (size_t)m * sizeof *t.edges);
        for (int i = 0; i < m; i++)
            t.capacity[i] = 1;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++)
                t.edges[t.n_edges++] = (struct solve_edge){i, j, gen_score(&r, k / 4, 1e3)};
        struct table tb = table_make(&t);
        int *a = malloc((size_t)n * sizeof *a);
        struct solve_value ref = solve_with(&t, &tb, SOLVE_METHOD_LEX, a, NULL);
        enum solve_method used;
        struct solve_value v = solve_with(&t, &tb, SOLVE_AUTO, a, &used);
        cr_assert_eq(used, SOLVE_METHOD_DENSE, "shape %dx%d ran %s", n, m, method_name(used));
        cr_assert(key_cmp(t.objective, v, ref) == 0, "shape %dx%d kind %d: dense differs", n, m, k / 4);
        free(a);
        table_free(&tb);
        inst_free(&t);
    }
}

/* Priorities of waiting seconds over years do not fit the 64-bit scalar map in COVERAGE:
 * the lexicographic solver takes over, and the answer is still optimal. Cost scaling's
 * 128-bit scalar takes them, also optimally. */
Test(solve_assign, large_priorities_fall_back_to_lex)
{
    enum { N = 60, M = 12 };
    struct rng r = {6200000};
    struct inst t = {.n_mentees = N, .n_mentors = M, .objective = SOLVE_COVERAGE};
    t.capacity = malloc(M * sizeof *t.capacity);
    t.priority = malloc(N * sizeof *t.priority);
    t.edges = malloc(N * 6 * sizeof *t.edges);
    for (int i = 0; i < M; i++)
        t.capacity[i] = rng_int(&r, 1, 3);
    for (int j = 0; j < N; j++) {
        t.priority[j] = 100000000LL + rng_int(&r, 0, 99999999);
        for (int q = 0; q < 6; q++)
            t.edges[t.n_edges++] = (struct solve_edge){rng_int(&r, 0, M - 1), j,
                                                       rng_int(&r, -3000000, 3000000) / 1e3 + 1e-4};
    }
    struct table tb = table_make(&t);
    int out[N];
    enum solve_method used;
    (void)solve_with(&t, &tb, SOLVE_AUTO, out, &used);
    cr_assert_eq(used, SOLVE_METHOD_LEX);
    cr_assert(certify(&t, &tb, out));
    (void)solve_with(&t, &tb, SOLVE_METHOD_SCALING, out, &used);    /* it takes these */
    cr_assert_eq(used, SOLVE_METHOD_SCALING);
    cr_assert(certify(&t, &tb, out));
    table_free(&tb);
    inst_free(&t);
}

/* Priorities spread over 2^50 with scores of +-1e9: no exact 128-bit scalar with room for
 * the prices (see costscale.c), so the scaling method refuses and the lexicographic solver
 * answers, optimally. */
Test(solve_assign, scaling_refuses_and_falls_back)
{
    enum { N = 60, M = 12 };
    struct rng r = {6300000};
    struct inst t = {.n_mentees = N, .n_mentors = M, .objective = SOLVE_COVERAGE};
    t.capacity = malloc(M * sizeof *t.capacity);
    t.priority = malloc(N * sizeof *t.priority);
    t.edges = malloc(N * 6 * sizeof *t.edges);
    for (int i = 0; i < M; i++)
        t.capacity[i] = rng_int(&r, 1, 3);
    for (int j = 0; j < N; j++) {
        t.priority[j] = (long long)(rng_next(&r) >> 14);
        for (int q = 0; q < 6; q++)
            t.edges[t.n_edges++] = (struct solve_edge){rng_int(&r, 0, M - 1), j,
                                                       (rng_unit(&r) * 2 - 1) * 1e9};
    }
    struct table tb = table_make(&t);
    int out[N];
    enum solve_method used;
    for (int q = 0; q < 2; q++) {
        t.objective = q ? SOLVE_QUALITY : SOLVE_COVERAGE;
        (void)solve_with(&t, &tb, SOLVE_METHOD_SCALING, out, &used);
        cr_assert_neq(used, SOLVE_METHOD_SCALING);
        cr_assert(certify(&t, &tb, out));
    }
    table_free(&tb);
    inst_free(&t);
}

/* The seat-scarce shape with gains set by the mentee (equal first-tick priorities plus
 * seconds, scores 1 or 2), where the shortest paths grow long: AUTO gives up on them past
 * its budget and answers by cost scaling, with the lexicographic solver's value and the
 * certificate. With seats for everyone and spread scores, the sparse method stays. */
Test(solve_assign, auto_turns_to_scaling_when_searches_grow, .timeout = 60)
{
    for (int k = 0; k < 3; k++) {
        struct rng r = {6400000 + (unsigned long long)k};
        struct inst t = {.n_mentees = 2800, .objective = k == 1 ? SOLVE_QUALITY : SOLVE_COVERAGE};
        t.n_mentors = k < 2 ? t.n_mentees / 28 : t.n_mentees / 4;
        t.capacity = malloc((size_t)t.n_mentors * sizeof *t.capacity);
        for (int i = 0; i < t.n_mentors; i++)
            t.capacity[i] = 12;
        t.priority = malloc((size_t)t.n_mentees * sizeof *t.priority);
        t.edges = malloc((size_t)t.n_mentees * 5 * sizeof *t.edges);
        for (int j = 0; j < t.n_mentees; j++) {
            t.priority[j] = 1000000000000LL + (k == 0 ? rng_int(&r, 0, 1000000) : 0);
            for (int q = 0; q < 5; q++)
                t.edges[t.n_edges++] = (struct solve_edge){
                    rng_int(&r, 0, t.n_mentors - 1), j,
                    k < 2 ? 1 + (rng_int(&r, 0, 11) != 0) : rng_int(&r, 0, 1000000) / 1e3};
        }
        struct table tb = table_make(&t);
        int *a = malloc((size_t)t.n_mentees * sizeof *a);
        enum solve_method used;
        struct solve_value v = solve_with(&t, &tb, SOLVE_AUTO, a, &used);
        cr_assert_eq(used, k < 2 ? SOLVE_METHOD_SCALING : SOLVE_METHOD_SPARSE, "k %d: ran %s", k,
                     method_name(used));
        cr_assert(certify(&t, &tb, a), "k %d: not optimal", k);
        struct solve_value ref = solve_with(&t, &tb, SOLVE_METHOD_LEX, a, NULL);
        cr_assert(key_cmp(t.objective, v, ref) == 0, "k %d: auto and lex values differ", k);
        free(a);
        table_free(&tb);
        inst_free(&t);
    }
}

static void certify_many(enum solve_objective obj, unsigned long long seed0, int count)
{
    for (int k = 0; k < count; k++) {
        struct rng r = {seed0 + (unsigned long long)k};
        struct inst t;
        double density = 0.03 + 0.3 * rng_unit(&r);
        gen(&r, &t, 0, 120, 0, 25, 6, density, 1e6, obj);
        struct solve_assign_input in = as_input(&t);
        struct table tb = table_make(&t);
        int *mentor_of = malloc(((size_t)t.n_mentees + 1) * sizeof *mentor_of);
        int rc = solve_assign(&in, mentor_of);
        cr_assert_eq(rc, 0, "seed %llu: rc %d", seed0 + (unsigned long long)k, rc);
        (void)ref_value(&t, &tb, mentor_of, "certify");
        cr_assert(certify(&t, &tb, mentor_of), "seed %llu obj %d: not optimal",
                  seed0 + (unsigned long long)k, (int)obj);
        free(mentor_of);
        table_free(&tb);
        inst_free(&t);
    }
}

Test(solve_assign, certificate_medium_coverage)
{
    certify_many(SOLVE_COVERAGE, 7000000, 150);
}

Test(solve_assign, certificate_medium_quality)
{
    certify_many(SOLVE_QUALITY, 8000000, 150);
}

/* The checks above must be able to fail: a suboptimal answer is caught by both. */
Test(solve_assign, checkers_catch_a_worse_answer)
{
    int cap[2] = {1, 1};
    struct solve_edge e[3] = {{0, 0, 10}, {0, 1, 1}, {1, 0, 1}};
    struct inst t = {.n_mentors = 2, .n_mentees = 2, .n_edges = 3, .capacity = cap,
                     .edges = e, .objective = SOLVE_COVERAGE};
    struct table tb = table_make(&t);
    int worse[2] = {0, -1};                   /* one matched where two can be */
    cr_assert_not(certify(&t, &tb, worse));
    struct solve_value w = ref_value(&t, &tb, worse, "worse");
    cr_assert_neq(key_cmp(t.objective, w, brute_best(&t, &tb)), 0);
    int best[2] = {1, 0};
    cr_assert(certify(&t, &tb, best));
    table_free(&tb);
}

/* By mentee only: qsort leaves each mentee's edges in an order of its own. */
static int edge_by_mentee(const void *pa, const void *pb)
{
    const struct solve_edge *a = pa, *b = pb;
    return (a->mentee > b->mentee) - (a->mentee < b->mentee);
}

Test(solve_assign, deterministic_and_independent_of_edge_order)
{
    for (int k = 0; k < 80; k++) {
        struct rng r = {900000 + (unsigned long long)k};
        struct inst t;
        gen(&r, &t, 20, 80, 1, 15, 4, 0.3, 1e3, k % 2 ? SOLVE_QUALITY : SOLVE_COVERAGE);
        struct solve_assign_input in = as_input(&t);
        in.method = k < 40 ? SOLVE_AUTO : SOLVE_METHOD_SCALING;
        size_t sz = ((size_t)t.n_mentees + 1) * sizeof(int);
        int *a = malloc(sz), *b = malloc(sz), *c = malloc(sz);
        cr_assert_eq(solve_assign(&in, a), 0);
        cr_assert_eq(solve_assign(&in, b), 0);
        cr_assert_eq(memcmp(a, b, sz - sizeof(int)), 0, "seed %d: two runs differ", k);
        for (int e = t.n_edges - 1; e > 0; e--) {
            int x = rng_int(&r, 0, e);
            struct solve_edge tmp = t.edges[e];
            t.edges[e] = t.edges[x];
            t.edges[x] = tmp;
        }
        cr_assert_eq(solve_assign(&in, c), 0);
        cr_assert_eq(memcmp(a, c, sz - sizeof(int)), 0, "seed %d: edge order changed the answer", k);
        /* Grouped by mentee, in order (rows_build then reads the rows in place), each
         * mentee's edges in a shuffled order. */
        qsort(t.edges, (size_t)t.n_edges, sizeof *t.edges, edge_by_mentee);
        cr_assert_eq(solve_assign(&in, c), 0);
        cr_assert_eq(memcmp(a, c, sz - sizeof(int)), 0, "seed %d: edges grouped by mentee changed the answer", k);
        free(a); free(b); free(c);
        inst_free(&t);
    }
}

/* Rows longer and shorter than the 4,096 pairs rows_build sorts as packed keys (longer
 * ones take qsort), with tied scores and duplicate pairs: the sparse method must reach the
 * lexicographic solver's value and not depend on the edges' order. */
Test(solve_assign, long_rows_with_ties_match_lex, .timeout = 60)
{
    for (int k = 0; k < 4; k++) {
        struct rng r = {910000 + (unsigned long long)k};
        struct inst t;
        gen(&r, &t, 12, 20, 4000, 5200, 3, 0.9, 1e3, k % 2 ? SOLVE_QUALITY : SOLVE_COVERAGE);
        shrink_priorities(&t, 100);
        struct table tb = table_make(&t);
        size_t sz = ((size_t)t.n_mentees + 1) * sizeof(int);
        int *a = malloc(sz), *b = malloc(sz);
        enum solve_method used;
        struct solve_value ref = solve_with(&t, &tb, SOLVE_METHOD_LEX, a, NULL);
        struct solve_value v = solve_with(&t, &tb, SOLVE_METHOD_SPARSE, a, &used);
        cr_assert_eq(used, SOLVE_METHOD_SPARSE, "seed %d: ran %s", k, method_name(used));
        cr_assert(key_cmp(t.objective, v, ref) == 0, "seed %d: (%lld,%lld,%lld) vs lex (%lld,%lld,%lld)",
                  k, v.count, v.priority, v.score_micro, ref.count, ref.priority, ref.score_micro);
        for (int e = t.n_edges - 1; e > 0; e--) {
            int x = rng_int(&r, 0, e);
            struct solve_edge tmp = t.edges[e];
            t.edges[e] = t.edges[x];
            t.edges[x] = tmp;
        }
        solve_with(&t, &tb, SOLVE_METHOD_SPARSE, b, NULL);
        cr_assert_eq(memcmp(a, b, sz - sizeof(int)), 0, "seed %d: edge order changed the answer", k);
        free(a); free(b);
        table_free(&tb);
        inst_free(&t);
    }
}

/* ---- edge cases ---- */

static struct solve_value solve_and_value(const struct solve_assign_input *in, int *mentor_of)
{
    cr_assert_eq(solve_assign(in, mentor_of), 0);
    return solve_assign_value(in, mentor_of);
}

Test(solve_assign, no_edges)
{
    int cap[2] = {3, 3}, out[3] = {7, 7, 7};
    struct solve_assign_input in = {.n_mentors = 2, .capacity = cap, .n_mentees = 3};
    struct solve_value v = solve_and_value(&in, out);
    for (int j = 0; j < 3; j++)
        cr_assert_eq(out[j], -1);
    cr_assert_eq(v.count, 0);
}

Test(solve_assign, no_mentors_and_no_mentees)
{
    int out[2] = {7, 7};
    struct solve_assign_input in = {.n_mentees = 2, .objective = SOLVE_QUALITY};
    solve_and_value(&in, out);
    cr_assert(out[0] == -1 && out[1] == -1);
    struct solve_assign_input empty = {0};
    cr_assert_eq(solve_assign(&empty, NULL), 0);
    struct solve_value v = solve_assign_value(&empty, NULL);
    cr_assert(v.count == 0 && v.priority == 0 && v.score_micro == 0);
}

Test(solve_assign, zero_capacity_mentor_is_never_used)
{
    int cap[2] = {0, 1}, out[2];
    struct solve_edge e[3] = {{0, 0, 100}, {0, 1, 100}, {1, 1, 1}};
    struct solve_assign_input in = {.n_mentors = 2, .capacity = cap, .n_mentees = 2,
                                    .n_edges = 3, .edges = e};
    solve_and_value(&in, out);
    cr_assert_eq(out[0], -1);
    cr_assert_eq(out[1], 1);
}

Test(solve_assign, duplicate_edge_counts_its_higher_score)
{
    int cap[1] = {1}, out[1];
    struct solve_edge e[2] = {{0, 0, -5}, {0, 0, 3.25}};
    struct solve_assign_input in = {.n_mentors = 1, .capacity = cap, .n_mentees = 1,
                                    .n_edges = 2, .edges = e, .objective = SOLVE_QUALITY};
    struct solve_value v = solve_and_value(&in, out);
    cr_assert_eq(out[0], 0);
    cr_assert_eq(v.score_micro, 3250000);
    e[0].score = 3.25;
    e[1].score = -5;                           /* order must not matter */
    v = solve_and_value(&in, out);
    cr_assert_eq(out[0], 0);
    cr_assert_eq(v.score_micro, 3250000);
}

Test(solve_assign, negative_score_quality_skips_coverage_takes)
{
    int cap[1] = {1}, out[1];
    struct solve_edge e[1] = {{0, 0, -0.5}};
    struct solve_assign_input in = {.n_mentors = 1, .capacity = cap, .n_mentees = 1,
                                    .n_edges = 1, .edges = e, .objective = SOLVE_QUALITY};
    solve_and_value(&in, out);
    cr_assert_eq(out[0], -1);
    in.objective = SOLVE_COVERAGE;
    struct solve_value v = solve_and_value(&in, out);
    cr_assert_eq(out[0], 0);
    cr_assert_eq(v.score_micro, -500000);
    e[0].score = 0;                            /* zero score: QUALITY still matches (count) */
    in.objective = SOLVE_QUALITY;
    solve_and_value(&in, out);
    cr_assert_eq(out[0], 0);
}

Test(solve_assign, objectives_disagree_as_specified)
{
    int cap[2] = {1, 1}, out[2];
    struct solve_edge e[3] = {{0, 0, 10}, {0, 1, 1}, {1, 0, 1}};
    struct solve_assign_input in = {.n_mentors = 2, .capacity = cap, .n_mentees = 2,
                                    .n_edges = 3, .edges = e, .objective = SOLVE_COVERAGE};
    struct solve_value v = solve_and_value(&in, out);
    cr_assert(out[0] == 1 && out[1] == 0 && v.count == 2 && v.score_micro == 2000000);
    in.objective = SOLVE_QUALITY;
    v = solve_and_value(&in, out);
    cr_assert(out[0] == 0 && out[1] == -1 && v.count == 1 && v.score_micro == 10000000);
}

Test(solve_assign, longest_waiting_first_when_capacity_is_short)
{
    int cap[1] = {1}, out[3];
    long long pr[3] = {5, 9, 9};
    struct solve_edge e[3] = {{0, 0, 50}, {0, 1, 1}, {0, 2, 2}};
    struct solve_assign_input in = {.n_mentors = 1, .capacity = cap, .n_mentees = 3,
                                    .priority = pr, .n_edges = 3, .edges = e};
    struct solve_value v = solve_and_value(&in, out);
    cr_assert(out[0] == -1 && out[1] == -1 && out[2] == 0, "priority, then score");
    cr_assert(v.count == 1 && v.priority == 9 && v.score_micro == 2000000);
}

Test(solve_assign, scores_compare_exactly_in_micro_units)
{
    /* 0.1 + 0.2 != 0.3 in doubles, but 100000 + 200000 == 300000 in micro units:
     * QUALITY ties on score, so the count decides. */
    int cap[2] = {1, 1}, out[2];
    struct solve_edge e[3] = {{0, 0, 0.1}, {1, 1, 0.2}, {0, 1, 0.3}};
    struct solve_assign_input in = {.n_mentors = 2, .capacity = cap, .n_mentees = 2,
                                    .n_edges = 3, .edges = e, .objective = SOLVE_QUALITY};
    struct solve_value v = solve_and_value(&in, out);
    cr_assert(out[0] == 0 && out[1] == 1 && v.count == 2 && v.score_micro == 300000);
}

Test(solve_assign, large_priorities_stay_exact)
{
    enum { N = 300, M = 40 };
    int cap[M], out[N];
    long long pr[N];
    struct solve_edge e[N * 3];
    struct rng r = {42};
    for (int i = 0; i < M; i++)
        cap[i] = rng_int(&r, 0, 4);
    int ne = 0;
    for (int j = 0; j < N; j++) {
        pr[j] = 10000000000LL - rng_int(&r, 0, 1000000);
        for (int k = 0; k < 3; k++)
            e[ne++] = (struct solve_edge){rng_int(&r, 0, M - 1), j, rng_int(&r, -100, 100) * 1e6};
    }
    for (int obj = 0; obj < 2; obj++) {
        struct inst t = {.n_mentors = M, .n_mentees = N, .n_edges = ne, .capacity = cap,
                         .priority = pr, .edges = e, .objective = (enum solve_objective)obj};
        struct solve_assign_input in = as_input(&t);
        struct table tb = table_make(&t);
        cr_assert_eq(solve_assign(&in, out), 0);
        struct solve_value got = ref_value(&t, &tb, out, "large");
        struct solve_value lib = solve_assign_value(&in, out);
        cr_assert(lib.count == got.count && lib.priority == got.priority &&
                  lib.score_micro == got.score_micro);
        cr_assert(certify(&t, &tb, out), "objective %d not optimal", obj);
        table_free(&tb);
    }
}

Test(solve_assign, bad_input_is_einval_and_leaves_output_alone)
{
    int cap[2] = {1, 1}, negcap[2] = {1, -1}, out[2] = {7, 7};
    long long negpr[2] = {0, -1};
    struct solve_edge ok[1] = {{0, 0, 1}};
    struct solve_assign_input base = {.n_mentors = 2, .capacity = cap, .n_mentees = 2,
                                      .n_edges = 1, .edges = ok};
    struct solve_edge bad_edges[] = {
        {2, 0, 1}, {-1, 0, 1}, {0, 2, 1}, {0, -1, 1},
        {0, 0, NAN}, {0, 0, INFINITY}, {0, 0, -INFINITY}, {0, 0, 1e9 + 1}, {0, 0, -1.5e9},
    };
    for (size_t k = 0; k < sizeof bad_edges / sizeof bad_edges[0]; k++) {
        struct solve_assign_input in = base;
        in.edges = &bad_edges[k];
        cr_assert_eq(solve_assign(&in, out), -EINVAL, "bad edge %zu", k);
        cr_assert_eq(solve_assign_value(&in, out).count, -1);
    }
    struct solve_assign_input in = base;
    in.capacity = negcap;
    cr_assert_eq(solve_assign(&in, out), -EINVAL);
    in = base; in.priority = negpr;
    cr_assert_eq(solve_assign(&in, out), -EINVAL);
    in = base; in.n_mentors = -1;
    cr_assert_eq(solve_assign(&in, out), -EINVAL);
    in = base; in.n_edges = -1;
    cr_assert_eq(solve_assign(&in, out), -EINVAL);
    in = base; in.capacity = NULL;
    cr_assert_eq(solve_assign(&in, out), -EINVAL);
    in = base; in.edges = NULL;
    cr_assert_eq(solve_assign(&in, out), -EINVAL);
    in = base; in.objective = (enum solve_objective)7;
    cr_assert_eq(solve_assign(&in, out), -EINVAL);
    in = base; in.method = (enum solve_method)9;
    cr_assert_eq(solve_assign(&in, out), -EINVAL);
    cr_assert_eq(solve_assign(NULL, out), -EINVAL);
    cr_assert_eq(solve_assign(&base, NULL), -EINVAL);
    cr_assert(out[0] == 7 && out[1] == 7, "output touched on error");
    /* The boundary itself is allowed. */
    struct solve_edge edge_max[1] = {{0, 0, -1e9}};
    in = base; in.edges = edge_max; in.objective = SOLVE_COVERAGE;
    cr_assert_eq(solve_assign(&in, out), 0);
    cr_assert_eq(out[0], 0);
}

Test(solve_assign, sums_beyond_int64_are_refused_not_wrapped)
{
    int cap[1] = {2}, out[2] = {7, 7};
    long long pr[2] = {LLONG_MAX / 64, LLONG_MAX / 64};
    struct solve_edge e[2] = {{0, 0, 1}, {0, 1, 1}};
    struct solve_assign_input in = {.n_mentors = 1, .capacity = cap, .n_mentees = 2,
                                    .priority = pr, .n_edges = 2, .edges = e};
    cr_assert_eq(solve_assign(&in, out), -EOVERFLOW);
    cr_assert(out[0] == 7 && out[1] == 7);
    /* A mentee with no pair can never be matched, so its priority does not count. */
    in.n_edges = 1;
    pr[1] = LLONG_MAX;
    cr_assert_eq(solve_assign(&in, out), 0);
    cr_assert(out[0] == 0 && out[1] == -1);
}

/* Just under the -EOVERFLOW limit, with the largest scores: UBSan watches every sum. */
Test(solve_assign, near_the_range_limit_is_exact)
{
    enum { N = 48, M = 9 };
    int cap[M], out[N];
    long long pr[N];
    struct solve_edge e[N * 4];
    struct rng r = {4242};
    for (int i = 0; i < M; i++)
        cap[i] = rng_int(&r, 1, 4);
    int ne = 0;
    for (int j = 0; j < N; j++) {
        pr[j] = LLONG_MAX / 64 / N - rng_int(&r, 0, 1000);
        for (int k = 0; k < 4; k++)
            e[ne++] = (struct solve_edge){rng_int(&r, 0, M - 1), j,
                                          (rng_unit(&r) * 2.0 - 1.0) * 1e9};
    }
    for (int obj = 0; obj < 2; obj++) {
        struct inst t = {.n_mentors = M, .n_mentees = N, .n_edges = ne, .capacity = cap,
                         .priority = pr, .edges = e, .objective = (enum solve_objective)obj};
        struct solve_assign_input in = as_input(&t);
        struct table tb = table_make(&t);
        cr_assert_eq(solve_assign(&in, out), 0);
        (void)ref_value(&t, &tb, out, "near limit");
        cr_assert(certify(&t, &tb, out), "objective %d not optimal", obj);
        table_free(&tb);
    }
}

Test(solve_assign, value_rejects_invalid_assignments)
{
    int cap[2] = {1, 1};
    struct solve_edge e[2] = {{0, 0, 1}, {0, 1, 1}};
    struct solve_assign_input in = {.n_mentors = 2, .capacity = cap, .n_mentees = 2,
                                    .n_edges = 2, .edges = e};
    int not_listed[2] = {1, -1}, over[2] = {0, 0}, range[2] = {2, -1}, fine[2] = {-1, 0};
    cr_assert_eq(solve_assign_value(&in, not_listed).count, -1);
    cr_assert_eq(solve_assign_value(&in, over).count, -1);
    cr_assert_eq(solve_assign_value(&in, range).count, -1);
    struct solve_value v = solve_assign_value(&in, fine);
    cr_assert(v.count == 1 && v.priority == 0 && v.score_micro == 1000000);
}

/* A pool of the shape the engine will hand over: k candidates per mentee. */
Test(solve_assign, sized_pool_with_candidates, .timeout = 120)
{
    enum { N = 4000, M = 400, K = 10 };
    struct rng r = {77};
    int *cap = malloc(M * sizeof *cap), *out = malloc(N * sizeof *out);
    long long *pr = malloc(N * sizeof *pr);
    struct solve_edge *e = malloc((size_t)N * K * sizeof *e);
    for (int i = 0; i < M; i++)
        cap[i] = rng_int(&r, 0, 12);
    int ne = 0;
    for (int j = 0; j < N; j++) {
        pr[j] = rng_int(&r, 0, 1000000) * 1000LL;
        for (int k = 0; k < K; k++)
            e[ne++] = (struct solve_edge){rng_int(&r, 0, M - 1), j, rng_int(&r, 0, 1000) / 10.0};
    }
    for (int obj = 0; obj < 2; obj++) {
        struct solve_assign_input in = {.n_mentors = M, .capacity = cap, .n_mentees = N,
                                        .priority = pr, .n_edges = ne, .edges = e,
                                        .objective = (enum solve_objective)obj};
        cr_assert_eq(solve_assign(&in, out), 0);
        struct solve_value v = solve_assign_value(&in, out);
        cr_assert_geq(v.count, 1, "the answer must be a valid, non-empty assignment");
    }
    free(cap); free(out); free(pr); free(e);
}
