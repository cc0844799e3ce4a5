"""The daemon through its real Unix socket: every ctl command, bad protocol lines, many
clients, reload, signals, crash safety and start-up repair."""
import datetime
import json
import os
import signal
import socket
import stat
import subprocess
import threading
import unittest
import time

from tandemtest import FAULTFS, TIME_FACTOR, Daemon, TandemCase, read_log, run, write_log

RULES = """
tandem.program { name = "core", model = "one_to_one" }
tandem.program { name = "vetted", model = "one_to_one", approve = true,
  mentor = function(p) return p.level >= 6 and p.tags.vetted end,
  mentee = function(p) return p.level <= 5 and p.tags.vetted end }
"""
PEOPLE = ("id,name,level,department,capacity,tags\n"
          "m1,Mia,8,Eng,2,\nm2,Max,9,Sales,1,vetted\n"
          "e1,Eve,3,Ops,1,\ne2,Eli,2,Ops,1,vetted\ne3,Ed,4,Legal,1,\n")


class DaemonCase(TandemCase):
    def start(self, *args, rules=RULES, people=PEOPLE, state="state"):
        return self.start_daemon(rules, people, *args, state=state)

    def events(self):
        return read_log(self.state)


class Commands(DaemonCase):
    def test_status_and_start(self):
        d = self.start()
        st = d.send({"cmd": "status"})
        self.assertTrue(st["ok"])
        s = st["status"]
        self.assertEqual(s["people"], 5)
        # core: m1 (capacity 2) and m2 (capacity 1) take e1, e2, e3; vetted proposes m2 with e2.
        self.assertEqual(s["live_matches"], 4)
        self.assertEqual(s["rules"], self.rules)
        self.assertEqual(s["fsync"], "batch")
        self.assertEqual(s["seq"], len(self.events()))
        mode = stat.S_IMODE(os.stat(d.sock_path).st_mode)
        self.assertEqual(mode, 0o600)
        self.assertEqual(d.stop(), 0)

    def test_every_command_round_trip(self):
        d = self.start()
        ev = {e["type"] + ":" + e.get("phase", ""): e for e in self.events()}
        matches = [e for e in self.events() if e["type"] == "match"]
        core = [m for m in matches if m["program"] == "core"]
        vetted = [m for m in matches if m["program"] == "vetted"][0]
        self.assertEqual(vetted["phase"], "proposed")
        c = d.connect()

        def ok(cmd, *types):
            r = c.call(cmd)
            self.assertTrue(r["ok"], (cmd, r))
            self.assertEqual([e["type"] + ":" + e.get("phase", "") for e in r["events"]], list(types), cmd)
            return r["events"]

        def refused(cmd, fragment):
            r = c.call(cmd)
            self.assertFalse(r["ok"], cmd)
            self.assertIn(fragment, r["error"])

        ok({"cmd": "match.approve", "match": vetted["match"]}, "match:approved", "meeting:scheduled", "goal:set")
        refused({"cmd": "match.approve", "match": vetted["match"]}, "not waiting for approval")
        m = core[0]["match"]
        ok({"cmd": "meeting.held", "match": m}, "meeting:held", "meeting:scheduled")
        ok({"cmd": "meeting.missed", "match": m}, "meeting:missed", "meeting:scheduled")
        ok({"cmd": "meeting.cancel", "match": m}, "meeting:cancelled", "meeting:scheduled")
        intro = ok({"cmd": "introduce", "match": m, "contact": "e2"}, "intro:")[0]
        self.assertEqual(intro["contact"], "e2")
        refused({"cmd": "introduce", "match": m, "contact": "e2"}, "introduced already")
        refused({"cmd": "introduce", "match": m, "contact": core[0]["mentors"][0]}, "in the match already")
        held = ok({"cmd": "meeting.held", "match": m}, "meeting:held", "meeting:scheduled")[0]
        self.assertEqual(held["guests"], ["e2"], "an introduced contact joins later meetings")
        refused({"cmd": "meeting.held", "match": 999}, "no active match")
        g = ok({"cmd": "goal.set", "match": m, "text": "Lead a design review", "due": "2027-06-01",
                "measure": "review held"}, "goal:set")[0]
        self.assertEqual(g["due"], "2027-06-01T00:00:00Z")
        goal_ids = [e["goal"] for e in self.events() if e["type"] == "goal" and e["phase"] == "set"]
        ok({"cmd": "goal.progress", "goal": g["goal"], "text": "draft ready"}, "goal:progress")
        ok({"cmd": "goal.achieve", "goal": g["goal"]}, "goal:achieved")
        refused({"cmd": "goal.drop", "goal": g["goal"]}, "achieved already")
        ok({"cmd": "goal.drop", "goal": goal_ids[0]}, "goal:dropped")
        party = core[0]["mentees"][0]
        ok({"cmd": "feedback", "match": m, "from": party, "rating": 4, "text": "useful"}, "feedback:")
        refused({"cmd": "feedback", "match": m, "from": "e2", "rating": 4}, "not a party")
        refused({"cmd": "feedback", "match": m, "from": party, "rating": 6}, "1 to 5")
        ok({"cmd": "feedback", "program": "core", "from": "e3", "rating": 5}, "feedback:")
        ok({"cmd": "person.add", "id": "p9", "name": "Ana Ruiz", "department": "Sales", "level": 3,
            "skills": "sql;go"}, "person:added", "enroll:")
        added = [e for e in self.events() if e["type"] == "person" and e["person"]["id"] == "p9"][0]
        self.assertEqual(added["person"]["skills"], ["go", "sql"])
        refused({"cmd": "person.add", "id": "p9"}, "exists already")
        ok({"cmd": "person.update", "id": "p9", "level": 7}, "person:updated", "enroll:")
        refused({"cmd": "person.update", "id": "p9", "level": 16}, "level")
        ok({"cmd": "enroll", "person": "p9", "program": "vetted", "role": "mentor"}, "enroll:")
        refused({"cmd": "enroll", "person": "p9", "program": "nope", "role": "mentor"}, "no program")
        made = ok({"cmd": "match.propose", "program": "core", "mentors": "m1", "mentees": "p9",
                   "why": {"by": "admin"}}, "match:active", "meeting:scheduled", "goal:set")[0]
        self.assertEqual((made["mentors"], made["mentees"], made["why"]), (["m1"], ["p9"], {"by": "admin"}))
        refused({"cmd": "match.propose", "program": "core", "mentors": "m1", "mentees": "p9"}, "matched already")
        refused({"cmd": "match.propose", "program": "core", "mentors": "m1", "mentees": "nobody"}, "no person")
        closes = ok({"cmd": "person.leave", "id": party}, "meeting:cancelled", "close:", "person:left")
        self.assertEqual(closes[1]["reason"], "left")
        st = c.call({"cmd": "status"})
        self.assertEqual(st["status"]["people"], 5)
        c.close()
        self.assertEqual(d.stop(), 0)
        log = self.events()
        self.assertEqual([e["seq"] for e in log], list(range(1, len(log) + 1)))

    def test_ctl_cli(self):
        d = self.start()
        p = run("ctl", "--state", self.state, "person", "add", "--id", "p7", "--name", "Ana Ruiz", "--level", "3",
                check=0)
        self.assertEqual(json.loads(p.stdout)["events"][0]["person"]["name"], "Ana Ruiz")
        p = run("ctl", "--state", self.state, "person", "add", "--id", "p8", "--level", "three", check=2)
        self.assertIn("--level must be a whole number", p.stderr)
        p = run("ctl", "--state", self.state, "meeting", "held", "--match", "999", check=1)
        self.assertFalse(json.loads(p.stdout)["ok"])
        p = run("ctl", "--state", self.state, "send", '{"cmd":"status"}', check=0)
        self.assertEqual(json.loads(p.stdout)["status"]["people"], 6)
        p = run("ctl", "--help", check=0)
        for word in ("person add", "meeting held", "goal achieve", "reup", "reload", "status", "send"):
            self.assertIn(word, p.stdout)
        d.stop()
        p = run("ctl", "--state", self.state, "status", check=3)
        self.assertIn("cannot reach the daemon", p.stderr)


