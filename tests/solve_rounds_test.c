/* Tests for solve/rounds: every schedule is checked from the raw input (allowed pairs,
 * no pair twice, capacities), and each round against the best possible: an exhaustive
 * search (small) or a separate max-flow (medium) gives, for every k, the most mentees
 * among the first k in fairness order that any matching can seat; the round must seat
 * exactly that many (k = all: a maximum matching). */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solve/rounds.h"

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
    int n_mentors, n_mentees, n_allowed, rounds;
    int (*allowed)[2];          /* NULL = every pair */
    int *per_round;             /* NULL = 1 each */
};

static struct solve_rounds_input as_input(const struct inst *t)
{
    return (struct solve_rounds_input){
        .n_mentors = t->n_mentors, .n_mentees = t->n_mentees,
        .n_allowed = t->n_allowed, .allowed = (const int (*)[2])t->allowed,
        .rounds = t->rounds, .mentor_per_round = t->per_round,
    };
}

static void inst_free(struct inst *t)
{
    free(t->allowed);
    free(t->per_round);
    memset(t, 0, sizeof *t);
}

static void gen(struct rng *r, struct inst *t, int max_mentees, int max_mentors, int max_cap,
                int max_rounds, double density)
{
    memset(t, 0, sizeof *t);
    t->n_mentees = rng_int(r, 0, max_mentees);
    t->n_mentors = rng_int(r, 0, max_mentors);
    t->rounds = rng_int(r, 0, max_rounds);
    if (rng_int(r, 0, 3) != 0) {
        t->per_round = malloc(((size_t)t->n_mentors + 1) * sizeof *t->per_round);
        for (int i = 0; i < t->n_mentors; i++)
            t->per_round[i] = rng_int(r, 0, max_cap);
    }
    if (rng_int(r, 0, 4) == 0)
        return;                 /* every pair */
    size_t room = 2 * (size_t)t->n_mentees * (size_t)t->n_mentors + 1;
    t->allowed = malloc(room * sizeof *t->allowed);
    for (int j = 0; j < t->n_mentees; j++)
        for (int i = 0; i < t->n_mentors; i++) {
            if (rng_unit(r) >= density)
                continue;
            t->allowed[t->n_allowed][0] = i;
            t->allowed[t->n_allowed++][1] = j;
            if (rng_int(r, 0, 9) == 0) {    /* listed twice */
                t->allowed[t->n_allowed][0] = i;
                t->allowed[t->n_allowed++][1] = j;
            }
        }
    for (int e = t->n_allowed - 1; e > 0; e--) {
        int k = rng_int(r, 0, e), x0 = t->allowed[e][0], x1 = t->allowed[e][1];
        t->allowed[e][0] = t->allowed[k][0];
        t->allowed[e][1] = t->allowed[k][1];
        t->allowed[k][0] = x0;
        t->allowed[k][1] = x1;
    }
}

static int cap_of(const struct inst *t, int i)
{
    return t->per_round ? t->per_round[i] : 1;
}

/* Dense table of allowed pairs, [mentee * m + mentor]. */
static unsigned char *allowed_table(const struct inst *t)
{
    size_t cells = (size_t)t->n_mentees * (size_t)t->n_mentors + 1;
    unsigned char *ok = calloc(cells, 1);
    if (t->allowed == NULL)
        memset(ok, 1, cells);
    for (int k = 0; k < t->n_allowed; k++)
        ok[(size_t)t->allowed[k][1] * (size_t)t->n_mentors + (size_t)t->allowed[k][0]] = 1;
    return ok;
}

