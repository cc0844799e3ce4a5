"""The group model's rules, proven on a simulated log through the binary: one mentor leads one
group at a time, of at most group_size mentees, all from different departments."""
import collections
import datetime

from tandemtest import TandemCase, read_log, run


def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def add_months(t, n):
    """Calendar months, as the engine counts them (31 January + 1mo is the end of February)."""
    y, mo = divmod(t.month - 1 + n, 12)
    y, mo = t.year + y, mo + 1
    last = (datetime.date(y + mo // 12, mo % 12 + 1, 1) - datetime.timedelta(days=1)).day
    return t.replace(year=y, month=mo, day=min(t.day, last))


# Three mentors whose `capacity` column says 3: the group model must still give each one
# group at a time. Fifteen mentees, six of them in Eng: with distinct departments at most
# one Eng mentee fits a group, so distinctness costs seats and a solver ignoring it would
# put two Eng mentees together.
MENTEE_DEPARTMENTS = ["Eng"] * 6 + ["Sales"] * 4 + ["Ops"] * 2 + ["Legal"] * 2 + ["HR"]
PEOPLE = "\n".join(
    ["id,level,department,capacity,skills,wants"]
    + [f"m{i},8,Mgmt,3,sql;design," for i in range(3)]
    + [f"e{i},3,{d},1,,sql" for i, d in enumerate(MENTEE_DEPARTMENTS)]) + "\n"


class ModelCase(TandemCase):
    def year(self, rules, people, days="180", seed="3"):
        r = self.write("rules.lua", rules)
        p = self.write("people.csv", people)
        _, state = self.simulate(rules=r, people=p, days=days, seed=seed)
        self.log = read_log(state)
        self.people = {e["person"]["id"]: e["person"] for e in self.log if e["type"] == "person"}
        self.matches = [e for e in self.log if e["type"] == "match" and e["phase"] == "active"]
        self.assertTrue(self.matches, "no match was made")
        return self.log

    def intervals(self):
        """(start, end) of each match; end is None while it is still live at the log's end."""
        closed = {e["match"]: ts(e["ts"]) for e in self.log if e["type"] == "close"}
        return {m["match"]: (ts(m["ts"]), closed.get(m["match"])) for m in self.matches}


class Group(ModelCase):
    def test_one_group_per_mentor_distinct_departments_up_to_four(self):
        self.year('tandem.program { name = "circle", model = "group" }\n', PEOPLE, days="420")
        self.assertEqual([e for e in self.log if e["type"] == "rule.error"], [])
        roles = {(e["person"], e["role"]) for e in self.log if e["type"] == "enroll"}
        self.assertEqual({r for p, r in roles if p.startswith("m")}, {"mentor"})
        self.assertEqual({r for p, r in roles if p.startswith("e")}, {"mentee"})
        for m in self.matches:
            self.assertEqual(m["model"], "group")
            self.assertEqual(len(m["mentors"]), 1, "one mentor per group")
            self.assertLessEqual(len(m["mentees"]), 4, "group_size defaults to 4")
            departments = [self.people[e]["department"] for e in m["mentees"]]
            self.assertEqual(len(set(departments)), len(departments),
                             f"match {m['match']}: two mentees of one department: {departments}")
            self.assertEqual(set(m["why"]), set(m["mentees"]), "why gives each mentee's reasons")
            self.assertEqual(ts(m["term_ends"]), add_months(ts(m["ts"]), 6), "the default term is 6mo")
        # The solver fills groups when it can: the first tick makes three groups, and full ones.
        first = [m for m in self.matches if m["ts"] == self.matches[0]["ts"]]
        self.assertEqual(sorted(m["mentors"][0] for m in first), ["m0", "m1", "m2"])
        self.assertEqual(max(len(m["mentees"]) for m in first), 4)
        # Six Eng mentees, three groups: distinct departments place only three of them.
        eng = [e for m in first for e in m["mentees"] if self.people[e]["department"] == "Eng"]
        self.assertEqual(len(eng), 3)
        # A mentor leads one group at a time, whatever their capacity column says.
        spans = self.intervals()
        by_mentor = collections.defaultdict(list)
        for m in self.matches:
            by_mentor[m["mentors"][0]].append(spans[m["match"]])
        for mentor, ivs in by_mentor.items():
            ivs.sort()
            for (_, e1), (s2, _) in zip(ivs, ivs[1:]):
                self.assertIsNotNone(e1, f"{mentor}: a group still live when the next began")
                self.assertGreaterEqual(s2, e1, f"{mentor} led two groups at once")
        self.assertTrue(any(len(ivs) > 1 for ivs in by_mentor.values()),
                        "a mentor whose group ended leads a new one")
        # A mentee is in one live group at a time.
        by_mentee = collections.defaultdict(list)
        for m in self.matches:
            for e in m["mentees"]:
                by_mentee[e].append(spans[m["match"]])
        for mentee, ivs in by_mentee.items():
            ivs.sort()
            for (_, e1), (s2, _) in zip(ivs, ivs[1:]):
                self.assertTrue(e1 is not None and s2 >= e1, f"{mentee} in two live groups")

    def test_group_size_is_honoured(self):
        self.year('tandem.program { name = "circle", model = "group", group_size = 2 }\n', PEOPLE, days="30")
        sizes = [len(m["mentees"]) for m in self.matches]
        self.assertLessEqual(max(sizes), 2)
        self.assertEqual(max(sizes), 2)
        self.assertEqual(len(self.matches), 3, "three mentors, one group each")

    def test_bad_values_are_load_errors_with_file_and_line(self):
        cases = [
            ("group_size = 0", "group_size must be a whole number from 2 to 50 (got 0)"),
            ("group_size = 2.5", "group_size must be a whole number"),
            ('group_size = "4"', "group_size must be a whole number"),
            ('term = "2w"', 'term must be from "6mo" to "1y" for group mentoring (got "2w")'),
            ('term = "2y"', 'term must be from "6mo" to "1y"'),
            ("group_sise = 3", 'unknown field "group_sise"'),
        ]
        for field, fragment in cases:
            with self.subTest(field=field):
                path = self.write("rules.lua", 'local tandem = require "tandem"\n'
                                  f'tandem.program {{ name = "circle", model = "group", {field} }}\n')
                p = run("check", path, check=1)
                self.assertIn(f"{path}:2: ", p.stderr)
                self.assertIn(fragment, p.stderr)
        for field in ('term = "1y"', 'term = "9mo"', "group_size = 6"):
            with self.subTest(field=field):
                path = self.write("rules.lua", f'tandem.program {{ name = "circle", model = "group", {field} }}\n')
                run("check", path, check=0)
