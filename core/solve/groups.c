/* solve/groups: optimal groups with distinct categories, solved exactly as a
 * lexicographic min-cost circulation (solve/flow), then split into groups.
 * It must stay exact and deterministic, and never keep state or know of the engine.
 *
 * Model. When mentor i leads one group, the group is exactly a flow network:
 *   H -> mentee j (1 unit) -> (i, category of j) (cap 1) -> i (cap size) -> H,
 * with the pair's gain (as in solve/assign: COVERAGE (1, priority, score_micro),
 * QUALITY (score_micro, 1, priority)) as negative cost on the mentee's arc. Cap 1 on
 * (i, c) is "one mentee of category c per group"; a mentee of category -1, or every
 * mentee when !distinct, goes straight to i. Integral flows are exactly the valid
 * groupings, so the min-cost circulation is an optimal grouping.
 * When mentor i leads g = groups[i] groups, which of them a mentee joins does not
 * change the objective (scores are per pair), so the groups are treated as identical:
 * (i, c) gets cap g and i gets cap g * size. Every grouping gives such a flow (each of
 * the g groups holds <= 1 of category c and <= size in all). Conversely every such
 * flow splits into g valid groups: list i's T <= g * size mentees sorted by category,
 * so each category c >= 0 is a run of at most g consecutive entries, and put entry k in
 * group k mod g. A run of <= g consecutive k has distinct residues, so no group gets
 * two of one category; group r gets ceil or floor of T / g <= size entries. So the
 * flow optimum is the grouping optimum, for any groups[i], and the method is exact.
 *
 * Two methods solve that flow (enum solve_groups_method), to the same optimal value:
 *   SSP (solve/flow): one unit per mentee, strongest first, each a Dijkstra from the
 *     mentee. Fast while seats are plentiful or candidates spread the mentees out; slow
 *     when seats are scarce and a mentee's gain is set mostly by the mentee (equal or
 *     near-equal priorities, scores 1 or 2): late mentees then search long plateaus of
 *     zero reduced cost for the few seats, and a search settles much of the graph.
 *   SCALING (solve/costscale): every entry arc opened at once, one min-cost circulation
 *     by cost scaling on a 128-bit scalar, in a number of near-linear phases that does not
 *     depend on the plateaus. It refuses (-ERANGE) costs whose scalar would not be exact;
 *     SSP then answers.
 * SOLVE_GROUPS_AUTO (the default): below AUTO_MIN_MENTEES mentees with a pair, SSP. From
 * there, SSP on a budget of AUTO_BUDGET (V + A) nodes touched by its searches
 * (flow_work: deterministic, so the same input always takes the same method), and past it
 * cost scaling from scratch. Measured (bench/groups_bench, CPU seconds, shared 2-core
 * machine): flow's searches cost about 0.2-0.25 us a node touched, cost scaling 1-6 us per
 * element of V + A. The seat-scarce senior_leader shape (5 candidates, groups of 12)
 * touches 170 nodes per element at 12,000 mentees and more as it grows (SSP 12-19 s at
 * 24,000, cost scaling 0.2-0.9 s); the group model's shape (20 candidates, groups of 4,
 * distinct departments) is as bad, seats scarce or not (SSP 21 s at 12,000 with seats for
 * 80%, over 100 s with seats for all; cost scaling 1.2-12 s). Some easy shapes touch 15
 * (SSP 0.3 s, cost scaling 0.6 s at 12,000 with distinct departments and 5 candidates). A
 * budget of AUTO_BUDGET = 5 per element costs about 1.2 us per element when it runs out,
 * a fraction of cost scaling's time, and keeps SSP where it is fastest by far (random
 * scores, seats to spare). See bench/RESULTS.md for the rows.
 *
 * Complexity: E edges merged to P pairs, K distinct (mentor, category) among them,
 * V = 1 + n_mentees + n_mentors + K nodes, A = n_mentees + P + K + n_mentors arcs.
 * Sorting O(E log E + n log n); the split is O(n log n); O(E + V + A) memory.
 * SSP: one flow_insert per mentee with a pair, each a Dijkstra O((V + A) log A) at worst
 * and usually far less (it touches only nodes settled before the hub). Cost scaling:
 * O(log(V C)) phases (C the largest scalar cost, see costscale.c), each O(V^2 A) at worst
 * and measured near O(V + A). Under AUTO at most AUTO_BUDGET (V + A) SSP work is added.
 * Measured with SSP (-O2, 10 candidates per mentee, 12 departments, 0-2 groups of 4 per
 * mentor, seats for 40% of the mentees; a loaded machine): 5,000 mentees and 500 mentors
 * take 0.09 s in COVERAGE and 0.18 s in QUALITY; 20,000 and 2,000 take 0.8 s and 1.5 s.
 * Exactness: flow_build refuses totals above INT64_MAX / 64 (-EOVERFLOW), the same
 * bound as solve_assign, since only the mentee arcs carry costs; check_range applies the
 * same bound first so that both methods refuse the same inputs. Cost scaling is exact by
 * costscale.c's argument, and the priority shift (place_scaling) keeps the order of any
 * two groupings.
 */
