/* solve/assign: optimal capacitated assignment, solved as a min-cost circulation.
 * It must stay exact (integer costs only once the input is read) and deterministic,
 * and it must never keep state between calls or know anything of the engine.
 *
 * Which solver runs (solve_assign_used tells; enum solve_method forces one):
 *   - When the objective's triples fit one 64-bit integer with room to spare (see "The
 *     scalar path" below; true for scores and priorities of everyday size, false for
 *     COVERAGE with priorities of waiting seconds over years), a scalar solver:
 *       dense (every usable mentor of capacity 1, at least half the pairs listed, at
 *       most 2^26 cells): Jonker-Volgenant on the full matrix, solve/lsap;
 *       otherwise: the auction opening plus bipartite shortest paths of solve/ssp.
 *   - Otherwise the lexicographic solver below, on triples.
 *   - Cost scaling (solve/costscale, "The scaling path" below) on the same network with
 *     every mentee's unit offered at once, when SOLVE_AUTO finds the shortest paths too
 *     slow: from SCALING_MIN_MENTEES mentees on, the sparse and lexicographic solvers run
 *     on a budget of nodes their searches touch (BUDGET_SPARSE and BUDGET_LEX times
 *     n_mentees + n_mentors + n_edges; the count is deterministic, so an input always takes
 *     the same method), and past it cost scaling answers from scratch. What exhausts the
 *     budget is the seat-scarce shape whose gains are set mostly by the mentee (equal
 *     first-tick priorities, scores 1 or 2, or one weight per mentee): each late mentee
 *     searches a plateau of zero reduced cost for the few seats. Measured (CPU seconds on
 *     the shared 2-core machine; bench/RESULTS.md): ssp's searches cost about 90 ns a node
 *     settled and the lexicographic ones about 300 ns, cost scaling about 7 us per element
 *     on that shape; the scarce 24,000-mentee file settles 325 nodes per element in ssp
 *     (4.3 s; 450 and 20 s in the lexicographic solver; cost scaling 0.7 s) against
 *     0.1-15 on random weights, seats scarce or not, and 0.6 on the 100,000 x 20,000
 *     k = 50 file (where cost scaling takes 14 s, ssp 1.6 s; 0.8-1.0 s since session 7
 *     of bench/RESULTS.md, whose changes left the nodes settled, so the budgets' counts,
 *     as they were). The budgets (15 and 4 per
 *     element) cost about 1.4 and 1.2 us per element when they run out, and leave the
 *     shortest paths every input measured where they are faster. If cost scaling refuses
 *     the costs (-ERANGE), the shortest paths run again with no budget.
 *   All are exact and reach the same optimal value; among equal optima each picks its
 *   own, the same way every time.
 *
 * The lexicographic solver. Method: successive shortest paths on a circulation with one
 * hub H (source and sink merged):
 *   H -> mentee (cap 1, cost 0) -> mentor (cap 1, cost -gain) -> H (cap capacity[i]).
 * A pair's gain is a triple in the objective's order (COVERAGE: 1, priority,
 * score_micro; QUALITY: score_micro, 1, priority), added componentwise and compared
 * lexicographically. Z^3 under lexicographic order is a totally ordered
 * abelian group, so shortest paths, reduced costs and cycle optimality carry over.
 *   - Mentees are inserted one at a time, strongest best pair first (see struct
 *     order: that keeps searches small). Before the insertion of j
 *     the circulation is optimal on the inserted mentees (no negative residual
 *     cycle). Any better circulation differs from it by residual cycles, of which
 *     at most one passes j (j carries at most one unit) and the rest cost >= 0, so
 *     the best new circulation is the old one plus the cheapest cycle through j, if
 *     that cycle is negative. That cycle is H -> j plus a shortest path j -> H: it
 *     ends at a mentor with room (j is matched) or at a mentee that loses its mentor.
 *   - Each insertion is one Dijkstra from j on reduced costs (potentials keep them
 *     >= 0), stopped when H is settled. Potentials then move by min(d(v), d(H)) -
 *     d(H): only the nodes settled before H change and pot[H] stays 0. The new
 *     mentee starts at max over its pairs of pot[mentor] + gain, so its own arcs
 *     have reduced cost >= 0. H's out-arcs are never scanned: every search ends at H.
 *   - A zero-cost cycle (an equal swap) is not taken, so on ties the mentee inserted
 *     first keeps its mentor; Dijkstra breaks distance ties by node index (H is 0,
 *     so a search ends as soon as H ties for the least distance).
 *
 * Complexity: merged pairs E, V = n_mentees + n_mentors + 1 nodes, A = 2 (n_mentees +
 * E + n_mentors) arcs. Sorting the pairs and mentees is O(E log E + n log n); there
 * is one Dijkstra per mentee with a pair, each O((V + A) log A) at worst (binary
 * heap, lazy deletion) but touching only the nodes it settles before H, and
 * resetting only those: O(E log E + n_mentees (V + A) log A) time at worst,
 * O(V + A) memory. Measured (-O2, random pools, 10 candidates per mentee):
 * 20,000 mentees and 2,000 mentors take about 3 s in COVERAGE and 2 s in QUALITY,
 * each search touching about 850 nodes on average.
 * The scaling path, on the same V and A: O(log(V C)) phases of cost scaling (C the largest
 * scalar cost, see costscale.c), each O(V^2 A) at worst and measured near O(V + A); under
 * SOLVE_AUTO it comes after at most BUDGET_SPARSE or BUDGET_LEX times (n_mentees +
 * n_mentors + n_edges) of search work, so AUTO's worst case is the scaling path's plus that.
 *
 * Exactness: let B be, per component, the sum over mentees with a pair of their
 * largest |gain component|. A simple residual path meets a mentee at most once and
 * uses at most two of its pair arcs, so its cost lies within 2B in every component.
 * A potential is 0, or pot[mentor] + gain at insertion, or exactly
 * cost(path j -> v) - cost(path j -> H) after a search: within 5B. So a reduced cost
 * is within 11B, a settled distance (a path cost plus two potentials) within 12B, a
 * tentative one within 23B, and every intermediate sum stays under 32B.
 * solve_assign refuses B > INT64_MAX / 64, so no sum here can overflow.
 */
#include "solve/assign.h"
#include "solve/costscale.h"
#include "solve/lsap.h"
#include "solve/ssp.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LEX 3
#define SUM_LIMIT (LLONG_MAX / 64)
#define SCORE_MAX 1e9
/* SOLVE_AUTO's budgets for the shortest paths, per element of the input (see the top
 * comment): in nodes settled by solve/ssp's searches, and touched by the lexicographic ones. */
#define SCALING_MIN_MENTEES 2000
#define BUDGET_SPARSE 15
#define BUDGET_LEX 4

/* A gain or cost triple, compared lexicographically from v[0]. */
struct lex { long long v[LEX]; };

static int lex_cmp(const struct lex *a, const struct lex *b)
{
    for (int k = 0; k < LEX; k++)
        if (a->v[k] != b->v[k])
            return a->v[k] < b->v[k] ? -1 : 1;
    return 0;
}

static struct lex lex_add(struct lex a, const struct lex *b)
{
    for (int k = 0; k < LEX; k++)
        a.v[k] += b->v[k];
    return a;
}

static struct lex lex_sub(struct lex a, const struct lex *b)
{
    for (int k = 0; k < LEX; k++)
        a.v[k] -= b->v[k];
    return a;
}

