/* solve/rounds: a schedule of speed rounds (the `flash` model, and the basis of
 * `rotational`): each round pairs mentees with mentors, never the same pair twice.
 * It must never know of Lua, people or the engine, and never keep state between calls. */
#ifndef TANDEM_SOLVE_ROUNDS_H
#define TANDEM_SOLVE_ROUNDS_H

/* The problem. The solver only reads it; the caller owns every array. */
struct solve_rounds_input {
    int n_mentors, n_mentees;       /* each >= 0 */
    int n_allowed;                  /* >= 0; must be 0 when allowed is NULL */
    const int (*allowed)[2];        /* n_allowed (mentor, mentee) pairs that may meet; a pair
                                     * listed twice counts once; NULL = every pair */
    int rounds;                     /* >= 0 */
    const int *mentor_per_round;    /* n_mentors entries, each >= 0: how many mentees mentor i
                                     * meets in one round; NULL = 1 each */
};

/* Fills schedule[r * n_mentees + j] (rounds * n_mentees entries, owned by the caller)
 * with the mentor mentee j meets in round r, or -1. Rounds are built one after the
 * other, each with the rules:
 *   - a mentee meets at most one mentor in a round, a mentor at most
 *     mentor_per_round[i] mentees, only allowed pairs, and no pair twice in the schedule;
 *   - the round has as many pairs as possible given the earlier rounds (a maximum
 *     b-matching of the pairs not used yet);
 *   - among those, the mentees who met the fewest mentors so far come first, then the
 *     lower index: for every k, as many as possible of the first k mentees in that
 *     order meet someone.
 * The schedule is not optimal over all rounds at once (a choice in round 1 may leave
 * fewer pairs for round 3); each round is optimal given the ones before it.
 * Deterministic: the same input gives the same schedule, whatever the order of allowed.
 * Returns 0; -EINVAL for bad input (in or a needed schedule NULL, a negative count or
 * capacity, allowed NULL with n_allowed > 0, an index out of range); -ENOMEM when memory
 * runs out or there are more pairs than an int can count. On error schedule is left
 * untouched. */
int solve_rounds(const struct solve_rounds_input *in, int *schedule);

#endif
