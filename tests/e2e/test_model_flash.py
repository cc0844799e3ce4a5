"""The flash model's rules, proven on a simulated log through the binary."""
import collections
import datetime

from tandemtest import TandemCase, read_log, run


def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


# Four mentors for five mentees: every round someone waits. f4 takes part in the flash rounds
# only (not a mentor of the follow-up program "core"). The program's score never pairs two
# people of one department (f1-g1 Eng, f2-g2 Sales, f3-g3 Ops).
PEOPLE = ("id,level,department,tags,capacity,skills,wants\n"
          "f1,9,Eng,,1,sql;python,\nf2,8,Sales,,1,negotiation,\nf3,10,Ops,,1,logistics;sql,\n"
          "f4,7,Legal,flash_only,1,contracts;negotiation,\n"
          "g1,3,Eng,,1,,sql;negotiation\ng2,2,Sales,,1,,python\ng3,4,Ops,,1,,contracts\n"
          "g4,3,Finance,,1,,logistics\ng5,1,Support,,1,,sql\n")

RULES = """local tandem = require "tandem"
tandem.program {
  name = "speed",
  model = "flash",
  followup = "core",
  score = function(mentor, mentee)
    if mentor.department == mentee.department then return nil end
    local skills = tandem.overlap(mentor.skills, mentee.wants)
    return 1 + skills, { skills = skills }
  end,
}
tandem.program {
  name = "core",
  model = "one_to_one",
  mentor = function(p) return (p.level or 0) >= 6 and not p.tags.flash_only end,
}
"""

DAYS = 70


class Flash(TandemCase):
    def test_speed_rounds(self):
        _, state = self.simulate(rules=self.write("rules.lua", RULES), people=self.write("people.csv", PEOPLE),
                                 days=str(DAYS), seed="3")
        log = read_log(state)
        people = {e["person"]["id"]: e["person"] for e in log if e["type"] == "person"}
        rounds = [e for e in log if e["type"] == "match" and e["phase"] == "active" and e["program"] == "speed"]
        self.assertTrue(rounds, "no round was matched")
        self.assertEqual([e for e in log if e["type"] == "rule.error"], [])

        # No pair twice; never a pair the program's score refuses.
        pairs = [(m["mentors"][0], m["mentees"][0]) for m in rounds]
        self.assertEqual(len(pairs), len(set(pairs)), f"a pair met twice: {pairs}")
        for mentor, mentee in pairs:
            self.assertNotEqual(people[mentor]["department"], people[mentee]["department"])

        # Each mentee has exactly `rounds` (3) rounds, each with a different mentor, and no
        # fourth although mentors are free for weeks after.
        by_mentee = collections.defaultdict(list)
        for m in rounds:
            by_mentee[m["mentees"][0]].append(m)
        self.assertEqual(sorted(by_mentee), ["g1", "g2", "g3", "g4", "g5"])
        for mentee, ms in by_mentee.items():
            self.assertEqual(len(ms), 3, f"{mentee}: {[m['mentors'] for m in ms]}")
            self.assertEqual([m["why"]["round"] for m in ms], [1, 2, 3])
        self.assertLess(max(ts(m["term_ends"]) for m in rounds),
                        datetime.datetime(2027, 1, 1) + datetime.timedelta(days=DAYS - 14))
        # A mentor meets at most capacity (1) mentees in a round.
        per_round = collections.Counter((m["ts"], m["mentors"][0]) for m in rounds)
        self.assertEqual(set(per_round.values()), {1})
        # Rounds start together, one round_length (1w) apart.
        starts = sorted({ts(m["ts"]) for m in rounds})
        for a, b in zip(starts, starts[1:]):
            self.assertEqual((b - a) % datetime.timedelta(weeks=1), datetime.timedelta(0))

        # Each round is a short match: a 1w term, one meeting (held or missed), completed at its
        # end without a re-up.
        closes = {e["match"]: e for e in log if e["type"] == "close"}
        outcomes = collections.Counter(e["match"] for e in log
                                       if e["type"] == "meeting" and e["phase"] in ("held", "missed"))
        for m in rounds:
            self.assertEqual(ts(m["term_ends"]) - ts(m["ts"]), datetime.timedelta(weeks=1))
            self.assertEqual(outcomes[m["match"]], 1, f"match {m['match']}")
            self.assertEqual(closes[m["match"]]["reason"], "completed")
            self.assertEqual(closes[m["match"]]["ts"], m["term_ends"])
        speed_ids = {m["match"] for m in rounds}
        self.assertEqual([e for e in log if e["type"] == "reup" and e["match"] in speed_ids], [])

        # flash.followup: after each mentee's last round, one request for a longer match in
        # "core" with the flash mentor they held most meetings with (then the best score, then the
        # latest round), among those who mentor in core (never f4).
        held = collections.Counter(e["match"] for e in log if e["type"] == "meeting" and e["phase"] == "held")
        notes = [e for e in log if e["type"] == "note" and e["text"] == "flash.followup"]
        self.assertEqual(sorted(n["fields"]["mentee"] for n in notes), ["g1", "g2", "g3", "g4", "g5"])
        core_mentors = {e["person"] for e in log if e["type"] == "enroll" and e["program"] == "core"
                        and e["role"] == "mentor"}
        self.assertNotIn("f4", core_mentors)
        for n in notes:
            f = n["fields"]
            ms = by_mentee[f["mentee"]]
            self.assertEqual((f["program"], f["flash_program"]), ("core", "speed"))
            self.assertGreaterEqual(ts(n["ts"]), ts(ms[-1]["term_ends"]), "only after the last round")
            self.assertNotEqual(f["mentor"], "f4")
            eligible = [(held[m["match"]], m["score"], k, m) for k, m in enumerate(ms)
                        if m["mentors"][0] in core_mentors]
            best = max(eligible, key=lambda x: x[:3])[3]
            self.assertEqual((f["mentor"], f["match"]), (best["mentors"][0], best["match"]))
        # Each ask became a match in core with that mentor, unless core had matched the mentee.
        for n in notes:
            f = n["fields"]
            live_before = [e for e in log if e["type"] == "match" and e["program"] == "core"
                           and f["mentee"] in e["mentees"] and e["seq"] < n["seq"]]
            proposed = [e for e in log if e["type"] == "match" and e["program"] == "core"
                        and e["mentees"] == [f["mentee"]] and e["seq"] > n["seq"] and e["ts"] == n["ts"]]
            if not live_before:
                self.assertEqual([p["mentors"] for p in proposed], [[f["mentor"]]], f)
                self.assertEqual(proposed[0]["why"]["flash_program"], "speed")
                self.assertTrue(proposed[0]["rule"].endswith(tuple(f"flash.lua:{i}" for i in range(1, 400))))
        self.assertEqual([e for e in log if e["type"] == "rule.error"], [])
        # Somebody met f4, so leaving f4 out was a real choice.
        self.assertIn("f4", [p[0] for p in pairs])


