/* solve/ssp: exact maximum-gain capacitated assignment on a sparse pair list.
 * It must stay exact (64-bit integer gains, no rounding) and deterministic, and never
 * allocate anything quadratic in the number of rows or columns.
 *
 * Method: the same successive shortest paths as solve/assign's lexicographic solver
 * (see assign.c for the proof: one hub H as source and sink, rows inserted one at a time,
 * the cheapest cycle through the new row taken when negative, Dijkstra on reduced costs
 * with potentials), specialized to this bipartite shape so that a search only looks at
 * arcs it can use:
 *   - A row's residual arcs are its pairs (minus the one it uses) and, when matched, the
 *     way back to H. A column's are one arc to each row it holds (at most cap of them,
 *     kept in a slot list) and the arc to H while it has room. The general graph would
 *     make a column scan all its listed pairs (hundreds, when k candidates per row
 *     meet few columns) to find the few it holds: that was most of the old solver's time.
 *   - A matched row has one residual arc in (from its column), so it is relaxed once;
 *     its parent is its own column and needs no storage.
 *   - H is not a heap node: its tentative distance dH is kept aside and the search stops
 *     when the heap's least key is >= dH (so H wins ties, and an equal swap is never
 *     made); nothing with a tentative distance >= dH is pushed, which keeps the heap small.
 *   - Search marks are stamps (2 * search + 1 queued, + 2 settled), so nothing is reset
 *     between searches; potentials move only on the nodes settled, by d(v) - dH.
 * Costs are -gain; potentials start at 0 for columns and, when a row is inserted, at
 * max over its pairs of (pot[col] + gain), so every residual arc's reduced cost is >= 0.
 *
 * Complexity: R rows, C columns, A arcs. One search per inserted row, each a Dijkstra
 * with a binary heap and lazy deletion over the nodes it settles (those closer than H):
 * O((R + C + A) log A) at worst per search, O(R (R + C + A) log A) in all, and in
 * practice tens to hundreds of nodes per search when rows come strongest first.
 * Memory O(R + C + A) (the heap grows on demand).
 *
 * Exactness: with B = sum over rows of their largest gain, every path, potential,
 * reduced cost and tentative distance stays within 32 B (the argument of assign.c with
 * one component), so B <= INT64_MAX / 64 rules out overflow.
 */
#include "solve/ssp.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

struct hent { long long d; int v; };   /* v < n_rows: a row; else column v - n_rows */

struct heap { struct hent *h; size_t n, room; };

static int heap_push(struct heap *hp, long long d, int v)
{
    if (hp->n == hp->room) {
        size_t room = hp->room ? 2 * hp->room : 1024;
        struct hent *h = realloc(hp->h, room * sizeof *h);
        if (h == NULL)
            return -ENOMEM;
        hp->h = h;
        hp->room = room;
    }
    struct hent *h = hp->h;
    size_t i = hp->n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (h[up].d <= d)
            break;
        h[i] = h[up];
        i = up;
    }
    h[i] = (struct hent){d, v};
    return 0;
}

static struct hent heap_pop(struct heap *hp)
{
    struct hent *h = hp->h, top = h[0], x = h[--hp->n];
    size_t i = 0, n = hp->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h[c + 1].d < h[c].d)
            c++;
        if (h[c].d >= x.d)
            break;
        h[i] = h[c];
        i = c;
    }
    if (n > 0)
        h[i] = x;
    return top;
}

struct ssp {
    const struct ssp_problem *p;
    int *room;                 /* per column: min(cap, listed pairs), the slots it has */
    int *slot0, *load;         /* per column: first slot, slots in use */
    int *holder;               /* per slot: the row in it */
    int *arc_of, *slot_of;     /* per row: arc used (or -1), slot held */
    long long *pot_r, *pot_c, *dist_r, *dist_c;
    unsigned *mark_r, *mark_c;
    int *par_arc, *par_row;    /* per column: the arc and row it was reached by */
    int *settled;              /* nodes settled in this search, as heap ids */
    struct heap heap;
};

