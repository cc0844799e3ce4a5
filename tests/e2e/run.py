#!/usr/bin/env python3
"""Runs every end-to-end test (tests/e2e/test_*.py) against build/tandem, or only the ones
named on the command line (test_daemon, test_faults.JournalFaults, ...).
Prints 'N passed, N failed' last; exits non-zero if any failed."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
if sys.argv[1:]:
    suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:])
else:
    suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py", top_level_dir=here)
result = unittest.TextTestRunner(verbosity=2).run(suite)
failed = len(result.failures) + len(result.errors)
passed = result.testsRun - failed - len(result.skipped)
print(f"e2e: {passed} passed, {failed} failed" + (f", {len(result.skipped)} skipped" if result.skipped else ""))
sys.exit(1 if failed or result.testsRun == 0 else 0)
