#!/usr/bin/env python3
"""Commands per second through the real daemon's Unix socket, beside the disk's own fdatasync rate.

For each --fsync mode (batch, always, off) and each client shape, a fresh `build/tandem run`
on a fresh state dir with one one_to_one program and no people, then clients send
`person.add` commands with unique ids for --seconds and count the acknowledgements. Each
measurement is preceded by `fsync_rate` in the same state dir (the peer), and followed by
a check that every acknowledged person is in STATE/events.jsonl (a run that lost data is
reported VOID).

Each client is its own process: by default bench/bench_client (C, plain sockets: one Python
client costs about as much per command as the daemon does, so it would be what a one-client row
measures); --client python runs the same protocol in Python processes, as before.

Client shapes:
  sync1        one client, one command at a time (send, wait for the reply, send)
  syncN        N such clients on N connections (--clients, default 8)
  pipe1xW      one client on one connection keeping up to W commands in flight (--window, 256)
  pipeNxW      N pipelined clients (--pipe-clients, default 4)

usage: daemon_bench.py [--seconds 2] [--modes echo,batch,always,off] [--shapes ...] [--clients 8]
                       [--window 256] [--pipe-clients 4] [--scaling 0,20000,40000] [--client c|python]
                       [--dir /tmp] [--json OUT.json] [--markdown OUT.md]
"""
import argparse
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque

import benchlib

GOAL_BATCH_ONE_CLIENT = 50000      # the issue: 50,000/s with one client (batch)
GOAL_ALWAYS_RATIO = 0.8            # the issue: within 80% of the disk's own fdatasync rate (always)


BENCH_CLIENT = os.path.join(benchlib.BENCH, "bench_client")
ECHO_PEER = os.path.join(benchlib.BENCH, "echo_peer")


def build_c_tools():
    """bench_client and echo_peer, (re)built by bench/Makefile when missing or older than their source."""
    for exe in (BENCH_CLIENT, ECHO_PEER):
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(exe + ".c"):
            subprocess.run(["make", "-s", "-C", benchlib.BENCH, os.path.basename(exe)], check=True)


class CClient:
    """One bench_client process (see bench_client.c): connect, "ready", wait for the start, run, report."""

    def __init__(self, sock_path, prefix, window, seconds):
        self.proc = subprocess.Popen([BENCH_CLIENT, sock_path, prefix.decode(), str(window), str(seconds)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.prefix = prefix.decode()

    def ready(self):
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"bench_client did not connect: {self.proc.stderr.read().strip()}")

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self):
        line = self.proc.stdout.readline()
        code = self.proc.wait()
        if code != 0 or not line:
            return {"prefix": self.prefix, "error": f"bench_client exit {code}: {self.proc.stderr.read().strip()}"}
        return json.loads(line)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def command(prefix, i):
    return b'{"cmd":"person.add","id":"%s%d","level":3,"department":"Eng"}\n' % (prefix, i)


def client(sock_path, prefix, window, seconds, start_evt, ready, out):
    """One connection. window == 1: synchronous; otherwise up to `window` commands in flight.
    Sends commands for `seconds` after start_evt, then waits for every reply."""
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock_path)
        s.settimeout(60)
        ready.put(1)
        start_evt.wait()
        t0 = time.monotonic()
        cpu0 = time.process_time()
        deadline = t0 + seconds
        sent = acked = refused = 0
        first_bad = None
        lat = []
        stamps = deque()
        buf = b""
        while True:
            now = time.monotonic()
            if now < deadline and sent - acked - refused < window:
                k = window - (sent - acked - refused)
                s.sendall(b"".join(command(prefix, sent + j) for j in range(k)))
                stamps.extend([now] * k)
                sent += k
            elif sent == acked + refused:
                break
            chunk = s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("the daemon closed the connection")
            buf += chunk
            if b"\n" not in chunk:
                continue
            lines = buf.split(b"\n")
            buf = lines.pop()
            t = time.monotonic()
            for line in lines:
                lat.append(t - stamps.popleft())
                if line.startswith(b'{"ok":true'):
                    if refused:
                        raise RuntimeError("an acknowledgement after a refusal: ids would not be contiguous")
                    acked += 1
                else:
                    refused += 1
                    first_bad = first_bad or line[:300].decode(errors="replace")
        t_end = time.monotonic()
        cpu = time.process_time()
        s.close()
        lat.sort()
        out.put({"prefix": prefix.decode(), "acked": acked, "refused": refused, "first_bad": first_bad,
                 "t0": t0, "t_end": t_end, "cpu": cpu - cpu0, "p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
                 "p99_ms": 1000 * lat[int(len(lat) * 0.99)] if lat else None})
    except Exception as e:   # reported, never hidden
        out.put({"prefix": prefix.decode(), "error": repr(e)})