#define INF LLONG_MAX

/* Inserts row s: one search, and the augmentation when the cycle is negative.
 * Returns 0 or -ENOMEM. */
static int insert_row(struct ssp *S, int s, unsigned search)
{
    const struct ssp_problem *p = S->p;
    const int nr = p->n_rows;
    const int *first = p->first, *col = p->col;
    const long long *gain = p->gain;
    const unsigned queued = 2 * search + 1, done = 2 * search + 2;

    if (first[s] == first[s + 1])
        return 0;
    /* Arcs come by gain, highest first: once gain[a] <= ps no later arc raises it. */
    long long ps = LLONG_MIN;
    for (int a = first[s]; a < first[s + 1] && gain[a] > ps; a++)
        if (S->pot_c[col[a]] + gain[a] > ps)
            ps = S->pot_c[col[a]] + gain[a];
    S->pot_r[s] = ps;
    /* Reduced distances are >= 0 and the cycle costs dH - ps, so it can only be negative
     * when ps > 0, and only a path shorter than ps matters: `bound` = min(dH, ps) prunes
     * the search, which fails (changing nothing) when no path beats ps. */
    if (ps <= 0)
        return 0;

    long long dH = INF, bound = ps;
    int h_from = -1;            /* heap id of the node H was reached from */
    int n_settled = 0;
    S->heap.n = 0;
    S->dist_r[s] = 0;
    S->mark_r[s] = queued;
    if (heap_push(&S->heap, 0, s) != 0)
        return -ENOMEM;
    while (S->heap.n > 0 && S->heap.h[0].d < bound) {
        struct hent e = heap_pop(&S->heap);
        if (e.v < nr) {
            int j = e.v;
            if (S->mark_r[j] == done)
                continue;
            S->mark_r[j] = done;
            S->settled[n_settled++] = j;
            long long base = e.d + S->pot_r[j];
            if (S->arc_of[j] >= 0 && base < bound) {  /* back to H: j gives up its column */
                dH = bound = base;
                h_from = j;
            }
            /* Column potentials only fall (by d - dH < 0), so pot_c <= 0 and
             * nd >= base - gain[a]: with gains sorted, the rest of the row is no better. */
            for (int a = first[j]; a < first[j + 1] && base - gain[a] < bound; a++) {
                int i = col[a];
                if (S->mark_c[i] == done || a == S->arc_of[j])
                    continue;
                long long nd = base - gain[a] - S->pot_c[i];
                if (nd >= bound || (S->mark_c[i] == queued && nd >= S->dist_c[i]))
                    continue;
                S->mark_c[i] = queued;
                S->dist_c[i] = nd;
                S->par_arc[i] = a;
                S->par_row[i] = j;
                if (heap_push(&S->heap, nd, nr + i) != 0)
                    return -ENOMEM;
            }
        } else {
            int i = e.v - nr;
            if (S->mark_c[i] == done || e.d > S->dist_c[i])
                continue;
            S->mark_c[i] = done;
            S->settled[n_settled++] = e.v;
            long long base = e.d + S->pot_c[i];
            if (S->load[i] < S->room[i] && base < bound) {   /* a free slot */
                dH = bound = base;
                h_from = e.v;
            }
            for (int k = S->slot0[i]; k < S->slot0[i] + S->load[i]; k++) {
                int j = S->holder[k];
                if (S->mark_r[j] == done)
                    continue;   /* a held row is reached only from here, so once */
                long long nd = base + gain[S->arc_of[j]] - S->pot_r[j];
                if (nd >= bound)
                    continue;
                S->mark_r[j] = queued;
                S->dist_r[j] = nd;
                if (heap_push(&S->heap, nd, j) != 0)
                    return -ENOMEM;
            }
        }
    }
    if (h_from < 0)
        return 0;               /* no path beats ps: s stays out, nothing changes */

    /* pot += d(v) - dH on the settled nodes (all have d < dH); pot[H] stays 0. */
    for (int k = 0; k < n_settled; k++) {
        int v = S->settled[k];
        if (v < nr)
            S->pot_r[v] += S->dist_r[v] - dH;
        else
            S->pot_c[v - nr] += S->dist_c[v - nr] - dH;
    }
    /* dH < ps here: the cycle H -> s -> ... -> H is negative; take it. */
    /* Walk the path back from its end: each column on it takes the row it was reached
     * from into the slot that row's successor frees (or a new slot at the end). */
    int i, slot;
    if (h_from < nr) {
        int j = h_from;         /* j leaves; its slot goes to its predecessor */
        i = col[S->arc_of[j]];
        slot = S->slot_of[j];
        S->arc_of[j] = -1;
        S->slot_of[j] = -1;
    } else {
        i = h_from - nr;
        slot = S->slot0[i] + S->load[i]++;
    }
    for (;;) {
        int j = S->par_row[i], a = S->par_arc[i];
        int old_arc = S->arc_of[j], old_slot = S->slot_of[j];
        S->arc_of[j] = a;
        S->slot_of[j] = slot;
        S->holder[slot] = j;
        if (j == s)
            return 0;
        i = col[old_arc];       /* j was held by the column it was reached from */
        slot = old_slot;
    }
}

