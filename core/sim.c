/* sim: deterministic draws, each hashed from (seed, subject, occasion). A match's chemistry
 * shifts every chance about it, so a simulated year has thriving and stagnating pairs. */
#include "sim.h"

#include <math.h>

#include "index.h"

enum { DRAW_CHEMISTRY = 1, DRAW_MEETING, DRAW_RATING, DRAW_GOAL_MOVE, DRAW_GOAL_DONE, DRAW_RENEW, DRAW_APPROVE,
       DRAW_REUP_ANSWER, DRAW_ACK, DRAW_REQUEST_ANSWER, DRAW_REQUEST_ACCEPT, DRAW_REQUEST_DELAY };

static double uniform(const struct sim *s, int kind, long long a, long long b, long long c)
{
    unsigned long long h = mix64(s->seed ^ mix64((unsigned long long)kind));
    h = mix64(h ^ (unsigned long long)a);
    h = mix64(h ^ (unsigned long long)b);
    h = mix64(h ^ (unsigned long long)c);
    return (double)(h >> 11) / 9007199254740992.0;   /* [0,1) from the top 53 bits */
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

double sim_chemistry(const struct sim *s, long long match)
{
    return uniform(s, DRAW_CHEMISTRY, match, 0, 0);
}

/* Shifts a base chance by the match's chemistry: spread 0 makes every match average. The
 * shift alone never makes a chance certain; a base of 0 or 1 stays exact. */
static double shifted(const struct sim *s, double base, long long match)
{
    if (base <= 0 || base >= 1)
        return base;
    double lo = base < 0.02 ? base : 0.02, hi = base > 0.99 ? base : 0.99;
    return clamp(base + s->p.spread * (sim_chemistry(s, match) - 0.5), lo, hi);
}

bool sim_meeting_held(const struct sim *s, long long match, int n)
{
    return uniform(s, DRAW_MEETING, match, n, 0) < shifted(s, s->p.attendance, match);
}

int sim_rating(const struct sim *s, long long match, int who, int n)
{
    double mean = s->p.rating + 3.0 * s->p.spread * (sim_chemistry(s, match) - 0.5);
    double noise = uniform(s, DRAW_RATING, match, who, n) * 2.0 - 1.0;
    return (int)clamp(lround(mean + noise), 1, 5);
}

bool sim_goal_moves(const struct sim *s, long long goal, int n)
{
    return uniform(s, DRAW_GOAL_MOVE, goal, n, 0) < s->p.goal_progress;
}

bool sim_goal_achieved(const struct sim *s, long long goal, int n)
{
    return uniform(s, DRAW_GOAL_DONE, goal, n, 0) < 0.5;
}

bool sim_renews(const struct sim *s, long long match, int who, int term)
{
    return uniform(s, DRAW_RENEW, match, who, term) < shifted(s, s->p.renew, match);
}

bool sim_approves(const struct sim *s, long long match)
{
    return uniform(s, DRAW_APPROVE, match, 0, 0) < s->p.approve;
}

bool sim_answers_reup(const struct sim *s, long long match, int who, int term)
{
    return uniform(s, DRAW_REUP_ANSWER, match, who, term) < s->p.answer;
}

bool sim_acks(const struct sim *s, long long match, int who)
{
    return uniform(s, DRAW_ACK, match, who, 0) < shifted(s, s->p.ack, match);
}

int sim_request_answer(const struct sim *s, long long request, int at, double *after)
{
    *after = 0.05 + 0.9 * uniform(s, DRAW_REQUEST_DELAY, request, at, 0);
    if (uniform(s, DRAW_REQUEST_ANSWER, request, at, 0) >= s->p.answer)
        return 0;
    return uniform(s, DRAW_REQUEST_ACCEPT, request, at, 0) < s->p.accept ? 1 : 2;
}
