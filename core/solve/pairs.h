/* solve/pairs: optimal maximum-weight matching on a general (non-bipartite) graph,
 * for peer mentoring, where everyone comes from one pool, under a lexicographic
 * objective, on plain arrays. It must never know of Lua, people or the engine,
 * and never keep state between calls. */
#ifndef TANDEM_SOLVE_PAIRS_H
#define TANDEM_SOLVE_PAIRS_H

/* An allowed pair of people, 0-based, a != b, in either order. A pair listed
 * more than once (in either orientation) counts once, with the higher score. */
struct solve_pair_edge {
    int    a;
    int    b;
    double score;      /* finite, |score| <= 1e9; compared as llround(score * 1e6) */
};

/* What is maximized, lexicographically (score_micro = llround(score * 1e6)):
 *   SOLVE_PAIRS_COVERAGE: (number of pairs, sum of score_micro)
 *   SOLVE_PAIRS_QUALITY:  (sum of score_micro, number of pairs)
 * So COVERAGE takes a negative-score pair when it pairs one more couple of people,
 * and QUALITY never takes one, but takes zero-score pairs when they add pairs. */
enum solve_pairs_objective { SOLVE_PAIRS_COVERAGE, SOLVE_PAIRS_QUALITY };

/* The problem. The solver only reads it; the caller owns every array. */
struct solve_pairs_input {
    int n_people;
    int n_edges;
    const struct solve_pair_edge *edges;   /* n_edges entries; NULL only when n_edges == 0 */
    enum solve_pairs_objective objective;
};

/* Finds an optimal matching: each person is in at most one pair, only listed
 * pairs are used, and the objective above is maximal. Fills mate[i] (n_people
 * entries, owned by the caller) with the person paired with i, or -1; mate is
 * symmetric.
 * Deterministic: the same input gives the same output, whatever the order of the
 * edges list and of the two ends of each edge.
 * Returns 0; -EINVAL for bad input (in NULL, mate NULL when n_people > 0, a
 * negative count, edges NULL when n_edges > 0, an index out of range, a == b, a
 * NaN or |score| > 1e9 score, an unknown objective); -EOVERFLOW when the exact
 * 64-bit weights cannot hold the objective, i.e. when above INT64_MAX / 16 (about
 * 5.7e17): for COVERAGE, 1 + the sum over people of their largest |score_micro| +
 * the largest score_micro; for QUALITY, the largest score_micro times (people with
 * a pair of score_micro >= 0, halved, + 1). Scores up to 1,000 fit any pool below 500,000
 * people; scores of 1e9 fit about 570 people (COVERAGE) or 1,150 (QUALITY).
 * -ENOMEM when memory runs out or the problem is too large to index with int.
 * On error mate is left untouched.
 * Time: O(n^3 + n m) at worst; 10,000 people and 100,000 pairs take about 0.1 s. */
int solve_pairs(const struct solve_pairs_input *in, int *mate);

/* The objective value of a matching, for tests and callers that report it. */
struct solve_pairs_value {
    long long count;        /* pairs */
    long long score_micro;  /* sum of llround(score * 1e6) over the used pairs */
};

/* Computes the value of mate (n_people entries, read only) for in. Returns
 * {-1, -1} when in is bad (as for solve_pairs), when mate is not a matching of
 * listed pairs (an index out of range, i paired with itself, mate not symmetric,
 * a pair that is not listed), when a sum does not fit in long long, or when
 * memory runs out. Allocates only scratch space that it frees. */
struct solve_pairs_value solve_pairs_value(const struct solve_pairs_input *in, const int *mate);

#endif
