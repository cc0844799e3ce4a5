"""The declarative prefilter: C keeps only candidate pairs before any Lua score call."""
from tandemtest import TandemCase, read_log, run

RULES = """
calls = 0
tandem.program {{
  name = "core", model = "one_to_one", match_every = "1y",
  {prefilter}
  score = function(m, e) calls = calls + 1 return 1 + tandem.overlap(m.skills, e.wants) end,
}}
tandem.on("match", function(ev) if ev.phase == "active" then tandem.note("calls", {{ n = calls }}) end end)
"""


class Prefilter(TandemCase):
    def people(self):
        rows = ["id,level,department,skills,wants,capacity"]
        skills = ["sql", "go", "lua", "c", "design"]
        for i in range(30):
            rows.append(f"m{i},{6 + i % 5},D{i % 3},{skills[i % 5]},,2")
        for i in range(30):
            rows.append(f"e{i},{1 + i % 5},D{i % 4},,{skills[(i * 2) % 5]},1")
        return self.write("people.csv", "\n".join(rows) + "\n")

    def run_with(self, prefilter, state):
        rules = self.write(f"{state}.lua", RULES.format(prefilter=prefilter))
        _, st = self.simulate(rules=rules, people=self.people(), days="1", state=state)
        log = read_log(st)
        people = {e["person"]["id"]: e["person"] for e in log if e["type"] == "person"}
        matches = [e for e in log if e["type"] == "match"]
        calls = max(e["fields"]["n"] for e in log if e["type"] == "note")
        return people, matches, calls

    def test_shared_level_and_department_filters(self):
        _, all_matches, all_calls = self.run_with("", "plain")
        people, matches, calls = self.run_with(
            'prefilter = { shared = { "skills", "wants" }, level_gap = { min = 2, max = 6 }, '
            'department = "different" },', "filtered")
        # Every pair is scored once, and each chosen pair once more for its reasons.
        self.assertEqual(all_calls, 900 + len(all_matches), "without a prefilter every pair is scored")
        self.assertLess(calls, all_calls / 4, "the prefilter cut the score calls")
        self.assertTrue(matches)
        for m in matches:
            mentor, mentee = people[m["mentors"][0]], people[m["mentees"][0]]
            self.assertTrue(set(mentor["skills"]) & set(mentee["wants"]))
            self.assertTrue(2 <= mentor["level"] - mentee["level"] <= 6)
            self.assertNotEqual(mentor["department"], mentee["department"])

    def test_bad_prefilter_is_a_load_error(self):
        path = self.write("bad.lua", 'tandem.program {\n  name = "x", model = "one_to_one",\n'
                                     '  prefilter = { shared = { "skills", "hobbies" } },\n}\n')
        p = run("check", path, check=1)
        self.assertIn(f"{path}:3: ", p.stderr)
        self.assertIn("prefilter.shared", p.stderr)