/* llround(score * 1e6), without the library call (it was about 1% of a large sparse
 * solve): |x| <= 1e15 < 2^53 (check_input), so the truncation t is exact, x - t is
 * exact, and rounding half away from zero is llround's. */
static long long score_micro(double score)
{
    double x = score * 1e6;
    long long t = (long long)x;
    double f = x - (double)t;
    return t + (f >= 0.5) - (f <= -0.5);
}

/* One allowed pair after duplicates are merged. */
struct pair { int mentee, mentor; long long micro; };

static int pair_cmp(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;
    if (a->mentee != b->mentee)
        return a->mentee < b->mentee ? -1 : 1;
    if (a->mentor != b->mentor)
        return a->mentor < b->mentor ? -1 : 1;
    /* Equal keys are merged to their maximum, so their order cannot show. */
    return 0;
}

static int check_input(const struct solve_assign_input *in)
{
    if (in == NULL || in->n_mentors < 0 || in->n_mentees < 0 || in->n_edges < 0)
        return -EINVAL;
    if (in->objective != SOLVE_COVERAGE && in->objective != SOLVE_QUALITY)
        return -EINVAL;
    if ((int)in->method < (int)SOLVE_AUTO || (int)in->method > (int)SOLVE_METHOD_SCALING)
        return -EINVAL;
    if ((in->n_mentors > 0 && in->capacity == NULL) || (in->n_edges > 0 && in->edges == NULL))
        return -EINVAL;
    for (int i = 0; i < in->n_mentors; i++)
        if (in->capacity[i] < 0)
            return -EINVAL;
    if (in->priority != NULL)
        for (int j = 0; j < in->n_mentees; j++)
            if (in->priority[j] < 0)
                return -EINVAL;
    for (int e = 0; e < in->n_edges; e++) {
        const struct solve_edge *ed = &in->edges[e];
        if (ed->mentor < 0 || ed->mentor >= in->n_mentors ||
            ed->mentee < 0 || ed->mentee >= in->n_mentees)
            return -EINVAL;
        /* !(x <= max) also catches NaN, which fails every comparison. */
        if (isnan(ed->score) || !(fabs(ed->score) <= SCORE_MAX))
            return -EINVAL;
    }
    return 0;
}

static long long prio_of(const struct solve_assign_input *in, int j)
{
    return in->priority != NULL ? in->priority[j] : 0;
}

/* The gain of giving mentee j a mentor through a pair worth micro. */
static struct lex pair_gain(const struct solve_assign_input *in, int j, long long micro)
{
    struct lex g;
    if (in->objective == SOLVE_COVERAGE) {
        g.v[0] = 1; g.v[1] = prio_of(in, j); g.v[2] = micro;
    } else {
        g.v[0] = micro; g.v[1] = 1; g.v[2] = prio_of(in, j);
    }
    return g;
}

/* Copies the usable edges into *out sorted by (mentee, mentor), one entry per pair
 * with the highest score; sorting also makes the result independent of edge order. */
static int merge_pairs(const struct solve_assign_input *in, struct pair **out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (in->n_edges == 0)
        return 0;
    struct pair *p = malloc((size_t)in->n_edges * sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    int k = 0;
    for (int e = 0; e < in->n_edges; e++) {
        if (in->capacity[in->edges[e].mentor] == 0)
            continue;               /* a mentor with no room can never be used */
        p[k].mentee = in->edges[e].mentee;
        p[k].mentor = in->edges[e].mentor;
        p[k].micro = score_micro(in->edges[e].score);
        k++;
    }
    qsort(p, (size_t)k, sizeof *p, pair_cmp);
    int n = 0;
    for (int e = 0; e < k; e++) {
        if (n > 0 && p[n - 1].mentee == p[e].mentee && p[n - 1].mentor == p[e].mentor) {
            if (p[e].micro > p[n - 1].micro)
                p[n - 1].micro = p[e].micro;
        } else {
            p[n++] = p[e];
        }
    }
    *out = p;
    *n_out = n;
    return 0;
}

/* Refuses problems whose sums could leave int64 (see "Exactness" above). */
static int check_range(const struct solve_assign_input *in, const struct pair *p, int n)
{
    long long b_score = 0, b_prio = 0;
    for (int e = 0; e < n;) {
        int j = p[e].mentee;
        long long most = 0;
        for (; e < n && p[e].mentee == j; e++) {
            long long a = p[e].micro < 0 ? -p[e].micro : p[e].micro;
            if (a > most)
                most = a;
        }
        long long pr = prio_of(in, j);
        if (most > SUM_LIMIT - b_score || pr > SUM_LIMIT - b_prio)
            return -EOVERFLOW;
        b_score += most;
        b_prio += pr;
    }
    return 0;
}

/* The residual graph in compressed rows: node u's arcs are first[u] .. first[u+1]-1;
 * arc a and rev[a] are each other's reverse. */
struct graph {
    int n_nodes, n_arcs;
    int *first, *fill, *to, *rev, *cap;
    struct lex *cost;
};

static void add_arc(struct graph *g, int u, int v, int cap, struct lex cost)
{
    int a = g->fill[u]++, b = g->fill[v]++;
    struct lex zero = {{0, 0, 0}};
    g->to[a] = v; g->rev[a] = b; g->cap[a] = cap; g->cost[a] = cost;
    g->to[b] = u; g->rev[b] = a; g->cap[b] = 0;   g->cost[b] = lex_sub(zero, &cost);
}

/* A binary min-heap of (distance, node) with lazy deletion; ties go to the lower
 * node so the search, and with it the answer, is deterministic. */
struct hent { struct lex d; int node; };

static int hent_less(const struct hent *a, const struct hent *b)
{
    int c = lex_cmp(&a->d, &b->d);
    return c != 0 ? c < 0 : a->node < b->node;
}

static void heap_push(struct hent *h, int *n, struct hent x)
{
    int i = (*n)++;
    while (i > 0) {
        int up = (i - 1) / 2;
        if (!hent_less(&x, &h[up]))
            break;
        h[i] = h[up];
        i = up;
    }
    h[i] = x;
}

static struct hent heap_pop(struct hent *h, int *n)
{
    struct hent top = h[0], x = h[--(*n)];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && hent_less(&h[c + 1], &h[c]))
            c++;
        if (!hent_less(&h[c], &x))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = x;
    return top;
}

enum { UNSEEN = 0, QUEUED = 1, SETTLED = 2 };

/* Scratch for the searches, allocated once; state[] is UNSEEN everywhere between
 * searches, and a search resets only the nodes it touched. */
struct search {
    struct lex *pot, *dist;
    int *parent, *touched;
    unsigned char *state;
    struct hent *heap;
    long long work;         /* nodes touched by the searches so far */
};

/* One Dijkstra on reduced costs from s, stopped when t is settled. When t is
 * reached, moves the potentials (pot[t] unchanged), stores the true cost of the
 * path in *path_cost and returns 1; returns 0 when t cannot be reached. */
