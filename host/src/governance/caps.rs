//! Fatigue caps and the WeCom platform limit, checked against a member's
//! touches (sent or planned). Each rule that a touch at `t` would break says
//! when it could first be satisfied, so a deferred touch finds its slot.

use chrono::{Datelike, Duration};

use super::policy::{FatiguePolicy, WecomLimit, WecomPeriod};
use crate::calendar::BrandCalendar;
use crate::model::Millis;

const HOUR: i64 = 3_600_000;

/// A touch to one member at an instant on a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedTouch {
    /// When it is (or is to be) sent: the run instant, or a deferred touch's `send_at`.
    pub at: Millis,
    /// Its channel: per-channel caps and the WeCom limit count only their own.
    pub channel: String,
}

/// A rule a touch would break, and when it could first be satisfied. Not
/// worded here (see `outcome.rs`): a deferred touch's slot search checks the
/// rules many times and keeps at most the first one broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Violation<'c> {
    pub rule: Rule<'c>,
    pub retry_at: Millis,
}

/// The rule broken, with the figures its reason names (see `outcome.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule<'c> {
    /// At most `max` touches (on `channel`, if any) in any `hours`.
    Touches { max: u32, hours: u32, channel: Option<&'c str> },
    /// At least `hours` between two touches.
    Gap { hours: u32 },
    /// WeCom's `limit` bulk messages in the calendar `period` ("this month").
    Wecom { limit: usize, period: &'static str },
}

/// The first rule a touch at `t` on `channel` would break, given the member's
/// other touches. Without `fatigue`, only the platform limit is checked;
/// without a channel, only the rules over all channels.
pub fn first_violation<'c>(
    fatigue: Option<&FatiguePolicy>,
    wecom: &WecomLimit,
    calendar: &BrandCalendar,
    touches: &[PlannedTouch],
    t: Millis,
    channel: Option<&'c str>,
) -> Option<Violation<'c>> {
    if let Some(v) = fatigue.and_then(|f| fatigue_violation(f, touches, t, channel)) {
        return Some(v);
    }
    if channel.is_some_and(|channel| wecom.channels.iter().any(|c| c == channel)) {
        let on_wecom = |p: &PlannedTouch| wecom.channels.contains(&p.channel);
        return platform_limit(wecom.per, calendar, touches, on_wecom, t);
    }
    None
}

fn fatigue_violation<'c>(
    fatigue: &FatiguePolicy,
    touches: &[PlannedTouch],
    t: Millis,
    channel: Option<&'c str>,
) -> Option<Violation<'c>> {
    let all = |_: &PlannedTouch| true;
    if let Some(retry_at) = rolling_cap(touches, all, t, fatigue.max_touches, fatigue.window_hours) {
        let rule = Rule::Touches { max: fatigue.max_touches, hours: fatigue.window_hours, channel: None };
        return Some(Violation { rule, retry_at });
    }
    let gap = fatigue.min_gap_hours as i64 * HOUR;
    if let Some(near) = touches.iter().map(|p| p.at).filter(|&s| (s - t).abs() < gap).max() {
        return Some(Violation { rule: Rule::Gap { hours: fatigue.min_gap_hours }, retry_at: near + gap });
    }
    let (channel, cap) = channel.and_then(|c| Some((c, fatigue.channels.get(c)?)))?;
    let same = |p: &PlannedTouch| p.channel == channel;
    let retry_at = rolling_cap(touches, same, t, cap.max_touches, cap.window_hours)?;
    Some(Violation {
        rule: Rule::Touches { max: cap.max_touches, hours: cap.window_hours, channel: Some(channel) },
        retry_at,
    })
}

