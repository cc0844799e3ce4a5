// lemon_peer: the LEMON (Debian liblemon-dev) peer of solve_bench. Reads the same instance file
// (format: see solve_bench.c) and prints one JSON line per algorithm.
//
//   bench/lemon_peer FILE [--repeat N]
//
// pairs:  MaxWeightedMatching on a SmartGraph with long long weights w (plain maximum weight,
//         the same optimum as tandem's SOLVE_PAIRS_QUALITY sum of scores).
// assign: min-cost flow on source -> mentor (capacity c, cost 0) -> mentee (capacity 1, cost -w)
//         -> sink (capacity 1, cost 0), plus a bypass arc source -> sink (capacity n_mentees,
//         cost 0); supply n_mentees at the source. Minimum cost = -(maximum assignment weight).
//         Run with NetworkSimplex and CostScaling; the objective is recomputed from the flow
//         (sum of w over mentor->mentee arcs with flow 1) and must equal -totalCost.
// Time: CPU time (std::clock) of constructing the algorithm object and run(), best of N; the
// graph is built once beforehand (as tandem's edge array is).
#include <lemon/cost_scaling.h>
#include <lemon/matching.h>
#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

using namespace lemon;

static double cpu_now() { return (double)std::clock() / CLOCKS_PER_SEC; }

