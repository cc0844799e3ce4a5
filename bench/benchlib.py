"""Shared helpers of the benchmarks: the machine, the fdatasync peer, a real daemon, the log.

Standard library only. Nothing here is a test: it measures and reports.
"""
import datetime
import json
import os
import platform
import signal
import socket
import subprocess
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
TANDEM = os.environ.get("TANDEM_BIN") or os.path.join(ROOT, "build", "tandem")
FSYNC_RATE = os.environ.get("FSYNC_RATE_BIN") or os.path.join(BENCH, "fsync_rate")

# One program, the shipped one_to_one model: every person.add runs the rules (enrolment).
RULES = 'tandem.program { name = "core", model = "one_to_one" }\n'


# ---- the machine ----

def _read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def machine(state_parent):
    """What the numbers were measured on: cores, CPU, kernel, and the state dir's disk."""
    cpu = ""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    src = fstype = opts = "?"
    try:
        out = subprocess.run(["findmnt", "-no", "SOURCE,FSTYPE,OPTIONS", "-T", state_parent],
                             capture_output=True, text=True, timeout=10).stdout.split()
        if len(out) >= 3:
            src, fstype, opts = out[0], out[1], out[2]
    except (OSError, subprocess.SubprocessError):
        pass
    disk = {"source": src, "fstype": fstype, "mount_options": opts}
    dev = os.path.basename(src)
    base = dev
    while base and not os.path.exists(f"/sys/block/{base}"):   # vda1 -> vda, nvme0n1p2 -> nvme0n1
        base = base[:-1]
    if base:
        q = f"/sys/block/{base}/queue"
        disk.update(rotational=_read(f"{q}/rotational"), write_cache=_read(f"{q}/write_cache"),
                    scheduler=_read(f"{q}/scheduler"), model=_read(f"/sys/block/{base}/device/model") or
                    {"0x1af4": "virtio-blk (vendor 0x1af4), a virtual disk"}.get(
                        _read(f"/sys/block/{base}/device/vendor"), _read(f"/sys/block/{base}/device/vendor")) or
                    "no model in sysfs")
    load = _read("/proc/loadavg").split()[:3]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(mem_kb / 1048576, 1),
        "kernel": platform.release(),
        "os": _read("/etc/debian_version") and "Debian " + _read("/etc/debian_version"),
        "python": platform.python_version(),
        "state_dir": state_parent,
        "disk": disk,
        "loadavg_at_start": load,
        "tandem": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip() or "?",
    }


def machine_markdown(m):
    d = m["disk"]
    disk = f"{d['source']} ({d.get('model', '?')}), {d['fstype']} {d['mount_options']}"
    if "rotational" in d:
        disk += f"; rotational={d['rotational']}, write cache: {d['write_cache']}, scheduler: {d['scheduler']}"
    return "\n".join([
        f"- date: {m['date']}",
        f"- nproc: {m['nproc']}; CPU: {m['cpu']}; memory: {m['mem_gib']} GiB",
        f"- kernel: {m['kernel']}; {m['os']}; Python {m['python']}",
        f"- state dir: `{m['state_dir']}` on {disk}",
        f"- load average when the run started: {' '.join(m['loadavg_at_start'])} "
        "(this machine is shared: other work on it moves the numbers; ratios are taken within one run)",
        f"- tandem at commit {m['tandem']} (plus the work tree)",
    ])


# ---- the fdatasync peer ----

def build_fsync_rate():
    src = os.path.join(BENCH, "fsync_rate.c")
    if not os.path.exists(FSYNC_RATE) or os.path.getmtime(FSYNC_RATE) < os.path.getmtime(src):
        subprocess.run(["make", "-s", "-C", BENCH, "fsync_rate"], check=True)
    return FSYNC_RATE


