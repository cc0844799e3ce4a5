"""Bad rule files and bad CSV rows through the binary: clear FILE:LINE errors, nothing lost."""
import os
import shutil

from tandemtest import EXAMPLE_PEOPLE, EXAMPLE_RULES, ROOT, TandemCase, read_log, run

GOOD = """local tandem = require "tandem"
tandem.program {
  name = "core",
  model = "one_to_one",
}
"""


class CheckRules(TandemCase):
    def check_error(self, text, line, fragment):
        path = self.write("rules.lua", text)
        p = run("check", path, check=1)
        self.assertIn(f"{path}:{line}: ", p.stderr)
        self.assertIn(fragment, p.stderr)
        return p

    def test_example_is_valid(self):
        p = run("check", EXAMPLE_RULES, check=0)
        self.assertIn("core (one_to_one)", p.stdout)

    def test_minimal_program_uses_model_defaults(self):
        p = run("check", self.write("rules.lua", GOOD), check=0)
        self.assertIn("1 program", p.stdout)

    def test_unknown_field(self):
        self.check_error(GOOD.replace('model = "one_to_one",', 'model = "one_to_one",\n  cadance = "2w",'),
                         5, 'unknown field "cadance"')

    def test_unknown_model(self):
        self.check_error(GOOD.replace("one_to_one", "one_to_oen"), 4, 'unknown model "one_to_oen"')

    def test_bad_duration(self):
        self.check_error(GOOD.replace('model = "one_to_one",', 'model = "one_to_one", cadence = "2 weeks",'),
                         4, 'cadence: bad duration "2 weeks"')

    def test_model_validates_its_term(self):
        self.check_error(GOOD.replace('model = "one_to_one",', 'model = "one_to_one", term = "2y",'),
                         4, 'term must be from "6mo" to "1y"')

    def test_unknown_event(self):
        self.check_error(GOOD + 'tandem.on("meting", function(ev) end)\n', 6, 'unknown event "meting"')

    def test_syntax_error(self):
        self.check_error(GOOD + "tandem.on(\n", 7, "unexpected symbol")

    def test_runtime_error_at_load(self):
        self.check_error(GOOD + "local x = nil\nprint(x.y)\n", 7, "attempt to index")

    def test_too_many_priorities(self):
        self.check_error('tandem.priorities { "a", "b", "c", "d" }\n' + GOOD, 1, "one to three priorities")

    def test_sandbox_doors_closed_at_load(self):
        for line in ('io.open("/etc/passwd")', 'os.execute("true")', 'require "os"',
                     'dofile("/etc/passwd")', 'string.dump(print)', 'debug.getinfo(1)',
                     'load(string.char(27) .. "Lua")()'):
            with self.subTest(line=line):
                path = self.write("rules.lua", GOOD + line + "\n")
                p = run("check", path, check=1)
                self.assertIn(f"{path}:6: ", p.stderr)

    def test_binary_chunk_refused(self):
        path = self.write("rules.lua", "\x1bLua\x54\x00 not text", mode="w")
        p = run("check", path, check=1)
        self.assertIn("must be Lua text", p.stderr)

    def test_no_program(self):
        p = run("check", self.write("rules.lua", 'tandem.priorities { "career" }\n'), check=1)
        self.assertIn("declares no program", p.stderr)

    def test_missing_file(self):
        p = run("check", self.path("nope.lua"), check=1)
        self.assertIn("nope.lua", p.stderr)

    def test_require_finds_modules_only_in_rules_folders(self):
        self.write("lib/helpers.lua", "return { answer = function() return 42 end }\n")
        ok = self.write("rules.lua", 'local h = require "lib.helpers"\nassert(h.answer() == 42)\n' + GOOD)
        run("check", ok, check=0)
        bad = self.write("rules.lua", 'require "..secret"\n' + GOOD)
        run("check", bad, check=1)


