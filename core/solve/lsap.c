/* solve/lsap: dense minimum-cost assignment, Jonker-Volgenant (LAPJV).
 * It must stay exact (integer costs, no epsilon) and deterministic, and use no memory
 * beyond O(n_cols) besides the caller's matrix.
 *
 * Method (R. Jonker, A. Volgenant, "A shortest augmenting path algorithm for dense and
 * sparse linear assignment problems", Computing 38, 1987), on column duals v with row
 * duals implicit (u_r = cost[r][col_of[r]] - v[col_of[r]]), every reduced cost
 * cost[r][c] - u_r - v[c] >= 0 and every assigned cell's = 0:
 *   - square only: column reduction (v[c] = column minimum, each column offered to the
 *     row of its minimum), reduction transfer (an assigned row's slack moved to its
 *     column), then two rounds of augmenting row reduction: a free row takes its
 *     cheapest column, lowering that column's v by the gap to the second cheapest, and
 *     the row it displaces is handled next. On random dense instances this leaves only a
 *     few rows free.
 *   - then for each free row a shortest augmenting path (Dijkstra on reduced costs over
 *     the columns, O(n_cols) per step with no heap: the dense matrix makes every column
 *     a neighbour), ended at the first unassigned column at the least distance; the
 *     columns scanned before it move their v by d - d_min (the JV trick: only those).
 *   - n_rows < n_cols: the reductions assume every column ends assigned, so they are
 *     skipped and every row is augmented from v = 0. Columns never reached keep v = 0
 *     and v only falls, so the unassigned columns keep the largest v, which with the
 *     rest makes the dual of the rectangular problem feasible and the answer optimal.
 * Complexity: O(n_rows^2 n_cols) at worst (n_rows augmentations of O(n_rows n_cols)),
 * O(n^2) for the reductions; far less on random instances. Memory O(n_cols).
 *
 * Exactness: reduced costs, distances and duals are differences of costs along
 * alternating paths (at most n_cols + 1 cells each way), so all stay within
 * 4 (n_cols + 1) max|cost| < INT64_MAX / 2 under the bound checked on entry. */
#include "solve/lsap.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#define INF LLONG_MAX

/* Column reduction, reduction transfer and two rounds of augmenting row reduction
 * (square only). Leaves the rows still free in free_rows and returns their count. */
static int reduce(int n, const long long *cost, long long *v, int *row_of, int *col_of,
                  int *free_rows, int *matches, int *argmin)
{
    /* Column minima, scanned by rows for locality; ties go to the lowest row. */
    for (int c = 0; c < n; c++) {
        v[c] = cost[c];
        argmin[c] = 0;
    }
    for (int r = 1; r < n; r++) {
        const long long *row = cost + (size_t)r * (size_t)n;
        for (int c = 0; c < n; c++)
            if (row[c] < v[c]) {
                v[c] = row[c];
                argmin[c] = r;
            }
    }
    for (int r = 0; r < n; r++) {
        matches[r] = 0;
        col_of[r] = -1;
    }
    for (int c = n - 1; c >= 0; c--) {
        int r = argmin[c];
        if (++matches[r] == 1) {
            col_of[r] = c;
            row_of[c] = r;
        } else if (v[c] < v[col_of[r]]) {
            int c1 = col_of[r];
            col_of[r] = c;
            row_of[c] = r;
            row_of[c1] = -1;
        } else {
            row_of[c] = -1;
        }
    }
    /* Reduction transfer. */
    int n_free = 0;
    for (int r = 0; r < n; r++) {
        if (matches[r] == 0) {
            free_rows[n_free++] = r;
        } else if (matches[r] == 1) {
            const long long *row = cost + (size_t)r * (size_t)n;
            int c1 = col_of[r];
            long long least = INF;
            for (int c = 0; c < n; c++)
                if (c != c1 && row[c] - v[c] < least)
                    least = row[c] - v[c];
            if (least != INF)
                v[c1] -= least;
        }
    }
    /* Augmenting row reduction, twice over the free rows. A displaced row is handled at
     * once; a price war between rows is cut off by a step budget (stopping anywhere is
     * safe: assigned rows stay on a cheapest column, free rows go to augment). */
    long long budget = 16 * (long long)n + 1024;
    for (int round = 0; round < 2; round++) {
        int k = 0, prev = n_free;
        n_free = 0;
        while (k < prev) {
            if (--budget < 0) {
                while (k < prev)
                    free_rows[n_free++] = free_rows[k++];
                break;
            }
            int r = free_rows[k++];
            const long long *row = cost + (size_t)r * (size_t)n;
            long long u1 = row[0] - v[0], u2 = INF;
            int c1 = 0, c2 = -1;
            for (int c = 1; c < n; c++) {
                long long h = row[c] - v[c];
                if (h < u2) {
                    if (h >= u1) {
                        u2 = h;
                        c2 = c;
                    } else {
                        u2 = u1;
                        u1 = h;
                        c2 = c1;
                        c1 = c;
                    }
                }
            }
            int r0 = row_of[c1];
            if (u1 < u2) {
                v[c1] -= u2 - u1;     /* u2 is finite: n >= 2 when a row is free */
            } else if (r0 >= 0) {     /* a tie, and c1 is taken: take c2 instead */
                c1 = c2;
                r0 = row_of[c2];
            }
            col_of[r] = c1;
            row_of[c1] = r;
            if (r0 >= 0) {
                col_of[r0] = -1;
                if (u1 < u2)
                    free_rows[--k] = r0;    /* handle the displaced row next */
                else
                    free_rows[n_free++] = r0;
            }
        }
    }
    return n_free;
}

