/* solve/costscale: an exact min-cost circulation by cost scaling (Goldberg-Tarjan
 * push-relabel with epsilon scaling), its lexicographic costs made one 128-bit integer.
 * For the large inputs where seats are scarce and solve/flow's one-unit searches grow long.
 * It must never know of Lua, people or the engine, and never keep state between calls. */
#ifndef TANDEM_SOLVE_COSTSCALE_H
#define TANDEM_SOLVE_COSTSCALE_H

#include "solve/flow.h"

/* The network. The solver only reads it; the caller owns every array.
 * Arc k goes from tail[k] to head[k] (0 <= both < n_nodes, tail != head), carries
 * between 0 and cap[k] >= 0 units, at cost[k] per unit (compared lexicographically). */
struct costscale_problem {
    int n_nodes, n_arcs;
    const int *tail, *head, *cap;
    const struct flow_cost *cost;
};

/* Finds a circulation of least total cost (lexicographically) and writes the flow on
 * arc k in flow[k] (n_arcs entries, owned by the caller).
 * Deterministic: the answer depends only on the arrays' contents, in their order.
 * Returns 0; -EINVAL for bad input (NULL arrays, a node out of range, a loop, a negative
 * capacity); -ENOMEM; -ERANGE when the costs cannot be made one exact 128-bit integer
 * with room for the prices (see costscale.c: then solve with solve/flow instead). After
 * an error flow[] is undefined. */
int costscale_solve(const struct costscale_problem *p, int *flow);

#endif
