#!/usr/bin/env python3
"""A year of every model blended, in `tandem simulate`, at growing headcounts.

Issue 3's goal: a blend of all eleven models over 10,000 people for a year in under 10 s,
100,000 people in under 2 minutes, and under 2 KB of memory a person beyond the log.
The blend is Acme's and Globex's programs (rules/examples) in one rule file, made at run
time (13 programs, every model; Globex's `require`, priorities and simulation settings
give way to Acme's); scripts/make_people.py N 1 makes the people. Each row is one run: wall and CPU seconds
(os.wait4 on the child), its peak RSS, and the peak RSS of the same blend over 10 people
for a day (the base: the binary, Lua and the rule files), so (peak - base) / people is
what a person costs. The log is written to a temp dir and counted.

usage: simulate_bench.py [--people 2000,10000] [--days 365] [--dir D] [--json F] [--markdown F]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import benchlib

EXAMPLES = os.path.join(benchlib.ROOT, "rules", "examples")
MAKE_PEOPLE = os.path.join(benchlib.ROOT, "scripts", "make_people.py")
CACHE = os.path.join(benchlib.BENCH, "out", "cache")


def people_csv(n):
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, f"people-{n}.csv")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as f:
            subprocess.run([sys.executable, MAKE_PEOPLE, str(n), "1"], stdout=f, check=True)
        os.rename(path + ".tmp", path)
    return path


def blend(parent):
    """Acme's rule file, then Globex's without what a second organization would repeat."""
    with open(os.path.join(EXAMPLES, "acme.lua")) as f:
        text = f.read()
    with open(os.path.join(EXAMPLES, "globex.lua")) as f:
        for line in f:
            if not line.startswith(("local tandem = require", "tandem.priorities", "tandem.simulation")):
                text += line
    path = os.path.join(parent, "blend.lua")
    with open(path, "w") as f:
        f.write(text)
    return path


def simulate(n, days, parent, rules):
    state = tempfile.mkdtemp(prefix=f"sim-{n}-", dir=parent)
    cmd = [benchlib.TANDEM, "simulate", rules, "--people", people_csv(n), "--days", str(days),
           "--start", "2027-01-01", "--state", state, "--quiet"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if status != 0:
        raise SystemExit(f"simulate over {n} people failed ({status}): {err.strip()[:400]}")
    log = os.path.join(state, "events.jsonl")
    with open(log, "rb") as f:
        events = sum(1 for _ in f)
    row = {"people": n, "days": days, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
           "peak_rss_kb": ru.ru_maxrss, "events": events, "log_bytes": os.path.getsize(log)}
    subprocess.run(["rm", "-rf", state], check=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", default="2000,10000")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--dir", default=None, help="where the temp state dirs go")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    parent = tempfile.mkdtemp(prefix="tandem-sim-bench-", dir=a.dir)
    rules = blend(parent)
    base = simulate(10, 1, parent, rules)
    rows = []
    for n in [int(x) for x in a.people.split(",") if x]:
        r = simulate(n, a.days, parent, rules)
        r["kb_per_person"] = (r["peak_rss_kb"] - base["peak_rss_kb"]) / n
        goal_s = {10000: 10, 100000: 120}.get(n)   # the headcounts; others are context
        r["goal"] = "—" if goal_s is None else (
            f"{'met' if r['wall_s'] < goal_s else 'NOT met'}: < {goal_s} s; "
            f"{'met' if r['kb_per_person'] < 2 else 'NOT met'}: < 2 KB a person")
        rows.append(r)
        print(f"{n} people x {a.days} days: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
              f"{r['events']:,} events, peak RSS {r['peak_rss_kb'] / 1024:.0f} MiB "
              f"({r['kb_per_person']:.2f} KB a person beyond the {base['peak_rss_kb'] / 1024:.0f} MiB base)",
              flush=True)
    md = [f"`python3 bench/simulate_bench.py --people {a.people} --days {a.days}`: `tandem simulate` of "
          "Acme's and Globex's programs in one rule file (13 programs, all eleven models) over "
          "`scripts/make_people.py N 1`, "
          f"from 2027-01-01. Base (10 people, 1 day): peak RSS {base['peak_rss_kb'] / 1024:.1f} MiB.", "",
          benchlib.table(["people", "days", "wall s", "CPU s", "events", "events/s (wall)", "log MB",
                          "peak RSS MiB", "KB a person beyond the base", "goal"],
                         [[f"{r['people']:,}", r["days"], f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}",
                           f"{r['events']:,}", f"{r['events'] / r['wall_s']:,.0f}", f"{r['log_bytes'] / 1e6:.0f}",
                           f"{r['peak_rss_kb'] / 1024:.0f}", f"{r['kb_per_person']:.2f}", r["goal"]]
                          for r in rows])]
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("\n".join(md) + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"machine": benchlib.machine(parent), "base": base, "results": rows}, f, indent=1)
    subprocess.run(["rm", "-rf", parent], check=True)


if __name__ == "__main__":
    main()
