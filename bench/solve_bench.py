#!/usr/bin/env python3
"""The solvers against named peers, on identical instances, in one run.

    python3 bench/solve_bench.py [--quick] [--dir DIR] [--seed 1] [--only TEXT] [--json OUT] [--markdown OUT]

Writes random instances (seeded, so reproducible) as text edge lists to a temp dir (format:
see solve_bench.c), then times on each file, in the same run:
  - tandem (bench/solve_bench: solve_pairs / solve_assign, QUALITY objective);
  - LEMON (bench/lemon_peer: MaxWeightedMatching; NetworkSimplex and CostScaling min-cost flow);
  - scipy.optimize.linear_sum_assignment and networkx.max_weight_matching (bench/solve_peers.py,
    run with an interpreter that has them, e.g. Debian's /usr/bin/python3; "peer not
    installed" otherwise).
Every time is CPU time of the solve call alone, best of N. The ratio is peer time / tandem
time (above 1: tandem is faster). "equal" says whether the peer's optimum (sum of integer
weights) is the same as tandem's; a difference is reported as DIFFERENT and exits 1.
--only TEXT (repeatable) runs only the instances whose name contains one of the TEXTs; each
keeps its seed, so its rows are those of a full run.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
WMAX = 1_000_000   # weights are integers in 1..WMAX (tandem: score = w, score_micro = w * 1e6)


def write_pairs(path, rng, n, m):
    with open(path, "w") as f:
        f.write(f"pairs {n} {m}\n")
        for _ in range(m):
            a = rng.randrange(n)
            b = rng.randrange(n - 1)
            b += b >= a
            f.write(f"{a} {b} {rng.randint(1, WMAX)}\n")


def write_assign_sparse(path, rng, mentors, mentees, k, cap_lo, cap_hi):
    with open(path, "w") as f:
        f.write(f"assign {mentors} {mentees} {mentees * k}\n")
        f.write(" ".join(str(rng.randint(cap_lo, cap_hi)) for _ in range(mentors)) + "\n")
        for j in range(mentees):
            for i in rng.sample(range(mentors), k):
                f.write(f"{i} {j} {rng.randint(1, WMAX)}\n")


def write_assign_dense(path, rng, n):
    with open(path, "w") as f:
        f.write(f"assign {n} {n} {n * n}\n")
        f.write(" ".join("1" for _ in range(n)) + "\n")
        for i in range(n):
            f.write("".join(f"{i} {j} {rng.randint(1, WMAX)}\n" for j in range(n)))


def python_with(*modules):
    """An interpreter that can import modules: this one, else Debian's."""
    code = "import " + ", ".join(modules)
    for exe in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(exe) and subprocess.run([exe, "-c", code], capture_output=True).returncode == 0:
            return exe
    return None