int ssp_solve(const struct ssp_problem *p, int *arc_of)
{
    const int nr = p->n_rows, nc = p->n_cols;
    const size_t n_arcs = (size_t)p->first[nr];
    struct ssp S = {.p = p, .arc_of = arc_of};
    size_t r1 = (size_t)nr + 1, c1 = (size_t)nc + 1;
    S.room = calloc(c1, sizeof *S.room);
    S.slot0 = malloc(c1 * sizeof *S.slot0);
    S.load = calloc(c1, sizeof *S.load);
    S.slot_of = malloc(r1 * sizeof *S.slot_of);
    S.pot_r = calloc(r1, sizeof *S.pot_r);
    S.pot_c = calloc(c1, sizeof *S.pot_c);
    S.dist_r = malloc(r1 * sizeof *S.dist_r);
    S.dist_c = malloc(c1 * sizeof *S.dist_c);
    S.mark_r = calloc(r1, sizeof *S.mark_r);
    S.mark_c = calloc(c1, sizeof *S.mark_c);
    S.par_arc = malloc(c1 * sizeof *S.par_arc);
    S.par_row = malloc(c1 * sizeof *S.par_row);
    S.settled = malloc((r1 + c1) * sizeof *S.settled);
    int rc = -ENOMEM;
    if (!S.room || !S.slot0 || !S.load || !S.slot_of || !S.pot_r || !S.pot_c || !S.dist_r ||
        !S.dist_c || !S.mark_r || !S.mark_c || !S.par_arc || !S.par_row || !S.settled)
        goto out;
    /* A column never needs more slots than it has listed pairs. */
    for (size_t a = 0; a < n_arcs; a++)
        S.room[p->col[a]]++;
    size_t n_slots = 0;
    for (int i = 0; i < nc; i++) {
        if (S.room[i] > p->cap[i])
            S.room[i] = p->cap[i];
        S.slot0[i] = (int)n_slots;
        n_slots += (size_t)S.room[i];
    }
    S.holder = malloc((n_slots + 1) * sizeof *S.holder);
    if (S.holder == NULL)
        goto out;
    for (int r = 0; r < nr; r++) {
        arc_of[r] = -1;
        S.slot_of[r] = -1;
    }
    rc = 0;
    /* Stamps 2k+1 and 2k+2 must not wrap: ample for any int number of rows. */
    for (int k = 0; k < p->n_order && rc == 0; k++)
        rc = insert_row(&S, p->order[k], (unsigned)k);
out:
    free(S.room); free(S.slot0); free(S.load); free(S.holder); free(S.slot_of);
    free(S.pot_r); free(S.pot_c); free(S.dist_r); free(S.dist_c);
    free(S.mark_r); free(S.mark_c); free(S.par_arc); free(S.par_row); free(S.settled);
    free(S.heap.h);
    return rc;
}
