"""tandem report: every number of the JSON report recounted from the log of a simulated year,
windows and the program filter, the 100-column text, and the HTML page rendered by headless
Chromium (its SVG charts drawn, a screenshot taken)."""
import json
import math
import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter, defaultdict

from tandemtest import TandemCase, read_log, run, write_log


def half_up(x, places):
    """Rounding as C's round(): halves away from zero (Python's round() goes to even)."""
    f = 10 ** places
    return math.floor(x * f + 0.5 + 1e-9) / f


class Counts:
    """The report's measures recounted independently from a list of events."""

    def __init__(self, events, since="", until="9999"):
        self.by_prog = defaultdict(Counter)
        self.total = Counter()
        self.fb = defaultdict(lambda: defaultdict(list))
        matches = {}
        for e in events:
            if e["type"] == "match" and e["phase"] in ("active", "proposed") and e["match"] not in matches:
                matches[e["match"]] = e
            inside = since <= e["ts"] < until
            if not inside:
                continue
            prog = e.get("program") or (matches[e["match"]]["program"] if "match" in e else None)
            keys = []
            t, ph = e["type"], e.get("phase")
            if t == "match" and ph in ("active", "proposed") and matches[e["match"]] is e:
                keys.append("matches")
            elif t == "meeting" and ph in ("held", "missed", "cancelled"):
                keys.append("meetings_" + ph)
            elif t == "review":
                keys.append("reviews")
            elif t == "goal" and ph in ("set", "achieved"):
                keys.append("goals_" + ph)
            elif t == "reup" and ph == "open":
                keys.append("reups_opened")
            elif t == "reup" and ph == "decided":
                keys.append("reups_renewed" if e["outcome"] == "renew" else "reups_closed")
            elif t == "flag":
                keys.append("flags")
            elif t == "close":
                keys.append("closes")
                if e["reason"] == "stalled":
                    keys.append("stalled")
            elif t == "feedback":
                m = matches.get(e.get("match"))
                way = None
                if m:
                    way = "mentors" if e["from"] in m["mentors"] else "mentees"
                for k in ("all", way):
                    if k:
                        self.fb[prog][k].append(e["rating"])
                        self.fb[None][k].append(e["rating"])
            for k in keys:
                self.total[k] += 1
                if prog:
                    self.by_prog[prog][k] += 1

    def avg(self, prog, way):
        v = self.fb[prog][way]
        return half_up(sum(v) / len(v), 2) if v else None


COUNTED = ("matches", "meetings_held", "meetings_missed", "meetings_cancelled", "reviews", "goals_set",
           "goals_achieved", "reups_opened", "reups_renewed", "reups_closed", "flags", "stalled")


