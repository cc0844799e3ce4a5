"""tandem check suggests the nearest name for a misspelt model, program field or event, at the
line of the slip, and suggests nothing for a name too far off to be one."""
from tandemtest import TandemCase, run

HEAD = 'local tandem = require "tandem"\ntandem.program {\n  name = "core",\n'


class DidYouMean(TandemCase):
    def check(self, text):
        path = self.write("acme.lua", text)
        p = run("check", path, check=1)
        return p.stderr.strip(), path

    def test_model(self):
        err, path = self.check(HEAD + '  model = "one_to_ne",\n}\n')
        self.assertEqual(err, f'tandem: {path}:4: program "core": unknown model "one_to_ne" '
                              '(did you mean "one_to_one"?)')

    def test_model_of_the_organizations_own(self):
        self.write("models/mentoring_circle.lua", 'return { match = function() return {} end }\n')
        err, _ = self.check(HEAD + '  model = "mentoring_circel",\n}\n')
        self.assertIn('(did you mean "mentoring_circle"?)', err)

    def test_core_and_model_fields(self):
        err, path = self.check(HEAD + '  model = "one_to_one",\n  cadance = "2w",\n}\n')
        self.assertIn(f'{path}:5: program "core": unknown field "cadance"', err)
        self.assertIn('(did you mean "cadence"?)', err)
        err, _ = self.check(HEAD + '  model = "rotational",\n  rotate_evry = "1mo",\n}\n')
        self.assertIn('(did you mean "rotate_every"?)', err)

    def test_event(self):
        err, path = self.check(HEAD + '  model = "one_to_one",\n}\ntandem.on("feedbak", function() end)\n')
        self.assertEqual(err, f'tandem: {path}:6: unknown event "feedbak" (did you mean "feedback"?)')

    def test_nothing_when_too_far_off(self):
        err, _ = self.check(HEAD + '  model = "zzzzzz",\n}\n')
        self.assertNotIn("did you mean", err)
        self.assertIn('unknown model "zzzzzz"', err)
        err, _ = self.check(HEAD + '  model = "one_to_one",\n}\ntandem.on("banana", function() end)\n')
        self.assertNotIn("did you mean", err)
        self.assertIn("events: person, enroll", err)
