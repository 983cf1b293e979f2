"""The Python SDK's core, in plain Python: config and checks, audience and
trigger builders, member and run helpers, the decide_batch path, the testing
fixtures. `python3 -m unittest discover -s tests` from plugins/sdk-python."""

import json
import unittest
from typing import List, Sequence

from canvas_sdk import *
from canvas_sdk.testing import context_at, day, instant_on, member, product, run_on, triggered_by


class BatchGreeter(Plugin):
    """Greets each member, and each batch once, in front of them."""

    ID = "batch-greeter"
    DEFAULT_CONFIG = {"after_days": 90}

    def check(self, config: Config) -> None:
        check.at_least("after_days", config["after_days"], 1)

    def audience(self, config: Config) -> Audience:
        return Audience.when(has_ordered())

    def decide_member(self, run: Run[Config], m: Member) -> List[Touch]:
        return [message(m, "hello", "wecom", "hello")]

    def decide_batch(self, run: Run[Config], members: Sequence[Member]) -> List[Touch]:
        return [message(members[0], "batch", "wecom", "batch")] + super().decide_batch(run, members)


class ConfigTest(unittest.TestCase):
    def test_a_config_the_strategy_refuses_is_an_error_from_audience_and_from_decide(self):
        refused = "invalid config for batch-greeter: after_days: must be at least 1 (is 0)"
        for call in (lambda: BatchGreeter().audience_for('{"after_days": 0}'),
                     lambda: BatchGreeter().decide(context_at(0, '{"after_days": 0}'), [])):
            with self.assertRaises(ConfigError) as e:
                call()
            self.assertEqual(str(e.exception), refused)

    def test_an_unknown_key_a_wrong_type_or_no_object_is_refused_before_the_check(self):
        cases = {'{"after_dayz": 1}': "unknown field `after_dayz`, expected one of after_days",
                 '{"after_days": "9"}': "after_days: must be a number, not a string",
                 '{"after_days": 1.5}': "after_days: must be a whole number (is 1.5)",
                 '[]': "expected a JSON object"}
        for raw, message in cases.items():
            with self.assertRaises(ConfigError) as e:
                BatchGreeter().audience_for(raw)
            self.assertEqual(str(e.exception), f"invalid config for batch-greeter: {message}")

    def test_checks_name_the_key_and_the_limit(self):
        def refused(call) -> str:
            with self.assertRaises(ConfigError) as e:
                call()
            return str(e.exception)
        self.assertEqual(refused(lambda: check.member_level("levels.7", 7)), "levels.7: unknown member level; levels are 1–4")
        self.assertEqual(refused(lambda: check.channel("channel", "x" * 65)), "channel: is 65 bytes long; at most 64 bytes")
        self.assertTrue(refused(lambda: check.template("t", "coupon\x07")).startswith("t: must not hold control"))
        check.template("template", "x" * 128)
        check.member_level("levels", 4)

    def test_a_benefit_is_checked_as_the_rust_sdk_checks_it_and_rounds_yuan_to_fen_half_away_from_zero(self):
        def refused(spec: BenefitSpec) -> str:
            with self.assertRaises(ConfigError) as e:
                spec.check("levels.1")
            return str(e.exception)
        self.assertEqual(refused(BenefitSpec.coupon(-30)), "levels.1.value: must be from 0.01 to 100000000 yuan (is -30)")
        self.assertEqual(refused(BenefitSpec.coupon(0.004)), "levels.1.value: must be from 0.01 to 100000000 yuan (is 0.004)")
        self.assertEqual(refused(BenefitSpec.coupon(float("nan"))), "levels.1.value: must be from 0.01 to 100000000 yuan (is NaN)")
        self.assertEqual(refused(BenefitSpec.coupon(1e308)), f"levels.1.value: must be from 0.01 to 100000000 yuan (is 1{'0' * 308})")
        self.assertTrue(refused(BenefitSpec("gift", 30)).startswith('levels.1.gift: a benefit of kind "gift"'))
        BenefitSpec.coupon(MAX_BENEFIT_YUAN).check("b")
        self.assertEqual(benefit({"kind": "coupon", "value": 0.125}).value, 13)
        self.assertEqual(benefit({"kind": "early_access", "value": 19.99}).kind, BenefitKind.EARLY_ACCESS)
        with self.assertRaises(ConfigError) as e:
            benefit({"kind": "voucher", "value": 1}, "levels.2")
        self.assertTrue(str(e.exception).startswith('levels.2.kind: unknown benefit kind "voucher"'))


