/* solve/assign: optimal capacitated maximum-weight bipartite assignment of
 * mentees to mentors under a lexicographic objective, on plain arrays.
 * It must never know of Lua, people or the engine, and never keep state between calls. */
#ifndef TANDEM_SOLVE_ASSIGN_H
#define TANDEM_SOLVE_ASSIGN_H

/* An allowed pair. Indices are 0-based into the mentor and mentee arrays.
 * A pair listed twice counts once, with the higher score. */
struct solve_edge {
    int    mentor;
    int    mentee;
    double score;      /* finite, |score| <= 1e9; compared as llround(score * 1e6) */
};

/* What is maximized, lexicographically (score_micro = llround(score * 1e6)):
 *   SOLVE_COVERAGE: (number matched, sum of matched mentees' priority, sum of score_micro)
 *   SOLVE_QUALITY:  (sum of score_micro, number matched, sum of matched mentees' priority)
 * So COVERAGE uses a negative-score pair when it matches one more person, and
 * QUALITY leaves it out when it lowers the total score. */
enum solve_objective { SOLVE_COVERAGE, SOLVE_QUALITY };

/* How solve_assign solves (all give an optimum of the same value; among equal optima they
 * may pick different ones). SOLVE_AUTO picks by the input's shape and is what callers
 * want; the others are for tests and benchmarks. A method that does not apply to the
 * input (see assign.c: the scalar ones need the objective's totals to fit one 64-bit
 * integer with room to spare, the dense one also capacities of 1 and at most 2^26
 * matrix cells, the scaling one its scalar to fit 128 bits with room for the prices)
 * falls back as SOLVE_AUTO does. */
enum solve_method {
    SOLVE_AUTO = 0,
    SOLVE_METHOD_LEX,       /* shortest paths on lexicographic triples: always applies */
    SOLVE_METHOD_SPARSE,    /* the triple as one integer; auction opening, then shortest paths */
    SOLVE_METHOD_DENSE,     /* the triple as one integer; Jonker-Volgenant on the full matrix */
    SOLVE_METHOD_SCALING,   /* the triple as one 128-bit integer; cost scaling (solve/costscale) */
};

/* The problem. The solver only reads it; the caller owns every array. */
struct solve_assign_input {
    int n_mentors;
    const int *capacity;            /* n_mentors entries, each >= 0; NULL only when n_mentors == 0 */
    int n_mentees;
    const long long *priority;      /* n_mentees entries, each >= 0, higher = waited longer; NULL = all 0 */
    int n_edges;
    const struct solve_edge *edges; /* n_edges entries; NULL only when n_edges == 0 */
    enum solve_objective objective;
    enum solve_method method;       /* added after the first release: 0 = SOLVE_AUTO */
};

/* Finds an optimal assignment: each mentee gets at most one mentor, mentor i at
 * most capacity[i] mentees, only listed pairs are used, and the objective above
 * is maximal. Fills mentor_of[j] (n_mentees entries, owned by the caller) with
 * the mentor of mentee j, or -1.
 * Deterministic: the same input gives the same output, whatever the order of
 * the edges list (ties between equal optima are broken the same way each time).
 * Returns 0; -EINVAL for bad input (NULL where an array is needed, a negative
 * count, an index out of range, a negative capacity or priority, a NaN or
 * |score| > 1e9 score, an unknown objective or method); -EOVERFLOW when the objective's
 * totals could leave the exact 64-bit range (sum over mentees of their largest
 * |score_micro|, or of their priority, above INT64_MAX / 64, about 1.4e17);
 * -ENOMEM when memory runs out or the problem is too large to index with int.
 * On error mentor_of is left untouched. */
int solve_assign(const struct solve_assign_input *in, int *mentor_of);

/* solve_assign, also telling in *used (when used != NULL) the method that gave the
 * answer; SOLVE_AUTO when there was nothing to solve (no mentee). *used is set only when
 * 0 is returned. */
int solve_assign_used(const struct solve_assign_input *in, int *mentor_of, enum solve_method *used);

/* The objective value of an assignment, for tests and callers that report it. */
struct solve_value {
    long long count;        /* mentees matched */
    long long priority;     /* sum of the matched mentees' priority */
    long long score_micro;  /* sum of llround(score * 1e6) over the used pairs */
};

/* Computes the value of mentor_of (n_mentees entries, read only) for in.
 * Returns {-1, -1, -1} when in is bad (as for solve_assign), when mentor_of is
 * not a valid assignment (index out of range, a pair that is not listed, a
 * mentor over capacity), when a sum does not fit in long long, or when memory
 * runs out. Allocates only scratch space that it frees. */
struct solve_value solve_assign_value(const struct solve_assign_input *in, const int *mentor_of);

#endif
