//! Second-purchase nudge (新客二回促复购): a member whose first order was
//! exactly `after_days` days ago, with no order on any later day, gets a
//! reminder that day; still no new order `followup_days` after that
//! (dispatched) reminder, one more.

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub after_days: u32,
    pub followup_days: u32,
    pub channel: String,
    pub template: String,
    pub followup_template: String,
    pub coupon: BenefitSpec,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            after_days: 60,
            followup_days: 7,
            channel: "wecom".into(),
            template: "second_order_coupon".into(),
            followup_template: "second_order_reminder".into(),
            coupon: BenefitSpec::coupon(20.0),
        }
    }
}

pub const FIRST: &str = FirstThenFollowUp::FIRST;
pub const FOLLOWUP: &str = FirstThenFollowUp::FOLLOWUP;

pub struct SecondPurchaseNudge;

impl Strategy for SecondPurchaseNudge {
    const ID: &'static str = "second-purchase-nudge";
    const NAME: &'static str = "Second-purchase nudge";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "New customers with no second order `after_days` after their first: a coupon, then one reminder.";
    type Config = Config;

    /// Day counts of 0 make no sense: no second order 0 days after the
    /// first is every new customer on the day they bought, and a follow-up
    /// due the day of the first reminder is never asked for (the next run is
    /// a day later).
    fn check(c: &Config) -> Result<(), String> {
        check::at_least("after_days", c.after_days, 1)?;
        check::at_least("followup_days", c.followup_days, 1)?;
        check::channel("channel", &c.channel)?;
        check::template("template", &c.template)?;
        check::template("followup_template", &c.followup_template)?;
        c.coupon.check("coupon")
    }

    fn audience(c: &Config) -> Audience {
        let steps = FirstThenFollowUp { after_days: c.followup_days };
        // First and latest order on the same day: nothing on any later day.
        let lone_first_order =
            Clause::all([Condition::FirstOrder(exactly(c.after_days)), Condition::LastOrder(exactly(c.after_days))]);
        Audience::any([lone_first_order]).or_any(steps.followup_clauses())
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let c = &run.config;
        let o = &member.orders;
        let (Some(first_day), Some(last_day)) = (o.first_order_day, o.last_order_day) else {
            return vec![];
        };
        if last_day != first_day {
            return vec![];
        }
        let steps = FirstThenFollowUp { after_days: c.followup_days };
        let Some(step) = steps.step_due(run, member, run.days_since(first_day) == c.after_days as i32) else {
            return vec![];
        };
        let template = if step == FIRST { &c.template } else { &c.followup_template };
        vec![Touch::coupon(member, step, &c.channel, template, c.coupon.benefit())]
    }
}

register_strategy!(SecondPurchaseNudge);

#[cfg(test)]
mod tests {
    use super::*;
    use canvas_sdk::testing::*;

    fn steps(run: &Run<Config>, member: MemberBuilder) -> Vec<String> {
        SecondPurchaseNudge::decide(run, &member.build(run, &[])).into_iter().map(|t| t.step).collect()
    }

    #[test]
    fn the_default_config_passes_the_check() {
        assert_eq!(SecondPurchaseNudge::check(&Config::default()), Ok(()));
    }

    #[test]
    fn zero_days_a_coupon_worth_nothing_and_an_empty_channel_or_template_are_refused_naming_the_key() {
        let refused = |config: Config| SecondPurchaseNudge::check(&config).unwrap_err();
        let d = Config::default;
        assert_eq!(refused(Config { after_days: 0, ..d() }), "after_days: must be at least 1 (is 0)");
        assert_eq!(refused(Config { followup_days: 0, ..d() }), "followup_days: must be at least 1 (is 0)");
        let negative = Config { coupon: BenefitSpec::coupon(-5.0), ..d() };
        assert_eq!(refused(negative), "coupon.value: must be from 0.01 to 100000000 yuan (is -5)");
        assert!(refused(Config { channel: "".into(), ..d() }).starts_with("channel: must not be empty"));
        assert!(refused(Config { template: "".into(), ..d() }).starts_with("template: must not be empty"));
        let no_followup = Config { followup_template: "".into(), ..d() };
        assert!(refused(no_followup).starts_with("followup_template: must not be empty"));
    }

    #[test]
    fn first_reminder_exactly_after_days_after_a_lone_first_order() {
        let run = run_on(2026, 5, 1, Config::default());
        let bought = |days_ago: i32| member("m").ordered(run.today - days_ago, 199.0, "dress");
        assert!(steps(&run, bought(59)).is_empty());
        assert_eq!(steps(&run, bought(60)), [FIRST]);
        assert!(steps(&run, bought(61)).is_empty());
        let twice_that_day = bought(60).ordered(run.today - 60, 99.0, "tops");
        assert_eq!(steps(&run, twice_that_day), [FIRST], "two orders on the first day are still one visit");
        assert!(steps(&run, bought(60).ordered(run.today - 20, 99.0, "tops")).is_empty(), "came back already");
    }

    #[test]
    fn followup_only_after_a_dispatched_first_and_no_new_order() {
        let run = run_on(2026, 5, 1, Config::default());
        let nudged = |status, days_ago: i32| {
            member("m").ordered(run.today - 67, 199.0, "dress").decided(
                FIRST,
                ActionKind::Coupon,
                status,
                run.today - days_ago,
            )
        };
        assert_eq!(steps(&run, nudged(DecisionStatus::Dispatched, 7)), [FOLLOWUP]);
        assert!(steps(&run, nudged(DecisionStatus::Dispatched, 6)).is_empty());
        assert!(steps(&run, nudged(DecisionStatus::Suppressed, 7)).is_empty());
        let bought_in_between = nudged(DecisionStatus::Dispatched, 7).ordered(run.today - 3, 99.0, "tops");
        assert!(steps(&run, bought_in_between).is_empty());
    }
}