#include "solve/groups.h"
#include "solve/costscale.h"
#include "solve/flow.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCORE_MAX 1e9
#define SUM_LIMIT (LLONG_MAX / 64)
#define AUTO_MIN_MENTEES 2000
#define AUTO_BUDGET 5

static int check_input(const struct solve_groups_input *in)
{
    if (in == NULL || in->n_mentors < 0 || in->n_mentees < 0 || in->n_edges < 0 || in->size < 0)
        return -EINVAL;
    if (in->objective != SOLVE_GROUPS_COVERAGE && in->objective != SOLVE_GROUPS_QUALITY)
        return -EINVAL;
    if ((int)in->method < (int)SOLVE_GROUPS_AUTO || (int)in->method > (int)SOLVE_GROUPS_SCALING)
        return -EINVAL;
    if ((in->n_mentors > 0 && in->groups == NULL) || (in->n_edges > 0 && in->edges == NULL))
        return -EINVAL;
    for (int i = 0; i < in->n_mentors; i++)
        if (in->groups[i] < 0)
            return -EINVAL;
    for (int j = 0; j < in->n_mentees; j++)
        if ((in->priority != NULL && in->priority[j] < 0) ||
            (in->category != NULL && in->category[j] < -1))
            return -EINVAL;
    for (int e = 0; e < in->n_edges; e++) {
        const struct solve_group_edge *ed = &in->edges[e];
        if (ed->mentor < 0 || ed->mentor >= in->n_mentors ||
            ed->mentee < 0 || ed->mentee >= in->n_mentees)
            return -EINVAL;
        /* !(x <= max) also catches NaN, which fails every comparison. */
        if (isnan(ed->score) || !(fabs(ed->score) <= SCORE_MAX))
            return -EINVAL;
    }
    return 0;
}

static long long prio_of(const struct solve_groups_input *in, int j)
{
    return in->priority != NULL ? in->priority[j] : 0;
}

static int cat_of(const struct solve_groups_input *in, int j)
{
    return in->category != NULL ? in->category[j] : -1;
}

static struct flow_cost pair_gain(const struct solve_groups_input *in, int j, long long micro)
{
    struct flow_cost g;
    if (in->objective == SOLVE_GROUPS_COVERAGE) {
        g.v[0] = 1; g.v[1] = prio_of(in, j); g.v[2] = micro;
    } else {
        g.v[0] = micro; g.v[1] = 1; g.v[2] = prio_of(in, j);
    }
    return g;
}

static int cost_cmp(const struct flow_cost *a, const struct flow_cost *b)
{
    for (int k = 0; k < FLOW_LEX; k++)
        if (a->v[k] != b->v[k])
            return a->v[k] < b->v[k] ? -1 : 1;
    return 0;
}

/* One allowed pair after duplicates are merged; arc is its id in the flow. */
struct pair { int mentee, mentor; long long micro; int arc; };

static int pair_cmp(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;
    if (a->mentee != b->mentee)
        return a->mentee < b->mentee ? -1 : 1;
    if (a->mentor != b->mentor)
        return a->mentor < b->mentor ? -1 : 1;
    return 0;   /* equal keys are merged to their maximum, so their order cannot show */
}