# A canned reply as long as the daemon's real one to a person.add (compact JSON, ~230 bytes).
CANNED = (b'{"ok":true,"events":[{"seq":2,"ts":"2026-01-01T00:00:00Z","type":"person","phase":"added",'
          b'"person":{"id":"c0-1","department":"Eng","level":3,"capacity":1}},{"seq":3,'
          b'"ts":"2026-01-01T00:00:00Z","type":"enroll","person":"c0-1","program":"core","role":"mentee"}]}\n')


def echo_server(sock_path, ready):
    """The client-side peer: answers every line at once with CANNED, doing nothing else. What the
    Python clients and the socket manage with a server that costs nothing."""
    import selectors
    sel = selectors.DefaultSelector()
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(sock_path)
    srv.listen(256)
    srv.setblocking(False)
    sel.register(srv, selectors.EVENT_READ)
    conns = {}
    ready.put(1)
    while True:
        for key, ev in sel.select():
            s = key.fileobj
            if s is srv:
                c, _ = srv.accept()
                c.setblocking(False)
                conns[c] = b""
                sel.register(c, selectors.EVENT_READ)
                continue
            if ev & selectors.EVENT_READ:
                try:
                    data = s.recv(1 << 20)
                except BlockingIOError:
                    data = None
                if data == b"":
                    sel.unregister(s)
                    s.close()
                    del conns[s]
                    continue
                if data:
                    conns[s] += CANNED * data.count(b"\n")
            out = conns[s]
            if out:
                try:
                    n = s.send(out)
                except BlockingIOError:
                    n = 0
                conns[s] = out[n:]
            sel.modify(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if conns[s] else 0))


class Echo:
    """The echo peer with the Daemon's interface: bench/echo_peer (C) beside the C clients, the
    Python echo_server above beside the Python ones."""

    def __init__(self, state_dir, client="c"):
        self.sock_path = os.path.join(state_dir, "echo.sock")
        self.client = client

    def start(self):
        if self.client == "c":
            t0 = time.monotonic()
            self.proc = subprocess.Popen([ECHO_PEER, self.sock_path], stdout=subprocess.PIPE, text=True)
            if self.proc.stdout.readline().strip() != "ready":
                raise RuntimeError("echo_peer did not start")
            return time.monotonic() - t0
        ctx = mp.get_context("fork")
        ready = ctx.Queue()
        t0 = time.monotonic()
        self.proc = ctx.Process(target=echo_server, args=(self.sock_path, ready), daemon=True)
        self.proc.start()
        ready.get(timeout=30)
        return time.monotonic() - t0

    def cpu_seconds(self):
        return benchlib.cpu_seconds(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        if self.client == "c":
            self.proc.wait()
        else:
            self.proc.join()
        return 0

    def stderr(self):
        return ""

    def kill(self):
        if getattr(self, "proc", None) is None:
            return
        if self.client == "c":
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        elif self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


def parse_shape(shape, clients, window, pipe_clients):
    if shape == "sync1":
        return 1, 1
    if shape == "syncN":
        return clients, 1
    if shape == "pipe1xW":
        return 1, window
    if shape == "pipeNxW":
        return pipe_clients, window
    raise SystemExit(f"unknown shape {shape}")


def shape_name(shape, n, w):
    return {"sync1": "1 client, synchronous", "syncN": f"{n} clients, synchronous",
            "pipe1xW": f"1 client, pipelined {w} in flight",
            "pipeNxW": f"{n} clients, pipelined {w} in flight each"}[shape]


def people_csv(path, n):
    """n people, every one a mentee of the program (level 3), for --people at start."""
    with open(path, "w") as f:
        f.write("id,level,department\n")
        for i in range(n):
            f.write(f"pre{i},3,Ops\n")


def run_clients(kind, sock_path, n_clients, window, seconds, before, after):
    """Starts n_clients clients, waits until every one is connected, calls before(), lets them
    run, collects their reports, calls after(); returns the reports."""
    prefixes = [b"c%d-" % k for k in range(n_clients)]
    if kind == "c":
        clients = [CClient(sock_path, p, window, seconds) for p in prefixes]
        try:
            for c in clients:
                c.ready()
            before()
            for c in clients:
                c.go()
            res = [c.result() for c in clients]
            after()
            return res
        finally:
            for c in clients:
                c.kill()
    ctx = mp.get_context("fork")
    start_evt, ready, out = ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=client, args=(sock_path, p, window, seconds, start_evt, ready, out)) for p in prefixes]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=30)
    before()
    start_evt.set()
    res = [out.get(timeout=seconds + 120) for _ in procs]
    after()
    for p in procs:
        p.join()
    return res


