/* solve/rounds: speed-round schedules, one maximum b-matching per round over the pairs
 * not used yet, with the mentees who met the fewest mentors served first.
 * It must stay deterministic and never keep state between calls or know of the engine.
 *
 * Method, per round: the sets of mentees that some b-matching can cover are the
 * independent sets of a matroid (a transversal matroid, or gammoid with capacities),
 * so the greedy order gives a basis, i.e. a maximum matching, that is lexicographically
 * best for that order: take the mentees by (met so far, index) and keep each one that
 * an augmenting path can add. An augmenting path never unmatches a mentee, so
 * everyone kept stays matched. Paths are found by breadth-first search from the new
 * mentee: mentee -> mentor by an unused pair; a mentor with room ends the path, a full
 * one leads on to each mentee in its slots, which would move elsewhere. Mentors are
 * tried in index order, so the search, and with it the schedule, is deterministic.
 *   - Dead ends: when a search fails, the set S it reached is closed (every unused pair
 *     of a mentee in S leads into S, every mentee seated with a mentor in S is in S,
 *     and no mentor in S has room). A later augmenting path that entered S could only
 *     stay in S and so never end; hence it never enters S, S's seats never change, and
 *     S stays closed. So S is marked dead for the rest of the round and never searched
 *     again: all failed searches of a round cost O(P + n + m) together.
 *   - A round that seats nobody leaves the state as it was, so every later round
 *     seats nobody too; those are filled with -1 at once.
 *
 * Complexity: P distinct allowed pairs (n_mentees * n_mentors when allowed is NULL),
 * n mentees, m mentors, R rounds. Building the rows is O(P log P + n + m). A round is
 * O(n + m) for the order and resets, O(P + n + m) for all its failed searches and at
 * most O(P + n + m) per mentee seated: O(R * (M + 1) * (P + n + m)) at worst, M the
 * most seated in a round, and far less in practice because a search stops at the
 * first mentor with room. Memory O(P + n + m), plus the caller's R * n schedule.
 */
#include "solve/rounds.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int check_input(const struct solve_rounds_input *in, const int *schedule)
{
    if (in == NULL || in->n_mentors < 0 || in->n_mentees < 0 || in->n_allowed < 0 ||
        in->rounds < 0)
        return -EINVAL;
    if (in->allowed == NULL && in->n_allowed > 0)
        return -EINVAL;
    if (schedule == NULL && in->rounds > 0 && in->n_mentees > 0)
        return -EINVAL;
    if (in->mentor_per_round != NULL)
        for (int i = 0; i < in->n_mentors; i++)
            if (in->mentor_per_round[i] < 0)
                return -EINVAL;
    for (int k = 0; k < in->n_allowed; k++)
        if (in->allowed[k][0] < 0 || in->allowed[k][0] >= in->n_mentors ||
            in->allowed[k][1] < 0 || in->allowed[k][1] >= in->n_mentees)
            return -EINVAL;
    return 0;
}

static int int_cmp(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    return a < b ? -1 : (a > b);
}

enum { FREE = 0, SEEN = 1, DEAD = 2 };

struct sched {
    int n, m;
    /* Mentee j's pairs are first[j] .. first[j+1]-1, by mentor; used[e] once met. */
    int *first, *mentor;
    unsigned char *used;
    /* Mentor i seats cap[i] mentees in slots[soff[i] .. soff[i] + cap[i] - 1]. */
    int *cap, *soff, *slots, *load;
    /* This round: the pair mentee j sits by (-1 = none) and its slot. */
    int *seat, *slot_of;
    int *met, *order, *bucket;
    /* Search scratch. */
    unsigned char *mstate, *istate;
    int *queue, *par_e, *par_mentee, *touched_m, *touched_i;
};

static void sched_free(struct sched *s)
{
    free(s->first); free(s->mentor); free(s->used);
    free(s->cap); free(s->soff); free(s->slots); free(s->load);
    free(s->seat); free(s->slot_of); free(s->met); free(s->order); free(s->bucket);
    free(s->mstate); free(s->istate);
    free(s->queue); free(s->par_e); free(s->par_mentee); free(s->touched_m); free(s->touched_i);
}

/* Builds the rows of pairs, sorted by mentor without duplicates, and skips mentors who
 * meet nobody per round. */
