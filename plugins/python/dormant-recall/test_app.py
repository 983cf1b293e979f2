"""The dormant recall's rules, in plain Python (no component build)."""

import unittest

from app import Strategy
from canvas_sdk import ConfigError
from canvas_sdk.testing import day, member, run_on

S = Strategy()


class DormantRecallTest(unittest.TestCase):
    def run_on(self, config="{}"):
        return run_on(2026, 6, 1, S.config_of(config))

    def test_the_default_config_passes_the_check(self):
        self.assertEqual(S.config_of("{}")["after_days"], 90)

    def test_zero_days_a_benefit_worth_nothing_and_an_empty_channel_are_refused_naming_the_key(self):
        cases = {
            '{"after_days": 0}': "invalid config for dormant-recall: after_days: must be at least 1 (is 0)",
            '{"channel": " "}': "invalid config for dormant-recall: channel: must not be empty; 1–64 bytes",
            '{"benefit": {"kind": "coupon", "value": 0}}':
                "invalid config for dormant-recall: benefit.value: must be from 0.01 to 100000000 yuan (is 0)",
        }
        for raw, message in cases.items():
            with self.assertRaises(ConfigError) as refused:
                S.audience_for(raw)
            self.assertEqual(str(refused.exception), message)

    def test_a_member_whose_last_order_was_exactly_after_days_ago_is_recalled_with_the_benefit(self):
        run = self.run_on()
        dormant = member("m").ordered(day(2026, 3, 3), 199.0, "dress").build(run)
        [touch] = S.decide_member(run, dormant)
        self.assertEqual((touch.step, touch.variables), ("recall", [("days_since_last_order", "90")]))
        self.assertEqual((touch.benefit().value, touch.benefit().gift), (3000, "new-customer gift"))

    def test_a_day_early_a_day_late_or_a_newer_order_recalls_nobody(self):
        run = self.run_on()
        for last in (day(2026, 3, 2), day(2026, 3, 4)):
            self.assertEqual(S.decide_member(run, member("m").ordered(last, 99.0, "dress").build(run)), [])
        again = member("m").ordered(day(2026, 3, 3), 99.0, "dress").ordered(day(2026, 5, 1), 99.0, "dress")
        self.assertEqual(S.decide_member(run, again.build(run)), [])
        self.assertEqual(S.decide_member(run, member("never").build(run)), [])


if __name__ == "__main__":
    unittest.main()
