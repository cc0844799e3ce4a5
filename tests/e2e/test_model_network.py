"""The network model's rules, proven on a simulated log through the binary."""
import collections

from tandemtest import TandemCase, read_log, run

# Two networking pairs (m1-e1, m2-e2). The mentors' networks: their department colleagues
# (c1, c2, c3 in Eng; s1 in Sales) and whom they are matched with in another program, "buddy"
# (m1 mentors p1 of Finance, m2 mentors p2 of Support). c1 manages e1: never introduced to e1.
PEOPLE = ("id,level,department,tags,capacity,skills,wants,manager\n"
          "m1,9,Eng,net_mentor;buddy_mentor,1,sql;budgeting,,\n"
          "m2,8,Sales,net_mentor;buddy_mentor,1,negotiation;pitching,,\n"
          "e1,3,Ops,net_mentee,1,,sql;forecasting,c1\n"
          "e2,2,Legal,net_mentee,1,,negotiation;contracts,\n"
          "p1,4,Finance,buddy,1,forecasting,budgeting,\n"
          "p2,4,Support,buddy,1,,pitching,\n"
          "c1,7,Eng,,1,sql;forecasting,,\n"
          "c2,6,Eng,,1,sql,,\n"
          "c3,5,Eng,,1,,,\n"
          "s1,6,Sales,,1,contracts,,\n")

RULES = """local tandem = require "tandem"
tandem.program {
  name = "net",
  model = "network",
  intro_after = 3,
  cadence = "1w",
  mentor = function(p) return p.tags.net_mentor == true end,
  mentee = function(p) return p.tags.net_mentee == true end,
}
tandem.program {
  name = "buddy",
  model = "micro",
  term = "1y",
  mentor = function(p) return p.tags.buddy_mentor == true end,
  mentee = function(p) return p.tags.buddy == true end,
}
"""


class Network(TandemCase):
    def test_mentor_introduces_their_network_after_intro_after_meetings(self):
        _, state = self.simulate(rules=self.write("rules.lua", RULES), people=self.write("people.csv", PEOPLE),
                                 days="120", seed="3")
        log = read_log(state)
        people = {e["person"]["id"]: e["person"] for e in log if e["type"] == "person"}
        net = {e["match"]: e for e in log if e["type"] == "match" and e["phase"] == "active"
               and e["program"] == "net"}
        self.assertEqual(sorted((m["mentors"][0], m["mentees"][0]) for m in net.values()),
                         [("m1", "e1"), ("m2", "e2")])
        intros = [e for e in log if e["type"] == "intro"]
        self.assertTrue(intros, "no introduction was made")
        self.assertEqual([e for e in log if e["type"] == "rule.error"], [])

        by_match = collections.defaultdict(list)
        for intro in intros:
            self.assertIn(intro["match"], net, "introductions only in the network program")
            m = net[intro["match"]]
            mentor, mentee, contact = m["mentors"][0], m["mentees"][0], intro["contact"]
            by_match[intro["match"]].append(contact)
            before = [e for e in log if e["seq"] < intro["seq"]]
            # Only after intro_after (3) held meetings of this match.
            held = [e for e in before if e["type"] == "meeting" and e["match"] == intro["match"]
                    and e["phase"] == "held"]
            self.assertGreaterEqual(len(held), 3, f"intro {intro['seq']} after {len(held)} held meetings")
            # Never the mentee nor the mentor; from the mentor's network as it stood then:
            # a department colleague, or someone matched with the mentor in any program.
            self.assertNotIn(contact, (mentor, mentee))
            partners = set()
            for e in before:
                if e["type"] == "match" and e["phase"] == "active" and mentor in e["mentors"] + e["mentees"]:
                    partners |= set(e["mentors"] + e["mentees"])
            colleagues = {p for p, rec in people.items() if rec.get("department") == people[mentor]["department"]}
            self.assertIn(contact, partners | colleagues, f"{contact} is not in {mentor}'s network")
            # Not in the mentee's reporting line.
            self.assertNotEqual(people[mentee].get("manager"), contact)

        for match, contacts in by_match.items():
            self.assertEqual(len(contacts), len(set(contacts)), f"match {match}: someone introduced twice")
            self.assertLessEqual(len(contacts), 2, "intros = 2 by default")
            # The first introduction comes at the third held meeting, not later.
            first = next(e for e in intros if e["match"] == match)
            held = [e for e in log if e["type"] == "meeting" and e["match"] == match and e["phase"] == "held"
                    and e["seq"] < first["seq"]]
            self.assertEqual(len(held), 3)
        # e1: c1 (the most useful to e1, but e1's manager) is passed over; p1, the mentor's buddy
        # from Finance, and c2, a colleague, come first by what e1 wants to learn.
        e1_match = next(k for k, m in net.items() if m["mentees"] == ["e1"])
        self.assertEqual(by_match[e1_match], ["p1", "c2"])
        e2_match = next(k for k, m in net.items() if m["mentees"] == ["e2"])
        self.assertEqual(by_match[e2_match], ["s1", "p2"])

        # Contacts join the later held meetings as guests, and not the earlier ones.
        for intro in intros:
            meetings = [e for e in log if e["type"] == "meeting" and e["match"] == intro["match"]
                        and e["phase"] == "held"]
            later = [e for e in meetings if e["seq"] > intro["seq"]]
            self.assertTrue(later, f"no held meeting after intro {intro['seq']}")
            for e in meetings:
                self.assertEqual(intro["contact"] in e["guests"], e["seq"] > intro["seq"],
                                 f"meeting {e['seq']} guests {e['guests']}")
        # The other program's meetings have no guests.
        for e in log:
            if e["type"] == "meeting" and e["phase"] == "held" and e["match"] not in net:
                self.assertEqual(e["guests"], [])