class FlashCheck(TandemCase):
    def check_error(self, text, line, fragment):
        path = self.write("rules.lua", text)
        p = run("check", path, check=1)
        self.assertIn(f"{path}:{line}: ", p.stderr)
        self.assertIn(fragment, p.stderr)

    def test_defaults_load(self):
        p = run("check", self.write("rules.lua", 'tandem.program { name = "f", model = "flash" }\n'), check=0)
        self.assertIn("f (flash)", p.stdout)

    def test_bad_values_are_load_errors(self):
        # The error names the line of the field it is about (the declaration's line when that
        # field is not written out).
        head = 'local tandem = require "tandem"\n\n\ntandem.program {\n  name = "f",\n  model = "flash",\n'
        self.check_error(head + '  rounds = -1,\n}\n', 7, "rounds must be a whole number from 1 to 100")
        self.check_error(head + '  round_length = "1 week",\n}\n', 7, "round_length must be a duration")
        self.check_error(head + '  round_length = "2w",\n}\n', 4, 'term must equal round_length ("2w")')
        self.check_error(head + '  round_length = "2w", term = "2w",\n}\n', 4, "match_every must equal round_length")
        self.check_error(head + '  round_length = "2w", term = "14d", match_every = "2w",\n}\n', 4,
                         'cadence "4d" does not give one meeting in a round of 2w; give a cadence from 8d to 14d')
        self.check_error(head + '  round_length = "2w", term = "14d", match_every = "2w",\n  cadence = "1w",\n}\n', 8,
                         'cadence "1w" does not give one meeting in a round of 2w')
        self.check_error(head + '  reup = true,\n}\n', 7, "reup must be false")
        self.check_error(head + '  approve = true,\n}\n', 7, "approve must be false")
        self.check_error(head + '  followup = 7,\n}\n', 7, "followup must name a program")
        self.check_error(head + '  round = 3,\n}\n', 7, 'unknown field "round"')