static int build_rows(const struct solve_rounds_input *in, struct sched *s)
{
    const int n = s->n, m = s->m;
    long long total = in->allowed == NULL ? (long long)n * m : in->n_allowed;
    if (total > INT_MAX - 1)
        return -ENOMEM;
    s->first = calloc((size_t)n + 1, sizeof *s->first);
    s->mentor = malloc(((size_t)total + 1) * sizeof *s->mentor);
    if (s->first == NULL || s->mentor == NULL)
        return -ENOMEM;
    if (in->allowed == NULL) {
        int k = 0;
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++)
                if (s->cap[i] > 0)
                    s->mentor[k++] = i;
            s->first[j + 1] = k;
        }
    } else {
        int *fill = malloc(((size_t)n + 1) * sizeof *fill);
        if (fill == NULL)
            return -ENOMEM;
        for (int k = 0; k < in->n_allowed; k++)
            s->first[in->allowed[k][1] + 1]++;
        for (int j = 0; j < n; j++)
            s->first[j + 1] += s->first[j];
        memcpy(fill, s->first, (size_t)n * sizeof *fill);
        for (int k = 0; k < in->n_allowed; k++)
            s->mentor[fill[in->allowed[k][1]]++] = in->allowed[k][0];
        free(fill);
        /* Sort each row, drop duplicates and mentors without room, compact in place. */
        int w = 0;
        for (int j = 0; j < n; j++) {
            int a = s->first[j], b = s->first[j + 1];
            qsort(s->mentor + a, (size_t)(b - a), sizeof *s->mentor, int_cmp);
            s->first[j] = w;
            for (int e = a; e < b; e++)
                if (s->cap[s->mentor[e]] > 0 && (w == s->first[j] || s->mentor[w - 1] != s->mentor[e]))
                    s->mentor[w++] = s->mentor[e];
        }
        s->first[n] = w;
    }
    s->used = calloc((size_t)s->first[n] + 1, 1);
    return s->used == NULL ? -ENOMEM : 0;
}

/* Seats: a mentor never needs more slots than it has mentees to meet, which keeps the
 * slot total within the pair count. */
static int build_slots(struct sched *s)
{
    const int n = s->n, m = s->m;
    int *deg = calloc((size_t)m + 1, sizeof *deg);
    s->soff = malloc(((size_t)m + 1) * sizeof *s->soff);
    if (deg == NULL || s->soff == NULL) {
        free(deg);
        return -ENOMEM;
    }
    for (int e = 0; e < s->first[n]; e++)
        deg[s->mentor[e]]++;
    s->soff[0] = 0;
    for (int i = 0; i < m; i++) {
        if (s->cap[i] > deg[i])
            s->cap[i] = deg[i];
        s->soff[i + 1] = s->soff[i] + s->cap[i];
    }
    free(deg);
    s->slots = malloc(((size_t)s->soff[m] + 1) * sizeof *s->slots);
    return s->slots == NULL ? -ENOMEM : 0;
}

/* Moves mentees along the path found, ending at mentor i which has room. */
static void augment(struct sched *s, int i)
{
    int slot = s->load[i]++;
    for (;;) {
        int v = s->par_mentee[i], e = s->par_e[i];
        int old = s->seat[v], old_slot = s->slot_of[v];
        s->seat[v] = e;
        s->slot_of[v] = slot;
        s->slots[s->soff[i] + slot] = v;
        if (old < 0)
            return;             /* v is the mentee the search started from */
        i = s->mentor[old];     /* v's old seat goes to whoever reached that mentor */
        slot = old_slot;
    }
}

/* Breadth-first search for an augmenting path from unseated mentee j. Returns 1 when
 * j was seated; on failure marks everything reached dead for this round. */
