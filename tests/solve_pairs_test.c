/* Tests for solve/pairs: every answer must be a valid matching of listed pairs whose
 * value equals an exhaustive search's optimum (small graphs) or a planted dual
 * certificate's (medium graphs). Never trust solve_pairs_value alone: values are
 * recomputed here from the raw input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solve/pairs.h"

/* A solver bug can loop forever instead of answering wrongly: make that a failure. */
TestSuite(solve_pairs, .timeout = 60);

/* ---- seeded randomness (splitmix64), one state per instance ---- */

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
    int n, n_edges, cap;
    struct solve_pair_edge *edges;
    enum solve_pairs_objective objective;
};

static struct solve_pairs_input as_input(const struct inst *t)
{
    return (struct solve_pairs_input){
        .n_people = t->n, .n_edges = t->n_edges, .edges = t->edges, .objective = t->objective,
    };
}

static void inst_add(struct inst *t, int a, int b, double score)
{
    if (t->n_edges == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->edges = realloc(t->edges, (size_t)t->cap * sizeof *t->edges);
        cr_assert_not_null(t->edges);
    }
    t->edges[t->n_edges++] = (struct solve_pair_edge){a, b, score};
}

static void inst_free(struct inst *t)
{
    free(t->edges);
    memset(t, 0, sizeof *t);
}

static void shuffle_edges(struct rng *r, struct inst *t)
{
    for (int e = t->n_edges - 1; e > 0; e--) {
        int x = rng_int(r, 0, e);
        struct solve_pair_edge tmp = t->edges[e];
        t->edges[e] = t->edges[x];
        t->edges[x] = tmp;
    }
}

static long long micro_of(double score)
{
    return llround(score * 1e6);
}

/* (count, score) compared in the objective's order: > 0 when x is better. */
static int key_cmp(enum solve_pairs_objective obj, struct solve_pairs_value x,
                   struct solve_pairs_value y)
{
    long long p1 = obj == SOLVE_PAIRS_COVERAGE ? x.count : x.score_micro;
    long long p2 = obj == SOLVE_PAIRS_COVERAGE ? y.count : y.score_micro;
    long long s1 = obj == SOLVE_PAIRS_COVERAGE ? x.score_micro : x.count;
    long long s2 = obj == SOLVE_PAIRS_COVERAGE ? y.score_micro : y.count;
    if (p1 != p2)
        return p1 < p2 ? -1 : 1;
    if (s1 != s2)
        return s1 < s2 ? -1 : 1;
    return 0;
}

/* The value of mate, from the raw edge list: {-1, -1} when mate is not a
 * symmetric matching of listed pairs. */
static struct solve_pairs_value ref_value_raw(const struct inst *t, const int *mate)
{
    const struct solve_pairs_value bad = {-1, -1};
    for (int i = 0; i < t->n; i++) {
        int j = mate[i];
        if (j < -1 || j >= t->n || j == i || (j >= 0 && mate[j] != i))
            return bad;
    }
    long long *best = malloc(((size_t)t->n + 1) * sizeof *best);
    char *listed = calloc((size_t)t->n + 1, 1);
    cr_assert(best && listed);
    for (int e = 0; e < t->n_edges; e++) {
        int a = t->edges[e].a, b = t->edges[e].b;
        if (mate[a] != b)
            continue;
        int lo = a < b ? a : b;
        long long mc = micro_of(t->edges[e].score);
        if (!listed[lo] || mc > best[lo])
            best[lo] = mc;
        listed[lo] = 1;
    }
    struct solve_pairs_value v = {0, 0};
    for (int i = 0; i < t->n; i++)
        if (mate[i] > i) {
            if (!listed[i]) {
                v = bad;
                break;
            }
            v.count++;
            v.score_micro += best[i];
        }
    free(best);
    free(listed);
    return v;
}

/* Asserts mate is a valid matching and that solve_pairs_value agrees; returns it. */
static struct solve_pairs_value checked_value(const struct inst *t, const int *mate,
                                              const char *what)
{
    struct solve_pairs_value v = ref_value_raw(t, mate);
    cr_assert(v.count >= 0, "%s: not a matching of listed pairs", what);
    struct solve_pairs_input in = as_input(t);
    struct solve_pairs_value lib = solve_pairs_value(&in, mate);
    cr_assert(lib.count == v.count && lib.score_micro == v.score_micro,
              "%s: solve_pairs_value (%lld,%lld) disagrees with (%lld,%lld)", what,
              lib.count, lib.score_micro, v.count, v.score_micro);
    return v;
}

static int *solve_ok(const struct inst *t)
{
    int *mate = malloc(((size_t)t->n + 1) * sizeof *mate);
    cr_assert_not_null(mate);
    struct solve_pairs_input in = as_input(t);
    int rc = solve_pairs(&in, mate);
    cr_assert_eq(rc, 0, "solve_pairs returned %d", rc);
    return mate;
}

/* ---- exhaustive search over all matchings (n <= 16) ---- */

#define BMAX 16

struct brute {
    int n;
    enum solve_pairs_objective obj;
    char has[BMAX][BMAX];
    long long w[BMAX][BMAX];
    int used[BMAX], mate[BMAX], best_mate[BMAX];
    struct solve_pairs_value cur, best;
    long long n_best;   /* matchings reaching best */
};

static void brute_rec(struct brute *b, int i)
{
    while (i < b->n && b->used[i])
        i++;
    if (i == b->n) {
        int c = b->n_best == 0 ? 1 : key_cmp(b->obj, b->cur, b->best);
        if (c > 0) {
            b->best = b->cur;
            b->n_best = 1;
            memcpy(b->best_mate, b->mate, sizeof b->mate);
        } else if (c == 0) {
            b->n_best++;
        }
        return;
    }
    b->used[i] = 1;
    brute_rec(b, i + 1);
    for (int j = i + 1; j < b->n; j++) {
        if (b->used[j] || !b->has[i][j])
            continue;
        b->used[j] = 1;
        b->mate[i] = j;
        b->mate[j] = i;
        b->cur.count++;
        b->cur.score_micro += b->w[i][j];
        brute_rec(b, i + 1);
        b->cur.count--;
        b->cur.score_micro -= b->w[i][j];
        b->mate[i] = b->mate[j] = -1;
        b->used[j] = 0;
    }
    b->used[i] = 0;
}

