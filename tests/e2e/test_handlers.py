"""Handlers with a filter, through the binary: tandem.on(event, filter, fn) runs for the events
whose fields equal the filter's and for no other; a filter naming no field of the event is a
load error at its FILE:LINE."""
import collections

from tandemtest import TandemCase, read_log, run

RULES = '''local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one", cadence = "1w" }
tandem.on("meeting", { phase = "missed" }, function(ev) tandem.note("missed", { match = ev.match }) end)
tandem.on("meeting", { phase = { "held", "cancelled" } }, function(ev)
  tandem.note("held or cancelled", { match = ev.match, phase = ev.phase })
end)
tandem.on("meeting", function(ev) tandem.note("any", { phase = ev.phase }) end)
tandem.program { name = "circles", model = "group", review_every = "1mo",
                 mentor = function(p) return (p.level or 0) >= 6 end, mentee = function(p) return (p.level or 9) <= 5 end }
tandem.on("review", { program = "circles" }, function(ev) tandem.note("circles review", { match = ev.match }) end)
tandem.on("review", { model = "one_to_one" }, function(ev) tandem.note("one_to_one review", { match = ev.match }) end)
tandem.simulation { attendance = 0.6 }
'''


class Filters(TandemCase):
    def test_a_filtered_handler_runs_for_its_events_only(self):
        _, state = self.simulate(rules=self.write("rules.lua", RULES), days="120")
        events = read_log(state)
        meetings = collections.Counter(e["phase"] for e in events if e["type"] == "meeting")
        notes = [e for e in events if e["type"] == "note"]
        by_text = collections.Counter(n["text"] for n in notes)
        self.assertGreater(meetings["missed"], 0, "the run must miss some meetings to test anything")
        self.assertGreater(meetings["held"], 0)
        self.assertEqual(by_text["missed"], meetings["missed"])
        self.assertEqual(by_text["held or cancelled"], meetings["held"] + meetings["cancelled"])
        self.assertEqual(by_text["any"], sum(meetings.values()))
        self.assertEqual({n["fields"]["phase"] for n in notes if n["text"] == "held or cancelled"},
                         {p for p in ("held", "cancelled") if meetings[p]})
        # each missed meeting's note names its match, in the log's order
        missed = [e["match"] for e in events if e["type"] == "meeting" and e["phase"] == "missed"]
        self.assertEqual([n["fields"]["match"] for n in notes if n["text"] == "missed"], missed)

    def test_a_filter_on_program_or_model_takes_the_program_of_the_events_match(self):
        _, state = self.simulate(rules=self.write("rules.lua", RULES), days="120")
        events = read_log(state)
        program_of = {e["match"]: e["program"] for e in events if e["type"] == "match" and "program" in e}
        reviews = collections.defaultdict(list)
        for e in events:
            if e["type"] == "review":
                reviews[program_of[e["match"]]].append(e["match"])
        self.assertTrue(reviews["circles"] and reviews["core"], "both programs must have reviews")
        for text, program in (("circles review", "circles"), ("one_to_one review", "core")):
            self.assertEqual([n["fields"]["match"] for n in events if n["type"] == "note" and n["text"] == text],
                             reviews[program], text)

    def test_a_filter_on_a_field_the_event_lacks_is_refused_at_its_line(self):
        rules = self.write("bad.lua", 'local tandem = require "tandem"\n'
                           'tandem.program { name = "core", model = "one_to_one" }\n'
                           'tandem.on("review", { meetings_hled = 0 }, function(ev) end)\n')
        p = run("check", rules, check=1)
        self.assertIn(f"{rules}:3:", p.stderr)
        self.assertIn('review events have no field "meetings_hled"', p.stderr)
        self.assertIn('did you mean "meetings_held"?', p.stderr)
