/* lua_solve: tandem.solve.* — the bridge from Lua pools to the pure C solvers. Each primitive
 * scores only allowed pairs (never a person with themselves, never across a reporting line,
 * never a pair met before in the program unless it allows repeats) that the program's
 * prefilter lets through (at most `limit` a person, ranked in C), keeps each person's
 * `candidates` best when the program sets it, runs the optimal solver on those and hands back
 * groups with their scores and reasons. Working memory is GC-owned, so a score that raises
 * leaks nothing. */
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "index.h"
#include "lua_api_internal.h"
#include "tzone.h"
#include "solve/assign.h"
#include "solve/groups.h"
#include "solve/pairs.h"
#include "solve/rounds.h"

#define R(L) lua_api_rules(L)
#define S(L) lua_api_state(L)
#define raise lua_api_raise
#define person_arg lua_api_person_arg
#define opt_field lua_api_opt_field

struct cand { int mentor; int mentee; double score; };

static int cand_desc(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->mentee != y->mentee)
        return x->mentee < y->mentee ? -1 : 1;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->mentor - y->mentor;
}

/* Calls score(mentor, mentee, explain); returns false for nil/false (never match). explain is
 * true only when the reasons (the second value) are wanted: for the chosen pairs, not for
 * the many scored, so a score can leave its reasons table unbuilt then. */
static bool call_score(lua_State *L, int score_f, int mt, int et, double *out, bool explain)
{
    lua_pushvalue(L, score_f);
    lua_pushvalue(L, mt);
    lua_pushvalue(L, et);
    lua_pushboolean(L, explain);
    lua_call(L, 3, 2);
    int ty = lua_type(L, -2);
    bool ok = ty == LUA_TNUMBER;
    if (ok)
        *out = lua_tonumber(L, -2);
    else if (ty != LUA_TNIL && !(ty == LUA_TBOOLEAN && !lua_toboolean(L, -2)))
        raise(L, "score must return a number, nil or false (got %s)", lua_typename(L, ty));
    lua_remove(L, -2);   /* keeps the reasons (second value) on top for the caller */
    return ok;
}

/* Scores the pair at stack indices at, bt with the score function at score_f: false for
 * nil/false (never this pair); raises on a value no solver can take. Leaves the stack as it was. */
/* Whether a and b may be put together at all in the program being matched: not themselves,
 * not in each other's reporting line, not met before (unless repeat_pairs), and their time
 * zones no further apart than max_tz_gap. */
static bool allowed(const struct rules *r, const struct state *s, int a, int b)
{
    if (a == b || state_reporting_line(s, a, b))
        return false;
    const struct rules_program *rp = r->matching >= 0 ? &r->programs[r->matching] : NULL;
    if (rp && !rp->repeat_pairs && state_met(s, a, b, r->matching))
        return false;
    if (rp && rp->def.life.max_tz_gap >= 0) {
        const char *zones[2] = { s->people[a].p.timezone, s->people[b].p.timezone };
        return tz_gap(zones, 2, r->now) <= rp->def.life.max_tz_gap * 3600;
    }
    return true;
}

static bool pair_score(lua_State *L, int score_f, int at, int bt, double *score)
{
    bool ok = call_score(L, score_f, at, bt, score, false);
    lua_pop(L, 1);   /* the reasons: asked again for the chosen pairs only */
    if (ok && (!isfinite(*score) || fabs(*score) > 1e9))
        raise(L, "score must be a finite number within +-1e9");
    return ok;
}



/* Working memory of a solver call, freed by the GC even when a score function raises an error
 * half-way (a plain malloc would leak on that longjmp). */
struct scratch {
    int *cap, *mp, *ep, *assigned;
    long long *prio;
    struct cand *cand;
    struct solve_edge *edges;
    size_t ncand, capcand;
    void *extra[8];           /* the other solvers' arrays */
    struct strmap items;      /* prefilter: item -> bucket */
    int *bucket_start, *bucket_entries, *stamp, *list;   /* prefilter: CSR index and scratch */
    uint64_t *keys;           /* prefilter: rank keys when a limit applies */
    /* prefilter with a limit: the pool shuffled (by a hash of each person), and each
     * position's items */
    int *ring_pos;            /* place in the shuffled pool -> pool position */
    int *ring_place;          /* pool position -> place */
    int *item_start, *item_of;    /* position -> its item buckets (CSR) */
    uint64_t *mask;           /* position -> its buckets as bits, when there are at most 64 */
    unsigned char *want;      /* past 64: bucket -> 1 while it is one of the person at hand's */
    int *chosen;              /* the candidates taken so far */
    int n_buckets;
    /* Per item set (as bits) seen under a limit: how many open people of the pool share how
     * many of its items, and who they are at the levels few reach (pf_levels_of). */
    struct strmap lv_sets;    /* set (as 16 hex digits) -> its levels' start in lv_count/lv_at */
    int *lv_count, *lv_at;    /* level -> people at it, and their start in lv_people (-1: many) */
    int *lv_people;
    size_t n_lv_levels, cap_lv_levels, n_lv_people, cap_lv_people;
    /* One pool (peers) under a limit: for each item set T (as bits) held whole by someone,
     * the ascending positions of those who hold it (pf_subsets). */
    uint64_t *sub_key;        /* hash slot -> T (0: empty) */
    int *sub_group;           /* hash slot -> its group */
    int *sub_start, *sub_pos; /* group -> its positions in sub_pos (CSR) */
    size_t sub_slots;
    int sub_state;            /* 0: not built yet, 1: built, -1: past its memory bound */
};

static int scratch_gc(lua_State *L)
{
    struct scratch *sc = lua_touserdata(L, 1);
    free(sc->cap);
    free(sc->mp);
    free(sc->ep);
    free(sc->assigned);
    free(sc->prio);
    free(sc->cand);
    free(sc->edges);
    for (int i = 0; i < 8; i++)
        free(sc->extra[i]);
    strmap_free(&sc->items);
    free(sc->bucket_start);
    free(sc->bucket_entries);
    free(sc->stamp);
    free(sc->list);
    free(sc->keys);
    free(sc->ring_pos);
    free(sc->ring_place);
    free(sc->item_start);
    free(sc->item_of);
    free(sc->mask);
    free(sc->want);
    free(sc->chosen);
    strmap_free(&sc->lv_sets);
    free(sc->lv_count);
    free(sc->lv_at);
    free(sc->lv_people);
    free(sc->sub_key);
    free(sc->sub_group);
    free(sc->sub_start);
    free(sc->sub_pos);
    memset(sc, 0, sizeof *sc);
    return 0;
}

