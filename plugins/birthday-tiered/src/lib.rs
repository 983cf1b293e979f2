//! Birthday tiered benefits (生日会员月度复购): on the first day of each month,
//! members whose birthday falls in that month get the benefit of their level.
//! Once per member per calendar year, whatever the schedule.

use std::collections::BTreeMap;

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub channel: String,
    pub template: String,
    /// The benefit for each member level (1..=4).
    pub levels: BTreeMap<u8, BenefitSpec>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            channel: "wecom".into(),
            template: "birthday_benefit".into(),
            levels: BTreeMap::from([
                (1, BenefitSpec::coupon(20.0)),
                (2, BenefitSpec::coupon(50.0)),
                (3, BenefitSpec::coupon(100.0)),
                (4, BenefitSpec::coupon(100.0).with_gift("birthday gift box")),
            ]),
        }
    }
}

pub struct BirthdayTiered;

const STEP: &str = "birthday";

impl Strategy for BirthdayTiered {
    const ID: &'static str = "birthday-tiered";
    const NAME: &'static str = "Birthday benefits by level";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "On the 1st of each month, members with a birthday that month get the benefit of their level.";
    const SCHEDULE: &'static str = MONTHLY_ON_THE_1ST_AT_10;
    type Config = Config;

    /// Levels are the member levels 1–4: a level 7 would never match anyone,
    /// and a benefit worth nothing is refused by the host on every touch.
    fn check(c: &Config) -> Result<(), String> {
        check::channel("channel", &c.channel)?;
        check::template("template", &c.template)?;
        for (level, benefit) in &c.levels {
            let key = format!("levels.{level}");
            check::member_level(&key, *level)?;
            benefit.check(&key)?;
        }
        Ok(())
    }

    fn audience(_: &Config) -> Audience {
        Audience::when([Condition::BirthdayInRunMonth])
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let birthday_this_month = member.profile.birthday.as_ref().is_some_and(|b| b.month == run.date.month);
        let this_year = |d: &PastDecision| calendar::date_of(d.day).year == run.date.year;
        if !birthday_this_month || member.decisions_at(STEP).any(this_year) {
            return vec![];
        }
        let Some(benefit) = run.config.levels.get(&member.profile.level) else {
            return vec![];
        };
        let c = &run.config;
        vec![Touch::coupon(member, STEP, &c.channel, &c.template, benefit.benefit()).var("level", member.profile.level)]
    }
}

register_strategy!(BirthdayTiered);

#[cfg(test)]
mod tests {
    use super::*;
    use canvas_sdk::testing::*;

    fn benefit_on(run: &Run<Config>, member: MemberBuilder) -> Option<Benefit> {
        let touches = BirthdayTiered::decide(run, &member.build(run, &[]));
        touches.first().and_then(|t| t.benefit().cloned())
    }

    fn refused(config: Config) -> String {
        BirthdayTiered::check(&config).expect_err("a config to refuse")
    }

    fn with_level(level: u8, benefit: BenefitSpec) -> Config {
        let mut config = Config::default();
        config.levels.insert(level, benefit);
        config
    }

    #[test]
    fn the_default_config_passes_the_check() {
        assert_eq!(BirthdayTiered::check(&Config::default()), Ok(()));
    }

    #[test]
    fn a_level_that_is_not_a_member_level_is_refused_naming_it() {
        let message = "levels.7: unknown member level; levels are 1–4";
        assert_eq!(refused(with_level(7, BenefitSpec::coupon(30.0))), message);
        assert_eq!(refused(with_level(0, BenefitSpec::coupon(30.0))), "levels.0: unknown member level; levels are 1–4");
    }

    #[test]
    fn a_benefit_worth_nothing_or_less_is_refused_naming_its_level() {
        let message = "levels.1.value: must be from 0.01 to 100000000 yuan (is -30)";
        assert_eq!(refused(with_level(1, BenefitSpec::coupon(-30.0))), message);
        assert!(refused(with_level(3, BenefitSpec::coupon(0.0))).starts_with("levels.3.value: "));
        let unnamed_gift = BenefitSpec { kind: BenefitSpecKind::Gift, value: 50.0, gift: None };
        assert!(refused(with_level(2, unnamed_gift)).starts_with("levels.2.gift: "));
    }

    #[test]
    fn an_empty_channel_or_template_is_refused_naming_the_key() {
        assert!(refused(Config { channel: "".into(), ..Config::default() }).starts_with("channel: must not be empty"));
        assert!(
            refused(Config { template: " ".into(), ..Config::default() }).starts_with("template: must not be empty")
        );
    }

    #[test]
    fn the_plugin_refuses_the_configs_of_issue_32_as_operators_write_them() {
        let audience = |json| canvas_sdk::export::audience::<BirthdayTiered>(json).unwrap_err();
        assert_eq!(
            audience(r#"{"levels": {"1": {"kind": "coupon", "value": -30}}}"#),
            "invalid config for birthday-tiered: levels.1.value: must be from 0.01 to 100000000 yuan (is -30)"
        );
        assert_eq!(
            audience(r#"{"levels": {"7": {"kind": "coupon", "value": 30}}}"#),
            "invalid config for birthday-tiered: levels.7: unknown member level; levels are 1–4"
        );
    }

    #[test]
    fn each_level_gets_its_tier() {
        let run = run_on(2026, 3, 1, Config::default());
        let value = |level| benefit_on(&run, member("m").level(level).birthday(1990, 3, 14)).map(|b| b.value);
        assert_eq!([1, 2, 3, 4].map(value), [Some(2_000), Some(5_000), Some(10_000), Some(10_000)]);
        let v4 = benefit_on(&run, member("m").level(4).birthday(1990, 3, 14)).unwrap();
        assert_eq!(v4.gift.as_deref(), Some("birthday gift box"));
    }

    #[test]
    fn leap_day_birthdays_are_february_birthdays_in_common_years() {
        let run = run_on(2027, 2, 1, Config::default());
        assert!(benefit_on(&run, member("m").birthday(2000, 2, 29)).is_some());
        let march = run_on(2027, 3, 1, Config::default());
        assert!(benefit_on(&march, member("m").birthday(2000, 2, 29)).is_none());
    }

    #[test]
    fn once_per_member_per_year() {
        let run = run_on(2026, 3, 1, Config::default());
        let earlier = day(2026, 3, 1);
        let decided =
            member("m").birthday(1990, 3, 14).decided(STEP, ActionKind::Coupon, DecisionStatus::Dispatched, earlier);
        assert!(benefit_on(&run, decided).is_none());
        let last_year = member("m").birthday(1990, 3, 14).decided(
            STEP,
            ActionKind::Coupon,
            DecisionStatus::Dispatched,
            day(2025, 3, 1),
        );
        assert!(benefit_on(&run, last_year).is_some());
    }
}