# Who comes first among equals: ca and cb (Eng, like m1) both know the sql e1 wants; p1 (m1's
# buddy) and cz (Eng) know nothing e1 wants.
ORDER_PEOPLE = ("id,level,department,tags,capacity,skills,wants,manager\n"
                "m1,9,Eng,net_mentor;buddy_mentor,1,sql;budgeting,,\n"
                "e1,3,Ops,net_mentee,1,,sql,\n"
                "p1,4,Finance,buddy,1,,budgeting,\n"
                "cb,7,Eng,,1,sql,,\n"
                "ca,6,Eng,,1,sql,,\n"
                "cz,5,Eng,,1,,,\n")


class NetworkOrder(TandemCase):
    def test_equals_by_id_and_the_mentors_own_matches_before_colleagues_useful_to_nobody(self):
        rules = RULES.replace("intro_after = 3,", "intro_after = 1,\n  intros = 4,")
        _, state = self.simulate(rules=self.write("rules.lua", rules),
                                 people=self.write("people.csv", ORDER_PEOPLE), days="120", seed="3")
        log = read_log(state)
        self.assertEqual([e for e in log if e["type"] == "rule.error"], [])
        self.assertEqual([e["contact"] for e in log if e["type"] == "intro"], ["ca", "cb", "p1", "cz"])


class NetworkCheck(TandemCase):
    def check_error(self, text, line, fragment):
        path = self.write("rules.lua", text)
        p = run("check", path, check=1)
        self.assertIn(f"{path}:{line}: ", p.stderr)
        self.assertIn(fragment, p.stderr)

    def test_defaults_load(self):
        p = run("check", self.write("rules.lua", 'tandem.program { name = "n", model = "network" }\n'), check=0)
        self.assertIn("n (network)", p.stdout)

    def test_bad_values_are_load_errors(self):
        head = 'local tandem = require "tandem"\ntandem.program {\n  name = "n",\n  model = "network",\n'
        self.check_error(head + '  intro_after = 0,\n}\n', 5, "intro_after must be a whole number")
        self.check_error(head + '  intro_after = 2.5,\n}\n', 5, "intro_after must be a whole number")
        self.check_error(head + '  intros = "two",\n}\n', 5, "intros must be a whole number from 1 to 20")
        self.check_error(head + '  introductions = 2,\n}\n', 5, 'unknown field "introductions"')
