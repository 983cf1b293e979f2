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