class AudienceTest(unittest.TestCase):
    def test_the_builders_make_the_wit_records_the_rust_sdk_makes(self):
        a = (Audience.when(last_order(within(30)), none_of=[wecom_friend_now()]).or_(clause(level_in(3, 4)))
             .except_(has_ordered()).with_order_windows(30, 180).with_events(["coupon_redeemed"], 48)
             .with_launches(14))
        self.assertEqual(a.any_of[0].all_of, [Condition_LastOrder(DaysAgo(0, 29))])
        self.assertEqual(a.any_of[0].none_of, [Condition_WecomFriendNow(), Condition_HasOrdered()])
        self.assertEqual(a.any_of[1].none_of, [Condition_HasOrdered()])
        self.assertEqual((a.order_windows, a.event_kinds, a.event_lookback_hours, a.launch_lookback_days),
                         ([30, 180], ["coupon_redeemed"], 48, 14))
        self.assertEqual(untold_launch_in_bought_category(30, "tell", "sku"),
                         Condition_UntoldLaunchInBoughtCategory(UntoldLaunch(30, "tell", "sku")))
        self.assertEqual(spend_within(90, 50_000), Condition_SpendWithin(SpendAmount(90, 50_000)))
        self.assertEqual(Audience.nobody().any_of, [])

    def test_a_trigger_has_its_kind_attributes_delay_and_cancellations(self):
        a = Audience.nobody().on(on_event("coupon_issued").requires("coupon_id").after_hours(2)
                                 .unless_event("coupon_redeemed", same_attr="coupon_id").unless_ordered())
        self.assertEqual(a.triggers, [Trigger("coupon_issued", ["coupon_id"], 120, [
            CancelCondition_Event(LaterEvent("coupon_redeemed", "coupon_id")), CancelCondition_Ordered()])])
        self.assertEqual(on_event("product_view").trigger.delay_minutes, 0, "at once unless told")