static struct scratch *scratch_new(lua_State *L)
{
    struct scratch *sc = lua_newuserdatauv(L, sizeof *sc, 0);
    memset(sc, 0, sizeof *sc);
    if (luaL_newmetatable(L, "tandem.scratch")) {
        lua_pushcfunction(L, scratch_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return sc;
}

/* Makes room for element n of the growable array in scratch slot `slot` (capacity *cap). */
static void *room(lua_State *L, struct scratch *sc, int slot, size_t *cap, size_t n, size_t size)
{
    if (n >= *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        void *nv = realloc(sc->extra[slot], ncap * size);
        if (!nv)
            raise(L, "out of memory");
        sc->extra[slot] = nv;
        *cap = ncap;
    }
    return sc->extra[slot];
}

/* calloc into a scratch slot; raises on failure. */
static void *grab(lua_State *L, struct scratch *sc, int slot, size_t n, size_t size)
{
    free(sc->extra[slot]);
    sc->extra[slot] = calloc(n ? n : 1, size);
    if (!sc->extra[slot])
        raise(L, "out of memory");
    return sc->extra[slot];
}

/* Like grab, but keeps the slot's block when it is big enough (a key buffer). */
static void *grab_keep(lua_State *L, struct scratch *sc, int slot, size_t n)
{
    size_t *have = (size_t *)sc->extra[slot];
    if (!have || have[0] < n) {
        free(sc->extra[slot]);
        sc->extra[slot] = malloc(sizeof(size_t) + n * 2);
        if (!sc->extra[slot])
            raise(L, "out of memory");
        have = sc->extra[slot];
        have[0] = n * 2;
    }
    return have + 1;
}

/* ---- the prefilter: candidates by an inverted index, then level and department, in C ---- */

static const struct strset *pf_set(const struct state *s, int person, int which)
{
    const struct person *p = &s->people[person].p;
    return which == PF_SKILLS ? &p->skills : which == PF_WANTS ? &p->wants : &p->tags;
}

static bool pf_pass(const struct prefilter *pf, const struct state *s, int mentor, int mentee)
{
    const struct person *m = &s->people[mentor].p, *e = &s->people[mentee].p;
    if (pf->level_window) {
        if (!m->level || !e->level)
            return false;
        int gap = m->level - e->level;
        if (gap < pf->level_min || gap > pf->level_max)
            return false;
    }
    if (pf->department) {
        bool same = m->department && e->department && strcmp(m->department, e->department) == 0;
        if (pf->department == 1 ? !same : same)
            return false;
    }
    return true;
}

/* Keys are the set's tag and the item ("1sql"), so one index can hold two sets. */
static const char *pf_key(lua_State *L, struct scratch *sc, char tag, const char *item)
{
    size_t n = strlen(item);
    char *buf = grab_keep(L, sc, 7, n + 2);
    buf[0] = tag;
    memcpy(buf + 1, item, n + 1);
    return buf;
}

/* Indexes people idx[0..n) by the items of their `first` set (tag '1') and, unless PF_NONE,
 * their `second` set (tag '2'): bucket b holds, ascending, the positions of those who have
 * item b; position i's buckets are item_of[item_start[i] .. item_start[i + 1]), and also the
 * bits of mask[i] when there are at most 64 buckets. */
static void pf_index(lua_State *L, struct scratch *sc, const struct state *s, const int *idx, int n, int first,
                     int second)
{
    const int which[2] = { first, second };
    int nb = 0, total = 0;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1) {
            sc->bucket_start = calloc((size_t)nb + 2, sizeof *sc->bucket_start);
            sc->bucket_entries = malloc(((size_t)total + 1) * sizeof *sc->bucket_entries);
            sc->item_start = calloc((size_t)n + 1, sizeof *sc->item_start);
            sc->item_of = malloc(((size_t)total + 1) * sizeof *sc->item_of);
            /* a person's items as bits up to 64 buckets, marks on the buckets past that */
            if (nb <= 64)
                sc->mask = calloc((size_t)n + 1, sizeof *sc->mask);
            else
                sc->want = calloc((size_t)nb + 1, 1);
            if (!sc->bucket_start || !sc->bucket_entries || !sc->item_start || !sc->item_of ||
                (!sc->mask && !sc->want))
                raise(L, "out of memory");
            sc->n_buckets = nb;
        }
        if (pass == 2)
            for (int b = 0; b < nb; b++)
                sc->bucket_start[b + 2] += sc->bucket_start[b + 1];
        int f = 0;   /* pass 2: the forward list's length so far */
        for (int i = 0; i < n; i++) {
            if (pass == 2)
                sc->item_start[i] = f;
            for (int w = 0; w < 2; w++) {
                if (which[w] == PF_NONE)
                    continue;
                const struct strset *set = pf_set(s, idx[i], which[w]);
                for (int k = 0; k < set->n; k++) {
                    const char *key = pf_key(L, sc, (char)('1' + w), set->v[k]);
                    int b = strmap_get(&sc->items, key);
                    if (pass == 0) {
                        total++;
                        if (b < 0 && strmap_put(&sc->items, key, nb++) < 0)
                            raise(L, "out of memory");
                    } else if (pass == 1) {
                        sc->bucket_start[b + 2]++;
                    } else {
                        sc->bucket_entries[sc->bucket_start[b + 1]++] = i;
                        sc->item_of[f++] = b;
                        if (nb <= 64)
                            sc->mask[i] |= 1ULL << b;
                    }
                }
            }
        }
        if (pass == 2)
            sc->item_start[n] = f;
    }
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Adds to sc->list (n so far) the people indexed under tag who have an item of person's
 * `which` set, each once in this lookup (mark). Returns the new count. */
static int pf_lookup(lua_State *L, struct scratch *sc, const struct state *s, int person, int which, char tag,
                     int mark, int n)
{
    const struct strset *set = pf_set(s, person, which);
    for (int k = 0; k < set->n; k++) {
        int b = strmap_get(&sc->items, pf_key(L, sc, tag, set->v[k]));
        for (int q = b < 0 ? 0 : sc->bucket_start[b]; b >= 0 && q < sc->bucket_start[b + 1]; q++) {
            int i = sc->bucket_entries[q];
            if (sc->stamp[i] != mark) {
                sc->stamp[i] = mark;
                sc->list[n++] = i;
            }
        }
    }
    return n;
}

/* A well-mixed hash of a person (splitmix64's finalizer): where they come in the shuffled
 * pool, and where and in what steps they walk it. */
static uint32_t person_hash(int person)
{
    uint64_t z = (uint64_t)(uint32_t)person + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (uint32_t)(z ^ (z >> 31));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Moves the `k` largest of keys[0..n) to the front (Hoare's quickselect: O(n) on average). */
static void select_top(uint64_t *keys, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        uint64_t pivot = keys[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (keys[i] > pivot)
                i++;
            while (keys[j] < pivot)
                j--;
            if (i <= j) {
                uint64_t t = keys[i];
                keys[i++] = keys[j];
                keys[j--] = t;
            }
        }
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            break;
    }
}

/* The index over the people at positions idx[0..n) that a binding's candidate search reads:
 * the sets of `shared` or `prefer`; none when the prefilter names neither. */
struct pf_pool {
    const struct prefilter *pf;
    const int *idx;            /* position -> person */
    int n;
    int first, second;         /* the indexed sets of the pool's people (second: one-pool models) */
    int look, look_back;       /* the sets of the person at hand looked up under tags '1' and '2' */
};

static void pf_prepare(lua_State *L, struct scratch *sc, const struct state *s, struct pf_pool *pp,
                       const struct prefilter *pf, const int *idx, int n, bool both_ways)
{
    *pp = (struct pf_pool){ .pf = pf, .idx = idx, .n = n };
    if (pf) {
        int m = pf->shared_mentor ? pf->shared_mentor : pf->prefer_mentor;
        int e = pf->shared_mentee ? pf->shared_mentee : pf->prefer_mentee;
        if (m) {
            pp->first = m;
            pp->look = e;
            if (both_ways) {
                pp->second = e;
                pp->look_back = m;
            }
        }
    }
    sc->stamp = calloc((size_t)n + 1, sizeof *sc->stamp);
    sc->list = malloc(((size_t)n + 1) * sizeof *sc->list);
    sc->keys = malloc(((size_t)n + 1) * sizeof *sc->keys);
    if (!sc->stamp || !sc->list || !sc->keys)
        raise(L, "out of memory");
    if (pp->first)
        pf_index(L, sc, s, idx, n, pp->first, pp->second ? pp->second : PF_NONE);
    if (pf && pf->limit) {
        /* The pool shuffled: ordered by a hash of each person (ties by position). */
        sc->ring_pos = malloc(((size_t)n + 1) * sizeof *sc->ring_pos);
        sc->ring_place = malloc(((size_t)n + 1) * sizeof *sc->ring_place);
        sc->chosen = malloc(((size_t)n + 1) * sizeof *sc->chosen);
        if (!sc->ring_pos || !sc->ring_place || !sc->chosen)
            raise(L, "out of memory");
        for (int i = 0; i < n; i++)
            sc->keys[i] = (uint64_t)person_hash(idx[i]) << 32 | (uint32_t)i;
        qsort(sc->keys, (size_t)n, sizeof *sc->keys, cmp_u64);
        for (int k = 0; k < n; k++) {
            sc->ring_pos[k] = (int)(uint32_t)sc->keys[k];
            sc->ring_place[sc->ring_pos[k]] = k;
        }
    }
}

/* Whether a pair passes the prefilter's level window and department; for one-pool models
 * (either_way) the level gap is taken either way round. */
static bool pf_fits(const struct prefilter *pf, const struct state *s, int mentor, int mentee, bool either_way)
{
    if (!pf)
        return true;
    if (either_way && pf->level_window) {
        int la = s->people[mentor].p.level, lb = s->people[mentee].p.level;
        int gap = la > lb ? la - lb : lb - la;
        if (!la || !lb || gap < pf->level_min || gap > pf->level_max)
            return false;
        struct prefilter dept = { .department = pf->department };
        return pf_pass(&dept, s, mentor, mentee);
    }
    return pf_pass(pf, s, mentor, mentee);
}

/* Marks the buckets of person's `which` set under tag as bits in *wmask, or in sc->want past
 * 64 buckets (on = 1; on = 0 clears them there), and adds their sizes to *listed. Returns
 * how many of the set's items are indexed. */
static int pf_mark(lua_State *L, struct scratch *sc, const struct state *s, int person, int which, char tag,
                   unsigned char on, uint64_t *wmask, long long *listed)
{
    const struct strset *set = pf_set(s, person, which);
    int n = 0;
    for (int k = 0; k < set->n; k++) {
        int b = strmap_get(&sc->items, pf_key(L, sc, tag, set->v[k]));
        if (b < 0)
            continue;
        if (sc->n_buckets > 64)
            sc->want[b] = on;
        else
            *wmask |= 1ULL << b;
        *listed += sc->bucket_start[b + 1] - sc->bucket_start[b];
        n++;
    }
    return n;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* x with a * x = 1 (mod n), for a prime to n > 1 (extended Euclid). */
static uint64_t inverse_mod(uint64_t a, uint64_t n)
{
    long long t = 0, nt = 1, r = (long long)n, nr = (long long)a;
    while (nr) {
        long long q = r / nr, x;
        x = t - q * nt; t = nt; nt = x;
        x = r - q * nr; r = nr; nr = x;
    }
    return (uint64_t)(t < 0 ? t + (long long)n : t);
}

/* Bits set in x. Written out because, built for any x86-64, __builtin_popcountll is a call
 * into libgcc, and the walk below counts once per person it passes. */
static inline int bits_set(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* How many of the marked buckets (wmask: as bits) position i has. */
static int pf_hits(const struct scratch *sc, int i, uint64_t wmask)
{
    if (!sc->item_start)
        return 0;
    if (sc->n_buckets <= 64)
        return bits_set(sc->mask[i] & wmask);
    int h = 0;
    for (int q = sc->item_start[i]; q < sc->item_start[i + 1]; q++)
        h += sc->want[sc->item_of[q]];
    return h;
}

/* Levels are listed person by person when at most this many times `limit` people reach them. */
#define LV_LIST 16

static void *lv_grow(lua_State *L, void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * size);
    if (!q)
        raise(L, "out of memory");
    *cap = n;
    return q;
}

/* The levels of item set w (bits, not 0) over the open people of the pool: lv_count[f + h]
 * people share h of its items, listed from lv_people[lv_at[f + h]] when there are at most
 * LV_LIST * limit of them (lv_at -1 otherwise); returns f, or -1 when the lists would pass
 * their memory bound. Counted once per set in a solve call, O(pool). */
static int pf_levels_of(lua_State *L, struct scratch *sc, const struct pf_pool *pp, uint64_t w, const int *open,
                        int limit)
{
    char key[17];
    snprintf(key, sizeof key, "%016llx", (unsigned long long)w);
    int known = strmap_get(&sc->lv_sets, key);
    if (known >= 0)
        return known;
    int top = bits_set(w), f = (int)sc->n_lv_levels;
    size_t need = sc->n_lv_levels + (size_t)top + 1, cap = sc->cap_lv_levels;
    sc->lv_count = lv_grow(L, sc->lv_count, &sc->cap_lv_levels, need, sizeof *sc->lv_count);
    sc->lv_at = lv_grow(L, sc->lv_at, &cap, need, sizeof *sc->lv_at);   /* the same capacity */
    int count[65], at[65];
    for (int h = 0; h <= top; h++)
        count[h] = 0;
    for (int i = 0; i < pp->n; i++)
        if (!open || open[i])
            count[bits_set(sc->mask[i] & w)]++;
    size_t listed = 0;
    for (int h = 0; h <= top; h++) {
        at[h] = count[h] <= LV_LIST * limit ? (int)(sc->n_lv_people + listed) : -1;
        if (at[h] >= 0)
            listed += (size_t)count[h];
    }
    /* Bounded memory: past 8 entries a pool member (or a million), sets not seen yet are
     * walked as before (-1). */
    size_t budget = 8 * (size_t)pp->n > (1u << 20) ? 8 * (size_t)pp->n : (1u << 20);
    if (sc->n_lv_people + listed > budget)
        return -1;
    memcpy(sc->lv_count + f, count, ((size_t)top + 1) * sizeof *count);
    memcpy(sc->lv_at + f, at, ((size_t)top + 1) * sizeof *at);
    sc->n_lv_levels = need;
    sc->lv_people = lv_grow(L, sc->lv_people, &sc->cap_lv_people, sc->n_lv_people + listed, sizeof *sc->lv_people);
    int fill[65];
    for (int h = 0; h <= top; h++)
        fill[h] = at[h];
    for (int i = 0; listed > 0 && i < pp->n; i++)
        if (!open || open[i]) {
            int h = bits_set(sc->mask[i] & w);
            if (fill[h] >= 0)
                sc->lv_people[fill[h]++] = i;
        }
    sc->n_lv_people += listed;
    if (strmap_put(&sc->lv_sets, key, f) != 0)
        raise(L, "out of memory");
    return f;
}

/* ---- one pool (peers): a pair's items shared, either way, are the bits its first person's
 * set w (wants as '1', skills as '2') has in common with the other's mask. The levels are
 * counted per person from an index of item sets, since nearly every peer's w is their own. */

static uint64_t sub_hash(uint64_t t)
{
    t = (t ^ (t >> 30)) * 0xbf58476d1ce4e5b9ULL;
    t = (t ^ (t >> 27)) * 0x94d049bb133111ebULL;
    return t ^ (t >> 31);
}

/* The slot of item set t (not 0): its own, or the empty one where it would go. */
static size_t sub_slot(const struct scratch *sc, uint64_t t)
{
    size_t m = sc->sub_slots - 1, j = (size_t)sub_hash(t) & m;
    while (sc->sub_key[j] && sc->sub_key[j] != t)
        j = (j + 1) & m;
    return j;
}

/* Doubles the table (room for slots / 2 groups). */
static void sub_grow(lua_State *L, struct scratch *sc)
{
    size_t old = sc->sub_slots, slots = old ? old * 2 : 1024;
    uint64_t *keys = sc->sub_key;
    int *group = sc->sub_group;
    int *start = realloc(sc->sub_start, (slots / 2 + 2) * sizeof *start);
    if (start)
        sc->sub_start = start;
    sc->sub_key = calloc(slots, sizeof *sc->sub_key);
    sc->sub_group = malloc(slots * sizeof *sc->sub_group);
    sc->sub_slots = slots;
    if (!start || !sc->sub_key || !sc->sub_group) {
        free(keys);
        free(group);
        raise(L, "out of memory");
    }
    for (size_t j = 0; j < old; j++)
        if (keys[j]) {
            size_t k = sub_slot(sc, keys[j]);
            sc->sub_key[k] = keys[j];
            sc->sub_group[k] = group[j];
        }
    free(keys);
    free(group);
}

/* Lists, for every nonempty set T of items that someone of the pool holds whole, the
 * ascending positions of those who do: each position under each subset of its mask, so
 * O(sum over the pool of 2^items) time and memory. Not built (sub_state -1) past 64 entries
 * a pool member (or a million): the walk then stays as it was. */
static void pf_subsets(lua_State *L, struct scratch *sc, int n)
{
    size_t total = 0, budget = 64 * (size_t)n > (1u << 20) ? 64 * (size_t)n : (1u << 20);
    /* The item sets' table as well as the entries: 1 KiB a person (or 64 MiB) in all. */
    size_t bytes = (size_t)n << 10 > ((size_t)64 << 20) ? (size_t)n << 10 : (size_t)64 << 20;
    sc->sub_state = -1;
    for (int i = 0; i < n && total <= budget; i++) {
        int d = bits_set(sc->mask[i]);
        total += d > 24 ? budget + 1 : ((size_t)1 << d) - 1;
    }
    if (total > budget)
        return;
    int groups = 0;
    sub_grow(L, sc);
    sc->sub_start[0] = sc->sub_start[1] = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            sc->sub_pos = malloc((total + 1) * sizeof *sc->sub_pos);
            if (!sc->sub_pos)
                raise(L, "out of memory");
            for (int g = 0; g < groups; g++)
                sc->sub_start[g + 2] += sc->sub_start[g + 1];
        }
        for (int i = 0; i < n; i++)
            for (uint64_t m = sc->mask[i], t = m; t; t = (t - 1) & m) {
                if (pass == 1) {
                    sc->sub_pos[sc->sub_start[sc->sub_group[sub_slot(sc, t)] + 1]++] = i;
                    continue;
                }
                if (2 * ((size_t)groups + 1) > sc->sub_slots) {
                    size_t slots = 2 * sc->sub_slots;   /* keys, groups, starts, then the entries */
                    if (slots * (sizeof *sc->sub_key + sizeof *sc->sub_group) + (slots / 2 + 2) * sizeof(int) +
                            total * sizeof *sc->sub_pos > bytes)
                        return;   /* sub_state -1: the walk */
                    sub_grow(L, sc);
                }
                size_t j = sub_slot(sc, t);
                if (!sc->sub_key[j]) {
                    sc->sub_key[j] = t;
                    sc->sub_group[j] = groups;
                    sc->sub_start[groups++ + 2] = 0;
                }
                sc->sub_start[sc->sub_group[j] + 2]++;
            }
    }
    sc->sub_state = 1;
}

/* A person's w has at most this many items for its levels to be counted from item sets. */
#define PEER_BITS 10

/* The people after `after` against w (k items), by subset s of w's items (bit j: its
 * j-th): set[s] is s as buckets; held[s] of them hold all of it, listed from sub_pos[from[s]]
 * (s = 0: every position after `after`); exact[s] share just it with w. */
struct peer_levels {
    int k;
    uint64_t set[1 << PEER_BITS];
    int held[1 << PEER_BITS], from[1 << PEER_BITS], exact[1 << PEER_BITS];
};

/* Fills pl in O(2^k (1 + k + log pool)): held from each set's list by a binary search for
 * `after`, exact from held by inclusion-exclusion over supersets. Returns -1 when w has
 * more than PEER_BITS items. */
static int pf_peer_levels(const struct scratch *sc, int n, uint64_t w, int after, struct peer_levels *pl)
{
    int k = bits_set(w);
    if (k > PEER_BITS)
        return -1;
    uint64_t bit[PEER_BITS];
    for (int j = 0; j < k; j++, w &= w - 1)
        bit[j] = w & -w;
    pl->k = k;
    for (int s = 0; s < 1 << k; s++) {
        uint64_t t = 0;
        for (int j = 0; j < k; j++)
            if (s >> j & 1)
                t |= bit[j];
        pl->set[s] = t;
        pl->held[s] = n - after - 1;
        pl->from[s] = after + 1;
        if (s) {
            size_t slot = sub_slot(sc, t);
            int g = sc->sub_key[slot] ? sc->sub_group[slot] : -1;
            int lo = g < 0 ? 0 : sc->sub_start[g], hi = g < 0 ? 0 : sc->sub_start[g + 1], end = hi;
            while (lo < hi) {
                int mid = lo + (hi - lo) / 2;
                if (sc->sub_pos[mid] <= after)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            pl->held[s] = end - lo;
            pl->from[s] = lo;
        }
        pl->exact[s] = pl->held[s];
    }
    for (int j = 0; j < k; j++)
        for (int s = 0; s < 1 << k; s++)
            if (!(s >> j & 1))
                pl->exact[s] -= pl->exact[s | 1 << j];
    return 0;
}

/* Into out, the positions after `after` sharing just h of w's items: O(the held of the
 * subsets of h items), those at higher levels passed over. Returns how many. */
static int pf_peer_list(const struct scratch *sc, const struct peer_levels *pl, int n, uint64_t w, int h, int *out)
{
    int c = 0;
    for (int s = 0; s < 1 << pl->k; s++) {
        if (bits_set((uint64_t)s) != h || pl->exact[s] == 0)
            continue;
        for (int q = pl->from[s]; q < pl->from[s] + pl->held[s]; q++) {
            int i = s ? sc->sub_pos[q] : q;
            if (i < n && (sc->mask[i] & w) == pl->set[s])
                out[c++] = i;
        }
    }
    return c;
}

/* Takes from people[0..count) (the positions of one level) those that pass, first by step
 * number (t = (place - b) / a mod n; inv: 1 / a), until `limit`; returns the new `got`. The
 * keys are complemented, so the largest are the first. Those taken are sorted by position at
 * the end, so a chunk of the next best needs no order of its own; one that does not pass
 * gives its place to the next chunk. */
static int pf_take_listed(lua_State *L, struct scratch *sc, const struct state *s, const struct pf_pool *pp,
                          int who, bool either_way, const int *people, int count, uint64_t inv, uint64_t b,
                          int got)
{
    const struct rules *r = R(L);
    const struct prefilter *pf = pp->pf;
    uint64_t n = (uint64_t)pp->n;
    for (int q = 0; q < count; q++) {
        int i = people[q];
        uint64_t t = ((uint64_t)sc->ring_place[i] + n - b) % n * inv % n;
        sc->keys[q] = ~(t << 32 | (uint32_t)i);
    }
    for (int lo = 0; got < pf->limit && lo < count;) {
        int need = pf->limit - got < count - lo ? pf->limit - got : count - lo;
        select_top(sc->keys + lo, count - lo, need);
        for (int q = lo; q < lo + need; q++) {
            int i = (int)(uint32_t)~sc->keys[q];
            if (pf_fits(pf, s, pp->idx[i], who, either_way) && allowed(r, s, pp->idx[i], who))
                sc->chosen[got++] = i;
        }
        lo += need;
    }
    return got;
}

/* pf_walk's result (-1: not to be had within the memory bounds of pf_levels_of or
 * pf_subsets), level by level: the people after `after` sharing the most of the person's
 * items (w, as bits) first, each level in the person's own order of the shuffled pool (steps
 * of a from place b), taking those that pass until `limit`. A level few reach is read from
 * its list and ordered by step number; one many reach is walked in step order, which finds
 * `limit` of them after about limit / count of the pool. The same candidates as one walk
 * over the whole pool ranked by (items shared, step), which is what the walk below computes,
 * without passing over the pool for every person.
 * Two pools: the levels of each distinct w counted once (pf_levels_of). One pool (peers,
 * where nearly every w is its own): counted per person from the item sets in
 * O(2^k (k + log pool)) for k items, and a level is listed when that costs less than walking
 * it (listing level h reads the people after `after` holding each h of the k items, those
 * of the levels above included: at most 2^k times the people of level h and above). */
static int pf_walk_levels(lua_State *L, struct scratch *sc, const struct state *s, const struct pf_pool *pp,
                          int who, uint64_t w, const int *open, int after, bool either_way, uint64_t a, uint64_t b)
{
    const struct rules *r = R(L);
    const struct prefilter *pf = pp->pf;
    int n = pp->n, got = 0, top = bits_set(w), f = -1;
    struct peer_levels pl;
    long long level[65];
    pl.k = 0;
    if (pp->second) {
        if (open)
            return -1;   /* before building an index that would not be read */
        if (sc->sub_state == 0)
            pf_subsets(L, sc, n);
        if (sc->sub_state < 0 || pf_peer_levels(sc, n, w, after, &pl) < 0)
            return -1;
        for (int h = 0; h <= top; h++)
            level[h] = 0;
        for (int v = 0; v < 1 << pl.k; v++)
            level[bits_set((uint64_t)v)] += pl.exact[v];
    } else if ((f = pf_levels_of(L, sc, pp, w, open, pf->limit)) < 0) {
        return -1;
    }
    uint64_t inv = n > 1 ? inverse_mod(a, (uint64_t)n) : 0;
    for (int h = top; h >= (pf->shared_mentor ? 1 : 0) && got < pf->limit; h--) {
        int count = pp->second ? (int)level[h] : sc->lv_count[f + h];
        if (count == 0)
            continue;
        const int *people = NULL;
        if (!pp->second && sc->lv_at[f + h] >= 0) {
            people = sc->lv_people + sc->lv_at[f + h];
        } else if (pp->second) {
            long long cost = 0;
            for (int v = 0; v < 1 << pl.k; v++)
                if (bits_set((uint64_t)v) == h && pl.exact[v])
                    cost += pl.held[v];
            if (cost <= (long long)n * (pf->limit - got) / count) {
                count = pf_peer_list(sc, &pl, n, w, h, sc->list);
                people = sc->list;
            }
        }
        if (people) {
            got = pf_take_listed(L, sc, s, pp, who, either_way, people, count, inv, b, got);
            continue;
        }
        uint64_t place = b;
        for (int t = 0; t < n && got < pf->limit; t++, place = place + a < (uint64_t)n ? place + a : place + a - (uint64_t)n) {
            int i = sc->ring_pos[place];
            if (i <= after || (open && !open[i]) || bits_set(sc->mask[i] & w) != h)
                continue;
            if (pf_fits(pf, s, pp->idx[i], who, either_way) && allowed(r, s, pp->idx[i], who))
                sc->chosen[got++] = i;
        }
    }
    memcpy(sc->list, sc->chosen, (size_t)got * sizeof *sc->list);
    qsort(sc->list, (size_t)got, sizeof *sc->list, cmp_int);
    return got;
}

/* pf_try under a limit: the `limit` best of those that pass, by items shared (the most
 * first), then in the person's own order of the shuffled pool: from place b in steps of a
 * (a prime to the pool's size, so each place comes once; a and b from a hash of the person),
 * so equal mentees spread over equal mentors independently of each other, and the same
 * people always give the same candidates. Under `shared`, when the mentee's items list few
 * of the pool, those listed are ranked directly (step number t = (place - b) / a mod n);
 * otherwise one walk in that order, which stops once `limit` candidates share every indexed
 * item the person has: O(pool) at worst, with a bit count (or, over 64 items, a look at
 * each of a person's items) per position, and the level, department, reporting-line and
 * history checks only for those taken or next in line. */
static int pf_walk(lua_State *L, struct scratch *sc, const struct state *s, const struct pf_pool *pp, int who,
                   int mark, const int *open, int after, bool either_way)
{
    const struct rules *r = R(L);
    const struct prefilter *pf = pp->pf;
    uint64_t wmask = 0, unused = 0;
    long long listed = 0;   /* entries in the mentee's item buckets */
    int all = 0;            /* the most items a candidate can share */
    if (pp->first) {
        all = pf_mark(L, sc, s, who, pp->look, '1', 1, &wmask, &listed);
        if (pp->second)
            all += pf_mark(L, sc, s, who, pp->look_back, '2', 1, &wmask, &listed);
    }
    int n = pp->n, got = 0, rest = 0;
    uint32_t h = person_hash(who);
    uint64_t b = n > 0 ? h % (uint32_t)n : 0, a = 1;
    if (n > 1) {
        a = 1 + person_hash((int)(h ^ 0x2545f491u)) % (uint32_t)(n - 1);
        while (gcd_u64(a, (uint64_t)n) != 1)
            a = a % (uint64_t)(n - 1) + 1;
    }
    if (pp->first && (pp->second || after < 0) && sc->n_buckets <= 64 && wmask != 0) {
        int c = pf_walk_levels(L, sc, s, pp, who, wmask, open, after, either_way, a, b);
        if (c >= 0)
            return c;
    }
    if (pf->shared_mentor && listed * 4 < n) {
        /* Few listed: rank them all by (items shared, step number). */
        uint64_t inv = n > 1 ? inverse_mod(a, (uint64_t)n) : 0;
        int c = pf_lookup(L, sc, s, who, pp->look, '1', mark, 0);
        if (pp->second)
            c = pf_lookup(L, sc, s, who, pp->look_back, '2', mark, c);
        for (int q = 0; q < c; q++) {
            int i = sc->list[q];
            if (i <= after || (open && !open[i]))
                continue;
            uint64_t t = ((uint64_t)sc->ring_place[i] + (uint64_t)n - b) % (uint64_t)n * inv % (uint64_t)n;
            sc->keys[rest++] = (uint64_t)pf_hits(sc, i, wmask) << 32 | (uint32_t)(UINT32_MAX - (uint32_t)t);
        }
    } else {
        uint64_t place = b;
        for (int t = 0; t < n && got < pf->limit; t++, place = place + a < (uint64_t)n ? place + a : place + a - (uint64_t)n) {
            int i = sc->ring_pos[place];
            if (i <= after || (open && !open[i]))
                continue;
            int hits = pf_hits(sc, i, wmask);
            if (hits == 0 && pf->shared_mentor)
                continue;
            if (hits < all) {
                /* rank key: items shared (high bits), then the step (to undo it) */
                sc->keys[rest++] = (uint64_t)hits << 32 | (uint32_t)(UINT32_MAX - (uint32_t)t);
            } else if (pf_fits(pf, s, pp->idx[i], who, either_way) && allowed(r, s, pp->idx[i], who)) {
                sc->chosen[got++] = i;
            }
        }
    }
    /* The best of the rest (all of them when ranked directly), the next best taking the
     * place of one that does not pass. A key's step gives its position back. */
    for (int lo = 0; got < pf->limit && lo < rest;) {
        int need = pf->limit - got < rest - lo ? pf->limit - got : rest - lo;
        select_top(sc->keys + lo, rest - lo, need);
        for (int q = lo; q < lo + need; q++) {
            uint64_t t = UINT32_MAX - (uint32_t)sc->keys[q];
            int i = sc->ring_pos[(b + a * t) % (uint64_t)(n > 0 ? n : 1)];
            if (pf_fits(pf, s, pp->idx[i], who, either_way) && allowed(r, s, pp->idx[i], who))
                sc->chosen[got++] = i;
        }
        lo += need;
    }
    if (pp->first && sc->n_buckets > 64) {   /* the marks to clear */
        pf_mark(L, sc, s, who, pp->look, '1', 0, &unused, &listed);
        if (pp->second)
            pf_mark(L, sc, s, who, pp->look_back, '2', 0, &unused, &listed);
    }
    memcpy(sc->list, sc->chosen, (size_t)got * sizeof *sc->list);
    qsort(sc->list, (size_t)got, sizeof *sc->list, cmp_int);
    return got;
}

/* Fills sc->list, ascending, with the positions of the pool that the person at hand (who,
 * met for the mark-th time) may be scored with: those sharing an item with them under
 * `shared` (everyone otherwise), open (open[i] != 0, or all when open is NULL), after `after`
 * (one-pool models score a pair once), allowed, and within the level window and department.
 * With `limit`, only that many (pf_walk). Returns the count. */
static int pf_try(lua_State *L, struct scratch *sc, const struct state *s, const struct pf_pool *pp, int who,
                  int mark, const int *open, int after, bool either_way)
{
    const struct rules *r = R(L);
    const struct prefilter *pf = pp->pf;
    if (pf && pf->limit)
        return pf_walk(L, sc, s, pp, who, mark, open, after, either_way);
    int n = 0;
    if (pp->first) {
        n = pf_lookup(L, sc, s, who, pp->look, '1', mark, 0);
        if (pp->second)
            n = pf_lookup(L, sc, s, who, pp->look_back, '2', mark, n);
    }
    if (!pf || !pf->shared_mentor) {
        /* Everyone is a candidate; those the index did not list share nothing. */
        for (int i = 0; i < pp->n; i++)
            if (sc->stamp[i] != mark) {
                sc->stamp[i] = mark;
                sc->list[n++] = i;
            }
    }
    int kept = 0;
    for (int t = 0; t < n; t++) {
        int i = sc->list[t];
        if (i <= after || (open && !open[i]) || !pf_fits(pf, s, pp->idx[i], who, either_way) ||
            !allowed(r, s, pp->idx[i], who))
            continue;
        sc->list[kept++] = i;
    }
    qsort(sc->list, (size_t)kept, sizeof *sc->list, cmp_int);
    return kept;
}

/* tandem.solve.assign(mentors, mentees, score, capacity [, {objective=, priority=fn}]):
 * scores every allowed pair, keeps each mentee's `candidates` best, and returns the optimal
 * groups (one mentor, one mentee) with each pair's score and reasons. */
static int api_solve_assign(lua_State *L)
{
    struct rules *r = R(L);
    const struct state *s = S(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    lua_settop(L, 5);
    const char *objective = opt_field(L, 5, "objective");
    if (lua_istable(L, 5))
        lua_getfield(L, 5, "priority");
    else
        lua_pushnil(L);
    int prio_f = lua_gettop(L);    /* 6 */
    int nm = (int)lua_rawlen(L, 1), ne = (int)lua_rawlen(L, 2);
    const struct rules_program *rp = r->matching >= 0 ? &r->programs[r->matching] : NULL;

    struct scratch *sc = scratch_new(L);   /* 7 */
    sc->cap = calloc((size_t)nm + 1, sizeof *sc->cap);
    sc->mp = calloc((size_t)nm + 1, sizeof *sc->mp);
    sc->ep = calloc((size_t)ne + 1, sizeof *sc->ep);
    sc->prio = calloc((size_t)ne + 1, sizeof *sc->prio);
    sc->assigned = calloc((size_t)ne + 1, sizeof *sc->assigned);
    sc->capcand = 64;
    sc->cand = malloc(sc->capcand * sizeof *sc->cand);
    if (!sc->cap || !sc->mp || !sc->ep || !sc->prio || !sc->assigned || !sc->cand)
        return raise(L, "out of memory");
    for (int i = 0; i < nm; i++) {
        lua_rawgeti(L, 1, i + 1);
        sc->mp[i] = person_arg(L, s, -1);
        if (sc->mp[i] < 0)
            return raise(L, "tandem.solve.assign: mentor %d has no known id", i + 1);
        int load = 0;
        if (lua_getfield(L, -1, "load") == LUA_TNUMBER)
            load = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        int c = s->people[sc->mp[i]].p.capacity;
        if (lua_isfunction(L, 4)) {
            lua_pushvalue(L, 4);
            lua_pushvalue(L, -2);
            lua_call(L, 1, 1);
            if (!lua_isinteger(L, -1))
                return raise(L, "capacity must return a whole number");
            c = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        } else if (lua_isinteger(L, 4)) {
            c = (int)lua_tointeger(L, 4);
        }
        sc->cap[i] = c - load > 0 ? c - load : 0;
        lua_pop(L, 1);
    }
    for (int j = 0; j < ne; j++) {
        lua_rawgeti(L, 2, j + 1);
        sc->ep[j] = person_arg(L, s, -1);
        if (sc->ep[j] < 0)
            return raise(L, "tandem.solve.assign: mentee %d has no known id", j + 1);
        if (lua_isfunction(L, prio_f)) {
            /* The model says who goes first (external: high potentials). */
            lua_pushvalue(L, prio_f);
            lua_pushvalue(L, -2);
            lua_call(L, 1, 1);
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
                return raise(L, "priority must return a whole number >= 0");
            sc->prio[j] = lua_tointeger(L, -1);
        } else if (lua_getfield(L, -1, "waiting_since") == LUA_TNUMBER && r->now > lua_tointeger(L, -1)) {
            sc->prio[j] = r->now - lua_tointeger(L, -1);
        }
        lua_pop(L, 2);
    }
    /* Score every allowed pair the prefilter lets through; the exclusions hold whatever the
     * score says. */
    struct pf_pool pp;
    pf_prepare(L, sc, s, &pp, rp ? &rp->pre : NULL, sc->mp, nm, false);
    for (int j = 0; j < ne; j++) {
        lua_rawgeti(L, 2, j + 1);
        int et = lua_gettop(L);
        int n_try = pf_try(L, sc, s, &pp, sc->ep[j], j + 1, sc->cap, -1, false);
        for (int t = 0; t < n_try; t++) {
            int i = sc->list[t];
            lua_rawgeti(L, 1, i + 1);
            double score;
            bool ok = pair_score(L, 3, lua_gettop(L), et, &score);
            lua_pop(L, 1);
            if (!ok)
                continue;
            if (sc->ncand == sc->capcand) {
                struct cand *nc = realloc(sc->cand, sc->capcand * 2 * sizeof *sc->cand);
                if (!nc)
                    return raise(L, "out of memory");
                sc->cand = nc;
                sc->capcand *= 2;
            }
            sc->cand[sc->ncand++] = (struct cand){ i, j, score };
        }
        lua_pop(L, 1);
    }
    /* candidates = k: keep each mentee's k best, so memory grows with people x k. */
    if (rp && rp->candidates > 0) {
        qsort(sc->cand, sc->ncand, sizeof *sc->cand, cand_desc);
        size_t w = 0;
        int run = 0;
        for (size_t k = 0; k < sc->ncand; k++) {
            run = k > 0 && sc->cand[k].mentee == sc->cand[k - 1].mentee ? run + 1 : 0;
            if (run < rp->candidates)
                sc->cand[w++] = sc->cand[k];
        }
        sc->ncand = w;
    }
    sc->edges = malloc((sc->ncand ? sc->ncand : 1) * sizeof *sc->edges);
    if (!sc->edges)
        return raise(L, "out of memory");
    for (size_t k = 0; k < sc->ncand; k++)
        sc->edges[k] = (struct solve_edge){ sc->cand[k].mentor, sc->cand[k].mentee, sc->cand[k].score };
    struct solve_assign_input in = {
        .n_mentors = nm, .capacity = sc->cap, .n_mentees = ne, .priority = sc->prio,
        .n_edges = (int)sc->ncand, .edges = sc->edges,
        .objective = objective && strcmp(objective, "quality") == 0 ? SOLVE_QUALITY : SOLVE_COVERAGE,
    };
    int rc = solve_assign(&in, sc->assigned);
    if (rc < 0)
        return raise(L, "tandem.solve.assign failed (%s)", rc == -ENOMEM ? "out of memory"
                                                          : rc == -EOVERFLOW ? "scores or priorities too large"
                                                                             : "bad input");
    /* Groups in mentee order, each with the score's reasons (asked again: scores are pure). */
    lua_newtable(L);
    int ng = 0;
    for (int j = 0; j < ne; j++) {
        if (sc->assigned[j] < 0)
            continue;
        lua_createtable(L, 0, 4);
        int g = lua_gettop(L);
        lua_createtable(L, 1, 0);
        lua_rawgeti(L, 1, sc->assigned[j] + 1);
        int mt = lua_gettop(L);
        lua_pushvalue(L, mt);
        lua_rawseti(L, -3, 1);
        lua_createtable(L, 1, 0);
        lua_rawgeti(L, 2, j + 1);
        int et = lua_gettop(L);
        lua_pushvalue(L, et);
        lua_rawseti(L, -3, 1);
        double score = 0;
        call_score(L, 3, mt, et, &score, true);
        lua_setfield(L, g, "why");
        lua_pushnumber(L, score);
        lua_setfield(L, g, "score");
        lua_pop(L, 1);                 /* mentee table */
        lua_setfield(L, g, "mentees"); /* list of one */
        lua_pop(L, 1);                 /* mentor table */
        lua_setfield(L, g, "mentors");
        lua_rawseti(L, -2, ++ng);
    }
    return 1;
}


/* Reads a list of person tables into indices (raises on an unknown one). */
static int *people_of(lua_State *L, struct scratch *sc, int slot, int t, int *n, const char *what)
{
    *n = (int)lua_rawlen(L, t);
    int *idx = grab(L, sc, slot, (size_t)*n, sizeof *idx);
    for (int i = 0; i < *n; i++) {
        lua_rawgeti(L, t, i + 1);
        idx[i] = person_arg(L, S(L), -1);
        lua_pop(L, 1);
        if (idx[i] < 0)
            raise(L, "tandem.solve: %s %d has no known id", what, i + 1);
    }
    return idx;
}

static long long waited(lua_State *L, int t, tdm_time now)
{
    long long w = 0;
    if (lua_getfield(L, t, "waiting_since") == LUA_TNUMBER && now > lua_tointeger(L, -1))
        w = now - lua_tointeger(L, -1);
    lua_pop(L, 1);
    return w;
}

/* tandem.solve.pairs(people, score [, {objective=}]): mutual pairs from one pool, by
 * maximum-weight matching on the general graph of allowed pairs (optimal). Returns groups
 * {mentors = {}, mentees = {a, b}, score, why}. */
static int api_solve_pairs(lua_State *L)
{
    struct rules *r = R(L);
    const struct state *s = S(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 3);
    const char *objective = opt_field(L, 3, "objective");
    struct scratch *sc = scratch_new(L);   /* 4 */
    int n;
    int *idx = people_of(L, sc, 0, 1, &n, "person");
    size_t cap = 64, m = 0;
    struct solve_pair_edge *edges = grab(L, sc, 1, cap, sizeof *edges);
    /* Peers are candidates when one has what the other wants, either way round; each pair
     * is tried once, from its first person. */
    struct pf_pool pp;
    pf_prepare(L, sc, s, &pp, r->matching >= 0 ? &r->programs[r->matching].pre : NULL, idx, n, true);
    for (int a = 0; a < n; a++) {
        lua_rawgeti(L, 1, a + 1);
        int at = lua_gettop(L);
        int n_try = pf_try(L, sc, s, &pp, idx[a], a + 1, NULL, a, true);
        for (int t = 0; t < n_try; t++) {
            int b = sc->list[t];
            lua_rawgeti(L, 1, b + 1);
            double score;
            bool ok = pair_score(L, 2, at, lua_gettop(L), &score);
            lua_pop(L, 1);
            if (!ok)
                continue;
            edges = room(L, sc, 1, &cap, m, sizeof *edges);
            edges[m++] = (struct solve_pair_edge){ a, b, score };
        }
        lua_pop(L, 1);
    }
    int *mate = grab(L, sc, 2, (size_t)n, sizeof *mate);
    struct solve_pairs_input in = { .n_people = n, .n_edges = (int)m, .edges = edges,
        .objective = objective && strcmp(objective, "quality") == 0 ? SOLVE_PAIRS_QUALITY
                                                                  : SOLVE_PAIRS_COVERAGE };
    int rc = solve_pairs(&in, mate);
    if (rc < 0)
        raise(L, "tandem.solve.pairs failed (%s)", rc == -ENOMEM ? "out of memory" : "bad input");
    lua_newtable(L);
    int ng = 0;
    for (int a = 0; a < n; a++) {
        if (mate[a] <= a)
            continue;
        lua_createtable(L, 0, 4);
        int g = lua_gettop(L);
        lua_newtable(L);
        lua_setfield(L, g, "mentors");
        lua_createtable(L, 2, 0);
        lua_rawgeti(L, 1, a + 1);
        int at = lua_gettop(L);
        lua_rawgeti(L, 1, mate[a] + 1);
        int bt = lua_gettop(L);
        lua_pushvalue(L, at);
        lua_rawseti(L, g + 1, 1);
        lua_pushvalue(L, bt);
        lua_rawseti(L, g + 1, 2);
        double score = 0;
        call_score(L, 2, at, bt, &score, true);
        lua_setfield(L, g, "why");
        lua_pushnumber(L, score);
        lua_setfield(L, g, "score");
        lua_pop(L, 2);
        lua_setfield(L, g, "mentees");
        lua_rawseti(L, -2, ++ng);
    }
    return 1;
}

/* tandem.solve.groups(mentors, mentees, score, size, distinct [, {groups=fn, objective=,
 * priority=fn}]): each mentor leads groups(mentor) groups (default 1, less the groups they
 * lead already: mentor.load) of at most `size` mentees; with `distinct` naming a field
 * ("department"), no two mentees of a group share its value (a mentee without it always
 * fits). Optimal (min-cost flow). Returns groups {mentors = {m}, mentees = {...}, score, why}
 * where why maps each mentee's id to the reasons its score gave. */
static int api_solve_groups(lua_State *L)
{
    struct rules *r = R(L);
    const struct state *s = S(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    int size = (int)luaL_checkinteger(L, 4);
    if (size < 1 || size > 1000)
        raise(L, "tandem.solve.groups: size must be from 1 to 1000");
    const char *distinct = lua_type(L, 5) == LUA_TSTRING ? lua_tostring(L, 5) : NULL;
    lua_settop(L, 6);
    const char *objective = opt_field(L, 6, "objective");
    if (lua_istable(L, 6))
        lua_getfield(L, 6, "groups");
    else
        lua_pushnil(L);
    int groups_f = lua_gettop(L);   /* 7 */
    if (lua_istable(L, 6))
        lua_getfield(L, 6, "priority");
    else
        lua_pushnil(L);
    int prio_f = lua_gettop(L);     /* 8 */
    struct scratch *sc = scratch_new(L);
    int nm, ne;
    int *mp = people_of(L, sc, 0, 1, &nm, "mentor");
    int *ep = people_of(L, sc, 1, 2, &ne, "mentee");
    int *groups = grab(L, sc, 2, (size_t)nm, sizeof *groups);
    int *first = grab(L, sc, 3, (size_t)nm + 1, sizeof *first);
    for (int i = 0; i < nm; i++) {
        lua_rawgeti(L, 1, i + 1);
        int g = 1;
        if (lua_isfunction(L, groups_f)) {
            lua_pushvalue(L, groups_f);
            lua_pushvalue(L, -2);
            lua_call(L, 1, 1);
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
                raise(L, "groups must return a whole number >= 0");
            g = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        int load = 0;
        if (lua_getfield(L, -1, "load") == LUA_TNUMBER)
            load = (int)lua_tointeger(L, -1);
        lua_pop(L, 2);
        groups[i] = g > load ? g - load : 0;
        first[i + 1] = first[i] + groups[i];
    }
    /* Categories: the distinct field's values, numbered in order of first appearance. */
    int *category = grab(L, sc, 4, (size_t)ne, sizeof *category);
    long long *prio = grab(L, sc, 5, (size_t)ne, sizeof *prio);
    lua_newtable(L);
    int cat_t = lua_gettop(L);
    int ncat = 0;
    for (int j = 0; j < ne; j++) {
        lua_rawgeti(L, 2, j + 1);
        int mt = lua_gettop(L);
        category[j] = -1;
        if (distinct && lua_getfield(L, mt, distinct) == LUA_TSTRING) {
            lua_pushvalue(L, -1);
            if (lua_rawget(L, cat_t) == LUA_TNUMBER) {
                category[j] = (int)lua_tointeger(L, -1);
            } else {
                lua_pushvalue(L, mt + 1);
                lua_pushinteger(L, category[j] = ncat++);
                lua_rawset(L, cat_t);
            }
        }
        lua_settop(L, mt);
        if (lua_isfunction(L, prio_f)) {
            lua_pushvalue(L, prio_f);
            lua_pushvalue(L, mt);
            lua_call(L, 1, 1);
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
                raise(L, "priority must return a whole number >= 0");
            prio[j] = lua_tointeger(L, -1);
        } else {
            prio[j] = waited(L, mt, r->now);
        }
        lua_settop(L, mt - 1);
    }
    size_t cap = 64, m = 0;
    struct solve_group_edge *edges = grab(L, sc, 6, cap, sizeof *edges);
    struct pf_pool pp;
    pf_prepare(L, sc, s, &pp, r->matching >= 0 ? &r->programs[r->matching].pre : NULL, mp, nm, false);
    for (int j = 0; j < ne; j++) {
        lua_rawgeti(L, 2, j + 1);
        int et = lua_gettop(L);
        int n_try = pf_try(L, sc, s, &pp, ep[j], j + 1, groups, -1, false);
        for (int t = 0; t < n_try; t++) {
            int i = sc->list[t];
            lua_rawgeti(L, 1, i + 1);
            double score;
            bool ok = pair_score(L, 3, lua_gettop(L), et, &score);
            lua_pop(L, 1);
            if (!ok)
                continue;
            edges = room(L, sc, 6, &cap, m, sizeof *edges);
            edges[m++] = (struct solve_group_edge){ i, j, score };
        }
        lua_pop(L, 1);
    }
    int *group_of = grab(L, sc, 7, (size_t)ne, sizeof *group_of);
    int n_groups = 0;
    struct solve_groups_input in = {
        .n_mentors = nm, .groups = groups, .n_mentees = ne, .category = category, .priority = prio,
        .size = size, .distinct = distinct != NULL, .n_edges = (int)m, .edges = edges,
        .objective = objective && strcmp(objective, "quality") == 0 ? SOLVE_GROUPS_QUALITY
                                                                  : SOLVE_GROUPS_COVERAGE,
    };
    int rc = solve_groups(&in, group_of, &n_groups);
    if (rc < 0)
        raise(L, "tandem.solve.groups failed (%s)", rc == -ENOMEM ? "out of memory" : "bad input");
    /* One table per non-empty group, in group order (mentor by mentor). */
    lua_newtable(L);
    int out = lua_gettop(L), ng = 0;
    for (int g = 0; g < n_groups; g++) {
        int mentor = 0;
        while (mentor < nm && first[mentor + 1] <= g)
            mentor++;
        int members = 0;
        double total = 0;
        for (int j = 0; j < ne; j++) {
            if (group_of[j] != g)
                continue;
            if (members++ == 0) {
                lua_createtable(L, 0, 4);          /* the group */
                lua_createtable(L, 1, 0);
                lua_rawgeti(L, 1, mentor + 1);
                lua_rawseti(L, -2, 1);
                lua_setfield(L, -2, "mentors");
                lua_newtable(L);
                lua_setfield(L, -2, "mentees");
                lua_newtable(L);
                lua_setfield(L, -2, "why");
            }
            int gt = lua_gettop(L);
            lua_getfield(L, gt, "mentees");
            lua_rawgeti(L, 2, j + 1);
            lua_rawseti(L, -2, members);
            lua_pop(L, 1);
            lua_rawgeti(L, 1, mentor + 1);
            lua_rawgeti(L, 2, j + 1);
            double score = 0;
            call_score(L, 3, gt + 1, gt + 2, &score, true);
            total += score;
            lua_getfield(L, gt, "why");
            lua_insert(L, -2);
            lua_setfield(L, -2, s->people[ep[j]].p.id);
            lua_pop(L, 3);
        }
        if (members > 0) {
            lua_pushnumber(L, total);
            lua_setfield(L, -2, "score");
            lua_rawseti(L, out, ++ng);
        }
    }
    return 1;
}

/* tandem.solve.rounds(mentors, mentees, rounds [, {allowed=fn(m, e), per_round=fn(m)}]):
 * a schedule of `rounds` rounds; in each a mentee meets at most one mentor, a mentor at most
 * per_round(m) mentees (default 1), no pair twice (nor a pair met before in the program), and
 * each round has as many pairs as the earlier rounds allow. Returns a list of rounds, each a
 * list of {mentor = m, mentee = e}. */
static int api_solve_rounds(lua_State *L)
{
    struct rules *r = R(L);
    const struct state *s = S(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    int rounds = (int)luaL_checkinteger(L, 3);
    if (rounds < 0 || rounds > 1000)
        raise(L, "tandem.solve.rounds: rounds must be from 0 to 1000");
    lua_settop(L, 4);
    if (lua_istable(L, 4))
        lua_getfield(L, 4, "allowed");
    else
        lua_pushnil(L);
    int allowed_f = lua_gettop(L);   /* 5 */
    if (lua_istable(L, 4))
        lua_getfield(L, 4, "per_round");
    else
        lua_pushnil(L);
    int per_f = lua_gettop(L);       /* 6 */
    struct scratch *sc = scratch_new(L);
    int nm, ne;
    int *mp = people_of(L, sc, 0, 1, &nm, "mentor");
    int *ep = people_of(L, sc, 1, 2, &ne, "mentee");
    int *per = grab(L, sc, 2, (size_t)nm, sizeof *per);
    for (int i = 0; i < nm; i++) {
        per[i] = 1;
        if (lua_isfunction(L, per_f)) {
            lua_pushvalue(L, per_f);
            lua_rawgeti(L, 1, i + 1);
            lua_call(L, 1, 1);
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
                raise(L, "per_round must return a whole number >= 0");
            per[i] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
    }
    size_t cap = 64, m = 0;
    int (*pairs)[2] = grab(L, sc, 3, cap, sizeof *pairs);
    struct pf_pool pp;
    pf_prepare(L, sc, s, &pp, r->matching >= 0 ? &r->programs[r->matching].pre : NULL, mp, nm, false);
    for (int j = 0; j < ne; j++) {
        int n_try = pf_try(L, sc, s, &pp, ep[j], j + 1, NULL, -1, false);
        for (int t = 0; t < n_try; t++) {
            int i = sc->list[t];
            if (lua_isfunction(L, allowed_f)) {
                lua_pushvalue(L, allowed_f);
                lua_rawgeti(L, 1, i + 1);
                lua_rawgeti(L, 2, j + 1);
                lua_call(L, 2, 1);
                bool yes = lua_toboolean(L, -1);
                lua_pop(L, 1);
                if (!yes)
                    continue;
            }
            if (m == cap) {
                int (*np)[2] = realloc(pairs, cap * 2 * sizeof *np);
                if (!np)
                    raise(L, "out of memory");
                sc->extra[3] = pairs = np;
                cap *= 2;
            }
            pairs[m][0] = i;
            pairs[m][1] = j;
            m++;
        }
    }
    int *schedule = grab(L, sc, 4, (size_t)rounds * (size_t)ne, sizeof *schedule);
    struct solve_rounds_input in = { .n_mentors = nm, .n_mentees = ne, .n_allowed = (int)m,
                                     .allowed = (const int (*)[2])pairs, .rounds = rounds,
                                     .mentor_per_round = per };
    int rc = solve_rounds(&in, schedule);
    if (rc < 0)
        raise(L, "tandem.solve.rounds failed (%s)", rc == -ENOMEM ? "out of memory" : "bad input");
    lua_createtable(L, rounds, 0);
    for (int k = 0; k < rounds; k++) {
        lua_newtable(L);
        int n = 0;
        for (int j = 0; j < ne; j++) {
            int i = schedule[(size_t)k * (size_t)ne + (size_t)j];
            if (i < 0)
                continue;
            lua_createtable(L, 0, 2);
            lua_rawgeti(L, 1, i + 1);
            lua_setfield(L, -2, "mentor");
            lua_rawgeti(L, 2, j + 1);
            lua_setfield(L, -2, "mentee");
            lua_rawseti(L, -2, ++n);
        }
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

void lua_solve_push(lua_State *L, struct rules *r)
{
    static const luaL_Reg fns[] = {
        { "assign", api_solve_assign }, { "pairs", api_solve_pairs },
        { "groups", api_solve_groups }, { "rounds", api_solve_rounds }, { NULL, NULL },
    };
    lua_newtable(L);
    lua_pushlightuserdata(L, r);
    luaL_setfuncs(L, fns, 1);
}
