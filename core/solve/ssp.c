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
    int *left;                 /* rows the opening leaves to the searches */
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
                if (S->load[i] < S->room[i]) {   /* a free slot: H at nd + pot_c = nd */
                    dH = bound = nd + S->pot_c[i];
                    h_from = nr + i;
                    continue;
                }
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
            for (int k = S->slot0[i]; k < S->slot0[i] + S->load[i]; k++) {
                int j = S->holder[k];
                if (S->mark_r[j] == done)
                    continue;   /* a held row is reached only from here, so once */
                long long nd = base + gain[S->arc_of[j]] - S->pot_r[j];
                if (nd >= bound)
                    continue;
                S->mark_r[j] = queued;
                S->dist_r[j] = nd;
                if (nd + S->pot_r[j] < bound) {  /* back to H: j gives up its column */
                    dH = bound = nd + S->pot_r[j];
                    h_from = j;
                }
                if (nd < bound && heap_push(&S->heap, nd, j) != 0)
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

/* ---- The opening: an exact auction (augmenting row reduction) ----
 * Before any search, rows bid for columns as in Jonker-Volgenant's augmenting row
 * reduction, extended to capacities, with epsilon = 0 so that the duals stay exact:
 * price[c] = -pot_c[c] >= 0, and a matched row's surplus pi = gain - price of its column.
 * Kept throughout (and these are what the searches need, see insert_row):
 *   (a) a matched row's column is one of its best: pi >= gain - price on all its arcs,
 *       and pi >= 0;
 *   (b) a row left out for good has gain - price <= 0 on all its arcs;
 *   (c) a column with a positive price is full; prices only rise.
 * A free row j finds its best value v1 (column c1) and second best v2 (or 0: staying
 * out). v1 <= 0: j stays out, (b). c1 has room: j takes it (its price is 0 by (c)). c1 is
 * full: each candidate x (its holders and j) has a margin gain_x - (x's best value
 * elsewhere, or 0), the most c1's price can reach before x prefers to leave, and every
 * margin is >= the current price by (a). The c1 largest margins keep the slots and the
 * price rises to the smallest one, whose row leaves (it is then indifferent) and bids at
 * once. So (a)-(c) hold after every step, and with them the assignment is optimal for
 * the rows handled: it is the state insert_row expects after inserting them. Rows whose
 * bid ends in a tie with no free column, and all rows once a step budget is spent (an
 * epsilon-free auction can trade back and forth), are left to the searches.
 * On k candidates per row and a few slots per column a bid costs O(k cap). */

enum { BID_PLACED, BID_OUT, BID_LEFT };

/* Row j's best value over its arcs other than skip, or 0 (staying out). */
static long long best_elsewhere(const struct ssp *S, int j, int skip)
{
    const int *first = S->p->first, *col = S->p->col;
    const long long *gain = S->p->gain;
    long long best = 0;
    /* Gains come highest first and a value is at most its gain (prices are >= 0). */
    for (int a = first[j]; a < first[j + 1] && gain[a] > best; a++)
        if (a != skip && gain[a] + S->pot_c[col[a]] > best)
            best = gain[a] + S->pot_c[col[a]];
    return best;
}

static void place(struct ssp *S, int j, int a, int slot)
{
    S->arc_of[j] = a;
    S->slot_of[j] = slot;
    S->holder[slot] = j;
}

/* The slot of column c whose row has the least margin (the first such slot on ties),
 * and that margin. */
static int least_margin(const struct ssp *S, int c, long long *least)
{
    const long long *gain = S->p->gain;
    int out_slot = -1;
    for (int k = S->slot0[c]; k < S->slot0[c] + S->load[c]; k++) {
        int h = S->holder[k];
        long long mh = gain[S->arc_of[h]] - best_elsewhere(S, h, S->arc_of[h]);
        if (out_slot < 0 || mh < *least) {
            *least = mh;
            out_slot = k;
        }
    }
    return out_slot;
}

/* Row j takes the slot of the row there, which leaves; returns that row. */
static int take_slot(struct ssp *S, int j, int a, int slot)
{
    int h = S->holder[slot];
    S->arc_of[h] = -1;
    S->slot_of[h] = -1;
    place(S, j, a, slot);
    return h;
}

/* One bid of free row j (see above). *evicted: the row it pushed out, or -1. */
static int bid(struct ssp *S, int j, int *evicted)
{
    const int *first = S->p->first, *col = S->p->col;
    const long long *gain = S->p->gain;
    *evicted = -1;
    long long v1 = 0, v2 = 0;
    int a1 = -1, a2 = -1;
    for (int a = first[j]; a < first[j + 1] && gain[a] > v2; a++) {
        long long v = gain[a] + S->pot_c[col[a]];
        if (v > v1) {
            v2 = v1;
            a2 = a1;
            v1 = v;
            a1 = a;
        } else if (v > v2) {
            v2 = v;
            a2 = a;
        }
    }
    if (a1 < 0)
        return BID_OUT;
    int c = col[a1];
    if (S->load[c] < S->room[c]) {
        place(S, j, a1, S->slot0[c] + S->load[c]++);
        return BID_PLACED;
    }
    long long mj = gain[a1] - v2, least = 0;
    int out_slot = least_margin(S, c, &least);
    if (mj > least) {
        *evicted = take_slot(S, j, a1, out_slot);
        S->pot_c[c] = -least;
        return BID_PLACED;
    }
    /* j has the least margin: the price rises to it, and j now values c1 at v2, the same
     * as its second best, c2. */
    S->pot_c[c] = -mj;
    if (v2 <= 0)
        return BID_OUT;
    int c2 = col[a2];
    if (S->load[c2] < S->room[c2]) {
        place(S, j, a2, S->slot0[c2] + S->load[c2]++);
        return BID_PLACED;
    }
    /* c2 is full and j's margin there is exactly its price (v2 = gain - price), the
     * least of all. Taking a slot anyway at that price would be valid (JV's row reduction
     * does it on ties), but here it trades slots back and forth without raising any
     * price; the searches settle j instead. */
    return BID_LEFT;
}

/* Runs the opening over the rows in order; the rows left for the searches go to left,
 * in the order they were left. Returns their count. */
static int opening(struct ssp *S, const int *order, int n_order, int *left)
{
    const struct ssp_problem *p = S->p;
    long long budget = 8 * (long long)n_order + 1024;
    int n_left = 0;
    for (int k = 0; k < n_order; k++) {
        int j = order[k];
        while (j >= 0) {            /* a row evicted bids at once */
            if (--budget < 0) {
                left[n_left++] = j;
                break;
            }
            int ev;
            if (bid(S, j, &ev) == BID_LEFT)
                left[n_left++] = j;
            j = ev;
        }
    }
    for (int j = 0; j < p->n_rows; j++)
        if (S->arc_of[j] >= 0)
            S->pot_r[j] = p->gain[S->arc_of[j]] + S->pot_c[p->col[S->arc_of[j]]];
    return n_left;
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
    S.left = malloc(r1 * sizeof *S.left);
    int rc = -ENOMEM;
    if (!S.room || !S.slot0 || !S.load || !S.slot_of || !S.pot_r || !S.pot_c || !S.dist_r ||
        !S.dist_c || !S.mark_r || !S.mark_c || !S.par_arc || !S.par_row || !S.settled || !S.left)
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
    /* The rows left bid again a few times: few more find a place, but their bids raise
     * prices toward their final values, which makes the searches much smaller
     * (measured: 100,000 x 20,000, k = 50: 2.2 million rows settled instead of 6.7).
     * opening may write left over its own order: it reads order[k] before writing
     * left[n] with n <= k. */
    int n_left = opening(&S, p->order, p->n_order, S.left);
    for (int round = 0; round < 3; round++)
        n_left = opening(&S, S.left, n_left, S.left);
    rc = 0;
    /* Stamps 2k+1 and 2k+2 must not wrap: ample for any int number of rows. */
    for (int k = 0; k < n_left && rc == 0; k++)
        rc = insert_row(&S, S.left[k], (unsigned)k);
out:
    free(S.room); free(S.slot0); free(S.load); free(S.holder); free(S.slot_of);
    free(S.pot_r); free(S.pot_c); free(S.dist_r); free(S.dist_c);
    free(S.mark_r); free(S.mark_c); free(S.par_arc); free(S.par_row); free(S.settled); free(S.left);
    free(S.heap.h);
    return rc;
}
