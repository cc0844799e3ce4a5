/* solve/flow: exact min-cost circulation with lexicographic costs, one unit at a time.
 * It must stay exact (integer costs only) and deterministic, and hold no state outside
 * the struct flow its caller owns. The method is solve/assign's, made generic: see
 * assign.c's top comment for the same argument on its fixed graph.
 *
 * Method: the network starts with zero flow, which is optimal (flow_build checks the
 * conditions in flow.h). flow_insert(a) raises entry arc a = H -> u by one unit.
 *   - Invariant: the residual graph has no negative cycle. After the raise, any cycle
 *     of negative cost passes a. Let f be the old circulation, C the cheapest residual
 *     cycle through a, f' = f + C if C is negative (else f' = f). A circulation g
 *     better than f' differs from f by residual cycles of f; at most one passes a (g - f
 *     uses a's new unit at most once), and it costs >= cost(C); the others cost >= 0.
 *     So cost(g) >= cost(f'): f' is optimal and the invariant holds again.
 *   - C is a plus a shortest path u -> H, found by Dijkstra on reduced costs
 *     c(x,y) + pot[x] - pot[y], stopped when H is settled. Potentials keep every
 *     residual arc's reduced cost >= 0 except arcs out of H, which no search scans
 *     (every search ends at H, and a simple path to H does not pass it).
 *     C is negative exactly when H's reduced distance is below pot[u] (pot[H] is 0),
 *     so the search also stops once the least distance left reaches pot[u]: what it
 *     has not settled is at least that far. After a search pot += min(d, D) - D, D
 *     being d(H), or pot[u] when it stopped: only nodes settled before move, pot[H]
 *     stays 0, and an arc from a settled node to one left (at >= D) stays >= 0; with
 *     D = pot[u] a moved potential is again the cost of a path u -> v (the bounds
 *     below hold). That stop matters: when seats run short, most late mentees can
 *     displace no one, and a search that went on to H would cross much of the graph
 *     to prove it.
 *     Z^3 under lexicographic order is a totally ordered abelian
 *     group, so all of this carries over from plain integers.
 *   - An entry node is unreachable until its entry arc is first raised (its only arcs
 *     in come from H, H is never scanned, and the reverses of its own arcs carry no
 *     flow yet). At that moment it takes pot[u] = max over its residual arcs u -> v of
 *     pot[v] - c(u,v), so its own arcs have reduced cost >= 0 and nothing else changes.
 *   - Dijkstra breaks distance ties by node number (H is 0, so a search ends as soon
 *     as H ties for the least distance); rows hold arcs in the order they were added.
 *
 * Complexity: V nodes, A = 2 * arcs residual arcs. flow_build is O(V + A). Each
 * flow_insert is one Dijkstra, O((V + A) log A) at worst with a binary heap and lazy
 * deletion, but it touches only the nodes settled before it stops and resets only those.
 * Memory O(V + A).
 *
 * Exactness: let B be, per component, the sum over nodes of the largest |cost| among
 * the arcs leaving them. Charge each residual arc to the tail of its forward arc: a
 * simple path touches that node (it starts a forward arc, ends a reverse one), and a
 * node starts at most one arc of the path and ends at most one, so a path costs within
 * 2B. A potential is 0, exactly cost(path u -> v) - cost(path u -> H) after a search
 * that reached H (within 4B), exactly cost(path u -> v) after one that stopped short
 * (within 2B), or set at an entry node's first raise from the potential of a node that
 * is not one (within 4B + B). So a reduced cost is within 11B, a settled distance (path
 * cost plus two potentials) within 12B, a tentative one within 23B, every intermediate
 * sum under 32B. flow_build refuses
 * B > INT64_MAX / 64.
 */
#include "solve/flow.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define SUM_LIMIT (LLONG_MAX / 64)

static int cost_cmp(const struct flow_cost *a, const struct flow_cost *b)
{
    for (int k = 0; k < FLOW_LEX; k++)
        if (a->v[k] != b->v[k])
            return a->v[k] < b->v[k] ? -1 : 1;
    return 0;
}