static int shortest_path(const struct graph *g, struct search *sr, int s, int t,
                         struct lex *path_cost)
{
    int n_heap = 0, n_touched = 0;
    sr->dist[s] = (struct lex){{0, 0, 0}};
    sr->parent[s] = -1;
    sr->state[s] = QUEUED;
    sr->touched[n_touched++] = s;
    heap_push(sr->heap, &n_heap, (struct hent){sr->dist[s], s});
    int found = 0;
    while (n_heap > 0) {
        int u = heap_pop(sr->heap, &n_heap).node;
        if (sr->state[u] == SETTLED)
            continue;   /* a stale entry: u was pushed again with a smaller distance */
        sr->state[u] = SETTLED;
        if (u == t) {
            found = 1;
            break;
        }
        for (int a = g->first[u]; a < g->first[u + 1]; a++) {
            int v = g->to[a];
            if (g->cap[a] <= 0 || sr->state[v] == SETTLED)
                continue;
            struct lex nd = lex_add(sr->dist[u], &g->cost[a]);
            nd = lex_add(nd, &sr->pot[u]);
            nd = lex_sub(nd, &sr->pot[v]);
            if (sr->state[v] == UNSEEN || lex_cmp(&nd, &sr->dist[v]) < 0) {
                if (sr->state[v] == UNSEEN)
                    sr->touched[n_touched++] = v;
                sr->dist[v] = nd;
                sr->parent[v] = a;
                sr->state[v] = QUEUED;
                heap_push(sr->heap, &n_heap, (struct hent){nd, v});
            }
        }
    }
    if (found) {
        struct lex dt = sr->dist[t];
        /* Reduced path cost = true cost + pot[s] - pot[t]. */
        *path_cost = lex_add(lex_sub(dt, &sr->pot[s]), &sr->pot[t]);
        /* pot += min(d, d(t)) - d(t): zero for t and for every node not settled. */
        for (int k = 0; k < n_touched; k++) {
            int v = sr->touched[k];
            if (sr->state[v] == SETTLED && v != t)
                sr->pot[v] = lex_sub(lex_add(sr->pot[v], &sr->dist[v]), &dt);
        }
    }
    for (int k = 0; k < n_touched; k++)
        sr->state[sr->touched[k]] = UNSEEN;
    sr->work += n_touched;
    return found;
}

/* Insertion order: by best gain, highest first, then by index. Strong mentees
 * first means later ones rarely displace anyone, so potentials stay nearly exact
 * and searches stay small; it also settles ties toward the stronger claim. */
struct order { struct lex best; int j; };

static int order_cmp(const void *pa, const void *pb)
{
    const struct order *a = pa, *b = pb;
    int c = lex_cmp(&b->best, &a->best);
    if (c != 0)
        return c;
    return a->j < b->j ? -1 : (a->j > b->j);
}

/* The lexicographic solver: any input solve_assign accepts (checked by the caller).
 * budget > 0: gives up with -EAGAIN (mentor_of untouched) once its searches have touched
 * more nodes than that. */
static int solve_lex(const struct solve_assign_input *in, int *mentor_of, long long budget)
{
    int rc;
    const int n = in->n_mentees, m = in->n_mentors;
    struct pair *pairs;
    int n_pairs;
    rc = merge_pairs(in, &pairs, &n_pairs);
    if (rc != 0)
        return rc;
    rc = check_range(in, pairs, n_pairs);
    if (rc != 0) {
        free(pairs);
        return rc;
    }

    int n_open = 0;
    for (int i = 0; i < m; i++)
        n_open += in->capacity[i] > 0;
    /* Node and arc numbers are int; refuse what they cannot index. */
    long long nodes_ll = (long long)n + m + 1;
    long long arcs_ll = 2 * ((long long)n + n_pairs + n_open);
    if (nodes_ll > INT_MAX - 1 || arcs_ll > INT_MAX - 1) {
        free(pairs);
        return -ENOMEM;
    }
    const int H = 0;
#define MENTEE(j) (1 + (j))
#define MENTOR(i) (1 + n + (i))

    struct graph g = {.n_nodes = (int)nodes_ll, .n_arcs = (int)arcs_ll};
    struct search sr = {0};
    struct order *order = NULL;
    size_t nv = (size_t)g.n_nodes, na = (size_t)g.n_arcs;
    g.first = calloc(nv + 1, sizeof *g.first);
    g.fill = malloc(nv * sizeof *g.fill);
    g.to = malloc(na * sizeof *g.to);
    g.rev = malloc(na * sizeof *g.rev);
    g.cap = malloc(na * sizeof *g.cap);
    g.cost = malloc(na * sizeof *g.cost);
    sr.pot = calloc(nv, sizeof *sr.pot);
    sr.dist = malloc(nv * sizeof *sr.dist);
    sr.parent = malloc(nv * sizeof *sr.parent);
    sr.touched = malloc(nv * sizeof *sr.touched);
    sr.state = calloc(nv, 1);
    /* A node is settled once per search and scans each arc once, so a search
     * pushes at most one heap entry per arc, plus the source. */
    sr.heap = malloc((na + 1) * sizeof *sr.heap);
    order = malloc((size_t)n * sizeof *order);
    if (!order || !g.first || !g.fill || !g.to || !g.rev || !g.cap || !g.cost || !sr.pot ||
        !sr.dist || !sr.parent || !sr.touched || !sr.state || !sr.heap) {
        rc = -ENOMEM;
        goto out;
    }

    /* Row sizes, then row starts. */
    g.first[H + 1] += n;
    for (int j = 0; j < n; j++)
        g.first[MENTEE(j) + 1] += 1;
    for (int e = 0; e < n_pairs; e++) {
        g.first[MENTEE(pairs[e].mentee) + 1] += 1;
        g.first[MENTOR(pairs[e].mentor) + 1] += 1;
    }
    for (int i = 0; i < m; i++)
        if (in->capacity[i] > 0) {
            g.first[MENTOR(i) + 1] += 1;
            g.first[H + 1] += 1;
        }
    for (int v = 0; v < g.n_nodes; v++)
        g.first[v + 1] += g.first[v];
    memcpy(g.fill, g.first, nv * sizeof *g.fill);

    /* H -> j goes first, so the first arc of j's row is its way back, j -> H. */
    const struct lex zero = {{0, 0, 0}};
    for (int j = 0; j < n; j++)
        add_arc(&g, H, MENTEE(j), 1, zero);
    for (int e = 0; e < n_pairs; e++) {
        struct lex gain = pair_gain(in, pairs[e].mentee, pairs[e].micro);
        add_arc(&g, MENTEE(pairs[e].mentee), MENTOR(pairs[e].mentor), 1, lex_sub(zero, &gain));
    }
    for (int i = 0; i < m; i++)
        if (in->capacity[i] > 0)
            add_arc(&g, MENTOR(i), H, in->capacity[i], zero);

    /* Mentees with a pair, strongest first. */
    int n_order = 0;
    for (int e = 0; e < n_pairs; e++) {
        struct lex gain = pair_gain(in, pairs[e].mentee, pairs[e].micro);
        if (n_order == 0 || order[n_order - 1].j != pairs[e].mentee)
            order[n_order++] = (struct order){gain, pairs[e].mentee};
        else if (lex_cmp(&gain, &order[n_order - 1].best) > 0)
            order[n_order - 1].best = gain;
    }
    qsort(order, (size_t)n_order, sizeof *order, order_cmp);

    /* With no mentee inserted, every arc out of a mentor goes to H at cost 0, so
     * all-zero potentials are valid. */
    for (int k = 0; k < n_order; k++) {
        const int u = MENTEE(order[k].j), back = g.first[u];
        for (int a = back + 1; a < g.first[u + 1]; a++) {
            struct lex p = lex_sub(sr.pot[g.to[a]], &g.cost[a]);
            if (a == back + 1 || lex_cmp(&p, &sr.pot[u]) > 0)
                sr.pot[u] = p;
        }
        struct lex cycle;   /* H -> j costs 0, so the cycle costs what the path does */
        int found = shortest_path(&g, &sr, u, H, &cycle);
        if (budget > 0 && sr.work > budget) {
            rc = -EAGAIN;
            goto out;
        }
        if (!found || lex_cmp(&cycle, &zero) >= 0)
            continue;
        for (int v = H; v != u;) {
            int a = sr.parent[v];
            g.cap[a] -= 1;
            g.cap[g.rev[a]] += 1;
            v = g.to[g.rev[a]];
        }
        g.cap[g.rev[back]] -= 1;                   /* H -> j now carries j's unit */
        g.cap[back] += 1;
    }

    /* A used pair arc has no capacity left; a mentee has at most one. */
    for (int j = 0; j < n; j++) {
        mentor_of[j] = -1;
        for (int a = g.first[MENTEE(j)] + 1; a < g.first[MENTEE(j) + 1]; a++)
            if (g.cap[a] == 0)
                mentor_of[j] = g.to[a] - MENTOR(0);
    }
    rc = 0;
#undef MENTEE
#undef MENTOR
out:
    free(pairs);
    free(order);
    free(g.first); free(g.fill); free(g.to); free(g.rev); free(g.cap); free(g.cost);
    free(sr.pot); free(sr.dist); free(sr.parent); free(sr.touched); free(sr.state);
    free(sr.heap);
    return rc;
}

