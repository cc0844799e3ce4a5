/* solve/costscale: exact min-cost circulation by cost scaling on one 128-bit scalar cost.
 * It must stay exact (integers only, every sum bounded below) and deterministic, and hold
 * no state outside one call.
 *
 * Scalarization. Let g_k be the gcd of |cost component k| over all arcs (1 if all are 0)
 * and r_k = c_k / g_k (exact). Dividing a component by a positive constant keeps the
 * lexicographic order of every total. Let B_k be the sum over nodes of the largest |r_k|
 * among the arcs leaving them (by the arc's tail, as given). A residual arc is an arc or
 * the reverse of one; charge it to that arc's tail. A simple residual cycle leaves each
 * node once and enters it once, so each node is charged at most two arcs and the cycle's
 * component k lies within 2 B_k. With W1 = 2 B2 + 1 and W0 = 2 (B1 W1 + B2) + 1, a simple
 * cycle's scalar x0 W0 + x1 W1 + x2 has the sign of its triple (|x2| < W1, |x1 W1 + x2| <
 * W0). A circulation is optimal iff no residual cycle is negative, and a negative cycle
 * contains a negative simple one, in Z^3 under lexicographic order (a totally ordered
 * abelian group) as in Z: so the scalar optima are exactly the lexicographic optima.
 * Each scalar is then multiplied by V + 1 (V nodes): an eps-optimal circulation with
 * eps = 1 has every simple cycle at reduced cost, hence cost, >= -V > -(V + 1), and every
 * cycle cost is a multiple of V + 1, so no cycle is negative: the answer is optimal.
 *
 * Method (Goldberg and Tarjan 1990, with the heuristics of Goldberg's CS2, 1997): prices
 * pi, reduced cost rc(u,v) = c(u,v) + pi[u] - pi[v]; a pseudoflow is eps-optimal when every
 * residual arc has rc >= -eps. The zero flow with zero prices is C-optimal, C the largest
 * |scaled cost|. Each phase divides eps by ALPHA (not below 1) and refines: it saturates
 * every residual arc with rc < 0 (0-optimal, but with excesses), then discharges active
 * nodes (excess > 0) first in, first out: push along admissible arcs (residual, rc < 0),
 * and when there is none, relabel: pi[u] -= min rc + eps, after which some arc has rc =
 * -eps and none below. Pushes and relabels keep eps-optimality; a phase ends with a
 * circulation. After the phase with eps = 1 the circulation is optimal (above).
 *   Global price update (CS2's): from the deficit nodes, a bucket Dijkstra backwards over
 * residual arcs with length floor(rc / eps) + 1 (>= 0 under eps-optimality) gives ranks;
 * pi[v] -= rank[v] eps keeps every rc >= -eps (rc' >= rc - eps length) and makes a
 * shortest admissible path from every active node to a deficit. It stops once every
 * active node is ranked, at bucket R, and gives every node not yet ranked rank R (their
 * tentative ranks are >= R, so their arcs stay eps-optimal); it runs at the start of a
 * phase and after every UPDATE_EVERY_PER_NODE * V relabels.
 *   Early termination (as LEMON's CostScaling): after each phase with eps > 1, a bounded
 * Bellman-Ford pass looks for prices under which every residual arc has reduced cost >= 0;
 * when it finds them the circulation is optimal (no residual cycle is negative) and the
 * remaining phases are skipped. Measured: halves the solve when priorities are equal (the
 * optimum is reached phases before eps = 1), costs little otherwise (see proved_optimal).
 *
 * Complexity: V nodes, A arcs, C the largest |scaled cost|. O(log_ALPHA C) phases; each is
 * O(V^2 A) at worst by the generic FIFO push-relabel bounds (O(V^3) pushes), plus O(V + A)
 * per global update and CHECK_WORK (V + A) for the early-termination pass. In practice a
 * phase is near linear (bench/RESULTS.md: about 10 pushes and 4 relabels per node a phase
 * on the seat-scarce groups). Memory O(V + A).
 *
 * Exactness of the arithmetic: scalars are __int128. Prices only decrease, from 0. The
 * solver refuses (-ERANGE) when 4 (V + 1) C > PLIM = 2^125, and also if a price would go
 * below -PLIM (the Goldberg-Tarjan bound, a decrease of at most V (eps + ALPHA eps) per
 * phase for an active node, sums to under 3 V C, so in practice only the first check
 * can refuse). Then every price is in [-PLIM, 0], every scaled cost within C < 2^123, and a
 * reduced cost within C + 2 PLIM < 2^127; a relabel's new price is >= -3 PLIM - 2 C, and a
 * rank times eps is at most V C: no intermediate leaves the 128-bit range.
 */
