/* solve/lsap: the dense linear sum assignment problem (minimum cost, every row gets a
 * column) on a full cost matrix of 64-bit integers. solve/assign calls it for dense
 * instances; it knows nothing of mentors or objectives and keeps no state between calls. */
#ifndef TANDEM_SOLVE_LSAP_H
#define TANDEM_SOLVE_LSAP_H

/* Assigns each of n_rows rows a distinct column out of n_cols >= n_rows, minimizing the
 * sum of cost[r * n_cols + c] over the chosen cells, exactly. The caller owns cost (read
 * only) and col_of (n_rows entries, filled with each row's column).
 * Deterministic: the result depends only on the matrix.
 * Returns 0; -EINVAL for n_rows < 0, n_cols < n_rows, or a NULL array where one is
 * needed; -EOVERFLOW when some |cost| > INT64_MAX / (8 (n_cols + 1)), beyond which the
 * dual values could overflow; -ENOMEM. On error col_of is left undefined. */
int lsap_solve(int n_rows, int n_cols, const long long *cost, int *col_of);

#endif
