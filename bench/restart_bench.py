#!/usr/bin/env python3
"""Restart time from a large log: `tandem run` from exec until its socket answers status, and
`tandem report` (a full replay), on a log of about a million events, beside the floor of merely
parsing that log with cJSON (bench/parse_floor) and of reading its bytes.

The log: `tandem simulate` of the example organization (rules/examples/acme.lua) over
`scripts/make_people.py N 1` people for D days ending today (2,000 people for 900 days give
about a million events). `tandem run` refuses a simulated log, so the copy the daemon starts
from has its `rules` event marked "clock":"real" (checksum recomputed): every other line is
byte for byte what simulate wrote. The log and the people are cached in bench/out/cache/,
keyed by N, D, the seed, the rules, the people and the tandem binary, so a second run only
times (the first one simulates: about a minute of CPU).

One untimed warm-up start first fires what fell due between the end of the simulation and now
(and is reported). Then --repeat timed starts with the log in the page cache ("warm"), and one
with the log's pages dropped from the cache first (posix_fadvise DONTNEED on that file only;
a virtual disk's host may still cache it). If `tandem ctl --help` lists a `snapshot` command,
the daemon takes one and the restarts are timed again with it; otherwise that number is
recorded as pending.

usage: restart_bench.py [--people 2000] [--days 900] [--repeat 3] [--dir /tmp] [--no-cache]
                        [--json OUT.json] [--markdown OUT.md]
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import benchlib

CACHE = os.path.join(benchlib.BENCH, "out", "cache")
PARSE_FLOOR = os.path.join(benchlib.BENCH, "parse_floor")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_timed(args, **kw):
    t0 = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    return time.monotonic() - t0, p


def build_log(people_n, days, seed, rules_src, use_cache):
    """The simulated log (cached): returns (cache dir, rules path, events.jsonl path, info)."""
    people_script = os.path.join(benchlib.ROOT, "scripts", "make_people.py")
    # Not keyed by the tandem binary: any log this tandem can replay will do, and one it cannot
    # is made again (main() retries once without the cache).
    key = hashlib.sha256(json.dumps([people_n, days, seed, sha256_file(rules_src),
                                     sha256_file(people_script)]).encode()).hexdigest()[:16]
    d = os.path.join(CACHE, f"log-{people_n}p-{days}d-{key}")
    log = os.path.join(d, "sim", "events.jsonl")
    rules = os.path.join(d, os.path.basename(rules_src))
    info_path = os.path.join(d, "info.json")
    if use_cache and os.path.exists(info_path):
        with open(info_path) as f:
            info = json.load(f)
        ends = datetime.date.fromisoformat(info["start"]) + datetime.timedelta(days=days)
        if (datetime.date.today() - ends).days <= 30:    # older: too much would fall due on start
            info["cached"] = True
            return d, rules, log, info
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy(rules_src, rules)
    people = os.path.join(d, "people.csv")
    print(f"generating {people_n} people and simulating {days} days (cached afterwards in {d}) ...", flush=True)
    t_people, p = run_timed([sys.executable, people_script, str(people_n), str(seed)])
    if p.returncode != 0:
        raise SystemExit(f"make_people.py failed:\n{p.stderr}")
    with open(people, "w") as f:
        f.write(p.stdout)
    start = (datetime.date.today() - datetime.timedelta(days=days)).isoformat()
    t_sim, p = run_timed([benchlib.TANDEM, "simulate", rules, "--people", people, "--days", str(days), "--start",
                          start, "--seed", str(seed), "--state", os.path.join(d, "sim"), "--quiet"])
    if p.returncode != 0:
        raise SystemExit(f"tandem simulate failed ({p.returncode}):\n{p.stderr[-3000:]}")
    with open(log, "rb") as f:
        events = sum(1 for _ in f)
    info = {"people": people_n, "days": days, "seed": seed, "start": start, "events": events,
            "made_by": benchlib.machine(d)["tandem"],
            "bytes": os.path.getsize(log), "make_people_s": t_people, "simulate_s": t_sim, "cached": False}
    with open(info_path, "w") as f:
        json.dump(info, f)
    return d, rules, log, info


def real_clock_copy(sim_log, state):
    """Copies the simulated log into a daemon's state dir with its rules events marked real-clock."""
    os.makedirs(state, mode=0o700)
    changed = 0
    with open(sim_log, "rb") as src, open(os.path.join(state, "events.jsonl"), "wb") as dst:
        for line in src:
            if b'"type":"rules"' in line and b'"clock":"virtual"' in line:
                body = line[:line.rindex(b',"crc":"')].replace(b'"clock":"virtual"', b'"clock":"real"')
                line = body + b',"crc":"%08x"}\n' % benchlib.crc32c(body)
                changed += 1
            dst.write(line)
    if changed == 0:
        raise SystemExit("no rules event with \"clock\":\"virtual\" in the simulated log: has the format changed?")


