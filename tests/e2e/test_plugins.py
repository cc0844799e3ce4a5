"""Plugins through the real binary: a .so built here and loaded with --plugin or from the
rules, refusals (wrong ABI, missing entry, failing open), a plugin's commands and their bound,
and the shipped ics, exec and sqlite plugins in the daemon and in simulate."""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from tandemtest import (EXAMPLE_PEOPLE, EXAMPLE_RULES, ROOT, Daemon, TandemCase, read_log, run)

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = """
tandem.program { name = "core", model = "one_to_one" }
"""
PEOPLE = ("id,name,email,level,department,capacity\n"
          "m1,Mia,mia@example.org,8,Eng,2\nm2,Max,max@example.org,9,Sales,1\n"
          "e1,Eve,eve@example.org,3,Ops,1\ne2,Eli,eli@example.org,2,Ops,1\ne3,Ed,ed@example.org,4,Legal,1\n")


def pkg(*args):
    return subprocess.run(["pkg-config", *args], capture_output=True, text=True, check=True).stdout.split()


class Built:
    """Test binaries compiled once: the probe plugin (and its broken variants) and ics_dump."""
    dir = None

    @classmethod
    def get(cls):
        if cls.dir:
            return cls.dir
        cls.dir = tempfile.mkdtemp(prefix="tandem-plugins-")
        src = os.path.join(HERE, "plugins", "probe.c")
        base = ["cc", "-std=c11", "-Wall", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden",
                "-I" + os.path.join(ROOT, "include"), *pkg("--cflags", "libcjson"), src]
        for name, extra in (("probe", []), ("probe_abi99", ["-DPROBE_ABI=99"]),
                            ("probe_noentry", ["-DPROBE_NO_ENTRY"])):
            subprocess.run([*base, "-o", os.path.join(cls.dir, name + ".so"), *extra,
                            *pkg("--libs", "libcjson")], check=True)
        subprocess.run(["cc", "-o", os.path.join(cls.dir, "ics_dump"), os.path.join(HERE, "plugins", "ics_dump.c"),
                        *pkg("--cflags", "--libs", "libical")], check=True)
        return cls.dir


def so(name):
    return os.path.join(Built.get(), name + ".so")


class PluginCase(TandemCase):
    def start(self, *args, rules=RULES, people=PEOPLE, state="state"):
        return self.start_daemon(rules, people, *args, state=state)

    def run_refused(self, *args, rules=RULES):
        rules = self.write("rules.lua", rules)
        people = self.write("people.csv", PEOPLE)
        return run("run", rules, "--state", self.path("st"), "--people", people, *args, timeout=30)

    def seen(self, path):
        with open(path) as f:
            return [(int(s), t) for s, t in (line.split() for line in f)]


