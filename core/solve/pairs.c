/* solve/pairs: optimal maximum-weight matching on a general graph (Edmonds' blossom
 * algorithm, primal-dual). It must stay exact (integer weights only once the input
 * is read) and deterministic, and it must never keep state between calls or know
 * anything of the engine.
 *
 * Objective as one weight: the lexicographic objective is folded into one int64
 * weight per pair. COVERAGE: w = C + micro with C = 1 + sum over people of their
 * largest |micro|; any matching's score lies within C / 2 of zero, so one more pair
 * always outweighs any change of score. QUALITY: w = micro * K + 1 with K = (people
 * with a usable pair) / 2 + 1 > any pair count, so the count only breaks ties of
 * score; pairs with micro < 0 are dropped (never worth taking). Every w > 0.
 *
 * LP: maximize sum w_e x_e over matchings; duals u_v >= 0 per vertex and z_B >= 0
 * per odd set ("blossom"); slack(e) = u_a + u_b + sum_{B holds a and b} z_B - w_e
 * >= 0; optimal when matched edges are tight, every blossom with z_B > 0 holds
 * (|B|-1)/2 matched edges, and every free vertex has u = 0 (weak duality). The
 * code keeps 2u_v per vertex and z_B per blossom, so edges carry 2w_e and every
 * event time below is an integer: every vertex in a tree is joined to its free
 * root by tight edges, and every free vertex carries the same dual, so all tree
 * vertices' duals share one parity and an S-S slack is even.
 *
 * Method (many alternating trees at once, as in Galil's survey and LEMON): every
 * free vertex is the root of an alternating tree of top-level blossoms labelled S
 * (even) or T (odd); matched blossoms outside trees are unlabelled. Every dual
 * moves with one clock `now` (S vertices down, T vertices up, blossoms the other
 * way), read through per-blossom offsets, so a dual step costs nothing and a
 * blossom changes label in O(1). The next event is the earliest of:
 *   1. the free vertices' dual reaches 0 (now = the largest weight): optimal;
 *   2. an unlabelled vertex's best edge from an S vertex gets tight: its blossom
 *      joins that tree as T, and its mate's blossom as S. Every non-S vertex keeps
 *      its best edge from an S vertex, so a blossom that becomes unlabelled costs
 *      one queue entry per vertex, not a scan of its edges;
 *   3. an S-S edge between two top-level blossoms gets tight: inside one tree,
 *      shrink the odd cycle into a new S blossom; across two trees, augment along
 *      both tree paths and dissolve just those two trees (their vertices become
 *      unlabelled and rescan for their best edge). Elsewhere a best edge from a
 *      dissolved vertex is left stale and rescanned only when it comes due: its key
 *      is a lower bound of the true one, so no event is missed;
 *   4. a T blossom's dual reaches 0: expand it (the even path through it stays in
 *      the tree, the rest becomes unlabelled).
 * Ties go to 3, then 2, then 4: augmenting before growing keeps the trees that an
 * augmentation dissolves small (on equal weights this is 100 times faster). Event
 * times never decrease, so the events wait in monotone radix queues, with stale
 * entries recognised when taken. A blossom's vertices form a group: a new blossom
 * takes over its largest child's group and moves only the other children's
 * vertices in, and expanding it moves them back out.
 *
 * Complexity: n people, m merged pairs. Reading and merging the pairs is O(n + m)
 * (two counting sorts). Between two augmentations each vertex becomes S at most
 * once (S lasts until its tree is dissolved), which scans its edges: O(m) in all,
 * as are a dissolution's and the stale best edges' rescans; there are O(n) grows,
 * shrinks and expansions, each O(n) at worst. A queue entry moves at most 64
 * times. With at most n / 2 augmentations: O(n^3 + n m) time at worst, and O(n + m)
 * memory (queues are compacted to their live entries when they pass 2(n + m)).
 * In practice the work is in the last augmentations, when few free vertices are
 * left and trees are large. Measured (-O2, one core, CPU time, a shared machine):
 * 10,000 people and 100,000 random pairs take 0.02 to 0.11 s over six score
 * distributions and both objectives, where LEMON 1.3.1's MaxWeightedMatching takes
 * 0.04 to 0.19 s on the same graphs (and 1,000 people with all pairs: 0.17 s
 * against 2.1 s).
 *
 * Exactness: let W be the largest weight (refused above INT64_MAX / 16). Every
 * doubled vertex dual stays in [0, 2W] (it never falls below the free vertices',
 * and now <= W), every blossom dual in [0, W]; a dual base (ub + offset) lies in
 * [-W, 3W], an offset in [-2W, 2W] (an alternating sum of increasing times), a
 * stored ub in [-5W, 5W], and every key, slack and intermediate sum within 9W.
 *
 * Determinism: pairs are sorted and merged first, so edge ids and adjacency order
 * do not depend on the input order, and nothing depends on addresses.
 */
#include "solve/pairs.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCORE_MAX 1e9
#define WEIGHT_LIMIT (LLONG_MAX / 16)

enum { LAB_NONE = 0, LAB_S = 1, LAB_T = 2 };

static long long score_micro(double score)
{
    return llround(score * 1e6);
}

static int check_input(const struct solve_pairs_input *in)
{
    if (in == NULL || in->n_people < 0 || in->n_edges < 0)
        return -EINVAL;
    if (in->objective != SOLVE_PAIRS_COVERAGE && in->objective != SOLVE_PAIRS_QUALITY)
        return -EINVAL;
    if (in->n_edges > 0 && in->edges == NULL)
        return -EINVAL;
    for (int e = 0; e < in->n_edges; e++) {
        const struct solve_pair_edge *ed = &in->edges[e];
        if (ed->a < 0 || ed->a >= in->n_people || ed->b < 0 || ed->b >= in->n_people ||
            ed->a == ed->b)
            return -EINVAL;
        /* !(x <= max) also catches NaN, which fails every comparison. */
        if (isnan(ed->score) || !(fabs(ed->score) <= SCORE_MAX))
            return -EINVAL;
    }
    return 0;
}

/* The usable pairs, sorted by (a, b) with a < b, one entry per pair with its
 * highest score. */
