"""Helpers for the end-to-end tests: run the real build/tandem, read its real log."""
import json
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TANDEM = os.environ.get("TANDEM_BIN") or os.path.join(ROOT, "build", "tandem")
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


def run(*args, cwd=None, check=None, timeout=120):
    p = subprocess.run([TANDEM, *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout)
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
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text, mode="w"):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, mode) as f:
            f.write(text)
        return p

    def simulate(self, rules=EXAMPLE_RULES, people=EXAMPLE_PEOPLE, state="state", days="365", seed="1",
                 extra=(), check=0):
        state_dir = self.path(state)
        p = run("simulate", rules, "--people", people, "--state", state_dir, "--days", days,
                "--start", "2027-01-01", "--seed", seed, *extra, check=check)
        return p, state_dir
