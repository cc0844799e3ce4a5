"""simulate's progress bar: drawn on a terminal's stderr, never when stderr is piped or --quiet."""
import os
import pty
import select
import subprocess

from tandemtest import EXAMPLE_PEOPLE, EXAMPLE_RULES, TANDEM, TandemCase


class Progress(TandemCase):
    def args(self, *extra):
        return [TANDEM, "simulate", EXAMPLE_RULES, "--people", EXAMPLE_PEOPLE, "--days", "90",
                "--start", "2027-01-01", "--state", self.path("st"), *extra]

    def stderr_on_pty(self, *extra):
        master, slave = pty.openpty()
        proc = subprocess.Popen(self.args(*extra), stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        data = b""
        while True:
            r, _, _ = select.select([master], [], [], 30)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:   # EIO: the child closed the terminal
                break
            if not chunk:
                break
            data += chunk
        self.assertEqual(proc.wait(timeout=60), 0)
        os.close(master)
        return data.decode()

    def test_bar_on_a_terminal(self):
        err = self.stderr_on_pty()
        self.assertIn("\r  simulating [", err)
        self.assertIn("100% 2027-04-01", err)
        self.assertGreater(err.count("\r"), 5, "the bar moves")

    def test_silent_when_piped_or_quiet(self):
        p = subprocess.run(self.args(), capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("simulating", p.stderr)
        self.assertNotIn("\r", p.stderr)
        self.assertIn("tandem report", p.stdout)
        err = self.stderr_on_pty("--quiet")
        self.assertNotIn("simulating", err)