struct pairs { int m; int *a, *b; long long *micro; };

static void pairs_free(struct pairs *p)
{
    free(p->a);
    free(p->b);
    free(p->micro);
}

/* Two stable counting sorts (by b, then by a): O(n + m) and independent of the
 * order of the input. */
static int merge_pairs(const struct solve_pairs_input *in, struct pairs *out)
{
    const int n = in->n_people;
    size_t cap = in->n_edges > 0 ? (size_t)in->n_edges : 1;
    int *a1 = malloc(cap * sizeof *a1), *b1 = malloc(cap * sizeof *b1);
    int *a2 = malloc(cap * sizeof *a2), *b2 = malloc(cap * sizeof *b2);
    long long *w1 = malloc(cap * sizeof *w1), *w2 = malloc(cap * sizeof *w2);
    int *cnt = malloc(((size_t)n + 1) * sizeof *cnt);
    int rc = -ENOMEM;
    if (!a1 || !b1 || !a2 || !b2 || !w1 || !w2 || !cnt)
        goto out;
    int m = 0;
    for (int e = 0; e < in->n_edges; e++) {
        const struct solve_pair_edge *ed = &in->edges[e];
        long long micro = score_micro(ed->score);
        if (in->objective == SOLVE_PAIRS_QUALITY && micro < 0)
            continue;
        a1[m] = ed->a < ed->b ? ed->a : ed->b;
        b1[m] = ed->a < ed->b ? ed->b : ed->a;
        w1[m] = micro;
        m++;
    }
    memset(cnt, 0, ((size_t)n + 1) * sizeof *cnt);
    for (int e = 0; e < m; e++)
        cnt[b1[e] + 1]++;
    for (int v = 0; v < n; v++)
        cnt[v + 1] += cnt[v];
    for (int e = 0; e < m; e++) {
        int p = cnt[b1[e]]++;
        a2[p] = a1[e]; b2[p] = b1[e]; w2[p] = w1[e];
    }
    memset(cnt, 0, ((size_t)n + 1) * sizeof *cnt);
    for (int e = 0; e < m; e++)
        cnt[a2[e] + 1]++;
    for (int v = 0; v < n; v++)
        cnt[v + 1] += cnt[v];
    for (int e = 0; e < m; e++) {
        int p = cnt[a2[e]]++;
        a1[p] = a2[e]; b1[p] = b2[e]; w1[p] = w2[e];
    }
    int k = 0;
    for (int e = 0; e < m; e++) {
        if (k > 0 && a1[k - 1] == a1[e] && b1[k - 1] == b1[e]) {
            if (w1[e] > w1[k - 1])
                w1[k - 1] = w1[e];
        } else {
            a1[k] = a1[e]; b1[k] = b1[e]; w1[k] = w1[e];
            k++;
        }
    }
    out->m = k;
    out->a = a1; out->b = b1; out->micro = w1;
    a1 = b1 = NULL;
    w1 = NULL;
    rc = 0;
out:
    free(a1); free(b1); free(a2); free(b2); free(w1); free(w2); free(cnt);
    return rc;
}

/* Folds the objective into one positive weight per pair (see the top of the
 * file), or refuses with -EOVERFLOW. */
static int make_weights(const struct solve_pairs_input *in, const struct pairs *p,
                        long long *weight)
{
    const int n = in->n_people;
    if (p->m == 0)
        return 0;
    long long most = LLONG_MIN;
    for (int e = 0; e < p->m; e++)
        if (p->micro[e] > most)
            most = p->micro[e];
    if (in->objective == SOLVE_PAIRS_QUALITY) {
        unsigned char *used = calloc((size_t)n, 1);
        if (used == NULL)
            return -ENOMEM;
        long long active = 0;
        for (int e = 0; e < p->m; e++) {
            active += !used[p->a[e]] + !used[p->b[e]];
            used[p->a[e]] = used[p->b[e]] = 1;
        }
        free(used);
        long long k = active / 2 + 1;
        if (most > (WEIGHT_LIMIT - 1) / k)
            return -EOVERFLOW;
        for (int e = 0; e < p->m; e++)
            weight[e] = p->micro[e] * k + 1;
        return 0;
    }
    long long *big = calloc((size_t)n, sizeof *big);
    if (big == NULL)
        return -ENOMEM;
    for (int e = 0; e < p->m; e++) {
        long long x = p->micro[e] < 0 ? -p->micro[e] : p->micro[e];
        if (x > big[p->a[e]]) big[p->a[e]] = x;
        if (x > big[p->b[e]]) big[p->b[e]] = x;
    }
    long long c = 1;
    int rc = 0;
    for (int v = 0; v < n && rc == 0; v++) {
        if (big[v] > WEIGHT_LIMIT - c)
            rc = -EOVERFLOW;
        else
            c += big[v];
    }
    free(big);
    if (rc != 0 || (most > 0 && most > WEIGHT_LIMIT - c))
        return -EOVERFLOW;
    for (int e = 0; e < p->m; e++)
        weight[e] = c + p->micro[e];
    return 0;
}

/* ---- monotone radix queues of (key, id) ----
 * Event times never go back, so a radix heap fits: a key lives in the bucket of
 * the highest bit where it differs from `last`, the last key taken. A key pushed is
 * never below `last`: only the least key of all queues is ever taken, and every
 * later event, so every later push, comes at that time or after. Each bucket
 * caches its least key, so a queue's least key is known without taking it; taking
 * redistributes one bucket. Entries are never updated in place: stale ones are
 * recognised when taken, or dropped by a compaction when they pile up. */

struct qent { unsigned long long key; int id; };
struct bucket { struct qent *a; int n, cap; };

struct rqueue {
    struct bucket b[64];
    unsigned long long least[64];   /* least key in each non-empty bucket */
    unsigned long long nonempty;    /* bit i: bucket i has entries */
    unsigned long long last;
    long long size;
    int err;
};

static int bit_length(unsigned long long x)
{
#if defined(__GNUC__) || defined(__clang__)
    return x != 0 ? 64 - __builtin_clzll(x) : 0;
#else
    int l = 0;
    for (; x != 0; x >>= 1)
        l++;
    return l;
#endif
}

