#!/usr/bin/env python3
"""The Python peers of solve_bench: reads one instance file (format: see solve_bench.c) and
prints one JSON line.

    solve_peers.py FILE [--repeat N]

assign -> scipy.optimize.linear_sum_assignment(maximize=True) on the dense weight matrix
          (only for instances with every mentor capacity 1; a missing pair gets weight 0, so
          the optimum is the same as tandem's when every pair is listed with w > 0).
pairs  -> networkx.max_weight_matching (maxcardinality=False: plain maximum weight).
Time: CPU time (time.process_time) of the solver call alone, best of N. Building the matrix
or graph is not timed. Prints {"solver": ..., "error": "peer not installed"} when the module
is missing (Debian: python3-scipy, python3-networkx; not a build dependency of tandem).
"""
import json
import sys
import time


def main():
    path = sys.argv[1]
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--repeat" else 3
    with open(path) as f:
        head = f.readline().split()
        kind = head[0]
        if kind == "assign":
            try:
                import numpy as np
                from scipy.optimize import linear_sum_assignment
            except ImportError:
                print(json.dumps({"solver": "scipy-linear_sum_assignment", "kind": kind,
                                  "error": "peer not installed"}))
                return
            n, n2, m = int(head[1]), int(head[2]), int(head[3])
            caps = [int(x) for x in f.readline().split()]
            if any(c != 1 for c in caps):
                print(json.dumps({"solver": "scipy-linear_sum_assignment", "kind": kind,
                                  "error": "capacities other than 1"}))
                return
            data = np.loadtxt(f, dtype=np.int64, ndmin=2)
            w = np.zeros((n, n2), dtype=np.int64)
            np.maximum.at(w, (data[:, 0], data[:, 1]), data[:, 2])
            times = []
            for _ in range(repeat):
                t0 = time.process_time()
                rows, cols = linear_sum_assignment(w, maximize=True)
                times.append(time.process_time() - t0)
            vals = w[rows, cols]
            out = {"solver": "scipy-linear_sum_assignment", "kind": kind, "n": n, "n2": n2, "m": m,
                   "best_s": min(times), "times": times, "objective": int(vals.sum()),
                   "count": int((vals > 0).sum())}
        elif kind == "pairs":
            try:
                import networkx as nx
            except ImportError:
                print(json.dumps({"solver": "networkx-max_weight_matching", "kind": kind,
                                  "error": "peer not installed"}))
                return
            n, m = int(head[1]), int(head[2])
            g = nx.Graph()
            g.add_nodes_from(range(n))
            for line in f:
                a, b, x = (int(t) for t in line.split())
                if not g.has_edge(a, b) or g[a][b]["weight"] < x:
                    g.add_edge(a, b, weight=x)
            times = []
            for _ in range(repeat):
                t0 = time.process_time()
                mat = nx.max_weight_matching(g, maxcardinality=False, weight="weight")
                times.append(time.process_time() - t0)
            out = {"solver": "networkx-max_weight_matching", "kind": kind, "n": n, "n2": 0, "m": m,
                   "best_s": min(times), "times": times,
                   "objective": sum(g[a][b]["weight"] for a, b in mat), "count": len(mat)}
        else:
            sys.exit("solve_peers: unknown kind")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