/// At most `max` of the touches `counted` (the new one included) in any
/// window of `hours` that contains `t`: `None` if a touch at `t` keeps to
/// it, else `Some` instant from which the crowded window has room. Windows
/// are half-open: (a − W, a].
fn rolling_cap(
    touches: &[PlannedTouch],
    counted: impl Fn(&PlannedTouch) -> bool,
    t: Millis,
    max: u32,
    hours: u32,
) -> Option<Millis> {
    let w = hours as i64 * HOUR;
    let times = || touches.iter().filter(|p| counted(p)).map(|p| p.at);
    // The count in a window only changes at a touch, so the windows ending at
    // `t` and at each later touch within W cover every window containing `t`.
    let ends = std::iter::once(t).chain(times().filter(|&s| s > t && s < t + w));
    let crowded =
        ends.map(|a| (a, 1 + times().filter(|&s| s > a - w && s <= a).count() as u32)).find(|&(_, n)| n > max)?;
    // It frees up when enough of the touches before the window's end have left it.
    let (end, count) = crowded;
    let mut inside: Vec<Millis> = times().filter(|&s| s > end - w && s <= end).collect();
    inside.sort_unstable();
    let must_leave = (count - max) as usize;
    Some(inside.get(must_leave - 1).map_or(t + 1, |&s| s + w).max(t + 1))
}