static int lowest_bit(unsigned long long x)    /* x != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(x);
#else
    int i = 0;
    while (!(x & 1)) {
        x >>= 1;
        i++;
    }
    return i;
#endif
}

/* On failure sets q->err and drops x: the solve is abandoned anyway. */
static void bucket_add(struct rqueue *q, int i, struct qent x)
{
    struct bucket *b = &q->b[i];
    if (b->n == b->cap) {
        if (b->cap > INT_MAX / 2) {
            q->err = -ENOMEM;
            return;
        }
        int ncap = b->cap ? 2 * b->cap : 16;
        struct qent *na = realloc(b->a, (size_t)ncap * sizeof *na);
        if (na == NULL) {
            q->err = -ENOMEM;
            return;
        }
        b->a = na;
        b->cap = ncap;
    }
    if (b->n == 0 || x.key < q->least[i])
        q->least[i] = x.key;
    b->a[b->n++] = x;
    q->nonempty |= 1ULL << i;
}

static void rq_push(struct rqueue *q, unsigned long long key, int id)
{
    bucket_add(q, bit_length(key ^ q->last), (struct qent){key, id});
    q->size++;
}

/* The least key, without taking it; 0 when the queue is empty. */
static int rq_peek(const struct rqueue *q, unsigned long long *key)
{
    if (q->nonempty == 0)
        return 0;
    *key = q->least[lowest_bit(q->nonempty)];
    return 1;
}

/* Takes an entry with the least key (the queue is not empty): the lowest bucket's
 * least key becomes `last`, and that bucket's entries move to lower buckets. */
static struct qent rq_take(struct rqueue *q)
{
    int i = lowest_bit(q->nonempty);
    if (i > 0) {
        struct bucket *b = &q->b[i];
        q->last = q->least[i];
        q->nonempty &= ~(1ULL << i);
        int n = b->n;
        b->n = 0;
        for (int k = 0; k < n; k++)
            bucket_add(q, bit_length(b->a[k].key ^ q->last), b->a[k]);
    }
    struct bucket *b0 = &q->b[0];
    struct qent x = b0->a[--b0->n];
    if (b0->n == 0)
        q->nonempty &= ~1ULL;
    q->size--;
    return x;
}

static void rq_free(struct rqueue *q)
{
    for (int i = 0; i < 64; i++)
        free(q->b[i].a);
}

/* ---- the solver state ---- */

/* A nontrivial blossom: its k (odd) children in cycle order, child[0] holding the
 * base; edge i joins ex[i] (in child[i]) and ey[i] (in child[i+1 mod k]); the
 * edges at odd i are matched. */
struct cycle { int *child, *ex, *ey; int k, cap; };

/* The queues of events 2, 3 and 4 (see the top of the file). */
enum { H_GROW, H_TIGHT, H_EXPAND };

struct solver {
    int n, m;
    const int *ea, *eb;            /* merged pairs, a < b */
    long long *ew;                 /* 2 * weight of each pair */
    int *adj_first, *adj_to, *adj_e;
    long long *adj_w;              /* 2 * weight of the arc's pair */
    long long now, u0;

    /* Per vertex. */
    long long *ub;                 /* dual base, plus goff[grp]: see dual_base */
    long long *bestk;              /* non-S: dual_base(s) - 2w of its best edge from S vertex s */
    int *mate, *grp, *lnext, *best;   /* grp: the group of v's top-level blossom */

    /* Per blossom id: 0..n-1 are the vertices, n..2n-1 the nontrivial blossoms. A
     * labelled top-level blossom hangs from its parent in the tree of root troot by
     * the edge lin (inside it) - lout (in the parent; -1 at a root); an S blossom's
     * edge is its matched one. Its vertices run first .. last along lnext. */
    int *label, *troot, *lin, *lout, *base, *parent, *first, *last;
    int *size, *gid, *bigchild;    /* leaves; group of a top-level blossom; kept child */
    long long *db;                 /* blossom dual base, indexed id - n */
    struct cycle *cyc;             /* indexed id - n */
    int *free_ids, n_free;

    /* Groups: each top-level blossom owns one, holding its vertices. A new blossom
     * takes over its largest child's group and moves the others' vertices in;
     * expanding it moves them back out. */
    int *gtop;                     /* the top-level blossom owning the group */
    long long *goff;               /* offset of its vertices' dual bases */
    int *free_grp, n_free_grp;

    /* Top-level blossoms of each tree (by root), as linked nodes; stale entries are
     * skipped when a tree is dissolved. */
    int *tl_head, *tl_id, *tl_next, tl_cap, tl_free;

    struct rqueue q[3];            /* events by time: ids are vertices, pairs, blossoms */
    long long *gkey;               /* per vertex: key of its current grow entry, or -1 */
    unsigned *mark, mark_now;      /* 2n entries */
    int *stack;                    /* make_base: 2n + 2 entries */
    int *list;                     /* scratch, n entries */
    int err;
};

static long long vsign(int lab)
{
    return lab == LAB_S ? -1 : lab == LAB_T ? 1 : 0;
}

/* A blossom dual moves against its vertices: up while S, down while T. */
static long long dsign(int lab)
{
    return -vsign(lab);
}

/* Vertex v's dual is dual_base(v) - now while S, + now while T, and itself while
 * unlabelled; the offset lets a whole blossom change label in O(1). */
static long long dual_base(const struct solver *s, int v)
{
    return s->ub[v] + s->goff[s->grp[v]];
}

static int top_of(const struct solver *s, int v)
{
    return s->gtop[s->grp[v]];
}

static int other_end(const struct solver *s, int e, int v)
{
    return s->ea[e] == v ? s->eb[e] : s->ea[e];
}

static unsigned next_stamp(unsigned *arr, size_t len, unsigned *now)
{
    if (++*now == 0) {
        memset(arr, 0, len * sizeof *arr);
        *now = 1;
    }
    return *now;
}

/* Whether an entry taken from queue which still stands for an event. A grow entry
 * can be current yet rest on a stale best edge: see solver_run. */