/* A (mentor, category) node key; also used for (category, mentee) in the split. */
struct key { int a, b; };

static int key_cmp(const void *pa, const void *pb)
{
    const struct key *x = pa, *y = pb;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    return x->b < y->b ? -1 : (x->b > y->b);
}

/* Insertion order: by best gain, highest first, then by index (see solve/assign). */
struct order { struct flow_cost best; int j, entry; };

static int order_cmp(const void *pa, const void *pb)
{
    const struct order *a = pa, *b = pb;
    int c = cost_cmp(&b->best, &a->best);
    if (c != 0)
        return c;
    return a->j < b->j ? -1 : (a->j > b->j);
}

/* Copies the usable edges into *out sorted by (mentee, mentor), one per pair with the
 * highest score; sorting also makes the answer independent of edge order. */
static int merge_pairs(const struct solve_groups_input *in, struct pair **out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (in->n_edges == 0 || in->size == 0)
        return 0;
    struct pair *p = malloc((size_t)in->n_edges * sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    int k = 0;
    for (int e = 0; e < in->n_edges; e++) {
        if (in->groups[in->edges[e].mentor] == 0)
            continue;               /* a mentor with no group can never be used */
        p[k].mentee = in->edges[e].mentee;
        p[k].mentor = in->edges[e].mentor;
        p[k].micro = llround(in->edges[e].score * 1e6);
        p[k].arc = -1;
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

/* Whether pair p goes through a (mentor, category) node. */
static int uses_cat(const struct solve_groups_input *in, const struct pair *p)
{
    return in->distinct && cat_of(in, p->mentee) >= 0;
}

/* The network as arc arrays, shared by both solvers. */
struct net {
    int n_nodes, n_arcs;
    int *tail, *head, *cap;
    struct flow_cost *cost;
};

static void net_free(struct net *w)
{
    free(w->tail); free(w->head); free(w->cap); free(w->cost);
}

static void net_add(struct net *w, int u, int v, int cap, struct flow_cost cost)
{
    int k = w->n_arcs++;
    w->tail[k] = u; w->head[k] = v; w->cap[k] = cap; w->cost[k] = cost;
}

/* The SSP method: one flow_insert per mentee, strongest first. Leaves the flow in cap[].
 * budget > 0: gives up with -EAGAIN once the searches have touched more nodes than that. */
static int place_ssp(const struct net *w, struct order *order, int n_order, long long budget)
{
    struct flow *f = NULL;
    int rc = flow_new(&f, w->n_nodes, w->n_arcs);
    /* flow_arc fails only on a bug here; keep the first failure all the same. */
    for (int k = 0; rc == 0 && k < w->n_arcs; k++) {
        int id = flow_arc(f, w->tail[k], w->head[k], w->tail[k] == FLOW_HUB ? 0 : w->cap[k],
                          &w->cost[k]);
        rc = id < 0 ? id : 0;
    }
    if (rc == 0)
        rc = flow_build(f);
    qsort(order, (size_t)n_order, sizeof *order, order_cmp);
    for (int k = 0; rc == 0 && k < n_order; k++) {
        int r = flow_insert(f, order[k].entry);
        rc = r < 0 ? r : 0;
        if (rc == 0 && budget > 0 && flow_work(f) > budget)
            rc = -EAGAIN;
    }
    for (int k = 0; rc == 0 && k < w->n_arcs; k++)
        w->cap[k] = flow_amount(f, k);
    flow_free(f);
    return rc;
}

/* The scaling method: every entry arc raised to its one unit, then one min-cost
 * circulation (solve/costscale). The priority component is taken minus the least priority
 * p0 of a mentee with a pair: a placed mentee adds 1 to the count and its priority to the
 * priority sum, so that sum moves by p0 times the count, and the count comes before the
 * priority in both objectives: the order of any two groupings is unchanged, and the scalar
 * costscale makes stays smaller. Returns 0 (the flow in cap[]), -ERANGE (nothing changed)
 * or an error. */
static int place_scaling(const struct solve_groups_input *in, struct net *w, int n_pairs,
                         int first_pair, const struct order *order, int n_order)
{
    long long p0 = LLONG_MAX;
    for (int k = 0; k < n_order; k++)
        if (prio_of(in, order[k].j) < p0)
            p0 = prio_of(in, order[k].j);
    int *flow = malloc(((size_t)w->n_arcs + 1) * sizeof *flow);
    struct flow_cost *cost = malloc(((size_t)w->n_arcs + 1) * sizeof *cost);
    int *cap = malloc(((size_t)w->n_arcs + 1) * sizeof *cap);
    if (flow == NULL || cost == NULL || cap == NULL) {
        free(flow); free(cost); free(cap);
        return -ENOMEM;
    }
    memcpy(cost, w->cost, (size_t)w->n_arcs * sizeof *cost);
    memcpy(cap, w->cap, (size_t)w->n_arcs * sizeof *cap);
    const int kp = in->objective == SOLVE_GROUPS_COVERAGE ? 1 : 2;   /* the priority's place */
    for (int e = 0; e < n_pairs; e++)
        cost[first_pair + e].v[kp] += p0;      /* cost = -gain: -(p - p0) = -p + p0 */
    for (int k = 0; k < w->n_arcs; k++)
        if (w->tail[k] == FLOW_HUB)
            cap[k] = 1;
    struct costscale_problem p = {
        .n_nodes = w->n_nodes, .n_arcs = w->n_arcs, .tail = w->tail, .head = w->head,
        .cap = cap, .cost = cost,
    };
    int rc = costscale_solve(&p, flow);
    if (rc == 0)
        memcpy(w->cap, flow, (size_t)w->n_arcs * sizeof *flow);
    free(flow); free(cost); free(cap);
    return rc;
}

/* SOLVE_GROUPS_AUTO's budget for the SSP method before it turns to cost scaling, in nodes
 * touched by its searches (0: no limit); see the top comment for the measurements. */
static long long ssp_budget(const struct solve_groups_input *in, const struct net *w, int n_order)
{
    if (in->method != SOLVE_GROUPS_AUTO || n_order < AUTO_MIN_MENTEES)
        return 0;
    return AUTO_BUDGET * ((long long)w->n_nodes + w->n_arcs);
}

/* The same refusal as flow_build's, so the answer does not depend on the method: B, per
 * component, the sum over mentees of their largest |gain component|, above INT64_MAX / 64. */
static int check_range(const struct solve_groups_input *in, const struct pair *pairs, int n_pairs)
{
    long long b[FLOW_LEX] = {0};
    for (int e = 0; e < n_pairs;) {
        long long most[FLOW_LEX] = {0};
        int j = pairs[e].mentee;
        for (; e < n_pairs && pairs[e].mentee == j; e++) {
            struct flow_cost gain = pair_gain(in, j, pairs[e].micro);
            for (int c = 0; c < FLOW_LEX; c++) {
                long long x = gain.v[c] < 0 ? -gain.v[c] : gain.v[c];
                if (x > most[c])
                    most[c] = x;
            }
        }
        for (int c = 0; c < FLOW_LEX; c++) {
            if (most[c] > SUM_LIMIT - b[c])
                return -EOVERFLOW;
            b[c] += most[c];
        }
    }
    return 0;
}

/* Builds and solves the flow; fills mentor_of (n_mentees entries) and *used. */
static int place(const struct solve_groups_input *in, struct pair *pairs, int n_pairs,
                 int *mentor_of, enum solve_groups_method *used)
{
    const int n = in->n_mentees, m = in->n_mentors;
    struct key *keys = NULL;
    struct order *order = NULL;
    struct net w = {0};
    int n_keys = 0, rc;

    keys = malloc(((size_t)n_pairs + 1) * sizeof *keys);
    order = malloc(((size_t)n + 1) * sizeof *order);
    if (keys == NULL || order == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (int e = 0; e < n_pairs; e++)
        if (uses_cat(in, &pairs[e]))
            keys[n_keys++] = (struct key){pairs[e].mentor, cat_of(in, pairs[e].mentee)};
    qsort(keys, (size_t)n_keys, sizeof *keys, key_cmp);
    int k_unique = 0;
    for (int k = 0; k < n_keys; k++)
        if (k_unique == 0 || key_cmp(&keys[k_unique - 1], &keys[k]) != 0)
            keys[k_unique++] = keys[k];
    n_keys = k_unique;

    int n_order = 0;
    for (int e = 0; e < n_pairs; e++) {
        struct flow_cost gain = pair_gain(in, pairs[e].mentee, pairs[e].micro);
        if (n_order == 0 || order[n_order - 1].j != pairs[e].mentee)
            order[n_order++] = (struct order){gain, pairs[e].mentee, -1};
        else if (cost_cmp(&gain, &order[n_order - 1].best) > 0)
            order[n_order - 1].best = gain;
    }

    /* Node and arc numbers are int; refuse what they cannot index. */
    long long nodes = 1LL + n + m + n_keys;
    long long arcs = (long long)n_order + n_pairs + n_keys + m;
    if (nodes > INT_MAX / 2 || arcs > INT_MAX / 4) {
        rc = -ENOMEM;
        goto out;
    }
    rc = check_range(in, pairs, n_pairs);
    if (rc != 0)
        goto out;
#define MENTEE(j) (1 + (j))
#define MENTOR(i) (1 + n + (i))
#define CAT(k) (1 + n + m + (k))
    w.n_nodes = (int)nodes;
    size_t na = (size_t)arcs + 1;
    w.tail = malloc(na * sizeof *w.tail);
    w.head = malloc(na * sizeof *w.head);
    w.cap = malloc(na * sizeof *w.cap);
    w.cost = malloc(na * sizeof *w.cost);
    if (!w.tail || !w.head || !w.cap || !w.cost) {
        rc = -ENOMEM;
        goto out;
    }
    const struct flow_cost zero = {{0, 0, 0}};
    for (int k = 0; k < n_order; k++) {
        order[k].entry = w.n_arcs;
        net_add(&w, FLOW_HUB, MENTEE(order[k].j), 0, zero);
    }
    const int first_pair = w.n_arcs;
    for (int e = 0; e < n_pairs; e++) {
        struct flow_cost gain = pair_gain(in, pairs[e].mentee, pairs[e].micro), cost;
        for (int c = 0; c < FLOW_LEX; c++)
            cost.v[c] = -gain.v[c];
        int to = MENTOR(pairs[e].mentor);
        if (uses_cat(in, &pairs[e])) {
            struct key want = {pairs[e].mentor, cat_of(in, pairs[e].mentee)};
            const struct key *hit = bsearch(&want, keys, (size_t)n_keys, sizeof *keys, key_cmp);
            to = CAT((int)(hit - keys));
        }
        pairs[e].arc = w.n_arcs;
        net_add(&w, MENTEE(pairs[e].mentee), to, 1, cost);
    }
    for (int k = 0; k < n_keys; k++)
        net_add(&w, CAT(k), MENTOR(keys[k].a), in->groups[keys[k].a], zero);
    for (int i = 0; i < m; i++) {
        long long cap = (long long)in->groups[i] * in->size;
        if (cap > n)
            cap = n;        /* no more can come, and it keeps the capacity an int */
        if (cap > 0)
            net_add(&w, MENTOR(i), FLOW_HUB, (int)cap, zero);
    }
#undef MENTEE
#undef MENTOR
#undef CAT

    /* SCALING asked for: cost scaling, or SSP when it refuses. AUTO: SSP on a budget on
     * large inputs, then cost scaling, then (refused) SSP with no limit. place_ssp changes
     * w's capacities only when it succeeds, place_scaling only when it does. */
    rc = -ERANGE;
    long long budget = ssp_budget(in, &w, n_order);
    if (in->method == SOLVE_GROUPS_SCALING) {
        *used = SOLVE_GROUPS_SCALING;
        rc = place_scaling(in, &w, n_pairs, first_pair, order, n_order);
    }
    if (rc == -ERANGE) {
        *used = SOLVE_GROUPS_SSP;
        rc = place_ssp(&w, order, n_order, budget);
    }
    if (rc == -EAGAIN) {
        *used = SOLVE_GROUPS_SCALING;
        rc = place_scaling(in, &w, n_pairs, first_pair, order, n_order);
        if (rc == -ERANGE) {
            *used = SOLVE_GROUPS_SSP;
            rc = place_ssp(&w, order, n_order, 0);
        }
    }
    if (rc != 0)
        goto out;
    for (int j = 0; j < n; j++)
        mentor_of[j] = -1;
    for (int e = 0; e < n_pairs; e++)
        if (w.cap[pairs[e].arc] > 0)
            mentor_of[pairs[e].mentee] = pairs[e].mentor;
    rc = 0;
out:
    net_free(&w);
    free(keys);
    free(order);
    return rc;
}

/* Spreads each mentor's mentees over its groups: sorted by (category, mentee), entry k
 * of mentor i goes to group base + k mod groups[i] (see the top comment for why that
 * keeps categories distinct and groups within size). */
static int split(const struct solve_groups_input *in, const int *mentor_of, int *group_of)
{
    const int n = in->n_mentees, m = in->n_mentors;
    int *start = calloc((size_t)m + 1, sizeof *start);
    struct key *byk = malloc(((size_t)n + 1) * sizeof *byk);
    int *fill = malloc(((size_t)m + 1) * sizeof *fill);
    if (start == NULL || byk == NULL || fill == NULL) {
        free(start); free(byk); free(fill);
        return -ENOMEM;
    }
    for (int j = 0; j < n; j++)
        if (mentor_of[j] >= 0)
            start[mentor_of[j] + 1]++;
    for (int i = 0; i < m; i++)
        start[i + 1] += start[i];
    memcpy(fill, start, (size_t)m * sizeof *fill);
    for (int j = 0; j < n; j++)
        if (mentor_of[j] >= 0)
            byk[fill[mentor_of[j]]++] = (struct key){cat_of(in, j), j};
    int base = 0;
    for (int i = 0; i < m; i++) {
        int cnt = start[i + 1] - start[i];
        qsort(byk + start[i], (size_t)cnt, sizeof *byk, key_cmp);
        for (int k = 0; k < cnt; k++)
            group_of[byk[start[i] + k].b] = base + k % in->groups[i];
        base += in->groups[i];
    }
    for (int j = 0; j < n; j++)
        if (mentor_of[j] < 0)
            group_of[j] = -1;
    free(start); free(byk); free(fill);
    return 0;
}

int solve_groups(const struct solve_groups_input *in, int *group_of, int *n_groups)
{
    return solve_groups_used(in, group_of, n_groups, NULL);
}

int solve_groups_used(const struct solve_groups_input *in, int *group_of, int *n_groups,
                      enum solve_groups_method *used)
{
    enum solve_groups_method how = SOLVE_GROUPS_AUTO;
    int rc = check_input(in);
    if (rc != 0)
        return rc;
    if ((in->n_mentees > 0 && group_of == NULL) || n_groups == NULL)
        return -EINVAL;
    long long total = 0;
    for (int i = 0; i < in->n_mentors; i++)
        total += in->groups[i];     /* at most INT_MAX * INT_MAX: no overflow */
    if (total > INT_MAX)
        return -EOVERFLOW;

    struct pair *pairs;
    int n_pairs;
    rc = merge_pairs(in, &pairs, &n_pairs);
    if (rc != 0)
        return rc;
    int *mentor_of = malloc(((size_t)in->n_mentees + 1) * sizeof *mentor_of);
    int *out = malloc(((size_t)in->n_mentees + 1) * sizeof *out);
    if (mentor_of == NULL || out == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    rc = place(in, pairs, n_pairs, mentor_of, &how);
    if (rc == 0)
        rc = split(in, mentor_of, out);
    if (rc == 0) {
        /* Written only now, so an error leaves the caller's arrays untouched. */
        if (in->n_mentees > 0)
            memcpy(group_of, out, (size_t)in->n_mentees * sizeof *group_of);
        *n_groups = (int)total;
        if (used != NULL)
            *used = n_pairs > 0 ? how : SOLVE_GROUPS_AUTO;
    }
done:
    free(pairs);
    free(mentor_of);
    free(out);
    return rc;
}
