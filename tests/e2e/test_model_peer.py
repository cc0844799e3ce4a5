"""The peer model's rules, proven on a simulated log through the binary: mutual pairs from one
pool, levels within level_gap, no mentor side, no pair twice, no reporting line."""
import collections
import datetime

from tandemtest import TandemCase, read_log, run


def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


# a1 and a2 would be the best pair (each has what the other wants, two departments) but a2
# reports to a1. b1 and b2 trade skills too but are two levels apart: only level_gap = 2
# allows them. c1 (level 13) has no one within reach and is never paired.
PEOPLE = ("id,level,department,skills,wants,manager\n"
          "a1,3,Eng,sql,design,\n"
          "a2,3,Sales,design,sql,a1\n"
          "a3,4,Ops,python,sql,\n"
          "a4,2,Eng,,python,\n"
          "a5,3,Legal,,,\n"
          "b1,7,Eng,go,rust,\n"
          "b2,9,Sales,rust,go,\n"
          "b3,8,Ops,,,\n"
          "c1,13,Exec,,,\n")


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


class Peer(ModelCase):
    def in_reporting_line(self, a, b):
        def chain(p):
            seen = []
            while p in self.people and self.people[p].get("manager") and p not in seen:
                seen.append(p)
                p = self.people[p]["manager"]
                yield p
        return b in chain(a) or a in chain(b)

    def test_mutual_pairs_within_level_gap_never_twice(self):
        # One-month terms that complete, so people come back to the pool and could meet again.
        self.year('tandem.program { name = "pairs", model = "peer", term = "1mo", reup = false }\n',
                  PEOPLE, days="200")
        self.assertEqual([e for e in self.log if e["type"] == "rule.error"], [])
        enrolled = {(e["person"], e["role"]) for e in self.log if e["type"] == "enroll"}
        self.assertEqual({r for _, r in enrolled}, {"peer"}, "one pool: everyone enrols as a peer")
        self.assertEqual({p for p, _ in enrolled}, set(self.people))
        seen = set()
        for m in self.matches:
            self.assertEqual(m["model"], "peer")
            self.assertEqual(m["mentors"], [], "no mentor side")
            self.assertEqual(len(m["mentees"]), 2, "both peers in mentees")
            a, b = m["mentees"]
            self.assertNotEqual(a, b)
            gap = abs(self.people[a]["level"] - self.people[b]["level"])
            self.assertLessEqual(gap, 1, f"{a} and {b} are {gap} levels apart")
            self.assertEqual(m["why"]["level_difference"], gap)
            self.assertFalse(self.in_reporting_line(a, b), f"{a} and {b} share a reporting line")
            pair = frozenset((a, b))
            self.assertNotIn(pair, seen, f"{a} and {b} paired twice")
            seen.add(pair)
        paired = collections.Counter(p for m in self.matches for p in m["mentees"])
        self.assertNotIn("c1", paired, "no one is within one level of c1")
        self.assertNotIn(frozenset(("b1", "b2")), seen, "two levels apart")
        self.assertGreater(max(paired.values()), 1, "after a completed pair people are paired again")
        # The best-scoring allowed pairs come first: a1 teaches a3 sql (a2 is a1's report).
        first = {frozenset(m["mentees"]) for m in self.matches if m["ts"] == self.matches[0]["ts"]}
        self.assertIn(frozenset(("a1", "a3")), first)
        # Everyone is in at most one live pair at a time; meetings are held by both peers.
        closed = {e["match"]: ts(e["ts"]) for e in self.log if e["type"] == "close"}
        spans = collections.defaultdict(list)
        for m in self.matches:
            for p in m["mentees"]:
                spans[p].append((ts(m["ts"]), closed.get(m["match"])))
        for p, ivs in spans.items():
            ivs.sort()
            for (_, e1), (s2, _) in zip(ivs, ivs[1:]):
                self.assertTrue(e1 is not None and s2 >= e1, f"{p} in two live pairs")
        by_id = {m["match"]: m for m in self.matches}
        held = [e for e in self.log if e["type"] == "meeting" and e["phase"] == "held"]
        self.assertTrue(held)
        for e in held:
            self.assertEqual(sorted(e["attendees"]), sorted(by_id[e["match"]]["mentees"]))

    def test_level_gap_widens_the_reach(self):
        self.year('tandem.program { name = "pairs", model = "peer", level_gap = 2 }\n', PEOPLE, days="10")
        pairs = {frozenset(m["mentees"]) for m in self.matches}
        self.assertIn(frozenset(("b1", "b2")), pairs, "two levels apart is allowed with level_gap = 2")
        for m in self.matches:
            a, b = m["mentees"]
            self.assertLessEqual(abs(self.people[a]["level"] - self.people[b]["level"]), 2)
        self.assertNotIn("c1", {p for m in self.matches for p in m["mentees"]})

    def test_a_score_that_allows_any_pair_still_keeps_levels_close(self):
        self.year('tandem.program { name = "pairs", model = "peer", score = function(a, b) return 1 end }\n',
                  PEOPLE, days="10")
        for m in self.matches:
            a, b = m["mentees"]
            self.assertLessEqual(abs(self.people[a]["level"] - self.people[b]["level"]), 1)
        self.assertNotIn("c1", {p for m in self.matches for p in m["mentees"]})

    def test_bad_values_are_load_errors_with_file_and_line(self):
        for field, fragment in (("level_gap = -1", "level_gap must be a whole number from 0 to 14 (got -1)"),
                                ("level_gap = 1.5", "level_gap must be a whole number"),
                                ("level_gap = 15", "level_gap must be a whole number from 0 to 14"),
                                ("levelgap = 2", 'unknown field "levelgap"')):
            with self.subTest(field=field):
                path = self.write("rules.lua", 'local tandem = require "tandem"\n'
                                  f'tandem.program {{ name = "pairs", model = "peer", {field} }}\n')
                p = run("check", path, check=1)
                self.assertIn(f"{path}:2: ", p.stderr)
                self.assertIn(fragment, p.stderr)
        # One pool: the program needs no mentor function.
        run("check", self.write("rules.lua", 'tandem.program { name = "pairs", model = "peer", level_gap = 0 }\n'),
            check=0)