static int entry_current(const struct solver *s, int which, struct qent x)
{
    switch (which) {
    case H_GROW:
        return s->label[top_of(s, x.id)] == LAB_NONE && s->best[x.id] >= 0 &&
               (long long)x.key == s->gkey[x.id];
    case H_TIGHT: {
        int a = s->ea[x.id], b = s->eb[x.id], ta = top_of(s, a), tb = top_of(s, b);
        return ta != tb && s->label[ta] == LAB_S && s->label[tb] == LAB_S &&
               (long long)(2 * x.key) == dual_base(s, a) + dual_base(s, b) - s->ew[x.id];
    }
    default:
        return s->parent[x.id] == -1 && s->label[x.id] == LAB_T &&
               (long long)x.key == s->db[x.id - s->n];
    }
}

/* Drops the entries that no longer stand for anything, when they pile up. */
static void rq_compact(struct solver *s, int which)
{
    struct rqueue *q = &s->q[which];
    q->nonempty = 0;
    q->size = 0;
    for (int i = 0; i < 64; i++) {
        struct bucket *b = &q->b[i];
        int k = 0;
        for (int j = 0; j < b->n; j++)
            if (entry_current(s, which, b->a[j])) {
                if (k == 0 || b->a[j].key < q->least[i])
                    q->least[i] = b->a[j].key;
                b->a[k++] = b->a[j];
            }
        b->n = k;
        if (k > 0)
            q->nonempty |= 1ULL << i;
        q->size += k;
    }
}

static void push_grow(struct solver *s, int v, long long key)
{
    s->gkey[v] = key;
    rq_push(&s->q[H_GROW], (unsigned long long)key, v);
}

/* When an S-S pair gets tight: its slack is ub[v] + ub[w] - 2w - 2 now, even. */
static unsigned long long tight_time(const struct solver *s, int v, int w, long long w2)
{
    return (unsigned long long)((dual_base(s, v) + dual_base(s, w) - w2) / 2);
}

static void tree_add(struct solver *s, int root, int id)
{
    if (s->tl_free < 0) {
        if (s->tl_cap > INT_MAX / 2) {
            s->err = -ENOMEM;
            return;
        }
        int ncap = 2 * s->tl_cap;
        int *nid = realloc(s->tl_id, (size_t)ncap * sizeof *nid);
        if (nid == NULL) {
            s->err = -ENOMEM;
            return;
        }
        s->tl_id = nid;
        int *nnext = realloc(s->tl_next, (size_t)ncap * sizeof *nnext);
        if (nnext == NULL) {
            s->err = -ENOMEM;
            return;
        }
        s->tl_next = nnext;
        for (int i = s->tl_cap; i < ncap; i++)
            s->tl_next[i] = i + 1 < ncap ? i + 1 : -1;
        s->tl_free = s->tl_cap;
        s->tl_cap = ncap;
    }
    int node = s->tl_free;
    s->tl_free = s->tl_next[node];
    s->tl_id[node] = id;
    s->tl_next[node] = s->tl_head[root];
    s->tl_head[root] = node;
}

/* Changes the label of top-level blossom x, keeping every dual value. */
static void set_label(struct solver *s, int x, int lab)
{
    int old = s->label[x];
    s->goff[s->gid[x]] += (vsign(old) - vsign(lab)) * s->now;
    if (x >= s->n)
        s->db[x - s->n] += (dsign(old) - dsign(lab)) * s->now;
    s->label[x] = lab;
}

/* v has just become S (its top blossom labelled, groups current): offer its edges. */
static void scan_new_s(struct solver *s, int v)
{
    const int tv = top_of(s, v);
    const long long ubv = dual_base(s, v);
    for (int a = s->adj_first[v]; a < s->adj_first[v + 1]; a++) {
        int w = s->adj_to[a], tw = top_of(s, w);
        if (tw == tv)
            continue;
        if (s->label[tw] == LAB_S) {
            rq_push(&s->q[H_TIGHT], tight_time(s, v, w, s->adj_w[a]), s->adj_e[a]);
        } else {
            long long k = ubv - s->adj_w[a];
            if (s->best[w] < 0 || k < s->bestk[w]) {
                s->best[w] = s->adj_e[a];
                s->bestk[w] = k;
                if (s->label[tw] == LAB_NONE)
                    push_grow(s, w, k + dual_base(s, w));
            }
        }
    }
}

static void scan_leaves_new_s(struct solver *s, int x)
{
    for (int v = s->first[x];; v = s->lnext[v]) {
        scan_new_s(s, v);
        if (v == s->last[x])
            break;
    }
}

/* Recomputes the best edge from an S vertex into non-S vertex v, and its grow
 * entry when v is unlabelled. */
static void recompute_best(struct solver *s, int v)
{
    int be = -1;
    long long bk = 0;
    for (int a = s->adj_first[v]; a < s->adj_first[v + 1]; a++) {
        int w = s->adj_to[a];
        if (s->label[top_of(s, w)] == LAB_S) {
            long long k = dual_base(s, w) - s->adj_w[a];
            if (be < 0 || k < bk) {
                be = s->adj_e[a];
                bk = k;
            }
        }
    }
    s->best[v] = be;
    s->bestk[v] = bk;
    if (be >= 0 && s->label[top_of(s, v)] == LAB_NONE)
        push_grow(s, v, bk + dual_base(s, v));
    else
        s->gkey[v] = -1;
}

static void grow(struct solver *s, int v)
{
    int sv = other_end(s, s->best[v], v);
    int x = top_of(s, v), root = s->troot[top_of(s, sv)];
    s->troot[x] = root;
    s->lin[x] = v;
    s->lout[x] = sv;
    set_label(s, x, LAB_T);
    tree_add(s, root, x);
    if (x >= s->n)
        rq_push(&s->q[H_EXPAND], (unsigned long long)s->db[x - s->n], x);
    int y = s->mate[s->base[x]], yb = top_of(s, y);
    s->troot[yb] = root;
    s->lin[yb] = y;
    s->lout[yb] = s->base[x];
    set_label(s, yb, LAB_S);
    tree_add(s, root, yb);
    scan_leaves_new_s(s, yb);
}