static void brute_solve(const struct inst *t, struct brute *b)
{
    cr_assert(t->n <= BMAX);
    memset(b, 0, sizeof *b);
    b->n = t->n;
    b->obj = t->objective;
    for (int e = 0; e < t->n_edges; e++) {
        int x = t->edges[e].a, y = t->edges[e].b;
        long long mc = micro_of(t->edges[e].score);
        if (!b->has[x][y] || mc > b->w[x][y]) {
            b->w[x][y] = b->w[y][x] = mc;
            b->has[x][y] = b->has[y][x] = 1;
        }
    }
    for (int i = 0; i < BMAX; i++)
        b->mate[i] = -1;
    brute_rec(b, 0);
}

/* Solves t, checks the answer against exhaustive search; when the optimum is
 * unique, the matching itself must be it. */
static void check_against_brute(const struct inst *t, const char *what)
{
    struct brute b;
    brute_solve(t, &b);
    int *mate = solve_ok(t);
    struct solve_pairs_value got = checked_value(t, mate, what);
    cr_assert(key_cmp(t->objective, got, b.best) == 0,
              "%s obj %d: got (%lld,%lld) want (%lld,%lld)", what, (int)t->objective,
              got.count, got.score_micro, b.best.count, b.best.score_micro);
    if (b.n_best == 1)
        for (int i = 0; i < t->n; i++)
            cr_assert_eq(mate[i], b.best_mate[i], "%s: the unique optimum differs at %d", what, i);
    free(mate);
}

/* ---- small random graphs ---- */

static double gen_score(struct rng *r, int kind)
{
    static const double few[] = {-1.0, 0.0, 0.5, 1.0, 2.0};
    switch (kind) {
    case 0:  return rng_int(r, -3, 6);                                            /* integers */
    case 1:  return rng_int(r, -3000, 6000) / 1000.0 + (rng_unit(r) - 0.5) * 1e-6; /* rounding */
    case 2:  return few[rng_int(r, 0, 4)];                                        /* ties */
    case 3:  return (rng_unit(r) * 2.0 - 1.0) * 1e9;                              /* large */
    default: return rng_int(r, 0, 3) * 0.25;                                      /* small >= 0 */
    }
}

static void gen_small(struct rng *r, struct inst *t, int min_n, int max_n, double density,
                      enum solve_pairs_objective obj)
{
    memset(t, 0, sizeof *t);
    t->objective = obj;
    t->n = rng_int(r, min_n, max_n);
    int kind = rng_int(r, 0, 4);
    for (int i = 0; i < t->n; i++)
        for (int j = i + 1; j < t->n; j++) {
            if (rng_unit(r) >= density)
                continue;
            int swap = rng_int(r, 0, 1);
            inst_add(t, swap ? j : i, swap ? i : j, gen_score(r, kind));
            if (rng_int(r, 0, 9) == 0)   /* listed again, maybe reversed, another score */
                inst_add(t, swap ? i : j, swap ? j : i, gen_score(r, kind));
        }
    shuffle_edges(r, t);
}

static void brute_many(enum solve_pairs_objective obj, unsigned long long seed0, int count)
{
    static const double densities[] = {0.15, 0.3, 0.5, 0.8, 1.0};
    char what[64];
    for (int k = 0; k < count; k++) {
        struct rng r = {seed0 + (unsigned long long)k};
        struct inst t;
        /* Mostly the larger sizes, where blossoms nest; every eighth from zero up. */
        gen_small(&r, &t, k % 8 == 0 ? 0 : 6, 10, densities[k % 5], obj);
        snprintf(what, sizeof what, "seed %llu", seed0 + (unsigned long long)k);
        check_against_brute(&t, what);
        inst_free(&t);
    }
}

Test(solve_pairs, brute_force_coverage)
{
    brute_many(SOLVE_PAIRS_COVERAGE, 1000, 2500);
}

Test(solve_pairs, brute_force_quality)
{
    brute_many(SOLVE_PAIRS_QUALITY, 500000, 2500);
}

/* Sparse graphs made of odd cycles sharing vertices and chords: blossoms inside
 * blossoms, expanded and re-formed. */
static void gen_cycles(struct rng *r, struct inst *t, enum solve_pairs_objective obj)
{
    memset(t, 0, sizeof *t);
    t->objective = obj;
    t->n = rng_int(r, 7, 12);
    int n_cycles = rng_int(r, 2, 4), kind = rng_int(r, 0, 2);
    for (int c = 0; c < n_cycles; c++) {
        int len = 2 * rng_int(r, 1, 3) + 1, first = rng_int(r, 0, t->n - 1), prev = first;
        for (int i = 1; i < len; i++) {
            int v = rng_int(r, 0, t->n - 1);
            if (v == prev)
                v = (v + 1) % t->n;
            inst_add(t, prev, v, kind == 0 ? rng_int(r, 1, 4) : gen_score(r, kind));
            prev = v;
        }
        if (prev != first)
            inst_add(t, prev, first, kind == 0 ? rng_int(r, 1, 4) : gen_score(r, kind));
    }
    for (int i = rng_int(r, 0, 3); i > 0; i--) {
        int a = rng_int(r, 0, t->n - 1), b = rng_int(r, 0, t->n - 1);
        if (a != b)
            inst_add(t, a, b, rng_int(r, 0, 5));
    }
    shuffle_edges(r, t);
}

Test(solve_pairs, brute_force_odd_cycles)
{
    char what[64];
    for (int k = 0; k < 3000; k++) {
        struct rng r = {7700000 + (unsigned long long)k};
        struct inst t;
        gen_cycles(&r, &t, k % 2 ? SOLVE_PAIRS_QUALITY : SOLVE_PAIRS_COVERAGE);
        snprintf(what, sizeof what, "cycles seed %d", k);
        check_against_brute(&t, what);
        inst_free(&t);
    }
}

/* ---- named graphs that force blossoms ---- */

struct wedge { int a, b; double w; };