static struct flow_cost cost_add(struct flow_cost a, const struct flow_cost *b)
{
    for (int k = 0; k < FLOW_LEX; k++)
        a.v[k] += b->v[k];
    return a;
}

static struct flow_cost cost_sub(struct flow_cost a, const struct flow_cost *b)
{
    for (int k = 0; k < FLOW_LEX; k++)
        a.v[k] -= b->v[k];
    return a;
}

static const struct flow_cost zero_cost;

/* A binary min-heap of (distance, node) with lazy deletion; ties go to the lower node. */
struct hent { struct flow_cost d; int node; };

static int hent_less(const struct hent *a, const struct hent *b)
{
    int c = cost_cmp(&a->d, &b->d);
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

struct flow {
    int n_nodes, max_arcs, n_arcs;
    int built;      /* 0 while arcs are added, 1 after flow_build, -1 after it failed */
    /* The arcs as added, by id. */
    int *tail, *head, *cap0;
    struct flow_cost *cost0;
    /* The residual graph in compressed rows: node u's arcs are first[u] ..
     * first[u+1]-1; residual arc r and rev[r] are each other's reverse; the forward
     * arc of id k is pos[k]. */
    int *first, *to, *rev, *cap, *pos;
    struct flow_cost *cost;
    /* Search scratch; state[] is UNSEEN everywhere between searches. */
    struct flow_cost *pot, *dist;
    int *parent, *touched;
    unsigned char *state, *entry, *active;
    struct hent *heap;
    long long work;     /* nodes touched by the searches so far */
};

void flow_free(struct flow *f)
{
    if (f == NULL)
        return;
    free(f->tail); free(f->head); free(f->cap0); free(f->cost0);
    free(f->first); free(f->to); free(f->rev); free(f->cap); free(f->pos); free(f->cost);
    free(f->pot); free(f->dist); free(f->parent); free(f->touched);
    free(f->state); free(f->entry); free(f->active); free(f->heap);
    free(f);
}

int flow_new(struct flow **out, int n_nodes, int max_arcs)
{
    if (out == NULL || n_nodes < 1 || max_arcs < 0)
        return -EINVAL;
    if (max_arcs > (INT_MAX - 1) / 2)
        return -ENOMEM;
    struct flow *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -ENOMEM;
    f->n_nodes = n_nodes;
    f->max_arcs = max_arcs;
    size_t na = (size_t)max_arcs + 1;
    f->tail = malloc(na * sizeof *f->tail);
    f->head = malloc(na * sizeof *f->head);
    f->cap0 = malloc(na * sizeof *f->cap0);
    f->cost0 = malloc(na * sizeof *f->cost0);
    f->entry = calloc((size_t)n_nodes, 1);
    if (!f->tail || !f->head || !f->cap0 || !f->cost0 || !f->entry) {
        flow_free(f);
        return -ENOMEM;
    }
    *out = f;
    return 0;
}

int flow_arc(struct flow *f, int u, int v, int cap, const struct flow_cost *cost)
{
    if (f == NULL || f->built != 0 || cost == NULL || f->n_arcs >= f->max_arcs)
        return -EINVAL;
    if (u < 0 || u >= f->n_nodes || v < 0 || v >= f->n_nodes || u == v || cap < 0)
        return -EINVAL;
    if (u == FLOW_HUB) {
        if (cap != 0 || cost_cmp(cost, &zero_cost) != 0)
            return -EINVAL;
        f->entry[v] = 1;
    }
    int k = f->n_arcs++;
    f->tail[k] = u;
    f->head[k] = v;
    f->cap0[k] = cap;
    f->cost0[k] = *cost;
    return k;
}

/* Checks the conditions that make the zero circulation optimal and the sums safe. */
static int check_network(const struct flow *f, long long *most)
{
    for (int k = 0; k < f->n_arcs; k++) {
        int u = f->tail[k], v = f->head[k];
        if (f->entry[v] && u != FLOW_HUB)
            return -EINVAL;
        if (!f->entry[u] && cost_cmp(&f->cost0[k], &zero_cost) < 0)
            return -EINVAL;
    }
    long long b[FLOW_LEX] = {0};
    for (int k = 0; k < f->n_arcs; k++) {
        int u = f->tail[k];
        for (int c = 0; c < FLOW_LEX; c++) {
            long long x = f->cost0[k].v[c];
            if (x < -SUM_LIMIT || x > SUM_LIMIT)
                return -EOVERFLOW;
            x = x < 0 ? -x : x;
            long long *m = &most[(size_t)u * FLOW_LEX + (size_t)c];
            if (x > *m)
                *m = x;
        }
    }
    for (int u = 0; u < f->n_nodes; u++)
        for (int c = 0; c < FLOW_LEX; c++) {
            long long x = most[(size_t)u * FLOW_LEX + (size_t)c];
            if (x > SUM_LIMIT - b[c])
                return -EOVERFLOW;
            b[c] += x;
        }
    return 0;
}

int flow_build(struct flow *f)
{
    if (f == NULL || f->built != 0)
        return -EINVAL;
    size_t nv = (size_t)f->n_nodes, na = 2 * (size_t)f->n_arcs + 1;
    long long *most = calloc(nv * FLOW_LEX, sizeof *most);
    if (most == NULL)
        return -ENOMEM;
    int rc = check_network(f, most);
    free(most);
    if (rc != 0) {
        f->built = -1;
        return rc;
    }

    f->first = calloc(nv + 1, sizeof *f->first);
    f->to = malloc(na * sizeof *f->to);
    f->rev = malloc(na * sizeof *f->rev);
    f->cap = malloc(na * sizeof *f->cap);
    f->pos = malloc(((size_t)f->n_arcs + 1) * sizeof *f->pos);
    f->cost = malloc(na * sizeof *f->cost);
    f->pot = calloc(nv, sizeof *f->pot);
    f->dist = malloc(nv * sizeof *f->dist);
    f->parent = malloc(nv * sizeof *f->parent);
    f->touched = malloc(nv * sizeof *f->touched);
    f->state = calloc(nv, 1);
    f->active = calloc(nv, 1);
    /* A node is settled once per search and scans each arc once, so a search pushes
     * at most one heap entry per residual arc, plus the source. */
    f->heap = malloc(na * sizeof *f->heap);
    int *fill = malloc(nv * sizeof *fill);
    if (!f->first || !f->to || !f->rev || !f->cap || !f->pos || !f->cost || !f->pot ||
        !f->dist || !f->parent || !f->touched || !f->state || !f->active || !f->heap ||
        !fill) {
        free(fill);
        f->built = -1;      /* unusable now; flow_free releases what was allocated */
        return -ENOMEM;
    }
    for (int k = 0; k < f->n_arcs; k++) {
        f->first[f->tail[k] + 1]++;
        f->first[f->head[k] + 1]++;
    }
    for (size_t u = 0; u < nv; u++)
        f->first[u + 1] += f->first[u];
    memcpy(fill, f->first, nv * sizeof *fill);
    for (int k = 0; k < f->n_arcs; k++) {
        int a = fill[f->tail[k]]++, b = fill[f->head[k]]++;
        f->to[a] = f->head[k]; f->rev[a] = b; f->cap[a] = f->cap0[k]; f->cost[a] = f->cost0[k];
        f->to[b] = f->tail[k]; f->rev[b] = a; f->cap[b] = 0;
        f->cost[b] = cost_sub(zero_cost, &f->cost0[k]);
        f->pos[k] = a;
    }
    free(fill);
    f->built = 1;
    return 0;
}

/* One Dijkstra on reduced costs from s, stopped when H is settled or when the least
 * distance left reaches pot[s]: H is then no nearer, so the cycle through s would not be
 * negative. Moves the potentials (pot[H] unchanged) as if H were at d(H), or at pot[s]
 * when stopped (every node settled is nearer, every one left at least as far). When H is
 * reached, stores the true cost of the path in *path_cost (negative) and returns 1;
 * returns 0 otherwise. */
static int shortest_path(struct flow *f, int s, struct flow_cost *path_cost)
{
    const struct flow_cost bound = f->pot[s];
    const int t = FLOW_HUB;
    int n_heap = 0, n_touched = 0;
    f->dist[s] = zero_cost;
    f->parent[s] = -1;
    f->state[s] = QUEUED;
    f->touched[n_touched++] = s;
    heap_push(f->heap, &n_heap, (struct hent){f->dist[s], s});
    int found = 0, stopped = 0;
    while (n_heap > 0) {
        struct hent top = heap_pop(f->heap, &n_heap);
        int u = top.node;
        if (f->state[u] == SETTLED)
            continue;   /* a stale entry: u was pushed again with a smaller distance */
        if (cost_cmp(&top.d, &bound) >= 0) {
            stopped = 1;    /* H is no nearer than that: the cycle would not be negative */
            break;
        }
        f->state[u] = SETTLED;
        if (u == t) {
            found = 1;
            break;
        }
        for (int a = f->first[u]; a < f->first[u + 1]; a++) {
            int v = f->to[a];
            if (f->cap[a] <= 0 || f->state[v] == SETTLED)
                continue;
            struct flow_cost nd = cost_add(f->dist[u], &f->cost[a]);
            nd = cost_add(nd, &f->pot[u]);
            nd = cost_sub(nd, &f->pot[v]);
            if (f->state[v] == UNSEEN || cost_cmp(&nd, &f->dist[v]) < 0) {
                if (f->state[v] == UNSEEN)
                    f->touched[n_touched++] = v;
                f->dist[v] = nd;
                f->parent[v] = a;
                f->state[v] = QUEUED;
                heap_push(f->heap, &n_heap, (struct hent){nd, v});
            }
        }
    }
    if (found || stopped) {
        struct flow_cost dt = found ? f->dist[t] : bound;
        /* Reduced path cost = true cost + pot[s] - pot[t]. */
        *path_cost = cost_add(cost_sub(dt, &f->pot[s]), &f->pot[t]);
        for (int k = 0; k < n_touched; k++) {
            int v = f->touched[k];
            if (f->state[v] == SETTLED && v != t)
                f->pot[v] = cost_sub(cost_add(f->pot[v], &f->dist[v]), &dt);
        }
    }
    for (int k = 0; k < n_touched; k++)
        f->state[f->touched[k]] = UNSEEN;
    f->work += n_touched;
    return found;
}

int flow_insert(struct flow *f, int arc)
{
    if (f == NULL || f->built != 1 || arc < 0 || arc >= f->n_arcs || f->tail[arc] != FLOW_HUB)
        return -EINVAL;
    const int u = f->head[arc], e = f->pos[arc];
    if (f->cap[e] == INT_MAX)
        return -EINVAL;
    f->cap[e] += 1;
    if (!f->active[u]) {
        int any = 0;
        for (int a = f->first[u]; a < f->first[u + 1]; a++) {
            if (f->cap[a] <= 0)
                continue;
            struct flow_cost p = cost_sub(f->pot[f->to[a]], &f->cost[a]);
            if (!any || cost_cmp(&p, &f->pot[u]) > 0)
                f->pot[u] = p;
            any = 1;
        }
        f->active[u] = 1;
    }
    struct flow_cost cycle;     /* the entry arc costs 0, so the cycle costs what the path does */
    if (!shortest_path(f, u, &cycle))
        return 0;               /* no negative cycle through the new unit */
    for (int v = FLOW_HUB; v != u;) {
        int a = f->parent[v];
        f->cap[a] -= 1;
        f->cap[f->rev[a]] += 1;
        v = f->to[f->rev[a]];
    }
    f->cap[e] -= 1;
    f->cap[f->rev[e]] += 1;
    return 1;
}

long long flow_work(const struct flow *f)
{
    return f != NULL ? f->work : 0;
}

int flow_amount(const struct flow *f, int arc)
{
    if (f == NULL || f->built != 1 || arc < 0 || arc >= f->n_arcs)
        return -1;
    return f->cap[f->rev[f->pos[arc]]];
}