class ReportYear(TandemCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._cls_tmp = tempfile.TemporaryDirectory(prefix="tandem-report-")
        cls.state = os.path.join(cls._cls_tmp.name, "state")
        from tandemtest import EXAMPLE_PEOPLE, EXAMPLE_RULES
        run("simulate", EXAMPLE_RULES, "--people", EXAMPLE_PEOPLE, "--state", cls.state, "--days", "365",
            "--start", "2027-01-01", "--seed", "3", "--quiet", check=0)
        cls.events = read_log(cls.state)

    @classmethod
    def tearDownClass(cls):
        cls._cls_tmp.cleanup()

    def report(self, *args, check=0):
        p = run("report", "--state", self.state, "--format", "json", *args, check=check)
        return json.loads(p.stdout) if check == 0 else p

    def assert_counts(self, j, c):
        for k in COUNTED:
            self.assertEqual(j["totals"][k], c.total[k], f"totals.{k}")
        for p in j["programs"]:
            for k in COUNTED:
                self.assertEqual(p[k], c.by_prog[p["name"]][k], f"{p['name']}.{k}")
            self.assertEqual(p["feedback_from_mentees"], c.avg(p["name"], "mentees"), p["name"])
            self.assertEqual(p["feedback_from_mentors"], c.avg(p["name"], "mentors"), p["name"])
            self.assertEqual(p["feedback_avg"], c.avg(p["name"], "all"), p["name"])
        self.assertEqual(j["totals"]["feedback_from_mentees"], c.avg(None, "mentees"))

    def test_json_matches_the_logs_counts_over_a_year(self):
        j = self.report()
        self.assertEqual(j["events"], len(self.events))
        self.assertEqual(j["events_in_window"], len(self.events))
        self.assert_counts(j, Counts(self.events))
        t = j["totals"]
        # The charts' series add up to the totals.
        self.assertEqual(sum(w["held"] for w in j["weeks"]), t["meetings_held"])
        self.assertEqual(sum(w["missed"] for w in j["weeks"]), t["meetings_missed"])
        self.assertEqual(sum(w["started"] for w in j["weeks"]), t["matches"])
        self.assertEqual(sum(m["matches"] for m in j["models"]), t["matches"])
        self.assertEqual(len(j["weeks"]), 53)
        self.assertEqual(j["reup_funnel"]["decided"], t["reups_renewed"] + t["reups_closed"])
        live = {}
        for e in self.events:
            if e["type"] == "match" and e["phase"] == "active":
                live[e["match"]] = True
            elif e["type"] == "close":
                live.pop(e["match"], None)
        self.assertEqual(j["weeks"][-1]["live"], len(live))
        self.assertEqual(t["live"], len(live))
        # Time to match: from enrolment to a first match, per mentee.
        enrolled, first = {}, {}
        lead = {"mentor", "leader"}
        for e in self.events:
            if e["type"] == "enroll" and e["role"] not in lead:
                enrolled.setdefault((e["person"], e["program"]), e["ts"])
            if e["type"] == "match" and e["phase"] in ("active", "proposed"):
                for p in e["mentees"]:
                    first.setdefault((p, e["program"]), e["ts"])
        self.assertEqual(t["matched_mentees"], len([k for k in first if k in enrolled]))
        self.assertEqual(t["time_to_match_days"]["n"], t["matched_mentees"])
        self.assertEqual(t["mentees"], len(enrolled))
        fs = {p["name"]: p for p in j["programs"]}["firesides"]
        self.assertGreater(fs["time_to_match_days"]["median"], 0, "attendees wait for a session")
        self.assertEqual(t["renew_rate"], half_up(t["reups_renewed"] / (t["reups_renewed"] + t["reups_closed"]), 3))

    def test_since_until_count_only_the_window(self):
        j = self.report("--since", "2027-04-01", "--until", "2027-07-01")
        self.assertEqual(j["since"], "2027-04-01T00:00:00Z")
        inside = [e for e in self.events if "2027-04-01" <= e["ts"] < "2027-07-01"]
        self.assertEqual(j["events_in_window"], len(inside))
        self.assertLess(j["as_of"], "2027-07-01")
        self.assert_counts(j, Counts(self.events, "2027-04-01", "2027-07-01"))
        self.assertEqual(j["weeks"][0]["week"], "2027-04-01")
        self.assertEqual(len(j["weeks"]), 13)

    def test_program_filter_and_unknown_program(self):
        j = self.report("--program", "core")
        self.assertEqual([p["name"] for p in j["programs"]], ["core"])
        c = Counts(self.events)
        for k in COUNTED:
            self.assertEqual(j["totals"][k], c.by_prog["core"][k], k)
        self.assertEqual([m["model"] for m in j["models"]], ["one_to_one"])
        p = self.report("--program", "cor", check=1)
        self.assertIn('no program "cor"', p.stderr)
        self.assertIn("core", p.stderr)
        p = run("report", "--state", self.state, "--since", "April", check=2)
        self.assertIn("--since", p.stderr)

    def test_text_fits_100_columns_and_agrees(self):
        out = run("report", "--state", self.state, check=0).stdout
        wide = [line for line in out.splitlines() if len(line) > 100]
        self.assertEqual(wide, [])
        j = self.report()
        self.assertIn(f"meetings held {j['totals']['meetings_held']}, missed {j['totals']['meetings_missed']}", out)
        self.assertIn("re-up funnel: opened", out)
        out = run("report", "--state", self.state, "--since", "2027-03-01", check=0).stdout
        self.assertIn("window: 2027-03-01T00:00:00Z to end", out)


def png_pixels_vary(path):
    """True when the PNG decodes to more than a handful of distinct byte values (not blank)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    return len(set(raw[::7])) > 16


class Html(TandemCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        from tandemtest import EXAMPLE_PEOPLE, EXAMPLE_RULES
        cls._cls_tmp = tempfile.TemporaryDirectory(prefix="tandem-html-")
        cls.state = os.path.join(cls._cls_tmp.name, "state")
        # Past the first re-ups, so the funnel has something to draw.
        run("simulate", EXAMPLE_RULES, "--people", EXAMPLE_PEOPLE, "--state", cls.state, "--days", "200",
            "--start", "2027-01-01", "--quiet", check=0)
        cls.page = os.path.join(cls._cls_tmp.name, "report.html")
        cls.html = run("report", "--state", cls.state, "--format", "html", check=0).stdout
        with open(cls.page, "w") as f:
            f.write(cls.html)

    @classmethod
    def tearDownClass(cls):
        cls._cls_tmp.cleanup()

    def test_self_contained(self):
        low = self.html.lower()
        for bad in ("<script", "src=", "href=", "url(", "@import", "<link", "http:", "https:"):
            self.assertNotIn(bad, low)
        self.assertEqual(low.count("<svg"), 4)
        for chart in ("chart-meetings", "chart-funnel", "chart-models", "chart-health"):
            self.assertIn(f'id="{chart}"', self.html)

    def test_log_text_is_escaped(self):
        write_log(self.path("esc"), [
            {"ts": "2027-01-01T00:00:00Z", "type": "rules", "phase": "loaded", "file": "<script>alert(1)</script>.lua",
             "sha256": "00", "clock": "virtual", "priorities": [], "programs": []},
        ])
        out = run("report", "--state", self.path("esc"), "--format", "html", check=0).stdout
        self.assertNotIn("<script>", out)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;.lua", out)

    def test_chromium_renders_the_charts(self):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            self.skipTest("chromium is not installed (scripts/deps.sh installs it)")
        flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 f"--user-data-dir={self.path('profile')}"]
        url = "file://" + self.page
        dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=60).stdout
        for chart in ("chart-meetings", "chart-funnel", "chart-models", "chart-health"):
            start = dom.index(f'<svg id="{chart}"')
            svg = dom[start:dom.index("</svg>", start)]
            marks = svg.count("<rect") + svg.count("<polyline")
            self.assertGreater(marks, 0, f"{chart} draws nothing")
            self.assertNotIn("no data", svg, chart)
        shot = self.path("report.png")
        subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1200,2000", url], capture_output=True,
                       timeout=60)
        self.assertTrue(os.path.exists(shot), "no screenshot")
        self.assertGreater(os.path.getsize(shot), 10000)
        self.assertTrue(png_pixels_vary(shot), "the screenshot is blank")