/* The S blossom above S blossom x in its tree, or -1 at the root. */
static int tree_up(const struct solver *s, int x)
{
    if (s->lout[x] < 0)
        return -1;
    int t = top_of(s, s->lout[x]);
    return top_of(s, s->lout[t]);
}

static int alloc_blossom(struct solver *s, int k)
{
    int id = s->free_ids[--s->n_free];
    struct cycle *c = &s->cyc[id - s->n];
    if (c->cap < k) {
        int *nc = realloc(c->child, (size_t)k * sizeof *nc);
        if (nc != NULL)
            c->child = nc;
        int *nx = realloc(c->ex, (size_t)k * sizeof *nx);
        if (nx != NULL)
            c->ex = nx;
        int *ny = realloc(c->ey, (size_t)k * sizeof *ny);
        if (ny != NULL)
            c->ey = ny;
        if (nc == NULL || nx == NULL || ny == NULL) {
            s->n_free++;
            s->err = -ENOMEM;
            return -1;
        }
        c->cap = k;
    }
    c->k = k;
    return id;
}

/* S-S edge (a, b) in one tree: shrink the cycle through their nearest common S
 * blossom into a new S blossom. */
static void shrink(struct solver *s, int a, int b)
{
    const int ta = top_of(s, a), tb = top_of(s, b);
    unsigned st = next_stamp(s->mark, 2 * (size_t)s->n, &s->mark_now);
    int x = ta, y = tb, lca = -1;
    while (lca < 0) {
        if (x >= 0) {
            if (s->mark[x] == st)
                lca = x;
            else {
                s->mark[x] = st;
                x = tree_up(s, x);
            }
        }
        if (lca < 0 && y >= 0) {
            if (s->mark[y] == st)
                lca = y;
            else {
                s->mark[y] = st;
                y = tree_up(s, y);
            }
        }
    }
    int n1 = 0, n2 = 0;
    for (x = ta; x != lca; x = tree_up(s, x))
        n1 += 2;
    for (x = tb; x != lca; x = tree_up(s, x))
        n2 += 2;
    const int k = 1 + n1 + n2;
    int nb = alloc_blossom(s, k);
    if (nb < 0)
        return;
    struct cycle *c = &s->cyc[nb - s->n];

    /* Down from the common blossom to a's side (tree edges read from below), across
     * (a, b), and up b's side back to it. */
    int p = n1;
    for (x = ta; x != lca;) {
        c->child[p] = x;
        c->ex[p - 1] = s->lout[x];
        c->ey[p - 1] = s->lin[x];
        int t = top_of(s, s->lout[x]);
        p--;
        c->child[p] = t;
        c->ex[p - 1] = s->lout[t];
        c->ey[p - 1] = s->lin[t];
        x = top_of(s, s->lout[t]);
        p--;
    }
    c->child[0] = lca;
    c->ex[n1] = a;
    c->ey[n1] = b;
    p = n1 + 1;
    for (x = tb; x != lca;) {
        c->child[p] = x;
        c->ex[p] = s->lin[x];
        c->ey[p] = s->lout[x];
        p++;
        int t = top_of(s, s->lout[x]);
        c->child[p] = t;
        c->ex[p] = s->lin[t];
        c->ey[p] = s->lout[t];
        p++;
        x = top_of(s, s->lout[t]);
    }

    /* Freeze the children's duals, remembering which were T (their vertices turn S). */
    int *was_t = s->list;
    for (int i = 0; i < k; i++) {
        int ch = c->child[i];
        was_t[i] = s->label[ch] == LAB_T;
        set_label(s, ch, LAB_NONE);
        s->parent[ch] = nb;
        if (i + 1 < k)
            s->lnext[s->last[ch]] = s->first[c->child[i + 1]];
    }
    s->first[nb] = s->first[c->child[0]];
    s->last[nb] = s->last[c->child[k - 1]];
    s->parent[nb] = -1;
    s->base[nb] = s->base[lca];
    s->troot[nb] = s->troot[lca];
    s->lin[nb] = s->lin[lca];
    s->lout[nb] = s->lout[lca];
    s->label[nb] = LAB_NONE;
    s->db[nb - s->n] = 0;
    int big = c->child[0];
    s->size[nb] = 0;
    for (int i = 0; i < k; i++) {
        s->size[nb] += s->size[c->child[i]];
        if (s->size[c->child[i]] > s->size[big])
            big = c->child[i];
    }
    const int g = s->gid[big];
    for (int i = 0; i < k; i++) {
        int ch = c->child[i], h = s->gid[ch];
        if (ch == big)
            continue;
        for (int v = s->first[ch];; v = s->lnext[v]) {
            s->ub[v] += s->goff[h] - s->goff[g];
            s->grp[v] = g;
            if (v == s->last[ch])
                break;
        }
        s->free_grp[s->n_free_grp++] = h;
    }
    s->gid[nb] = g;
    s->gtop[g] = nb;
    s->bigchild[nb] = big;
    set_label(s, nb, LAB_S);
    tree_add(s, s->troot[nb], nb);
    for (int i = 0; i < k; i++)
        if (was_t[i])
            scan_leaves_new_s(s, c->child[i]);
}

static void rotate_left(int *arr, int k, int j)
{
    for (int pass = 0; pass < 3; pass++) {
        int lo = pass == 1 ? j : 0, hi = pass == 0 ? j - 1 : k - 1;
        for (; lo < hi; lo++, hi--) {
            int t = arr[lo];
            arr[lo] = arr[hi];
            arr[hi] = t;
        }
    }
}

/* Makes v the base of blossom b0: v is left for the caller to match, and every
 * other vertex of b0 is matched inside it. Iterative; each nested blossom is
 * visited at most once. */
