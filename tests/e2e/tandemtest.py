"""Helpers for the end-to-end tests: run the real build/tandem, read its real log."""
import json
import os
import shlex
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TANDEM = os.environ.get("TANDEM_BIN") or os.path.join(ROOT, "build", "tandem")
# TANDEM_WRAP runs every tandem under another program (make valgrind-test: valgrind ...);
# TANDEM_TIME_FACTOR stretches every timeout the tests set, for such slow runs.
WRAP = shlex.split(os.environ.get("TANDEM_WRAP", ""))
TIME_FACTOR = float(os.environ.get("TANDEM_TIME_FACTOR", "1"))
# The fault-injection shim (tests/fault/faultfs.c), built next to the binary.
FAULTFS = os.environ.get("TANDEM_FAULTFS") or os.path.join(os.path.dirname(TANDEM), "faultfs.so")


def tandem_cmd():
    """The command line prefix that runs tandem (wrapped when TANDEM_WRAP is set)."""
    return [*WRAP, TANDEM]
EXAMPLE_RULES = os.path.join(ROOT, "rules", "examples", "acme.lua")
EXAMPLE_PEOPLE = os.path.join(ROOT, "rules", "examples", "people.csv")


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
    """An independent CRC-32C, to check the log's per-line checksums."""
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def run(*args, cwd=None, check=None, timeout=120, env=None):
    p = subprocess.run([*tandem_cmd(), *args], cwd=cwd or ROOT, capture_output=True, text=True,
                       timeout=timeout * TIME_FACTOR, env=env)
    if check is not None and p.returncode != check:
        raise AssertionError(f"tandem {' '.join(args)} exited {p.returncode}, expected {check}\n"
                             f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def read_log(state_dir):
    """Every event of STATE/events.jsonl, verifying each line's crc on the way."""
    events = []
    with open(os.path.join(state_dir, "events.jsonl"), "rb") as f:
        for n, raw in enumerate(f, 1):
            assert raw.endswith(b"\n"), f"line {n} has no newline"
            line = raw[:-1]
            cut = line.rindex(b',"crc":"')
            want = line[cut + 8:cut + 16].decode()
            assert line[cut + 16:] == b'"}', f"line {n}: crc is not the last member"
            assert f"{crc32c(line[:cut]):08x}" == want, f"line {n}: crc mismatch"
            events.append(json.loads(line))
    return events


class TandemCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="tandem-e2e-")
        self.tmp = self._tmp.name

    def tearDown(self):
        # A test that failed half-way must not leave a daemon running.
        while RUNNING:
            d = RUNNING.pop()
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text, mode="w"):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, mode) as f:
            f.write(text)
        return p

    def start_daemon(self, rules, people, *args, state="state"):
        """A daemon on rules.lua (and people.csv, when people is given) in this test's temp dir."""
        self.rules = self.write("rules.lua", rules)
        ppl = self.write("people.csv", people) if people else None
        self.state = self.path(state)
        return Daemon(self.rules, self.state, *args, people=ppl)

    def simulate(self, rules=EXAMPLE_RULES, people=EXAMPLE_PEOPLE, state="state", days="365", seed="1",
                 extra=(), check=0):
        state_dir = self.path(state)
        p = run("simulate", rules, "--people", people, "--state", state_dir, "--days", days,
                "--start", "2027-01-01", "--seed", seed, *extra, check=check)
        return p, state_dir


def log_line(event: dict) -> str:
    """One log line as the engine writes it: compact JSON, then the crc member."""
    body = json.dumps(event, separators=(",", ":"))
    assert body.endswith("}")
    head = body[:-1]
    return f'{head},"crc":"{crc32c(head.encode()):08x}"}}\n'


def write_log(state_dir, events):
    """Writes a log of the given events (seq numbered here), for a daemon to start from."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    with open(os.path.join(state_dir, "events.jsonl"), "w") as f:
        for n, e in enumerate(events, 1):
            f.write(log_line({"seq": n, **e}))


RUNNING = []   # every daemon started, for tearDown


class Daemon:
    """A real `tandem run` on a real Unix socket in a temp state dir."""

    def __init__(self, rules, state_dir, *args, people=None, env=None):
        import socket as _s
        import time as _t
        self.state_dir = state_dir
        self.sock_path = os.path.join(state_dir, "tandem.sock")
        cmd = [*tandem_cmd(), "run", rules, "--state", state_dir, *args]
        if people:
            cmd += ["--people", people]
        self.stderr_path = state_dir.rstrip("/") + ".stderr"
        os.makedirs(os.path.dirname(self.stderr_path), exist_ok=True)
        self.err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err,
                                     env=None if env is None else {**os.environ, **env})
        RUNNING.append(self)
        deadline = _t.time() + 20 * TIME_FACTOR
        while _t.time() < deadline:
            if self.proc.poll() is not None:
                break
            if os.path.exists(self.sock_path):
                try:
                    c = _s.socket(_s.AF_UNIX)
                    c.connect(self.sock_path)
                    c.close()
                    return
                except OSError:
                    pass
            _t.sleep(0.02)
        self.err.close()
        raise AssertionError(f"daemon did not start (exit {self.proc.poll()}):\n{self.stderr()}")

    def stderr(self):
        """What the daemon wrote on stderr so far (also after it stopped)."""
        if not self.err.closed:
            self.err.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def connect(self):
        import socket as _s
        c = _s.socket(_s.AF_UNIX)
        c.connect(self.sock_path)
        c.settimeout(20 * TIME_FACTOR)
        return Client(c)

    def send(self, cmd):
        c = self.connect()
        try:
            return c.call(cmd)
        finally:
            c.close()

    def stop(self, sig=None):
        import signal as _sig
        if self.proc.poll() is None:
            self.proc.send_signal(sig or _sig.SIGTERM)
        code = self.proc.wait(timeout=30 * TIME_FACTOR)
        self.err.close()
        return code


class Client:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def reply(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("connection closed before a reply")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, cmd):
        self.send_raw((cmd if isinstance(cmd, str) else json.dumps(cmd)).encode() + b"\n")
        return self.reply()

    def close(self):
        self.sock.close()