#include "solve/costscale.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 wide;

#define PLIM ((wide)1 << 125)
#define ALPHA 16
#define UPDATE_EVERY_PER_NODE 1
#define CHECK_WORK 3
#define CHECK_WORK_LATE 30


/* A residual arc: arc k's forward copy carries res = cap - flow, its reverse res = flow;
 * both keep pair = cap, so the other copy's res is pair - res without reading it (the
 * global update walks arcs backwards, and that read was a cache miss per arc). */
struct rarc { wide cost; int to, rev, res, pair; };

struct cs {
    int n;
    int *first;             /* node u's residual arcs: first[u] .. first[u+1]-1 */
    struct rarc *arc;
    wide *pi;
    long long *excess;
    int *cur;               /* arcs before cur[u] are not admissible */
    int *queue, qhead, qcount;
    unsigned char *inq;
    /* global update scratch */
    int *rank, *bfirst, *bnext, *bprev;
    wide *q;                /* proved_optimal's prices */
    unsigned char *done;
    long long relabels;
};

static unsigned long long uabs_ll(long long x)
{
    return x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
}

static unsigned long long gcd_ull(unsigned long long a, unsigned long long b)
{
    while (b != 0) {
        unsigned long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static wide wabs(wide x)
{
    return x < 0 ? -x : x;
}

/* Fills s[k] with arc k's scaled cost and *cmax with the largest |s|; -ERANGE when it
 * would not fit the bound in the top comment, -ENOMEM. */
static int scalarize(const struct costscale_problem *p, wide *s, wide *cmax)
{
    unsigned long long g[FLOW_LEX] = {0};
    for (int k = 0; k < p->n_arcs; k++)
        for (int c = 0; c < FLOW_LEX; c++) {
            unsigned long long x = uabs_ll(p->cost[k].v[c]);
            if (x != 0 && (g[c] == 0 || x % g[c] != 0))
                g[c] = gcd_ull(g[c], x);
        }
    for (int c = 0; c < FLOW_LEX; c++)
        if (g[c] == 0)
            g[c] = 1;
    wide *most = calloc((size_t)p->n_nodes * FLOW_LEX + 1, sizeof *most);
    if (most == NULL)
        return -ENOMEM;
    for (int k = 0; k < p->n_arcs; k++)
        for (int c = 0; c < FLOW_LEX; c++) {
            wide r = wabs((wide)p->cost[k].v[c] / (wide)g[c]);
            wide *m = &most[(size_t)p->tail[k] * FLOW_LEX + (size_t)c];
            if (r > *m)
                *m = r;
        }
    wide b[FLOW_LEX] = {0};     /* each <= V 2^63 < 2^95 */
    for (int u = 0; u < p->n_nodes; u++)
        for (int c = 0; c < FLOW_LEX; c++)
            b[c] += most[(size_t)u * FLOW_LEX + (size_t)c];
    free(most);
    wide w1, w0, t;
    if (__builtin_mul_overflow(b[2], (wide)2, &w1) || __builtin_add_overflow(w1, (wide)1, &w1) ||
        __builtin_mul_overflow(b[1], w1, &t) || __builtin_add_overflow(t, b[2], &t) ||
        __builtin_mul_overflow(t, (wide)2, &w0) || __builtin_add_overflow(w0, (wide)1, &w0))
        return -ERANGE;
    const wide mult = (wide)p->n_nodes + 1;
    wide lim;   /* C <= PLIM / (4 (V + 1)) */
    lim = PLIM / (4 * mult);
    wide cm = 0;
    for (int k = 0; k < p->n_arcs; k++) {
        wide r0 = (wide)p->cost[k].v[0] / (wide)g[0];
        wide r1 = (wide)p->cost[k].v[1] / (wide)g[1];
        wide r2 = (wide)p->cost[k].v[2] / (wide)g[2];
        wide x, y;
        if (__builtin_mul_overflow(r0, w0, &x) || __builtin_mul_overflow(r1, w1, &y) ||
            __builtin_add_overflow(x, y, &x) || __builtin_add_overflow(x, r2, &x) ||
            __builtin_mul_overflow(x, mult, &x) || wabs(x) > lim)
            return -ERANGE;
        s[k] = x;
        if (wabs(x) > cm)
            cm = wabs(x);
    }
    *cmax = cm;
    return 0;
}

static void cs_free(struct cs *g)
{
    free(g->first); free(g->arc); free(g->pi); free(g->excess); free(g->cur);
    free(g->queue); free(g->inq); free(g->rank); free(g->bfirst); free(g->bnext);
    free(g->bprev); free(g->done); free(g->q);
}

static void enqueue(struct cs *g, int v)
{
    int at = g->qhead + g->qcount;
    if (at >= g->n)
        at -= g->n;
    g->queue[at] = v;
    g->qcount++;
    g->inq[v] = 1;
}

static int dequeue(struct cs *g)
{
    int v = g->queue[g->qhead];
    if (++g->qhead == g->n)
        g->qhead = 0;
    g->qcount--;
    g->inq[v] = 0;
    return v;
}

static void bucket_remove(struct cs *g, int v, int b)
{
    if (g->bprev[v] >= 0)
        g->bnext[g->bprev[v]] = g->bnext[v];
    else
        g->bfirst[b] = g->bnext[v];
    if (g->bnext[v] >= 0)
        g->bprev[g->bnext[v]] = g->bprev[v];
}

static void bucket_insert(struct cs *g, int v, int b)
{
    g->bprev[v] = -1;
    g->bnext[v] = g->bfirst[b];
    if (g->bfirst[b] >= 0)
        g->bprev[g->bfirst[b]] = v;
    g->bfirst[b] = v;
}

/* CS2's global price update (top comment). Returns 0 or -ERANGE. */
static int global_update(struct cs *g, wide eps)
{
    const int n = g->n, nb = n;     /* buckets 0 .. nb */
    long long active = 0;
    for (int v = 0; v < n; v++) {
        g->rank[v] = INT_MAX;
        g->done[v] = 0;
        g->cur[v] = g->first[v];
    }
    for (int b = 0; b <= nb; b++)
        g->bfirst[b] = -1;
    for (int v = 0; v < n; v++) {
        if (g->excess[v] > 0)
            active++;
        else if (g->excess[v] < 0) {
            g->rank[v] = 0;
            bucket_insert(g, v, 0);
        }
    }
    if (active == 0)
        return 0;
    int b = 0;
    for (; b <= nb && active > 0; b++) {
        while (g->bfirst[b] >= 0 && active > 0) {
            int v = g->bfirst[b];
            bucket_remove(g, v, b);
            g->done[v] = 1;
            if (g->excess[v] > 0)
                active--;
            const wide pv = g->pi[v];
            const wide room = (wide)(nb - b) * eps;  /* lengths beyond it are not kept */
            for (int a = g->first[v]; a < g->first[v + 1]; a++) {
                const struct rarc *x = &g->arc[a];
                int u = x->to;
                /* The arc u -> v is x's other copy: its res is x->pair - x->res, its cost -x->cost. */
                if (g->done[u] || x->pair - x->res <= 0)
                    continue;
                wide rc = -x->cost + g->pi[u] - pv;
                long long len;
                if (rc < 0)
                    len = 0;
                else if (rc < eps)
                    len = 1;
                else if (rc >= room)
                    continue;
                else
                    len = (long long)(rc / eps) + 1;
                long long nr = b + len;
                if (nr > nb || nr >= g->rank[u])
                    continue;
                if (g->rank[u] != INT_MAX)
                    bucket_remove(g, u, g->rank[u]);
                g->rank[u] = (int)nr;
                bucket_insert(g, u, (int)nr);
            }
        }
        if (active == 0)
            break;
    }
    const int r_rest = b > nb ? nb : b;
    for (int v = 0; v < n; v++) {
        int r = g->done[v] ? g->rank[v] : r_rest;
        if (r == 0)
            continue;
        wide np = g->pi[v] - (wide)r * eps;
        if (np < -PLIM)
            return -ERANGE;
        g->pi[v] = np;
    }
    return 0;
}

/* Pushes u's excess along admissible arcs, relabelling u when it has none left. */
static int discharge(struct cs *g, int u, wide eps)
{
    const int end = g->first[u + 1];
    wide pu = g->pi[u];
    int a = g->cur[u];
    while (g->excess[u] > 0) {
        for (; a < end; a++) {
            struct rarc *x = &g->arc[a];
            if (x->res <= 0 || x->cost + pu - g->pi[x->to] >= 0)
                continue;
            int v = x->to;
            long long d = g->excess[u] < x->res ? g->excess[u] : x->res;
            x->res -= (int)d;
            g->arc[x->rev].res += (int)d;
            g->excess[u] -= d;
            if (g->excess[v] <= 0 && g->excess[v] + d > 0 && !g->inq[v])
                enqueue(g, v);
            g->excess[v] += d;
            if (g->excess[u] == 0)
                break;
        }
        if (g->excess[u] == 0)
            break;
        /* Relabel: no admissible arc is left. */
        int any = 0;
        wide least = 0;
        for (int b = g->first[u]; b < end; b++) {
            const struct rarc *x = &g->arc[b];
            if (x->res <= 0)
                continue;
            wide rc = x->cost + pu - g->pi[x->to];
            if (!any || rc < least)
                least = rc;
            any = 1;
        }
        if (!any)
            return -EINVAL;     /* an active node always has a residual arc out */
        pu = pu - least - eps;
        if (pu < -PLIM)
            return -ERANGE;
        g->pi[u] = pu;
        g->relabels++;
        a = g->first[u];
    }
    g->cur[u] = a;
    return 0;
}

/* Early termination: whether the circulation is already optimal, proved by prices q with
 * every residual arc's reduced cost >= 0 (then no residual cycle is negative). A FIFO
 * label-correcting pass (Bellman-Ford) from q = pi, which lowers q[v] to q[u] + c(u,v)
 * where an arc is below 0; it converges exactly when no cycle is negative. It gives up
 * (returns 0, nothing changed) after check_work (V + A) arc reads, or when a q would leave
 * [-PLIM, 0] (then a reduced cost, within C + 2 PLIM, still fits). Returns 1 when proved. */
static int proved_optimal(struct cs *g, long long check_work)
{
    const int n = g->n;
    const long long limit = check_work * ((long long)n + g->first[n]);
    long long work = 0;
    wide *q = g->q;
    memcpy(q, g->pi, (size_t)n * sizeof *q);
    g->qhead = g->qcount = 0;
    for (int u = 0; u < n; u++)
        enqueue(g, u);
    while (g->qcount > 0) {
        int u = dequeue(g);
        const wide qu = q[u];
        work += g->first[u + 1] - g->first[u] + 1;
        if (work > limit)
            break;
        for (int a = g->first[u]; a < g->first[u + 1]; a++) {
            const struct rarc *x = &g->arc[a];
            if (x->res <= 0)
                continue;
            wide nq = qu + x->cost;
            if (nq < q[x->to]) {
                if (nq < -PLIM) {
                    work = limit + 1;
                    break;
                }
                q[x->to] = nq;
                if (!g->inq[x->to])
                    enqueue(g, x->to);
            }
        }
        if (work > limit)
            break;
    }
    int ok = g->qcount == 0 && work <= limit;
    while (g->qcount > 0)
        (void)dequeue(g);       /* leaves inq[] all zero for refine */
    return ok;
}

static int refine(struct cs *g, wide eps)
{
    const int n = g->n;
    for (int u = 0; u < n; u++) {
        const wide pu = g->pi[u];
        for (int a = g->first[u]; a < g->first[u + 1]; a++) {
            struct rarc *x = &g->arc[a];
            if (x->res > 0 && x->cost + pu - g->pi[x->to] < 0) {
                int d = x->res;
                g->excess[u] -= d;
                g->excess[x->to] += d;
                g->arc[x->rev].res += d;
                x->res = 0;
            }
        }
    }
    g->qhead = g->qcount = 0;
    for (int u = 0; u < n; u++)
        if (g->excess[u] > 0)
            enqueue(g, u);
    int rc = global_update(g, eps);
    long long next = g->relabels + (long long)UPDATE_EVERY_PER_NODE * n;
    while (rc == 0 && g->qcount > 0) {
        int u = dequeue(g);
        rc = discharge(g, u, eps);
        if (rc == 0 && g->relabels >= next) {
            rc = global_update(g, eps);
            next = g->relabels + (long long)UPDATE_EVERY_PER_NODE * n;
        }
    }
    return rc;
}

int costscale_solve(const struct costscale_problem *p, int *flow)
{
    if (p == NULL || p->n_nodes < 1 || p->n_arcs < 0 || (p->n_arcs > 0 && flow == NULL))
        return -EINVAL;
    if (p->n_arcs > 0 && (p->tail == NULL || p->head == NULL || p->cap == NULL || p->cost == NULL))
        return -EINVAL;
    for (int k = 0; k < p->n_arcs; k++)
        if (p->tail[k] < 0 || p->tail[k] >= p->n_nodes || p->head[k] < 0 ||
            p->head[k] >= p->n_nodes || p->tail[k] == p->head[k] || p->cap[k] < 0)
            return -EINVAL;
    if (p->n_arcs > (INT_MAX - 1) / 2 || p->n_nodes > INT_MAX - 2)
        return -ENOMEM;

    const size_t nv = (size_t)p->n_nodes, na = 2 * (size_t)p->n_arcs;
    struct cs g = {.n = p->n_nodes};
    wide *s = malloc(((size_t)p->n_arcs + 1) * sizeof *s);
    int *pos = malloc(((size_t)p->n_arcs + 1) * sizeof *pos);
    g.first = calloc(nv + 1, sizeof *g.first);
    g.arc = malloc((na + 1) * sizeof *g.arc);
    g.pi = calloc(nv, sizeof *g.pi);
    g.excess = calloc(nv, sizeof *g.excess);
    g.cur = malloc(nv * sizeof *g.cur);
    g.queue = malloc(nv * sizeof *g.queue);
    g.inq = calloc(nv, 1);
    g.rank = malloc(nv * sizeof *g.rank);
    g.bfirst = malloc((nv + 1) * sizeof *g.bfirst);
    g.bnext = malloc(nv * sizeof *g.bnext);
    g.bprev = malloc(nv * sizeof *g.bprev);
    g.done = malloc(nv);
    g.q = malloc(nv * sizeof *g.q);
    int rc = -ENOMEM;
    if (!s || !pos || !g.first || !g.arc || !g.pi || !g.excess || !g.cur || !g.queue ||
        !g.inq || !g.rank || !g.bfirst || !g.bnext || !g.bprev || !g.done || !g.q)
        goto out;
    wide cmax;
    rc = scalarize(p, s, &cmax);
    if (rc != 0)
        goto out;

    /* Rows in the order the arcs were given: a forward copy at its tail, a reverse at its head. */
    for (int k = 0; k < p->n_arcs; k++) {
        g.first[p->tail[k] + 1]++;
        g.first[p->head[k] + 1]++;
    }
    for (size_t u = 0; u < nv; u++)
        g.first[u + 1] += g.first[u];
    memcpy(g.cur, g.first, nv * sizeof *g.cur);     /* as fill pointers */
    for (int k = 0; k < p->n_arcs; k++) {
        int a = g.cur[p->tail[k]]++, b = g.cur[p->head[k]]++;
        g.arc[a] = (struct rarc){s[k], p->head[k], b, p->cap[k], p->cap[k]};
        g.arc[b] = (struct rarc){-s[k], p->tail[k], a, 0, p->cap[k]};
        pos[k] = a;
    }

    wide eps = cmax;
    while (rc == 0 && eps > 1) {
        eps = eps / ALPHA < 1 ? 1 : eps / ALPHA;
        rc = refine(&g, eps);
        /* Scaled costs are multiples of V + 1: below that eps the circulation is often
         * optimal already, and a longer pass pays (measured: the last 3-4 phases skipped). */
        if (rc == 0 && eps > 1 &&
            proved_optimal(&g, eps <= (wide)p->n_nodes + 1 ? CHECK_WORK_LATE : CHECK_WORK))
            break;
    }
    if (rc == 0)
        for (int k = 0; k < p->n_arcs; k++)
            flow[k] = p->cap[k] - g.arc[pos[k]].res;
out:
    free(s);
    free(pos);
    cs_free(&g);
    return rc;
}