def run_json(cmd, timeout=300):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        return [{"error": (p.stderr.strip() or f"exit {p.returncode}")[-300:]}]
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller instances (a smoke run)")
    ap.add_argument("--dir", default=None, help="where the temp dir of instances goes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", action="append", default=[],
                    help="run only the instances whose name contains this text (repeatable)")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    sb = os.path.join(BENCH, "solve_bench")
    lp = os.path.join(BENCH, "lemon_peer")
    for exe in (sb, lp):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe} missing: run make && make -C bench solve_bench lemon_peer")
    py_scipy = python_with("numpy", "scipy.optimize")
    py_nx = python_with("networkx")
    q = args.quick
    # (name, writer, args, peers, peer repeat: None = --repeat). The sparse size (issue 3:
    # 100,000 mentees x 20,000 mentors) gives LEMON the same best of --repeat as tandem (its
    # NetworkSimplex takes about 4 s there, CostScaling about 15 s: about a minute for both,
    # three times). The dense rows beyond 1,000 skip LEMON (minutes) and keep scipy, the peer
    # the goal names.
    if not q:
        instances = [
            ("pairs: 10,000 people, 100,000 edges", write_pairs, (10000, 100000), ["lemon"], None),
            ("pairs: 1,000 people, 5,000 edges", write_pairs, (1000, 5000), ["lemon", "networkx"], None),
            ("assign sparse: 4,000 mentors (cap 1-5) x 20,000 mentees, k=50",
             write_assign_sparse, (4000, 20000, 50, 1, 5), ["lemon"], None),
            ("assign sparse: 20,000 mentors (cap 1-5) x 100,000 mentees, k=50",
             write_assign_sparse, (20000, 100000, 50, 1, 5), ["lemon"], None),
            ("assign dense: 500 x 500 (cap 1)", write_assign_dense, (500,), ["lemon", "scipy"], None),
            ("assign dense: 1,000 x 1,000 (cap 1)", write_assign_dense, (1000,), ["lemon", "scipy"], None),
            ("assign dense: 2,000 x 2,000 (cap 1)", write_assign_dense, (2000,), ["scipy"], None),
            ("assign dense: 4,000 x 4,000 (cap 1)", write_assign_dense, (4000,), ["scipy"], None),
        ]
    else:
        instances = [
            ("pairs: 2,000 people, 20,000 edges", write_pairs, (2000, 20000), ["lemon"], None),
            ("pairs: 300 people, 1,500 edges", write_pairs, (300, 1500), ["lemon", "networkx"], None),
            ("assign sparse: 800 mentors (cap 1-5) x 4,000 mentees, k=20",
             write_assign_sparse, (800, 4000, 20, 1, 5), ["lemon"], None),
            ("assign dense: 200 x 200 (cap 1)", write_assign_dense, (200,), ["lemon", "scipy"], None),
        ]

    tmp = tempfile.mkdtemp(prefix="tandem-solve-", dir=args.dir)
    rows, results, bad = [], [], False
    try:
        for idx, (name, writer, wargs, peers, peer_repeat) in enumerate(instances):
            if args.only and not any(t in name for t in args.only):
                continue
            path = os.path.join(tmp, f"inst{idx}.txt")
            writer(path, random.Random(args.seed * 1000 + idx), *wargs)
            rep = ["--repeat", str(args.repeat)]
            t = run_json([sb, path] + rep)[0]
            res = [t]
            if "lemon" in peers:
                lrep = rep if peer_repeat is None else ["--repeat", str(peer_repeat)]
                for r in run_json([lp, path] + lrep, timeout=900):
                    if peer_repeat is not None and "error" not in r:
                        r["solver"] += " (1 run)"
                    res.append(r)
            if "scipy" in peers:
                res += (run_json([py_scipy, os.path.join(BENCH, "solve_peers.py"), path] + rep) if py_scipy
                        else [{"solver": "scipy-linear_sum_assignment", "error": "peer not installed"}])
            if "networkx" in peers:
                res += (run_json([py_nx, os.path.join(BENCH, "solve_peers.py"), path, "--repeat", "1"]) if py_nx
                        else [{"solver": "networkx-max_weight_matching", "error": "peer not installed"}])
            results.append({"instance": name, "results": res})
            for r in res[1:]:
                solver = r.get("solver", "?")
                if "error" in r or "error" in t:
                    rows.append(f"| {name} | {t.get('best_s', float('nan')):.4f} | {solver} | — | — | "
                                f"{r.get('error') or t.get('error')} |")
                    print(rows[-1], file=sys.stderr, flush=True)
                    continue
                eq = r["objective"] == t["objective"]
                bad |= not eq
                rows.append(f"| {name} | {t['best_s']:.4f} | {solver} | {r['best_s']:.4f} | "
                            f"{r['best_s'] / t['best_s']:.2f} | "
                            f"{'yes' if eq else 'DIFFERENT'} ({t['objective']:,}"
                            f"{'' if eq else ' vs ' + format(r['objective'], ',')}) |")
                print(rows[-1], file=sys.stderr, flush=True)
            os.remove(path)   # the dense 4,000 file alone is about 250 MB
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    md = ["CPU seconds of the solve call alone, best of "
          f"{args.repeat} (networkx, and LEMON where marked: 1 run); ratio = peer ÷ tandem (above 1: tandem faster); "
          "objective = sum of the integer weights (1..1,000,000) of the chosen pairs, tandem's "
          "QUALITY objective.", "",
          "| instance | tandem s | peer | peer s | ratio | equal optimum (tandem's) |",
          "|---|---:|---|---:|---:|---|"] + rows
    text = "\n".join(md) + "\n"
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": args.seed, "quick": q, "instances": results}, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
