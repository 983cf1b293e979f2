//! The facts a plugin is given about a member and about the run: only what
//! happened by the run instant, the windows and event kinds it asked for,
//! categories and launches in their documented order.

use super::super::{launches, member_facts};
use super::*;

/// An audience that asks for these facts (its clauses do not matter here).
fn asking(order_windows: Vec<u32>, event_kinds: &[&str], event_lookback_hours: u32, launch_days: u32) -> api::Audience {
    api::Audience {
        any_of: Vec::new(),
        order_windows,
        event_kinds: event_kinds.iter().map(|k| k.to_string()).collect(),
        event_lookback_hours,
        launch_lookback_days: launch_days,
        triggers: vec![],
    }
}

fn facts_of(base: &MemberBase, log: &StrategyLog, id: &str, audience: &api::Audience) -> api::Member {
    let m = base.index_of(id).expect("a member of the base");
    member_facts(base, log, m, audience, clock(base, RUN))
}

fn day(text: &str) -> i32 {
    day_number(date(text))
}

#[test]
fn a_members_facts_hold_only_what_happened_by_the_run_instant() {
    let run = at(RUN);
    let base = Brand::default()
        .member("A", |m| m.wecom_added_at = Some(run + HOUR))
        .member("B", |m| m.wecom_added_at = Some(run - HOUR))
        .order("A", at("2026-03-01T12:00:00+08:00"), 3_000, "tops")
        .order("A", run + 1, 5_000, "tops")
        .event("A", "coupon_redeemed", run - HOUR)
        .event("A", "coupon_redeemed", run + HOUR)
        .base();
    let clock = clock(&base, RUN);
    let mut log = StrategyLog::default();
    decided(&mut log, &base, "A", decision(clock, 1, "invite", DecisionStatus::Dispatched, &[]));
    decided(&mut log, &base, "A", decision(clock, 0, "invite", DecisionStatus::Dispatched, &[]));
    let audience = asking(vec![30], &["coupon_redeemed"], 48, 0);

    let a = facts_of(&base, &log, "A", &audience);
    assert_eq!((a.profile.wecom_added_at, a.profile.wecom_added_day), (None, None), "added after the run");
    assert_eq!((a.orders.orders, a.orders.spend), (1, 3_000));
    assert_eq!(a.orders.last_order_at, Some(at("2026-03-01T12:00:00+08:00")));
    assert_eq!((a.orders.windows[0].orders, a.orders.windows[0].spend), (1, 3_000));
    assert_eq!(a.events.iter().map(|e| e.at).collect::<Vec<_>>(), [run - HOUR]);
    assert_eq!(a.history.iter().map(|d| d.run_at).collect::<Vec<_>>(), [run - DAY], "not this run's own");

    let b = facts_of(&base, &log, "B", &audience);
    assert_eq!((b.profile.wecom_added_at, b.profile.wecom_added_day), (Some(run - HOUR), Some(clock.today)));
    assert_eq!((b.orders.orders, b.orders.first_order_day, b.orders.last_order_day), (0, None, None));
}

#[test]
fn order_windows_count_the_run_date_and_the_days_before_it_in_the_order_asked() {
    let base = Brand::with(&["A"])
        // 8 February is 30 days before the run, 3 March 7 days.
        .order("A", at("2026-02-08T12:00:00+08:00"), 100, "tops")
        .order("A", at("2026-02-09T12:00:00+08:00"), 200, "tops")
        .order("A", at("2026-03-03T12:00:00+08:00"), 800, "tops")
        .order("A", at("2026-03-04T12:00:00+08:00"), 400, "tops")
        .base();
    let facts = facts_of(&base, &StrategyLog::default(), "A", &asking(vec![30, 7], &[], 0, 0)).orders;
    let windows: Vec<(u32, u32, Fen)> = facts.windows.iter().map(|w| (w.days, w.orders, w.spend)).collect();
    assert_eq!(windows, [(30, 3, 1_400), (7, 1, 400)]);
    assert_eq!((facts.orders, facts.spend), (4, 1_500), "all time");
    assert_eq!((facts.first_order_day, facts.last_order_day), (Some(day("2026-02-08")), Some(day("2026-03-04"))));
}

