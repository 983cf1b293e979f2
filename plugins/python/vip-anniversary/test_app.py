"""The VIP anniversary's rules, in plain Python (no component build)."""

import unittest

from app import STEP, Strategy
from canvas_sdk import ActionKind, ConfigError, DecisionStatus
from canvas_sdk.testing import day, member, run_on

S = Strategy()


class VipAnniversaryTest(unittest.TestCase):
    def decide(self, run, builder):
        return S.decide_member(run, builder.build(run))

    def test_a_vip_member_is_thanked_on_the_anniversary_with_more_in_milestone_years(self):
        run = run_on(2027, 3, 14, S.config_of("{}"))
        [third] = self.decide(run, member("m").level(3).joined(day(2024, 3, 14)))
        self.assertEqual((third.variables, third.benefit().value), ([("years", "3")], 5000))
        [second] = self.decide(run, member("m").level(4).joined(day(2025, 3, 14)))
        self.assertEqual((second.variables, second.benefit().value), ([("years", "2")], 2000))

    def test_a_29_february_join_is_thanked_on_28_february_in_common_years(self):
        run = run_on(2027, 2, 28, S.config_of("{}"))
        self.assertEqual(len(self.decide(run, member("m").level(3).joined(day(2024, 2, 29)))), 1)
        self.assertEqual(self.decide(run_on(2027, 3, 1, S.config_of("{}")),
                                     member("m").level(3).joined(day(2024, 2, 29))), [])

    def test_no_thanks_below_a_vip_level_before_a_year_or_twice_a_year(self):
        run = run_on(2027, 3, 14, S.config_of("{}"))
        self.assertEqual(self.decide(run, member("m").level(2).joined(day(2024, 3, 14))), [])
        self.assertEqual(self.decide(run, member("m").level(3).joined(day(2027, 3, 14))), [])
        thanked = member("m").level(3).joined(day(2024, 3, 14)).decided(
            STEP, ActionKind.COUPON, DecisionStatus.DISPATCHED, day(2027, 3, 14))
        self.assertEqual(self.decide(run, thanked), [])

    def test_asks_for_each_of_50_years_and_refuses_a_level_that_does_not_exist(self):
        self.assertEqual(len(S.audience_for("{}").any_of), 50)
        with self.assertRaises(ConfigError) as refused:
            S.audience_for('{"levels": [3, 7]}')
        self.assertEqual(str(refused.exception),
                         "invalid config for vip-anniversary: levels.1: unknown member level; levels are 1–4")


if __name__ == "__main__":
    unittest.main()
