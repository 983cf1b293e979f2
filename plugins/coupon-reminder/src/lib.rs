//! Coupon reminder, triggered: `remind_after_hours` after a `coupon_issued`
//! event (a coupon a strategy's decision sent, or one ingested), the host
//! calls the strategy for that member — unless a `coupon_redeemed` with the
//! same `coupon_id` came first — and it sends one reminder of that coupon.
//! A call that comes later than `give_up_after_hours` after the coupon (the
//! service was down meanwhile) reminds nobody: the moment has passed.
//! It never runs on a schedule.

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
pub const COUPON_ID: &str = "coupon_id";

pub struct CouponReminder;

impl Strategy for CouponReminder {
    const ID: &'static str = "coupon-reminder";
    const NAME: &'static str = "Unredeemed coupon reminder";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Reminds a member once of a coupon not redeemed within the hour.";
    const SCHEDULE: &'static str = ONLY_ON_TRIGGERS;
    type Config = Config;

    /// A reminder comes at least an hour after the coupon (at once would
    /// remind a member who is still reading the coupon), and before the
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
        let trigger = on_event(ISSUED)
            .requires([COUPON_ID])
            .after_hours(c.remind_after_hours)
            .unless_event(REDEEMED, Some(COUPON_ID));
        Audience::nobody().on(trigger)
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let c = &run.config;
        let Some(issued) = &run.trigger else { return vec![] };
        let Some(coupon_id) = issued.attr(COUPON_ID) else { return vec![] };
        if run.minutes_since(issued.at) > i64::from(c.give_up_after_hours) * 60 {
            return vec![];
        }
        vec![Touch::message(member, STEP, &c.channel, &c.template).var(COUPON_ID, coupon_id)]
    }
}

register_strategy!(CouponReminder);

#[cfg(test)]
mod tests {
    use super::*;
    use canvas_sdk::testing::*;

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
    fn it_reacts_to_coupons_an_hour_later_unless_redeemed_and_never_runs_on_a_schedule() {
        let audience = CouponReminder::audience(&Config::default());
        assert!(audience.any_of.is_empty(), "nobody on a schedule");
        assert_eq!(CouponReminder::SCHEDULE, ONLY_ON_TRIGGERS);
        let trigger = &audience.triggers[0];
        assert_eq!((trigger.event_kind.as_str(), trigger.delay_minutes), (ISSUED, 60));
        assert_eq!(trigger.requires_attrs, [COUPON_ID]);
        let unless = LaterEvent { kind: REDEEMED.into(), same_attr: Some(COUPON_ID.into()) };
        assert_eq!(trigger.cancel_if, [CancelCondition::Event(unless)]);
        let later = CouponReminder::audience(&Config { remind_after_hours: 3, ..Config::default() });
        assert_eq!(later.triggers[0].delay_minutes, 180);
    }

    #[test]
    fn a_triggered_call_reminds_of_the_coupon_that_triggered_it() {
        let issued_at = instant_on(day(2026, 3, 1));
        let run = triggered_by(Config::default(), ISSUED, issued_at, r#"{"coupon_id":"C7"}"#, 60);
        let touches = CouponReminder::decide(&run, &member("m").build(&run, &[]));
        assert_eq!(touches.len(), 1);
        assert_eq!((touches[0].step.as_str(), touches[0].variables[0].1.as_str()), (STEP, "C7"));
    }

    #[test]
    fn a_call_past_giving_up_or_without_a_trigger_reminds_nobody() {
        let issued_at = instant_on(day(2026, 3, 1));
        let late = triggered_by(Config::default(), ISSUED, issued_at, r#"{"coupon_id":"C7"}"#, 25 * 60);
        assert!(CouponReminder::decide(&late, &member("m").build(&late, &[])).is_empty(), "the moment has passed");
        let scheduled = run_on(2026, 3, 1, Config::default());
        assert!(CouponReminder::decide(&scheduled, &member("m").build(&scheduled, &[])).is_empty());
    }
}