def fsync_rate(directory, seconds=1.0, count=1000000):
    """The disk's own rate of (append 200 B + fdatasync) in `directory`, one thread."""
    out = subprocess.run([build_fsync_rate(), directory, "-t", str(seconds), "-n", str(count), "--json"],
                         capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    return json.loads(out)


# ---- a real daemon ----

def cpu_seconds(pid):
    """user + system CPU time of a process so far."""
    fields = _read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def runqueue_seconds(pid):
    """Time a process has spent runnable but waiting for a CPU (other work on the machine)."""
    try:
        return int(_read(f"/proc/{pid}/schedstat").split()[1]) / 1e9
    except (IndexError, ValueError):
        return 0.0


class Daemon:
    """`tandem run` on a real Unix socket; start() returns once the socket accepts a connection."""

    def __init__(self, rules, state_dir, *args, people=None, tandem=TANDEM):
        self.state_dir = state_dir
        self.sock_path = os.path.join(state_dir, "tandem.sock")
        self.cmd = [tandem, "run", rules, "--state", state_dir, *args]
        if people:
            self.cmd += ["--people", people]
        self.stderr_path = state_dir.rstrip("/") + ".stderr"
        self.proc = None

    def start(self, timeout=600, probe="connect"):
        """Starts the daemon; returns seconds from exec until the socket accepts a connection
        (probe="connect") or answers {"cmd":"status"} (probe="status")."""
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        self.err = open(self.stderr_path, "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if os.path.exists(self.sock_path):
                try:
                    c = socket.socket(socket.AF_UNIX)
                    c.settimeout(timeout)
                    c.connect(self.sock_path)
                    if probe == "status":
                        c.sendall(b'{"cmd":"status"}\n')
                        buf = b""
                        while b"\n" not in buf:
                            chunk = c.recv(65536)
                            if not chunk:
                                raise OSError("closed")
                            buf += chunk
                        if not json.loads(buf.split(b"\n", 1)[0]).get("ok"):
                            raise OSError("status refused")
                    c.close()
                    return time.monotonic() - t0
                except OSError:
                    c.close()
            time.sleep(0.001)
        self.err.close()
        raise RuntimeError(f"daemon did not start (exit {self.proc.poll()}):\n{self.stderr()}")

    def stderr(self):
        return _read(self.stderr_path)

    def call(self, cmd):
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(60)
        c.connect(self.sock_path)
        try:
            c.sendall(json.dumps(cmd).encode() + b"\n")
            buf = b""
            while b"\n" not in buf:
                chunk = c.recv(65536)
                if not chunk:
                    raise RuntimeError("connection closed before a reply")
                buf += chunk
            return json.loads(buf.split(b"\n", 1)[0])
        finally:
            c.close()

    def cpu_seconds(self):
        return cpu_seconds(self.proc.pid)

    def stop(self, sig=signal.SIGTERM, timeout=120):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.err.close()
        return code

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.err.close()


# ---- the log ----

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc_ok(raw: bytes) -> bool:
    line = raw.rstrip(b"\n")
    cut = line.rfind(b',"crc":"')
    return cut > 0 and line[cut + 16:] == b'"}' and f"{crc32c(line[:cut]):08x}".encode() == line[cut + 8:cut + 16]


def read_log(state_dir, crc_sample=20000):
    """Every event of STATE/events.jsonl, parsed; checks seq is 1, 2, 3, ... with no gap and the
    CRC-32C of up to `crc_sample` lines spread over the file (all of them in a small log; a pure
    Python CRC of a million lines would take minutes) plus the last 200. Raises on any fault."""
    with open(os.path.join(state_dir, "events.jsonl"), "rb") as f:
        raw = f.read().split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    else:
        raise AssertionError("the log does not end with a newline")
    n = len(raw)
    step = max(1, n // crc_sample) if crc_sample else 0
    events = []
    for i, line in enumerate(raw):
        if (step and i % step == 0) or i >= n - 200:
            if not crc_ok(line):
                raise AssertionError(f"events.jsonl:{i + 1}: bad crc")
        e = json.loads(line)
        if e["seq"] != i + 1:
            raise AssertionError(f"events.jsonl:{i + 1}: seq {e['seq']}, expected {i + 1}")
        events.append(e)
    return events


# ---- output ----

def fmt_rate(x):
    return f"{x:,.0f}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