/* Checks the rules of a schedule; returns 0, or -1 with the reason in why. */
static int schedule_check(const struct inst *t, const int *sched, char *why, size_t len)
{
    int n = t->n_mentees, m = t->n_mentors, rc = -1;
    unsigned char *ok = allowed_table(t);
    unsigned char *met = calloc((size_t)n * (size_t)m + 1, 1);
    int *load = malloc(((size_t)m + 1) * sizeof *load);
    for (int r = 0; r < t->rounds; r++) {
        memset(load, 0, ((size_t)m + 1) * sizeof *load);
        for (int j = 0; j < n; j++) {
            int i = sched[(size_t)r * (size_t)n + (size_t)j];
            if (i < -1 || i >= m) {
                snprintf(why, len, "round %d: mentee %d meets mentor %d", r, j, i);
                goto out;
            }
            if (i < 0)
                continue;
            size_t c = (size_t)j * (size_t)m + (size_t)i;
            if (!ok[c]) {
                snprintf(why, len, "round %d: pair (%d,%d) not allowed", r, i, j);
                goto out;
            }
            if (met[c]) {
                snprintf(why, len, "round %d: pair (%d,%d) meets again", r, i, j);
                goto out;
            }
            met[c] = 1;
            if (++load[i] > cap_of(t, i)) {
                snprintf(why, len, "round %d: mentor %d over %d", r, i, cap_of(t, i));
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(ok);
    free(met);
    free(load);
    return rc;
}

static void assert_valid(const struct inst *t, const int *sched, const char *what)
{
    char why[160];
    int rc = schedule_check(t, sched, why, sizeof why);
    cr_assert_eq(rc, 0, "%s: %s", what, why);
}

/* The pairs still open before round r, and the fairness order of round r: by number
 * of mentors met in rounds 0 .. r-1, then index. */
struct round_view {
    int n, m;
    unsigned char *open;        /* [mentee * m + mentor] */
    int *order, *cap;
};

static struct round_view view_before(const struct inst *t, const int *sched, int r)
{
    int n = t->n_mentees, m = t->n_mentors;
    struct round_view v = {n, m, allowed_table(t), malloc(((size_t)n + 1) * sizeof(int)),
                           malloc(((size_t)m + 1) * sizeof(int))};
    int *met = calloc((size_t)n + 1, sizeof *met);
    for (int q = 0; q < r; q++)
        for (int j = 0; j < n; j++) {
            int i = sched[(size_t)q * (size_t)n + (size_t)j];
            if (i >= 0) {
                v.open[(size_t)j * (size_t)m + (size_t)i] = 0;
                met[j]++;
            }
        }
    for (int j = 0; j < n; j++)
        v.order[j] = j;
    for (int a = 1; a < n; a++)             /* insertion sort: stable, by met */
        for (int b = a; b > 0 && met[v.order[b - 1]] > met[v.order[b]]; b--) {
            int x = v.order[b];
            v.order[b] = v.order[b - 1];
            v.order[b - 1] = x;
        }
    for (int i = 0; i < m; i++)
        v.cap[i] = cap_of(t, i);
    free(met);
    return v;
}

static void view_free(struct round_view *v)
{
    free(v->open);
    free(v->order);
    free(v->cap);
}

/* Exhaustive: best[k] = the most of the first k mentees in order that one matching
 * seats, over all matchings of the open pairs (each mentee: nobody or any open mentor
 * with room). */
struct brute {
    const struct round_view *v;
    int *load, *prefix, *best;      /* prefix[k]: seated among order[0 .. k-1] so far */
};

static void brute_rec(struct brute *b, int k)
{
    const struct round_view *v = b->v;
    if (k == v->n) {
        for (int q = 0; q <= v->n; q++)
            if (b->prefix[q] > b->best[q])
                b->best[q] = b->prefix[q];
        return;
    }
    b->prefix[k + 1] = b->prefix[k];
    brute_rec(b, k + 1);
    int j = v->order[k];
    for (int i = 0; i < v->m; i++) {
        if (!v->open[(size_t)j * (size_t)v->m + (size_t)i] || b->load[i] >= v->cap[i])
            continue;
        b->load[i]++;
        b->prefix[k + 1] = b->prefix[k] + 1;
        brute_rec(b, k + 1);
        b->load[i]--;
    }
}

static void brute_prefix_best(const struct round_view *v, int *best)
{
    struct brute b = {v, calloc((size_t)v->m + 1, sizeof(int)),
                      calloc((size_t)v->n + 1, sizeof(int)), best};
    memset(best, 0, ((size_t)v->n + 1) * sizeof *best);
    brute_rec(&b, 0);
    free(b.load);
    free(b.prefix);
}

/* Max flow S -> first k mentees in order -> open mentors -> T (caps 1, 1, cap[i]):
 * Ford-Fulkerson with depth-first search on a dense matrix, a separate method. */
static int dfs(int u, int t, int nv, int *res, unsigned char *vis)
{
    if (u == t)
        return 1;
    vis[u] = 1;
    for (int w = 0; w < nv; w++)
        if (!vis[w] && res[u * nv + w] > 0 && dfs(w, t, nv, res, vis)) {
            res[u * nv + w]--;
            res[w * nv + u]++;
            return 1;
        }
    return 0;
}

static int flow_prefix_best(const struct round_view *v, int k)
{
    int n = v->n, m = v->m, nv = n + m + 2, S = n + m, T = n + m + 1, f = 0;
    int *res = calloc((size_t)nv * (size_t)nv, sizeof *res);
    unsigned char *vis = malloc((size_t)nv);
    for (int q = 0; q < k; q++)
        res[S * nv + v->order[q]] = 1;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++)
            if (v->open[(size_t)j * (size_t)m + (size_t)i])
                res[j * nv + n + i] = 1;
    for (int i = 0; i < m; i++)
        res[(n + i) * nv + T] = v->cap[i];
    for (;;) {
        memset(vis, 0, (size_t)nv);
        if (!dfs(S, T, nv, res, vis))
            break;
        f++;
    }
    free(res);
    free(vis);
    return f;
}

/* Seated among the first k mentees in order, in round r of the schedule. */
static int seated_prefix(const struct round_view *v, const int *sched, int r, int k)
{
    int c = 0;
    for (int q = 0; q < k; q++)
        c += sched[(size_t)r * (size_t)v->n + (size_t)v->order[q]] >= 0;
    return c;
}

/* Each round is a maximum matching, and fair: for every k, as many of the first k. */
static void assert_rounds_optimal(const struct inst *t, const int *sched, int use_brute,
                                  const char *what)
{
    int n = t->n_mentees;
    int *best = malloc(((size_t)n + 1) * sizeof *best);
    for (int r = 0; r < t->rounds; r++) {
        struct round_view v = view_before(t, sched, r);
        if (use_brute)
            brute_prefix_best(&v, best);
        else
            for (int k = 0; k <= n; k++)
                best[k] = (k == 0 || k == n || k % 3 == 0) ? flow_prefix_best(&v, k) : -1;
        int got = seated_prefix(&v, sched, r, n);
        cr_assert_eq(got, best[n], "%s: round %d seats %d, a maximum matching seats %d",
                     what, r, got, best[n]);
        for (int k = 0; k < n; k++) {
            if (best[k] < 0)
                continue;
            int g = seated_prefix(&v, sched, r, k);
            cr_assert_eq(g, best[k], "%s: round %d seats %d of the %d who met fewest, could %d",
                         what, r, g, k, best[k]);
        }
        view_free(&v);
    }
    free(best);
}

static int *solve_ok(const struct inst *t)
{
    struct solve_rounds_input in = as_input(t);
    size_t cells = (size_t)t->rounds * (size_t)t->n_mentees + 1;
    int *sched = malloc(cells * sizeof *sched);
    for (size_t k = 0; k < cells; k++)
        sched[k] = 12345;       /* so an entry left unwritten shows */
    int rc = solve_rounds(&in, sched);
    cr_assert_eq(rc, 0, "rc %d", rc);
    return sched;
}

/* ---- randomized checks ---- */

/* No .timeout here: with one on this test Criterion 2.4.1 leaks a timer record that
 * LeakSanitizer reports at exit. The timed tests below catch a solver that hangs. */
Test(solve_rounds, small_rounds_are_maximum_and_fair_by_brute_force)
{
    static const double densities[] = {0.3, 0.6, 0.9, 1.0};
    for (int k = 0; k < 3000; k++) {
        unsigned long long seed = 1000 + (unsigned long long)k;
        struct rng r = {seed};
        struct inst t;
        gen(&r, &t, 7, 4, 2, 5, densities[k % 4]);
        int *sched = solve_ok(&t);
        char what[64];
        snprintf(what, sizeof what, "seed %llu", seed);
        assert_valid(&t, sched, what);
        assert_rounds_optimal(&t, sched, 1, what);
        free(sched);
        inst_free(&t);
    }
}

Test(solve_rounds, medium_rounds_are_maximum_and_fair_by_max_flow, .timeout = 30)
{
    for (int k = 0; k < 60; k++) {
        unsigned long long seed = 200000 + (unsigned long long)k;
        struct rng r = {seed};
        struct inst t;
        gen(&r, &t, 40, 12, 4, 6, 0.05 + 0.4 * rng_unit(&r));
        int *sched = solve_ok(&t);
        char what[64];
        snprintf(what, sizeof what, "seed %llu", seed);
        assert_valid(&t, sched, what);
        assert_rounds_optimal(&t, sched, 0, what);
        free(sched);
        inst_free(&t);
    }
}

/* The checks above must be able to fail. */
Test(solve_rounds, checkers_catch_bad_schedules)
{
    int allowed[3][2] = {{0, 0}, {0, 1}, {1, 1}};
    struct inst t = {.n_mentors = 2, .n_mentees = 2, .n_allowed = 3, .rounds = 2,
                     .allowed = allowed};
    char why[160];
    int twice[4] = {0, 1, 0, -1}, not_allowed[4] = {1, -1, -1, -1}, over[4] = {0, 0, -1, -1};
    int range[4] = {2, -1, -1, -1}, good[4] = {0, 1, -1, 0}, short_round[4] = {0, -1, -1, 1};
    int unfair[4] = {-1, 0, -1, 1};
    cr_assert_neq(schedule_check(&t, twice, why, sizeof why), 0);
    cr_assert_neq(schedule_check(&t, not_allowed, why, sizeof why), 0);
    cr_assert_neq(schedule_check(&t, over, why, sizeof why), 0);
    cr_assert_neq(schedule_check(&t, range, why, sizeof why), 0);
    cr_assert_eq(schedule_check(&t, good, why, sizeof why), 0, "%s", why);
    cr_assert_eq(schedule_check(&t, short_round, why, sizeof why), 0, "%s", why);
    cr_assert_eq(schedule_check(&t, unfair, why, sizeof why), 0, "%s", why);
    /* Round 0 of short_round seats one where two can meet. */
    struct round_view v = view_before(&t, short_round, 0);
    int best[3];
    brute_prefix_best(&v, best);
    cr_assert(best[2] == 2 && seated_prefix(&v, short_round, 0, 2) == 1);
    cr_assert_eq(flow_prefix_best(&v, 2), 2);
    view_free(&v);
    /* Round 1 of unfair: mentee 1 met mentor 0 in round 0, mentee 0 met nobody and
     * could meet mentor 0 now, yet only mentee 1 meets someone. */
    struct round_view v2 = view_before(&t, unfair, 1);
    cr_assert(v2.order[0] == 0 && v2.order[1] == 1);
    brute_prefix_best(&v2, best);
    cr_assert(best[1] == 1 && seated_prefix(&v2, unfair, 1, 1) == 0);
    cr_assert_eq(flow_prefix_best(&v2, 1), 1);
    view_free(&v2);
}

Test(solve_rounds, deterministic_and_independent_of_allowed_order, .timeout = 30)
{
    for (int k = 0; k < 40; k++) {
        struct rng r = {910000 + (unsigned long long)k};
        struct inst t;
        gen(&r, &t, 60, 15, 3, 6, 0.3);
        if (t.allowed == NULL) {
            inst_free(&t);
            continue;
        }
        size_t sz = (size_t)t.rounds * (size_t)t.n_mentees * sizeof(int);
        int *a = solve_ok(&t), *b = solve_ok(&t);
        cr_assert_eq(memcmp(a, b, sz), 0, "seed %d: two runs differ", k);
        for (int e = t.n_allowed - 1; e > 0; e--) {
            int x = rng_int(&r, 0, e), x0 = t.allowed[e][0], x1 = t.allowed[e][1];
            t.allowed[e][0] = t.allowed[x][0];
            t.allowed[e][1] = t.allowed[x][1];
            t.allowed[x][0] = x0;
            t.allowed[x][1] = x1;
        }
        int *c = solve_ok(&t);
        cr_assert_eq(memcmp(a, c, sz), 0, "seed %d: order of allowed changed the schedule", k);
        free(a); free(b); free(c);
        inst_free(&t);
    }
}

/* ---- the rules, one at a time ---- */

/* n x n, everyone allowed, n rounds: every round perfect, every pair exactly once. */
Test(solve_rounds, complete_n_by_n_meets_every_pair_once, .timeout = 30)
{
    for (int n = 1; n <= 14; n++) {
        struct inst t = {.n_mentors = n, .n_mentees = n, .rounds = n + 2};
        int *sched = solve_ok(&t);
        assert_valid(&t, sched, "complete");
        int *count = calloc((size_t)n * (size_t)n, sizeof *count);
        for (int r = 0; r < n + 2; r++)
            for (int j = 0; j < n; j++) {
                int i = sched[(size_t)r * (size_t)n + (size_t)j];
                if (r < n)
                    cr_assert_geq(i, 0, "n %d round %d: mentee %d left out", n, r, j);
                else
                    cr_assert_eq(i, -1, "n %d: round %d after all pairs met", n, r);
                if (i >= 0)
                    count[j * n + i]++;
            }
        for (int c = 0; c < n * n; c++)
            cr_assert_eq(count[c], 1);
        free(count);
        free(sched);
    }
}

/* Two mentors, six mentees, three rounds: everyone meets exactly one mentor, though
 * the lower-numbered mentees could meet the other mentor in later rounds. */
Test(solve_rounds, fair_when_mentors_are_scarce, .timeout = 30)
{
    struct inst t = {.n_mentors = 2, .n_mentees = 6, .rounds = 3};
    int *sched = solve_ok(&t);
    assert_valid(&t, sched, "scarce");
    for (int j = 0; j < 6; j++) {
        int met = 0;
        for (int r = 0; r < 3; r++)
            met += sched[r * 6 + j] >= 0;
        cr_assert_eq(met, 1, "mentee %d met %d mentors", j, met);
    }
    for (int r = 0; r < 3; r++)
        cr_assert_eq((sched[r * 6 + 0] >= 0) + (sched[r * 6 + 1] >= 0) +
                     (sched[r * 6 + 2] >= 0) + (sched[r * 6 + 3] >= 0) +
                     (sched[r * 6 + 4] >= 0) + (sched[r * 6 + 5] >= 0), 2);
    free(sched);
    /* Fairness never costs a pair: in round 1, mentee 2 (who met nobody) comes first,
     * and mentee 1 still meets mentor 0 so that round 1 has two pairs. */
    int allowed[4][2] = {{0, 0}, {0, 1}, {1, 1}, {1, 2}};
    int per_round[2] = {1, 1};
    struct inst t2 = {.n_mentors = 2, .n_mentees = 3, .n_allowed = 4, .rounds = 2,
                      .allowed = allowed, .per_round = per_round};
    sched = solve_ok(&t2);
    assert_valid(&t2, sched, "scarce 2");
    cr_assert(sched[0] == 0 && sched[1] == 1 && sched[2] == -1);
    cr_assert(sched[3] == -1 && sched[4] == 0 && sched[5] == 1);
    assert_rounds_optimal(&t2, sched, 1, "scarce 2");
    free(sched);
}

Test(solve_rounds, mentors_meet_several_per_round, .timeout = 30)
{
    int per_round[3] = {3, 0, 2};
    struct inst t = {.n_mentors = 3, .n_mentees = 5, .rounds = 4, .per_round = per_round};
    int *sched = solve_ok(&t);
    assert_valid(&t, sched, "several");
    int load[3] = {0, 0, 0}, seated[4] = {0, 0, 0, 0};
    for (int j = 0; j < 5; j++) {
        cr_assert_geq(sched[j], 0, "round 0: 5 seats for 5 mentees");
        load[sched[j]]++;
    }
    cr_assert(load[0] == 3 && load[1] == 0 && load[2] == 2);
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < 5; j++)
            seated[r] += sched[r * 5 + j] >= 0;
    /* Mentor 0 has two mentees left, mentor 2 three: 4, then mentor 2's last one. */
    cr_assert(seated[1] == 4 && seated[2] == 1 && seated[3] == 0);
    assert_rounds_optimal(&t, sched, 1, "several");
    free(sched);
}

Test(solve_rounds, every_pair_null_equals_the_full_list, .timeout = 30)
{
    enum { N = 9, M = 4 };
    int allowed[N * M * 2][2], per_round[M] = {2, 1, 0, 3};
    int k = 0;
    for (int c = 0; c < 2; c++)                 /* each pair twice, backwards */
        for (int j = N - 1; j >= 0; j--)
            for (int i = M - 1; i >= 0; i--) {
                allowed[k][0] = i;
                allowed[k++][1] = j;
            }
    struct inst a = {.n_mentors = M, .n_mentees = N, .rounds = 5, .per_round = per_round};
    struct inst b = a;
    b.n_allowed = k;
    b.allowed = allowed;
    int *sa = solve_ok(&a), *sb = solve_ok(&b);
    cr_assert_eq(memcmp(sa, sb, 5 * N * sizeof(int)), 0);
    assert_rounds_optimal(&a, sa, 0, "null");
    free(sa);
    free(sb);
}

Test(solve_rounds, nothing_to_schedule)
{
    int sched[4] = {7, 7, 7, 7};
    struct solve_rounds_input in = {.n_mentors = 0, .n_mentees = 2, .rounds = 2};
    cr_assert_eq(solve_rounds(&in, sched), 0);
    for (int k = 0; k < 4; k++)
        cr_assert_eq(sched[k], -1, "no mentors: nobody meets anyone");
    struct solve_rounds_input none = {.n_mentors = 3, .n_mentees = 0, .rounds = 4};
    cr_assert_eq(solve_rounds(&none, NULL), 0);
    struct solve_rounds_input zero = {.n_mentors = 3, .n_mentees = 3, .rounds = 0};
    cr_assert_eq(solve_rounds(&zero, NULL), 0);
    int empty_list[1][2] = {{0, 0}};
    struct solve_rounds_input listed_none = {.n_mentors = 1, .n_mentees = 2, .n_allowed = 0,
                                             .allowed = (const int (*)[2])empty_list, .rounds = 2};
    memset(sched, 7, sizeof sched);
    cr_assert_eq(solve_rounds(&listed_none, sched), 0);
    for (int k = 0; k < 4; k++)
        cr_assert_eq(sched[k], -1, "an empty list allows nothing");
}

Test(solve_rounds, bad_input_is_einval_and_leaves_output_alone)
{
    int ok[1][2] = {{0, 0}}, per_round[2] = {1, 1}, neg_round[2] = {1, -1}, sched[4] = {7, 7, 7, 7};
    int bad[][2] = {{2, 0}, {-1, 0}, {0, 2}, {0, -1}};
    struct solve_rounds_input base = {.n_mentors = 2, .n_mentees = 2, .n_allowed = 1,
                                      .allowed = (const int (*)[2])ok, .rounds = 2,
                                      .mentor_per_round = per_round};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct solve_rounds_input in = base;
        in.allowed = (const int (*)[2])&bad[k];
        cr_assert_eq(solve_rounds(&in, sched), -EINVAL, "bad pair %zu", k);
    }
    struct solve_rounds_input in = base;
    in.mentor_per_round = neg_round;
    cr_assert_eq(solve_rounds(&in, sched), -EINVAL);
    in = base; in.n_mentors = -1;
    cr_assert_eq(solve_rounds(&in, sched), -EINVAL);
    in = base; in.n_mentees = -1;
    cr_assert_eq(solve_rounds(&in, sched), -EINVAL);
    in = base; in.n_allowed = -1;
    cr_assert_eq(solve_rounds(&in, sched), -EINVAL);
    in = base; in.rounds = -1;
    cr_assert_eq(solve_rounds(&in, sched), -EINVAL);
    in = base; in.allowed = NULL;
    cr_assert_eq(solve_rounds(&in, sched), -EINVAL, "NULL allowed with a count");
    cr_assert_eq(solve_rounds(NULL, sched), -EINVAL);
    cr_assert_eq(solve_rounds(&base, NULL), -EINVAL);
    for (int k = 0; k < 4; k++)
        cr_assert_eq(sched[k], 7, "output touched on error");
    cr_assert_eq(solve_rounds(&base, sched), 0);
    cr_assert(sched[0] == 0 && sched[1] == -1 && sched[2] == -1 && sched[3] == -1);
}

