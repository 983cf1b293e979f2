//! Coupon reminder: runs hourly. A coupon issued to a member — by a
//! strategy's dispatched decision or a `coupon_issued` event — that is not
//! redeemed (`coupon_redeemed` with its `coupon_id`) `remind_after_hours`
//! after it was issued gets one reminder. Coupons older than
//! `give_up_after_hours` are left alone. One reminder per member per run: the
//! oldest coupon first.

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub remind_after_hours: u32,
    pub give_up_after_hours: u32,
    pub channel: String,
    pub template: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            remind_after_hours: 1,
            give_up_after_hours: 24,
            channel: "wecom".into(),
            template: "coupon_reminder".into(),
        }
    }
}

pub const STEP: &str = "reminder";
pub const ISSUED: &str = "coupon_issued";
pub const REDEEMED: &str = "coupon_redeemed";

pub struct CouponReminder;

impl Strategy for CouponReminder {
    const ID: &'static str = "coupon-reminder";
    const NAME: &'static str = "Unredeemed coupon reminder";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Reminds a member once of a coupon not redeemed within the hour.";
    const SCHEDULE: &'static str = HOURLY;
    type Config = Config;

    /// A reminder comes at least an hour after the coupon (the runs are
    /// hourly, so 0 would remind coupons issued minutes ago), and before the
    /// strategy gives up on the coupon: with `give_up_after_hours` not past
    /// `remind_after_hours` no coupon would ever be reminded.
    fn check(c: &Config) -> Result<(), String> {
        check::at_least("remind_after_hours", c.remind_after_hours, 1)?;
        if c.give_up_after_hours <= c.remind_after_hours {
            return Err(format!(
                "give_up_after_hours: must be more than remind_after_hours, {} (is {})",
                c.remind_after_hours, c.give_up_after_hours
            ));
        }
        check::channel("channel", &c.channel)?;
        check::template("template", &c.template)
    }

    fn audience(c: &Config) -> Audience {
        let issued = RecentEvent { kind: ISSUED.into(), within_hours: c.give_up_after_hours };
        Audience::when([Condition::Event(issued)]).events([ISSUED, REDEEMED], c.give_up_after_hours)
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let c = &run.config;
        let redeemed: Vec<String> = member.events_of(REDEEMED).filter_map(|e| e.attr("coupon_id")).collect();
        let reminded = |id: &str| member.decisions_at(STEP).any(|d| d.var("coupon_id") == Some(id));
        let due = member.events_of(ISSUED).find_map(|e| {
            let id = e.attr("coupon_id")?;
            let age = run.minutes_since(e.at);
            let in_window = age >= i64::from(c.remind_after_hours) * 60 && age <= i64::from(c.give_up_after_hours) * 60;
            (in_window && !redeemed.contains(&id) && !reminded(&id)).then_some(id)
        });
        let Some(coupon_id) = due else {
            return vec![];
        };
        vec![Touch::message(member, STEP, &c.channel, &c.template).var("coupon_id", coupon_id)]
    }
}

register_strategy!(CouponReminder);

#[cfg(test)]
mod tests {
    use super::*;
    use canvas_sdk::testing::*;

    const MINUTE: i64 = 60_000;

    fn reminded(run: &Run<Config>, member: MemberBuilder) -> Option<String> {
        let touches = CouponReminder::decide(run, &member.build(run, &[]));
        touches.first().map(|t| t.variables[0].1.clone())
    }

    fn issued(run: &Run<Config>, id: &str, minutes_ago: i64) -> MemberBuilder {
        member("m").event(ISSUED, run.run_at - minutes_ago * MINUTE, &format!(r#"{{"coupon_id":"{id}"}}"#))
    }

    #[test]
    fn the_default_config_passes_the_check() {
        assert_eq!(CouponReminder::check(&Config::default()), Ok(()));
    }

    #[test]
    fn a_reminder_at_0_hours_or_not_before_giving_up_is_refused_naming_the_key() {
        let refused = |config: Config| CouponReminder::check(&config).unwrap_err();
        let d = Config::default;
        assert_eq!(refused(Config { remind_after_hours: 0, ..d() }), "remind_after_hours: must be at least 1 (is 0)");
        let late = Config { remind_after_hours: 30, give_up_after_hours: 24, ..d() };
        assert_eq!(refused(late), "give_up_after_hours: must be more than remind_after_hours, 30 (is 24)");
        let same = Config { remind_after_hours: 24, give_up_after_hours: 24, ..d() };
        assert_eq!(refused(same), "give_up_after_hours: must be more than remind_after_hours, 24 (is 24)");
        assert_eq!(CouponReminder::check(&Config { remind_after_hours: 23, ..d() }), Ok(()));
    }

    #[test]
    fn an_empty_channel_or_template_is_refused_naming_the_key() {
        let refused = |config: Config| CouponReminder::check(&config).unwrap_err();
        assert!(refused(Config { channel: "".into(), ..Config::default() }).starts_with("channel: must not be empty"));
        assert!(refused(Config { template: "".into(), ..Config::default() }).starts_with("template: must not be empty"));
    }

    #[test]
    fn an_unredeemed_coupon_is_reminded_after_an_hour_not_before() {
        let run = run_on(2026, 3, 1, Config::default());
        assert_eq!(reminded(&run, issued(&run, "C1", 59)), None);
        assert_eq!(reminded(&run, issued(&run, "C1", 60)).as_deref(), Some("C1"));
        assert_eq!(reminded(&run, issued(&run, "C1", 61)).as_deref(), Some("C1"));
        assert_eq!(reminded(&run, issued(&run, "C1", 25 * 60)), None, "too old to remind");
    }

    #[test]
    fn a_redeemed_coupon_is_left_alone() {
        let run = run_on(2026, 3, 1, Config::default());
        let redeemed = issued(&run, "C1", 61).event(REDEEMED, run.run_at - 30 * MINUTE, r#"{"coupon_id":"C1"}"#);
        assert_eq!(reminded(&run, redeemed), None);
        let other = issued(&run, "C1", 61).event(REDEEMED, run.run_at - 30 * MINUTE, r#"{"coupon_id":"C9"}"#);
        assert_eq!(reminded(&run, other).as_deref(), Some("C1"));
    }

    #[test]
    fn one_reminder_per_coupon() {
        let run = run_on(2026, 3, 1, Config::default());
        let mut m =
            issued(&run, "C1", 120).event(ISSUED, run.run_at - 90 * MINUTE, r#"{"coupon_id":"C2"}"#).build(&run, &[]);
        m.history.push(PastDecision {
            step: STEP.into(),
            kind: ActionKind::Message,
            status: DecisionStatus::Dispatched,
            run_at: run.run_at - 60 * MINUTE,
            day: run.today,
            channel: "wecom".into(),
            template: "coupon_reminder".into(),
            variables: vec![("coupon_id".into(), "C1".into())],
            benefit: None,
        });
        let touches = CouponReminder::decide(&run, &m);
        assert_eq!(touches[0].variables[0].1, "C2", "C1 was reminded an hour ago; C2 is next");
    }
}
