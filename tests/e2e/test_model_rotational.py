"""The rotational model's rules, proven on a simulated log through the binary."""
import collections
import datetime

from tandemtest import TandemCase, read_log, run


def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


# Seven ambassadors (two of them in Eng); two senior people who are not ambassadors but whom the
# program's own `mentor` function accepts (the model must still leave them out); four mentees.
PEOPLE = ("id,level,department,tags,capacity,skills,wants\n"
          "a1,9,Eng,ambassador,1,sql,\na2,9,Sales,ambassador,1,negotiation,\n"
          "a3,10,Ops,ambassador,1,logistics,\na4,8,Legal,ambassador,1,contracts,\n"
          "a5,9,Finance,ambassador,1,budgets,\na6,11,Design,ambassador,1,ux,\n"
          "a7,9,Eng,ambassador,1,ux,\n"
          "x1,12,Eng,,3,sql;ux,\nx2,12,Sales,,3,negotiation;budgets,\n"
          "e1,3,Eng,,1,,sql;ux\ne2,2,Sales,,1,,negotiation\ne3,4,Ops,,1,,budgets\n"
          "e4,3,Legal,,1,,contracts;logistics\n")

# Weekly rotations, two meetings in each (every 3 days), four rotations per mentee.
RULES = """local tandem = require "tandem"
tandem.program {
  name = "rot",
  model = "rotational",
  rotate_every = "1w", term = "1w", cadence = "3d", review_every = "1w",
  rotations = 4,
  mentor = function(p) return (p.level or 0) >= 8 end,
  mentee = function(p) return p.level ~= nil and p.level <= 5 end,
}
"""


class Rotational(TandemCase):
    def run_year(self, rules=RULES, people=PEOPLE, days="70", seed="3"):
        _, state = self.simulate(rules=self.write("rules.lua", rules), people=self.write("people.csv", people),
                                 days=days, seed=seed)
        self.log = read_log(state)
        self.people = {e["person"]["id"]: e["person"] for e in self.log if e["type"] == "person"}
        self.matches = [e for e in self.log if e["type"] == "match" and e["phase"] == "active"]
        self.assertTrue(self.matches, "no match was made")
        return self.log

    def test_new_ambassador_every_rotation(self):
        self.run_year()
        enrolled_mentors = {e["person"] for e in self.log if e["type"] == "enroll" and e["role"] == "mentor"}
        self.assertTrue({"x1", "x2"} <= enrolled_mentors, "the program's mentor function takes x1 and x2")
        for m in self.matches:
            self.assertEqual(m["model"], "rotational")
            self.assertIn("ambassador", self.people[m["mentors"][0]].get("tags", []),
                          f"match {m['match']}: only ambassadors mentor")
            # A rotation is one match of rotate_every.
            self.assertEqual(ts(m["term_ends"]) - ts(m["ts"]), datetime.timedelta(weeks=1))

        # Each mentee's successive mentors are all different, and there are exactly `rotations`
        # of them: mentors stay free after the fourth rotation, so the cap is what stops them.
        by_mentee = collections.defaultdict(list)
        for m in self.matches:
            by_mentee[m["mentees"][0]].append(m)
        self.assertEqual(sorted(by_mentee), ["e1", "e2", "e3", "e4"])
        for mentee, ms in by_mentee.items():
            mentors = [m["mentors"][0] for m in ms]
            self.assertEqual(len(mentors), len(set(mentors)), f"{mentee} had a mentor twice: {mentors}")
            self.assertEqual(len(ms), 4, f"{mentee}: rotations = 4, got {mentors}")
            self.assertEqual([m["why"]["rotation"] for m in ms], [1, 2, 3, 4])
            # The score: 1 + 2 per wanted skill + 1 across departments, + 2 for a department the
            # mentee has not rotated through yet.
            visited = set()
            for m in ms:
                mentor, me = self.people[m["mentors"][0]], self.people[mentee]
                skills = len(set(mentor.get("skills", [])) & set(me.get("wants", [])))
                cross = int(mentor["department"] != me["department"])
                fresh = int(mentor["department"] not in visited)
                visited.add(mentor["department"])
                self.assertEqual((m["why"]["skills"], m["why"]["cross_department"], m["why"]["new_department"]),
                                 (skills, cross, fresh))
                self.assertEqual(m["score"], 1 + 2 * skills + cross + 2 * fresh)
        last_end = max(ts(m["term_ends"]) for m in self.matches)
        self.assertLess(last_end, datetime.datetime(2027, 1, 1) + datetime.timedelta(days=70 - 14),
                        "the run goes on well past the last rotation (and no fifth one came)")

        # Each rotation ends with reason rotated at its term's end, and the mentee is matched
        # again the same day.
        closes = {e["match"]: e for e in self.log if e["type"] == "close"}
        self.assertEqual({c["reason"] for c in closes.values()}, {"rotated"})
        for m in self.matches:
            self.assertIn(m["match"], closes, f"match {m['match']} never closed")
            self.assertEqual(closes[m["match"]]["ts"], m["term_ends"])
        for mentee, ms in by_mentee.items():
            for a, b in zip(ms, ms[1:]):
                self.assertLessEqual(ts(b["ts"]) - ts(a["term_ends"]), datetime.timedelta(days=1))
        self.assertEqual([e for e in self.log if e["type"] == "reup"], [], "a rotation is never re-upped")

        # meetings_per_rotation = 2: each rotation has exactly two meetings, held or missed.
        outcomes = collections.Counter(e["match"] for e in self.log
                                       if e["type"] == "meeting" and e["phase"] in ("held", "missed"))
        for m in self.matches:
            self.assertEqual(outcomes[m["match"]], 2, f"match {m['match']}")
        self.assertEqual([e for e in self.log if e["type"] == "rule.error"], [])

        # The last rotation's end is noted, with the mentors in order.
        notes = [e for e in self.log if e["type"] == "note" and e["text"] == "rotational.completed"]
        self.assertEqual(sorted(n["fields"]["mentee"] for n in notes), ["e1", "e2", "e3", "e4"])
        for n in notes:
            self.assertEqual(n["fields"]["mentors"], [m["mentors"][0] for m in by_mentee[n["fields"]["mentee"]]])

    def test_default_rotation_is_a_month_with_two_meetings(self):
        self.run_year(rules='tandem.program { name = "rot", model = "rotational", rotations = 2 }\n',
                      days="100")
        by_mentee = collections.Counter(m["mentees"][0] for m in self.matches)
        # Defaults: mentees are everyone with a level who is not an ambassador (x1, x2 included).
        self.assertEqual(sorted(by_mentee), ["e1", "e2", "e3", "e4", "x1", "x2"])
        self.assertEqual(set(by_mentee.values()), {2})
        outcomes = collections.Counter(e["match"] for e in self.log
                                       if e["type"] == "meeting" and e["phase"] in ("held", "missed"))
        for m in self.matches:
            start, end = ts(m["ts"]), ts(m["term_ends"])
            self.assertEqual((end.year * 12 + end.month) - (start.year * 12 + start.month), 1, "a 1mo term")
            self.assertEqual(end.day, start.day)
            self.assertEqual(outcomes[m["match"]], 2, f"match {m['match']}: two meetings a month")


