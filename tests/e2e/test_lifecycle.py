"""Keeping relationships from stagnating (issue 5): goals and quarterly reviews with trends,
stagnation signals, the re-up window and its defaults, prompts, check-ins, working hours
across time zones, acknowledgements and mentees' requests, in simulate and over the socket."""
import datetime as dt
import os
import tempfile
import unittest
from zoneinfo import ZoneInfo

from tandemtest import EXAMPLE_PEOPLE, Daemon, TandemCase, read_log, run


def ts(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


YEAR = """
tandem.priorities { "development", "inclusion", "career" }
tandem.program {
  name = "core", model = "one_to_one", term = "6mo", cadence = "2w", review_every = "3mo", match_every = "1w",
  mentor = function(p) return p.level >= 7 end,
  mentee = function(p) return p.level <= 5 end,
  score = function(a, b) return 1 + tandem.overlap(a.skills, b.wants) end,
  prompts = { "P1", "P2", "P3" },
  checkins = { "1mo", "3mo" },
  stalled_after = "45d",
  reup_window = "3w",
  hours = "09:00-17:00",
  expectations = "Meet every two weeks and bring one question.",
  training = { "Mentoring 101", "Giving feedback" },
  max_tz_gap = 6,
}
tandem.program {
  name = "flip", model = "reverse", term = "6mo", cadence = "1mo", match_every = "2w",
  mentor = function(p) return p.level <= 4 end,
  mentee = function(p) return p.level >= 8 end,
  score = function(a, b) return 1 end,
  goals_within = "30d",
}
tandem.simulation { attendance = 0.75, spread = 0.9, answer = 0.7 }
"""


class OneSimulation(TandemCase):
    """One simulation of RULES over the example people for DAYS, shared by the class's tests."""
    RULES, DAYS = None, "365"

    @classmethod
    def setUpClass(cls):
        cls._cls_tmp = tempfile.TemporaryDirectory(prefix="tandem-life-")
        rules = os.path.join(cls._cls_tmp.name, "rules.lua")
        with open(rules, "w") as f:
            f.write(cls.RULES)
        state = os.path.join(cls._cls_tmp.name, "state")
        cls.proc = run("simulate", rules, "--people", EXAMPLE_PEOPLE, "--state", state, "--start", "2027-01-01",
                       "--days", cls.DAYS, "--seed", "1", check=0)
        cls.events = read_log(state)

    @classmethod
    def tearDownClass(cls):
        cls._cls_tmp.cleanup()


class SimulatedYear(OneSimulation):
    RULES = YEAR

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.people = {e["person"]["id"]: e["person"] for e in cls.events if e["type"] == "person"}
        cls.matches = {e["match"]: e for e in cls.events if e["type"] == "match" and e["phase"] == "active"}

    def of(self, type_, **kv):
        return [e for e in self.events if e["type"] == type_ and all(e.get(k) == v for k, v in kv.items())]

    def program_of(self, match):
        return self.matches[match]["program"]

    def test_year_ran_clean(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(self.of("rule.error"), [])

    def test_goals_set_and_reviewed_quarterly_with_a_trend(self):
        core = [m for m, e in self.matches.items() if e["program"] == "core"]
        goals = {g["match"] for g in self.of("goal", phase="set")}
        self.assertTrue(set(core) <= goals, "every core match sets a goal")
        reviews = [r for r in self.of("review") if self.program_of(r["match"]) == "core"]
        self.assertGreater(len(reviews), 20)
        for r in reviews:
            start = ts(self.matches[r["match"]]["ts"])
            months = (ts(r["ts"]).year - start.year) * 12 + ts(r["ts"]).month - start.month
            self.assertEqual(months, 3 * r["n"], f"review {r['n']} of match {r['match']} every 3 months")
            self.assertIn(r["trend"]["ratings"], (None, "falling", "steady", "rising"))
            self.assertIn(r["trend"]["goals"], (None, "stalled", "moving"))
        self.assertTrue(any(r["trend"]["goals"] == "stalled" for r in reviews))
        self.assertTrue(any(r["trend"]["ratings"] for r in reviews if r["n"] >= 2))
        # no goal progress in a review period is a built-in signal
        stalled_goals = {(r["match"], r["seq"]) for r in reviews if r["trend"]["goals"] == "stalled"}
        flags = {(f["match"], f["seq"] - 1) for f in self.of("flag", reason="goals_stalled")}
        self.assertTrue(stalled_goals <= flags)

    def test_feedback_both_ways_and_on_the_program(self):
        fb = self.of("feedback")
        self.assertTrue(all(1 <= f["rating"] <= 5 for f in fb))
        on_match = [f for f in fb if "match" in f]
        by_mentor = [f for f in on_match if f["from"] in self.matches[f["match"]]["mentors"]]
        by_mentee = [f for f in on_match if f["from"] in self.matches[f["match"]]["mentees"]]
        self.assertTrue(by_mentor and by_mentee, "feedback flows both ways")
        closed = {c["match"]: c for c in self.of("close")}
        on_program = [f for f in fb if "program" in f]
        self.assertTrue(on_program, "those whose match ends rate the program")
        for f in on_program:
            self.assertTrue(any(f["from"] in self.matches[m]["mentees"] and c["ts"] == f["ts"]
                                for m, c in closed.items()))

    def test_stalled_matches_close_and_idle_ones_are_flagged(self):
        held = {}
        for e in self.of("meeting", phase="held"):
            held.setdefault(e["match"], []).append(ts(e["ts"]))
        stalled = self.of("close", reason="stalled")
        self.assertTrue(stalled, "a year with low attendance closes some matches as stalled")
        for c in stalled:
            after = 45 if self.program_of(c["match"]) == "core" else 90   # stalled_after, or its default
            last = max([ts(self.matches[c["match"]]["ts"])] + held.get(c["match"], []))
            self.assertGreaterEqual(ts(c["ts"]) - last, dt.timedelta(days=after), f"match {c['match']}")
        idle = self.of("flag", reason="no_meetings")
        self.assertTrue(idle)
        for f in idle:
            self.assertTrue(f["signal"])
            last = max([ts(self.matches[f["match"]]["ts"])] + [t for t in held.get(f["match"], []) if t <= ts(f["ts"])])
            cadence = 14 if self.program_of(f["match"]) == "core" else 30
            self.assertGreaterEqual(ts(f["ts"]) - last, dt.timedelta(days=2 * cadence))

    def test_goals_within_flags_matches_without_goals(self):
        flip = [m for m, e in self.matches.items() if e["program"] == "flip"]
        self.assertTrue(flip)
        flagged = {f["match"]: f for f in self.of("flag", reason="no_goals")}
        for m in flip:
            if m in flagged:
                self.assertEqual(ts(flagged[m]["ts"]) - ts(self.matches[m]["ts"]), dt.timedelta(days=30))
        self.assertTrue(flagged)
        core = {m for m, e in self.matches.items() if e["program"] == "core"}
        self.assertFalse(core & set(flagged), "core sets no goals_within")

    def test_reup_window_defaults_and_both_outcomes(self):
        opened = {(e["match"], e["term_ends"]): e for e in self.of("reup", phase="open")
                  if self.program_of(e["match"]) == "core"}
        decided = self.of("reup", phase="decided")
        self.assertTrue(opened and decided)
        for (m, term_ends), e in opened.items():
            self.assertEqual(ts(term_ends) - ts(e["ts"]), dt.timedelta(weeks=3), "the window opens 3w before")
        outcomes = {d["outcome"] for d in decided}
        self.assertEqual(outcomes, {"renew", "close"})
        self.assertTrue([d for d in decided if d.get("defaulted")], "someone never answered")
        for d in decided:
            for who in d.get("defaulted", []):
                self.assertEqual(d["decisions"][who], "exit", "reup_default close: silence is an exit")
            if d["outcome"] == "renew":
                self.assertTrue(all(v == "renew" for v in d["decisions"].values()))

    def test_prompts_rotate_on_scheduled_meetings(self):
        seen = {}
        for e in self.of("meeting", phase="scheduled"):
            if self.program_of(e["match"]) == "core" and not e.get("rescheduled"):
                seen.setdefault(e["match"], []).append(e["prompt"])
        self.assertTrue(seen)
        for m, prompts in seen.items():
            self.assertEqual(prompts, [("P1", "P2", "P3")[i % 3] for i in range(len(prompts))], f"match {m}")
        for e in self.of("meeting", phase="held"):
            if self.program_of(e["match"]) == "core":
                self.assertIn(e["prompt"], ("P1", "P2", "P3"))

    def test_checkins_at_one_and_three_months(self):
        checkins = self.of("checkin")
        self.assertTrue(checkins)
        for c in checkins:
            start = ts(self.matches[c["match"]]["ts"])
            self.assertEqual(c["after"], ["1mo", "3mo"][c["n"] - 1])
            months = (ts(c["ts"]).year - start.year) * 12 + ts(c["ts"]).month - start.month
            self.assertEqual(months, [1, 3][c["n"] - 1])

    def test_meetings_inside_every_partys_working_hours(self):
        checked = 0
        for e in self.of("meeting", phase="scheduled"):
            m = self.matches[e["match"]]
            zones = [self.people[p].get("timezone") for p in m["mentors"] + m["mentees"]]
            if e.get("rescheduled") or any(z is None for z in zones):
                continue
            if e.get("outside_hours"):   # no common working hour within two weeks: said, not hidden
                continue
            at = ts(e["at"])
            for z in zones:
                local = at.astimezone(ZoneInfo(z))
                end = local + dt.timedelta(hours=1)
                self.assertLess(local.weekday(), 5, f"{e} on a weekend in {z}")
                self.assertGreaterEqual(local.hour, 9, f"{e} before 09:00 in {z}")
                self.assertLessEqual((end.hour, end.minute), (17, 0), f"{e} past 17:00 in {z}")
                self.assertEqual(end.date(), local.date())
            checked += 1
        self.assertGreater(checked, 500)
        core_outside = [e for e in self.of("meeting", phase="scheduled")
                        if e.get("outside_hours") and self.program_of(e["match"]) == "core"]
        self.assertLess(len(core_outside), checked / 50, "max_tz_gap 6 leaves common hours nearly always")

    def test_max_tz_gap_and_expectations_in_the_match(self):
        for m, e in self.matches.items():
            if e["program"] != "core":
                self.assertNotIn("expectations", e)
                continue
            self.assertEqual(e["expectations"], "Meet every two weeks and bring one question.")
            self.assertEqual(e["training"], ["Mentoring 101", "Giving feedback"])
            at = ts(e["ts"])
            offsets = [at.astimezone(ZoneInfo(self.people[p]["timezone"])).utcoffset()
                       for p in e["mentors"] + e["mentees"] if self.people[p].get("timezone")]
            self.assertLessEqual(max(offsets) - min(offsets), dt.timedelta(hours=6), f"match {m}")


RULE_ACTIONS = """
tandem.program {
  name = "core", model = "one_to_one", term = "6mo", cadence = "2w", review_every = "1mo",
  mentor = function(p) return p.level >= 7 end, mentee = function(p) return p.level <= 5 end,
  score = function(a, b) return 1 end,
  reup_default = "renew", on_stalled = "flag", stalled_after = "30d",
}
tandem.on("reup", function(ev)
  if ev.phase == "open" and ev.match % 2 == 0 then tandem.renew(ev.match) end
end)
tandem.on("meeting", function(ev)
  if ev.phase == "held" then tandem.prompt(ev.match, "Rule prompt " .. ev.match) end
  if ev.phase == "scheduled" and not ev.rescheduled and ev.match % 3 == 0 then tandem.schedule(ev.match, "1d") end
end)
tandem.simulation { answer = 0, attendance = 0.4 }
"""

ACKS = """
tandem.program {
  name = "core", model = "one_to_one", term = "6mo", cadence = "2w",
  mentor = function(p) return p.level >= 7 end, mentee = function(p) return p.level <= 5 end,
  score = function(a, b) return 1 end,
  acknowledge = true, expectations = "Be on time.", stalled_after = "60d",
}
tandem.simulation { ack = 0.8, spread = 0 }
"""

REQUESTS = """
tandem.program {
  name = "pick", model = "one_to_one", term = "6mo", cadence = "2w", match_every = "1y",
  respond_within = "3d",
  mentor = function(p) return p.level >= 7 end, mentee = function(p) return p.level <= 5 end,
  score = function(a, b) return nil end,    -- no tick ever matches: requests are the only way
}
tandem.on("enroll", function(ev)
  if ev.role ~= "mentee" then return end
  local me = tandem.person(ev.person)
  local choice = {}
  for _, m in ipairs(tandem.people { program = "pick", role = "mentor" }) do
    -- senior people head many reporting lines: ask mid-level mentors from other departments
    if #choice < 3 and m.level <= 9 and m.department ~= me.department then choice[#choice + 1] = m.id end
  end
  if #choice > 0 then tandem.request(ev.person, "pick", choice) end
end)
tandem.simulation { answer = 0.6, accept = 0.5 }
"""


class RuleActions(OneSimulation):
    """tandem.renew, tandem.prompt and tandem.schedule from handlers; reup_default renew and
    on_stalled flag."""
    RULES, DAYS = RULE_ACTIONS, "300"

    def test_ran_clean(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual([e for e in self.events if e["type"] == "rule.error"], [])

    def test_renew_by_rule_and_renew_by_default(self):
        opened = {}
        by_rule = by_default = 0
        for e in self.events:
            if e["type"] == "reup" and e["phase"] == "open":
                opened[e["match"]] = e
            elif e["type"] == "reup" and e["phase"] == "decided":
                self.assertEqual(e["outcome"], "renew", e)
                o = opened.pop(e["match"])
                if e["match"] % 2 == 0:   # the rule renewed as the window opened
                    self.assertEqual((e["ts"], e.get("defaulted")), (o["ts"], None))
                    by_rule += 1
                else:                     # nobody answered (answer = 0): reup_default renew at term end
                    self.assertEqual(e["ts"], o["term_ends"])
                    self.assertEqual(sorted(e["defaulted"]), sorted(e["decisions"]))
                    by_default += 1
        self.assertTrue(by_rule and by_default, (by_rule, by_default))

    def test_prompt_chosen_by_a_rule_reaches_the_next_meeting(self):
        pending, checked = {}, 0
        for e in self.events:
            if e["type"] == "prompt":
                self.assertIn("rule", e)
                pending[e["match"]] = e["text"]
            elif e["type"] == "meeting" and e["phase"] in ("held", "missed") and e["match"] in pending:
                self.assertEqual(e["prompt"], pending.pop(e["match"]))
                checked += 1
        self.assertGreater(checked, 50)

    def test_schedule_by_a_rule_moves_the_meeting(self):
        moved = {}
        for e in self.events:
            if e["type"] == "meeting" and e.get("rescheduled"):
                self.assertEqual(e["match"] % 3, 0)
                self.assertEqual(ts(e["at"]) - ts(e["ts"]), dt.timedelta(days=1))
                moved[e["match"]] = e["at"]
            elif e["type"] == "meeting" and e["phase"] in ("held", "missed") and e["match"] in moved:
                self.assertEqual(e["at"], moved.pop(e["match"]), "the meeting happens at its new time")
        self.assertTrue([e for e in self.events if e.get("rescheduled")])

    def test_on_stalled_flag_flags_instead_of_closing(self):
        self.assertFalse([e for e in self.events if e["type"] == "close" and e["reason"] == "stalled"])
        stalled = [e for e in self.events if e["type"] == "flag" and e["reason"] == "stalled"]
        self.assertTrue(stalled)
        self.assertTrue(all(f["signal"] for f in stalled))


class SimulatedAcksAndRequests(TandemCase):
    def test_first_meeting_waits_for_every_acknowledgement(self):
        _, state = self.simulate(rules=self.write("acks.lua", ACKS), days="200")
        events = read_log(state)
        acks, first_meeting, parties, started = {}, {}, {}, {}
        for e in events:
            if e["type"] == "match" and e["phase"] == "active":
                started[e["match"]] = ts(e["ts"])
                self.assertTrue(e["acknowledge"])
                self.assertEqual(e["expectations"], "Be on time.")
                parties[e["match"]] = set(e["mentors"] + e["mentees"])
            elif e["type"] == "ack":
                acks.setdefault(e["match"], set()).add(e["person"])
            elif e["type"] == "meeting" and e["phase"] == "scheduled":
                first_meeting.setdefault(e["match"], acks.get(e["match"], set()).copy())
        self.assertTrue(acks)
        for m, acked in first_meeting.items():
            self.assertEqual(acked, parties[m], f"match {m} met before all acknowledged")
        end = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=200 - 61)
        never = [m for m in parties if acks.get(m, set()) != parties[m] and started[m] < end]
        self.assertTrue(never, "with ack = 0.8 some never acknowledge")
        closes = {e["match"]: e["reason"] for e in events if e["type"] == "close"}
        for m in never:
            self.assertNotIn(m, first_meeting)
            self.assertEqual(closes.get(m), "stalled", f"match {m} without acknowledgements stalls")

    def test_requests_are_answered_moved_or_expire(self):
        _, state = self.simulate(rules=self.write("req.lua", REQUESTS), days="60")
        events = read_log(state)
        opened = {e["request"]: e for e in events if e["type"] == "request" and e["phase"] == "open"}
        self.assertTrue(opened)
        phases = {e["phase"] for e in events if e["type"] == "request"}
        self.assertTrue({"accepted", "moved", "expired"} <= phases, phases)
        asked = {r: (ts(e["ts"]), e["to"]) for r, e in opened.items()}
        matches = {e["match"]: e for e in events if e["type"] == "match"}
        for e in events:
            if e["type"] != "request" or e["phase"] == "open":
                continue
            since, who = asked[e["request"]]
            self.assertLessEqual(ts(e["ts"]) - since, dt.timedelta(days=3), "answered or moved in respond_within")
            self.assertEqual(e.get("from", e.get("by")), who, "the mentor asked now answers")
            if e["phase"] == "moved":
                asked[e["request"]] = (ts(e["ts"]), e["to"])
                if e["reason"] == "no answer":
                    self.assertEqual(ts(e["ts"]) - since, dt.timedelta(days=3))
            elif e["phase"] == "accepted":
                m = matches[e["match"]]
                self.assertEqual(m["mentors"], [who])
                self.assertEqual(m["mentees"], [opened[e["request"]]["person"]])
        # no match outside requests (the score never allows one)
        accepted = {e["match"] for e in events if e["type"] == "request" and e["phase"] == "accepted"}
        self.assertEqual(set(matches), accepted)


DAEMON_RULES = """
tandem.priorities { "development", "career" }
tandem.program {
  name = "core", model = "reverse", term = "6mo", cadence = "2w",
  mentor = function(p) return p.tags.mentor end, mentee = function(p) return p.tags.mentee end,
  score = function(a, b) return 1 end,
  acknowledge = true, expectations = "Be kind.", training = { "Reverse mentoring basics" },
  prompts = { "First prompt", "Second prompt" },
}
tandem.program {
  name = "pick", model = "one_to_one", term = "6mo", cadence = "2w", match_every = "1y",
  mentor = function(p) return p.tags.mentor end, mentee = function(p) return p.tags.picker end,
  score = function(a, b) return nil end,
}
tandem.program {
  name = "near", model = "one_to_one", term = "6mo", cadence = "2w", match_every = "1y", max_tz_gap = 3,
  mentor = function(p) return p.tags.mentor end, mentee = function(p) return p.tags.picker end,
  score = function(a, b) return nil end,
}
"""

DAEMON_PEOPLE = """id,level,timezone,tags,plan
m1,2,Europe/Berlin,mentor,
m2,3,Europe/Berlin,mentor,
m3,3,America/New_York,mentor,
e1,9,Europe/London,mentee,Lead the platform team
e2,8,Europe/Paris,picker,Move into product
"""


class OverTheSocket(TandemCase):
    def setUp(self):
        super().setUp()
        self.d = Daemon(self.write("rules.lua", DAEMON_RULES), self.path("state"),
                        people=self.write("people.csv", DAEMON_PEOPLE))

    def ok(self, cmd):
        r = self.d.send(cmd)
        self.assertTrue(r.get("ok"), r)
        return r["events"]

    def refused(self, cmd, text):
        r = self.d.send(cmd)
        self.assertFalse(r.get("ok"), r)
        self.assertIn(text, r["error"])

    def test_ack_prompt_reschedule_goal(self):
        log = read_log(self.path("state"))
        match = next(e for e in log if e["type"] == "match" and e["program"] == "core")
        self.assertEqual((match["mentees"], match["training"]), (["e1"], ["Reverse mentoring basics"]))
        mid = match["match"]
        self.assertFalse([e for e in log if e["type"] == "meeting"], "no meeting before the acknowledgements")
        self.assertEqual([e["type"] for e in self.ok({"cmd": "ack", "match": mid, "person": "e1"})], ["ack"])
        self.refused({"cmd": "ack", "match": mid, "person": "e1"}, "acknowledged already")
        self.refused({"cmd": "ack", "match": mid, "person": "e2"}, "not a party")
        ev = self.ok({"cmd": "ack", "match": mid, "person": match["mentors"][0]})
        self.assertEqual([(e["type"], e.get("phase")) for e in ev], [("ack", None), ("meeting", "scheduled")])
        self.assertEqual(ev[1]["prompt"], "First prompt")
        ev = self.ok({"cmd": "prompt", "match": mid, "text": "What surprised you?"})
        self.assertEqual(ev[0]["type"], "prompt")
        ev = self.ok({"cmd": "meeting.reschedule", "match": mid, "at": "3d"})
        self.assertTrue(ev[0]["rescheduled"])
        self.assertEqual(ev[0]["prompt"], "What surprised you?")
        self.refused({"cmd": "meeting.reschedule", "match": mid, "at": "2001-01-01T00:00:00Z"}, "in the past")
        ev = self.ok({"cmd": "meeting.held", "match": mid})
        self.assertEqual(ev[0]["prompt"], "What surprised you?")
        self.assertEqual(ev[1]["prompt"], "Second prompt", "the next meeting carries the next prompt")
        ev = self.ok({"cmd": "goal.set", "match": mid, "text": "Ship a tool", "priority": "career"})
        self.assertEqual((ev[0]["priority"], ev[0]["plan"]), ("career", {"e1": "Lead the platform team"}))
        self.refused({"cmd": "goal.set", "match": mid, "text": "x", "priority": "fun"}, "priorities")
        # the ctl words too
        p = run("ctl", "--state", self.path("state"), "prompt", "--match", str(mid), "--text", "From ctl", check=0)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.d.stop(), 0)

    def test_request_declined_moves_then_accepted(self):
        ev = self.ok({"cmd": "request", "person": "e2", "program": "pick", "mentors": ["m2", "m3"]})
        self.assertEqual((ev[0]["phase"], ev[0]["to"], ev[0]["request"]), ("open", "m2", 1))
        self.refused({"cmd": "request", "person": "e2", "program": "pick", "mentors": ["m1"]}, "request open")
        self.refused({"cmd": "request", "person": "e1", "program": "pick", "mentors": ["m1"]}, "not enrolled")
        self.refused({"cmd": "request.accept", "request": 1, "person": "m3"}, "another mentor")
        ev = self.ok({"cmd": "request.decline", "request": 1, "person": "m2"})
        self.assertEqual((ev[0]["phase"], ev[0]["from"], ev[0]["to"], ev[0]["reason"]),
                         ("moved", "m2", "m3", "declined"))
        p = run("ctl", "--state", self.path("state"), "request", "accept", "--request", "1", "--person", "m3",
                check=0)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        log = read_log(self.path("state"))
        match = [e for e in log if e["type"] == "match" and e["program"] == "pick"]
        self.assertEqual([(m["mentors"], m["mentees"]) for m in match], [(["m3"], ["e2"])])
        accepted = [e for e in log if e["type"] == "request" and e["phase"] == "accepted"]
        self.assertEqual(accepted[0]["match"], match[0]["match"])
        self.refused({"cmd": "request.withdraw", "request": 1}, "no open request")
        self.assertEqual(self.d.stop(), 0)

    def test_request_withdrawn_and_max_tz_gap_and_reup_renew(self):
        ev = self.ok({"cmd": "request", "person": "e2", "program": "pick", "mentors": "m2;m3"})
        ev = self.ok({"cmd": "request.withdraw", "request": ev[0]["request"]})
        self.assertEqual((ev[0]["phase"], ev[0]["program"]), ("withdrawn", "pick"))
        self.refused({"cmd": "request.decline", "request": 1}, "no open request")
        self.ok({"cmd": "request", "person": "e2", "program": "pick", "mentors": "m3"})   # may ask again
        # New York (m3) to Paris (e2) is 6 hours: more than near's max_tz_gap 3
        self.refused({"cmd": "match.propose", "program": "near", "mentors": "m3", "mentees": "e2"}, "max_tz_gap")
        ev = self.ok({"cmd": "match.propose", "program": "near", "mentors": "m2", "mentees": "e2"})
        self.assertEqual(ev[0]["type"], "match")
        p = run("ctl", "--state", self.path("state"), "reup", "renew", "--match", str(ev[0]["match"]), check=1)
        self.assertIn("no re-up is open", p.stdout + p.stderr)
        self.assertEqual(self.d.stop(), 0)


class LifecycleFieldErrors(TandemCase):
    def check(self, field_line, expect):
        rules = self.write("bad.lua", 'tandem.program {\n  name = "core",\n  model = "one_to_one",\n'
                           + field_line + "\n}\n")
        p = run("check", rules, check=1)
        self.assertIn(f"{rules}:4:", p.stderr)
        self.assertIn(expect, p.stderr)

    def test_bad_fields_name_their_line(self):
        self.check('  hours = "9-17",', "hours must be local working hours")
        self.check('  on_stalled = "maybe",', 'on_stalled must be "close" or "flag"')
        self.check('  checkins = { "1x" },', "checkins")
        self.check('  max_tz_gap = 40,', "max_tz_gap must be a whole number of hours")
        self.check('  stalled_after = 3,', "stalled_after must be a duration")


if __name__ == "__main__":
    unittest.main()
