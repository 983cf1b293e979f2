//! Each condition of an audience at its edges: the days counted in the
//! brand's calendar with both ends included, windows ending on the run date,
//! hours ending at the run instant, kinds, steps, statuses and variables
//! matched exactly, and nothing after the run instant.

use super::*;

#[test]
fn joined_counts_whole_days_in_the_brand_calendar_both_ends_included() {
    let joined = |text: &'static str| move |m: &mut Member| m.joined_at = at(text);
    let base = Brand::default()
        .member("A", joined("2026-03-09T23:59:00+08:00"))
        .member("B", joined("2026-03-07T00:00:00+08:00"))
        .member("C", joined("2026-03-06T23:59:59+08:00"))
        .member("D", joined("2026-03-10T08:00:00+08:00"))
        // 6 March in UTC, 7 March in Shanghai.
        .member("E", joined("2026-03-06T16:30:00Z"))
        .base();
    assert_eq!(selected(&base, api::Condition::Joined(ago(1, 3))), ["A", "B", "E"]);
}

#[test]
fn a_wecom_add_counts_only_once_it_happened_by_the_run_instant() {
    let added = |text: &'static str| move |m: &mut Member| m.wecom_added_at = Some(at(text));
    let base = Brand::with(&["C"])
        .member("A", added("2026-03-10T09:00:00+08:00"))
        .member("B", added("2026-03-10T11:00:00+08:00"))
        .member("D", added("2026-03-09T12:00:00+08:00"))
        .base();
    assert_eq!(selected(&base, api::Condition::WecomAdded(ago(0, 0))), ["A"]);
    assert_eq!(selected(&base, api::Condition::WecomAdded(ago(0, 1))), ["A", "D"]);
}

#[test]
fn first_and_last_order_are_the_days_of_the_orders_placed_by_the_run_instant() {
    // 10 December 2025 is 90 days before the run.
    let dec10 = at("2025-12-10T12:00:00+08:00");
    let base = Brand::with(&["A", "B", "C", "D", "E"])
        .order("A", dec10, 100, "tops")
        .order("B", dec10, 100, "tops")
        .order("B", at("2026-01-05T12:00:00+08:00"), 100, "tops")
        .order("C", dec10, 100, "tops")
        .order("C", at("2026-03-10T11:00:00+08:00"), 100, "tops")
        .order("D", at("2025-12-09T23:59:00+08:00"), 100, "tops")
        .order("E", at("2025-11-01T12:00:00+08:00"), 100, "tops")
        .order("E", dec10, 100, "tops")
        .base();
    assert_eq!(selected(&base, api::Condition::LastOrder(ago(90, 90))), ["A", "C", "E"]);
    assert_eq!(selected(&base, api::Condition::FirstOrder(ago(90, 90))), ["A", "B", "C"]);
}

#[test]
fn has_ordered_counts_no_order_placed_after_the_run_instant() {
    let base = Brand::with(&["A", "B", "C"])
        .order("A", at("2026-03-10T09:59:59+08:00"), 100, "tops")
        .order("B", at("2026-03-10T10:00:00.001+08:00"), 100, "tops")
        .base();
    assert_eq!(selected(&base, api::Condition::HasOrdered), ["A"]);
}

#[test]
fn orders_within_counts_the_run_date_and_the_days_before_it_and_at_least_zero_is_everyone() {
    let base = Brand::with(&["A", "B", "C", "D", "E"])
        // 9 February is 29 days before the run, in the 30 days; 8 February is not.
        .order("A", at("2026-02-09T00:00:00+08:00"), 100, "tops")
        .order("A", at("2026-03-10T09:00:00+08:00"), 100, "tops")
        .order("B", at("2026-02-08T23:59:00+08:00"), 100, "tops")
        .order("B", at("2026-03-01T12:00:00+08:00"), 100, "tops")
        .order("C", at("2026-03-01T12:00:00+08:00"), 100, "tops")
        .order("C", at("2026-03-10T11:00:00+08:00"), 100, "tops")
        .order("D", at("2026-03-01T12:00:00+08:00"), 100, "tops")
        .order("D", at("2026-03-02T12:00:00+08:00"), 100, "tops")
        .order("D", at("2026-03-03T12:00:00+08:00"), 100, "tops")
        .base();
    let within = |at_least| api::Condition::OrdersWithin(api::OrderCount { within_days: 30, at_least });
    assert_eq!(selected(&base, within(2)), ["A", "D"]);
    // No order index narrows it: E has never ordered.
    assert_eq!(selected(&base, within(0)), ["A", "B", "C", "D", "E"]);
}

