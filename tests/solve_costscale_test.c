/* Tests for solve/costscale: on tiny networks of any shape (negative cycles, parallel arcs,
 * capacities above 1, costs of both signs and of every size the scalar must take), the
 * circulation must be valid and as cheap, lexicographically, as an exhaustive search over
 * every flow; costs too large for an exact 128-bit scalar must be refused with -ERANGE. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "solve/costscale.h"

struct rng { unsigned long long s; };

static unsigned long long rng_next(struct rng *r)
{
    unsigned long long z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static long long rng_ll(struct rng *r, long long lo, long long hi)     /* inclusive */
{
    return (long long)((unsigned long long)lo +
                       rng_next(r) % ((unsigned long long)hi - (unsigned long long)lo + 1));
}

enum { MAX_ARCS = 8, MAX_NODES = 5 };

struct net {
    int n, m, tail[MAX_ARCS], head[MAX_ARCS], cap[MAX_ARCS];
    struct flow_cost cost[MAX_ARCS];
};

static int lex_cmp(const long long *a, const long long *b)
{
    for (int k = 0; k < FLOW_LEX; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* Returns 0 and the total cost of flow when it is a circulation within the capacities. */
static int value_of(const struct net *w, const int *flow, long long *total)
{
    long long bal[MAX_NODES] = {0};
    memset(total, 0, FLOW_LEX * sizeof *total);
    for (int k = 0; k < w->m; k++) {
        if (flow[k] < 0 || flow[k] > w->cap[k])
            return -1;
        bal[w->tail[k]] -= flow[k];
        bal[w->head[k]] += flow[k];
        for (int c = 0; c < FLOW_LEX; c++)
            total[c] += flow[k] * w->cost[k].v[c];
    }
    for (int v = 0; v < w->n; v++)
        if (bal[v] != 0)
            return -1;
    return 0;
}

/* Every flow vector within the capacities, by odometer. */
static void brute(const struct net *w, long long *best)
{
    int flow[MAX_ARCS] = {0};
    long long t[FLOW_LEX];
    memset(best, 0, FLOW_LEX * sizeof *best);      /* the zero circulation */
    for (;;) {
        if (value_of(w, flow, t) == 0 && lex_cmp(t, best) < 0)
            memcpy(best, t, sizeof t);
        int k = 0;
        while (k < w->m && flow[k] == w->cap[k])
            flow[k++] = 0;
        if (k == w->m)
            break;
        flow[k]++;
    }
}

/* kind 0: small costs of both signs; 1: mentoring-like (1, 1e12 + s, score micro);
 * 2: components up to 2^24 of both signs; 3: one component only, up to 2^58. */
static void gen(struct rng *r, struct net *w, int kind)
{
    memset(w, 0, sizeof *w);
    w->n = (int)rng_ll(r, 2, MAX_NODES);
    w->m = (int)rng_ll(r, 1, MAX_ARCS);
    for (int k = 0; k < w->m; k++) {
        w->tail[k] = (int)rng_ll(r, 0, w->n - 1);
        do
            w->head[k] = (int)rng_ll(r, 0, w->n - 1);
        while (w->head[k] == w->tail[k]);
        w->cap[k] = (int)rng_ll(r, 0, 2);
        for (int c = 0; c < FLOW_LEX; c++) {
            long long x;
            switch (kind) {
            case 0: x = rng_ll(r, -3, 3); break;
            case 1: x = c == 0 ? rng_ll(r, -1, 1)
                      : c == 1 ? (rng_ll(r, 0, 1) ? -1 : 1) * (1000000000000LL + rng_ll(r, 0, 40000000))
                               : rng_ll(r, -3000, 3000) * 1000000LL;
                    break;
            case 2: x = rng_ll(r, -(1LL << 24), 1LL << 24); break;
            default: x = c == 2 ? rng_ll(r, -(1LL << 58), 1LL << 58) : 0; break;
            }
            w->cost[k].v[c] = x;
        }
    }
}

static struct costscale_problem as_problem(const struct net *w)
{
    return (struct costscale_problem){w->n, w->m, w->tail, w->head, w->cap, w->cost};
}

Test(solve_costscale, brute_force_tiny_networks, .timeout = 60)
{
    for (int k = 0; k < 20000; k++) {
        struct rng r = {100 + (unsigned long long)k};
        struct net w;
        gen(&r, &w, k % 4);
        struct costscale_problem p = as_problem(&w);
        int flow[MAX_ARCS];
        int rc = costscale_solve(&p, flow);
        cr_assert_eq(rc, 0, "seed %d kind %d: rc %d", k, k % 4, rc);
        long long got[FLOW_LEX], want[FLOW_LEX];
        cr_assert_eq(value_of(&w, flow, got), 0, "seed %d: not a circulation", k);
        brute(&w, want);
        cr_assert(lex_cmp(got, want) == 0,
                  "seed %d kind %d: (%lld,%lld,%lld) want (%lld,%lld,%lld)", k, k % 4,
                  got[0], got[1], got[2], want[0], want[1], want[2]);
        int again[MAX_ARCS];
        cr_assert_eq(costscale_solve(&p, again), 0);
        cr_assert_eq(memcmp(flow, again, (size_t)w.m * sizeof *flow), 0, "seed %d: not deterministic", k);
    }
}

/* The check above must be able to fail: a circulation that misses a negative cycle. */
Test(solve_costscale, brute_force_catches_a_worse_circulation)
{
    struct net w = {.n = 2, .m = 2, .tail = {0, 1}, .head = {1, 0}, .cap = {1, 1},
                    .cost = {{{0, -1, 0}}, {{0, 0, 5}}}};
    int zero[2] = {0, 0}, one[2] = {1, 1};
    long long t[FLOW_LEX], best[FLOW_LEX];
    brute(&w, best);
    cr_assert_eq(value_of(&w, zero, t), 0);
    cr_assert_lt(lex_cmp(best, t), 0);
    cr_assert_eq(value_of(&w, one, t), 0);
    cr_assert_eq(lex_cmp(best, t), 0);
}

/* Unrelated components near 2^62 on a few nodes: W0 = 2 (B1 W1 + B2) + 1 needs about 2^130,
 * so there is no exact 128-bit scalar. */
Test(solve_costscale, refuses_what_128_bits_cannot_hold)
{
    enum { N = 6, M = 6 };
    int tail[M], head[M], cap[M], flow[M];
    struct flow_cost cost[M];
    struct rng r = {7};
    for (int k = 0; k < M; k++) {
        tail[k] = k % N;
        head[k] = (k + 1) % N;
        cap[k] = 1;
        for (int c = 0; c < FLOW_LEX; c++)
            cost[k].v[c] = rng_ll(&r, -(1LL << 62), 1LL << 62) | 1;
    }
    struct costscale_problem p = {N, M, tail, head, cap, cost};
    cr_assert_eq(costscale_solve(&p, flow), -ERANGE);
    /* The same with two components zero fits: one 2^62 scalar times V + 1. */
    for (int k = 0; k < M; k++)
        cost[k].v[0] = cost[k].v[1] = 0;
    cr_assert_eq(costscale_solve(&p, flow), 0);
    /* And a common factor is divided out: 2^62 times small numbers in all three. */
    for (int k = 0; k < M; k++)
        for (int c = 0; c < FLOW_LEX; c++)
            cost[k].v[c] = (1LL << 61) * (k % 3 == 0 ? 1 : -1);
    cr_assert_eq(costscale_solve(&p, flow), 0);
    long long sum = 0;
    for (int k = 0; k < M; k++)
        sum += flow[k];
    cr_assert_eq(sum, M, "the cycle of cost -2 (in units of 2^61) must be taken");
}

Test(solve_costscale, rejects_bad_input)
{
    int tail[1] = {0}, head[1] = {1}, cap[1] = {1}, flow[1];
    struct flow_cost cost[1] = {{{0, 0, 0}}};
    struct costscale_problem p = {2, 1, tail, head, cap, cost};
    cr_assert_eq(costscale_solve(NULL, flow), -EINVAL);
    cr_assert_eq(costscale_solve(&p, NULL), -EINVAL);
    head[0] = 0;
    cr_assert_eq(costscale_solve(&p, flow), -EINVAL);      /* a loop */
    head[0] = 2;
    cr_assert_eq(costscale_solve(&p, flow), -EINVAL);      /* out of range */
    head[0] = 1;
    cap[0] = -1;
    cr_assert_eq(costscale_solve(&p, flow), -EINVAL);
    cap[0] = 1;
    p.n_nodes = 0;
    cr_assert_eq(costscale_solve(&p, flow), -EINVAL);
    p.n_nodes = 2;
    cr_assert_eq(costscale_solve(&p, flow), 0);
    cr_assert_eq(flow[0], 0);
}