static void named(const char *name, const struct wedge *e, int ne, const int *want_quality)
{
    for (int o = 0; o < 2; o++) {
        struct inst t = {0};
        t.objective = o ? SOLVE_PAIRS_QUALITY : SOLVE_PAIRS_COVERAGE;
        for (int i = 0; i < ne; i++) {
            inst_add(&t, e[i].a, e[i].b, e[i].w);
            if (e[i].a + 1 > t.n) t.n = e[i].a + 1;
            if (e[i].b + 1 > t.n) t.n = e[i].b + 1;
        }
        char what[96];
        snprintf(what, sizeof what, "%s (%s)", name, o ? "quality" : "coverage");
        check_against_brute(&t, what);
        if (o == 1 && want_quality != NULL) {
            int *mate = solve_ok(&t);
            for (int i = 0; i < t.n; i++)
                cr_assert_eq(mate[i], want_quality[i], "%s: mate[%d] = %d, want %d", what, i,
                             mate[i], want_quality[i]);
            free(mate);
        }
        inst_free(&t);
    }
}

#define NAMED(name, want, ...) do {                                               \
        static const struct wedge e_[] = {__VA_ARGS__};                          \
        named(name, e_, (int)(sizeof e_ / sizeof e_[0]), want);                   \
    } while (0)

Test(solve_pairs, named_blossom_graphs)
{
    /* Greedy takes the heaviest pair and loses. */
    static const int path[] = {1, 0, 3, 2};
    NAMED("greedy path", path, {0, 1, 2}, {1, 2, 3}, {2, 3, 2});
    NAMED("triangle", NULL, {0, 1, 1}, {1, 2, 1}, {0, 2, 1});
    static const int tri_tail[] = {1, 0, 3, 2};
    NAMED("triangle and tail", tri_tail, {0, 1, 4}, {1, 2, 5}, {0, 2, 4}, {2, 3, 1});
    /* A pentagon whose every vertex has a pendant: the cycle must be entered
     * through a blossom and left through its other side. */
    NAMED("pentagon with pendants", NULL, {0, 1, 5}, {1, 2, 5}, {2, 3, 5}, {3, 4, 5}, {4, 0, 5},
          {0, 5, 3}, {1, 6, 3}, {2, 7, 3}, {3, 8, 3}, {4, 9, 3});
    /* Two triangles joined by an edge: bipartite reasoning has no odd cycles. */
    static const int two_tri[] = {2, 5, 0, 4, 3, 1};
    NAMED("two triangles", two_tri, {0, 1, 3}, {1, 2, 3}, {0, 2, 3}, {3, 4, 3}, {4, 5, 3},
          {3, 5, 3}, {1, 5, 4});
    /* The classic cases of the primal-dual method (vertex 0 unused): an S blossom
     * used for augmentation, relabelled T, nested, expanded, expanded recursively. */
    static const int s_blossom[] = {-1, 2, 1, 4, 3};
    NAMED("S-blossom", s_blossom, {1, 2, 8}, {1, 3, 9}, {2, 3, 10}, {3, 4, 7});
    static const int s_blossom2[] = {-1, 6, 3, 2, 5, 4, 1};
    NAMED("S-blossom, augment", s_blossom2, {1, 2, 8}, {1, 3, 9}, {2, 3, 10}, {3, 4, 7},
          {1, 6, 5}, {4, 5, 6});
    static const int relabel[] = {-1, 6, 3, 2, 5, 4, 1};
    NAMED("S-blossom relabelled T", relabel, {1, 2, 9}, {1, 3, 8}, {2, 3, 10}, {1, 4, 5},
          {4, 5, 4}, {1, 6, 3});
    NAMED("S-blossom relabelled T (2)", relabel, {1, 2, 9}, {1, 3, 8}, {2, 3, 10}, {1, 4, 5},
          {4, 5, 3}, {1, 6, 4});
    static const int relabel3[] = {-1, 2, 1, 6, 5, 4, 3};
    NAMED("S-blossom relabelled T (3)", relabel3, {1, 2, 9}, {1, 3, 8}, {2, 3, 10}, {1, 4, 5},
          {4, 5, 3}, {3, 6, 4});
    static const int nested[] = {-1, 3, 4, 1, 2, 6, 5};
    NAMED("nested S-blossom", nested, {1, 2, 9}, {1, 3, 9}, {2, 3, 10}, {2, 4, 8}, {3, 5, 8},
          {4, 5, 10}, {5, 6, 6});
    static const int nested_relabel[] = {-1, 2, 1, 4, 3, 6, 5, 8, 7};
    NAMED("nested S-blossom relabelled, expanded", nested_relabel, {1, 2, 10}, {1, 7, 10},
          {2, 3, 12}, {3, 4, 20}, {3, 5, 20}, {4, 5, 25}, {5, 6, 10}, {6, 7, 10}, {7, 8, 8});
    static const int recursive[] = {-1, 2, 1, 5, 6, 3, 4, 8, 7};
    NAMED("nested S-blossom expanded recursively", recursive, {1, 2, 8}, {1, 3, 8}, {2, 3, 10},
          {2, 4, 12}, {3, 5, 12}, {4, 5, 14}, {4, 6, 12}, {5, 7, 12}, {6, 7, 14}, {7, 8, 12});
    static const int t_expand[] = {-1, 6, 3, 2, 8, 7, 1, 5, 4};
    NAMED("S-blossom relabelled T, expanded", t_expand, {1, 2, 23}, {1, 5, 22}, {1, 6, 15},
          {2, 3, 25}, {3, 4, 22}, {4, 5, 25}, {4, 8, 14}, {5, 7, 13});
    static const int nested_t_expand[] = {-1, 8, 3, 2, 7, 6, 5, 4, 1};
    NAMED("nested S-blossom relabelled T, expanded", nested_t_expand, {1, 2, 19}, {1, 3, 20},
          {1, 8, 8}, {2, 3, 25}, {2, 4, 18}, {3, 5, 18}, {4, 5, 13}, {4, 7, 7}, {5, 6, 7});
    static const int nasty[] = {-1, 6, 3, 2, 8, 7, 1, 5, 4, 10, 9};
    NAMED("nasty blossom", nasty, {1, 2, 45}, {1, 5, 45}, {2, 3, 50}, {3, 4, 45}, {4, 5, 50},
          {1, 6, 30}, {3, 9, 35}, {4, 8, 35}, {5, 7, 26}, {9, 10, 5});
    NAMED("nasty blossom (2)", nasty, {1, 2, 45}, {1, 5, 45}, {2, 3, 50}, {3, 4, 45},
          {4, 5, 50}, {1, 6, 30}, {3, 9, 35}, {4, 8, 26}, {5, 7, 40}, {9, 10, 5});
    NAMED("nasty blossom, least slack", nasty, {1, 2, 45}, {1, 5, 45}, {2, 3, 50}, {3, 4, 45},
          {4, 5, 50}, {1, 6, 30}, {3, 9, 35}, {4, 8, 28}, {5, 7, 26}, {9, 10, 5});
    static const int zero_slack[] = {-1, 8, 3, 2, 6, 9, 4, 10, 1, 5, 7, 12, 11};
    NAMED("nasty blossom, augment on a zero-slack edge", zero_slack, {1, 2, 45}, {1, 7, 45},
          {2, 3, 50}, {3, 4, 45}, {4, 5, 95}, {4, 6, 94}, {5, 6, 94}, {6, 7, 50}, {1, 8, 30},
          {3, 11, 35}, {5, 9, 36}, {7, 10, 26}, {11, 12, 5});
    static const int nested_expand[] = {-1, 2, 1, 5, 9, 3, 7, 6, 10, 4, 8};
    NAMED("nested blossom expansion", nested_expand, {1, 2, 40}, {1, 3, 40}, {2, 3, 60},
          {2, 4, 55}, {3, 5, 55}, {4, 5, 50}, {1, 8, 15}, {5, 7, 30}, {7, 6, 10}, {8, 10, 10},
          {4, 9, 30});
}