static void print(const char *solver, const char *kind, int n, int n2, int m,
                  const std::vector<double> &t, long long obj, long long count)
{
    double best = 1e30;
    for (double x : t)
        if (x < best)
            best = x;
    std::printf("{\"solver\": \"%s\", \"kind\": \"%s\", \"n\": %d, \"n2\": %d, \"m\": %d, "
                "\"best_s\": %.6f, \"times\": [", solver, kind, n, n2, m, best);
    for (size_t i = 0; i < t.size(); i++)
        std::printf("%s%.6f", i ? ", " : "", t[i]);
    std::printf("], \"objective\": %lld, \"count\": %lld}\n", obj, count);
    std::fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: lemon_peer FILE [--repeat N]\n");
        return 2;
    }
    int repeat = 3;
    if (argc >= 4 && std::strcmp(argv[2], "--repeat") == 0)
        repeat = std::atoi(argv[3]);
    if (repeat < 1)
        repeat = 1;
    FILE *f = std::fopen(argv[1], "r");
    char kind[16];
    if (!f || std::fscanf(f, "%15s", kind) != 1) {
        std::fprintf(stderr, "lemon_peer: bad instance\n");
        return 2;
    }
    if (std::strcmp(kind, "pairs") == 0) {
        int n, m;
        if (std::fscanf(f, "%d %d", &n, &m) != 2)
            return 2;
        SmartGraph g;
        g.reserveNode(n);
        g.reserveEdge(m);
        std::vector<SmartGraph::Node> v(n);
        for (int i = 0; i < n; i++)
            v[i] = g.addNode();
        SmartGraph::EdgeMap<long long> w(g);
        for (int i = 0; i < m; i++) {
            int a, b;
            long long x;
            if (std::fscanf(f, "%d %d %lld", &a, &b, &x) != 3)
                return 2;
            w[g.addEdge(v[a], v[b])] = x;
        }
        std::vector<double> t;
        long long obj = 0, count = 0;
        for (int r = 0; r < repeat; r++) {
            double t0 = cpu_now();
            MaxWeightedMatching<SmartGraph, SmartGraph::EdgeMap<long long>> mwm(g, w);
            mwm.run();
            t.push_back(cpu_now() - t0);
            obj = mwm.matchingWeight();
            count = mwm.matchingSize();
        }
        print("lemon-MaxWeightedMatching", kind, n, 0, m, t, obj, count);
    } else if (std::strcmp(kind, "assign") == 0) {
        int n, n2, m;
        if (std::fscanf(f, "%d %d %d", &n, &n2, &m) != 3)
            return 2;
        SmartDigraph g;
        g.reserveNode(n + n2 + 2);
        g.reserveArc(n + n2 + m + 1);
        SmartDigraph::Node s = g.addNode(), tk = g.addNode();
        std::vector<SmartDigraph::Node> mentor(n), mentee(n2);
        SmartDigraph::ArcMap<long long> cap(g), cost(g), wt(g);
        for (int i = 0; i < n; i++) {
            mentor[i] = g.addNode();
            int c;
            if (std::fscanf(f, "%d", &c) != 1)
                return 2;
            SmartDigraph::Arc a = g.addArc(s, mentor[i]);
            cap[a] = c;
            cost[a] = 0;
            wt[a] = 0;
        }
        for (int j = 0; j < n2; j++) {
            mentee[j] = g.addNode();
            SmartDigraph::Arc a = g.addArc(mentee[j], tk);
            cap[a] = 1;
            cost[a] = 0;
            wt[a] = 0;
        }
        SmartDigraph::Arc bypass = g.addArc(s, tk);
        cap[bypass] = n2;
        cost[bypass] = 0;
        wt[bypass] = 0;
        std::vector<SmartDigraph::Arc> pair_arcs;
        pair_arcs.reserve(m);
        for (int i = 0; i < m; i++) {
            int a, b;
            long long x;
            if (std::fscanf(f, "%d %d %lld", &a, &b, &x) != 3)
                return 2;
            SmartDigraph::Arc arc = g.addArc(mentor[a], mentee[b]);
            cap[arc] = 1;
            cost[arc] = -x;
            wt[arc] = x;
            pair_arcs.push_back(arc);
        }
        SmartDigraph::ArcMap<long long> flow(g);
        // NetworkSimplex
        {
            std::vector<double> t;
            long long obj = 0, count = 0, total = 0;
            for (int r = 0; r < repeat; r++) {
                double t0 = cpu_now();
                NetworkSimplex<SmartDigraph, long long, long long> ns(g);
                ns.upperMap(cap).costMap(cost).stSupply(s, tk, n2);
                NetworkSimplex<SmartDigraph, long long, long long>::ProblemType pt = ns.run();
                t.push_back(cpu_now() - t0);
                if (pt != NetworkSimplex<SmartDigraph, long long, long long>::OPTIMAL) {
                    std::fprintf(stderr, "NetworkSimplex: not OPTIMAL\n");
                    return 1;
                }
                total = ns.totalCost();
                ns.flowMap(flow);
            }
            for (SmartDigraph::Arc a : pair_arcs)
                if (flow[a] > 0) {
                    obj += wt[a];
                    count++;
                }
            if (obj != -total) {
                std::fprintf(stderr, "NetworkSimplex: recomputed %lld != -totalCost %lld\n", obj, -total);
                return 1;
            }
            print("lemon-NetworkSimplex", kind, n, n2, m, t, obj, count);
        }
        // CostScaling
        {
            std::vector<double> t;
            long long obj = 0, count = 0, total = 0;
            for (int r = 0; r < repeat; r++) {
                double t0 = cpu_now();
                CostScaling<SmartDigraph, long long, long long> cs(g);
                cs.upperMap(cap).costMap(cost).stSupply(s, tk, n2);
                CostScaling<SmartDigraph, long long, long long>::ProblemType pt = cs.run();
                t.push_back(cpu_now() - t0);
                if (pt != CostScaling<SmartDigraph, long long, long long>::OPTIMAL) {
                    std::fprintf(stderr, "CostScaling: not OPTIMAL\n");
                    return 1;
                }
                total = cs.totalCost();
                cs.flowMap(flow);
            }
            for (SmartDigraph::Arc a : pair_arcs)
                if (flow[a] > 0) {
                    obj += wt[a];
                    count++;
                }
            if (obj != -total) {
                std::fprintf(stderr, "CostScaling: recomputed %lld != -totalCost %lld\n", obj, -total);
                return 1;
            }
            print("lemon-CostScaling", kind, n, n2, m, t, obj, count);
        }
    } else {
        std::fprintf(stderr, "lemon_peer: unknown kind\n");
        return 2;
    }
    std::fclose(f);
    return 0;
}