class Reup(DaemonCase):
    def test_answers_decide_the_reup_after_downtime(self):
        # No meeting is ever reported here: the stagnation signal would close the match first.
        rules = self.write("rules.lua", 'tandem.program { name = "core", model = "one_to_one", '
                                        'term = "1y", stalled_after = false }\n')
        state = self.path("state")
        programs = [{"name": "core", "model": "one_to_one", "term": "1y", "cadence": "2w",
                     "review_every": "3mo", "match_every": "1w", "objective": "coverage", "approve": False,
                     "prompts": [], "stalled_after": False}]
        # Started 200 days ago: two reviews fell due while down; the term ends in a week, so
        # the re-up window (2w before the end) is open when the daemon starts.
        start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(days=200)
        t0 = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        term_ends = (start + datetime.timedelta(days=207)).strftime("%Y-%m-%dT%H:%M:%SZ")
        people = [{"id": "m1", "level": 8, "capacity": 1}, {"id": "e1", "level": 3, "capacity": 1},
                  {"id": "e2", "level": 3, "capacity": 1}]
        write_log(state, [
            {"ts": t0, "type": "rules", "phase": "loaded", "file": rules, "sha256": "x", "clock": "real",
             "priorities": [], "programs": programs},
            *[{"ts": t0, "type": "person", "phase": "added", "person": p} for p in people],
            {"ts": t0, "type": "enroll", "person": "m1", "program": "core", "role": "mentor"},
            {"ts": t0, "type": "enroll", "person": "e1", "program": "core", "role": "mentee"},
            {"ts": t0, "type": "enroll", "person": "e2", "program": "core", "role": "mentee"},
            {"ts": t0, "type": "match", "match": 1, "phase": "active", "program": "core", "model": "one_to_one",
             "mentors": ["m1"], "mentees": ["e1"], "score": 1, "why": {}, "term_ends": term_ends},
        ])
        d = Daemon(rules, state)
        self.addCleanup(lambda: d.proc.poll() is None and d.stop(signal.SIGKILL))
        log = read_log(state)
        reviews = [e for e in log if e["type"] == "review"]
        self.assertEqual([r["n"] for r in reviews], [1, 2], "reviews due while down fired on start, in order")
        self.assertTrue([e for e in log if e["type"] == "reup" and e["phase"] == "open"])
        r = d.send({"cmd": "reup", "match": 1, "person": "e1", "decision": "exit"})
        self.assertEqual([e["phase"] for e in r["events"]], ["answered"])
        r = d.send({"cmd": "reup", "match": 1, "person": "e1", "decision": "renew"})
        self.assertIn("answered already", r["error"])
        r = d.send({"cmd": "reup", "match": 1, "person": "m1", "decision": "renew"})
        types = [(e["type"], e.get("phase") or e.get("reason")) for e in r["events"]]
        self.assertEqual(types[:2], [("reup", "answered"), ("reup", "decided")])
        self.assertEqual(r["events"][1]["outcome"], "close")
        self.assertIn(("close", "exited"), types)
        self.assertEqual(d.stop(), 0)

    def test_run_refuses_a_simulated_log(self):
        _, state = self.simulate(days="10")
        rules = self.write("rules.lua", 'tandem.program { name = "core", model = "one_to_one" }\n')
        p = run("run", rules, "--state", state, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("holds a simulation", p.stderr)


class Protocol(DaemonCase):
    def test_bad_lines_get_errors_and_the_connection_goes_on(self):
        d = self.start()
        c = d.connect()
        cases = [
            ("x" * (64 * 1024 + 1), "longer than"),
            ("{not json", "bad JSON"),
            ('{"cmd":"status"} junk', "bad JSON"),
            ('{"Cmd":"status"}', "needs \"cmd\""),
            ('{"cmd":"meeting.held","match":"17"}', "match must be a whole number"),
            ('{"cmd":"meeting.held","match":9007199254740993}', "2^53"),
            ("[" * 10000 + "]" * 10000, "bad JSON"),
            ('{"cmd":"status","cmd":"status"}', "twice"),
            ('{"cmd":"launch"}', "unknown command"),
            ('{"cmd":"meeting.held","match":1,"extra":2}', "no field"),
            ('{"cmd":"person.add","id":"a\\u0000b"}', "u0000"),
            ('"just a string"', "JSON object"),
        ]
        for line, fragment in cases:
            r = c.call(line)
            self.assertFalse(r["ok"], line[:40])
            self.assertIn(fragment, r["error"], line[:40])
        c.send_raw(b'{"cmd":"status"}\n\xff\xfe\n')
        self.assertTrue(c.reply()["ok"])
        self.assertIn("UTF-8", c.reply()["error"])
        self.assertTrue(c.call({"cmd": "status"})["ok"], "the connection goes on")
        c.close()
        self.assertEqual(d.stop(), 0)

    def test_ten_commands_in_one_packet_ten_replies_in_order(self):
        d = self.start()
        c = d.connect()
        lines = []
        for i in range(10):
            lines.append(json.dumps({"cmd": "person.add", "id": f"q{i}", "level": 3}) if i % 3 else
                         json.dumps({"cmd": "meeting.held", "match": 999}))
        c.send_raw(("\n".join(lines) + "\n").encode())
        replies = [c.reply() for _ in range(10)]
        for i, r in enumerate(replies):
            if i % 3:
                self.assertEqual(r["events"][0]["person"]["id"], f"q{i}")
            else:
                self.assertFalse(r["ok"])
        c.close()
        d.stop()

    def test_slow_writer_and_many_clients(self):
        d = self.start()
        slow = d.connect()
        for b in b'{"cmd":"status"}':
            slow.send_raw(bytes([b]))
            time.sleep(0.002)
        others = [d.connect() for _ in range(50)]
        for i, o in enumerate(others):
            o.send_raw(json.dumps({"cmd": "person.add", "id": f"c{i}", "level": 2}).encode() + b"\n")
        slow.send_raw(b"\n")
        self.assertTrue(slow.reply()["ok"])
        for i, o in enumerate(others):
            self.assertEqual(o.reply()["events"][0]["person"]["id"], f"c{i}")
            o.close()
        slow.close()
        self.assertEqual(d.send({"cmd": "status"})["status"]["people"], 55)
        d.stop()

    def test_two_clients_interleaved(self):
        d = self.start()
        a, b = d.connect(), d.connect()
        for i in range(20):
            ra = a.call({"cmd": "person.add", "id": f"a{i}", "level": 2})
            rb = b.call({"cmd": "person.add", "id": f"b{i}", "level": 2})
            self.assertLess(ra["events"][0]["seq"], rb["events"][0]["seq"])
        a.close()
        b.close()
        d.stop()
        ids = [e["person"]["id"] for e in self.events() if e["type"] == "person"]
        self.assertEqual(ids[-40:], [x for i in range(20) for x in (f"a{i}", f"b{i}")])


class Lifecycle(DaemonCase):
    def test_reload_accepted_and_rejected(self):
        d = self.start()
        with open(self.rules, "a") as f:
            f.write("tandem.program { name = \"extra\", model = \"one_to_one\" }\n")
        r = d.send({"cmd": "reload"})
        self.assertTrue(r["ok"], r)
        with open(self.rules, "a") as f:
            f.write("tandem.program { name = \"broken\", model = \"nope\" }\n")
        r = d.send({"cmd": "reload"})
        self.assertFalse(r["ok"])
        self.assertIn('unknown model "nope"', r["error"])
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertTrue(d.send({"cmd": "status"})["ok"], "old rules keep running")
        self.assertTrue(d.send({"cmd": "person.add", "id": "z1", "level": 3})["ok"])
        self.assertEqual(d.stop(), 0)
        rules_events = [e for e in self.events() if e["type"] == "rules"]
        self.assertEqual([e["phase"] for e in rules_events], ["loaded", "reloaded", "rejected", "rejected"])
        self.assertIn("rules.lua:", rules_events[2]["error"])
        self.assertIn("extra", [p["name"] for p in rules_events[1]["programs"]])
        enrolled = [e for e in self.events() if e["type"] == "enroll" and e["person"] == "z1"]
        self.assertEqual({e["program"] for e in enrolled}, {"core", "extra"})

    def test_sigterm_and_sigint_exit_0_and_restart_continues(self):
        d = self.start()
        self.assertTrue(d.send({"cmd": "person.add", "id": "z1", "level": 3})["ok"])
        self.assertEqual(d.stop(signal.SIGINT), 0)
        self.assertFalse(os.path.exists(d.sock_path))
        n = len(self.events())
        d2 = Daemon(self.rules, self.state, people=self.path("people.csv"))
        self.assertEqual(d2.send({"cmd": "status"})["status"]["seq"], n, "a restart with the same rules and "
                         "people adds nothing")
        self.assertEqual(d2.stop(signal.SIGTERM), 0)

    def test_second_daemon_refused(self):
        d = self.start()
        p = run("run", self.rules, "--state", self.state, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("in use", p.stderr)
        self.assertTrue(d.send({"cmd": "status"})["ok"])
        d.stop()

    def test_socket_mode_widened(self):
        d = self.start("--socket-mode", "0660")
        self.assertEqual(stat.S_IMODE(os.stat(d.sock_path).st_mode), 0o660)
        d.stop()

    def test_torn_tail_cut_at_start_and_middle_damage_refused(self):
        d = self.start()
        d.stop()
        log = os.path.join(self.state, "events.jsonl")
        good = open(log, "rb").read()
        with open(log, "ab") as f:
            f.write(b'{"seq":99999,"ts":"2026-')
        d = Daemon(self.rules, self.state)
        self.assertIn("torn", d.stderr().lower())
        d.stop()
        self.assertTrue(open(log, "rb").read().startswith(good))
        self.assertTrue([f for f in os.listdir(self.state) if ".torn" in f])
        lines = open(log, "rb").read().splitlines(keepends=True)
        self.assertIn(b'"m1"', lines[1])
        lines[1] = lines[1].replace(b'"m1"', b'"m7"', 1)
        open(log, "wb").writelines(lines)
        p = run("run", self.rules, "--state", self.state, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("events.jsonl:2", p.stderr)


class CrashSafety(DaemonCase):
    def test_kill9_keeps_every_acknowledged_fact(self):
        for mode in ("always", "batch"):
            with self.subTest(fsync=mode):
                d = self.start("--fsync", mode, state=f"state-{mode}")
                acked, stop = [], threading.Event()

                def writer(k):
                    c = d.connect()
                    i = 0
                    while not stop.is_set():
                        try:
                            r = c.call({"cmd": "person.add", "id": f"w{k}-{i}", "level": 2})
                        except (OSError, AssertionError, ValueError):
                            return
                        if r.get("ok"):
                            acked.append(r["events"][0]["person"]["id"])
                        i += 1

                threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
                for t in threads:
                    t.start()
                # Kill mid-stream once enough were acknowledged (slower under a wrapper).
                time.sleep(1.0)
                deadline = time.time() + 10 * TIME_FACTOR
                while len(acked) <= 20 and time.time() < deadline:
                    time.sleep(0.05)
                d.proc.send_signal(signal.SIGKILL)
                d.proc.wait()
                stop.set()
                for t in threads:
                    t.join()
                self.assertGreater(len(acked), 20)
                d2 = Daemon(self.rules, self.state)
                log = read_log(self.state)
                self.assertEqual([e["seq"] for e in log], list(range(1, len(log) + 1)))
                ids = {e["person"]["id"] for e in log if e["type"] == "person"}
                missing = [a for a in acked if a not in ids]
                self.assertEqual(missing, [], "acknowledged facts lost")
                self.assertEqual(d2.stop(), 0)


class Snapshots(DaemonCase):
    def snaps(self):
        return sorted(f for f in os.listdir(self.state) if f.startswith("snapshot-") and f.endswith(".json"))

    def test_snapshot_restart_equals_full_replay(self):
        d = self.start("--snapshot-every", "40")
        for i in range(60):
            self.assertTrue(d.send({"cmd": "person.add", "id": f"s{i}", "level": 2 + i % 8})["ok"])
        r = d.send({"cmd": "snapshot"})
        self.assertTrue(r["ok"])
        self.assertEqual(r["seq"], d.send({"cmd": "status"})["status"]["seq"])
        for i in range(10):
            d.send({"cmd": "person.add", "id": f"t{i}", "level": 3})
        before = d.send({"cmd": "status"})["status"]
        self.assertEqual(d.stop(), 0)
        self.assertEqual(len(self.snaps()), 2, "automatic and on request, the newest two kept")
        full = run("report", "--state", self.state, "--format", "json", check=0).stdout
        d2 = Daemon(self.rules, self.state)
        after = d2.send({"cmd": "status"})["status"]
        self.assertEqual((after["seq"], after["people"], after["live_matches"]),
                         (before["seq"], before["people"], before["live_matches"]))
        self.assertTrue(d2.send({"cmd": "person.add", "id": "u1", "level": 3})["ok"])
        self.assertEqual(d2.stop(), 0)
        log = read_log(self.state)
        self.assertEqual([e["seq"] for e in log], list(range(1, len(log) + 1)))
        # The state a snapshot start rebuilt goes on exactly like a full replay's.
        replay = json.loads(run("report", "--state", self.state, "--format", "json", check=0).stdout)
        self.assertEqual(replay["people"], json.loads(full)["people"] + 1)

    @unittest.skipUnless(os.path.exists(FAULTFS), "needs build/faultfs.so (make e2e-test builds it)")
    def test_commands_answered_while_a_snapshot_is_written(self):
        # faultfs holds the snapshot's fsync until the test lets it go: a daemon that wrote
        # snapshots on its loop could not answer the person.add meanwhile (its reply would
        # time out), so this cannot pass by accident.
        ctl = self.path("fault.ctl")
        with open(ctl, "w") as f:
            f.write("stall snapshot-\n")
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = {"LD_PRELOAD": FAULTFS, "FAULTFS_MATCH": self.path("state"), "FAULTFS_CTL": ctl,
               "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}
        self.rules = self.write("rules.lua", RULES)
        self.state = self.path("state")
        d = Daemon(self.rules, self.state, "--snapshot-every", "0", people=self.write("people.csv", PEOPLE), env=env)
        self.addCleanup(lambda: d.proc.poll() is None and d.stop(signal.SIGKILL))
        seq = d.send({"cmd": "status"})["status"]["seq"]
        asker = d.connect()
        asker.send_raw(b'{"cmd":"snapshot"}\n')
        deadline = time.time() + 20 * TIME_FACTOR
        while "faultfs: stall" not in d.stderr():
            self.assertLess(time.time(), deadline, "the snapshot never reached its fsync")
            time.sleep(0.02)
        for i in range(20):
            self.assertTrue(d.send({"cmd": "person.add", "id": f"during{i}", "level": 3})["ok"])
        self.assertEqual(d.send({"cmd": "status"})["status"]["people"], 25)
        self.assertEqual(self.snaps(), [], "no snapshot in place before its fsync returned")
        with open(ctl, "w") as f:
            f.write("off\n")
        r = asker.reply()
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["seq"], seq, "the snapshot is of the state when it was asked for")
        self.assertEqual(self.snaps(), ["snapshot-%012d.json" % seq])
        self.assertEqual(d.stop(), 0)
        d2 = Daemon(self.rules, self.state)
        self.assertEqual(d2.send({"cmd": "status"})["status"]["people"], 25)
        self.assertEqual(d2.stop(), 0)

    def test_damaged_snapshot_falls_back(self):
        d = self.start("--snapshot-every", "0")
        for i in range(5):
            d.send({"cmd": "person.add", "id": f"s{i}", "level": 3})
        self.assertTrue(d.send({"cmd": "snapshot"})["ok"])
        d.send({"cmd": "person.add", "id": "late", "level": 3})
        self.assertTrue(d.send({"cmd": "snapshot"})["ok"])
        seq = d.send({"cmd": "status"})["status"]["seq"]
        d.stop()
        newest = os.path.join(self.state, self.snaps()[-1])
        data = bytearray(open(newest, "rb").read())
        data[len(data) // 2] ^= 0x20
        open(newest, "wb").write(bytes(data))
        d2 = Daemon(self.rules, self.state)
        self.assertIn("damaged", d2.stderr())
        self.assertEqual(d2.send({"cmd": "status"})["status"]["seq"], seq)
        self.assertEqual(d2.send({"cmd": "status"})["status"]["people"], 11)
        d2.stop()

    def test_simulate_discards_snapshots(self):
        _, state = self.simulate(state="sim", days="5")
        open(os.path.join(state, "snapshot-000000000001.json"), "w").write("{}\n")
        self.simulate(state="sim", days="5")
        self.assertEqual([f for f in os.listdir(state) if f.startswith("snapshot-")], [])


class Backpressure(DaemonCase):
    def rss_kib(self, pid):
        with open(f"/proc/{pid}/status") as f:
            return int(next(l for l in f if l.startswith("VmRSS:")).split()[1])

    @unittest.skipIf(os.environ.get("TANDEM_WRAP"), "under valgrind the RSS is valgrind's shadow memory, "
                     "not the daemon's: this bound is measured by make test and make asan-test")
    def test_a_client_that_does_not_read_cannot_grow_the_daemon(self):
        d = self.start()
        c = d.connect()
        c.sock.setblocking(False)
        line = b'{"cmd":"status"}\n'
        sent = 0
        deadline = time.time() + 5
        while time.time() < deadline and sent < 200000:
            try:
                sent += c.sock.send(line * 256) // len(line)
            except BlockingIOError:
                break   # the daemon stopped reading this client: back-pressure
        time.sleep(0.3)
        self.assertLess(sent, 200000, "the daemon kept reading a client that never reads")
        self.assertLess(self.rss_kib(d.proc.pid), 64 * 1024)
        other = d.connect()
        self.assertTrue(other.call({"cmd": "status"})["ok"], "other clients are served meanwhile")
        other.close()
        c.sock.setblocking(True)
        c.sock.settimeout(20 * TIME_FACTOR)
        got = 0
        while got < sent - 256:
            self.assertTrue(c.reply()["ok"])
            got += 1
        c.close()
        d.stop()