/* ---- medium graphs with a planted dual certificate ----
 * Random vertex duals y >= 0 and a random laminar family of odd sets with z > 0,
 * nested several deep; a matching M that fills every set; then every edge gets
 * weight y_a + y_b + (z of the sets holding both) - slack, with slack 0 for M, for
 * an odd cycle through each set and for many random ties, and slack > 0 (so some
 * weights < 0) elsewhere. Free vertices get y = 0, so (y, z) is a feasible dual
 * that M meets: by weak duality M is optimal and the maximum score is its score.
 * Nothing here comes from the solver. */

struct planted {
    struct inst t;
    long long opt_score;   /* the maximum score */
    long long opt_count;   /* |M| */
};

struct lam {                /* the laminar family, as runs of order[] */
    int n_sets;
    int *set_of;            /* innermost set of each vertex, -1 */
    int *parent, *first, *size;
    long long *z;
};

/* Sum of z over the sets holding both a and b. */
static long long zboth(const struct lam *f, int a, int b)
{
    long long sum = 0;
    for (int s = f->set_of[a]; s >= 0; s = f->parent[s]) {
        int holds_b = 0;
        for (int q = f->set_of[b]; q >= 0 && !holds_b; q = f->parent[q])
            holds_b = q == s;
        if (holds_b)
            sum += f->z[s];
    }
    return sum;
}

struct unit { int first, size, base; };     /* a top-level set or vertex */

static void plant(struct rng *r, int n, int perfect, enum solve_pairs_objective obj,
                  struct planted *pl)
{
    memset(pl, 0, sizeof *pl);
    struct inst *t = &pl->t;
    t->n = n;
    t->objective = obj;
    long long *y = malloc((size_t)n * sizeof *y);
    int *mate = malloc((size_t)n * sizeof *mate);
    int *order = malloc((size_t)n * sizeof *order);
    int *tight = malloc(4 * (size_t)n * sizeof *tight);     /* cycle edges, as pairs */
    struct unit *units = malloc((size_t)n * sizeof *units);
    struct lam f = {0};
    f.set_of = malloc((size_t)n * sizeof *f.set_of);
    f.parent = malloc((size_t)n * sizeof *f.parent);
    f.first = malloc((size_t)n * sizeof *f.first);
    f.size = malloc((size_t)n * sizeof *f.size);
    f.z = malloc((size_t)n * sizeof *f.z);
    cr_assert(y && mate && order && tight && units && f.set_of && f.parent && f.first &&
              f.size && f.z);
    for (int v = 0; v < n; v++) {
        y[v] = rng_int(r, 0, 2000000);
        mate[v] = -1;
        order[v] = v;
        f.set_of[v] = -1;
    }
    for (int v = n - 1; v > 0; v--) {
        int x = rng_int(r, 0, v), tmp = order[v];
        order[v] = order[x];
        order[x] = tmp;
    }
    /* Units are runs of order[]; merging 3 or 5 neighbouring units into a set keeps
     * every set a run. In a set, units 1-2, 3-4, ... are matched through their
     * bases, and units 0-1, 2-3, ..., last-0 are joined by tight edges between
     * random vertices: an odd cycle, the set's base that of unit 0. */
    int n_units = n, n_tight = 0;
    for (int i = 0; i < n; i++)
        units[i] = (struct unit){i, 1, order[i]};
    int merges = rng_int(r, n / 8, n / 3);
    for (int it = 0; it < merges && n_units >= 3; it++) {
        int k = n_units >= 5 && rng_int(r, 0, 2) == 0 ? 5 : 3;
        int at = rng_int(r, 0, n_units - k);
        int id = f.n_sets++;
        f.z[id] = rng_int(r, 1, 3000000);
        f.parent[id] = -1;
        f.first[id] = units[at].first;
        f.size[id] = 0;
        for (int u = at; u < at + k; u++)
            f.size[id] += units[u].size;
        for (int q = f.first[id]; q < f.first[id] + f.size[id]; q++) {
            int s = f.set_of[order[q]];
            if (s < 0) {
                f.set_of[order[q]] = id;
                continue;
            }
            while (f.parent[s] >= 0 && f.parent[s] != id)
                s = f.parent[s];
            f.parent[s] = id;
        }
        for (int u = at + 1; u < at + k; u += 2) {
            int x = units[u].base, w = units[u + 1].base;
            mate[x] = w;
            mate[w] = x;
        }
        for (int u = at; u < at + k; u += 2) {
            /* the last one closes the cycle, back to unit 0 */
            const struct unit *p = &units[u], *q = &units[u + 1 < at + k ? u + 1 : at];
            tight[2 * n_tight] = order[p->first + rng_int(r, 0, p->size - 1)];
            tight[2 * n_tight + 1] = order[q->first + rng_int(r, 0, q->size - 1)];
            n_tight++;
        }
        struct unit merged = {f.first[id], f.size[id], units[at].base};
        memmove(&units[at + 1], &units[at + k], (size_t)(n_units - at - k) * sizeof *units);
        units[at] = merged;
        n_units -= k - 1;
    }
    /* Pair top-level units (all of them when perfect) through their bases; a free
     * base gets dual 0. */
    for (int u = n_units - 1; u > 0; u--) {
        int x = rng_int(r, 0, u);
        struct unit tmp = units[u];
        units[u] = units[x];
        units[x] = tmp;
    }
    cr_assert(!perfect || n_units % 2 == 0, "perfect needs an even number of units");
    int n_top_pairs = perfect ? n_units / 2 : rng_int(r, 0, n_units / 2);
    for (int i = 0; i < n_top_pairs; i++) {
        int x = units[2 * i].base, w = units[2 * i + 1].base;
        mate[x] = w;
        mate[w] = x;
    }
    for (int u = 2 * n_top_pairs; u < n_units; u++)
        y[units[u].base] = 0;

