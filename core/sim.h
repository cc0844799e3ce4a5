/* sim: the seeded behaviour model `simulate` draws people's actions from (attendance,
 * ratings, goal progress, re-up decisions). Every draw is a pure function of the seed and
 * what is decided (match, person, occasion), so the same seed gives the same year whatever
 * order the engine asks in. It never touches the state; the engine turns draws into facts. */
#ifndef TANDEM_SIM_H
#define TANDEM_SIM_H

#include <stdbool.h>

#include "rules.h"

struct sim {
    unsigned long long seed;
    struct sim_params p;
};

/* How well a match works, in [0,1): drawn once per match. */
double sim_chemistry(const struct sim *s, long long match);
/* Whether meeting number n of a match is held. */
bool sim_meeting_held(const struct sim *s, long long match, int n);
/* A rating 1-5 that person index `who` gives at review n. */
int sim_rating(const struct sim *s, long long match, int who, int n);
/* Whether an open goal moves at review n, and whether it is then achieved. */
bool sim_goal_moves(const struct sim *s, long long goal, int n);
bool sim_goal_achieved(const struct sim *s, long long goal, int n);
/* Whether the program's admin approves a proposed match (simulate only). */
bool sim_approves(const struct sim *s, long long match);
/* Whether person index `who` chooses renew at the end of term `term`. */
bool sim_renews(const struct sim *s, long long match, int who, int term);
/* Whether person index `who` answers the re-up of term `term` at all (else the default holds). */
bool sim_answers_reup(const struct sim *s, long long match, int who, int term);
/* Whether party index `who` acknowledges the match's expectations (a day after it starts). */
bool sim_acks(const struct sim *s, long long match, int who);
/* How choice `at` of a request answers: 0 not in time, 1 accepts, 2 declines; *after is the
 * fraction of respond_within that passes before an answer. */
int sim_request_answer(const struct sim *s, long long request, int at, double *after);

#endif