static int seat_mentee(struct sched *s, int j)
{
    int head = 0, tail = 0, n_tm = 0, n_ti = 0, found = 0;
    s->queue[tail++] = j;
    s->mstate[j] = SEEN;
    s->touched_m[n_tm++] = j;
    while (head < tail && !found) {
        int u = s->queue[head++];
        for (int e = s->first[u]; e < s->first[u + 1]; e++) {
            int i = s->mentor[e];
            if (s->used[e] || s->istate[i] != FREE)
                continue;   /* met before, reached already, or dead; u's own mentor in
                             * this round is the one u was reached from, so SEEN */
            s->istate[i] = SEEN;
            s->touched_i[n_ti++] = i;
            s->par_e[i] = e;
            s->par_mentee[i] = u;
            if (s->load[i] < s->cap[i]) {
                augment(s, i);
                found = 1;
                break;
            }
            for (int k = s->soff[i]; k < s->soff[i] + s->cap[i]; k++) {
                int v = s->slots[k];
                if (s->mstate[v] == FREE) {
                    s->mstate[v] = SEEN;
                    s->touched_m[n_tm++] = v;
                    s->queue[tail++] = v;
                }
            }
        }
    }
    unsigned char mark = found ? FREE : DEAD;
    for (int k = 0; k < n_tm; k++)
        s->mstate[s->touched_m[k]] = mark;
    for (int k = 0; k < n_ti; k++)
        s->istate[s->touched_i[k]] = mark;
    return found;
}

/* One round; returns how many mentees were seated and writes row (n entries). */
static int one_round(struct sched *s, int *row)
{
    const int n = s->n, m = s->m;
    memset(s->load, 0, (size_t)m * sizeof *s->load);
    memset(s->istate, FREE, (size_t)m);
    memset(s->mstate, FREE, (size_t)n);
    for (int j = 0; j < n; j++)
        s->seat[j] = -1;

    /* Order by (met so far, index): a counting sort, met[j] <= m. */
    memset(s->bucket, 0, ((size_t)m + 2) * sizeof *s->bucket);
    for (int j = 0; j < n; j++)
        s->bucket[s->met[j] + 1]++;
    for (int k = 0; k <= m; k++)
        s->bucket[k + 1] += s->bucket[k];
    for (int j = 0; j < n; j++)
        s->order[s->bucket[s->met[j]]++] = j;

    int seated = 0;
    for (int k = 0; k < n; k++)
        seated += seat_mentee(s, s->order[k]);
    for (int j = 0; j < n; j++) {
        row[j] = -1;
        if (s->seat[j] >= 0) {
            row[j] = s->mentor[s->seat[j]];
            s->used[s->seat[j]] = 1;
            s->met[j]++;
        }
    }
    return seated;
}

int solve_rounds(const struct solve_rounds_input *in, int *schedule)
{
    int rc = check_input(in, schedule);
    if (rc != 0)
        return rc;
    const int n = in->n_mentees, m = in->n_mentors;
    if (n == 0 || in->rounds == 0)
        return 0;

    struct sched s = {.n = n, .m = m};
    size_t nn = (size_t)n + 1, mm = (size_t)m + 2;
    s.cap = malloc(mm * sizeof *s.cap);
    if (s.cap == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (int i = 0; i < m; i++)
        s.cap[i] = in->mentor_per_round != NULL ? in->mentor_per_round[i] : 1;
    rc = build_rows(in, &s);
    if (rc == 0)
        rc = build_slots(&s);
    if (rc != 0)
        goto out;
    s.load = malloc(mm * sizeof *s.load);
    s.seat = malloc(nn * sizeof *s.seat);
    s.slot_of = malloc(nn * sizeof *s.slot_of);
    s.met = calloc(nn, sizeof *s.met);
    s.order = malloc(nn * sizeof *s.order);
    s.bucket = malloc(mm * sizeof *s.bucket);
    s.mstate = malloc(nn);
    s.istate = malloc(mm);
    s.queue = malloc(nn * sizeof *s.queue);
    s.par_e = malloc(mm * sizeof *s.par_e);
    s.par_mentee = malloc(mm * sizeof *s.par_mentee);
    s.touched_m = malloc(nn * sizeof *s.touched_m);
    s.touched_i = malloc(mm * sizeof *s.touched_i);
    if (!s.load || !s.seat || !s.slot_of || !s.met || !s.order || !s.bucket || !s.mstate ||
        !s.istate || !s.queue || !s.par_e || !s.par_mentee || !s.touched_m || !s.touched_i) {
        rc = -ENOMEM;
        goto out;
    }
    /* Nothing fails from here on, so the schedule is written only on success. */
    int r = 0;
    for (; r < in->rounds; r++)
        if (one_round(&s, schedule + (size_t)r * (size_t)n) == 0)
            break;
    for (r++; r < in->rounds; r++)
        for (int j = 0; j < n; j++)
            schedule[(size_t)r * (size_t)n + (size_t)j] = -1;
    rc = 0;
out:
    sched_free(&s);
    return rc;
}