class RotationalCheck(TandemCase):
    def check_error(self, text, line, fragment):
        path = self.write("rules.lua", text)
        p = run("check", path, check=1)
        self.assertIn(f"{path}:{line}: ", p.stderr)
        self.assertIn(fragment, p.stderr)

    def test_defaults_load(self):
        p = run("check", self.write("rules.lua", 'tandem.program { name = "rot", model = "rotational" }\n'),
                check=0)
        self.assertIn("rot (rotational)", p.stdout)

    def test_bad_values_are_load_errors(self):
        head = 'local tandem = require "tandem"\n\ntandem.program {\n  name = "rot",\n  model = "rotational",\n'
        # The error names the line of the field it is about (the declaration's line when that
        # field is not written out).
        self.check_error(head + '  rotations = 0,\n}\n', 6, "rotations must be a whole number from 1 to 120")
        self.check_error(head + '  meetings_per_rotation = "two",\n}\n', 6, "meetings_per_rotation must be")
        self.check_error(head + '  rotate_every = "monthly",\n}\n', 6, 'rotate_every must be a duration')
        self.check_error(head + '  rotate_every = "2w",\n}\n', 3, 'term must equal rotate_every ("2w")')
        self.check_error(head + '  rotate_every = "2w", term = "2w",\n}\n', 3,
                         'cadence "2w" does not give 2 meetings in each rotation of 2w; give a cadence from 5d to 7d')
        self.check_error(head + '  rotate_every = "2w", term = "2w",\n  cadence = "3d",\n}\n', 7,
                         'cadence "3d" does not give 2 meetings in each rotation of 2w')
        self.check_error(head + '  rotate = false,\n}\n', 6, "rotate must be true")
        self.check_error(head + '  rotation = 3,\n}\n', 6, 'unknown field "rotation"')