    long long opt = 0, count = 0, dual = 0;
    for (int v = 0; v < n; v++)
        dual += y[v];
    for (int s = 0; s < f.n_sets; s++)
        dual += f.z[s] * ((f.size[s] - 1) / 2);
    for (int v = 0; v < n; v++)
        if (mate[v] > v) {
            long long w = y[v] + y[mate[v]] + zboth(&f, v, mate[v]);
            inst_add(t, v, mate[v], (double)w / 1e6);
            opt += w;
            count++;
        }
    /* The generator itself must be right: M meets the dual bound. */
    cr_assert_eq(opt, dual, "planted instance: primal %lld != dual %lld", opt, dual);
    for (int i = 0; i < n_tight; i++) {
        int a = tight[2 * i], b = tight[2 * i + 1];
        if (a != b)
            inst_add(t, a, b, (double)(y[a] + y[b] + zboth(&f, a, b)) / 1e6);
    }
    /* Random edges: half inside one set (where z counts), tight, nearly tight,
     * loose, or negative. */
    int extra = rng_int(r, n, 6 * n);
    for (int i = 0; i < extra; i++) {
        int a, b;
        if (f.n_sets > 0 && rng_int(r, 0, 1) == 0) {
            int s = rng_int(r, 0, f.n_sets - 1);
            a = order[f.first[s] + rng_int(r, 0, f.size[s] - 1)];
            b = order[f.first[s] + rng_int(r, 0, f.size[s] - 1)];
        } else {
            a = rng_int(r, 0, n - 1);
            b = rng_int(r, 0, n - 1);
        }
        if (a == b)
            continue;
        long long slack;
        switch (rng_int(r, 0, 3)) {
        case 0:  slack = 0; break;
        case 1:  slack = rng_int(r, 1, 10); break;
        case 2:  slack = rng_int(r, 0, 3000000); break;
        default: slack = rng_int(r, 0, 9000000); break;
        }
        long long w = y[a] + y[b] + zboth(&f, a, b) - slack;
        if (rng_int(r, 0, 1))
            inst_add(t, a, b, (double)w / 1e6);
        else
            inst_add(t, b, a, (double)w / 1e6);
    }
    shuffle_edges(r, t);
    pl->opt_score = opt;
    pl->opt_count = count;
    free(y); free(mate); free(order); free(tight); free(units);
    free(f.set_of); free(f.parent); free(f.first); free(f.size); free(f.z);
}

/* QUALITY: the score must be the planted maximum, with at least |M| pairs.
 * COVERAGE on a perfect M: (n / 2, the planted maximum). */
static int planted_ok(const struct planted *pl, struct solve_pairs_value v)
{
    if (pl->t.objective == SOLVE_PAIRS_QUALITY)
        return v.score_micro == pl->opt_score && v.count >= pl->opt_count;
    return v.count == pl->opt_count && v.score_micro == pl->opt_score;
}

static void planted_many(enum solve_pairs_objective obj, unsigned long long seed0, int count,
                         int min_n, int max_n)
{
    for (int k = 0; k < count; k++) {
        struct rng r = {seed0 + (unsigned long long)k};
        int n = rng_int(&r, min_n, max_n);
        int perfect = obj == SOLVE_PAIRS_COVERAGE;
        if (perfect && n % 2)
            n++;
        struct planted pl;
        plant(&r, n, perfect, obj, &pl);
        int *mate = solve_ok(&pl.t);
        char what[64];
        snprintf(what, sizeof what, "planted seed %llu", seed0 + (unsigned long long)k);
        struct solve_pairs_value v = checked_value(&pl.t, mate, what);
        cr_assert(planted_ok(&pl, v), "%s n %d obj %d: got (%lld,%lld), optimum (%lld,%lld)",
                  what, n, (int)obj, v.count, v.score_micro, pl.opt_count, pl.opt_score);
        free(mate);
        inst_free(&pl.t);
    }
}

Test(solve_pairs, planted_medium_quality)
{
    planted_many(SOLVE_PAIRS_QUALITY, 3100000, 30, 200, 1500);
}

Test(solve_pairs, planted_medium_coverage)
{
    planted_many(SOLVE_PAIRS_COVERAGE, 3200000, 30, 200, 1500);
}

/* Small planted instances also go through exhaustive search: checks the generator
 * as much as the solver. */
Test(solve_pairs, planted_small_against_brute)
{
    for (int k = 0; k < 400; k++) {
        struct rng r = {3300000 + (unsigned long long)k};
        enum solve_pairs_objective obj = k % 2 ? SOLVE_PAIRS_QUALITY : SOLVE_PAIRS_COVERAGE;
        int n = rng_int(&r, 6, 12);
        int perfect = obj == SOLVE_PAIRS_COVERAGE;
        if (perfect && n % 2)
            n--;
        struct planted pl;
        plant(&r, n, perfect, obj, &pl);
        struct brute b;
        brute_solve(&pl.t, &b);
        cr_assert(planted_ok(&pl, b.best), "seed %d: the planted optimum is wrong", k);
        check_against_brute(&pl.t, "planted small");
        inst_free(&pl.t);
    }
}

