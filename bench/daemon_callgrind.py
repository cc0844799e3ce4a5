#!/usr/bin/env python3
"""The daemon's instructions per command, a count that the machine's other work does not move.

Runs `tandem run` (benchlib.RULES: one one_to_one program, no people; --fsync off, no
snapshots) under `valgrind --tool=callgrind` twice, once for --small and once for --large
`person.add` commands sent by one pipelined connection (--window in flight, the bench
client's lines), and prints the difference of the two totals divided by the difference of
the counts: what one more command costs, start and stop cancelled out. The second number is
the same difference for control.c's on_read alone (from the first read to the last reply:
what the loop spends on commands; the first also holds freeing each person's state at exit).

    python3 bench/daemon_callgrind.py [--small 2000] [--large 22000] [--window 256] [--keep DIR]

Standard library Python and valgrind. With TANDEM_BIN another build is measured (set
TANDEM_RULES_DIR to a rules/ folder when that binary is not beside one). Every reply must be
{"ok":true,...}; --keep DIR keeps the large run's events.jsonl and callgrind file there.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import benchlib


def run(n, window, out_file, keep=None):
    """Total instructions of a daemon that took n commands, and its callgrind file's path."""
    d = tempfile.mkdtemp(prefix="tandem-callgrind-")
    try:
        rules = os.path.join(d, "rules.lua")
        with open(rules, "w") as f:
            f.write(benchlib.RULES)
        state = os.path.join(d, "state")
        sock = os.path.join(state, "tandem.sock")
        err = open(os.path.join(d, "stderr"), "w")
        proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_file, benchlib.TANDEM,
                                 "run", rules, "--state", state, "--fsync", "off", "--snapshot-every", "0"],
                                stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 300
        c = socket.socket(socket.AF_UNIX)
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                err.close()
                sys.exit("the daemon did not start:\n" + open(os.path.join(d, "stderr")).read())
            try:
                c.connect(sock)
                break
            except OSError:
                time.sleep(0.05)
        sent = got = 0
        buf = b""
        while got < n:
            lines = []
            while sent < n and sent - got < window:
                lines.append(b'{"cmd":"person.add","id":"c0-%d","level":3,"department":"Eng"}\n' % sent)
                sent += 1
            if lines:
                c.sendall(b"".join(lines))
            chunk = c.recv(1 << 20)
            if not chunk:
                sys.exit("the daemon closed the connection")
            buf += chunk
            *replies, buf = buf.split(b"\n")
            for r in replies:
                if not r.startswith(b'{"ok":true'):
                    sys.exit("refused: %r" % r[:200])
            got += len(replies)
        c.close()
        proc.terminate()
        proc.wait()
        err.close()
        if keep:
            shutil.copy(os.path.join(state, "events.jsonl"), os.path.join(keep, "events.jsonl"))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    with open(out_file) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    sys.exit("no total in " + out_file)


def inclusive(out_file, function="control.c:on_read "):
    """The inclusive instruction count of one function, from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", out_file], capture_output=True,
                          text=True).stdout
    for line in text.splitlines():
        if function in line:
            return int(line.split()[0].replace(",", ""))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--large", type=int, default=22000)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--keep", help="a folder for the large run's log and callgrind file")
    a = ap.parse_args()
    if a.large <= a.small:
        sys.exit("--large must be more than --small")
    out = a.keep or tempfile.mkdtemp(prefix="tandem-callgrind-out-")
    os.makedirs(out, exist_ok=True)
    files = [os.path.join(out, f"callgrind.{n}") for n in (a.small, a.large)]
    small = run(a.small, a.window, files[0])
    large = run(a.large, a.window, files[1], keep=a.keep)
    n = a.large - a.small
    loop = (inclusive(files[1]) - inclusive(files[0])) / n
    print(f"{(large - small) / n:,.0f} instructions a command ({loop:,.0f} from the first read to the last reply); "
          f"{a.small:,} and {a.large:,} commands, {benchlib.TANDEM}")
    if not a.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