static void make_base(struct solver *s, int b0, int v0)
{
    int sp = 0;
    s->stack[sp++] = b0;
    s->stack[sp++] = v0;
    while (sp > 0) {
        int v = s->stack[--sp], b = s->stack[--sp];
        struct cycle *c = &s->cyc[b - s->n];
        int ch = v;
        while (s->parent[ch] != b)
            ch = s->parent[ch];
        const int k = c->k;
        int j = 0;
        while (c->child[j] != ch)
            j++;
        if (ch >= s->n) {
            s->stack[sp++] = ch;
            s->stack[sp++] = v;
        }
        /* The even path from child j to child 0 flips: forward when j is odd,
         * backward when even; its edges of the other parity become matched. */
        int from = j & 1 ? j + 1 : 0, to = j & 1 ? k - 1 : j - 2;
        for (int i = from; i <= to; i += 2) {
            int x = c->ex[i], y = c->ey[i];
            int cx = c->child[i], cy = c->child[i + 1 < k ? i + 1 : 0];
            s->mate[x] = y;
            s->mate[y] = x;
            if (cx >= s->n) {
                s->stack[sp++] = cx;
                s->stack[sp++] = x;
            }
            if (cy >= s->n) {
                s->stack[sp++] = cy;
                s->stack[sp++] = y;
            }
        }
        if (j > 0) {
            rotate_left(c->child, k, j);
            rotate_left(c->ex, k, j);
            rotate_left(c->ey, k, j);
        }
        s->base[b] = v;
    }
}

/* Flips the tree path from S vertex v up to its root; v gets partner. */
static void augment_side(struct solver *s, int v, int partner)
{
    for (;;) {
        int x = top_of(s, v);
        if (x >= s->n)
            make_base(s, x, v);
        s->mate[v] = partner;
        if (s->lout[x] < 0)
            break;
        int t = top_of(s, s->lout[x]);
        int sv = s->lout[t], j = s->lin[t];
        if (t >= s->n)
            make_base(s, t, j);
        s->mate[j] = sv;
        v = sv;
        partner = j;
    }
}

/* Unlabels every blossom of the trees rooted at r1 and r2, then gives each of
 * their vertices its best edge from an S vertex. A non-S vertex elsewhere whose
 * best edge came from them keeps it, stale: see solver_run. */
static void dissolve(struct solver *s, int r1, int r2)
{
    int nv = 0;
    for (int pass = 0; pass < 2; pass++) {
        int r = pass == 0 ? r1 : r2;
        int node = s->tl_head[r];
        while (node >= 0) {
            int x = s->tl_id[node], nx = s->tl_next[node];
            if (s->parent[x] == -1 && s->label[x] != LAB_NONE && s->troot[x] == r) {
                set_label(s, x, LAB_NONE);
                for (int v = s->first[x];; v = s->lnext[v]) {
                    s->list[nv++] = v;
                    if (v == s->last[x])
                        break;
                }
            }
            s->tl_next[node] = s->tl_free;
            s->tl_free = node;
            node = nx;
        }
        s->tl_head[r] = -1;
    }
    for (int i = 0; i < nv; i++)
        recompute_best(s, s->list[i]);
}

static void augment(struct solver *s, int a, int b)
{
    int r1 = s->troot[top_of(s, a)], r2 = s->troot[top_of(s, b)];
    augment_side(s, a, b);
    augment_side(s, b, a);
    dissolve(s, r1, r2);
}

/* T blossom b reached dual 0: its children become top-level; the even path from
 * the entry child to the base child stays in the tree, the rest is unlabelled. */
static void expand(struct solver *s, int b)
{
    struct cycle *c = &s->cyc[b - s->n];
    const int k = c->k, entry = s->lin[b], root = s->troot[b];
    int ch = entry;
    while (s->parent[ch] != b)
        ch = s->parent[ch];
    int j = 0;
    while (c->child[j] != ch)
        j++;
    set_label(s, b, LAB_NONE);
    int *lab = s->list;
    const int g = s->gid[b];
    for (int i = 0; i < k; i++) {
        int x = c->child[i];
        lab[i] = LAB_NONE;
        s->parent[x] = -1;
        if (x == s->bigchild[b]) {
            s->gid[x] = g;
            s->gtop[g] = x;
            continue;
        }
        int h = s->free_grp[--s->n_free_grp];
        s->gid[x] = h;
        s->gtop[h] = x;
        s->goff[h] = s->goff[g];
        for (int v = s->first[x];; v = s->lnext[v]) {
            s->grp[v] = h;
            if (v == s->last[x])
                break;
        }
    }
    lab[j] = LAB_T;
    s->lin[ch] = entry;
    s->lout[ch] = s->lout[b];
    for (int i = j, cur = LAB_T; i != 0;) {
        int nx, here, there;
        if (j & 1) {
            here = c->ex[i];
            there = c->ey[i];
            nx = i + 1 < k ? i + 1 : 0;
        } else {
            here = c->ey[i - 1];
            there = c->ex[i - 1];
            nx = i - 1;
        }
        cur = cur == LAB_T ? LAB_S : LAB_T;
        lab[nx] = cur;
        s->lin[c->child[nx]] = there;
        s->lout[c->child[nx]] = here;
        i = nx;
    }
    for (int i = 0; i < k; i++)
        if (lab[i] != LAB_NONE) {
            int x = c->child[i];
            s->troot[x] = root;
            set_label(s, x, lab[i]);
            tree_add(s, root, x);
        }
    for (int i = 0; i < k; i++) {
        int x = c->child[i];
        if (lab[i] == LAB_S) {
            scan_leaves_new_s(s, x);
        } else if (lab[i] == LAB_T) {
            if (x >= s->n)
                rq_push(&s->q[H_EXPAND], (unsigned long long)s->db[x - s->n], x);
        } else {
            for (int v = s->first[x];; v = s->lnext[v]) {
                /* A stale best edge may give a key in the past: it is only a
                 * lower bound then, and now is one too. */
                if (s->best[v] >= 0) {
                    long long key = s->bestk[v] + dual_base(s, v);
                    push_grow(s, v, key > s->now ? key : s->now);
                }
                if (v == s->last[x])
                    break;
            }
        }
    }
    s->label[b] = LAB_NONE;
    s->parent[b] = -1;
    s->free_ids[s->n_free++] = b;
}

