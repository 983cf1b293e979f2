//! 90-day dormant recall (沉睡老客召回): a member whose latest order was exactly
//! `after_days` days before the run date is recalled that day with a
//! new-customer-grade benefit. A new order resets the clock.

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub after_days: u32,
    pub channel: String,
    pub template: String,
    /// "Treat like a new customer": a free gift or a lottery entry.
    pub benefit: BenefitSpec,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            after_days: 90,
            channel: "wecom".into(),
            template: "dormant_recall".into(),
            benefit: BenefitSpec::gift(30.0, "new-customer gift"),
        }
    }
}

pub struct DormantRecall;

impl Strategy for DormantRecall {
    const ID: &'static str = "dormant-recall";
    const NAME: &'static str = "90-day dormant recall";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Recalls members whose last purchase was exactly `after_days` days ago, with a new-customer benefit.";
    type Config = Config;

    /// 0 days would recall members on the day they bought.
    fn check(c: &Config) -> Result<(), String> {
        check::at_least("after_days", c.after_days, 1)?;
        check::channel("channel", &c.channel)?;
        check::template("template", &c.template)?;
        c.benefit.check("benefit")
    }

    fn audience(config: &Config) -> Audience {
        Audience::when([Condition::LastOrder(exactly(config.after_days))])
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let dormant_for = member.orders.last_order_day.map(|day| run.days_since(day));
        if dormant_for != Some(run.config.after_days as i32) {
            return vec![];
        }
        let c = &run.config;
        vec![Touch::coupon(member, "recall", &c.channel, &c.template, c.benefit.benefit())
            .var("days_since_last_order", c.after_days)]
    }
}

register_strategy!(DormantRecall);

#[cfg(test)]
mod tests {
    use super::*;
    use canvas_sdk::testing::*;

    fn decide_on(run: &Run<Config>, member: MemberBuilder) -> Vec<Touch> {
        DormantRecall::decide(run, &member.build(run, &[]))
    }

    #[test]
    fn the_default_config_passes_the_check() {
        assert_eq!(DormantRecall::check(&Config::default()), Ok(()));
    }

    #[test]
    fn zero_days_a_benefit_worth_nothing_and_an_empty_channel_or_template_are_refused_naming_the_key() {
        let refused = |config: Config| DormantRecall::check(&config).unwrap_err();
        let d = Config::default;
        assert_eq!(refused(Config { after_days: 0, ..d() }), "after_days: must be at least 1 (is 0)");
        let negative = Config { benefit: BenefitSpec::coupon(-30.0), ..d() };
        assert_eq!(refused(negative), "benefit.value: must be from 0.01 to 100000000 yuan (is -30)");
        let unnamed_gift = Config { benefit: BenefitSpec { gift: None, ..d().benefit }, ..d() };
        assert!(refused(unnamed_gift).starts_with("benefit.gift: "));
        assert!(refused(Config { channel: "".into(), ..d() }).starts_with("channel: must not be empty"));
        assert!(refused(Config { template: "".into(), ..d() }).starts_with("template: must not be empty"));
    }

    #[test]
    fn recalls_exactly_after_days_after_the_last_order() {
        let run = run_on(2026, 6, 1, Config::default());
        let last = run.today - 90;
        assert_eq!(
            decide_on(&run, member("m").ordered(last - 30, 99.0, "tops").ordered(last, 199.0, "dress")).len(),
            1
        );
        assert!(decide_on(&run, member("m").ordered(last + 1, 199.0, "dress")).is_empty(), "89 days");
        assert!(decide_on(&run, member("m").ordered(last - 1, 199.0, "dress")).is_empty(), "91 days");
        assert!(decide_on(&run, member("m")).is_empty(), "never ordered");
    }

    #[test]
    fn config_changes_the_day_count_and_the_benefit() {
        let config = Config { after_days: 60, benefit: BenefitSpec::coupon(15.0), ..Config::default() };
        let run = run_on(2026, 6, 1, config);
        let touches = decide_on(&run, member("m").ordered(run.today - 60, 199.0, "dress"));
        assert_eq!(touches[0].benefit().map(|b| b.value), Some(1_500));
    }
}
