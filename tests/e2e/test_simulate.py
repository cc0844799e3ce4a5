"""A simulated year of the example organization, checked against the contract's invariants."""
import collections
import datetime
import filecmp
import json
import os

from tandemtest import EXAMPLE_PEOPLE, EXAMPLE_RULES, TandemCase, read_log, run


def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def add_months(t, n):
    y, m = divmod(t.month - 1 + n, 12)
    y, m = t.year + y, m + 1
    days = [31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return t.replace(year=y, month=m, day=min(t.day, days[m - 1]))


class SimulatedYear(TandemCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._cls_tmp = tempfile.TemporaryDirectory(prefix="tandem-year-")
        cls.state = os.path.join(cls._cls_tmp.name, "state")
        cls.proc = run("simulate", EXAMPLE_RULES, "--people", EXAMPLE_PEOPLE, "--state", cls.state,
                       "--start", "2027-01-01", "--seed", "1", check=0)
        cls.events = read_log(cls.state)

    @classmethod
    def tearDownClass(cls):
        cls._cls_tmp.cleanup()

    @classmethod
    def by_type(cls, type_):
        if not hasattr(cls, "_by_type"):
            cls._by_type = collections.defaultdict(list)
            for e in cls.events:
                cls._by_type[e["type"]].append(e)
        return cls._by_type[type_]

    def of(self, type_, **match):
        return [e for e in self.by_type(type_) if all(e.get(k) == v for k, v in match.items())]

    def test_seq_gapless_ts_ordered(self):
        self.assertEqual([e["seq"] for e in self.events], list(range(1, len(self.events) + 1)))
        stamps = [e["ts"] for e in self.events]
        self.assertEqual(stamps, sorted(stamps))
        self.assertEqual(stamps[0], "2027-01-01T00:00:00Z")
        self.assertLessEqual(stamps[-1], "2028-01-01T00:00:00Z")

    def people(self):
        return {e["person"]["id"]: e["person"] for e in self.of("person", phase="added")}

    def test_everyone_imported_and_enrolled_by_rules(self):
        people = self.people()
        self.assertEqual(len(people), 240)
        roles = {(e["person"], e["program"], e["role"]) for e in self.of("enroll")}
        for pid, p in people.items():
            tags = p.get("tags", [])
            hp, ext = "high_potential" in tags, "external" in tags
            level = p.get("level", 0)
            self.assertEqual((pid, "core", "mentor") in roles, not ext and level >= 6 and not hp, pid)
            self.assertEqual((pid, "core", "mentee") in roles, not ext and level <= 5 and not hp, pid)
            self.assertEqual((pid, "stretch", "mentor") in roles, ext, pid)
            self.assertEqual((pid, "stretch", "mentee") in roles, hp, pid)
            self.assertEqual((pid, "firesides", "leader") in roles, "senior_leader" in tags, pid)
            self.assertEqual((pid, "firesides", "attendee") in roles, not ext and "senior_leader" not in tags, pid)

    def test_matches_respect_eligibility_capacity_and_exclusions(self):
        people = self.people()
        roles = {(e["person"], e["program"], e["role"]) for e in self.of("enroll")}
        side = {"firesides": ("leader", "attendee")}
        chain = {}
        for pid, p in people.items():
            up, cur = set(), p.get("manager")
            while cur and cur not in up:
                up.add(cur)
                cur = people[cur].get("manager")
            chain[pid] = up
        live = {}            # match id -> (program, mentors, mentees)
        seen_pairs = set()
        for e in self.events:
            if e["type"] == "match" and e["phase"] == "active":
                prog, mentors, mentees = e["program"], e["mentors"], e["mentees"]
                lead, led = side.get(prog, ("mentor", "mentee"))
                for mentor in mentors:
                    self.assertIn((mentor, prog, lead), roles)
                    for mentee in mentees:
                        self.assertIn((mentee, prog, led), roles)
                        self.assertNotEqual(mentor, mentee)
                        self.assertNotIn(mentor, chain[mentee], "mentor in the mentee's reporting line")
                        self.assertNotIn(mentee, chain[mentor], "mentee above the mentor")
                        if prog != "firesides":   # sessions may be attended again
                            self.assertNotIn((prog, mentor, mentee), seen_pairs, "same pair twice in a program")
                        seen_pairs.add((prog, mentor, mentee))
                for m in live.values():
                    self.assertFalse(m[0] == prog and set(m[2]) & set(mentees), f"{mentees} matched twice in {prog}")
                live[e["match"]] = (prog, mentors, mentees)
                if prog in ("core", "stretch"):
                    load = sum(1 for m in live.values() if m[0] == prog and m[1] == mentors)
                    self.assertLessEqual(load, people[mentors[0]].get("capacity", 1), f"{mentors} over capacity")
                    self.assertIsInstance(e["why"], dict)
                    self.assertIn("skills", e["why"])
                if prog == "circles":
                    self.assertLessEqual(len(mentees), 4)
                    depts = [people[x].get("department") for x in mentees]
                    self.assertEqual(len(depts), len(set(depts)), "a circle shares a department")
                if prog == "flip":
                    self.assertLess(people[mentors[0]]["level"], people[mentees[0]]["level"])
            elif e["type"] == "close":
                del live[e["match"]]
        self.assertGreater(len(seen_pairs), 100)
        self.assertEqual({e["program"] for e in self.of("match")},
                         {"core", "stretch", "skills", "circles", "firesides", "flip"}, "every program matched")

    def test_meetings_only_while_live_and_on_cadence(self):
        started, closed, cadence = {}, {}, {"core": 14, "stretch": None}
        programs = {}
        for e in self.events:
            if e["type"] == "match" and e["phase"] == "active":
                started[e["match"]] = ts(e["ts"])
                programs[e["match"]] = e["program"]
            elif e["type"] == "close":
                closed[e["match"]] = ts(e["ts"])
            elif e["type"] == "meeting" and e["phase"] in ("held", "missed"):
                m, at = e["match"], ts(e["ts"])
                self.assertIn(m, started)
                self.assertNotIn(m, closed, "a meeting after the match closed")
                self.assertEqual(e["at"], e["ts"])
                days = (at - started[m]).days
                if cadence.get(programs[m]):
                    # on the cadence's day, or moved up to 3 days into both parties' working hours
                    self.assertLessEqual(days % 14, 3, f"core meets every 2 weeks: match {m} day {days}")
        held = self.of("meeting", phase="held")
        missed = self.of("meeting", phase="missed")
        self.assertGreater(len(held), 1000)
        self.assertGreater(len(missed), 100, "a year shows missed meetings")
        prompts = {e.get("prompt") for e in held if e.get("prompt")}
        self.assertEqual(len(prompts), 4, "core's four prompts rotate")

    def test_a_review_each_quarter(self):
        reviews = collections.defaultdict(list)
        for e in self.of("review"):
            reviews[e["match"]].append(e)
        closes = {e["match"]: ts(e["ts"]) for e in self.of("close")}
        end = ts("2028-01-01T00:00:00Z")
        for e in self.of("match", phase="active"):
            if e["program"] not in ("core", "stretch", "circles", "flip"):
                continue   # their models review on other cadences
            start = ts(e["ts"])
            stop = closes.get(e["match"], end)
            due = [add_months(start, 3 * n) for n in range(1, 5) if add_months(start, 3 * n) <= stop]
            got = [ts(r["ts"]) for r in reviews[e["match"]]]
            self.assertEqual(got, due, f"match {e['match']} reviews")
            for n, r in enumerate(reviews[e["match"]], 1):
                self.assertEqual(r["n"], n)
                for k in ("meetings_held", "meetings_missed", "goals_open", "goals_achieved", "feedback_avg"):
                    self.assertIn(k, r)

    def test_reup_decision_at_term_end(self):
        decided = {}
        for e in self.of("reup", phase="decided"):
            decided.setdefault(e["match"], []).append(e)
        term = {"core": 6, "stretch": 6, "circles": 6, "flip": 6}
        end = ts("2028-01-01T00:00:00Z")
        closes = {e["match"]: e for e in self.of("close")}
        for e in self.of("match", phase="active"):
            if e["program"] not in term:
                continue   # micro and senior_leader have no re-up
            start = ts(e["ts"])
            self.assertEqual(ts(e["term_ends"]), add_months(start, term[e["program"]]))
            first_end = ts(e["term_ends"])
            early = e["match"] in closes and ts(closes[e["match"]]["ts"]) < first_end
            if first_end <= end and not early:
                self.assertIn(e["match"], decided, f"match {e['match']}: no re-up at term end")
                self.assertEqual(ts(decided[e["match"]][0]["ts"]), first_end)
        outcomes = collections.Counter(d["outcome"] for ds in decided.values() for d in ds)
        self.assertGreater(outcomes["renew"], 0)
        self.assertGreater(outcomes["close"], 0)
        for ds in decided.values():
            for d in ds:
                all_renew = all(v == "renew" for v in d["decisions"].values())
                self.assertEqual(d["outcome"], "renew" if all_renew else "close")
                if d["outcome"] == "close":
                    c = closes[d["match"]]
                    self.assertEqual(c["ts"], d["ts"])
                    none = all(v == "exit" for v in d["decisions"].values())
                    self.assertEqual(c["reason"], "completed" if none else "exited")

    def test_exited_mentees_return_to_the_pool(self):
        closes = [e for e in self.of("close") if e["reason"] in ("exited", "completed")]
        active = self.of("match", phase="active")
        matches = {e["match"]: e for e in active}
        last_match_seq = collections.defaultdict(int)
        for e in active:
            for mentee in e["mentees"]:
                last_match_seq[(e["program"], mentee)] = max(last_match_seq[(e["program"], mentee)], e["seq"])
        rematched = 0
        for c in closes:
            m = matches[c["match"]]
            rematched += last_match_seq[(m["program"], m["mentees"][0])] > c["seq"]
        self.assertGreater(rematched, 0, "no mentee was matched again after an exit")

    def test_rules_fire_flags_goals_and_notes(self):
        flags = [f for f in self.of("flag") if not f.get("signal")]
        self.assertGreater(len(flags), 0)
        for f in flags:
            self.assertRegex(f["rule"], r"acme\.lua:\d+$")
        core = {e["match"] for e in self.of("match", phase="active", program="core")}
        goals = [g for g in self.of("goal", phase="set") if g["match"] in core]
        self.assertEqual(len(goals), len(core), "one goal per core match")
        self.assertGreater(len(self.of("goal", phase="achieved")), 0)
        self.assertEqual(len(self.of("note")), sum(1 for e in self.of("reup", phase="decided")
                                                   if e["outcome"] == "renew"))
        self.assertEqual(self.of("rule.error"), [])

    def test_report_from_log_matches_simulate_and_counts(self):
        p = run("report", "--state", self.state, check=0)
        self.assertEqual(p.stdout, self.proc.stdout, "report from the replayed log differs from simulate's")
        j = json.loads(run("report", "--state", self.state, "--format", "json", check=0).stdout)
        t = j["totals"]
        self.assertEqual(t["matches"], len(self.of("match", phase="active")))
        self.assertEqual(t["meetings_held"], len(self.of("meeting", phase="held")))
        self.assertEqual(t["meetings_missed"], len(self.of("meeting", phase="missed")))
        self.assertEqual(t["reviews"], len(self.of("review")))
        self.assertEqual(t["reups_renewed"], len(self.of("reup", outcome="renew")))
        self.assertEqual(t["reups_closed"], len(self.of("reup", outcome="close")))
        self.assertEqual(t["flags"], len(self.of("flag")))
        self.assertEqual(t["rule_errors"], 0)
        self.assertEqual([p["name"] for p in j["programs"]],
                         ["core", "stretch", "skills", "circles", "firesides", "flip"])
        self.assertEqual(j["priorities"], ["development", "inclusion", "career"])
        # Each priority is measured, from the log's own facts.
        bp = {p["priority"]: p["value"] for p in j["by_priority"]}
        self.assertAlmostEqual(bp["development"], len(self.of("goal", phase="achieved")) /
                               len(self.of("goal", phase="set")), places=3)
        people = self.people()
        made = [e for e in self.of("match") if e["phase"] == "active"]
        cross = sum(1 for e in made
                    if len({people[x].get("department") for x in e["mentors"] + e["mentees"]}) > 1)
        self.assertAlmostEqual(bp["inclusion"], cross / len(made), places=3)
        self.assertIn("  inclusion: ", self.proc.stdout)


class Determinism(TandemCase):
    def test_same_seed_same_bytes_other_seed_differs(self):
        _, a = self.simulate(state="a", days="120")
        _, b = self.simulate(state="b", days="120")
        _, c = self.simulate(state="c", days="120", seed="2")
        self.assertTrue(filecmp.cmp(f"{a}/events.jsonl", f"{b}/events.jsonl", shallow=False))
        self.assertFalse(filecmp.cmp(f"{a}/events.jsonl", f"{c}/events.jsonl", shallow=False))

    def test_simulate_never_replaces_a_live_log(self):
        live = self.path("live")
        os.makedirs(live)
        line = '{"seq":1,"ts":"2027-01-01T00:00:00Z","type":"rules","phase":"loaded","clock":"real"}\n'
        self.write("live/events.jsonl", line)
        p, _ = self.simulate(state="live", check=1)
        self.assertIn("live daemon", p.stderr)
        with open(f"{live}/events.jsonl") as f:
            self.assertEqual(f.read(), line)

    def test_a_second_simulation_replaces_the_first(self):
        _, a = self.simulate(state="s", days="30")
        first = len(read_log(a))
        self.simulate(state="s", days="60")
        self.assertGreater(len(read_log(a)), first)
        self.assertEqual(read_log(a)[0]["seq"], 1)


class Approval(TandemCase):
    def test_proposed_matches_wait_for_the_simulated_admin(self):
        rules = self.write("r.lua", 'tandem.program { name = "core", model = "one_to_one", approve = true }\n'
                                    'tandem.simulation { approve = 0.5 }\n')
        rows = ["id,level,department,capacity"] + [f"m{i},8,D{i},4" for i in range(5)] + \
               [f"e{i},3,E,1" for i in range(8)]
        people = self.write("people.csv", "\n".join(rows) + "\n")
        _, state = self.simulate(rules=rules, people=people, days="60")
        events = read_log(state)
        proposed = {e["match"]: e for e in events if e["type"] == "match" and e["phase"] == "proposed"}
        answers = {e["match"]: e for e in events if e["type"] == "match" and e["phase"] in ("approved", "rejected")}
        self.assertTrue(proposed)
        self.assertEqual(set(proposed), set(answers))
        phases = collections.Counter(e["phase"] for e in answers.values())
        self.assertGreater(phases["approved"], 0)
        self.assertGreater(phases["rejected"], 0)
        for mid, a in answers.items():
            self.assertEqual(ts(a["ts"]) - ts(proposed[mid]["ts"]), datetime.timedelta(days=1))
            meetings = [e for e in events if e["type"] == "meeting" and e["match"] == mid]
            if a["phase"] == "rejected":
                self.assertEqual(meetings, [])
            else:
                self.assertTrue(all(e["seq"] > a["seq"] for e in meetings))
                self.assertEqual(a["term_ends"], (add_months(ts(a["ts"]), 6)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        rejected = [proposed[m] for m, a in answers.items() if a["phase"] == "rejected"]
        again = [e for e in proposed.values() for r in rejected
                 if e["seq"] > r["seq"] and e["mentees"] == r["mentees"]]
        self.assertTrue(again, "a rejected mentee is proposed again")
        for r in rejected:
            later = [e for e in proposed.values() if e["seq"] > r["seq"]]
            self.assertFalse([e for e in later if (e["mentors"], e["mentees"]) == (r["mentors"], r["mentees"])],
                             "a rejected pair proposed again")
