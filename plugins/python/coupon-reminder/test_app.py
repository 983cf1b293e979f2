"""The coupon reminder's rules, in plain Python (no component build)."""

import unittest

from app import COUPON_ID, ISSUED, REDEEMED, STEP, Strategy
from canvas_sdk import ONLY_ON_TRIGGERS, CancelCondition_Event, ConfigError, LaterEvent
from canvas_sdk.testing import day, instant_on, member, run_on, triggered_by

S = Strategy()
ISSUED_AT = instant_on(day(2026, 3, 1))


class CouponReminderTest(unittest.TestCase):
    def test_a_reminder_at_0_hours_or_not_before_giving_up_is_refused_naming_the_key(self):
        cases = {
            '{"remind_after_hours": 0}': "remind_after_hours: must be at least 1 (is 0)",
            '{"remind_after_hours": 30}': "give_up_after_hours: must be more than remind_after_hours, 30 (is 24)",
            '{"remind_after_hours": 24}': "give_up_after_hours: must be more than remind_after_hours, 24 (is 24)",
            '{"template": ""}': "template: must not be empty; 1–128 bytes",
        }
        for raw, message in cases.items():
            with self.assertRaises(ConfigError) as refused:
                S.audience_for(raw)
            self.assertEqual(str(refused.exception), f"invalid config for coupon-reminder: {message}")
        S.audience_for('{"remind_after_hours": 23}')

    def test_it_reacts_to_coupons_an_hour_later_unless_redeemed_and_never_runs_on_a_schedule(self):
        audience = S.audience_for("{}")
        self.assertEqual(audience.any_of, [], "nobody on a schedule")
        self.assertEqual(S.describe().schedule, ONLY_ON_TRIGGERS)
        [trigger] = audience.triggers
        self.assertEqual((trigger.event_kind, trigger.delay_minutes, trigger.requires_attrs), (ISSUED, 60, [COUPON_ID]))
        self.assertEqual(trigger.cancel_if, [CancelCondition_Event(LaterEvent(kind=REDEEMED, same_attr=COUPON_ID))])
        self.assertEqual(S.audience_for('{"remind_after_hours": 3}').triggers[0].delay_minutes, 180)

    def test_a_triggered_call_reminds_of_the_coupon_that_triggered_it(self):
        run = triggered_by(S.config_of("{}"), ISSUED, ISSUED_AT, '{"coupon_id":"C7"}', 60)
        [touch] = S.decide_member(run, member("m").build(run))
        self.assertEqual((touch.step, touch.channel, touch.variables), (STEP, "wecom", [(COUPON_ID, "C7")]))

    def test_a_call_past_giving_up_or_without_a_trigger_or_coupon_id_reminds_nobody(self):
        late = triggered_by(S.config_of("{}"), ISSUED, ISSUED_AT, '{"coupon_id":"C7"}', 24 * 60 + 1)
        self.assertEqual(S.decide_member(late, member("m").build(late)), [], "the moment has passed")
        last_minute = triggered_by(S.config_of("{}"), ISSUED, ISSUED_AT, '{"coupon_id":"C7"}', 24 * 60)
        self.assertEqual(len(S.decide_member(last_minute, member("m").build(last_minute))), 1)
        scheduled = run_on(2026, 3, 1, S.config_of("{}"))
        self.assertEqual(S.decide_member(scheduled, member("m").build(scheduled)), [])
        no_id = triggered_by(S.config_of("{}"), ISSUED, ISSUED_AT, "{}", 60)
        self.assertEqual(S.decide_member(no_id, member("m").build(no_id)), [])


if __name__ == "__main__":
    unittest.main()