/* ---- The scalar path: the same objective as one 64-bit integer per pair ----
 *
 * A gain triple (x0, x1, x2) is mapped to s = r0 W0 + r1 W1 + r2 with r_k = x_k / g_k,
 * g_k the gcd of component k over all pairs (exact division; all-zero components give
 * r_k = 0). Let B_k = sum over mentees with a pair of their largest |r_k|: two
 * assignments' totals differ by at most 2 B_k in component k. With W1 = 2 B2 + 1 and
 * W0 = W1 (2 B1 + 1), |d1 W1 + d2| <= 2 B1 W1 + 2 B2 < W0 and |d2| < W1, so comparing the
 * scalar totals of two assignments is comparing their triples lexicographically: a
 * scalar optimum is a lexicographic one. The map is linear, so a single pair's scalar
 * sign is its triple's too. It is used only when Bs = B0 W0 + B1 W1 + B2 (which bounds
 * the sum over mentees of their largest |s|) is <= INT64_MAX / 64, the bound the
 * scalar solvers need; otherwise the lexicographic solver runs (same answer, slower).
 * A pair with a negative gain is in no optimum (dropping it from an assignment keeps it
 * valid and raises the total), so the scalar solvers never see one. */

#define NOT_SCALAR 1

static long long gcd_ll(long long a, long long b)
{
    while (b != 0) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Mentee rows in compressed form: row j's pairs are arc[first[j]] .. arc[first[j+1]-1],
 * one per mentor (the highest score of its copies), in the order rows_build gives them;
 * arc[].col is the mentor, arc[].gain score_micro and then the scalar gain. The arcs are
 * solve/ssp's own format, so that it needs no copy of them. */
struct rows {
    int *first;
    struct ssp_arc *arc;
};

static void rows_free(struct rows *r)
{
    free(r->first);
    free(r->arc);
}

/* One pair while the rows are built. */
struct ment { long long micro; int mentor; };

/* Highest score first, then lowest mentor: a total order on distinct pairs. */
static int ment_before(const struct ment *a, const struct ment *b)
{
    return a->micro != b->micro ? a->micro > b->micro : a->mentor < b->mentor;
}

static int ment_cmp(const void *pa, const void *pb)
{
    const struct ment *a = pa, *b = pb;
    return ment_before(a, b) ? -1 : ment_before(b, a) ? 1 : 0;
}

/* ment_sort's keys: |score_micro| <= 1e15 (check_input), so 1e15 - micro < 2^51, which
 * leaves KEY_BITS for an index in 63 bits. */
#define MICRO_MAX 1000000000000000LL
#define KEY_BITS 12
#define KEY_MASK ((1ULL << KEY_BITS) - 1)

/* Sorts row[0 .. len-1] by ment_before, with tmp (len entries) and key (len + 1) as scratch.
 * Rows of up to 2^KEY_BITS pairs are sorted as one 64-bit key each (the score, highest
 * first, then the index), by insertion, then each run of equal scores by mentor: sorting
 * the 16-byte pairs themselves was most of rows_build's time. Longer rows use qsort. */
static void ment_sort(struct ment *row, size_t len, struct ment *tmp, unsigned long long *key)
{
    /* key[0] = 0 is at most every key: the insertion needs no bound check. */
    key[0] = 0;
    key++;
    if (len > ((size_t)1 << KEY_BITS)) {
        qsort(row, len, sizeof *row, ment_cmp);
        return;
    }
    for (size_t q = 0; q < len; q++) {
        unsigned long long x = (unsigned long long)(MICRO_MAX - row[q].micro) << KEY_BITS | q;
        unsigned long long *t = key + q;
        for (; t[-1] > x; t--)
            *t = t[-1];
        *t = x;
    }
    for (size_t q = 0; q < len; q++)
        tmp[q] = row[key[q] & KEY_MASK];
    for (size_t q = 1; q < len; q++) {
        if (tmp[q].micro != tmp[q - 1].micro)
            continue;       /* the common case: distinct scores */
        struct ment x = tmp[q];
        size_t t = q;
        for (; t > 0 && ment_before(&x, &tmp[t - 1]); t--)
            tmp[t] = tmp[t - 1];
        tmp[t] = x;
    }
    memcpy(row, tmp, len * sizeof *row);
}

/* Builds the rows from the edges: a counting sort by mentee (none when the edges come
 * grouped by mentee, in increasing order: each row is then read in place), then each row sorted by
 * score, highest first, then by mentor (insertion sort on short rows), keeping the first
 * copy of each pair, which has the highest score. The order is total, so the result does
 * not depend on the edges' order, and it is the order ssp.h asks for (the scalar gain
 * grows with the score within a row). Edges to mentors with no capacity are left out.
 * O(n_edges k) for k pairs per row (O(n_edges log n_edges) for long rows), O(n + m). */
static int rows_build(const struct solve_assign_input *in, struct rows *r)
{
    const int n = in->n_mentees, m = in->n_mentors;
    memset(r, 0, sizeof *r);
    int *seen = calloc((size_t)m + 1, sizeof *seen);   /* 1 + the last row a mentor was in */
    r->first = calloc((size_t)n + 2, sizeof *r->first);
    int *by_j = NULL;          /* the usable edges' indices, by mentee */
    struct ment *row = NULL, *tmp = NULL;
    unsigned long long *key = NULL;
    int rc = -ENOMEM;
    if (seen == NULL || r->first == NULL)
        goto out;
    size_t e_use = 0;
    int grouped = 1;           /* the edges come mentee by mentee, in order */
    for (int e = 0; e < in->n_edges; e++) {
        if (in->capacity[in->edges[e].mentor] > 0) {
            r->first[in->edges[e].mentee + 1]++;
            e_use++;
        }
        if (e > 0 && in->edges[e].mentee < in->edges[e - 1].mentee)
            grouped = 0;
    }
    if (!grouped && (by_j = ssp_alloc((e_use + 1) * sizeof *by_j)) == NULL)
        goto out;
    r->arc = ssp_alloc((e_use + 1) * sizeof *r->arc);
    if (r->arc == NULL)
        goto out;
    int longest = 0;
    for (int j = 0; j < n; j++) {
        if (r->first[j + 1] > longest)
            longest = r->first[j + 1];
        r->first[j + 1] += r->first[j];
    }
    row = malloc(((size_t)longest + 1) * sizeof *row);
    tmp = malloc(((size_t)longest + 1) * sizeof *tmp);
    key = malloc(((size_t)longest + 2) * sizeof *key);
    if (row == NULL || tmp == NULL || key == NULL)
        goto out;
    /* Indices, not the pairs: a quarter of the bytes to write and read back. Edges that
     * come grouped by mentee already (the usual caller's order) are read in place. */
    if (!grouped)
        for (int e = 0; e < in->n_edges; e++)
            if (in->capacity[in->edges[e].mentor] > 0)
                by_j[r->first[in->edges[e].mentee]++] = e;
    /* first[j] now holds the end of row j (grouped: the start of row j + 1). */
    size_t w = 0, k = 0, e_at = 0;
    for (int j = 0; j < n; j++) {
        size_t end = (size_t)r->first[grouped ? j + 1 : j], len = end - k;
        if (grouped) {
            size_t q = 0;
            for (; e_at < (size_t)in->n_edges && in->edges[e_at].mentee == j; e_at++) {
                const struct solve_edge *ed = &in->edges[e_at];
                if (in->capacity[ed->mentor] > 0)
                    row[q++] = (struct ment){score_micro(ed->score), ed->mentor};
            }
        } else {
            for (size_t q = 0; q < len; q++) {
                const struct solve_edge *ed = &in->edges[by_j[k + q]];
                row[q] = (struct ment){score_micro(ed->score), ed->mentor};
            }
        }
        ment_sort(row, len, tmp, key);
        r->first[j] = (int)w;
        for (size_t q = 0; q < len; q++)
            if (seen[row[q].mentor] != j + 1) {
                seen[row[q].mentor] = j + 1;
                r->arc[w++] = (struct ssp_arc){.gain = row[q].micro, .col = row[q].mentor};
            }
        k = end;
    }
    r->first[n] = (int)w;
    rc = 0;
out:
    free(seen);
    free(by_j);
    free(row);
    free(tmp);
    free(key);
    if (rc != 0)
        rows_free(r);
    return rc;
}

/* The scalar map: s = (micro / g_micro) W[km] + (priority / g_prio) W[kp] + W[kc], where
 * km, kp, kc are the places of score, priority and count in the objective's order and
 * W = {W0, W1, 1} (see above). */
struct scal {
    long long g_micro, g_prio;
    long long w_micro, w_prio, w_count;
};

/* most[j]: mentee j's largest |score_micro| over its merged pairs, or -1 when it has no
 * pair; g_micro: the gcd of |score_micro| over all merged pairs (0 if all are 0).
 * Applies solve_assign's -EOVERFLOW rule (as check_range does) and then makes the map.
 * Returns 0, -EOVERFLOW, or NOT_SCALAR when Bs is too large for the scalar solvers. */
static int scal_make(const struct solve_assign_input *in, const long long *most,
                     long long g_micro, struct scal *sc)
{
    long long b_score = 0, b_prio = 0, n_act = 0, g_prio = 0;
    for (int j = 0; j < in->n_mentees; j++) {
        if (most[j] < 0)
            continue;
        long long pr = prio_of(in, j);
        if (most[j] > SUM_LIMIT - b_score || pr > SUM_LIMIT - b_prio)
            return -EOVERFLOW;
        b_score += most[j];
        b_prio += pr;
        n_act++;
        g_prio = gcd_ll(g_prio, pr);
    }
    sc->g_micro = g_micro > 0 ? g_micro : 1;
    sc->g_prio = g_prio > 0 ? g_prio : 1;
    /* B per component: every most[j] and priority is a multiple of its gcd. */
    long long b_micro = b_score / sc->g_micro, b_pr = b_prio / sc->g_prio;
    long long b[LEX];
    if (in->objective == SOLVE_COVERAGE) {
        b[0] = n_act; b[1] = b_pr; b[2] = b_micro;
    } else {
        b[0] = b_micro; b[1] = n_act; b[2] = b_pr;
    }
    long long w1, w0, t0, t1, bs;
    if (__builtin_mul_overflow(b[2], 2LL, &w1) || __builtin_add_overflow(w1, 1LL, &w1) ||
        __builtin_mul_overflow(b[1], 2LL, &w0) || __builtin_add_overflow(w0, 1LL, &w0) ||
        __builtin_mul_overflow(w0, w1, &w0) ||
        __builtin_mul_overflow(b[0], w0, &t0) || __builtin_mul_overflow(b[1], w1, &t1) ||
        __builtin_add_overflow(t0, t1, &bs) || __builtin_add_overflow(bs, b[2], &bs) ||
        bs > SUM_LIMIT)
        return NOT_SCALAR;
    if (in->objective == SOLVE_COVERAGE) {
        sc->w_count = w0; sc->w_prio = w1; sc->w_micro = 1;
    } else {
        sc->w_micro = w0; sc->w_count = w1; sc->w_prio = 1;
    }
    return 0;
}

/* The part of mentee j's scalar gain that does not depend on the pair. */
static long long scal_base(const struct scal *sc, const struct solve_assign_input *in, int j)
{
    return prio_of(in, j) / sc->g_prio * sc->w_prio + sc->w_count;
}

static long long scal_gain(const struct scal *sc, long long base, long long micro)
{
    return micro / sc->g_micro * sc->w_micro + base;
}

/* Exact division by a constant d > 0, of its multiples only: with d = 2^s o, o odd,
 * u / d = (u >> s) o^-1 modulo 2^64, a multiply where scal_gain divides (the scores' gcd
 * is 10^6 for integer scores: two divisions per pair were 2% of a large sparse solve). */
struct exdiv { int s; unsigned long long inv, lim; };

static struct exdiv exdiv_make(long long d)
{
    struct exdiv e;
    e.s = __builtin_ctzll((unsigned long long)d);
    unsigned long long o = (unsigned long long)d >> e.s, inv = o;   /* o o = 1 mod 8 */
    for (int k = 0; k < 5; k++)
        inv *= 2 - o * inv;     /* Newton's step doubles the low bits that are right: 96 */
    e.inv = inv;
    e.lim = ULLONG_MAX / o;
    return e;
}

/* Whether d divides u (Granlund and Montgomery: u' o^-1 mod 2^64 is u' / o, at most
 * lim, exactly when o divides u'). */
static int exdiv_divides(const struct exdiv *e, unsigned long long u)
{
    return (u & ((1ULL << e->s) - 1)) == 0 && (u >> e->s) * e->inv <= e->lim;
}

/* x / d, d dividing x. */
static long long exdiv_div(const struct exdiv *e, long long x)
{
    unsigned long long u = x < 0 ? -(unsigned long long)x : (unsigned long long)x;
    u = (u >> e->s) * e->inv;
    return x < 0 ? -(long long)u : (long long)u;
}

/* Replaces score_micro by the scalar gain in r->arc[].gain (as scal_gain does), and drops
 * the pairs whose gain is not positive (in no optimum), compacting the rows in place;
 * adds to listed[c] (n_mentors entries) the pairs kept of each mentor. Returns 0,
 * -EOVERFLOW, NOT_SCALAR (the rows then unchanged) or -ENOMEM. */
static int rows_scalarize(const struct solve_assign_input *in, struct rows *r, int *listed)
{
    const int n = in->n_mentees;
    long long *most = calloc((size_t)n + 1, sizeof *most), g_micro = 0;
    if (most == NULL)
        return -ENOMEM;
    struct exdiv ed = {0, 1, ULLONG_MAX};
    for (int j = 0; j < n; j++) {
        most[j] = r->first[j] < r->first[j + 1] ? 0 : -1;
        for (int a = r->first[j]; a < r->first[j + 1]; a++) {
            long long x = r->arc[a].gain < 0 ? -r->arc[a].gain : r->arc[a].gain;
            if (x > most[j])
                most[j] = x;
            /* The gcd changes (a division) only when it does not divide x. */
            if (g_micro != 1 && (g_micro == 0 || !exdiv_divides(&ed, (unsigned long long)x))) {
                g_micro = gcd_ll(g_micro, x);
                if (g_micro > 0)
                    ed = exdiv_make(g_micro);
            }
        }
    }
    struct scal sc;
    int rc = scal_make(in, most, g_micro, &sc);
    free(most);
    if (rc != 0)
        return rc;
    ed = exdiv_make(sc.g_micro);
    int w = 0;
    for (int j = 0; j < n; j++) {
        long long base = scal_base(&sc, in, j);
        int a = r->first[j], end = r->first[j + 1];
        r->first[j] = w;
        for (; a < end; a++) {
            long long g = exdiv_div(&ed, r->arc[a].gain) * sc.w_micro + base;
            if (g > 0) {
                r->arc[w] = r->arc[a];
                r->arc[w++].gain = g;
                listed[r->arc[a].col]++;
            }
        }
    }
    r->first[n] = w;
    return 0;
}

/* Insertion order of the mentees: best gain first, then index (see struct order). */
struct sorder { long long best; int j; };

static int sorder_cmp(const void *pa, const void *pb)
{
    const struct sorder *a = pa, *b = pb;
    if (a->best != b->best)
        return a->best > b->best ? -1 : 1;
    return a->j < b->j ? -1 : (a->j > b->j);
}

/* The sparse scalar solver on rows already scalarized. */
static int solve_rows_sparse(const struct solve_assign_input *in, struct rows *r,
                             const int *listed, int *mentor_of, long long budget)
{
    const int n = in->n_mentees;
    struct sorder *so = malloc(((size_t)n + 1) * sizeof *so);
    int *order = malloc(((size_t)n + 1) * sizeof *order);
    int *col_of = malloc(((size_t)n + 1) * sizeof *col_of);
    int rc = -ENOMEM;
    if (so == NULL || order == NULL || col_of == NULL)
        goto out;
    int n_order = 0;
    for (int j = 0; j < n; j++) {
        if (r->first[j] == r->first[j + 1])
            continue;
        so[n_order++] = (struct sorder){r->arc[r->first[j]].gain, j};   /* rows come best first */
    }
    qsort(so, (size_t)n_order, sizeof *so, sorder_cmp);
    for (int k = 0; k < n_order; k++)
        order[k] = so[k].j;
    struct ssp_problem p = {
        .n_rows = n, .n_cols = in->n_mentors, .cap = in->capacity, .first = r->first,
        .arc = r->arc, .listed = listed, .order = order, .n_order = n_order, .budget = budget,
    };
    rc = ssp_solve(&p, col_of);
    if (rc == 0)
        memcpy(mentor_of, col_of, (size_t)n * sizeof *mentor_of);
out:
    free(so);
    free(order);
    free(col_of);
    return rc;
}

/* ---- The dense path ----
 * When nearly every (mentee, mentor) pair is listed and every usable mentor takes one
 * mentee, the problem is a rectangular assignment on the full matrix of gains, which
 * solve/lsap solves with contiguous rows and no heap. A cell whose pair is missing or
 * has a negative gain is given gain 0, the same as leaving that mentee (or mentor)
 * alone: an optimum of the full matrix, with its zero cells dropped, is an optimum of
 * the original problem and the other way round. The matrix side that is smaller becomes
 * the rows (lsap needs rows <= columns). */

#define DENSE_MAX_CELLS (1LL << 26)     /* 512 MiB of 64-bit costs */
#define TRY_SPARSE 2

static int solve_dense(const struct solve_assign_input *in, const int *deg_j, const int *deg_i,
                       int n_rows_act, int n_cols_act, int *mentor_of)
{
    const int n = in->n_mentees, m = in->n_mentors;
    const int na = n_rows_act, ma = n_cols_act;
    const size_t cells = (size_t)na * (size_t)ma;
    int *idx_j = malloc(((size_t)n + 1) * sizeof *idx_j), *idx_i = malloc(((size_t)m + 1) * sizeof *idx_i);
    int *act_j = malloc(((size_t)na + 1) * sizeof *act_j), *act_i = malloc(((size_t)ma + 1) * sizeof *act_i);
    long long *mat = malloc(cells * sizeof *mat), *most = malloc(((size_t)n + 1) * sizeof *most);
    long long *cost = NULL;
    int *col_of = NULL;
    int rc = -ENOMEM;
    if (!idx_j || !idx_i || !act_j || !act_i || !mat || !most)
        goto out;
    for (int j = 0, k = 0; j < n; j++) {
        idx_j[j] = deg_j[j] > 0 ? k : -1;
        if (deg_j[j] > 0)
            act_j[k++] = j;
    }
    for (int i = 0, k = 0; i < m; i++) {
        idx_i[i] = deg_i[i] > 0 ? k : -1;
        if (deg_i[i] > 0)
            act_i[k++] = i;
    }
    /* score_micro of each listed pair (the highest of its copies); LLONG_MIN: not listed. */
    for (size_t c = 0; c < cells; c++)
        mat[c] = LLONG_MIN;
    for (int e = 0; e < in->n_edges; e++) {
        const struct solve_edge *ed = &in->edges[e];
        if (in->capacity[ed->mentor] == 0)
            continue;
        long long *cell = &mat[(size_t)idx_j[ed->mentee] * (size_t)ma + (size_t)idx_i[ed->mentor]];
        long long micro = score_micro(ed->score);
        if (micro > *cell)
            *cell = micro;
    }
    long long g_micro = 0, n_pairs = 0;
    for (int j = 0; j < n; j++)
        most[j] = -1;
    for (int r = 0; r < na; r++) {
        const long long *row = mat + (size_t)r * (size_t)ma;
        long long mo = 0;
        for (int c = 0; c < ma; c++) {
            if (row[c] == LLONG_MIN)
                continue;
            long long x = row[c] < 0 ? -row[c] : row[c];
            if (x > mo)
                mo = x;
            if (g_micro == 0 || x % g_micro != 0)
                g_micro = gcd_ll(g_micro, x);
            n_pairs++;
        }
        most[act_j[r]] = mo;
    }
    /* The lexicographic solver's int-index limit, on the merged pairs. */
    long long n_open = 0;
    for (int i = 0; i < m; i++)
        n_open += in->capacity[i] > 0;
    if ((long long)n + m + 1 > INT_MAX - 1 || 2 * ((long long)n + n_pairs + n_open) > INT_MAX - 1) {
        rc = -ENOMEM;
        goto out;
    }
    struct scal sc;
    rc = scal_make(in, most, g_micro, &sc);
    if (rc != 0)
        goto out;
    /* Costs = -max(gain, 0), in place, then transposed when there are more mentees. */
    for (int r = 0; r < na; r++) {
        long long base = scal_base(&sc, in, act_j[r]), *row = mat + (size_t)r * (size_t)ma;
        for (int c = 0; c < ma; c++) {
            long long g = row[c] == LLONG_MIN ? 0 : scal_gain(&sc, base, row[c]);
            row[c] = g > 0 ? -g : 0;
        }
    }
    int n_r = na, n_c = ma;
    if (na > ma) {
        cost = malloc(cells * sizeof *cost);
        if (cost == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        for (int r = 0; r < na; r++)
            for (int c = 0; c < ma; c++)
                cost[(size_t)c * (size_t)na + (size_t)r] = mat[(size_t)r * (size_t)ma + (size_t)c];
        n_r = ma;
        n_c = na;
    }
    col_of = malloc(((size_t)n_r + 1) * sizeof *col_of);
    if (col_of == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    rc = lsap_solve(n_r, n_c, cost ? cost : mat, col_of);
    if (rc == -EOVERFLOW) {
        rc = TRY_SPARSE;
        goto out;
    }
    if (rc != 0)
        goto out;
    for (int j = 0; j < n; j++)
        mentor_of[j] = -1;
    for (int r = 0; r < n_r; r++) {
        int c = col_of[r];
        int mr = na > ma ? c : r, mc = na > ma ? r : c;   /* matrix row (mentee), column */
        if (mat[(size_t)mr * (size_t)ma + (size_t)mc] < 0)
            mentor_of[act_j[mr]] = act_i[mc];
    }
    rc = 0;
out:
    free(idx_j); free(idx_i); free(act_j); free(act_i); free(mat); free(most);
    free(cost); free(col_of);
    return rc;
}

/* The dense path when it applies (see above) and the method allows it: its answer, or
 * TRY_SPARSE. */
static int try_dense(const struct solve_assign_input *in, int *mentor_of)
{
    const int n = in->n_mentees, m = in->n_mentors;
    if (in->method != SOLVE_METHOD_DENSE && in->method != SOLVE_AUTO)
        return TRY_SPARSE;
    /* Every usable mentor must have capacity 1: one edge to a larger one rules the path
     * out without the degrees (this pass most often stops at the first edge). */
    for (int e = 0; e < in->n_edges; e++)
        if (in->capacity[in->edges[e].mentor] > 1)
            return TRY_SPARSE;
    int *deg_j = calloc((size_t)n + 1, sizeof *deg_j), *deg_i = calloc((size_t)m + 1, sizeof *deg_i);
    if (deg_j == NULL || deg_i == NULL) {
        free(deg_j);
        free(deg_i);
        return -ENOMEM;
    }
    long long e_use = 0;
    for (int e = 0; e < in->n_edges; e++)
        if (in->capacity[in->edges[e].mentor] > 0) {
            deg_j[in->edges[e].mentee]++;
            deg_i[in->edges[e].mentor]++;
            e_use++;
        }
    int na = 0, ma = 0;
    for (int j = 0; j < n; j++)
        na += deg_j[j] > 0;
    for (int i = 0; i < m; i++)
        ma += deg_i[i] > 0;
    long long cells = (long long)na * ma;
    int rc = TRY_SPARSE;
    int dense_ok = na > 0 && cells <= DENSE_MAX_CELLS;
    /* At least half the cells listed: a sparser matrix costs more than its pairs. */
    if (dense_ok && (in->method == SOLVE_METHOD_DENSE ||
                     (in->method == SOLVE_AUTO && 2 * e_use >= cells)))
        rc = solve_dense(in, deg_j, deg_i, na, ma, mentor_of);
    free(deg_j);
    free(deg_i);
    return rc;
}

/* Returns 0 when solved (*used: the method), NOT_SCALAR when the lexicographic solver
 * must run, -EAGAIN when the sparse searches ran past budget (> 0), or an error. */
static int solve_scalar(const struct solve_assign_input *in, int *mentor_of, enum solve_method *used,
                        long long budget)
{
    const int n = in->n_mentees, m = in->n_mentors;
    int rc = try_dense(in, mentor_of);
    *used = SOLVE_METHOD_DENSE;
    if (rc != TRY_SPARSE)
        return rc;
    *used = SOLVE_METHOD_SPARSE;

    struct rows r;
    rc = rows_build(in, &r);
    if (rc != 0)
        return rc;
    /* The lexicographic solver refuses what its int node and arc numbers cannot index;
     * refuse the same here, so the answer does not depend on the path. */
    long long n_open = 0;
    for (int i = 0; i < m; i++)
        n_open += in->capacity[i] > 0;
    if ((long long)n + m + 1 > INT_MAX - 1 ||
        2 * ((long long)n + r.first[n] + n_open) > INT_MAX - 1)
        rc = -ENOMEM;
    int *listed = calloc((size_t)m + 1, sizeof *listed);   /* pairs kept per mentor */
    if (rc == 0 && listed == NULL)
        rc = -ENOMEM;
    if (rc == 0)
        rc = rows_scalarize(in, &r, listed);
    if (rc == 0)
        rc = solve_rows_sparse(in, &r, listed, mentor_of, budget);
    free(listed);
    rows_free(&r);
    return rc;
}

/* ---- The scaling path ----
 * The lexicographic solver's network (H -> mentee, cap 1; mentee -> mentor, cap 1, cost
 * -gain; mentor -> H, cap capacity) with every H -> mentee arc open at once, solved by
 * solve/costscale. The priority component is taken minus p0, the least priority of a
 * mentee with a pair: each matched mentee adds 1 to the count and its priority to the
 * priority sum, so that sum moves by p0 times the count, and the count comes before the
 * priority in both objectives; the order of any two assignments is unchanged and the
 * scalar stays smaller. Returns 0, NOT_SCALAR when costscale refuses the costs (-ERANGE),
 * or an error. */
static int solve_scaling(const struct solve_assign_input *in, int *mentor_of)
{
    const int n = in->n_mentees, m = in->n_mentors;
    struct pair *pairs;
    int n_pairs, rc;
    rc = merge_pairs(in, &pairs, &n_pairs);
    if (rc != 0)
        return rc;
    rc = check_range(in, pairs, n_pairs);
    long long n_open = 0, n_act = 0, p0 = LLONG_MAX;
    for (int i = 0; i < m; i++)
        n_open += in->capacity[i] > 0;
    for (int e = 0; e < n_pairs; e++)
        if (e == 0 || pairs[e].mentee != pairs[e - 1].mentee) {
            n_act++;
            if (prio_of(in, pairs[e].mentee) < p0)
                p0 = prio_of(in, pairs[e].mentee);
        }
    /* The lexicographic solver's int-index limit, so the answer does not depend on the path. */
    if (rc == 0 && ((long long)n + m + 1 > INT_MAX - 1 ||
                    2 * ((long long)n + n_pairs + n_open) > INT_MAX - 1))
        rc = -ENOMEM;
    if (rc != 0) {
        free(pairs);
        return rc;
    }
    const int n_arcs = (int)(n_act + n_pairs + n_open);
    size_t na = (size_t)n_arcs + 1;
    int *tail = malloc(na * sizeof *tail), *head = malloc(na * sizeof *head);
    int *cap = malloc(na * sizeof *cap), *flow = malloc(na * sizeof *flow);
    struct lex *cost = malloc(na * sizeof *cost);
    rc = -ENOMEM;
    if (!tail || !head || !cap || !flow || !cost)
        goto out;
#define MENTEE(j) (1 + (j))
#define MENTOR(i) (1 + n + (i))
    int k = 0;
    const int kp = in->objective == SOLVE_COVERAGE ? 1 : 2;    /* the priority's place */
    for (int e = 0; e < n_pairs; e++)
        if (e == 0 || pairs[e].mentee != pairs[e - 1].mentee) {
            tail[k] = 0; head[k] = MENTEE(pairs[e].mentee); cap[k] = 1;
            cost[k] = (struct lex){{0, 0, 0}};
            k++;
        }
    const int first_pair = k;
    for (int e = 0; e < n_pairs; e++) {
        struct lex gain = pair_gain(in, pairs[e].mentee, pairs[e].micro);
        gain.v[kp] -= p0;
        tail[k] = MENTEE(pairs[e].mentee); head[k] = MENTOR(pairs[e].mentor); cap[k] = 1;
        for (int c = 0; c < LEX; c++)
            cost[k].v[c] = -gain.v[c];
        k++;
    }
    for (int i = 0; i < m; i++)
        if (in->capacity[i] > 0) {
            tail[k] = MENTOR(i); head[k] = 0;
            cap[k] = in->capacity[i] < n ? in->capacity[i] : n;
            cost[k] = (struct lex){{0, 0, 0}};
            k++;
        }
#undef MENTEE
#undef MENTOR
    _Static_assert(sizeof(struct lex) == sizeof(struct flow_cost) && LEX == FLOW_LEX,
                   "struct lex is struct flow_cost");
    struct costscale_problem p = {
        .n_nodes = n + m + 1, .n_arcs = n_arcs, .tail = tail, .head = head, .cap = cap,
        .cost = (const struct flow_cost *)cost,
    };
    rc = costscale_solve(&p, flow);
    if (rc == -ERANGE)
        rc = NOT_SCALAR;
    if (rc == 0) {
        for (int j = 0; j < n; j++)
            mentor_of[j] = -1;
        for (int e = 0; e < n_pairs; e++)
            if (flow[first_pair + e] > 0)
                mentor_of[pairs[e].mentee] = pairs[e].mentor;
    }
out:
    free(pairs);
    free(tail); free(head); free(cap); free(flow); free(cost);
    return rc;
}

/* SOLVE_AUTO's budget for the shortest paths before it turns to cost scaling, in units of
 * the input's size n_mentees + n_mentors + n_edges (0: no limit, below SCALING_MIN_MENTEES
 * mentees); see the top comment for the measurements behind it. */
static long long scaling_budget(const struct solve_assign_input *in)
{
    if (in->n_mentees < SCALING_MIN_MENTEES)
        return 0;
    return (long long)in->n_mentees + in->n_mentors + in->n_edges;
}

int solve_assign(const struct solve_assign_input *in, int *mentor_of)
{
    return solve_assign_used(in, mentor_of, NULL);
}

int solve_assign_used(const struct solve_assign_input *in, int *mentor_of, enum solve_method *used)
{
    enum solve_method how = SOLVE_AUTO;
    int rc = check_input(in);
    if (rc != 0)
        return rc;
    if (in->n_mentees > 0 && mentor_of == NULL)
        return -EINVAL;
    if (in->n_mentees > 0) {
        /* SOLVE_AUTO on a large input with fewer seats than mentees: the shortest paths
         * first, on a budget; past it, cost scaling (see the top comment). */
        long long budget = in->method == SOLVE_AUTO ? scaling_budget(in) : 0;
        rc = TRY_SPARSE;
        if (in->method == SOLVE_METHOD_SCALING) {
            how = SOLVE_METHOD_SCALING;
            rc = solve_scaling(in, mentor_of);
            if (rc == NOT_SCALAR)
                rc = TRY_SPARSE;    /* costscale refused the costs: the other paths */
        }
        for (int pass = 0; pass < 2 && rc == TRY_SPARSE; pass++) {
            rc = in->method == SOLVE_METHOD_LEX ? NOT_SCALAR
                                                : solve_scalar(in, mentor_of, &how,
                                                               BUDGET_SPARSE * budget);
            if (rc == NOT_SCALAR) {
                how = SOLVE_METHOD_LEX;
                rc = solve_lex(in, mentor_of, BUDGET_LEX * budget);
            }
            if (rc == -EAGAIN) {
                how = SOLVE_METHOD_SCALING;
                rc = solve_scaling(in, mentor_of);
                if (rc == NOT_SCALAR) {
                    rc = TRY_SPARSE;    /* refused: the shortest paths again, unbounded */
                    budget = 0;
                }
            }
        }
    }
    if (rc == 0 && used != NULL)
        *used = how;
    return rc;
}

static int add_checked(long long *sum, long long x)
{
    if ((x > 0 && *sum > LLONG_MAX - x) || (x < 0 && *sum < LLONG_MIN - x))
        return -EOVERFLOW;
    *sum += x;
    return 0;
}

struct solve_value solve_assign_value(const struct solve_assign_input *in, const int *mentor_of)
{
    const struct solve_value bad = {-1, -1, -1};
    struct solve_value val = {0, 0, 0};
    if (check_input(in) != 0 || (in->n_mentees > 0 && mentor_of == NULL))
        return bad;
    const int n = in->n_mentees, m = in->n_mentors;
    for (int j = 0; j < n; j++)
        if (mentor_of[j] < -1 || mentor_of[j] >= m)
            return bad;
    if (n == 0)
        return val;

    /* best[j]: the highest score among the listed copies of mentee j's pair. */
    long long *best = malloc((size_t)n * sizeof *best);
    unsigned char *listed = calloc((size_t)n, 1);
    int *load = calloc(m > 0 ? (size_t)m : 1, sizeof *load);
    if (best == NULL || listed == NULL || load == NULL) {
        val = bad;
        goto out;
    }
    for (int e = 0; e < in->n_edges; e++) {
        const struct solve_edge *ed = &in->edges[e];
        if (mentor_of[ed->mentee] != ed->mentor)
            continue;
        long long micro = score_micro(ed->score);
        if (!listed[ed->mentee] || micro > best[ed->mentee])
            best[ed->mentee] = micro;
        listed[ed->mentee] = 1;
    }
    for (int j = 0; j < n; j++) {
        int i = mentor_of[j];
        if (i < 0)
            continue;
        if (!listed[j] || ++load[i] > in->capacity[i] ||
            add_checked(&val.count, 1) != 0 ||
            add_checked(&val.priority, prio_of(in, j)) != 0 ||
            add_checked(&val.score_micro, best[j]) != 0) {
            val = bad;
            goto out;
        }
    }
out:
    free(best);
    free(listed);
    free(load);
    return val;
}