class Loading(PluginCase):
    def test_so_plugin_sees_every_committed_event_it_subscribed_to_in_order(self):
        out = self.path("probe.out")
        d = self.start("--plugin", so("probe"), "--plugin-config",
                       json.dumps({"out": out, "types": ["match", "meeting"]}))
        log = read_log(self.state)
        m = [e for e in log if e["type"] == "match"][0]["match"]
        self.assertTrue(d.send({"cmd": "meeting.held", "match": m})["ok"])
        self.assertTrue(d.send({"cmd": "meeting.cancel", "match": m})["ok"])
        self.assertEqual(d.stop(), 0)
        want = [(e["seq"], e["type"]) for e in read_log(self.state) if e["type"] in ("match", "meeting")]
        self.assertGreater(len(want), 4)
        self.assertEqual(self.seen(out), want)

    def test_rules_load_a_plugin_from_the_plugin_path_and_call_its_lua_function(self):
        out = self.path("probe.out")
        rules = RULES + f"""
tandem.plugin("probe", {{ out = "{out}", types = {{ "meeting" }} }})
tandem.on("meeting", function(ev)
  if ev.phase == "held" then tandem.note("probe", {{ seen = tandem.x.probe_seen() }}) end
end)
"""
        env_before = os.environ.get("TANDEM_PLUGIN_PATH")
        os.environ["TANDEM_PLUGIN_PATH"] = "/nonexistent:" + Built.get()
        try:
            d = self.start(rules=rules)
        finally:
            if env_before is None:
                del os.environ["TANDEM_PLUGIN_PATH"]
            else:
                os.environ["TANDEM_PLUGIN_PATH"] = env_before
        m = [e for e in read_log(self.state) if e["type"] == "match"][0]["match"]
        r = d.send({"cmd": "meeting.held", "match": m})
        self.assertTrue(r["ok"], r)
        note = [e for e in r["events"] if e["type"] == "note"][0]
        # The probe has seen the scheduled meetings so far (events reach plugins after commit,
        # so not yet the held meeting whose handler asks).
        first = r["events"][0]["seq"]
        before = len([e for e in read_log(self.state) if e["type"] == "meeting" and e["seq"] < first])
        self.assertGreater(before, 0)
        self.assertEqual(note["fields"]["seen"], before)
        self.assertEqual(d.stop(), 0)

    def test_wrong_abi_is_refused_naming_the_file_and_both_numbers(self):
        p = self.run_refused("--plugin", so("probe_abi99"))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(so("probe_abi99"), p.stderr)
        self.assertIn("plugin ABI 99", p.stderr)
        self.assertIn("speaks plugin ABI 1", p.stderr)
        self.assertFalse(os.path.exists(self.path("st/tandem.sock")))

    def test_missing_entry_symbol_is_refused(self):
        p = self.run_refused("--plugin", so("probe_noentry"))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(so("probe_noentry"), p.stderr)
        self.assertIn("no tandem_plugin_entry", p.stderr)

    def test_not_a_shared_object_and_unknown_name_are_refused(self):
        bad = self.write("bad.so", "hello")
        p = self.run_refused("--plugin", bad)
        self.assertEqual(p.returncode, 1)
        self.assertIn(bad + ": cannot load the plugin", p.stderr)
        p = self.run_refused(rules=RULES + 'tandem.plugin("nosuchplugin")\n')
        self.assertEqual(p.returncode, 1)
        self.assertIn("rules.lua:3", p.stderr)
        self.assertIn("nosuchplugin.so", p.stderr)
        p = self.run_refused("--plugin", so("probe"), "--plugin-config", "[1]")
        self.assertEqual(p.returncode, 2)
        self.assertIn("must be a JSON object", p.stderr)

    def test_failing_open_refuses_unless_the_rules_say_optional(self):
        rules = RULES + f'tandem.plugin("{so("probe")}", {{ fail = true }})\n'
        p = self.run_refused(rules=rules)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("rules.lua:3", p.stderr)
        self.assertIn("probe failed to open: config says fail", p.stderr)
        rules = RULES + f'tandem.plugin("{so("probe")}", {{ fail = true, optional = true }})\n'
        d = self.start(rules=rules)
        self.assertTrue(d.send({"cmd": "status"})["ok"])
        self.assertEqual(d.stop(), 0)
        err = d.stderr()
        self.assertIn("optional plugin", err)
        self.assertIn("config says fail", err)

    def test_plugin_commands_go_through_the_engine_and_cascades_stop(self):
        # Every scheduled meeting is answered with meeting.held, which schedules the next:
        # the host runs such commands after each batch, at most 8 rounds deep.
        d = self.start("--plugin", so("probe"), "--plugin-config", json.dumps({"hold": True, "types": ["meeting"]}))
        self.assertTrue(d.send({"cmd": "status"})["ok"])
        log = read_log(self.state)
        matches = [e["match"] for e in log if e["type"] == "match"]
        self.assertTrue(matches)
        for m in matches:
            held = [e for e in log if e["type"] == "meeting" and e["match"] == m and e["phase"] == "held"]
            self.assertEqual(len(held), 8, m)
        self.assertIn("more than 8 rounds", d.stderr())
        self.assertEqual(d.stop(), 0)

    def test_simulate_loads_plugins_too(self):
        out = self.path("probe.out")
        rules = self.write("r.lua", RULES)
        people = self.write("p.csv", PEOPLE)
        state = self.path("sim")
        run("simulate", rules, "--people", people, "--state", state, "--days", "60", "--start", "2027-01-01",
            "--quiet", "--plugin", so("probe"), "--plugin-config", json.dumps({"out": out}), check=0)
        self.assertEqual(self.seen(out), [(e["seq"], e["type"]) for e in read_log(state)])


