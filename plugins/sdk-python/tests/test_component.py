"""The component adapter over the bindings componentize-py really generates
for wit/v0.4.0 (`make sdk-tests` generates them and names the folder in
CANVAS_PY_BINDINGS): every record, variant and enum converts by name both
ways, and a refused config becomes the WIT `err`. Skipped when the variable
is unset, i.e. in a plain `python3 -m unittest` without the toolchain."""

import os
import sys
import unittest

BINDINGS = os.environ.get("CANVAS_PY_BINDINGS")
if BINDINGS:
    sys.path.insert(0, BINDINGS)


@unittest.skipUnless(BINDINGS, "CANVAS_PY_BINDINGS is not set (make sdk-tests sets it)")
class ComponentAdapterTest(unittest.TestCase):
    def setUp(self):
        from componentize_py_types import Err
        from wit_world.imports import types as wit

        from canvas_sdk import component
        self.wit, self.Err, self.component = wit, Err, component

    def test_a_member_and_a_triggered_context_convert_to_the_sdk_types_and_back_unchanged(self):
        from canvas_sdk import types as core
        from canvas_sdk.testing import context_at, day, instant_on, member, run_on, triggered_by
        run = triggered_by({}, "coupon_issued", instant_on(day(2026, 3, 1)), '{"coupon_id":"C7"}', 60)
        m = (member("m").birthday(1990, 2, 28).ordered(day(2026, 2, 1), 10.0, "dress")
             .event("coupon_issued", instant_on(day(2026, 3, 1)), '{"coupon_id":"C7"}')
             .decided("first", core.ActionKind.COUPON, core.DecisionStatus.DEFERRED, day(2026, 2, 2),
                      benefit=core.Benefit(core.BenefitKind.EARLY_ACCESS, 100, "gift"), variables={"sku": "S1"})
             .wecom_deleted(day(2026, 1, 1)).unsubscribed(None, day(2026, 1, 2)).build(run, [30]))
        as_wit = self.component.to_wit(m)
        self.assertIsInstance(as_wit, self.wit.Member)
        self.assertIsInstance(as_wit.reach.wecom, self.wit.WecomFriendship_Deleted)
        self.assertIs(as_wit.history[0].status, self.wit.DecisionStatus.DEFERRED)
        self.assertEqual(self.component.to_core(as_wit), m)
        context = context_at(run.run_at, "{}", trigger=run.trigger)
        self.assertEqual(self.component.to_core(self.component.to_wit(context)), context)

    def test_an_audience_with_levels_and_triggers_converts_to_the_generated_types(self):
        from canvas_sdk import Audience, level_in, on_event
        audience = Audience.when(level_in(3, 4)).on(on_event("x").unless_event("y", "id").unless_ordered())
        as_wit = self.component.to_wit(audience)
        self.assertIsInstance(as_wit, self.wit.Audience)
        self.assertEqual(as_wit.any_of[0].all_of[0], self.wit.Condition_LevelIn(bytes([3, 4])))
        self.assertIsInstance(as_wit.triggers[0].cancel_if[1], self.wit.CancelCondition_Ordered)

    def test_the_export_decides_through_decide_batch_and_refuses_a_config_as_the_wit_err(self):
        from canvas_sdk.testing import context_at, day, instant_on, member, run_on
        from test_sdk import BatchGreeter
        exported = self.component.export(BatchGreeter)()
        run = run_on(2026, 6, 1, {})
        members = [self.component.to_wit(member(i).build(run)) for i in ("a", "b")]
        touches = exported.decide(self.component.to_wit(context_at(run.run_at, "{}")), members)
        self.assertEqual([(t.member_id, t.step) for t in touches], [("a", "batch"), ("a", "hello"), ("b", "hello")])
        self.assertIsInstance(touches[0].action, self.wit.Action_Message)
        with self.assertRaises(self.Err) as refused:
            exported.audience_for('{"after_days": 0}')
        self.assertEqual(refused.exception.value, "invalid config for batch-greeter: after_days: must be at least 1 (is 0)")
        self.assertEqual(exported.describe().api_version, "0.4.0")


if __name__ == "__main__":
    unittest.main()