def drop_from_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def vm_hwm_mib(pid):
    for line in benchlib._read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def start_once(rules, state, cold=False):
    if cold:
        drop_from_cache(os.path.join(state, "events.jsonl"))
    d = benchlib.Daemon(rules, state)
    t = d.start(probe="status")
    st = d.call({"cmd": "status"})["status"]
    rss = vm_hwm_mib(d.proc.pid)
    t0 = time.monotonic()
    code = d.stop()
    stop_s = time.monotonic() - t0
    if code != 0:
        raise SystemExit(f"the daemon exited {code} on SIGTERM:\n{d.stderr()}")
    return {"start_s": t, "stop_s": stop_s, "seq": st["seq"], "people": st["people"], "live": st["live_matches"],
            "rss_mib": rss}


def has_snapshot():
    p = subprocess.run([benchlib.TANDEM, "ctl", "--help"], capture_output=True, text=True)
    return any(line.split()[:1] == ["snapshot"] for line in p.stdout.splitlines())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=2000, help="people in the simulated organization (default 2000)")
    ap.add_argument("--days", type=int, default=900, help="days simulated (default 900: about 1,000,000 events)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rules", default=os.path.join(benchlib.ROOT, "rules", "examples", "acme.lua"))
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each (the median is reported)")
    ap.add_argument("--dir", default=None, help="where the daemon's state dir goes (default: $TMPDIR)")
    ap.add_argument("--no-cache", action="store_true", help="simulate again even if a cached log fits")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    for b in ("parse_floor",):
        if not os.path.exists(os.path.join(benchlib.BENCH, b)):
            subprocess.run(["make", "-s", "-C", benchlib.BENCH, b], check=True)
    cache_dir, rules, sim_log, info = build_log(args.people, args.days, args.seed, args.rules, not args.no_cache)
    parent = tempfile.mkdtemp(prefix="tandem-restart-", dir=args.dir)
    os.chmod(parent, 0o700)
    state = os.path.join(parent, "state")
    res = {"machine": benchlib.machine(parent), "log": info, "args": vars(args)}
    try:
        real_clock_copy(sim_log, state)
        log = os.path.join(state, "events.jsonl")
        try:
            res["warmup"] = start_once(rules, state)
        except (RuntimeError, SystemExit) as e:
            if not info["cached"]:
                raise
            print(f"the cached log does not start ({str(e).splitlines()[0]}): simulating again", flush=True)
            shutil.rmtree(state)
            cache_dir, rules, sim_log, info = build_log(args.people, args.days, args.seed, args.rules, False)
            res["log"] = info
            real_clock_copy(sim_log, state)
            res["warmup"] = start_once(rules, state)
        res["events"] = res["warmup"]["seq"]
        res["bytes"] = os.path.getsize(log)
        res["caught_up_on_start"] = res["events"] - info["events"]
        print(f"log: {res['events']:,} events, {res['bytes'] / 1e6:.0f} MB ({info['people']} people, "
              f"{info['days']} days simulated{', cached' if info['cached'] else ''}); the warm-up start added "
              f"{res['caught_up_on_start']} events that fell due since", flush=True)
        # Peers: reading the bytes, and parsing every line with cJSON.
        t0 = time.monotonic()
        with open(log, "rb") as f:
            while f.read(1 << 20):
                pass
        res["read_s"] = time.monotonic() - t0
        floors = []
        for _ in range(args.repeat):
            p = subprocess.run([PARSE_FLOOR, log, "--json"], capture_output=True, text=True, check=True)
            floors.append(json.loads(p.stdout)["seconds"])
        res["parse_floor_s"] = statistics.median(floors)
        print(f"peer: read {res['read_s']:.2f} s, cJSON parse of every line {res['parse_floor_s']:.2f} s", flush=True)
        # tandem report: a full replay without rules.
        reps = []
        for _ in range(args.repeat):
            t, p = run_timed([benchlib.TANDEM, "report", "--state", state, "--format", "json"])
            if p.returncode != 0:
                raise SystemExit(f"tandem report failed:\n{p.stderr}")
            reps.append(t)
        res["report_s"] = statistics.median(reps)
        res["report_runs"] = reps
        print(f"tandem report: {res['report_s']:.2f} s (runs {', '.join(f'{x:.2f}' for x in reps)})", flush=True)
        # tandem run until status answers.
        runs = [start_once(rules, state) for _ in range(args.repeat)]
        res["restart_runs"] = runs
        res["restart_s"] = statistics.median(r["start_s"] for r in runs)
        res["rss_mib"] = max(r["rss_mib"] or 0 for r in runs)
        res["stop_s"] = statistics.median(r["stop_s"] for r in runs)
        each = ", ".join("%.2f" % r["start_s"] for r in runs)
        print(f"tandem run until status answers (warm): {res['restart_s']:.2f} s "
              f"(runs {each}), peak RSS {res['rss_mib']:.0f} MiB, "
              f"SIGTERM to exit {res['stop_s']:.2f} s", flush=True)
        cold = start_once(rules, state, cold=True)
        res["restart_cold_s"] = cold["start_s"]
        print(f"tandem run until status answers (log dropped from the page cache first): {cold['start_s']:.2f} s",
              flush=True)
        # With a snapshot, when the daemon can take one.
        if has_snapshot():
            d = benchlib.Daemon(rules, state)
            d.start(probe="status")
            t, p = run_timed([benchlib.TANDEM, "ctl", "--state", state, "snapshot"])
            d.stop()
            res["snapshot_take_s"] = t
            res["snapshot_reply"] = p.stdout.strip()[:500]
            if p.returncode != 0:
                res["snapshot"] = f"ctl snapshot failed ({p.returncode}): {p.stdout.strip()} {p.stderr.strip()}"[:300]
            else:
                sruns = [start_once(rules, state) for _ in range(args.repeat)]
                res["restart_snapshot_runs"] = sruns
                res["restart_snapshot_s"] = statistics.median(r["start_s"] for r in sruns)
                res["snapshot"] = "measured"
                print(f"with a snapshot: taken in {t:.2f} s; restart {res['restart_snapshot_s']:.2f} s", flush=True)
        else:
            res["snapshot"] = "pending: this tandem has no `ctl snapshot` yet"
            print("with a snapshot: pending (no `tandem ctl snapshot` in this build)", flush=True)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(res) + "\n")
    return 0


