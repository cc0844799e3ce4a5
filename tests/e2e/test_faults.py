"""A full or failing disk under a running daemon, through the LD_PRELOAD shim
tests/fault/faultfs.c: the test writes the fault into a control file while the daemon runs.
For each fault: the clients whose facts did not reach the disk get errors, never acks; the
daemon says what failed on stderr and refuses writes while the fault lasts; it goes on when
the fault clears; a restart holds exactly the acknowledged facts in a gapless, verified log."""
import datetime
import json
import math
import os
import signal
import subprocess
import threading
import time

from tandemtest import FAULTFS, TIME_FACTOR, Daemon, TandemCase, log_line, read_log, tandem_cmd, write_log
from test_daemon import DaemonCase
from test_tail import Reader

ERRNO_TEXT = {"enospc": "No space left on device", "eio": "Input/output error",
              "short": "No space left on device", "fsync": "Input/output error",
              "rename": "Input/output error"}


class FaultCase(DaemonCase):
    def setUp(self):
        super().setUp()
        self.assertTrue(os.path.exists(FAULTFS), f"{FAULTFS} is missing: make builds it (tests/fault/faultfs.c)")
        self.ctl = self.path("fault.ctl")
        self.fault(None)

    def fault(self, mode, pattern="events.jsonl"):
        with open(self.ctl, "w") as f:
            f.write(f"{mode} {pattern}\n" if mode else "off\n")

    def env(self):
        asan = os.environ.get("ASAN_OPTIONS", "")
        return {"LD_PRELOAD": FAULTFS, "FAULTFS_MATCH": self.path("state"), "FAULTFS_CTL": self.ctl,
                # gcc's ASan wants its runtime first in the library list; the shim only wraps calls.
                "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}

    def start_faulty(self, *args):
        self.rules = self.write("rules.lua", __import__("test_daemon").RULES)
        ppl = self.write("people.csv", __import__("test_daemon").PEOPLE)
        self.state = self.path("state")
        d = Daemon(self.rules, self.state, *args, people=ppl, env=self.env())
        self.addCleanup(lambda: d.proc.poll() is None and d.stop(signal.SIGKILL))
        # The matching tick that a new program has at once: over before any fault is set.
        deadline = time.time() + 10 * TIME_FACTOR
        while not [e for e in read_log(self.state) if e["type"] == "match"] and time.time() < deadline:
            time.sleep(0.02)
        return d

    def until_ok(self, d, cmd):
        """Retries a command until the daemon takes it again (it retries the log once a second)."""
        deadline = time.time() + 10 * TIME_FACTOR
        while True:
            r = d.send(cmd)
            if r["ok"] or time.time() > deadline:
                return r
            self.assertIn("event log", r["error"])
            time.sleep(0.1)

    def people_in_log(self, prefix):
        return [e["person"]["id"] for e in read_log(self.state)
                if e["type"] == "person" and e["person"]["id"].startswith(prefix)]


class JournalFaults(FaultCase):
    def check_fault(self, mode, fsync):
        d = self.start_faulty("--fsync", fsync, "--snapshot-every", "0")
        acked = []
        for i in range(3):
            r = d.send({"cmd": "person.add", "id": f"a{i}", "level": 3})
            self.assertTrue(r["ok"], r)
            acked.append(f"a{i}")
        size = os.path.getsize(os.path.join(self.state, "events.jsonl"))
        durable = len(read_log(self.state))

        self.fault(mode)
        c = d.connect()
        for i in range(4):
            r = c.call({"cmd": "person.add", "id": f"x{i}", "level": 3})
            self.assertFalse(r["ok"], f"{mode}: a fact that is not on disk was acknowledged: {r}")
            self.assertIn("event log", r["error"])
        st = c.call({"cmd": "status"})["status"]
        self.assertIsNotNone(st["log_error"])
        self.assertIn(ERRNO_TEXT[mode], st["log_error"])
        self.assertEqual(st["seq"], durable, "the state went back to what the disk holds")
        self.assertEqual(st["people"], 8)
        c.close()
        err = d.stderr()
        self.assertIn("faultfs:", err, "the shim did not inject anything")
        self.assertIn("events.jsonl", err)
        self.assertIn(ERRNO_TEXT[mode], err)
        self.assertIn("writes are refused", err)
        # Nothing partial stays behind: the log is whole and ends where the last commit did.
        self.assertEqual(os.path.getsize(os.path.join(self.state, "events.jsonl")), size)
        self.assertEqual(len(read_log(self.state)), durable)

        self.fault(None)
        r = self.until_ok(d, {"cmd": "person.add", "id": "b0", "level": 3})
        self.assertTrue(r["ok"], f"{mode}: the daemon did not go on after the fault cleared: {r}")
        acked.append("b0")
        for i in range(1, 3):
            r = d.send({"cmd": "person.add", "id": f"b{i}", "level": 3})
            self.assertTrue(r["ok"], r)
            acked.append(f"b{i}")
        self.assertIsNone(d.send({"cmd": "status"})["status"]["log_error"])
        self.assertIn("written again", d.stderr())
        self.assertEqual(d.stop(), 0)

        d2 = Daemon(self.rules, self.state)
        self.addCleanup(lambda: d2.proc.poll() is None and d2.stop(signal.SIGKILL))
        log = read_log(self.state)
        self.assertEqual([e["seq"] for e in log], list(range(1, len(log) + 1)))
        self.assertEqual(self.people_in_log("a") + self.people_in_log("b"), acked)
        self.assertEqual(self.people_in_log("x"), [], "a refused fact reached the log")
        self.assertEqual(d2.send({"cmd": "status"})["status"]["people"], 5 + len(acked))
        self.assertEqual(d2.stop(), 0)

    def test_enospc(self):
        self.check_fault("enospc", "batch")

    def test_eio(self):
        self.check_fault("eio", "always")

    def test_short_write_is_cut(self):
        self.check_fault("short", "batch")

    def test_failing_fsync(self):
        for mode in ("batch", "always"):
            with self.subTest(fsync=mode):
                self.check_fault("fsync", mode)
                self.tearDown()
                self.setUp()

    def test_busy_clients_through_a_fault(self):
        d = self.start_faulty("--fsync", "batch")
        acked, refused, stop = [], [], threading.Event()

        def writer(k):
            c = d.connect()
            i = 0
            while not stop.is_set():
                pid = f"w{k}-{i}"
                r = c.call({"cmd": "person.add", "id": pid, "level": 2})
                (acked if r.get("ok") else refused).append(pid)
                i += 1
            c.close()

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        self.fault("enospc")
        time.sleep(1.0)
        self.fault(None)
        time.sleep(2.0 * TIME_FACTOR)
        stop.set()
        for t in threads:
            t.join()
        self.assertTrue(refused, "the fault refused nothing")
        n_acked = len(acked)
        self.assertGreater(n_acked, 10)
        self.assertEqual(d.stop(), 0)
        in_log = self.people_in_log("w")
        self.assertEqual(sorted(in_log), sorted(acked), "the log holds exactly the acknowledged facts")
        log = read_log(self.state)
        self.assertEqual([e["seq"] for e in log], list(range(1, len(log) + 1)))
        # After the fault cleared, the writers were acknowledged again.
        last_refused = max(refused, key=lambda p: (int(p[1:].split("-")[0]), int(p.split("-")[1])))
        self.assertTrue(any(a.split("-")[0] == last_refused.split("-")[0] and
                            int(a.split("-")[1]) > int(last_refused.split("-")[1]) for a in acked))


class SnapshotFaults(FaultCase):
    def snaps(self):
        return sorted(f for f in os.listdir(self.state) if f.startswith("snapshot-"))

    def test_failed_snapshot_keeps_the_old_one_and_goes_on(self):
        for mode in ("enospc", "short", "fsync", "rename"):
            with self.subTest(fault=mode):
                d = self.start_faulty("--snapshot-every", "0")
                r = d.send({"cmd": "snapshot"})
                self.assertTrue(r["ok"], r)
                old = self.snaps()
                self.assertEqual(len(old), 1)
                with open(os.path.join(self.state, old[0]), "rb") as f:
                    old_bytes = f.read()
                self.assertTrue(d.send({"cmd": "person.add", "id": "s1", "level": 3})["ok"])
                self.fault(mode, "snapshot-")
                r = d.send({"cmd": "snapshot"})
                self.assertFalse(r["ok"], f"{mode}: {r}")
                self.assertIn("snapshot-", r["error"])
                self.assertIn(ERRNO_TEXT[mode], r["error"])
                self.assertEqual(self.snaps(), old, "the temp file is removed and the old snapshot kept")
                with open(os.path.join(self.state, old[0]), "rb") as f:
                    self.assertEqual(f.read(), old_bytes)
                # The log is not affected: facts go on being acknowledged.
                self.assertTrue(d.send({"cmd": "person.add", "id": "s2", "level": 3})["ok"])
                self.fault(None)
                r = d.send({"cmd": "snapshot"})
                self.assertTrue(r["ok"], r)
                seq = r["seq"]
                self.assertEqual(d.stop(), 0)
                d2 = Daemon(self.rules, self.state)
                st = d2.send({"cmd": "status"})["status"]
                self.assertEqual((st["seq"], st["people"]), (seq, 7))
                self.assertEqual(d2.stop(), 0)
                self.tearDown()
                self.setUp()


class ReloadFaults(FaultCase):
    def sha(self, d):
        return d.send({"cmd": "status"})["status"]["sha256"]

    def enrolled(self, pid):
        return sorted(e["program"] for e in read_log(self.state) if e["type"] == "enroll" and e["person"] == pid)

    def check_reload(self, fsync, how):
        d = self.start_faulty("--fsync", fsync)
        old_sha = self.sha(d)
        with open(self.rules, "a") as f:
            f.write('tandem.program { name = "extra", model = "one_to_one" }\n')
        self.fault("enospc")
        if how == "ctl":
            r = d.send({"cmd": "reload"})
            self.assertFalse(r["ok"], f"a reload whose rules event is not on disk was acknowledged: {r}")
            self.assertEqual(self.sha(d), old_sha, "the rules in force are not the ones the log names")
            self.assertIn("event log", r["error"])
            self.assertIn(old_sha, r["error"], "the reply names the rules still in force")
        else:
            # The first write fails, then SIGHUP comes while writes are refused.
            self.assertFalse(d.send({"cmd": "person.add", "id": "x0", "level": 3})["ok"])
            d.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10 * TIME_FACTOR
            while "reload refused" not in d.stderr() and time.time() < deadline:
                time.sleep(0.05)
            self.assertIn("reload refused", d.stderr())
        self.assertEqual(self.sha(d), old_sha, "the rules in force are not the ones the log names")
        self.assertEqual([e["phase"] for e in read_log(self.state) if e["type"] == "rules"], ["loaded"])

        self.fault(None)
        # The old rules are the ones that run: a new person enrols in core only.
        r = self.until_ok(d, {"cmd": "person.add", "id": "z1", "level": 3})
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.enrolled("z1"), ["core"])
        self.assertEqual(self.sha(d), old_sha)
        # A reload once the log is sound puts the new rules in force, and says so in the log.
        r = d.send({"cmd": "reload"})
        self.assertTrue(r["ok"], r)
        new_sha = r["rules"]["sha256"]
        self.assertNotEqual(new_sha, old_sha)
        self.assertEqual(self.sha(d), new_sha)
        self.assertTrue(d.send({"cmd": "person.add", "id": "z2", "level": 3})["ok"])
        self.assertEqual(self.enrolled("z2"), ["core", "extra"])
        self.assertEqual(d.stop(), 0)
        rules = [e for e in read_log(self.state) if e["type"] == "rules"]
        self.assertEqual([(e["phase"], e["sha256"]) for e in rules], [("loaded", old_sha), ("reloaded", new_sha)])
        log = read_log(self.state)
        self.assertEqual([e["seq"] for e in log], list(range(1, len(log) + 1)))

    def test_failed_reload_keeps_the_old_rules(self):
        for fsync in ("batch", "always"):
            with self.subTest(fsync=fsync):
                self.check_reload(fsync, "ctl")
                self.tearDown()
                self.setUp()

    def test_sighup_while_writes_are_refused(self):
        self.check_reload("batch", "sighup")


