#!/usr/bin/env python3
"""Writes bench/RESULTS.md from the pieces run_all.sh left in OUT_DIR:
fsync.json (fsync_rate runs), daemon.json + daemon.md, restart.json + restart.md.

usage: write_results.py OUT_DIR STATE_PARENT [RESULTS.md]
"""
import json
import os
import statistics
import sys

import benchlib


def load(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def main():
    out, parent = sys.argv[1], sys.argv[2]
    target = sys.argv[3] if len(sys.argv) > 3 else os.path.join(benchlib.BENCH, "RESULTS.md")
    dj = load(os.path.join(out, "daemon.json"))
    # The machine as the run found it (daemon_bench records it at its start), else as it is now.
    m = json.loads(dj)["machine"] if dj else benchlib.machine(parent)
    fs = json.loads(load(os.path.join(out, "fsync.json")) or "[]")
    text = ["# Benchmark results", "",
            "Written by `bench/run_all.sh` (do not edit by hand: a rerun replaces this file; see bench/README.md "
            "for what each benchmark does and what its peers are).", "",
            "## Machine", "", benchlib.machine_markdown(m), ""]
    text += ["## The disk's own fdatasync rate (`bench/fsync_rate`)", ""]
    if fs:
        rates = [r["per_s"] for r in fs]
        text += [f"Append a 200-byte line and `fdatasync` it, one thread, in the state dir's filesystem, "
                 f"{len(fs)} runs of {fs[0]['seconds']:.0f} s: **median {statistics.median(rates):,.0f}/s** "
                 f"(runs: {', '.join(f'{x:,.0f}' for x in rates)}; p50 latency "
                 f"{statistics.median(r['p50_us'] for r in fs):.0f} µs, p99 "
                 f"{statistics.median(r['p99_us'] for r in fs):.0f} µs). This is the peer of `--fsync always`; "
                 "each row below measures it again, for one second just before and one just after the row. "
                 "(shared/PITFALLS.md quotes about 6,500/s for this disk; the rate moves a lot with the "
                 "machine's other work, which is why every ratio below uses a peer measured beside it.)", ""]
    else:
        text += ["(not run)", ""]
    d = load(os.path.join(out, "daemon.md"))
    text += ["## Commands per second through the socket (`bench/daemon_bench.py`)", "", d.strip() if d else "(not run)",
             ""]
    if dj:
        res = [r for r in json.loads(dj)["results"] if r.get("section") == "main" and "error" not in r]
        notes = []
        b1 = [r for r in res if r["mode"] == "batch" and r["shape"] == "sync1"]
        if b1:
            r = b1[0]
            notes.append(f"- `batch`, one synchronous client: {r['per_s']:,.0f}/s, p50 {r['p50_ms']:.1f} ms: the "
                         "group commit closes at the end of each loop turn, so a lone client pays one "
                         "fdatasync per command, like `always`.")
        bp = [r for r in res if r["mode"] == "batch" and r["shape"] == "pipe1xW"]
        if bp:
            r = bp[0]
            notes.append(f"- `batch`, one client with {r['window']} in flight: {r['per_s']:,.0f}/s = "
                         f"{r['per_s'] / 50000:.0%} of the 50,000/s goal; the commands read in one loop turn share "
                         f"one fdatasync, so the limit is the daemon's CPU: {r['cpu_us_per_cmd']:.0f} µs per command "
                         f"(1,000,000 / that = {1e6 / r['cpu_us_per_cmd']:,.0f}/s with a core to itself), and it "
                         f"waited for a CPU {r['daemon_runq']:.0%} of the row.")
        al = [r for r in res if r["mode"] == "always"]
        if al:
            notes.append("- `always`: " + "; ".join(
                f"{benchlib.fmt_rate(r['per_s'])}/s with {r['clients']}×{r['window']} = "
                f"{r['ratio_fdatasync']:.0%} of the fdatasync peer" for r in al) +
                " (goal: at least 80%).")
        echo = [r for r in res if r["mode"] == "echo" and r["shape"] == "pipe1xW"]
        if bp and echo:
            notes.append(f"- The client is not the limit: the same client against the echo peer, "
                         f"{echo[0]['per_s']:,.0f}/s. (`off` is not the CPU ceiling: it writes the log and "
                         "replies per command, where `batch` writes once per loop turn.)")
        if notes:
            text += ["What the rows say:", ""] + notes + [""]
    r = load(os.path.join(out, "restart.md"))
    text += ["## Restart from a large log (`bench/restart_bench.py`)", "", r.strip() if r else "(not run)", ""]
    with open(target, "w") as f:
        f.write("\n".join(text))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