/* The checks must be able to fail: a worse answer is caught by each. */
Test(solve_pairs, checkers_catch_a_worse_answer)
{
    struct rng r = {99};
    struct planted pl;
    plant(&r, 300, 0, SOLVE_PAIRS_QUALITY, &pl);
    int *mate = solve_ok(&pl.t);
    struct solve_pairs_value v = checked_value(&pl.t, mate, "worse");
    cr_assert(planted_ok(&pl, v));
    /* Unpair the first pair: the score drops or the count does. */
    for (int i = 0; i < pl.t.n; i++)
        if (mate[i] >= 0) {
            int j = mate[i];
            mate[i] = mate[j] = -1;
            break;
        }
    cr_assert_not(planted_ok(&pl, ref_value_raw(&pl.t, mate)));
    mate[0] = 0;
    cr_assert_eq(ref_value_raw(&pl.t, mate).count, -1);
    free(mate);
    inst_free(&pl.t);

    struct inst t = {0};
    t.n = 4;
    t.objective = SOLVE_PAIRS_QUALITY;
    inst_add(&t, 0, 1, 2);
    inst_add(&t, 1, 2, 3);
    inst_add(&t, 2, 3, 2);
    struct brute b;
    brute_solve(&t, &b);
    int greedy[4] = {-1, 2, 1, -1};
    cr_assert_lt(key_cmp(t.objective, ref_value_raw(&t, greedy), b.best), 0);
    inst_free(&t);
}

/* ---- medium random graphs: what can be checked without an optimum ---- */

/* Score kinds that fit COVERAGE's 64-bit weights at any size (not 1e9 scores). */
static int medium_kind(int k)
{
    static const int kinds[] = {0, 1, 2, 4};
    return kinds[k % 4];
}

static void gen_medium(struct rng *r, struct inst *t, int n, int deg, int kind,
                       enum solve_pairs_objective obj)
{
    memset(t, 0, sizeof *t);
    t->n = n;
    t->objective = obj;
    int m = n * deg / 2;
    for (int i = 0; i < m; i++) {
        int a = rng_int(r, 0, n - 1), b = rng_int(r, 0, n - 1);
        if (a != b)
            inst_add(t, a, b, gen_score(r, kind));
    }
}

/* Many small components: the optimum is the sum of the components' exhaustive
 * optima (lexicographic optima add up across independent parts). Hundreds of
 * trees grow, meet and dissolve at once under one dual clock. */
Test(solve_pairs, medium_components_against_brute)
{
    for (int k = 0; k < 40; k++) {
        struct rng r = {4400000 + (unsigned long long)k};
        struct inst t = {0};
        t.objective = k % 2 ? SOLVE_PAIRS_QUALITY : SOLVE_PAIRS_COVERAGE;
        struct solve_pairs_value want = {0, 0};
        int kind = medium_kind(rng_int(&r, 0, 3)), target = rng_int(&r, 200, 800);
        while (t.n < target) {
            struct inst part;
            gen_small(&r, &part, 2, 10, 0.2 + 0.8 * rng_unit(&r), t.objective);
            for (int e = 0; e < part.n_edges; e++)
                part.edges[e].score = gen_score(&r, kind);
            struct brute b;
            brute_solve(&part, &b);
            want.count += b.best.count;
            want.score_micro += b.best.score_micro;
            for (int e = 0; e < part.n_edges; e++)
                inst_add(&t, part.edges[e].a + t.n, part.edges[e].b + t.n, part.edges[e].score);
            t.n += part.n;
            inst_free(&part);
        }
        /* Interleave the components' edges and ids. */
        int *perm = malloc((size_t)t.n * sizeof *perm);
        for (int i = 0; i < t.n; i++)
            perm[i] = i;
        for (int i = t.n - 1; i > 0; i--) {
            int x = rng_int(&r, 0, i), tmp = perm[i];
            perm[i] = perm[x];
            perm[x] = tmp;
        }
        for (int e = 0; e < t.n_edges; e++) {
            t.edges[e].a = perm[t.edges[e].a];
            t.edges[e].b = perm[t.edges[e].b];
        }
        shuffle_edges(&r, &t);
        int *mate = solve_ok(&t);
        struct solve_pairs_value got = checked_value(&t, mate, "components");
        cr_assert(got.count == want.count && got.score_micro == want.score_micro,
                  "seed %d obj %d: got (%lld,%lld) want (%lld,%lld)", k, (int)t.objective,
                  got.count, got.score_micro, want.count, want.score_micro);
        free(mate);
        free(perm);
        inst_free(&t);
    }
}

/* Renaming the people changes every order the solver works in, but not the
 * optimum's value. */
Test(solve_pairs, medium_value_independent_of_names)
{
    for (int k = 0; k < 40; k++) {
        struct rng r = {4500000 + (unsigned long long)k};
        struct inst t;
        gen_medium(&r, &t, rng_int(&r, 200, 1200), rng_int(&r, 2, 12), medium_kind(k / 2),
                   k % 2 ? SOLVE_PAIRS_QUALITY : SOLVE_PAIRS_COVERAGE);
        int *mate = solve_ok(&t);
        struct solve_pairs_value v1 = checked_value(&t, mate, "names");
        int *perm = malloc((size_t)t.n * sizeof *perm);
        for (int i = 0; i < t.n; i++)
            perm[i] = i;
        for (int i = t.n - 1; i > 0; i--) {
            int x = rng_int(&r, 0, i), tmp = perm[i];
            perm[i] = perm[x];
            perm[x] = tmp;
        }
        for (int e = 0; e < t.n_edges; e++) {
            t.edges[e].a = perm[t.edges[e].a];
            t.edges[e].b = perm[t.edges[e].b];
        }
        int *mate2 = solve_ok(&t);
        struct solve_pairs_value v2 = checked_value(&t, mate2, "names, renamed");
        cr_assert(v1.count == v2.count && v1.score_micro == v2.score_micro,
                  "seed %d: (%lld,%lld) before renaming, (%lld,%lld) after", k, v1.count,
                  v1.score_micro, v2.count, v2.score_micro);
        free(mate);
        free(mate2);
        free(perm);
        inst_free(&t);
    }
}