class DueFaults(FaultCase):
    """A matching tick comes due on the real clock of `tandem run` while the log's writes fail."""

    def shift_log(self, seconds):
        """Moves every event of the (stopped) daemon's log back in time, as if it ran earlier."""
        events = read_log(self.state)
        with open(os.path.join(self.state, "events.jsonl"), "w") as f:
            for e in events:
                del e["crc"]
                t = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%SZ") - datetime.timedelta(seconds=seconds)
                e["ts"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
                f.write(log_line(e))
        for name in os.listdir(self.state):
            if name.startswith("snapshot-"):
                os.remove(os.path.join(self.state, name))

    def matches(self):
        return [e for e in read_log(self.state) if e["type"] == "match"]

    def check_tick_during_fault(self, fsync, mode):
        # The tick is due `lead` seconds after the faulty daemon is started: time for it to start
        # (and for the fault to be set) before (under valgrind a start takes about 2 s); the
        # program ticks every `every` minutes.
        lead = 4 + TIME_FACTOR / 2
        every = math.ceil((lead + 20) / 60)
        rules = f'tandem.program {{ name = "core", model = "one_to_one", match_every = "{every}m" }}\n'
        d = self.start_daemon(rules, "id,level,department\nm1,8,Eng\n", "--snapshot-every", "0")
        # The program's first tick ran at start with no mentee; e1 waits for the next one.
        self.assertTrue(d.send({"cmd": "person.add", "id": "e1", "level": 3, "department": "Ops"})["ok"])
        self.assertEqual(d.stop(), 0)
        self.assertEqual(self.matches(), [])
        since = next(e for e in read_log(self.state) if e["type"] == "rules")["ts"]
        since = datetime.datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        shift = (since.timestamp() + every * 60) - (time.time() + lead)
        self.assertGreater(shift, 0)
        self.shift_log(int(shift))
        due = since.timestamp() + every * 60 - int(shift)

        d = Daemon(self.rules, self.state, "--fsync", fsync, "--snapshot-every", "0", env=self.env())
        self.addCleanup(lambda: d.proc.poll() is None and d.stop(signal.SIGKILL))
        self.fault(mode)
        self.assertLess(time.time(), due - 0.5, "the daemon took longer to start than the test allows")
        self.assertEqual(self.matches(), [])
        size = os.path.getsize(os.path.join(self.state, "events.jsonl"))
        st = d.send({"cmd": "status"})["status"]
        self.assertIsNone(st["log_error"])
        # The tick comes due and its match cannot be written: refused, retried, not lost.
        deadline = due + 10 * TIME_FACTOR
        while "writes are refused" not in d.stderr() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("writes are refused", d.stderr(), "the tick did not try to write")
        time.sleep(2.5)    # at least two retries, each failing
        self.assertIsNone(d.proc.poll(), f"the daemon stopped:\n{d.stderr()}")
        self.assertGreaterEqual(d.stderr().count("writes are refused"), 2, "the due item was not retried")
        self.assertEqual(self.matches(), [], "a fact that failed to commit is in the log")
        self.assertEqual(os.path.getsize(os.path.join(self.state, "events.jsonl")), size)
        st = d.send({"cmd": "status"})["status"]
        self.assertIsNotNone(st["log_error"])
        self.assertEqual(st["live_matches"], 0, "the state holds a match the disk does not")

        # The fault clears: the tick fires on the next retry, without a client writing anything.
        self.fault(None)
        deadline = time.time() + 10 * TIME_FACTOR
        while not self.matches() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("written again", d.stderr())
        time.sleep(1.5)    # a tick fired twice would show by now
        ms = self.matches()
        self.assertEqual([(m["mentors"], m["mentees"]) for m in ms], [(["m1"], ["e1"])],
                         "the due match was lost or made twice")
        st = d.send({"cmd": "status"})["status"]
        self.assertIsNone(st["log_error"])
        self.assertEqual(st["live_matches"], 1)
        self.assertEqual(d.stop(), 0)
        log = read_log(self.state)
        self.assertEqual([e["seq"] for e in log], list(range(1, len(log) + 1)))
        # A restart replays the same: one match, nothing due fires it again.
        d2 = Daemon(self.rules, self.state)
        self.addCleanup(lambda: d2.proc.poll() is None and d2.stop(signal.SIGKILL))
        self.assertEqual(d2.send({"cmd": "status"})["status"]["live_matches"], 1)
        self.assertEqual(d2.stop(), 0)
        self.assertEqual(len(self.matches()), 1)

    def test_tick_due_during_a_full_disk_batch(self):
        self.check_tick_during_fault("batch", "enospc")

    def test_tick_due_during_a_failing_disk_always(self):
        self.check_tick_during_fault("always", "eio")

    def test_tick_due_during_a_failing_fsync(self):
        self.check_tick_during_fault("batch", "fsync")


class TailAfterCut(TandemCase):
    """`tail -f` on a log that a failed commit cuts back after tail showed its lines."""

    def test_tail_follows_a_log_cut_back_and_written_again(self):
        state = self.path("state")
        base = [{"ts": f"2027-01-01T00:00:0{i}Z", "type": "note", "text": f"kept{i}", "fields": {}, "rule": ""}
                for i in range(3)]
        write_log(state, base)
        log = os.path.join(state, "events.jsonl")
        proc = subprocess.Popen([*tandem_cmd(), "tail", "--state", state, "-f", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        out = Reader(proc)
        self.assertEqual([json.loads(x)["text"] for x in out.lines(3, 10 * TIME_FACTOR)], ["kept0", "kept1", "kept2"])

        def line(seq, text):
            return log_line({"seq": seq, "ts": "2027-01-01T00:01:00Z", "type": "note", "text": text,
                             "fields": {}, "rule": ""})

        # A commit's lines reach the file (tail shows them), then its fsync fails: cut back.
        size = os.path.getsize(log)
        with open(log, "a") as f:
            f.write(line(4, "lost4") + line(5, "lost5"))
        self.assertEqual([json.loads(x)["text"] for x in out.lines(2, 10 * TIME_FACTOR)], ["lost4", "lost5"])
        os.truncate(log, size)
        time.sleep(0.5)
        # The next commit writes other lines with the same seqs (cut and written again before tail
        # looks, too: the second time both happen at once).
        with open(log, "a") as f:
            f.write(line(4, "new4"))
        self.assertEqual([json.loads(x)["text"] for x in out.lines(1, 10 * TIME_FACTOR)], ["new4"])
        with open(log, "a") as f:
            f.write(line(5, "lost5b") + line(6, "lost6b"))
        self.assertEqual([json.loads(x)["text"] for x in out.lines(2, 10 * TIME_FACTOR)], ["lost5b", "lost6b"])
        with open(log, "r+") as f:
            f.truncate(size + len(line(4, "new4")))
            f.seek(0, 2)
            f.write(line(5, "new5-longer-than-before") + line(6, "new6"))
        got = [json.loads(x) for x in out.lines(2, 10 * TIME_FACTOR)]
        self.assertEqual([(e["seq"], e["text"]) for e in got], [(5, "new5-longer-than-before"), (6, "new6")],
                         "tail did not go on from where the log was cut (or showed it again from the start)")
        self.assertIsNone(proc.poll(), "tail stopped")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10 * TIME_FACTOR)
        self.assertEqual(proc.returncode, 0, err)
        err = err.decode()
        self.assertIn("cut back to seq 3", err)
        self.assertIn("cut back to seq 4", err)
        self.assertNotIn("reading it from the start", err)