class Ics(PluginCase):
    def dump(self, path):
        p = subprocess.run([os.path.join(Built.get(), "ics_dump"), path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, f"libical cannot parse {path}")
        return [line.split() for line in p.stdout.splitlines()]

    def test_calendars_parse_back_and_change_on_reschedule(self):
        d = self.start("--plugin", "ics", "--plugin-config", json.dumps({"domain": "acme.example"}))
        log = read_log(self.state)
        match = [e for e in log if e["type"] == "match"][0]
        mentee = match["mentees"][0]
        cal = os.path.join(self.state, "ics", mentee + ".ics")
        before = self.dump(cal)
        self.assertEqual(len(before), 1)
        uid, seq, status, _ = before[0]
        self.assertEqual(uid, f"tandem-match{match['match']}-meeting1@acme.example")
        self.assertEqual((seq, status), ("0", "CONFIRMED"))
        with open(cal) as f:
            text = f.read()
        self.assertIn("BEGIN:VCALENDAR", text)
        self.assertIn("mailto:", text)
        r = d.send({"cmd": "meeting.cancel", "match": match["match"]})
        self.assertTrue(r["ok"])
        after = self.dump(cal)
        self.assertEqual(len(after), 2)
        self.assertEqual(after[0][:3], [uid, "1", "CANCELLED"])
        self.assertEqual(after[1][0], f"tandem-match{match['match']}-meeting2@acme.example")
        self.assertEqual(after[1][1:3], ["0", "CONFIRMED"])
        self.assertGreater(int(after[1][3]), int(before[0][3]))
        mentor_cal = self.dump(os.path.join(self.state, "ics", match["mentors"][0] + ".ics"))
        self.assertIn([uid, "1", "CANCELLED"], [v[:3] for v in mentor_cal])
        # Moved: the same event (same UID) at a new time, its SEQUENCE up by one.
        r = d.send({"cmd": "meeting.reschedule", "match": match["match"], "at": "5d"})
        self.assertTrue(r["ok"], r)
        moved = self.dump(cal)
        self.assertEqual(len(moved), 2)
        self.assertEqual(moved[0], after[0])
        self.assertEqual(moved[1][:3], [after[1][0], "1", "CONFIRMED"])
        self.assertNotEqual(moved[1][3], after[1][3])
        after = moved
        self.assertEqual(d.stop(), 0)
        # Lost files come back from the log at the next start.
        shutil.rmtree(os.path.join(self.state, "ics"))
        d = Daemon(self.rules, self.state, "--plugin", "ics", "--plugin-config", json.dumps({"domain": "acme.example"}))
        self.assertEqual(self.dump(cal), after)
        self.assertEqual(d.stop(), 0)


class Exec(PluginCase):
    def test_every_event_reaches_the_command(self):
        out = self.path("exec.out")
        cfg = {"command": f"cat >> {out}", "types": ["match", "meeting", "goal"]}
        d = self.start("--plugin", "exec", "--plugin-config", json.dumps(cfg))
        m = [e for e in read_log(self.state) if e["type"] == "match"][0]["match"]
        for _ in range(5):
            self.assertTrue(d.send({"cmd": "meeting.held", "match": m})["ok"])
        self.assertEqual(d.stop(), 0)
        with open(out) as f:
            got = [json.loads(line) for line in f]
        want = [e for e in read_log(self.state) if e["type"] in cfg["types"]]
        for e in want:
            del e["crc"]
        self.assertEqual(got, want)

    def test_the_daemon_survives_the_command_dying(self):
        out = self.path("exec.out")
        # Takes one line, then dies: the plugin restarts it with a backoff, the daemon goes on.
        cfg = {"command": f"read line; echo \"$line\" >> {out}; exit 3", "types": ["meeting"], "backoff_max": 0.2}
        d = self.start("--plugin", "exec", "--plugin-config", json.dumps(cfg))
        m = [e for e in read_log(self.state) if e["type"] == "match"][0]["match"]
        for _ in range(6):
            self.assertTrue(d.send({"cmd": "meeting.held", "match": m})["ok"])
            time.sleep(0.3)
        self.assertTrue(d.send({"cmd": "status"})["ok"])
        self.assertEqual(d.stop(), 0)
        err = d.stderr()
        self.assertIn("exited (status 3", err)
        self.assertIn("restarting", err)
        with open(out) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        self.assertGreaterEqual(len(lines), 4, err)   # one per run: it was restarted again and again
        self.assertTrue(all(e["type"] == "meeting" for e in lines))

    def test_simulate_delivers_every_event(self):
        out = self.path("exec.out")
        rules = self.write("r.lua", RULES + f'tandem.plugin("exec", {{ command = "cat > {out}", queue = 16 }})\n')
        people = self.write("p.csv", PEOPLE)
        state = self.path("sim")
        run("simulate", rules, "--people", people, "--state", state, "--days", "120", "--start", "2027-01-01",
            "--quiet", check=0)
        with open(out) as f:
            got = [json.loads(line)["seq"] for line in f]
        self.assertEqual(got, [e["seq"] for e in read_log(state)])


class Sqlite(PluginCase):
    def test_mirror_matches_the_report_after_a_simulated_year(self):
        with open(EXAMPLE_RULES) as f:
            rules = f.read()
        # the example's models are found by name in the shipped rules/
        path = self.write("acme.lua", rules + '\ntandem.plugin("sqlite", { path = "mirror.db" })\n')
        state = self.path("year")
        run("simulate", path, "--people", EXAMPLE_PEOPLE, "--state", state, "--days", "365", "--start",
            "2027-01-01", "--quiet", check=0, timeout=300)
        report = json.loads(run("report", "--state", state, "--format", "json", check=0).stdout)
        db = sqlite3.connect(os.path.join(state, "mirror.db"))
        q = lambda sql, *a: db.execute(sql, a).fetchone()[0]
        self.assertEqual(q("SELECT value FROM meta WHERE key = 'last_seq'"), str(report["events"]))
        for p in report["programs"]:
            n = p["name"]
            per_match = "FROM {} x JOIN matches m ON m.id = x.match WHERE m.program = ?"
            got = {
                "mentors": q("SELECT count(*) FROM enrollments WHERE program = ? AND role IN ('mentor','leader')", n),
                "mentees": q("SELECT count(*) FROM enrollments WHERE program = ? AND role NOT IN ('mentor','leader')",
                             n),
                "matches": q("SELECT count(*) FROM matches WHERE program = ?", n),
                "live": q("SELECT count(*) FROM matches WHERE program = ? AND phase IN ('active','proposed')", n),
                "meetings_held": q("SELECT count(*) " + per_match.format("meetings") + " AND x.phase = 'held'", n),
                "meetings_missed": q("SELECT count(*) " + per_match.format("meetings") + " AND x.phase = 'missed'",
                                     n),
                "reviews": q("SELECT count(*) " + per_match.format("reviews"), n),
                "reups_renewed": q("SELECT coalesce(sum(terms - 1), 0) FROM matches WHERE program = ?", n),
                "reups_closed": q("SELECT count(*) " + per_match.format("reups") +
                                  " AND x.phase = 'decided' AND x.outcome = 'close'", n),
                "goals_set": q("SELECT count(*) " + per_match.format("goals"), n),
                "goals_achieved": q("SELECT count(*) " + per_match.format("goals") + " AND x.phase = 'achieved'", n),
                "flags": q("SELECT count(*) " + per_match.format("flags"), n),
                # on the program's matches, and on the program itself
                "feedback_avg": q("SELECT round(avg(rating), 2) FROM feedback x LEFT JOIN matches m ON m.id = x.match"
                                  " WHERE coalesce(m.program, x.program) = ?", n),
            }
            self.assertEqual(got, {k: p[k] for k in got}, n)
        self.assertGreater(report["totals"]["meetings_held"], 1000)
        self.assertEqual(q("SELECT count(*) FROM people WHERE left = 0"), report["people"])

    def test_mirror_is_rebuilt_from_the_log_when_lost(self):
        d = self.start("--plugin", "sqlite")
        match = [e for e in read_log(self.state) if e["type"] == "match"][0]
        m = match["match"]
        self.assertTrue(d.send({"cmd": "meeting.held", "match": m})["ok"])
        self.assertTrue(d.send({"cmd": "feedback", "match": m, "from": match["mentees"][0], "rating": 5})["ok"])
        self.assertEqual(d.stop(), 0)
        db = os.path.join(self.state, "tandem.sqlite")
        first = sqlite3.connect(db).execute("SELECT count(*), max(rating) FROM feedback").fetchone()
        self.assertEqual(first, (1, 5))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        d = Daemon(self.rules, self.state, "--plugin", "sqlite")
        con = sqlite3.connect(db)
        self.assertEqual(con.execute("SELECT count(*), max(rating) FROM feedback").fetchone(), first)
        self.assertEqual(con.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()[0],
                         str(len(read_log(self.state))))
        self.assertEqual(con.execute("SELECT count(*) FROM meetings WHERE phase = 'held'").fetchone()[0], 1)
        con.close()
        self.assertEqual(d.stop(), 0)


class Install(TandemCase):
    def test_installed_header_and_pkg_config_build_the_example_plugin(self):
        prefix = self.path("prefix")
        subprocess.run(["make", "-s", "install", f"PREFIX={prefix}"], cwd=ROOT, check=True, capture_output=True)
        self.assertTrue(os.path.exists(os.path.join(prefix, "include", "tandem", "plugin.h")))
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
        cflags = subprocess.run(["pkg-config", "--cflags", "tandem-plugin"], env=env, capture_output=True,
                                text=True, check=True).stdout.split()
        self.assertIn("-I" + os.path.join(prefix, "include"), cflags)
        src = self.path("example")
        shutil.copytree(os.path.join(ROOT, "plugins", "example"), src)
        if os.path.exists(os.path.join(src, "example.so")):
            os.remove(os.path.join(src, "example.so"))
        subprocess.run(["make", "-s", "-C", src, "install", f"PREFIX={prefix}"], env=env, check=True,
                       capture_output=True)
        rules = self.write("org.lua", 'tandem.program { name = "core", model = "one_to_one" }\n'
                                      'tandem.plugin("example", { types = { "match" } })\n')
        people = self.write("p.csv", PEOPLE)
        state = self.path("st")
        p = subprocess.run([os.path.join(prefix, "bin", "tandem"), "simulate", rules, "--people", people,
                            "--state", state, "--days", "10", "--quiet"], capture_output=True, text=True,
                           env=dict(os.environ, TANDEM_PLUGIN_PATH=""))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(state, "example-counts.json")) as f:
            counts = json.load(f)
        self.assertEqual(counts["match"], len([e for e in read_log(state) if e["type"] == "match"]))


if __name__ == "__main__":
    unittest.main()
