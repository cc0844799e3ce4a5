"""--help for every verb, and the man pages: installed by make install, rendered by man/groff
without warnings, naming every verb and option the binary's --help does, and every tandem.*
Lua function the README lists."""
import os
import re
import shutil
import subprocess

from tandemtest import ROOT, TandemCase, run

VERBS = ("check", "simulate", "run", "ctl", "tail", "report")
MAN1 = os.path.join(ROOT, "man", "tandem.1")
MAN5 = os.path.join(ROOT, "man", "tandem-rules.5")


def rendered(page):
    """The page as a reader sees it: through man -l (or groff) when installed, else its roff."""
    env = dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0")
    if shutil.which("man"):
        p = subprocess.run(["man", "-l", page], capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
        return re.sub(r".\x08", "", p.stdout)
    with open(page) as f:
        return f.read().replace("\\-", "-")


def unhyphenate(text):
    """man may break words at hyphens and pad lines; join them back for searching."""
    text = re.sub("\u2010\n\\s*", "", text).replace("\u2010", "-")
    return re.sub(r"\s+", " ", text)


class Help(TandemCase):
    def test_every_verb_has_help(self):
        for verb in VERBS:
            with self.subTest(verb=verb):
                p = run(verb, "--help", check=0)
                self.assertIn(f"usage: tandem {verb}", p.stdout)
                self.assertEqual(p.stderr, "")
                if verb != "ctl":   # ctl lists every command's fields on one line each (control.c)
                    self.assertTrue(all(len(l) <= 100 for l in p.stdout.splitlines()), verb)
                self.assertEqual(run(verb, "-h", check=0).stdout, p.stdout)
        top = run("--help", check=0).stdout
        for verb in VERBS:
            self.assertRegex(top, rf"\n  {verb} ")


class ManPages(TandemCase):
    def test_pages_render_without_warnings(self):
        if not shutil.which("groff"):
            self.skipTest("groff is not installed (scripts/deps.sh installs groff-base)")
        for page in (MAN1, MAN5):
            p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], capture_output=True, text=True)
            self.assertEqual((p.returncode, p.stderr), (0, ""), page)

    def test_tandem_1_names_every_verb_and_option(self):
        page = unhyphenate(rendered(MAN1))
        for verb in VERBS:
            self.assertRegex(page, rf"\b{verb}\b")
            self.assertIn(f"tandem {verb}", page)
            # Every long option the verb's --help shows is documented.
            for opt in sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", run(verb, "--help", check=0).stdout))):
                if opt in ("--help", "--FIELD"):
                    continue
                with self.subTest(verb=verb, option=opt):
                    self.assertTrue(opt in page, f"{opt} is not in tandem(1)")
        # ctl's commands, from its --help.
        ctl = run("ctl", "--help", check=0).stdout
        for cmd in re.findall(r"^  ([a-z]+(?: [a-z]+)?)  ", ctl, re.M):
            with self.subTest(ctl=cmd):
                self.assertTrue(cmd in page, f"ctl {cmd} is not in tandem(1)")
        for word in ("NO_COLOR", "EXIT STATUS", "tandem-rules(5)", "events.jsonl"):
            self.assertIn(word, page)

    def test_tandem_rules_5_names_every_lua_function_of_the_readme(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        names = set(re.findall(r"\btandem\.(?:solve\.)?[a-z_]+(?=\s*[({\"])", readme))
        self.assertGreater(len(names), 20, sorted(names))
        page = unhyphenate(rendered(MAN5))
        for name in sorted(names):
            with self.subTest(function=name):
                self.assertTrue(name in page, f"{name} is not in tandem-rules(5)")
        for event in ("person", "enroll", "match", "meeting", "intro", "goal", "feedback", "review", "reup",
                      "close", "flag", "note"):
            self.assertIn(event, page)

    def test_make_install_puts_them_in_man1_and_man5(self):
        prefix = self.path("prefix")
        subprocess.run(["make", "-s", "install", f"PREFIX={prefix}"], cwd=ROOT, check=True, capture_output=True)
        for sub, name in (("man1", "tandem.1"), ("man5", "tandem-rules.5")):
            path = os.path.join(prefix, "share", "man", sub, name)
            self.assertTrue(os.path.exists(path), path)
        if shutil.which("man"):
            env = dict(os.environ, MANPATH=os.path.join(prefix, "share", "man"), MANWIDTH="100")
            p = subprocess.run(["man", "5", "tandem-rules"], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("tandem.solve.assign", p.stdout)
