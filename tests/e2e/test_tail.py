"""tandem tail: -f follows what a running daemon appends; --program and --since filters; colour
only on a terminal and never with NO_COLOR; a replaced log is read again from its start."""
import json
import os
import pty
import select
import signal
import subprocess
import time

from tandemtest import TANDEM, Daemon, TandemCase, read_log, run

RULES = 'tandem.program { name = "core", model = "one_to_one" }\n' \
        'tandem.program { name = "side", model = "one_to_one" }\n'
PEOPLE = ("id,name,level,department\n"
          "m1,Mia,8,Eng\nm2,Max,9,Sales\ne1,Eve,3,Ops\ne2,Eli,2,Legal\n")


class Reader:
    """Lines from a child's stdout, with a deadline (no blocking forever on a missing line)."""

    def __init__(self, proc):
        self.proc = proc
        self.buf = b""

    def lines(self, n, timeout=10):
        out = []
        deadline = time.time() + timeout
        while len(out) < n:
            while b"\n" in self.buf and len(out) < n:
                line, self.buf = self.buf.split(b"\n", 1)
                out.append(line.decode())
            if len(out) == n:
                break
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"only {len(out)} of {n} lines: {out}")
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"tail exited after {len(out)} lines: {out}")
                self.buf += chunk
        return out


class Follow(TandemCase):
    def start_tail(self, state, *args):
        proc = subprocess.Popen([TANDEM, "tail", "--state", state, "-f", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc, Reader(proc)

    def test_follows_a_running_daemon(self):
        state = self.path("state")
        d = Daemon(self.write("rules.lua", RULES), state, people=self.write("people.csv", PEOPLE))
        before = len(read_log(state))
        proc, reader = self.start_tail(state, "--json")
        self.assertEqual([json.loads(l)["seq"] for l in reader.lines(before)], list(range(1, before + 1)))
        # Each command's events are on disk when ctl returns; tail must show them, in order.
        for i in range(5):
            self.assertTrue(d.send({"cmd": "person.add", "id": f"n{i}", "level": 3})["ok"])
        want = read_log(state)[before:]
        for e in want:
            del e["crc"]
        got = [json.loads(l) for l in reader.lines(len(want))]
        self.assertEqual(got, want)
        self.assertEqual([e["person"]["id"] for e in got if e["type"] == "person"], [f"n{i}" for i in range(5)])
        # A filtered follower sees only what it asked for.
        proc2, reader2 = self.start_tail(state, "--json", "--type", "flag")
        m = next(e for e in read_log(state) if e["type"] == "match")
        self.assertTrue(d.send({"cmd": "person.add", "id": "x9", "level": 4})["ok"])
        time.sleep(0.3)
        r = subprocess.run([TANDEM, "ctl", "--state", state, "meeting", "held", "--match", str(m["match"])],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(d.stop(), 0)
        # SIGTERM ends following cleanly.
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=10), 0)
        proc2.send_signal(signal.SIGINT)
        self.assertEqual(proc2.wait(timeout=10), 0)
        self.assertEqual(proc2.stdout.read(), b"", "no flag was logged")

    def test_replaced_log_is_read_from_the_start(self):
        _, state = self.simulate(days="5", state="sim")
        n = len(read_log(state))
        proc, reader = self.start_tail(state, "--json", "--type", "rules")
        self.assertEqual(json.loads(reader.lines(1)[0])["seq"], 1)
        time.sleep(0.3)
        self.simulate(days="3", state="sim")   # a new simulation replaces the log
        again = json.loads(reader.lines(1, timeout=15)[0])
        self.assertEqual(again["seq"], 1)
        self.assertGreater(n, 1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        self.assertIn(b"replaced", proc.stderr.read())


class Filters(TandemCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        from tandemtest import EXAMPLE_PEOPLE, EXAMPLE_RULES
        cls._cls_tmp = tempfile.TemporaryDirectory(prefix="tandem-tail-")
        cls.state = os.path.join(cls._cls_tmp.name, "state")
        run("simulate", EXAMPLE_RULES, "--people", EXAMPLE_PEOPLE, "--state", cls.state, "--days", "60",
            "--start", "2027-01-01", "--quiet", check=0)
        cls.events = read_log(cls.state)
        for e in cls.events:
            del e["crc"]

    @classmethod
    def tearDownClass(cls):
        cls._cls_tmp.cleanup()

    def tail_json(self, *args):
        out = run("tail", "--state", self.state, "--json", *args, check=0).stdout
        return [json.loads(l) for l in out.splitlines()]

    def test_program(self):
        prog = {e["match"]: e["program"] for e in self.events if e["type"] == "match" and "program" in e}
        want = [e for e in self.events
                if e.get("program") == "circles" or ("program" not in e and prog.get(e.get("match")) == "circles")]
        got = self.tail_json("--program", "circles")
        self.assertEqual(got, want)
        self.assertTrue(any(e["type"] == "meeting" for e in got))
        self.assertTrue(any(e["type"] == "enroll" for e in got))

    def test_since_and_combined(self):
        got = self.tail_json("--since", "2027-02-01")
        self.assertEqual(got, [e for e in self.events if e["ts"] >= "2027-02-01"])
        got = self.tail_json("--since", "2027-02-01T12:00:00Z", "--type", "meeting", "--program", "core")
        self.assertTrue(got)
        self.assertTrue(all(e["type"] == "meeting" and e["ts"] >= "2027-02-01T12:00:00Z" for e in got))
        self.assertEqual(run("tail", "--state", self.state, "--since", "soon", check=2).returncode, 2)

    def test_unknown_type_gets_a_suggestion_and_no_lines(self):
        p = run("tail", "--state", self.state, "--type", "mach", check=0)
        self.assertIn('did you mean "match"', p.stderr)
        self.assertEqual(p.stdout, "")

    def test_no_colour_when_piped(self):
        out = run("tail", "--state", self.state, "--type", "match", check=0).stdout
        self.assertNotIn("\x1b", out)
        out = run("tail", "--state", self.state, "--type", "match", "--color", "always", check=0).stdout
        self.assertIn("\x1b[32mmatch", out)

    def on_pty(self, env_extra):
        """Runs tail on a pseudo-terminal; returns everything it wrote."""
        master, slave = pty.openpty()
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        env.update(env_extra)
        proc = subprocess.Popen([TANDEM, "tail", "--state", self.state, "--type", "rules,match"], stdout=slave,
                                stderr=slave, env=env)
        os.close(slave)
        data = b""
        while True:
            r, _, _ = select.select([master], [], [], 10)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        proc.wait(timeout=10)
        os.close(master)
        return data.decode()

    def test_colour_on_a_terminal_unless_no_color(self):
        out = self.on_pty({})
        self.assertIn("\x1b[32mmatch", out)
        self.assertIn("\x1b[34mrules", out)
        plain = self.on_pty({"NO_COLOR": "1"})
        self.assertNotIn("\x1b", plain)
        self.assertIn(" match ", plain)