def markdown(r):
    ev = r["events"]
    info = r["log"]
    pf = r["parse_floor_s"]
    rows = [
        ["read the file's bytes (peer: I/O floor, warm cache)", f"{r['read_s']:.2f}", f"{ev / r['read_s']:,.0f}", ""],
        ["parse every line with cJSON (peer: `bench/parse_floor`)", f"{pf:.2f}", f"{ev / pf:,.0f}", "1.00"],
        ["`tandem report` (full replay, no rules)", f"{r['report_s']:.2f}", f"{ev / r['report_s']:,.0f}",
         f"{r['report_s'] / pf:.2f}"],
        ["`tandem run` until `status` answers (warm cache)", f"{r['restart_s']:.2f}", f"{ev / r['restart_s']:,.0f}",
         f"{r['restart_s'] / pf:.2f}"],
        ["`tandem run` until `status` answers (log's pages dropped first)", f"{r['restart_cold_s']:.2f}",
         f"{ev / r['restart_cold_s']:,.0f}", f"{r['restart_cold_s'] / pf:.2f}"],
    ]
    if r.get("snapshot") == "measured":
        rows.append(["`tandem run` until `status` answers, with a snapshot", f"{r['restart_snapshot_s']:.2f}",
                     f"{ev / r['restart_snapshot_s']:,.0f}", f"{r['restart_snapshot_s'] / pf:.2f}"])
    else:
        rows.append(["`tandem run` with a snapshot", r["snapshot"], "", ""])
    text = [
        f"`python3 bench/restart_bench.py --people {info['people']} --days {info['days']} --repeat "
        f"{r['args']['repeat']}`: the log of `tandem simulate` of rules/examples/acme.lua over "
        f"`scripts/make_people.py {info['people']} {info['seed']}` for {info['days']} days "
        f"(simulate took {info['simulate_s']:.0f} s when it was made), its rules event marked real-clock: "
        f"**{ev:,} events, {r['bytes'] / 1e6:.0f} MB**. Median of {r['args']['repeat']} runs; "
        f"daemon peak RSS {r['rss_mib']:.0f} MiB; SIGTERM to exit {r['stop_s']:.2f} s.",
        "",
        benchlib.table(["what", "seconds", "events/s", "ratio to the cJSON parse floor"], rows),
    ]
    return "\n".join(text)


if __name__ == "__main__":
    sys.exit(main())
