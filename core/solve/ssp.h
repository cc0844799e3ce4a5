/* solve/ssp: maximum-gain capacitated assignment of rows to columns with scalar integer
 * gains on a sparse pair list, by successive shortest paths. solve/assign maps its
 * lexicographic objective onto these scalars and calls it; it knows nothing else.
 * It must never keep state between calls. */
#ifndef TANDEM_SOLVE_SSP_H
#define TANDEM_SOLVE_SSP_H

#include <stddef.h>

/* A pair of a row. The caller fills gain and col; ub is the solver's scratch, and the
 * solver reorders each row's pairs among themselves (one array for the pairs and the
 * solver's sorted copy of them: a third of the memory, read at random, of two). */
struct ssp_arc {
    long long gain;          /* > 0, nonincreasing within a row as the caller lists them */
    long long ub;            /* scratch (see ssp.c) */
    int col;                 /* 0 .. n_cols-1; a column appears at most once per row */
};

/* The problem, in compressed rows. The caller owns every array; the solver only reads
 * them, except arc (above). Row r's pairs are arc[first[r]] .. arc[first[r+1]-1]. */
struct ssp_problem {
    int n_rows, n_cols;
    const int *cap;          /* n_cols entries, each >= 0: rows a column may take */
    const int *first;        /* n_rows + 1 entries, first[0] == 0, nondecreasing */
    struct ssp_arc *arc;     /* first[n_rows] entries */
    const int *listed;       /* n_cols entries: the arcs to each column */
    const int *order;        /* n_order distinct rows, in the order they are inserted */
    int n_order;
    long long budget;        /* > 0: give up (-EAGAIN) once the searches have settled more
                              * nodes than this in all; 0: no limit */
};

/* Finds an assignment (each row at most one column, column c at most cap[c] rows, only
 * listed pairs) of maximum total gain, exactly, and fills col_of[r] (n_rows entries,
 * owned by the caller) with the column row r takes, or -1. Rows not in order stay at -1.
 * Deterministic: the result depends only on the arrays' contents. Among equal optima,
 * rows inserted earlier keep their column (an equal swap is never made).
 * Exactness needs B = sum over rows of their largest gain <= INT64_MAX / 64; the caller
 * guarantees it (see ssp.c), and nothing is checked here but memory.
 * Returns 0, -EAGAIN when the budget ran out, or -ENOMEM (col_of is then left untouched,
 * and arc's rows in some order of their own). */
int ssp_solve(const struct ssp_problem *p, int *col_of);

/* malloc for the solvers' large arrays (their rows and arcs), read at random: from
 * SSP_BIG_BYTES on, the block is aligned to 2 MiB and the kernel is asked to back it with
 * huge pages (madvise MADV_HUGEPAGE, where the system has it), which saves most of the
 * TLB misses and page faults; below, plain malloc. Free the result with free().
 * Returns NULL when memory runs out (or bytes is 0 past the plain malloc's own answer). */
#define SSP_BIG_BYTES ((size_t)1 << 20)
void *ssp_alloc(size_t bytes);

#endif
