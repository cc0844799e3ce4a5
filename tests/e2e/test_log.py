"""The event log as operators see it: tail with filters, a torn last line, a damaged middle."""
import json
import os
import subprocess
import time

from tandemtest import TandemCase, read_log, run, tandem_cmd


class Tail(TandemCase):
    def setUp(self):
        super().setUp()
        _, self.state = self.simulate(days="90")
        self.events = read_log(self.state)
        for e in self.events:
            del e["crc"]   # tail --json prints verified events, without their checksum

    def test_plain_lists_every_event(self):
        out = run("tail", "--state", self.state, check=0).stdout.splitlines()
        self.assertEqual(len(out), len(self.events))
        self.assertRegex(out[0], r"^\s+1 2027-01-01T00:00:00Z rules\s+phase=loaded")

    def test_json_and_type_filter(self):
        out = run("tail", "--state", self.state, "--json", "--type", "match,close", check=0).stdout
        got = [json.loads(l) for l in out.splitlines()]
        want = [e for e in self.events if e["type"] in ("match", "close")]
        self.assertEqual(got, want)

    def test_match_and_person_filters(self):
        out = run("tail", "--state", self.state, "--json", "--match", "3", check=0).stdout
        got = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(got, [e for e in self.events if e.get("match") == 3])
        m3 = got[0]
        person = m3["mentees"][0]
        out = run("tail", "--state", self.state, "--json", "--person", person, check=0).stdout
        got = [json.loads(l) for l in out.splitlines()]
        self.assertTrue(any(e["type"] == "person" for e in got))
        self.assertTrue(any(e["type"] == "match" and e["match"] == 3 for e in got))
        self.assertTrue(any(e["type"] == "feedback" and e["from"] == person for e in got))

    def test_follow_sees_appended_events(self):
        with open(os.path.join(self.state, "events.jsonl")) as f:
            lines = f.readlines()
        with open(os.path.join(self.state, "events.jsonl"), "w") as f:
            f.writelines(lines[:10])
        proc = subprocess.Popen([*tandem_cmd(), "tail", "--state", self.state, "-f", "--json"], stdout=subprocess.PIPE,
                                text=True)
        try:
            time.sleep(0.5)
            with open(os.path.join(self.state, "events.jsonl"), "a") as f:
                f.writelines(lines[10:20])
            seen = [proc.stdout.readline() for _ in range(20)]
            self.assertEqual([json.loads(l)["seq"] for l in seen], list(range(1, 21)))
        finally:
            proc.kill()
            proc.wait()

    def test_terminal_escapes_shown_escaped(self):
        rules = self.write("r.lua", 'tandem.program { name = "core", model = "one_to_one" }\n'
                           'tandem.on("match", function(ev) tandem.note("\\27[31mred", {}) end)\n')
        _, state = self.simulate(rules=rules, state="esc", days="2")
        out = run("tail", "--state", state, "--type", "note", check=0).stdout
        self.assertIn("\\x1b[31mred", out)
        self.assertNotIn("\x1b", out)


class Damage(TandemCase):
    def setUp(self):
        super().setUp()
        _, self.state = self.simulate(days="30")
        self.log = os.path.join(self.state, "events.jsonl")
        self.events = read_log(self.state)

    def test_torn_last_line_reported_and_skipped_by_readers(self):
        with open(self.log, "a") as f:
            f.write('{"seq":999999,"ts":"2027-02-0')
        p = run("report", "--state", self.state, "--format", "json", check=0)
        self.assertIn("torn", p.stderr.lower())
        self.assertEqual(json.loads(p.stdout)["events"], len(self.events))

    def test_damaged_middle_line_refused_with_its_number(self):
        with open(self.log, "rb") as f:
            lines = f.readlines()
        lines[4] = lines[4].replace(b'"type"', b'"typo"', 1)
        with open(self.log, "wb") as f:
            f.writelines(lines)
        p = run("report", "--state", self.state, check=1)
        self.assertIn("events.jsonl:5", p.stderr)
        p = run("tail", "--state", self.state, check=1)
        self.assertIn("events.jsonl:5", p.stderr)

    def test_no_log(self):
        p = run("report", "--state", self.path("empty"), check=1)
        self.assertIn("no event log", p.stderr)