static void solver_free(struct solver *s)
{
    free(s->ew);
    free(s->adj_first); free(s->adj_to); free(s->adj_e); free(s->adj_w);
    free(s->ub); free(s->bestk); free(s->mate); free(s->grp); free(s->lnext); free(s->best);
    free(s->label); free(s->troot); free(s->lin); free(s->lout); free(s->base);
    free(s->parent); free(s->first); free(s->last); free(s->db);
    free(s->size); free(s->gid); free(s->bigchild); free(s->gtop); free(s->goff); free(s->free_grp);
    if (s->cyc != NULL)
        for (int i = 0; i < s->n; i++) {
            free(s->cyc[i].child);
            free(s->cyc[i].ex);
            free(s->cyc[i].ey);
        }
    free(s->cyc); free(s->free_ids);
    free(s->tl_head); free(s->tl_id); free(s->tl_next);
    for (int i = 0; i < 3; i++)
        rq_free(&s->q[i]);
    free(s->gkey);
    free(s->mark); free(s->stack); free(s->list);
}

static int solver_init(struct solver *s, int n, const struct pairs *p, const long long *weight)
{
    const int m = p->m;
    const size_t nn = n > 0 ? (size_t)n : 1, n2 = 2 * nn, mm = m > 0 ? (size_t)m : 1;
    s->n = n;
    s->m = m;
    s->ea = p->a;
    s->eb = p->b;
    s->ew = malloc(mm * sizeof *s->ew);
    s->adj_first = calloc(nn + 1, sizeof *s->adj_first);
    s->adj_to = malloc(2 * mm * sizeof *s->adj_to);
    s->adj_e = malloc(2 * mm * sizeof *s->adj_e);
    s->adj_w = malloc(2 * mm * sizeof *s->adj_w);
    s->ub = malloc(nn * sizeof *s->ub);
    s->bestk = malloc(nn * sizeof *s->bestk);
    s->mate = malloc(nn * sizeof *s->mate);
    s->grp = malloc(nn * sizeof *s->grp);
    s->lnext = malloc(nn * sizeof *s->lnext);
    s->best = malloc(nn * sizeof *s->best);
    s->label = malloc(n2 * sizeof *s->label);
    s->troot = malloc(n2 * sizeof *s->troot);
    s->lin = malloc(n2 * sizeof *s->lin);
    s->lout = malloc(n2 * sizeof *s->lout);
    s->base = malloc(n2 * sizeof *s->base);
    s->parent = malloc(n2 * sizeof *s->parent);
    s->first = malloc(n2 * sizeof *s->first);
    s->last = malloc(n2 * sizeof *s->last);
    s->size = malloc(n2 * sizeof *s->size);
    s->gid = malloc(n2 * sizeof *s->gid);
    s->bigchild = malloc(n2 * sizeof *s->bigchild);
    s->gtop = malloc(nn * sizeof *s->gtop);
    s->goff = malloc(nn * sizeof *s->goff);
    s->free_grp = malloc(nn * sizeof *s->free_grp);
    s->db = calloc(nn, sizeof *s->db);
    s->cyc = calloc(nn, sizeof *s->cyc);
    s->free_ids = malloc(nn * sizeof *s->free_ids);
    s->tl_cap = 2 * n + 16;
    s->tl_head = malloc(nn * sizeof *s->tl_head);
    s->tl_id = malloc((size_t)s->tl_cap * sizeof *s->tl_id);
    s->tl_next = malloc((size_t)s->tl_cap * sizeof *s->tl_next);
    s->gkey = malloc(nn * sizeof *s->gkey);
    s->mark = calloc(n2, sizeof *s->mark);
    s->stack = malloc((n2 + 2) * sizeof *s->stack);
    s->list = malloc(nn * sizeof *s->list);
    if (!s->ew || !s->adj_first || !s->adj_to || !s->adj_e || !s->adj_w || !s->ub || !s->bestk ||
        !s->mate || !s->grp || !s->lnext || !s->best || !s->label || !s->troot || !s->lin ||
        !s->lout || !s->base || !s->parent || !s->first || !s->last || !s->size || !s->gid || !s->bigchild ||
        !s->gtop || !s->goff || !s->free_grp || !s->db || !s->cyc ||
        !s->free_ids || !s->tl_head || !s->tl_id || !s->tl_next || !s->gkey || !s->mark ||
        !s->stack || !s->list)
        return -ENOMEM;

    /* Adjacency rows, in pair order (so in neighbour order). */
    for (int e = 0; e < m; e++) {
        s->adj_first[p->a[e] + 1]++;
        s->adj_first[p->b[e] + 1]++;
    }
    for (int v = 0; v < n; v++)
        s->adj_first[v + 1] += s->adj_first[v];
    int *fill = s->list;
    memcpy(fill, s->adj_first, nn * sizeof *fill);
    s->u0 = 0;
    for (int e = 0; e < m; e++) {
        int x = fill[p->a[e]]++, y = fill[p->b[e]]++;
        s->ew[e] = 2 * weight[e];
        s->adj_to[x] = p->b[e]; s->adj_e[x] = e; s->adj_w[x] = 2 * weight[e];
        s->adj_to[y] = p->a[e]; s->adj_e[y] = e; s->adj_w[y] = 2 * weight[e];
        if (weight[e] > s->u0)
            s->u0 = weight[e];
    }

    /* Every vertex free, an S root with dual u0 = the largest weight, so every
     * slack is >= 0; every pair is an S-S edge. */
    s->now = 0;
    for (int v = 0; v < n; v++) {
        s->ub[v] = s->u0;
        s->mate[v] = -1;
        s->grp[v] = v;
        s->gtop[v] = v;
        s->goff[v] = 0;
        s->lnext[v] = -1;
        s->best[v] = -1;
        s->bestk[v] = 0;
        s->gkey[v] = -1;
        s->tl_head[v] = -1;
    }
    for (int id = 0; id < 2 * n; id++) {
        s->label[id] = id < n ? LAB_S : LAB_NONE;
        s->troot[id] = id < n ? id : -1;
        s->lin[id] = id < n ? id : -1;
        s->lout[id] = -1;
        s->base[id] = id < n ? id : -1;
        s->parent[id] = -1;
        s->size[id] = id < n ? 1 : 0;
        s->gid[id] = id < n ? id : -1;
        s->bigchild[id] = -1;
        s->first[id] = id < n ? id : -1;
        s->last[id] = id < n ? id : -1;
    }
    for (int i = 0; i < n; i++)
        s->free_ids[i] = 2 * n - 1 - i;
    s->n_free = n;
    s->n_free_grp = 0;      /* every group is in use: one per vertex */
    for (int i = 0; i < s->tl_cap; i++)
        s->tl_next[i] = i + 1 < s->tl_cap ? i + 1 : -1;
    s->tl_free = 0;
    for (int v = 0; v < n; v++)
        tree_add(s, v, v);
    for (int e = 0; e < m; e++)
        rq_push(&s->q[H_TIGHT], (unsigned long long)(s->u0 - weight[e]), e);
    return 0;
}