def measure(mode, shape, n_clients, window, seconds, parent, fsync_seconds, preload=0, kind="c"):
    state = tempfile.mkdtemp(prefix=f"daemon-{mode}-{shape}-", dir=parent)
    os.rmdir(state)   # the daemon makes it, 0700
    rules = os.path.join(parent, "bench-rules.lua")
    with open(rules, "w") as f:
        f.write(benchlib.RULES)
    people = None
    if preload:
        people = os.path.join(parent, f"people-{preload}.csv")
        people_csv(people, preload)
    d = Echo(state, kind) if mode == "echo" else benchlib.Daemon(rules, state, "--fsync", mode, people=people)
    result = {"mode": mode, "shape": shape, "clients": n_clients, "window": window, "seconds": seconds,
              "preload": preload, "client": kind}
    try:
        if mode == "echo":
            os.makedirs(state, mode=0o700)
        result["start_s"] = d.start()
        if mode != "echo":
            result["seq0"] = d.call({"cmd": "status"})["status"]["seq"]
        # The peer, in the same dir, with the daemon up and idle, just before the row.
        result["fdatasync"] = benchlib.fsync_rate(state, seconds=fsync_seconds)["per_s"]
        marks = {}

        def before():
            marks[0] = d.cpu_seconds(), benchlib.runqueue_seconds(d.proc.pid), time.monotonic()

        def after():
            marks[1] = d.cpu_seconds(), benchlib.runqueue_seconds(d.proc.pid), time.monotonic()

        res = run_clients(kind, d.sock_path, n_clients, window, seconds, before, after)
        (cpu0, q0, w0), (cpu1, q1, w1) = marks[0], marks[1]
        errors = [r["error"] for r in res if "error" in r]
        if errors:
            raise RuntimeError(f"client failed: {errors[0]}")
        acked = sum(r["acked"] for r in res)
        result["client_cpu"] = sum(r["cpu"] for r in res) / (w1 - w0)
        wall = max(r["t_end"] for r in res) - min(r["t0"] for r in res)
        result.update(acked=acked, refused=sum(r["refused"] for r in res), wall_s=wall, per_s=acked / wall,
                      p50_ms=max(r["p50_ms"] for r in res if r["p50_ms"] is not None),
                      p99_ms=max(r["p99_ms"] for r in res if r["p99_ms"] is not None),
                      daemon_cpu=(cpu1 - cpu0) / (w1 - w0), daemon_runq=(q1 - q0) / (w1 - w0),
                      cpu_us_per_cmd=1e6 * (cpu1 - cpu0) / max(1, acked),
                      first_bad=next((r["first_bad"] for r in res if r["first_bad"]), None))
        # The peer again just after, the daemon idle: the row's peer is the mean of before and after.
        after = benchlib.fsync_rate(state, seconds=fsync_seconds)["per_s"]
        result["fdatasync_before"], result["fdatasync_after"] = result["fdatasync"], after
        result["fdatasync"] = (result["fdatasync"] + after) / 2
        result["ratio_fdatasync"] = result["per_s"] / result["fdatasync"]
        code = d.stop()
        if code != 0:
            raise RuntimeError(f"the daemon exited {code} on SIGTERM:\n{d.stderr()}")
        if mode == "echo":
            result.update(events=0, events_per_cmd=0, missing=0, void=result["refused"] > 0)
            return result
        # Every acknowledged person must be in the log.
        events = benchlib.read_log(state)
        ids = {e["person"]["id"] for e in events if e["type"] == "person" and e.get("phase") == "added"}
        events = [e for e in events if e["seq"] > result.get("seq0", 0)]
        missing = [f"{r['prefix']}{i}" for r in res for i in range(r["acked"]) if f"{r['prefix']}{i}" not in ids]
        result["events"] = len(events)   # those the measurement added
        result["events_per_cmd"] = len(events) / max(1, acked)
        result["missing"] = len(missing)
        result["void"] = bool(missing) or result["refused"] > 0
        if missing:
            result["missing_first"] = missing[:5]
    except Exception as e:
        result["void"] = True
        result["error"] = str(e)
        d.kill()
    finally:
        shutil.rmtree(state, ignore_errors=True)
        try:
            os.unlink(state.rstrip("/") + ".stderr")
        except OSError:
            pass
    return result


