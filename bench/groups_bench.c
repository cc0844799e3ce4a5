/* groups_bench: times solve_groups on the senior_leader shape that made its shortest paths
 * slow, and prints one JSON line. No peer runs it: compare its methods with each other, and
 * with solve_bench's assign rows for LEMON (bench/RESULTS.md).
 *
 *   bench/groups_bench N M K SIZE PRIO [OBJ] [DISTINCT] [METHOD] [REPEAT]
 *
 * N mentees, M mentors each leading one group of SIZE, K random mentors per mentee (a pair
 * listed twice counts once), scores 1 or 2 (1 in 12 scores 1), 12 departments drawn at random
 * (they bind only when DISTINCT is 1). PRIO 0: every priority 1e12 (a first tick); 1: random
 * in 0 .. 999,999; 2: 1e12 plus that (a first tick plus waiting seconds). OBJ 0 COVERAGE,
 * 1 QUALITY. METHOD 0 auto, 1 ssp, 2 scaling (enum solve_groups_method). The instance comes
 * from a fixed xorshift seed, so a row is reproducible. The time is CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) of the solve_groups call alone, best of REPEAT (default 1). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "solve/groups.h"

static unsigned long long seed = 88172645463325252ULL;

static unsigned long long rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: groups_bench N M K SIZE PRIO [OBJ] [DISTINCT] [METHOD] [REPEAT]\n");
        return 2;
    }
    int n = atoi(argv[1]), m = atoi(argv[2]), k = atoi(argv[3]), size = atoi(argv[4]);
    int prio_mode = atoi(argv[5]);
    int obj = argc > 6 ? atoi(argv[6]) : 0, distinct = argc > 7 ? atoi(argv[7]) : 0;
    int method = argc > 8 ? atoi(argv[8]) : 0, repeat = argc > 9 ? atoi(argv[9]) : 1;
    if (n < 1 || m < 1 || k < 1 || size < 0 || repeat < 1) {
        fprintf(stderr, "groups_bench: bad arguments\n");
        return 2;
    }
    int *groups = malloc((size_t)m * sizeof *groups), *cat = malloc((size_t)n * sizeof *cat);
    long long *prio = malloc((size_t)n * sizeof *prio);
    struct solve_group_edge *e = malloc((size_t)n * (size_t)k * sizeof *e);
    int *group_of = malloc((size_t)n * sizeof *group_of);
    if (!groups || !cat || !prio || !e || !group_of)
        return 1;
    for (int i = 0; i < m; i++)
        groups[i] = 1;
    for (int j = 0; j < n; j++) {
        long long r = prio_mode != 0 ? (long long)(rnd() % 1000000) : 0;
        prio[j] = prio_mode == 0 ? 1000000000000LL : prio_mode == 1 ? r : 1000000000000LL + r;
        cat[j] = (int)(rnd() % 12);
    }
    int ne = 0;
    for (int j = 0; j < n; j++)
        for (int t = 0; t < k; t++) {
            e[ne].mentee = j;
            e[ne].mentor = (int)(rnd() % (unsigned)m);
            e[ne].score = 1 + (rnd() % 12 != 0);
            ne++;
        }
    struct solve_groups_input in = {
        .n_mentors = m, .groups = groups, .n_mentees = n, .category = cat, .priority = prio,
        .size = size, .distinct = distinct != 0, .n_edges = ne, .edges = e,
        .objective = obj ? SOLVE_GROUPS_QUALITY : SOLVE_GROUPS_COVERAGE,
        .method = (enum solve_groups_method)method,
    };
    double best = 1e30;
    int n_groups = 0, rc = 0;
    enum solve_groups_method used = SOLVE_GROUPS_AUTO;
    for (int r = 0; r < repeat; r++) {
        double t0 = cpu_now();
        rc = solve_groups_used(&in, group_of, &n_groups, &used);
        double t = cpu_now() - t0;
        if (rc != 0) {
            fprintf(stderr, "solve_groups: %d\n", rc);
            return 1;
        }
        if (t < best)
            best = t;
    }
    /* The value, from the input: group g is mentor g's (one group each). */
    long long placed = 0, psum = 0, micro = 0;
    for (int j = 0; j < n; j++) {
        if (group_of[j] < 0)
            continue;
        long long s = -1;
        for (int t = 0; t < k; t++) {
            const struct solve_group_edge *x = &e[(size_t)j * (size_t)k + (size_t)t];
            if (x->mentor == group_of[j] && llround(x->score * 1e6) > s)
                s = llround(x->score * 1e6);
        }
        placed++;
        psum += prio[j];
        micro += s;
    }
    static const char *const names[] = {"auto", "ssp", "scaling"};
    printf("{\"solver\": \"tandem-groups\", \"n\": %d, \"m\": %d, \"k\": %d, \"size\": %d, "
           "\"prio\": %d, \"objective\": \"%s\", \"distinct\": %d, \"method\": \"%s\", "
           "\"best_s\": %.6f, \"placed\": %lld, \"priority\": %lld, \"score_micro\": %lld}\n",
           n, m, k, size, prio_mode, obj ? "quality" : "coverage", distinct != 0, names[used],
           best, placed, psum, micro);
    free(groups); free(cat); free(prio); free(e); free(group_of);
    return 0;
}