class PeopleImport(TandemCase):
    HEADER = "id,name,department,level,capacity,manager,timezone\n"

    def test_bad_rows_named_and_refused(self):
        csv = self.write("people.csv", self.HEADER +
                         "a1,Ann,Sales,7,2,,Europe/Berlin\n"
                         "a2,Bob,Sales,3.0,1,a1,Europe/Berlin\n"
                         "a 3,Cy,Sales,3,1,a1,Europe/Berlin\n"
                         "a4,Di,Sales,3,1,a1,Mars/Olympus\n"
                         "a1,Ed,Sales,3,1,,Europe/Berlin\n"
                         "a5,Flo,Eng,2,1,a1,Europe/Berlin\n")
        p, state = self.simulate(rules=self.write("r.lua", GOOD), people=csv, days="30", check=1)
        for line in (3, 4, 5, 6):
            self.assertIn(f"{csv}:{line}: ", p.stderr)
        self.assertIn("took 2 people, refused 4", p.stderr)
        self.assertIn("--lenient", p.stderr)

    def test_lenient_takes_the_good_rows(self):
        csv = self.write("people.csv", self.HEADER + "a1,Ann,Sales,7,2,,\nb,Bob,Eng,0,1,,\nc1,Cy,Eng,2,1,,\n")
        p, state = self.simulate(rules=self.write("r.lua", GOOD), people=csv, days="30", extra=["--lenient"])
        self.assertIn(f"{csv}:3: ", p.stderr)
        ids = [e["person"]["id"] for e in read_log(state) if e["type"] == "person"]
        self.assertEqual(ids, ["a1", "c1"])
        matches = [e for e in read_log(state) if e["type"] == "match"]
        self.assertEqual([(m["mentors"], m["mentees"]) for m in matches], [(["a1"], ["c1"])])

    def test_bom_crlf_quotes_and_newlines(self):
        text = ("\ufeffid,name,level,plan,skills\r\n"
                'm1,"Ruiz, Ana",8,"line one\r\nline two",sql;go\r\n'
                'e1,"Ed ""Quick"" Doe",2,,\r\n')
        csv = self.write("people.csv", text)
        p, state = self.simulate(rules=self.write("r.lua", GOOD), people=csv, days="7")
        people = {e["person"]["id"]: e["person"] for e in read_log(state) if e["type"] == "person"}
        self.assertEqual(people["m1"]["name"], "Ruiz, Ana")
        self.assertEqual(people["m1"]["plan"], "line one\r\nline two")
        self.assertEqual(people["m1"]["skills"], ["go", "sql"])
        self.assertEqual(people["e1"]["name"], 'Ed "Quick" Doe')

    def test_missing_people_file(self):
        p, _ = self.simulate(rules=self.write("r.lua", GOOD), people=self.path("none.csv"), check=1)
        self.assertIn("none.csv", p.stderr)


class RuleErrorsAtRunTime(TandemCase):
    def test_failing_handler_logged_and_engine_goes_on(self):
        rules = self.write("r.lua", GOOD + """
tandem.on("match", function(ev)
  tandem.flag(ev.match, "should never land")
  error("boom")
end)
tandem.on("review", function(ev)
  while true do pcall(function() while true do end end) end
end)
tandem.on("meeting", function(ev)
  if ev.phase == "held" then tandem.note("held", { deep = setmetatable({}, {}) }) end
end)
""")
        p, state = self.simulate(rules=rules, days="120")
        events = read_log(state)
        errors = [e for e in events if e["type"] == "rule.error"]
        self.assertTrue(any(e["message"] == "boom" and e["rule"] == f"{rules}:9" for e in errors), errors[:3])
        self.assertFalse([e for e in events if e["type"] == "flag" and "rule" in e],
                         "a failed handler's actions were applied")
        budget = [e for e in errors if e["message"] == "instruction budget exceeded"]
        self.assertTrue(budget and all(e["rule"].startswith(f"{rules}:") for e in budget))
        for e in errors:
            cause = events[e["cause"] - 1]
            self.assertLess(cause["seq"], e["seq"])
        self.assertTrue([e for e in events if e["type"] == "review"], "reviews went on")
        self.assertTrue([e for e in events if e["type"] == "note"])
        self.assertIn("rule errors", p.stdout)

    def test_cascade_is_bounded(self):
        rules = self.write("r.lua", GOOD + """
tandem.on("flag", function(ev) if ev.rule then tandem.flag(ev.match, "again") end end)
tandem.on("match", function(ev) tandem.flag(ev.match, "first") end)
""")
        p, state = self.simulate(rules=rules, days="3")
        events = read_log(state)
        flags = [e for e in events if e["type"] == "flag" and not e.get("signal")]
        matches = [e for e in events if e["type"] == "match"]
        self.assertTrue(matches)
        self.assertEqual(len(flags), 8 * len(matches))
        cascade = [e for e in events if e["type"] == "rule.error" and "cascade" in e["message"]]
        self.assertEqual(len(cascade), len(matches))


class Verbs(TandemCase):
    def test_help_for_every_verb(self):
        for verb in ("check", "simulate", "tail", "report"):
            with self.subTest(verb=verb):
                p = run(verb, "--help", check=0)
                self.assertIn(f"usage: tandem {verb}", p.stdout)
        self.assertIn("usage: tandem VERB", run("--help", check=0).stdout)
        self.assertEqual(run(check=2).returncode, 2)
        self.assertEqual(run("frobnicate", check=2).returncode, 2)
        self.assertEqual(run("simulate", EXAMPLE_RULES, check=2).returncode, 2)
        self.assertEqual(run("simulate", EXAMPLE_RULES, "--people", EXAMPLE_PEOPLE, "--days", "x",
                             check=2).returncode, 2)
