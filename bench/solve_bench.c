/* solve_bench: times tandem's solvers (core/solve) on one instance file and prints one JSON
 * line. The peer programs (lemon_peer.cc, solve_peers.py) read the same file; solve_bench.py
 * writes the instances and runs them all (see bench/README.md).
 *
 *   bench/solve_bench FILE [--repeat N] [--method auto|lex|sparse|dense|scaling]
 *
 * Instance format (text, whitespace separated, integer weights):
 *   pairs N M                        then M lines "a b w"  (0 <= a, b < N, a != b)
 *   assign N_MENTORS N_MENTEES M     then one line of N_MENTORS capacities,
 *                                    then M lines "mentor mentee w"
 * tandem gets score = w, so its score_micro = w * 1e6; the objective reported is the sum of
 * w over the chosen pairs (score_micro / 1e6, exact), SOLVE_QUALITY / SOLVE_PAIRS_QUALITY.
 * The time is CPU time (CLOCK_PROCESS_CPUTIME_ID) of the solve call alone, best of N.
 * --method forces solve_assign's method (default auto); "method" in the output is the one
 * that ran. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "solve/assign.h"
#include "solve/pairs.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *msg)
{
    fprintf(stderr, "solve_bench: %s\n", msg);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: solve_bench FILE [--repeat N] [--method auto|lex|sparse|dense|scaling]");
    int repeat = 3;
    enum solve_method method = SOLVE_AUTO, used = SOLVE_AUTO;
    static const char *const method_names[] = {"auto", "lex", "sparse", "dense", "scaling"};
    for (int a = 2; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "--repeat") == 0) {
            repeat = atoi(argv[a + 1]);
        } else if (strcmp(argv[a], "--method") == 0) {
            int k = 0;
            while (k < 5 && strcmp(argv[a + 1], method_names[k]) != 0)
                k++;
            if (k == 5)
                die("unknown method");
            method = (enum solve_method)k;
        } else {
            die("unknown option");
        }
    }
    if (repeat < 1)
        repeat = 1;
    FILE *f = fopen(argv[1], "r");
    if (!f)
        die("cannot open the instance");
    char kind[16];
    if (fscanf(f, "%15s", kind) != 1)
        die("bad header");
    double times[64];
    if (repeat > 64)
        repeat = 64;
    double best = 1e30;
    long long weight = 0, count = 0;
    int n = 0, n2 = 0, m = 0;

    if (strcmp(kind, "pairs") == 0) {
        if (fscanf(f, "%d %d", &n, &m) != 2 || n < 0 || m < 0)
            die("bad pairs header");
        struct solve_pair_edge *e = malloc(sizeof *e * (size_t)(m ? m : 1));
        int *mate = malloc(sizeof(int) * (size_t)(n ? n : 1));
        if (!e || !mate)
            die("out of memory");
        for (int i = 0; i < m; i++) {
            long long w;
            if (fscanf(f, "%d %d %lld", &e[i].a, &e[i].b, &w) != 3)
                die("bad edge");
            e[i].score = (double)w;
        }
        struct solve_pairs_input in = { n, m, e, SOLVE_PAIRS_QUALITY };
        for (int r = 0; r < repeat; r++) {
            double t0 = cpu_now();
            int rc = solve_pairs(&in, mate);
            times[r] = cpu_now() - t0;
            if (rc != 0) {
                fprintf(stderr, "solve_pairs: %d\n", rc);
                return 1;
            }
            if (times[r] < best)
                best = times[r];
        }
        struct solve_pairs_value v = solve_pairs_value(&in, mate);
        if (v.count < 0)
            die("solve_pairs_value refused the matching");
        weight = v.score_micro / 1000000;
        count = v.count;
        free(e);
        free(mate);
    } else if (strcmp(kind, "assign") == 0) {
        if (fscanf(f, "%d %d %d", &n, &n2, &m) != 3 || n < 0 || n2 < 0 || m < 0)
            die("bad assign header");
        int *cap = malloc(sizeof(int) * (size_t)(n ? n : 1));
        struct solve_edge *e = malloc(sizeof *e * (size_t)(m ? m : 1));
        int *mentor_of = malloc(sizeof(int) * (size_t)(n2 ? n2 : 1));
        if (!cap || !e || !mentor_of)
            die("out of memory");
        for (int i = 0; i < n; i++)
            if (fscanf(f, "%d", &cap[i]) != 1)
                die("bad capacity");
        for (int i = 0; i < m; i++) {
            long long w;
            if (fscanf(f, "%d %d %lld", &e[i].mentor, &e[i].mentee, &w) != 3)
                die("bad edge");
            e[i].score = (double)w;
        }
        struct solve_assign_input in = { n, cap, n2, NULL, m, e, SOLVE_QUALITY, method };
        for (int r = 0; r < repeat; r++) {
            double t0 = cpu_now();
            int rc = solve_assign_used(&in, mentor_of, &used);
            times[r] = cpu_now() - t0;
            if (rc != 0) {
                fprintf(stderr, "solve_assign: %d\n", rc);
                return 1;
            }
            if (times[r] < best)
                best = times[r];
        }
        struct solve_value v = solve_assign_value(&in, mentor_of);
        if (v.count < 0)
            die("solve_assign_value refused the assignment");
        weight = v.score_micro / 1000000;
        count = v.count;
        free(cap);
        free(e);
        free(mentor_of);
    } else {
        die("unknown instance kind");
    }
    fclose(f);
    printf("{\"solver\": \"tandem\", \"kind\": \"%s\", \"n\": %d, \"n2\": %d, \"m\": %d, "
           "\"best_s\": %.6f, \"times\": [", kind, n, n2, m, best);
    for (int r = 0; r < repeat; r++)
        printf("%s%.6f", r ? ", " : "", times[r]);
    printf("], \"objective\": %lld, \"count\": %lld", weight, count);
    if (strcmp(kind, "assign") == 0)
        printf(", \"method\": \"%s\"", method_names[used]);
    printf("}\n");
    return 0;
}
