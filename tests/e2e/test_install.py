"""make install puts a working tandem under PREFIX that finds its shipped models."""
import os
import subprocess

from tandemtest import ROOT, TandemCase


class Install(TandemCase):
    def test_installed_binary_runs_from_anywhere(self):
        prefix = self.path("prefix")
        subprocess.run(["make", "-s", "install", f"PREFIX={prefix}"], cwd=ROOT, check=True,
                       capture_output=True)
        tandem = os.path.join(prefix, "bin", "tandem")
        rules = os.path.join(prefix, "share", "tandem", "rules", "examples", "acme.lua")
        people = os.path.join(prefix, "share", "tandem", "rules", "examples", "people.csv")
        self.assertTrue(os.path.exists(os.path.join(prefix, "include", "tandem", "version.h")))
        own = self.write("mine/org.lua", 'tandem.program { name = "p", model = "one_to_one" }\n')
        env = dict(os.environ, TANDEM_RULES_DIR="")
        p = subprocess.run([tandem, "check", own], cwd="/", capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run([tandem, "simulate", rules, "--people", people, "--days", "20", "--quiet",
                            "--state", self.path("st")], cwd="/", capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.getsize(self.path("st/events.jsonl")) > 0)