/* Sizes the engine may hand over: a flash event of 600 mentees with 60 mentors meeting
 * three each over 8 rounds, every pair allowed; and a sparse rotational pool. */
Test(solve_rounds, sized_pools, .timeout = 60)
{
    enum { N = 600, M = 60, R = 8 };
    int *per_round = malloc(M * sizeof *per_round);
    for (int i = 0; i < M; i++)
        per_round[i] = 3;
    struct inst t = {.n_mentors = M, .n_mentees = N, .rounds = R, .per_round = per_round};
    int *sched = solve_ok(&t);
    assert_valid(&t, sched, "flash");
    for (int r = 0; r < R; r++) {
        int seated = 0;
        for (int j = 0; j < N; j++)
            seated += sched[r * N + j] >= 0;
        cr_assert_eq(seated, 180, "round %d: every seat filled", r);
    }
    int *met = calloc(N, sizeof *met);
    for (int k = 0; k < R * N; k++)
        if (sched[k] >= 0)
            met[k % N]++;
    for (int j = 0; j < N; j++)      /* 1440 meetings over 600 mentees: 2 or 3 each */
        cr_assert(met[j] == 2 || met[j] == 3, "mentee %d met %d", j, met[j]);
    free(met);
    free(sched);
    free(per_round);
    t.per_round = NULL;

    struct rng r = {31};
    struct inst s = {.n_mentors = 1000, .n_mentees = 10000, .rounds = 12};
    s.allowed = malloc((size_t)s.n_mentees * 20 * sizeof *s.allowed);
    for (int j = 0; j < s.n_mentees; j++)
        for (int k = 0; k < 20; k++) {
            s.allowed[s.n_allowed][0] = rng_int(&r, 0, s.n_mentors - 1);
            s.allowed[s.n_allowed++][1] = j;
        }
    sched = solve_ok(&s);
    assert_valid(&s, sched, "sparse");
    free(sched);
    inst_free(&s);
}
