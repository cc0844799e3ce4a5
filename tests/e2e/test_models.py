"""Each seed model's rules, proven on a simulated log through the binary."""
import collections
import datetime

from tandemtest import TandemCase, read_log


def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


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


class Micro(ModelCase):
    PEOPLE = ("id,level,department,skills,wants,capacity\n"
              "m1,8,Eng,sql;python,,2\nm2,7,Sales,negotiation;writing,,1\nm3,9,Ops,design,,1\n"
              "e1,3,Ops,,sql;design,1\ne2,2,Eng,,negotiation,1\ne3,4,Sales,,python;writing,1\n"
              "e4,3,Legal,,cooking,1\n")

    def test_one_shared_skill_short_term_no_reup(self):
        self.year('tandem.program { name = "skills", model = "micro" }\n', self.PEOPLE, days="120")
        for m in self.matches:
            mentor, mentee = self.people[m["mentors"][0]], self.people[m["mentees"][0]]
            skill = m["why"]["skill"]
            self.assertIn(skill, mentor.get("skills", []))
            self.assertIn(skill, mentee.get("wants", []))
            self.assertEqual(ts(m["term_ends"]) - ts(m["ts"]), datetime.timedelta(weeks=6))
        self.assertNotIn("e4", [m["mentees"][0] for m in self.matches], "no shared skill, no match")
        self.assertEqual([e for e in self.log if e["type"] == "reup"], [])
        closes = [e for e in self.log if e["type"] == "close"]
        self.assertTrue(closes)
        self.assertEqual({c["reason"] for c in closes}, {"completed"})
        goals = [e for e in self.log if e["type"] == "goal" and e["phase"] == "set"]
        self.assertTrue(all(g["text"].startswith("Learn ") for g in goals))
        # After a completed micro match the mentee may learn another skill from someone else.
        per_mentee = collections.Counter(m["mentees"][0] for m in self.matches)
        self.assertGreater(max(per_mentee.values()), 1)


class External(ModelCase):
    def test_external_mentors_high_potentials_first(self):
        rows = ["id,level,department,tags,capacity,skills,wants"]
        rows += [f"x{i},10,Partner,external,1,strategy," for i in range(3)]
        rows += [f"i{i},9,Eng,,2,strategy," for i in range(3)]
        rows += [f"e{i},3,Eng,,1,,strategy" for i in range(6)]
        rows += [f"h{i},3,Eng,high_potential,1,," for i in range(3)]
        self.year('tandem.program { name = "outside", model = "external", term = "3mo" }\n',
                  "\n".join(rows) + "\n", days="30")
        for m in self.matches:
            self.assertIn("external", self.people[m["mentors"][0]].get("tags", []))
        first = [m for m in self.matches if m["ts"] == self.matches[0]["ts"]]
        self.assertEqual(sorted(m["mentees"][0] for m in first), ["h0", "h1", "h2"],
                         "scarce external mentors go to high potentials first, despite lower scores")


class Reverse(ModelCase):
    PEOPLE = ("id,level,department,skills,wants\n"
              "j1,2,Eng,ai;tiktok,\nj2,3,Sales,crm,\nj3,4,Ops,ai,\n"
              "s1,12,Eng,,ai\ns2,10,Sales,,crm;tiktok\ns3,6,Ops,,ai\ns4,5,Legal,,ai\n")

    def test_mentor_junior_to_mentee_and_aliases(self):
        for alias in ("reverse", "exchange", "shift"):
            with self.subTest(model=alias):
                self.year(f'tandem.program {{ name = "flip", model = "{alias}" }}\n', self.PEOPLE, days="20")
                for m in self.matches:
                    self.assertEqual(m["model"], alias)
                    self.assertLess(self.people[m["mentors"][0]]["level"], self.people[m["mentees"][0]]["level"])
                    self.assertLess(m["why"]["level_gap"], 0)

    def test_a_score_that_allows_senior_mentors_is_still_reversed(self):
        self.year('tandem.program { name = "flip", model = "reverse", mentor = function(p) return true end,\n'
                  '  mentee = function(p) return true end, score = function(a, b) return 1 end }\n',
                  self.PEOPLE, days="20")
        for m in self.matches:
            self.assertLess(self.people[m["mentors"][0]]["level"], self.people[m["mentees"][0]]["level"])


class Diversity(ModelCase):
    PEOPLE = ("id,level,department,q_background,q_style\n"
              "m1,8,Eng,engineering,direct\nm2,8,Sales,arts,reflective\n"
              "e1,3,Eng,engineering,direct\ne2,3,Eng,,\n")

    def test_difference_from_answers_never_guessed(self):
        self.year('tandem.program { name = "d", model = "diversity" }\n', self.PEOPLE, days="10")
        by_mentee = {m["mentees"][0]: m for m in self.matches}
        # e1 answered like m1: the model pairs e1 with m2 (other department, both answers differ).
        self.assertEqual(by_mentee["e1"]["mentors"], ["m2"])
        self.assertEqual(by_mentee["e1"]["why"]["questions_compared"], 2)
        self.assertEqual(by_mentee["e1"]["why"]["questions_different"], 2)
        # e2 answered nothing: nothing is compared, nothing assumed.
        self.assertEqual(by_mentee["e2"]["why"]["questions_compared"], 0)
        self.assertEqual(by_mentee["e2"]["why"]["questions_different"], 0)
