/* solve/groups: optimal groups of mentees around mentors (the `group` and
 * `senior_leader` models): at most `size` mentees per group, optionally at most one
 * of each category (department) per group, under a lexicographic objective.
 * It must never know of Lua, people or the engine, and never keep state between calls. */
#ifndef TANDEM_SOLVE_GROUPS_H
#define TANDEM_SOLVE_GROUPS_H

#include <stdbool.h>

/* An allowed (mentor, mentee) pair, whichever of the mentor's groups the mentee
 * joins. Indices are 0-based. A pair listed twice counts once, with the higher score. */
struct solve_group_edge {
    int    mentor;
    int    mentee;
    double score;      /* finite, |score| <= 1e9; compared as llround(score * 1e6) */
};

/* What is maximized, lexicographically, as in solve/assign (score_micro =
 * llround(score * 1e6)):
 *   SOLVE_GROUPS_COVERAGE: (mentees placed, sum of their priority, sum of score_micro)
 *   SOLVE_GROUPS_QUALITY:  (sum of score_micro, mentees placed, sum of their priority) */
enum solve_groups_objective { SOLVE_GROUPS_COVERAGE, SOLVE_GROUPS_QUALITY };

/* How solve_groups solves (both give an optimum of the same value; among equal optima
 * each picks its own, the same way every time). SOLVE_GROUPS_AUTO picks by the input's
 * shape (see groups.c) and is what callers want; the others are for tests and benchmarks.
 * SOLVE_GROUPS_SCALING falls back to SOLVE_GROUPS_SSP when the costs are too large for
 * it (solve/costscale's -ERANGE). */
enum solve_groups_method {
    SOLVE_GROUPS_AUTO = 0,
    SOLVE_GROUPS_SSP,       /* solve/flow: one mentee at a time, shortest paths on triples */
    SOLVE_GROUPS_SCALING,   /* solve/costscale: cost scaling on one 128-bit scalar */
};

/* The problem. The solver only reads it; the caller owns every array. */
struct solve_groups_input {
    int n_mentors;
    const int *groups;          /* n_mentors entries, each >= 0: how many groups mentor i
                                 * leads (usually 0 or 1); NULL only when n_mentors == 0 */
    int n_mentees;
    const int *category;        /* n_mentees entries, each >= -1: e.g. the department's
                                 * index, -1 = none; NULL = every mentee has none */
    const long long *priority;  /* n_mentees entries, each >= 0, higher = waited longer;
                                 * NULL = all 0 */
    int size;                   /* >= 0: at most this many mentees per group */
    bool distinct;              /* at most one mentee of each category >= 0 per group;
                                 * category -1 is always allowed */
    int n_edges;
    const struct solve_group_edge *edges;   /* NULL only when n_edges == 0 */
    enum solve_groups_objective objective;
    enum solve_groups_method method;    /* added after the first release: 0 = AUTO */
};

/* Places mentees in groups so that the objective above is maximal: each mentee in at
 * most one group, a mentee only with a mentor it has a listed pair with, at most
 * `size` mentees per group and, when `distinct`, no two of one category >= 0 in a
 * group. Groups are numbered mentor by mentor: mentor 0's groups[0] groups first, then
 * mentor 1's, ...; *n_groups receives the total (sum of groups[], empty groups
 * included). group_of[j] (n_mentees entries, owned by the caller) receives the group
 * mentee j joins, or -1. A mentor's mentees are spread over its groups round-robin
 * (sizes differ by at most one), which never changes the objective: the score is a
 * pair's, not a group's.
 * Deterministic: the same input gives the same output whatever the order of edges.
 * Returns 0; -EINVAL for bad input (NULL where an array or output is needed, a negative
 * count, size or groups[i], a category below -1, a negative priority, an index out of
 * range, a NaN or |score| > 1e9 score, an unknown objective or method); -EOVERFLOW when the
 * groups do not fit in int or the objective's totals could leave the exact 64-bit
 * range (as in solve_assign: a sum over mentees above INT64_MAX / 64); -ENOMEM.
 * On error group_of and *n_groups are left untouched. */
int solve_groups(const struct solve_groups_input *in, int *group_of, int *n_groups);

/* solve_groups, also telling in *used (when used != NULL) the method that gave the answer
 * (SOLVE_GROUPS_AUTO when there was nothing to solve). *used is set only when 0 is
 * returned. */
int solve_groups_used(const struct solve_groups_input *in, int *group_of, int *n_groups,
                      enum solve_groups_method *used);

#endif