Test(solve_pairs, deterministic_and_independent_of_edge_order)
{
    for (int k = 0; k < 30; k++) {
        struct rng r = {4600000 + (unsigned long long)k};
        struct inst t;
        gen_medium(&r, &t, rng_int(&r, 20, 400), rng_int(&r, 2, 10), medium_kind(k / 2),
                   k % 2 ? SOLVE_PAIRS_QUALITY : SOLVE_PAIRS_COVERAGE);
        for (int e = 0; e < t.n_edges; e += 7)        /* some pairs listed twice */
            inst_add(&t, t.edges[e].b, t.edges[e].a, gen_score(&r, medium_kind(k / 2)));
        size_t sz = (size_t)t.n * sizeof(int);
        int *a = solve_ok(&t), *b = solve_ok(&t);
        cr_assert_eq(memcmp(a, b, sz), 0, "seed %d: two runs differ", k);
        shuffle_edges(&r, &t);
        for (int e = 0; e < t.n_edges; e++)
            if (rng_int(&r, 0, 1)) {
                int x = t.edges[e].a;
                t.edges[e].a = t.edges[e].b;
                t.edges[e].b = x;
            }
        int *c = solve_ok(&t);
        cr_assert_eq(memcmp(a, c, sz), 0, "seed %d: edge order changed the answer", k);
        free(a); free(b); free(c);
        inst_free(&t);
    }
}

/* ---- edge cases ---- */

static struct inst small(int n, enum solve_pairs_objective obj)
{
    struct inst t = {0};
    t.n = n;
    t.objective = obj;
    return t;
}

static struct solve_pairs_value solve_value(const struct inst *t, int *mate)
{
    struct solve_pairs_input in = as_input(t);
    cr_assert_eq(solve_pairs(&in, mate), 0);
    return checked_value(t, mate, "edge case");
}

Test(solve_pairs, empty_and_isolated)
{
    struct solve_pairs_input in = {0, 0, NULL, SOLVE_PAIRS_COVERAGE};
    cr_assert_eq(solve_pairs(&in, NULL), 0);
    struct solve_pairs_value v = solve_pairs_value(&in, NULL);
    cr_assert(v.count == 0 && v.score_micro == 0);

    int mate[5] = {7, 7, 7, 7, 7};
    struct inst t = small(1, SOLVE_PAIRS_QUALITY);
    v = solve_value(&t, mate);
    cr_assert(mate[0] == -1 && v.count == 0);

    t = small(5, SOLVE_PAIRS_COVERAGE);
    inst_add(&t, 3, 1, 2.5);
    v = solve_value(&t, mate);
    cr_assert(mate[0] == -1 && mate[1] == 3 && mate[2] == -1 && mate[3] == 1 && mate[4] == -1);
    cr_assert(v.count == 1 && v.score_micro == 2500000);
    inst_free(&t);
}

Test(solve_pairs, duplicates_count_once_with_the_higher_score)
{
    int mate[3];
    for (int o = 0; o < 2; o++) {
        struct inst t = small(3, o ? SOLVE_PAIRS_QUALITY : SOLVE_PAIRS_COVERAGE);
        inst_add(&t, 0, 1, 1);
        inst_add(&t, 1, 0, 5);      /* the same pair, reversed */
        inst_add(&t, 0, 1, 3);
        inst_add(&t, 1, 2, 4);
        struct solve_pairs_value v = solve_value(&t, mate);
        cr_assert(mate[0] == 1 && mate[1] == 0 && mate[2] == -1);
        cr_assert(v.count == 1 && v.score_micro == 5000000);
        inst_free(&t);
    }
}

Test(solve_pairs, objectives_differ_as_documented)
{
    int mate[4];
    /* More pairs against a better pair. */
    struct inst t = small(4, SOLVE_PAIRS_COVERAGE);
    inst_add(&t, 1, 2, 10);
    inst_add(&t, 0, 1, 1);
    inst_add(&t, 2, 3, 1);
    struct solve_pairs_value v = solve_value(&t, mate);
    cr_assert(v.count == 2 && v.score_micro == 2000000);
    t.objective = SOLVE_PAIRS_QUALITY;
    v = solve_value(&t, mate);
    cr_assert(v.count == 1 && v.score_micro == 10000000 && mate[1] == 2);
    inst_free(&t);

    /* Negative pairs: COVERAGE takes them for another pair, QUALITY never. */
    t = small(4, SOLVE_PAIRS_COVERAGE);
    inst_add(&t, 0, 1, -1);
    inst_add(&t, 2, 3, -0.5);
    inst_add(&t, 1, 2, 3);
    v = solve_value(&t, mate);
    cr_assert(v.count == 2 && v.score_micro == -1500000);
    t.objective = SOLVE_PAIRS_QUALITY;
    v = solve_value(&t, mate);
    cr_assert(v.count == 1 && v.score_micro == 3000000);
    inst_free(&t);

    t = small(2, SOLVE_PAIRS_QUALITY);
    inst_add(&t, 0, 1, -1e-6);
    v = solve_value(&t, mate);
    cr_assert(v.count == 0 && mate[0] == -1 && mate[1] == -1);
    inst_free(&t);

    /* QUALITY breaks score ties by count, zero-score pairs included. */
    t = small(4, SOLVE_PAIRS_QUALITY);
    inst_add(&t, 1, 2, 2);
    inst_add(&t, 0, 1, 1);
    inst_add(&t, 2, 3, 1);
    v = solve_value(&t, mate);
    cr_assert(v.count == 2 && v.score_micro == 2000000);
    inst_free(&t);
    t = small(4, SOLVE_PAIRS_QUALITY);
    inst_add(&t, 0, 1, 0);
    inst_add(&t, 1, 2, 0);
    inst_add(&t, 2, 3, 0);
    v = solve_value(&t, mate);
    cr_assert(v.count == 2 && v.score_micro == 0);
    inst_free(&t);

    /* One millionth of score outweighs any number of pairs. */
    t = small(4, SOLVE_PAIRS_QUALITY);
    inst_add(&t, 0, 1, 0);
    inst_add(&t, 1, 2, 1e-6);
    inst_add(&t, 2, 3, 0);
    v = solve_value(&t, mate);
    cr_assert(v.count == 1 && v.score_micro == 1 && mate[1] == 2);
    inst_free(&t);

    /* Scores compare in millionths: these two are equal, so the count decides. */
    t = small(4, SOLVE_PAIRS_QUALITY);
    inst_add(&t, 1, 2, 2.0000004);
    inst_add(&t, 0, 1, 1);
    inst_add(&t, 2, 3, 1);
    v = solve_value(&t, mate);
    cr_assert(v.count == 2 && v.score_micro == 2000000);
    inst_free(&t);
}

