"""__NAME__'s rules in plain Python, no component build: `python3 -m unittest`."""

import unittest

from app import Strategy
from canvas_sdk import ConfigError
from canvas_sdk.testing import member, run_on

S = Strategy()


class StrategyTest(unittest.TestCase):
    def test_welcomes_with_the_member_name(self):
        run = run_on(2026, 6, 10, S.config_of("{}"))
        [touch] = S.decide_member(run, member("M1").build(run))
        self.assertEqual((touch.step, touch.variables), ("welcome", [("name", "Member M1")]))

    def test_zero_days_is_refused_naming_the_key(self):
        with self.assertRaises(ConfigError) as refused:
            S.audience_for('{"after_days": 0}')
        self.assertEqual(str(refused.exception), "invalid config for __ID__: after_days: must be at least 1 (is 0)")


if __name__ == "__main__":
    unittest.main()