#[test]
fn spend_within_sums_the_orders_in_the_window_placed_by_the_run_instant() {
    let base = Brand::with(&["A", "B", "C", "D", "E"])
        .order("A", at("2026-03-01T12:00:00+08:00"), 6_000, "tops")
        .order("A", at("2026-03-05T12:00:00+08:00"), 4_000, "tops")
        .order("B", at("2026-03-01T12:00:00+08:00"), 6_000, "tops")
        .order("B", at("2026-02-08T12:00:00+08:00"), 5_000, "tops")
        .order("C", at("2026-03-01T12:00:00+08:00"), 9_999, "tops")
        .order("D", at("2026-03-01T12:00:00+08:00"), 6_000, "tops")
        .order("D", at("2026-03-10T11:00:00+08:00"), 4_000, "tops")
        .base();
    let spent = |at_least| api::Condition::SpendWithin(api::SpendAmount { within_days: 30, at_least });
    assert_eq!(selected(&base, spent(10_000)), ["A"]);
    assert_eq!(selected(&base, spent(0)), ["A", "B", "C", "D", "E"]);
}

#[test]
fn level_in_selects_the_levels_listed() {
    let level = |level: u8| move |m: &mut Member| m.level = level;
    let brand = Brand::default().member("L1", level(1)).member("L2", level(2)).member("L3", level(3));
    let base = brand.member("L4", level(4)).base();
    assert_eq!(selected(&base, api::Condition::LevelIn(vec![4, 2])), ["L2", "L4"]);
}

#[test]
fn birthday_in_run_month_is_the_brand_calendars_month_and_29_february_is_february() {
    let born = |text: &'static str| move |m: &mut Member| m.birthday = Some(date(text));
    let base = Brand::with(&["C"])
        .member("A", born("1990-03-15"))
        .member("B", born("1990-02-20"))
        .member("D", born("2000-02-29"))
        .base();
    let log = StrategyLog::default();
    let birthdays = |run| selected_by(&base, &log, vec![when(vec![api::Condition::BirthdayInRunMonth])], run);
    // 28 February in UTC, already 1 March in Shanghai.
    assert_eq!(birthdays("2026-02-28T17:00:00Z"), ["A"]);
    assert_eq!(birthdays("2026-02-10T10:00:00+08:00"), ["B", "D"], "2026 has no 29 February");
}

#[test]
fn an_event_counts_within_its_hours_up_to_the_run_instant_and_of_its_kind_only() {
    let run = at(RUN);
    let base = Brand::with(&["A", "B", "C", "D", "E"])
        .event("A", "coupon_redeemed", run - 24 * HOUR)
        .event("B", "coupon_redeemed", run - 24 * HOUR - 1)
        .event("C", "coupon_redeemed", run)
        .event("D", "coupon_redeemed", run + 1)
        .event("E", "coupon_issued", run - HOUR)
        .base();
    let recent = api::RecentEvent { kind: "coupon_redeemed".into(), within_hours: 24 };
    assert_eq!(selected(&base, api::Condition::Event(recent)), ["A", "C"]);
}

