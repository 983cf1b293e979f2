//! First-purchase nudge (加微未购促首购): a member who is a WeCom friend of the
//! brand at the run, whose current friendship began `after_days` days ago
//! (adding the brand again after deleting it starts a new one), and who never
//! bought gets a staff task — their guide hands over a first-order coupon.
//! Still no order `followup_days` after a dispatched first nudge: one
//! reminder. Never more than those two.

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub after_days: u32,
    pub followup_days: u32,
    pub template: String,
    pub followup_template: String,
    /// What the guide hands over.
    pub coupon: BenefitSpec,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            after_days: 30,
            followup_days: 7,
            template: "first_order_coupon".into(),
            followup_template: "first_order_reminder".into(),
            coupon: BenefitSpec::coupon(30.0),
        }
    }
}

pub const FIRST: &str = FirstThenFollowUp::FIRST;
pub const FOLLOWUP: &str = FirstThenFollowUp::FOLLOWUP;

pub struct FirstPurchaseNudge;

impl Strategy for FirstPurchaseNudge {
    const ID: &'static str = "first-purchase-nudge";
    const NAME: &'static str = "First-purchase nudge";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "WeCom friends who never bought: a guide hands them a first-order coupon, then one reminder.";
    type Config = Config;

    /// Day counts of 0 misbehave quietly: a daily run would nudge only the
    /// members who added the brand that morning, before the run, and a
    /// follow-up due the day of the first nudge is never asked for (the next
    /// run is a day later).
    fn check(c: &Config) -> Result<(), String> {
        check::at_least("after_days", c.after_days, 1)?;
        check::at_least("followup_days", c.followup_days, 1)?;
        check::template("template", &c.template)?;
        check::template("followup_template", &c.followup_template)?;
        c.coupon.check("coupon")
    }

    fn audience(c: &Config) -> Audience {
        let steps = FirstThenFollowUp { after_days: c.followup_days };
        Audience::when([Condition::WecomFriendNow, Condition::WecomAdded(exactly(c.after_days))])
            .or_any(steps.followup_clauses())
            .except([Condition::HasOrdered])
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let c = &run.config;
        if member.orders.orders > 0 {
            return vec![];
        }
        let added_days_ago = member.wecom_friend_since().map(|day| run.days_since(day));
        let steps = FirstThenFollowUp { after_days: c.followup_days };
        let Some(step) = steps.step_due(run, member, added_days_ago == Some(c.after_days as i32)) else {
            return vec![];
        };
        let template = if step == FIRST { &c.template } else { &c.followup_template };
        vec![Touch::staff_task(member, step, template, Some(c.coupon.benefit()))]
    }
}

register_strategy!(FirstPurchaseNudge);

#[cfg(test)]
mod tests {
    use super::*;
    use canvas_sdk::testing::*;

    fn steps(run: &Run<Config>, member: MemberBuilder) -> Vec<String> {
        FirstPurchaseNudge::decide(run, &member.build(run, &[])).into_iter().map(|t| t.step).collect()
    }

    #[test]
    fn the_default_config_passes_the_check() {
        assert_eq!(FirstPurchaseNudge::check(&Config::default()), Ok(()));
    }

    #[test]
    fn zero_days_a_coupon_worth_nothing_and_an_empty_template_are_refused_naming_the_key() {
        let refused = |config: Config| FirstPurchaseNudge::check(&config).unwrap_err();
        let d = Config::default;
        assert_eq!(refused(Config { after_days: 0, ..d() }), "after_days: must be at least 1 (is 0)");
        assert_eq!(refused(Config { followup_days: 0, ..d() }), "followup_days: must be at least 1 (is 0)");
        let free = Config { coupon: BenefitSpec::coupon(0.0), ..d() };
        assert_eq!(refused(free), "coupon.value: must be from 0.01 to 100000000 yuan (is 0)");
        assert!(refused(Config { template: "".into(), ..d() }).starts_with("template: must not be empty"));
        let no_followup = Config { followup_template: "".into(), ..d() };
        assert!(refused(no_followup).starts_with("followup_template: must not be empty"));
    }

    #[test]
    fn first_nudge_exactly_after_days_after_the_wecom_add() {
        let run = run_on(2026, 3, 31, Config::default());
        let added = |days_ago: i32| member("m").wecom_added(run.today - days_ago);
        assert!(steps(&run, added(29)).is_empty());
        assert_eq!(steps(&run, added(30)), [FIRST]);
        assert!(steps(&run, added(31)).is_empty());
        assert!(steps(&run, member("m")).is_empty(), "no WeCom add");
        assert!(steps(&run, added(30).ordered(run.today - 3, 99.0, "tops")).is_empty(), "already bought");
    }

    #[test]
    fn a_former_friend_is_not_nudged_and_a_re_add_starts_the_count_again() {
        let run = run_on(2026, 3, 31, Config::default());
        let deleted = member("m").wecom_added(run.today - 30).wecom_deleted(run.today - 2);
        assert!(steps(&run, deleted).is_empty(), "deleted the brand before the run");
        let re_added = |days_ago: i32| {
            member("m").wecom_added(run.today - 60).wecom_deleted(run.today - 45).wecom_added(run.today - days_ago)
        };
        assert_eq!(steps(&run, re_added(30)), [FIRST], "30 days after the re-add");
        assert!(steps(&run, re_added(29)).is_empty());
    }

    #[test]
    fn the_audience_asks_for_current_friends() {
        let audience = FirstPurchaseNudge::audience(&Config::default());
        assert!(audience.any_of[0].all_of.contains(&Condition::WecomFriendNow));
    }

    #[test]
    fn the_task_goes_to_the_members_guide_with_the_coupon() {
        let run = run_on(2026, 3, 31, Config::default());
        let touch = &FirstPurchaseNudge::decide(&run, &member("m").wecom_added(run.today - 30).build(&run, &[]))[0];
        let Action::StaffTask(task) = &touch.action else { panic!("a staff task") };
        assert_eq!(task.guide_id, "G001");
        assert_eq!(task.benefit.as_ref().map(|b| b.value), Some(3_000));
    }

    #[test]
    fn followup_only_after_a_dispatched_first_and_only_once() {
        let run = run_on(2026, 3, 31, Config::default());
        let first_on = |status, days_ago: i32| {
            member("m").wecom_added(run.today - 37).decided(FIRST, ActionKind::StaffTask, status, run.today - days_ago)
        };
        assert_eq!(steps(&run, first_on(DecisionStatus::Dispatched, 7)), [FOLLOWUP]);
        assert!(steps(&run, first_on(DecisionStatus::Dispatched, 6)).is_empty());
        assert!(steps(&run, first_on(DecisionStatus::Dispatched, 8)).is_empty());
        assert!(steps(&run, first_on(DecisionStatus::Suppressed, 7)).is_empty(), "the first was never sent");
        assert!(steps(&run, first_on(DecisionStatus::Holdout, 7)).is_empty(), "control members get nothing");
        assert_eq!(steps(&run, first_on(DecisionStatus::Deferred, 7)), [FOLLOWUP], "a deferred first is on its way");
        let reminded = first_on(DecisionStatus::Dispatched, 7).decided(
            FOLLOWUP,
            ActionKind::StaffTask,
            DecisionStatus::Dispatched,
            run.today - 1,
        );
        assert!(steps(&run, reminded).is_empty(), "never more than two");
        let bought = first_on(DecisionStatus::Dispatched, 7).ordered(run.today - 2, 99.0, "tops");
        assert!(steps(&run, bought).is_empty(), "a purchase between first and follow-up");
    }
}