/* One shortest augmenting path from free row f (see the top comment). */
static void augment(int n_cols, const long long *cost, long long *v, int *row_of,
                    int *col_of, int f, long long *d, int *pred, int *cols)
{
    const long long *row = cost + (size_t)f * (size_t)n_cols;
    for (int c = 0; c < n_cols; c++) {
        d[c] = row[c] - v[c];
        pred[c] = f;
        cols[c] = c;
    }
    /* cols[0 .. low-1]: scanned; cols[low .. up-1]: at the least distance, to scan;
     * cols[up ..]: farther. */
    int low = 0, up = 0, last = 0, end = -1;
    long long least = 0;
    while (end < 0) {
        if (up == low) {
            last = low - 1;
            least = d[cols[up++]];
            for (int k = up; k < n_cols; k++) {
                int c = cols[k];
                long long h = d[c];
                if (h <= least) {
                    if (h < least) {
                        up = low;
                        least = h;
                    }
                    cols[k] = cols[up];
                    cols[up++] = c;
                }
            }
            for (int k = low; k < up; k++)
                if (row_of[cols[k]] < 0) {
                    end = cols[k];
                    break;
                }
            if (end >= 0)
                break;
        }
        int c1 = cols[low++], r = row_of[c1];
        const long long *rr = cost + (size_t)r * (size_t)n_cols;
        long long h = rr[c1] - v[c1] - least;
        for (int k = up; k < n_cols; k++) {
            int c = cols[k];
            long long x = rr[c] - v[c] - h;
            if (x < d[c]) {
                pred[c] = r;
                d[c] = x;
                if (x == least) {
                    if (row_of[c] < 0) {
                        end = c;
                        break;
                    }
                    cols[k] = cols[up];
                    cols[up++] = c;
                }
            }
        }
    }
    for (int k = 0; k <= last; k++) {
        int c = cols[k];
        v[c] += d[c] - least;
    }
    for (;;) {
        int r = pred[end];
        row_of[end] = r;
        int next = col_of[r];
        col_of[r] = end;
        if (r == f)
            break;
        end = next;
    }
}

int lsap_solve(int n_rows, int n_cols, const long long *cost, int *col_of)
{
    if (n_rows < 0 || n_cols < n_rows || (n_rows > 0 && (cost == NULL || col_of == NULL)))
        return -EINVAL;
    if (n_rows == 0)
        return 0;
    const long long limit = LLONG_MAX / (8 * ((long long)n_cols + 1));
    const size_t cells = (size_t)n_rows * (size_t)n_cols;
    for (size_t k = 0; k < cells; k++)
        if (cost[k] > limit || cost[k] < -limit)
            return -EOVERFLOW;
    size_t nc = (size_t)n_cols;
    long long *v = calloc(nc, sizeof *v), *d = malloc(nc * sizeof *d);
    int *row_of = malloc(nc * sizeof *row_of), *pred = malloc(nc * sizeof *pred);
    int *cols = malloc(nc * sizeof *cols), *free_rows = malloc(nc * sizeof *free_rows);
    int *matches = malloc(nc * sizeof *matches);
    int rc = -ENOMEM;
    if (!v || !d || !row_of || !pred || !cols || !free_rows || !matches)
        goto out;
    int n_free;
    if (n_rows == n_cols) {
        n_free = reduce(n_rows, cost, v, row_of, col_of, free_rows, matches, pred);
    } else {
        for (int c = 0; c < n_cols; c++)
            row_of[c] = -1;
        for (int r = 0; r < n_rows; r++) {
            col_of[r] = -1;
            free_rows[r] = r;
        }
        n_free = n_rows;
    }
    for (int k = 0; k < n_free; k++)
        augment(n_cols, cost, v, row_of, col_of, free_rows[k], d, pred, cols);
    rc = 0;
out:
    free(v); free(d); free(row_of); free(pred); free(cols); free(free_rows); free(matches);
    return rc;
}