def goal_text(r):
    if r.get("void"):
        return "VOID"
    if r["mode"] == "echo":
        return "peer: the clients' ceiling"
    if r["mode"] == "batch" and r["clients"] == 1:
        return f"{r['per_s'] / GOAL_BATCH_ONE_CLIENT:.0%} of 50,000/s"
    if r["mode"] == "always":
        return f"{r['ratio_fdatasync'] / GOAL_ALWAYS_RATIO:.0%} of the 80% goal"
    return ""


def markdown(results, args):
    main_rows = [r for r in results if r.get("section") == "main"]
    rows = []
    for r in main_rows:
        name = shape_name(r["shape"], r["clients"], r["window"])
        if "error" in r:
            rows.append([f"`{r['mode']}`", name, "VOID: " + r["error"].splitlines()[0][:120]] + [""] * 8)
            continue
        rows.append([f"`{r['mode']}`", name, benchlib.fmt_rate(r["per_s"]) + (" **VOID**" if r["void"] else ""),
                     benchlib.fmt_rate(r["fdatasync"]), f"{r['ratio_fdatasync']:.2f}",
                     f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f}",
                     f"{r['daemon_cpu']:.0%} ({r['cpu_us_per_cmd']:.0f} µs/cmd; {r['daemon_runq']:.0%})",
                     f"{r['client_cpu']:.0%}",
                     "no log (peer)" if r["mode"] == "echo" else f"{r['acked']:,} acked, {r['missing']} missing",
                     goal_text(r)])
    head = ["--fsync", "clients", "commands/s", "fdatasync/s (peer: same dir, mean of just before and just after)", "ratio to fdatasync",
            "latency p50 / p99 ms", "server CPU (per command; waiting for a CPU)", "clients' CPU", "log check",
            "goal"]
    epc = next((r["events_per_cmd"] for r in main_rows if r.get("events_per_cmd")), 2)
    who = ("the C client `bench/bench_client` (one process per connection), and `bench/echo_peer` (C) as the "
           "echo server" if args.client == "c" else "Python client processes, and a Python echo server")
    text = [f"`python3 bench/daemon_bench.py --seconds {args.seconds} --clients {args.clients} "
            f"--window {args.window} --pipe-clients {args.pipe_clients} --client {args.client}`: `person.add` with "
            f"unique ids ({epc:.0f} events per command: person, enroll), {args.seconds} s per row, a fresh daemon "
            f"and state dir per row; clients: {who}. `echo` is the peer of the clients: the same client processes "
            "against a server that answers every line at once with a canned reply. CPU columns are fractions of "
            "one core over the row's wall time.", "", benchlib.table(head, rows)]
    scale = [r for r in results if r.get("section") == "scaling"]
    if scale:
        base = scale[0].get("cpu_us_per_cmd")
        srows = []
        for r in scale:
            if "error" in r:
                srows.append([f"{r['preload']:,}", "VOID: " + r["error"].splitlines()[0][:120], "", "", ""])
                continue
            srows.append([f"{r['preload']:,}", benchlib.fmt_rate(r["per_s"]) + (" **VOID**" if r["void"] else ""),
                          f"{r['cpu_us_per_cmd']:.0f}", f"{r['cpu_us_per_cmd'] / base:.2f}" if base else "",
                          f"{r['start_s']:.2f}"])
        text += ["", f"Does a command cost more as the state grows? `--fsync off`, 1 client pipelined "
                 f"{args.window} in flight, with N people (each enrolled as a mentee) imported with `--people` at "
                 "start:", "",
                 benchlib.table(["people before", "commands/s", "daemon CPU µs per command",
                                 "ratio to the empty state", "start with the import (s)"], srows)]
    return "\n".join(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=2.0, help="how long each row sends commands (default 2)")
    ap.add_argument("--fsync-seconds", type=float, default=1.0, help="how long each fdatasync peer runs")
    ap.add_argument("--modes", default="echo,batch,always,off",
                    help="--fsync modes, and echo: the clients against a server that answers at once (the "
                         "clients' own ceiling)")
    ap.add_argument("--shapes", default="sync1,syncN,pipe1xW,pipeNxW")
    ap.add_argument("--clients", type=int, default=8, help="N of syncN (default 8)")
    ap.add_argument("--pipe-clients", type=int, default=4, help="N of pipeNxW (default 4)")
    ap.add_argument("--window", type=int, default=256, help="W: commands in flight per pipelined client")
    ap.add_argument("--scaling", default="0,20000,40000",
                    help="also --fsync off, 1 pipelined client, with this many people in the state before "
                         "(imported with --people at start): does a command's cost grow with the state?")
    ap.add_argument("--client", choices=("c", "python"), default="c",
                    help="the client processes: c (bench/bench_client, default) or python (this script's own)")
    ap.add_argument("--dir", default=None, help="where the state dirs go (default: a temp dir under $TMPDIR)")
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--markdown", help="write a Markdown section here")
    args = ap.parse_args()
    if not os.access(benchlib.TANDEM, os.X_OK):
        sys.exit(f"{benchlib.TANDEM} not found: run make first")
    benchlib.build_fsync_rate()
    if args.client == "c":
        build_c_tools()
    parent = tempfile.mkdtemp(prefix="tandem-bench-", dir=args.dir)
    os.chmod(parent, 0o700)
    info = benchlib.machine(parent)
    jobs = [(mode, shape, 0, "main") for mode in args.modes.split(",") if mode for shape in args.shapes.split(",")]
    jobs += [("off", "pipe1xW", int(n), "scaling") for n in args.scaling.split(",") if n]
    results = []
    try:
        for mode, shape, preload, section in jobs:
            n, w = parse_shape(shape, args.clients, args.window, args.pipe_clients)
            r = measure(mode, shape, n, w, args.seconds, parent, args.fsync_seconds, preload, args.client)
            r["section"] = section
            results.append(r)
            label = shape_name(shape, n, w) + (f", {preload:,} people before" if preload else "")
            if "error" in r:
                print(f"{mode:6} {label:40} VOID: {r['error']}", flush=True)
            else:
                print(f"{mode:6} {label:40} {r['per_s']:10,.0f}/s  fdatasync {r['fdatasync']:7,.0f}/s"
                      f"  ratio {r['ratio_fdatasync']:6.2f}  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms"
                      f"  cpu {r['daemon_cpu']:4.0%} ({r['cpu_us_per_cmd']:.0f} us/cmd, waiting for a CPU "
                      f"{r['daemon_runq']:4.0%}) clients {r['client_cpu']:4.0%}  acked {r['acked']:,} "
                      f"missing {r['missing']}{'  VOID' if r['void'] else ''}  {goal_text(r)}", flush=True)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "args": vars(args), "results": results}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(results, args) + "\n")
    return 1 if any(r.get("void") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