#[test]
fn an_earlier_decision_counts_of_its_step_and_status_in_its_days_and_made_before_the_run() {
    use DecisionStatus::*;
    let base = Brand::with(&["A", "B", "C", "D", "E"]).base();
    let clock = clock(&base, RUN);
    let mut log = StrategyLog::default();
    decided(&mut log, &base, "A", decision(clock, 10, "invite", Dispatched, &[]));
    decided(&mut log, &base, "B", decision(clock, 10, "invite", Holdout, &[]));
    decided(&mut log, &base, "C", decision(clock, 10, "remind", Dispatched, &[]));
    decided(&mut log, &base, "D", decision(clock, 31, "invite", Dispatched, &[]));
    // Today, at the run instant itself: this run's own, not an earlier one.
    decided(&mut log, &base, "E", decision(clock, 0, "invite", Dispatched, &[]));
    let earlier = |step: Option<&str>, status| {
        let condition = api::EarlierDecision { step: step.map(Into::into), status, ago: ago(0, 30) };
        selected_by(&base, &log, vec![when(vec![api::Condition::Decided(condition)])], RUN)
    };
    assert_eq!(earlier(Some("invite"), Some(api::DecisionStatus::Dispatched)), ["A"]);
    assert_eq!(earlier(Some("invite"), None), ["A", "B"]);
    assert_eq!(earlier(None, Some(api::DecisionStatus::Dispatched)), ["A", "C"]);
    assert_eq!(earlier(None, None), ["A", "B", "C"]);
}

#[test]
fn a_launch_counts_for_buyers_of_its_category_within_its_window_once_launched() {
    let base = Brand::with(&["A", "B", "C", "D", "E", "F"])
        .product("T1", "tops", at("2026-03-05T10:00:00+08:00"))
        .product("S1", "shoes", at("2026-03-10T11:00:00+08:00"))
        .product("B1", "bags", at("2026-03-03T10:00:00+08:00"))
        .order("A", at("2026-01-01T12:00:00+08:00"), 100, "tops")
        .order("B", at("2026-01-01T12:00:00+08:00"), 100, "shoes")
        .order("C", at("2026-01-01T12:00:00+08:00"), 100, "bags")
        .order("D", at("2026-03-10T11:00:00+08:00"), 100, "tops")
        // Bought tops only after the launch: a buyer of the category all the same.
        .order("F", at("2026-03-06T12:00:00+08:00"), 100, "tops")
        .base();
    let bought = |days| selected(&base, api::Condition::BoughtLaunchedCategory(days));
    assert_eq!(bought(7), ["A", "F"], "S1 is not launched yet, B1 is 7 days old");
    assert_eq!(bought(8), ["A", "C", "F"]);
    assert!(bought(1).is_empty(), "a day without launches selects nobody");
}

#[test]
fn an_untold_launch_is_one_no_earlier_decision_at_the_step_named_in_its_variable() {
    use DecisionStatus::*;
    let mut brand = Brand::default().product("T1", "tops", at("2026-03-05T10:00:00+08:00")).product(
        "T2",
        "tops",
        at("2026-03-08T10:00:00+08:00"),
    );
    for id in ["A", "B", "C", "D", "E"] {
        brand = brand.member(id, |_| {}).order(id, at("2026-01-01T12:00:00+08:00"), 100, "tops");
    }
    let base = brand.member("F", |_| {}).order("F", at("2026-01-01T12:00:00+08:00"), 100, "shoes").base();
    let clock = clock(&base, RUN);
    let mut log = StrategyLog::default();
    let mut told = |member, days_ago, step, status, vars: &[(&str, &str)]| {
        decided(&mut log, &base, member, decision(clock, days_ago, step, status, vars));
    };
    told("A", 4, "launch", Dispatched, &[("sku", "T1")]);
    // Told of both, one of them as a holdout: any status counts as told.
    told("B", 4, "launch", Dispatched, &[("sku", "T1")]);
    told("B", 1, "launch", Holdout, &[("sku", "T2")]);
    told("C", 4, "other", Dispatched, &[("sku", "T1")]);
    told("C", 1, "other", Dispatched, &[("sku", "T2")]);
    told("D", 4, "launch", Dispatched, &[("product", "T1")]);
    told("D", 1, "launch", Dispatched, &[("product", "T2")]);
    told("E", 4, "launch", Dispatched, &[("sku", "T1")]);
    told("E", 0, "launch", Dispatched, &[("sku", "T2")]);
    let untold = api::UntoldLaunch { within_days: 7, step: "launch".into(), sku_variable: "sku".into() };
    let clauses = vec![when(vec![api::Condition::UntoldLaunchInBoughtCategory(untold)])];
    assert_eq!(selected_by(&base, &log, clauses, RUN), ["A", "C", "D", "E"]);
}
