/* solve/flow: an exact min-cost circulation with lexicographic integer costs, grown
 * one unit at a time through a hub, for the solvers that pick mentees for mentors.
 * It must never know of Lua, people or the engine, and never keep state between uses
 * beyond the one struct flow its caller owns. */
#ifndef TANDEM_SOLVE_FLOW_H
#define TANDEM_SOLVE_FLOW_H

#define FLOW_LEX 3

/* A cost triple, compared lexicographically from v[0]. */
struct flow_cost { long long v[FLOW_LEX]; };

/* The hub: source and sink merged. Every unit of flow leaves it by an entry arc and
 * comes back to it. */
#define FLOW_HUB 0

struct flow;

/* Makes an empty network of n_nodes nodes (node FLOW_HUB included) with room for
 * max_arcs arcs. The caller owns *out and frees it with flow_free.
 * Returns 0; -EINVAL for n_nodes < 1 or max_arcs < 0 or out == NULL; -ENOMEM when
 * memory runs out or 2 * max_arcs does not fit in int. */
int flow_new(struct flow **out, int n_nodes, int max_arcs);

/* Adds the arc u -> v, carrying at most cap units at cost per unit, before flow_build.
 * An arc out of the hub is an entry arc: its capacity must be 0 and its cost zero
 * (flow_insert raises it), and its head is an entry node.
 * Returns the arc's id (0, 1, 2, ... in the order of the calls); -EINVAL for a node
 * out of range, u == v, cap < 0, a bad entry arc, a call after flow_build, or more
 * than max_arcs arcs. */
int flow_arc(struct flow *f, int u, int v, int cap, const struct flow_cost *cost);

/* Freezes the network. The zero circulation must be optimal for the capacities given,
 * which holds when: an arc into an entry node comes from the hub, and every arc with a
 * lexicographically negative cost leaves an entry node.
 * After a failure f can only be freed.
 * Returns 0; -EINVAL when that does not hold or f is already built; -ENOMEM; and
 * -EOVERFLOW when B > INT64_MAX / 64 in some component, where B is the sum over nodes
 * of the largest |cost component| of the arcs leaving them (every sum the solver forms
 * then stays within 32 B: see flow.c). */
int flow_build(struct flow *f);

/* Raises the capacity of entry arc `arc` by one and restores an optimal circulation:
 * the cheapest residual cycle through that arc is taken if its cost is negative.
 * Ties between equal optima are broken by node numbers, the same way each time; a
 * zero-cost cycle is not taken, so on ties the units inserted first keep their place.
 * Returns 1 when the new unit flows, 0 when it does not; -EINVAL when f is not built
 * or arc is not an entry arc. */
int flow_insert(struct flow *f, int arc);

/* The flow on arc `arc` (an id from flow_arc), or -1 for a bad id. */
int flow_amount(const struct flow *f, int arc);

/* The work done so far: the number of nodes flow_insert's searches have touched, in all
 * (deterministic; for callers that give up past a budget). 0 for f == NULL. */
long long flow_work(const struct flow *f);

/* Frees f and all it holds; f may be NULL. */
void flow_free(struct flow *f);

#endif