class RunAndMemberTest(unittest.TestCase):
    def test_decide_goes_through_an_overridden_decide_batch(self):
        run_at = instant_on(day(2026, 6, 1))
        run = run_on(2026, 6, 1, {})
        members = [member(i).build(run) for i in ("a", "b")]
        touches = BatchGreeter().decide(context_at(run_at, "{}"), members)
        self.assertEqual([(t.member_id, t.step) for t in touches], [("a", "batch"), ("a", "hello"), ("b", "hello")])

    def test_a_triggered_run_carries_its_event_and_the_event_attributes_read_as_the_rust_sdk_reads_them(self):
        run = triggered_by({}, "coupon_issued", instant_on(day(2026, 3, 1)), '{"coupon_id":"C7","n":3,"o":{"b":1,"a":[true]}}', 90)
        self.assertEqual((run.trigger.kind, run.minutes_since(run.trigger.at)), ("coupon_issued", 90))
        self.assertEqual((run.trigger_attr("coupon_id"), run.trigger_attr("n"), run.trigger_attr("o")),
                         ("C7", "3", '{"a":[true],"b":1}'))
        self.assertIsNone(run.trigger_attr("missing"))
        self.assertIsNone(run_on(2026, 3, 1, {}).trigger_attr("coupon_id"))

    def test_spend_windows_categories_events_history_and_reach_read_as_built(self):
        run = run_on(2026, 6, 1, {})
        m = (member("m").ordered(day(2026, 5, 30), 100.0, "dress").ordered(day(2026, 3, 1), 50.5, "bag")
             .ordered(day(2026, 5, 1), 20.0, "dress").ordered(day(2026, 7, 1), 999.0, "future")
             .event("coupon_issued", instant_on(day(2026, 5, 31)), '{"coupon_id":"C1"}')
             .decided("first", ActionKind.MESSAGE, DecisionStatus.HOLDOUT, day(2026, 5, 1))
             .wecom_added(day(2025, 1, 1)).unsubscribed("sms", day(2026, 1, 1)).build(run, [30, 120]))
        self.assertEqual(m.orders.window(30), WindowStats(30, 1, 10_000))
        self.assertEqual(m.orders.window(120), WindowStats(120, 3, 17_050))
        self.assertEqual((m.orders.orders, m.orders.favourite_category().category), (3, "dress"))
        self.assertTrue(m.orders.has_bought("bag") and not m.orders.has_bought("future"))
        self.assertEqual(m.events_of("coupon_issued")[0].attr("coupon_id"), "C1")
        [first] = m.decisions_at("first")
        self.assertTrue(first.had_turn() and not first.was_sent() and m.last_sent("first") is None)
        self.assertEqual(m.wecom_friend_since(), day(2025, 1, 1))
        self.assertTrue(m.reach.consents_to("wecom") and not m.reach.consents_to("sms"))

    def test_the_calendar_counts_leap_days_and_anniversaries_as_the_rust_sdk(self):
        self.assertEqual(date_of(20_513), Date(2026, 3, 1))
        self.assertEqual(day_of(Date(1970, 1, 1)), 0)
        self.assertEqual(whole_years(Date(2024, 2, 29), Date(2025, 2, 28)), 1)
        self.assertEqual(whole_years(Date(2024, 2, 29), Date(2025, 2, 27)), 0)
        self.assertTrue(run_on(2027, 2, 28, {}).is_anniversary_of(Date(2024, 2, 29)))

    def test_touch_builders_carry_the_member_the_guide_and_the_group_buy(self):
        run = run_on(2026, 6, 1, {})
        m = member("m").guide("G7").build(run)
        task = staff_task(m, "call", "call_back", BenefitSpec.coupon(20).benefit())
        self.assertEqual((task.channel, task.action.value.guide_id, task.benefit().value), ("wecom", "G7", 2000))
        invite = group_buy_invite(m, "invite", "sms", "group_buy", group_buy("SKU1", 3, 9_900), {"sku": "SKU1"})
        self.assertEqual((invite.action, invite.variables), (Action_GroupBuyInvite(GroupBuy("SKU1", 3, 9_900)), [("sku", "SKU1")]))
        self.assertIsNone(invite.benefit())
        launches = [product("N1", "dress", day(2026, 5, 30))]
        self.assertEqual(Run(context_at(run.run_at, launches=launches), {}).launches[0].launched_day, day(2026, 5, 30))

    def test_first_then_follow_up_follows_a_sent_first_once_after_the_days(self):
        flow, run = FirstThenFollowUp(after_days=7), run_on(2026, 6, 8, {})
        self.assertEqual(flow.step_due(run, member("m").build(run), True), "first")
        sent = member("m").decided("first", ActionKind.MESSAGE, DecisionStatus.DISPATCHED, day(2026, 6, 1))
        self.assertEqual(flow.step_due(run, sent.build(run), True), "followup")
        held = member("m").decided("first", ActionKind.MESSAGE, DecisionStatus.HOLDOUT, day(2026, 6, 1))
        self.assertIsNone(flow.step_due(run, held.build(run), True))
        self.assertEqual(len(flow.followup_clauses()), 2)

    def test_the_manifest_says_the_api_version_and_the_default_config(self):
        manifest = BatchGreeter().describe()
        self.assertEqual((manifest.api_version, json.loads(manifest.default_config)), ("0.4.0", {"after_days": 90}))


if __name__ == "__main__":
    unittest.main()
