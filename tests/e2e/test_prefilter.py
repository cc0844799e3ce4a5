"""The declarative prefilter: C keeps only candidate pairs before any Lua score call."""
from tandemtest import TandemCase, read_log, run

RULES = """
calls, explained = 0, 0
tandem.program {{
  name = "core", model = "one_to_one", match_every = "1y",
  {prefilter}
  score = function(m, e, explain)
    calls = calls + 1
    if explain then explained = explained + 1 end
    return 1 + tandem.overlap(m.skills, e.wants)
  end,
}}
tandem.on("match", function(ev)
  if ev.phase == "active" then tandem.note("calls", {{ n = calls, explained = explained }}) end
end)
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
        # Every pair is scored once, and each chosen pair once more for its reasons (explain).
        self.assertEqual(all_calls, 900 + len(all_matches), "without a prefilter every pair is scored")
        explained = max(e["fields"]["explained"] for e in read_log(self.path("plain")) if e["type"] == "note")
        self.assertEqual(explained, len(all_matches), "explain is true for the chosen pairs only")
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

    def test_limit_scores_at_most_that_many_mentors_per_mentee(self):
        _, matches, calls = self.run_with("prefilter = { limit = 5 },", "limited")
        # 30 mentees, 5 mentors each (all 30 pass every other filter), and the chosen pairs
        # once more for their reasons.
        self.assertEqual(calls, 30 * 5 + len(matches))
        self.assertGreaterEqual(len(matches), 25, "five candidates each still match most mentees")

    def test_prefer_scores_the_mentors_sharing_most_first(self):
        # The score prefers mentors who share nothing (10 against 1): only prefer's ranking
        # can make every match one that shares a skill.
        rules = self.write("prefer.lua", RULES.format(prefilter='prefilter = { prefer = { "skills", "wants" }, limit = 2 },')
                           .replace("return 1 + tandem.overlap(m.skills, e.wants)",
                                    "return tandem.overlap(m.skills, e.wants) > 0 and 1 or 10"))
        _, st = self.simulate(rules=rules, people=self.people(), days="1", state="prefer")
        log = read_log(st)
        people = {e["person"]["id"]: e["person"] for e in log if e["type"] == "person"}
        matches = [e for e in log if e["type"] == "match"]
        calls = max(e["fields"]["n"] for e in log if e["type"] == "note")
        self.assertEqual(calls, 30 * 2 + len(matches))
        self.assertGreaterEqual(len(matches), 25)
        for m in matches:
            mentor, mentee = people[m["mentors"][0]], people[m["mentees"][0]]
            self.assertTrue(set(mentor["skills"]) & set(mentee["wants"]), m)

    def test_same_limit_same_candidates(self):
        # The spread among equals comes from hashes of the people: the same people give the
        # same log.
        _, a, _ = self.run_with("prefilter = { limit = 3 },", "spread1")
        _, b, _ = self.run_with("prefilter = { limit = 3 },", "spread2")
        pairs = lambda ms: [(m["mentors"][0], m["mentees"][0]) for m in ms]
        self.assertEqual(pairs(a), pairs(b))
        self.assertGreater(len({m for m, _ in pairs(a)}), 10, "equal mentees spread over many mentors")

    def test_limit_keeps_those_sharing_most_that_pass_the_filters(self):
        # Mentees want two or three items, mentors have several: the scored mentors of
        # each mentee share at least as many items as any passing mentor left out, and there
        # are `limit` of them when that many pass. 8 items take the ranking's bit-mask path,
        # 90 its per-person lists (over 64 items).
        import random
        # `shared` over 400 items, few of which the mentors have, lists few mentors per mentee:
        # those are ranked directly instead of walking the pool.
        for vocabulary, ranking in ((8, "prefer"), (90, "prefer"), (400, "shared")):
            with self.subTest(items=vocabulary, ranking=ranking):
                rng = random.Random(vocabulary)
                items = [f"s{k}" for k in range(vocabulary)]
                rows = ["id,level,department,skills,wants,capacity"]
                for i in range(60):
                    if ranking == "shared":
                        skills = rng.sample(items[12:], rng.randint(1, 3)) + rng.sample(items[:12], rng.randint(0, 2))
                    else:
                        skills = rng.sample(items, rng.randint(*((1, 5) if vocabulary < 10 else (10, 30))))
                    rows.append(f"m{i},{rng.randint(3, 12)},D{i % 3},{';'.join(skills)},,3")
                for i in range(40):
                    wants = ";".join(rng.sample(items[:12] if ranking == "shared" else items[:30],
                                                2 if ranking == "shared" else rng.randint(2, 3)))
                    rows.append(f"e{i},{rng.randint(1, 6)},D{i % 4},,{wants},1")
                people_csv = self.write(f"people{vocabulary}.csv", "\n".join(rows) + "\n")
                limit = 5 if ranking == "prefer" else 2
                rules = self.write(f"rank{vocabulary}.lua", RANKED.replace("prefer =", f"{ranking} =")
                                   .replace("limit = 5", f"limit = {limit}"))
                _, st = self.simulate(rules=rules, people=people_csv, days="1", state=f"rank{vocabulary}")
                log = read_log(st)
                people = {e["person"]["id"]: e["person"] for e in log if e["type"] == "person"}
                note = [e for e in log if e["type"] == "note"]
                self.assertTrue(note, "matching happened")
                scored = {}
                for pair in note[-1]["fields"]["pairs"].split(","):
                    m, e = pair.split(">")
                    scored.setdefault(e, set()).add(m)
                mentors = [p for p in people.values() if p["id"].startswith("m")]
                shared = lambda m, e: len(set(m.get("skills", [])) & set(e.get("wants", [])))
                for eid, mids in scored.items():
                    e = people[eid]
                    passing = [m for m in mentors if 1 <= m["level"] - e["level"] <= 6
                               and m["department"] != e["department"]
                               and (ranking == "prefer" or shared(m, e) > 0)]
                    self.assertEqual(len(mids), min(limit, len(passing)), eid)
                    self.assertTrue(all(1 <= people[m]["level"] - e["level"] <= 6 for m in mids))
                    left_out = [shared(m, e) for m in passing if m["id"] not in mids]
                    worst = min(shared(people[m], e) for m in mids)
                    self.assertGreaterEqual(worst, max(left_out, default=0), eid)
                if ranking == "prefer":
                    self.assertEqual(len(scored), 40, "every mentee was scored")

    def test_peer_limit_keeps_those_sharing_most_either_way(self):
        # One pool: a pair shares what one has that the other wants, either way round, and is
        # scored once, from the first of the two in the pool. Each person's scored partners
        # (among those after them) share at least as many items as any passing one left out,
        # and there are `limit` of them when that many pass. 8 items a side take the per-person
        # levels (16 buckets), 40 the walk (80 buckets, past 64).
        import random
        for vocabulary in (8, 40):
            with self.subTest(items=vocabulary):
                rng = random.Random(vocabulary)
                items = [f"s{k}" for k in range(vocabulary)]
                rows = ["id,level,department,skills,wants,capacity"]
                for i in range(120):
                    rows.append(f"p{i},{rng.randint(2, 9)},D{i % 3},{';'.join(rng.sample(items, rng.randint(1, 3)))},"
                                f"{';'.join(rng.sample(items, rng.randint(1, 3)))},1")
                people_csv = self.write(f"peers{vocabulary}.csv", "\n".join(rows) + "\n")
                self.write("models/peer_probe.lua", PEER_PROBE_MODEL)
                limit = 4
                rules = self.write(f"peers{vocabulary}.lua", PEER_PROBE.replace("limit = 4", f"limit = {limit}"))
                _, st = self.simulate(rules=rules, people=people_csv, days="1", state=f"peers{vocabulary}")
                log = read_log(st)
                people = {e["person"]["id"]: e["person"] for e in log if e["type"] == "person"}
                note = [e["fields"] for e in log if e["type"] == "note"]
                self.assertTrue(note, "matching happened")
                order = note[-1]["order"].split(",")
                self.assertEqual(len(order), 120)
                scored = {}
                for pair in note[-1]["pairs"].split(","):
                    a, b = pair.split(">")
                    self.assertLess(order.index(a), order.index(b), "a pair is scored from its first")
                    scored.setdefault(a, set()).add(b)
                shared = lambda a, b: (len(set(a.get("skills", [])) & set(b.get("wants", [])))
                                       + len(set(b.get("skills", [])) & set(a.get("wants", []))))
                full = 0
                for pos, aid in enumerate(order):
                    a, mine = people[aid], scored.get(aid, set())
                    passing = [people[b] for b in order[pos + 1:]
                               if abs(people[b]["level"] - a["level"]) <= 3 and shared(a, people[b]) > 0]
                    self.assertEqual(len(mine), min(limit, len(passing)), aid)
                    full += len(mine) == limit
                    left_out = [shared(a, b) for b in passing if b["id"] not in mine]
                    worst = min((shared(a, people[b]) for b in mine), default=0)
                    self.assertGreaterEqual(worst, max(left_out, default=0), aid)
                self.assertGreater(full, 60, "most people had more than `limit` passing")

    def test_equal_candidates_spread_so_a_small_limit_still_matches_nearly_everyone(self):
        # 300 equal mentors with one seat each, 300 mentees, 5 candidates each: when equals
        # are drawn independently for each mentee, nearly everyone is matched; mentees that
        # took neighbouring runs of one shared order would fight over the same few seats.
        rows = ["id,level,department,capacity"]
        rows += [f"m{i:03d},9,D,1" for i in range(300)]
        rows += [f"e{i:03d},2,D,1" for i in range(300)]
        people = self.write("equal.csv", "\n".join(rows) + "\n")
        rules = self.write("equal.lua", 'tandem.program {\n  name = "core", model = "one_to_one", '
                                        'match_every = "1y",\n  prefilter = { limit = 5 },\n'
                                        '  mentor = function(p) return p.id:sub(1, 1) == "m" end,\n'
                                        '  mentee = function(p) return p.id:sub(1, 1) == "e" end,\n'
                                        '  score = function(m, e) return 1 end,\n}\n')
        _, st = self.simulate(rules=rules, people=people, days="1", state="equal")
        matches = [e for e in read_log(st) if e["type"] == "match"]
        self.assertGreaterEqual(len(matches), 290, "equal mentees spread over equal mentors")

    def test_bad_limit_and_both_rankings_are_load_errors(self):
        for line, words in (('prefilter = { limit = 0 },', "prefilter.limit"),
                            ('prefilter = { shared = { "skills", "wants" }, prefer = { "skills", "wants" } },',
                             "shared or prefer")):
            path = self.write("bad.lua", 'tandem.program {\n  name = "x", model = "one_to_one",\n'
                                         f'  {line}\n}}\n')
            p = run("check", path, check=1)
            self.assertIn(f"{path}:3: ", p.stderr)
            self.assertIn(words, p.stderr)


RANKED = """
local pairs_seen, first = {}, {}
tandem.program {
  name = "core", model = "one_to_one", match_every = "1y", candidates = 5,
  mentor = function(p) return p.id:sub(1, 1) == "m" end,
  mentee = function(p) return p.id:sub(1, 1) == "e" end,
  prefilter = { prefer = { "skills", "wants" }, level_gap = { min = 1, max = 6 },
                department = "different", limit = 5 },
  score = function(m, e, explain)
    if not explain then pairs_seen[#pairs_seen + 1] = m.id .. ">" .. e.id end
    return 1
  end,
}
tandem.on("match", function(ev)
  if ev.phase == "active" and not first.done then
    first.done = true
    tandem.note("scored", { pairs = table.concat(pairs_seen, ",") })
  end
end)
"""


PEER_PROBE_MODEL = """
local tandem = require "tandem"
local M = { roles = { mentee = "peer" }, fields = { probe = true } }
M.defaults = { term = "6mo", cadence = "2w", review_every = "3mo", match_every = "1y", capacity = 1,
               mentee = function(p) return true end }
function M.match(program, pool)
  local order = {}
  for i, p in ipairs(pool.people) do order[i] = p.id end
  program.probe(order)
  return tandem.solve.pairs(pool.people, program.score)
end
return M
"""

PEER_PROBE = """
local pairs_seen, order, first = {}, {}, {}
tandem.program {
  name = "peers", model = "peer_probe",
  prefilter = { shared = { "skills", "wants" }, level_gap = { min = 0, max = 3 }, limit = 4 },
  probe = function(ids) if not first.done then order = ids end end,
  score = function(a, b, explain)
    if not explain and not first.done then pairs_seen[#pairs_seen + 1] = a.id .. ">" .. b.id end
    return 1
  end,
}
tandem.on("match", function(ev)
  if ev.phase == "active" and not first.done then
    first.done = true
    tandem.note("scored", { order = table.concat(order, ","), pairs = table.concat(pairs_seen, ",") })
  end
end)
"""


QUERIES = """
tandem.program { name = "core", model = "one_to_one", match_every = "1y" }
tandem.program { name = "other", model = "one_to_one", match_every = "1y",
                 mentor = function(p) return false end }
tandem.on("match", function(ev)
  if ev.phase ~= "active" then return end
  local m = tandem.match(ev.match)
  local mentor = tandem.person(m.mentors[1])
  local sql = {}
  for _, p in ipairs(tandem.people { skill = "sql" }) do sql[#sql + 1] = p.id end
  table.sort(sql)
  tandem.note("queries", {
    mentor_in_core = tandem.enrolled(m.mentors[1], "core", "mentor"),
    mentor_as_mentee = tandem.enrolled(m.mentors[1], "core", "mentee"),
    mentor_in_other = tandem.enrolled(m.mentors[1], "other"),
    mentee_in_core = tandem.enrolled(m.mentees[1], "core"),
    nobody = tandem.enrolled("nobody", "core"),
    sql = sql,
    sql_ids = (function() local ids = tandem.ids { skill = "sql" } table.sort(ids) return ids end)(),
    dept_ids = tandem.ids { department = "Eng", skill = "go" },
    e1_under_m2 = tandem.in_line("e1", "m2"), m2_over_e1 = tandem.in_line("m2", "e1"),
    m1_m2 = tandem.in_line("m1", "m2"),
    -- the pool's fields are taken off the shared person tables after matching
    load = mentor.load or false, waiting_since = tandem.person(m.mentees[1]).waiting_since or false,
  })
end)
"""


class Queries(TandemCase):
    def test_enrolled_ids_in_line_skill_filter_and_clean_person_tables(self):
        people = self.write("people.csv", "id,level,department,manager,skills,wants,capacity\n"
                                          "m1,7,Eng,,sql,,1\nm2,8,Eng,,go,,1\ne1,2,Ops,m2,,sql,1\n"
                                          "e2,3,Ops,,sql,go,1\n")
        _, st = self.simulate(rules=self.write("q.lua", QUERIES), people=people, days="1", state="q")
        notes = [e["fields"] for e in read_log(st) if e["type"] == "note"]
        self.assertEqual(len(notes), 2)
        for n in notes:
            self.assertEqual((n["mentor_in_core"], n["mentor_as_mentee"], n["mentor_in_other"],
                              n["mentee_in_core"], n["nobody"]), (True, False, False, True, False))
            self.assertEqual(n["sql"], ["e2", "m1"])
            self.assertEqual(n["sql_ids"], ["e2", "m1"])
            self.assertEqual(n["dept_ids"], ["m2"])
            self.assertEqual((n["e1_under_m2"], n["m2_over_e1"], n["m1_m2"]), (True, True, False))
            self.assertEqual((n["load"], n["waiting_since"]), (False, False))