fn platform_limit(
    per: WecomPeriod,
    calendar: &BrandCalendar,
    touches: &[PlannedTouch],
    counted: impl Fn(&PlannedTouch) -> bool,
    t: Millis,
) -> Option<Violation<'static>> {
    let limit_at_least = match per {
        WecomPeriod::Month => 28,
        WecomPeriod::Week => 7,
        WecomPeriod::Day => 1,
    };
    // Fewer touches than the smallest limit, at any time: no calendar to work out.
    if touches.iter().filter(|p| counted(p)).count() < limit_at_least {
        return None;
    }
    let date = calendar.date_of(t);
    let (first, next, limit, period) = match per {
        WecomPeriod::Month => {
            let first = date.with_day(1).expect("day 1 exists");
            let next = first.checked_add_months(chrono::Months::new(1)).expect("in range");
            (first, next, (next - first).num_days() as usize, "this month")
        }
        WecomPeriod::Week => {
            let first = date - Duration::days(date.weekday().num_days_from_monday() as i64);
            (first, first + Duration::days(7), 7, "this week")
        }
        WecomPeriod::Day => (date, date + Duration::days(1), 1, "today"),
    };
    let (from, until) = (calendar.start_of(first), calendar.start_of(next));
    let sent = touches.iter().filter(|p| counted(p) && p.at >= from && p.at < until).count();
    (sent >= limit).then_some(Violation { rule: Rule::Wecom { limit, period }, retry_at: until })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;
    use crate::governance::outcome::{held_back_by_caps, Reason};
    use crate::model::DecisionStatus;

    fn at(text: &str) -> Millis {
        parse_instant(text).unwrap()
    }

    fn wecom(at: Millis) -> PlannedTouch {
        PlannedTouch { at, channel: "wecom".into() }
    }

    fn check(touches: &[PlannedTouch], t: Millis) -> Option<Violation<'static>> {
        let policy = FatiguePolicy::default();
        first_violation(Some(&policy), &WecomLimit::default(), &BrandCalendar::default(), touches, t, Some("wecom"))
    }

    #[test]
    fn two_touches_in_any_seven_days() {
        let t = at("2026-03-10T10:00:00+08:00");
        let two = [wecom(t - 100 * HOUR), wecom(t - 50 * HOUR)];
        let v = check(&two, t).expect("a third touch within 168h");
        assert!(v.rule.to_string().contains("2 touches in 168h"), "{}", v.rule);
        assert_eq!(v.retry_at, t - 100 * HOUR + 168 * HOUR, "free once the older one is 168h old");
        assert!(check(&two, v.retry_at).is_none());
        assert!(check(&two, v.retry_at - 1).is_some());
    }

    #[test]
    fn every_rule_broken_here_reads_back_as_held_back_by_the_caps() {
        let t = at("2026-03-10T10:00:00+08:00");
        let day = WecomLimit { per: WecomPeriod::Day, ..Default::default() };
        let cal = BrandCalendar::default();
        let broken = [
            check(&[wecom(t - 100 * HOUR), wecom(t - 50 * HOUR)], t),
            check(&[wecom(t - 47 * HOUR)], t),
            first_violation(None, &day, &cal, &[wecom(t - HOUR)], t, Some("wecom")),
        ];
        for v in broken {
            let reason = Reason::Capped(v.unwrap().rule);
            assert!(held_back_by_caps(DecisionStatus::Suppressed, Some(&reason.to_string())), "{reason}");
        }
    }

    #[test]
    fn without_a_channel_only_the_rules_over_all_channels_apply() {
        let t = at("2026-03-10T10:00:00+08:00");
        let month: Vec<PlannedTouch> = (1..=4).map(|d| wecom(t - d * 170 * HOUR)).collect();
        let policy = FatiguePolicy::default();
        let (limit, cal) = (WecomLimit::default(), BrandCalendar::default());
        assert!(first_violation(Some(&policy), &limit, &cal, &month, t, Some("wecom")).is_some(), "4 in 720h");
        assert!(first_violation(Some(&policy), &limit, &cal, &month, t, None).is_none());
    }

    #[test]
    fn a_planned_later_touch_counts_too() {
        let t = at("2026-03-10T10:00:00+08:00");
        let around = [wecom(t - 60 * HOUR), wecom(t + 60 * HOUR)];
        assert!(check(&around, t).unwrap().rule.to_string().contains("in 168h"));
    }

    #[test]
    fn forty_eight_hours_between_touches() {
        let t = at("2026-03-10T10:00:00+08:00");
        let v = check(&[wecom(t - 47 * HOUR)], t).unwrap();
        assert!(v.rule.to_string().contains("less than 48h"), "{}", v.rule);
        assert_eq!(v.retry_at, t + HOUR);
        assert!(check(&[wecom(t - 48 * HOUR)], t).is_none());
    }

    #[test]
    fn wecom_limit_counts_the_calendar_month() {
        let t = at("2026-03-10T10:00:00+08:00");
        let v = wecom_limit_only(WecomPeriod::Day, &[wecom(t - HOUR)], t).unwrap();
        assert!(v.rule.to_string().starts_with("WeCom limit: 1 bulk messages today"), "{}", v.rule);
        assert_eq!(v.retry_at, at("2026-03-11T00:00:00+08:00"));
        let (cal, day) = (BrandCalendar::default(), WecomLimit { per: WecomPeriod::Day, ..Default::default() });
        let lenient = FatiguePolicy { max_touches: 100, min_gap_hours: 0, ..Default::default() };
        let sms = first_violation(Some(&lenient), &day, &cal, &[wecom(t - HOUR)], t, Some("sms"));
        assert!(sms.is_none(), "not WeCom");
        let february: Vec<PlannedTouch> =
            (0..28).map(|d| wecom(at("2026-02-01T10:00:00+08:00") + d * 24 * HOUR)).collect();
        let v = wecom_limit_only(WecomPeriod::Month, &february, at("2026-02-28T20:00:00+08:00")).unwrap();
        assert!(v.rule.to_string().contains("28 bulk messages this month"), "{}", v.rule);
    }

    /// The WeCom limit alone: fatigue caps too lenient to matter.
    fn wecom_limit_only(per: WecomPeriod, touches: &[PlannedTouch], t: Millis) -> Option<Violation<'static>> {
        let lenient =
            FatiguePolicy { max_touches: 100, min_gap_hours: 0, channels: Default::default(), ..Default::default() };
        let limit = WecomLimit { per, ..Default::default() };
        first_violation(Some(&lenient), &limit, &BrandCalendar::default(), touches, t, Some("wecom"))
    }

    #[test]
    fn wecom_limit_counts_the_calendar_week_monday_to_sunday() {
        // Monday 2026-03-09 to Saturday 2026-03-14: six touches, then a seventh on Sunday.
        let six: Vec<PlannedTouch> = (0..6).map(|d| wecom(at("2026-03-09T10:00:00+08:00") + d * 24 * HOUR)).collect();
        let sunday = at("2026-03-15T10:00:00+08:00");
        assert!(wecom_limit_only(WecomPeriod::Week, &six, sunday).is_none(), "6 of 7");
        let mut seven = six.clone();
        seven.push(wecom(sunday - HOUR));
        let v = wecom_limit_only(WecomPeriod::Week, &seven, sunday).unwrap();
        assert!(v.rule.to_string().starts_with("WeCom limit: 7 bulk messages this week"), "{}", v.rule);
        assert_eq!(v.retry_at, at("2026-03-16T00:00:00+08:00"), "the next Monday");
        let monday = at("2026-03-16T10:00:00+08:00");
        assert!(wecom_limit_only(WecomPeriod::Week, &seven, monday).is_none(), "a new week");
    }
}