static void solver_run(struct solver *s)
{
    const long long base = 2 * ((long long)s->n + s->m) + 1024;
    long long limit[3] = {base, base, base};
    for (;;) {
        for (int i = 0; i < 3; i++) {
            if (s->q[i].err != 0)
                s->err = s->q[i].err;
            if (s->q[i].size > limit[i]) {
                rq_compact(s, i);
                limit[i] = 2 * s->q[i].size > base ? 2 * s->q[i].size : base;
            }
        }
        if (s->err != 0)
            return;
        /* The earliest event; on ties augmenting and shrinking go first, since
         * growing trees first only makes the trees that the next augmentation
         * dissolves bigger. Past u0 the free vertices' dual would be negative. */
        unsigned long long t = (unsigned long long)s->u0, key;
        int which = -1;
        static const int order[3] = {H_TIGHT, H_GROW, H_EXPAND};
        for (int k = 0; k < 3; k++)
            if (rq_peek(&s->q[order[k]], &key) && key < t) {
                t = key;
                which = order[k];
            }
        if (which < 0) {
            s->now = s->u0;
            return;     /* the free vertices' dual reached 0: optimal */
        }
        struct qent x = rq_take(&s->q[which]);
        if (!entry_current(s, which, x))
            continue;
        if (which == H_GROW) {
            /* A best edge whose S end was dissolved (and may be S again with
             * another base) is rescanned now: its key was a lower bound, since
             * every vertex that became S since was compared with it, so no event
             * before it was missed. */
            int v = x.id, e = s->best[v], w = other_end(s, e, v);
            if (s->label[top_of(s, w)] != LAB_S || s->bestk[v] != dual_base(s, w) - s->ew[e]) {
                recompute_best(s, v);
                continue;
            }
        }
        s->now = (long long)x.key;
        if (which == H_GROW) {
            grow(s, x.id);
        } else if (which == H_EXPAND) {
            expand(s, x.id);
        } else {
            int a = s->ea[x.id], b = s->eb[x.id];
            if (s->troot[top_of(s, a)] == s->troot[top_of(s, b)])
                shrink(s, a, b);
            else
                augment(s, a, b);
        }
    }
}

int solve_pairs(const struct solve_pairs_input *in, int *mate)
{
    int rc = check_input(in);
    if (rc != 0)
        return rc;
    if (in->n_people > 0 && mate == NULL)
        return -EINVAL;
    if (in->n_people == 0)
        return 0;
    /* Blossom ids run to 2n and arc ids to 2m. */
    if (in->n_people > INT_MAX / 2 - 16)
        return -ENOMEM;

    struct pairs p = {0};
    rc = merge_pairs(in, &p);
    if (rc != 0)
        return rc;
    if (p.m > INT_MAX / 2 - 16) {
        pairs_free(&p);
        return -ENOMEM;
    }
    long long *weight = malloc((p.m > 0 ? (size_t)p.m : 1) * sizeof *weight);
    if (weight == NULL) {
        pairs_free(&p);
        return -ENOMEM;
    }
    rc = make_weights(in, &p, weight);
    if (rc != 0) {
        free(weight);
        pairs_free(&p);
        return rc;
    }

    struct solver s = {0};
    rc = solver_init(&s, in->n_people, &p, weight);
    free(weight);
    if (rc == 0) {
        solver_run(&s);
        rc = s.err;
    }
    if (rc == 0)
        memcpy(mate, s.mate, (size_t)in->n_people * sizeof *mate);
    solver_free(&s);
    pairs_free(&p);
    return rc;
}

static int add_checked(long long *sum, long long x)
{
    if ((x > 0 && *sum > LLONG_MAX - x) || (x < 0 && *sum < LLONG_MIN - x))
        return -EOVERFLOW;
    *sum += x;
    return 0;
}

struct solve_pairs_value solve_pairs_value(const struct solve_pairs_input *in, const int *mate)
{
    const struct solve_pairs_value bad = {-1, -1};
    struct solve_pairs_value val = {0, 0};
    if (check_input(in) != 0 || (in->n_people > 0 && mate == NULL))
        return bad;
    const int n = in->n_people;
    for (int i = 0; i < n; i++) {
        int j = mate[i];
        if (j < -1 || j >= n || j == i || (j >= 0 && mate[j] != i))
            return bad;
    }
    if (n == 0)
        return val;

    /* best[i], for the lower end i of a pair in mate: its highest listed score. */
    long long *best = malloc((size_t)n * sizeof *best);
    unsigned char *listed = calloc((size_t)n, 1);
    if (best == NULL || listed == NULL) {
        val = bad;
        goto out;
    }
    for (int e = 0; e < in->n_edges; e++) {
        const struct solve_pair_edge *ed = &in->edges[e];
        if (mate[ed->a] != ed->b)
            continue;
        int lo = ed->a < ed->b ? ed->a : ed->b;
        long long micro = score_micro(ed->score);
        if (!listed[lo] || micro > best[lo])
            best[lo] = micro;
        listed[lo] = 1;
    }
    for (int i = 0; i < n; i++) {
        if (mate[i] <= i)
            continue;
        if (!listed[i] || add_checked(&val.count, 1) != 0 ||
            add_checked(&val.score_micro, best[i]) != 0) {
            val = bad;
            goto out;
        }
    }
out:
    free(best);
    free(listed);
    return val;
}