Test(solve_pairs, bad_input_is_refused_and_mate_untouched)
{
    struct solve_pair_edge ok[1] = {{0, 1, 1}};
    struct { struct solve_pair_edge e; } bad[] = {
        {{-1, 1, 1}}, {{0, -1, 1}}, {{3, 1, 1}}, {{0, 3, 1}}, {{2, 2, 1}},
        {{0, 1, NAN}}, {{0, 1, INFINITY}}, {{0, 1, -INFINITY}}, {{0, 1, 1000000000.5}},
        {{0, 1, -1000000000.5}},
    };
    int mate[3] = {7, 7, 7};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct solve_pair_edge e[2] = {ok[0], bad[i].e};
        struct solve_pairs_input in = {3, 2, e, SOLVE_PAIRS_QUALITY};
        cr_assert_eq(solve_pairs(&in, mate), -EINVAL, "case %zu", i);
        cr_assert_eq(solve_pairs_value(&in, mate).count, -1, "case %zu", i);
    }
    struct solve_pairs_input in = {3, 1, ok, SOLVE_PAIRS_QUALITY};
    cr_assert_eq(solve_pairs(NULL, mate), -EINVAL);
    cr_assert_eq(solve_pairs(&in, NULL), -EINVAL);
    in.n_people = -1;
    cr_assert_eq(solve_pairs(&in, mate), -EINVAL);
    in.n_people = 3;
    in.n_edges = -1;
    cr_assert_eq(solve_pairs(&in, mate), -EINVAL);
    in.n_edges = 1;
    in.edges = NULL;
    cr_assert_eq(solve_pairs(&in, mate), -EINVAL);
    in.edges = ok;
    in.objective = (enum solve_pairs_objective)7;
    cr_assert_eq(solve_pairs(&in, mate), -EINVAL);
    cr_assert(mate[0] == 7 && mate[1] == 7 && mate[2] == 7, "mate was written on error");

    /* The limits themselves are allowed. */
    struct solve_pair_edge edge[2] = {{0, 1, 1e9}, {1, 2, -1e9}};
    in = (struct solve_pairs_input){3, 2, edge, SOLVE_PAIRS_COVERAGE};
    cr_assert_eq(solve_pairs(&in, mate), 0);
    cr_assert(mate[0] == 1 && mate[1] == 0 && mate[2] == -1);
}

Test(solve_pairs, value_refuses_what_is_not_a_matching)
{
    struct solve_pair_edge e[2] = {{0, 1, 1}, {1, 2, 2}};
    struct solve_pairs_input in = {4, 2, e, SOLVE_PAIRS_QUALITY};
    int good[4] = {-1, 2, 1, -1};
    struct solve_pairs_value v = solve_pairs_value(&in, good);
    cr_assert(v.count == 1 && v.score_micro == 2000000);
    int cases[][4] = {
        {1, -1, -1, -1},     /* not symmetric */
        {-1, -1, -1, -1 + 5},/* out of range */
        {0, -1, -1, -1},     /* paired with itself */
        {-1, -1, 3, 2},      /* not listed */
        {-2, -1, -1, -1},    /* below -1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        v = solve_pairs_value(&in, cases[i]);
        cr_assert(v.count == -1 && v.score_micro == -1, "case %zu", i);
    }
    cr_assert_eq(solve_pairs_value(NULL, good).count, -1);
    cr_assert_eq(solve_pairs_value(&in, NULL).count, -1);
}

/* n people in n / 2 disjoint pairs of the given score. */
static struct inst pairs_of(int n, double score, enum solve_pairs_objective obj)
{
    struct inst t = small(n, obj);
    for (int i = 0; i + 1 < n; i += 2)
        inst_add(&t, i, i + 1, score);
    return t;
}

Test(solve_pairs, overflow_is_refused_not_wrapped)
{
    /* COVERAGE needs 1 + sum of everyone's largest |score_micro| + the largest
     * score_micro <= INT64_MAX / 16 (about 5.76e17): 300 people at 1e9 fit
     * (3e17), 600 do not (6e17). */
    struct inst t = pairs_of(300, 1e9, SOLVE_PAIRS_COVERAGE);
    int *mate = malloc(1200 * sizeof *mate);
    struct solve_pairs_value v = solve_value(&t, mate);
    cr_assert(v.count == 150 && v.score_micro == 150 * 1000000000000000LL);
    inst_free(&t);
    t = pairs_of(600, -1e9, SOLVE_PAIRS_COVERAGE);
    struct solve_pairs_input in = as_input(&t);
    mate[0] = 7;
    cr_assert_eq(solve_pairs(&in, mate), -EOVERFLOW);
    cr_assert_eq(mate[0], 7);
    inst_free(&t);
    /* QUALITY needs the largest score_micro * (people with a usable pair / 2 + 1):
     * 1e15 * 501 fits, 1e15 * 601 does not; negative pairs are not usable. */
    t = pairs_of(1000, 1e9, SOLVE_PAIRS_QUALITY);
    v = solve_value(&t, mate);
    cr_assert(v.count == 500);
    inst_free(&t);
    t = pairs_of(1200, 1e9, SOLVE_PAIRS_QUALITY);
    in = as_input(&t);
    cr_assert_eq(solve_pairs(&in, mate), -EOVERFLOW);
    inst_free(&t);
    t = pairs_of(1200, -1e9, SOLVE_PAIRS_QUALITY);
    v = solve_value(&t, mate);
    cr_assert(v.count == 0);
    inst_free(&t);
    free(mate);
}

/* A bigger graph, to run the end game (few free people, huge trees and blossoms)
 * under the sanitizers. */
Test(solve_pairs, large_planted)
{
    struct rng r = {4700000};
    struct planted pl;
    plant(&r, 4000, 1, SOLVE_PAIRS_COVERAGE, &pl);
    int *mate = solve_ok(&pl.t);
    struct solve_pairs_value v = checked_value(&pl.t, mate, "large");
    cr_assert(planted_ok(&pl, v), "got (%lld,%lld), optimum (%lld,%lld)", v.count,
              v.score_micro, pl.opt_count, pl.opt_score);
    free(mate);
    inst_free(&pl.t);
}