#[test]
fn categories_come_most_orders_first_then_the_latest_then_by_name() {
    let order = |brand: Brand, placed: &str, category: &str| brand.order("A", at(placed), 1_000, category);
    let mut brand = Brand::with(&["A"]);
    for (placed, category) in [
        ("2026-02-01T12:00:00+08:00", "tops"),
        ("2026-03-01T12:00:00+08:00", "tops"),
        ("2026-02-01T12:00:00+08:00", "shoes"),
        ("2026-03-05T12:00:00+08:00", "shoes"),
        ("2026-03-09T12:00:00+08:00", "bags"),
        ("2026-02-02T12:00:00+08:00", "hats"),
        ("2026-03-05T12:00:00+08:00", "hats"),
    ] {
        brand = order(brand, placed, category);
    }
    let facts = facts_of(&brand.base(), &StrategyLog::default(), "A", &asking(Vec::new(), &[], 0, 0)).orders;
    let categories: Vec<(&str, u32, Fen, i32)> =
        facts.categories.iter().map(|c| (c.category.as_str(), c.orders, c.spend, c.last_day)).collect();
    let (mar1, mar5, mar9) = (day("2026-03-01"), day("2026-03-05"), day("2026-03-09"));
    assert_eq!(
        categories,
        [("hats", 2, 2_000, mar5), ("shoes", 2, 2_000, mar5), ("tops", 2, 2_000, mar1), ("bags", 1, 1_000, mar9)]
    );
}

#[test]
fn events_are_given_of_the_kinds_asked_within_the_look_back_and_none_when_no_kind_is_asked() {
    let run = at(RUN);
    let base = Brand::with(&["A"])
        .event("A", "coupon_redeemed", run - 48 * HOUR - 1)
        .event("A", "coupon_redeemed", run - 48 * HOUR)
        .event("A", "page_view", run - HOUR)
        .event("A", "coupon_redeemed", run)
        .event("A", "coupon_redeemed", run + 1)
        .base();
    let log = StrategyLog::default();
    let events = |audience| facts_of(&base, &log, "A", &audience).events;
    let redeemed = events(asking(Vec::new(), &["coupon_redeemed"], 48, 0));
    let given: Vec<(&str, Millis)> = redeemed.iter().map(|e| (e.kind.as_str(), e.at)).collect();
    assert_eq!(given, [("coupon_redeemed", run - 48 * HOUR), ("coupon_redeemed", run)]);
    assert_eq!(redeemed[0].day, day("2026-03-08"));
    assert_eq!(events(asking(Vec::new(), &["coupon_redeemed", "page_view"], 48, 0)).len(), 3);
    assert!(events(asking(Vec::new(), &[], 48, 0)).is_empty(), "no kind asked for");
}

#[test]
fn launches_are_those_within_the_look_back_newest_first_and_none_at_zero_days() {
    let base = Brand::with(&["A"])
        .product("T1", "tops", at("2026-03-05T10:00:00+08:00"))
        .product("T2", "shoes", at("2026-03-09T10:00:00+08:00"))
        .product("T3", "tops", at("2026-03-10T11:00:00+08:00"))
        .product("T4", "tops", at("2026-03-03T10:00:00+08:00"))
        .base();
    let clock = clock(&base, RUN);
    let launched = |days| launches(&base, &asking(Vec::new(), &[], 0, days), clock);
    let week: Vec<(String, String, i32)> =
        launched(7).into_iter().map(|p| (p.sku, p.category, p.launched_day)).collect();
    let expected = [("T2", "shoes", day("2026-03-09")), ("T1", "tops", day("2026-03-05"))];
    assert_eq!(week, expected.map(|(sku, category, day)| (sku.to_string(), category.to_string(), day)));
    assert_eq!(launched(8).len(), 3, "T4, 7 days before the run, is in the last 8 days");
    assert!(launched(0).is_empty());
}
