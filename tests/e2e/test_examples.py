"""The two example organizations: together they use all eleven models, and a year of each
runs clean through the binary."""
import collections
import os

from tandemtest import ROOT, TandemCase, read_log, run

EXAMPLES = os.path.join(ROOT, "rules", "examples")
ALL_MODELS = {"one_to_one", "micro", "flash", "rotational", "network", "group", "diversity", "external",
              "reverse", "peer", "senior_leader"}


class Examples(TandemCase):
    def year(self, rules, people):
        _, state = self.simulate(rules=os.path.join(EXAMPLES, rules), people=os.path.join(EXAMPLES, people),
                                 state=rules)
        return read_log(state)

    def test_blends_cover_all_eleven_models_and_run_clean(self):
        used = collections.defaultdict(set)
        for rules, people in (("acme.lua", "people.csv"), ("globex.lua", "globex-people.csv")):
            log = self.year(rules, people)
            programs = log[0]["programs"]
            self.assertGreaterEqual(len({p["model"] for p in programs}), 5, f"{rules} blends at least five models")
            matched = {e["program"] for e in log if e["type"] == "match"}
            self.assertEqual(matched, {p["name"] for p in programs}, f"{rules}: every program matched")
            self.assertEqual([e for e in log if e["type"] == "rule.error"], [], rules)
            used[rules] = {p["model"] for p in programs}
            if rules == "globex.lua":
                self.check_globex(log)
        self.assertEqual(used["acme.lua"] | used["globex.lua"], ALL_MODELS)

    def check_globex(self, log):
        matches = [e for e in log if e["type"] == "match" and e["phase"] == "active"]
        by_program = collections.defaultdict(list)
        for m in matches:
            by_program[m["program"]].append(m)
        self.assertTrue(all(m["mentors"] == [] and len(m["mentees"]) == 2 for m in by_program["peers"]))
        closes = {e["match"]: e["reason"] for e in log if e["type"] == "close"}
        tour = [closes[m["match"]] for m in by_program["tour"] if m["match"] in closes]
        self.assertTrue(tour and set(tour) == {"rotated"})
        intros = [e for e in log if e["type"] == "intro"]
        self.assertTrue(intros, "bridges introduced contacts")
        bridges = {m["match"] for m in by_program["bridges"]}
        self.assertTrue(all(i["match"] in bridges for i in intros))
        followups = by_program["after"]
        self.assertTrue(followups, "flash alumni continue with a flash mentor")
        speed_pairs = {(m["mentors"][0], m["mentees"][0]) for m in by_program["speed"]}
        for m in followups:
            self.assertIn((m["mentors"][0], m["mentees"][0]), speed_pairs)
        self.assertTrue([m for m in followups if "flash.lua" in m.get("rule", "")], "proposed by flash")

    def test_report_shows_every_program(self):
        state = self.path("acme-state")
        run("simulate", os.path.join(EXAMPLES, "acme.lua"), "--people", os.path.join(EXAMPLES, "people.csv"),
            "--state", state, "--days", "60", "--start", "2027-01-01", "--quiet", check=0)
        out = run("report", "--state", state, check=0).stdout
        for name in ("core", "stretch", "skills", "circles", "firesides", "flip"):
            self.assertIn(f"\n{name} ", out)
        self.assertTrue(all(len(line) <= 100 for line in out.splitlines()))
