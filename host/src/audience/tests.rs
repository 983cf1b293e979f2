//! The audience's rules, a test each, over small member bases built from the
//! crate's own types. Here: the builders, and the rules of a whole audience —
//! what the run instant hides, how clauses combine, that an index never
//! leaves out a member its condition holds for, the run's days. Each
//! condition at the edges of its days, windows, hours and kinds is in
//! `tests/conditions.rs`; the facts a plugin is given in `tests/facts.rs`.

mod conditions;
mod facts;

use chrono::NaiveDate;

use super::{ascending_once, select};
use crate::calendar::RunClock;
use crate::calendar::{day_number, parse_instant, BrandCalendar};
use crate::decision_log::{LoggedDecision, StrategyLog};
use crate::member_base::MemberBase;
use crate::model::{bare_member, ActionKind, DataSet, DecisionStatus, Event, Fen, Member, Millis, Order, Product};
use crate::runtime::api;

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

/// 10:00 on 10 March 2026 in Shanghai, the brand's time zone: the run
/// instant of most tests.
const RUN: &str = "2026-03-10T10:00:00+08:00";

fn at(text: &str) -> Millis {
    parse_instant(text).expect("an RFC 3339 instant")
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

/// A brand's data, added to record by record.
#[derive(Default)]
struct Brand(DataSet);

impl Brand {
    /// Members joined in 1970 with nothing else worth noting.
    fn with(ids: &[&str]) -> Self {
        Brand(DataSet { members: ids.iter().map(|id| bare_member(id)).collect(), ..Default::default() })
    }

    /// A member like those of [`Brand::with`], changed by `change`.
    fn member(mut self, id: &str, change: impl FnOnce(&mut Member)) -> Self {
        let mut member = bare_member(id);
        change(&mut member);
        self.0.members.push(member);
        self
    }

    fn order(mut self, member: &str, placed: Millis, amount: Fen, category: &str) -> Self {
        let id = format!("O{}", self.0.orders.len() + 1);
        let (channel, sku) = (crate::model::OrderChannel::Store, format!("{category}-1"));
        let (member_id, category) = (member.into(), category.into());
        self.0.orders.push(Order { id, member_id, placed_at: placed, amount, channel, category, sku });
        self
    }

    fn event(mut self, member: &str, kind: &str, at: Millis) -> Self {
        let id = format!("E{}", self.0.events.len() + 1);
        let (member_id, kind, attrs) = (member.into(), kind.into(), "{}".into());
        self.0.events.push(Event { id, member_id, kind, at, attrs });
        self
    }

    fn product(mut self, sku: &str, category: &str, launched_at: Millis) -> Self {
        let (sku, name, category) = (sku.into(), format!("{sku} name"), category.into());
        self.0.products.push(Product { sku, name, category, price: 19_900, launched_at, tags: Vec::new() });
        self
    }

    fn base(self) -> MemberBase {
        MemberBase::build(BrandCalendar::default(), self.0)
    }
}

/// One of the strategy's decisions, `days_ago` days before the run at `clock`
/// and made that many days before its instant, of `step` and `status`, with
/// these variables.
fn decision(
    clock: RunClock,
    days_ago: i32,
    step: &str,
    status: DecisionStatus,
    vars: &[(&str, &str)],
) -> LoggedDecision {
    LoggedDecision {
        step: step.into(),
        action: ActionKind::Message,
        status,
        run_at: clock.at - days_ago as Millis * DAY,
        day: clock.today - days_ago,
        channel: "wecom".into(),
        template: "t".into(),
        variables: vars.iter().map(|&(k, v)| (k.into(), v.to_string())).collect(),
        benefit: None,
        held_back_by_caps: false,
        unreachable: false,
    }
}

/// Adds a decision about the member with this id to `log`.
fn decided(log: &mut StrategyLog, base: &MemberBase, member: &str, decision: LoggedDecision) {
    log.add(base.index_of(member).expect("a member of the base"), decision);
}

fn clock(base: &MemberBase, run: &str) -> RunClock {
    RunClock::new(&base.calendar, at(run))
}

/// An audience of these clauses that asks for no facts.
fn audience(any_of: Vec<api::Clause>) -> api::Audience {
    api::Audience {
        any_of,
        order_windows: Vec::new(),
        event_kinds: Vec::new(),
        event_lookback_hours: 0,
        launch_lookback_days: 0,
        triggers: vec![],
    }
}

fn when(all_of: Vec<api::Condition>) -> api::Clause {
    api::Clause { all_of, none_of: Vec::new() }
}

fn ago(min: u32, max: u32) -> api::DaysAgo {
    api::DaysAgo { min, max }
}

/// The ids of the members these clauses select at `run`, in base order.
fn selected_by(base: &MemberBase, log: &StrategyLog, any_of: Vec<api::Clause>, run: &str) -> Vec<String> {
    let chosen = select(base, log, &audience(any_of), clock(base, run));
    chosen.into_iter().map(|m| base.member(m).member.id.clone()).collect()
}

/// The ids of the members one condition selects at [`RUN`], with no decisions.
fn selected(base: &MemberBase, condition: api::Condition) -> Vec<String> {
    selected_by(base, &StrategyLog::default(), vec![when(vec![condition])], RUN)
}

#[test]
fn an_empty_clause_is_everyone_joined_by_the_run_instant_and_no_clause_is_nobody() {
    let run = at(RUN);
    let base = Brand::with(&["A"]).member("B", |m| m.joined_at = run).member("C", |m| m.joined_at = run + 1).base();
    let log = StrategyLog::default();
    assert_eq!(selected_by(&base, &log, vec![when(vec![])], RUN), ["A", "B"]);
    assert!(selected_by(&base, &log, vec![], RUN).is_empty(), "a strategy sitting the run out");
    // C joined today, in the day index, but after the run instant.
    assert_eq!(selected(&base, api::Condition::Joined(ago(0, 0))), ["B"]);
}

#[test]
fn none_of_leaves_members_out_and_clauses_add_up_each_member_once_in_base_order() {
    let level = |level: u8| move |m: &mut Member| m.level = level;
    let base = Brand::default()
        .member("D", level(2))
        .member("C", level(1))
        .member("B", level(3))
        .member("A", level(2))
        .member("E", level(1))
        .order("A", at("2026-01-01T12:00:00+08:00"), 100, "tops")
        .order("B", at("2026-01-01T12:00:00+08:00"), 100, "tops")
        .order("C", at("2026-01-01T12:00:00+08:00"), 100, "tops")
        .base();
    let second =
        api::Clause { all_of: vec![api::Condition::HasOrdered], none_of: vec![api::Condition::LevelIn(vec![3])] };
    let clauses = vec![when(vec![api::Condition::LevelIn(vec![2])]), second];
    assert_eq!(selected_by(&base, &StrategyLog::default(), clauses, RUN), ["A", "C", "D"]);
}

/// Each indexed condition starts its clause from an index range; checking
/// every member (the same condition under `none-of`, which no index
/// narrows) must find exactly the others, so no range leaves out a member
/// its condition holds for.
#[test]
fn every_indexed_condition_selects_what_checking_every_member_selects() {
    let run = at(RUN);
    let base = Brand::default()
        .member("A", |m| {
            m.joined_at = at("2026-03-07T12:00:00+08:00");
            m.wecom_added_at = Some(at("2026-03-10T09:00:00+08:00"));
            m.birthday = Some(date("1990-03-01"));
        })
        .member("B", |m| m.birthday = Some(date("1990-02-01")))
        .member("C", |m| {
            m.joined_at = at("2025-12-10T12:00:00+08:00");
            m.wecom_added_at = Some(at("2025-01-01T12:00:00+08:00"));
        })
        .member("D", |_| {})
        .member("E", |m| m.joined_at = run + HOUR)
        .order("A", at("2025-12-10T12:00:00+08:00"), 1_000, "tops")
        .order("A", at("2026-03-05T12:00:00+08:00"), 1_000, "tops")
        .order("B", at("2026-03-09T12:00:00+08:00"), 6_000, "shoes")
        .order("D", at("2025-12-10T12:00:00+08:00"), 1_000, "tops")
        .order("E", at("2026-03-09T12:00:00+08:00"), 9_000, "tops")
        .event("A", "coupon_redeemed", run - 2 * HOUR)
        .event("C", "coupon_redeemed", run - 72 * HOUR)
        .product("T1", "tops", at("2026-03-05T10:00:00+08:00"))
        .product("S1", "shoes", at("2026-02-01T10:00:00+08:00"))
        .base();
    let clock = clock(&base, RUN);
    let mut log = StrategyLog::default();
    decided(&mut log, &base, "A", decision(clock, 10, "invite", DecisionStatus::Dispatched, &[]));
    decided(&mut log, &base, "B", decision(clock, 5, "invite", DecisionStatus::Holdout, &[]));
    decided(&mut log, &base, "D", decision(clock, 3, "launch", DecisionStatus::Dispatched, &[("sku", "T1")]));

    use api::Condition as C;
    let conditions = [
        C::Joined(ago(0, 5)),
        C::WecomAdded(ago(0, 30)),
        C::FirstOrder(ago(90, 90)),
        C::LastOrder(ago(0, 7)),
        C::OrdersWithin(api::OrderCount { within_days: 30, at_least: 1 }),
        C::SpendWithin(api::SpendAmount { within_days: 30, at_least: 5_000 }),
        C::BirthdayInRunMonth,
        C::Event(api::RecentEvent { kind: "coupon_redeemed".into(), within_hours: 24 }),
        C::Decided(api::EarlierDecision { step: None, status: None, ago: ago(0, 30) }),
        C::BoughtLaunchedCategory(7),
        C::UntoldLaunchInBoughtCategory(api::UntoldLaunch {
            within_days: 7,
            step: "launch".into(),
            sku_variable: "sku".into(),
        }),
    ];
    for condition in conditions {
        let what = format!("{condition:?}");
        let holds = selected_by(&base, &log, vec![when(vec![condition.clone()])], RUN);
        let others = api::Clause { all_of: Vec::new(), none_of: vec![condition] };
        let does_not = selected_by(&base, &log, vec![others], RUN);
        assert!(!holds.is_empty() && !does_not.is_empty(), "{what}: {holds:?} / {does_not:?}");
        let mut everyone: Vec<String> = holds.iter().chain(&does_not).cloned().collect();
        everyone.sort();
        assert_eq!(everyone, ["A", "B", "C", "D"], "{what}: each joined member once, E not yet");
    }
}

#[test]
fn candidates_come_out_ascending_and_once_whether_sorted_or_marked() {
    // Few against the base: sorted; many: marked in a bit per member.
    assert_eq!(ascending_once(vec![70, 3, 70, 9], 1_000), [3, 9, 70]);
    let many: Vec<u32> = (0..200).rev().chain(0..200).map(|m| m * 5 % 997).collect();
    let mut expected = many.clone();
    expected.sort_unstable();
    expected.dedup();
    assert_eq!(ascending_once(many, 1_000), expected);
    assert!(ascending_once(Vec::new(), 0).is_empty());
}

#[test]
fn a_window_of_zero_days_is_the_run_date_alone_and_a_far_look_back_stops_at_the_first_day() {
    let clock = RunClock::new(&BrandCalendar::default(), at(RUN));
    let today = day_number(date("2026-03-10"));
    assert_eq!(clock.today, today);
    assert_eq!(clock.window(0), (today, today));
    assert_eq!(clock.window(1), (today, today));
    assert_eq!(clock.window(30), (today - 29, today));
    assert_eq!(clock.days(&ago(0, u32::MAX)), (i32::MIN, today), "no day number wraps around");
}
