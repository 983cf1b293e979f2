//! Evaluates a plugin's declarative audience over the member base as of a run
//! instant, and gathers the facts the plugin is given for each member.
//!
//! Nothing after the run instant exists: members who join later, and later
//! orders, events and decisions, are invisible. Each clause starts from its
//! most selective indexed condition (e.g. "last order exactly 90 days ago"
//! reads only the members with an order on that day), so the cost of a run
//! follows the size of its audience rather than of the member base.

use std::cell::OnceCell;

use fixedbitset::FixedBitSet;
use rustc_hash::FxHashMap;

use crate::calendar::{date_of_day, BrandCalendar};
use crate::decision_log::{LoggedDecision, StrategyLog};
use crate::member_base::{MemberBase, OrderRow};
use crate::model::{self, Day, Millis};
use crate::parallel;
use crate::runtime::api;

const MILLIS_PER_HOUR: i64 = 3_600_000;

/// The instant of a run and its local date in the brand's calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunClock {
    pub at: Millis,
    pub today: Day,
}

impl RunClock {
    pub fn new(calendar: &BrandCalendar, at: Millis) -> Self {
        RunClock { at, today: calendar.day_of(at) }
    }

    /// The days `ago.max` to `ago.min` days before today, as a day range.
    fn days(&self, ago: &api::DaysAgo) -> (Day, Day) {
        let day = |n: u32| (self.today as i64 - n as i64).clamp(Day::MIN as i64, Day::MAX as i64) as Day;
        (day(ago.max), day(ago.min))
    }

    /// The window of the last `days` days (today and the days - 1 before).
    fn window(&self, days: u32) -> (Day, Day) {
        self.days(&api::DaysAgo { min: 0, max: days.max(1) - 1 })
    }
}

/// Candidates checked per task when an audience's conditions are checked on
/// all cores: a wide audience (every active customer) has hundreds of
/// thousands, each a few cache misses away.
const CANDIDATES_PER_TASK: usize = 16_384;

/// The members (base indexes, ascending) an audience selects at `clock`.
pub fn select(base: &MemberBase, log: &StrategyLog, audience: &api::Audience, clock: RunClock) -> Vec<u32> {
    let launched = LaunchedCategories::of(base, audience, clock);
    let mut selected = Vec::new();
    for clause in &audience.any_of {
        let candidates = ascending_once(candidates(base, log, &launched, clause, clock), base.len());
        let decided = DecidedMembers::of(base, log, clause, clock, candidates.len());
        let checks = Checks { base, clock, launched: &launched, decided };
        let check = |m: u32| {
            let subject = Subject::new(base, log, m, clock);
            base.member(m).member.joined_at <= clock.at
                && clause.all_of.iter().all(|c| holds(&checks, c, &subject))
                && !clause.none_of.iter().any(|c| holds(&checks, c, &subject))
        };
        let selects = parallel::test_all(&candidates, CANDIDATES_PER_TASK, |&m| check(m));
        selected.extend(candidates.iter().zip(selects).filter_map(|(&m, selects)| selects.then_some(m)));
    }
    selected.sort_unstable();
    selected.dedup();
    selected
}

/// A superset of the clause's members: the members of its smallest index
/// range, or everyone when no condition has an index.
fn candidates(
    base: &MemberBase,
    log: &StrategyLog,
    launched: &LaunchedCategories,
    clause: &api::Clause,
    clock: RunClock,
) -> Vec<u32> {
    let narrowest =
        clause.all_of.iter().filter_map(|c| IndexRange::of(base, log, launched, c, clock)).min_by_key(IndexRange::len);
    match narrowest {
        Some(range) => range.members(log),
        None => (0..base.len() as u32).collect(),
    }
}

/// Member indexes in ascending order, each once. Many (a day index's range
/// over months holds each active member many times): marked in a bit per
/// member, read back in order, where sorting them took longer.
fn ascending_once(mut members: Vec<u32>, base_len: usize) -> Vec<u32> {
    if members.len() < base_len / 64 {
        members.sort_unstable();
        members.dedup();
        return members;
    }
    let mut marked = FixedBitSet::with_capacity(base_len);
    marked.extend(members.iter().map(|&m| m as usize));
    marked.ones().map(|m| m as u32).collect()
}

/// The part of one index that holds a condition's candidates.
enum IndexRange<'a> {
    Days(&'a [(Day, u32)]),
    /// Several day ranges together (a member may be in more than one).
    AnyOf(Vec<&'a [(Day, u32)]>),
    Members(&'a [u32]),
    Events(&'a [(Millis, u32)]),
    Decided {
        first: Day,
        last: Day,
        count: usize,
    },
}

impl<'a> IndexRange<'a> {
    fn of(
        base: &'a MemberBase,
        log: &StrategyLog,
        launched: &LaunchedCategories,
        condition: &api::Condition,
        clock: RunClock,
    ) -> Option<Self> {
        use api::Condition as C;
        let days = |ago: &api::DaysAgo| clock.days(ago);
        Some(match condition {
            C::Joined(ago) => IndexRange::Days(base.by_joined_day.range(days(ago).0, days(ago).1)),
            C::WecomAdded(ago) => IndexRange::Days(base.by_wecom_day.range(days(ago).0, days(ago).1)),
            C::FirstOrder(ago) => IndexRange::Days(base.by_first_order_day.range(days(ago).0, days(ago).1)),
            // The latest order lies in the range only if some order does.
            C::LastOrder(ago) => IndexRange::Days(base.by_order_day.range(days(ago).0, days(ago).1)),
            C::OrdersWithin(w) if w.at_least > 0 => {
                let (first, last) = clock.window(w.within_days);
                IndexRange::Days(base.by_order_day.range(first, last))
            }
            C::SpendWithin(w) if w.at_least > 0 => {
                let (first, last) = clock.window(w.within_days);
                IndexRange::Days(base.by_order_day.range(first, last))
            }
            C::BirthdayInRunMonth => {
                IndexRange::Members(&base.by_birth_month[crate::calendar::month_of(date_of_day(clock.today)) as usize])
            }
            C::Event(e) => {
                let events = base.events_by_kind.get(&e.kind).map_or(&[][..], Vec::as_slice);
                let since = clock.at - e.within_hours as i64 * MILLIS_PER_HOUR;
                let start = events.partition_point(|&(at, _)| at < since);
                let end = events.partition_point(|&(at, _)| at <= clock.at);
                IndexRange::Events(&events[start..end.max(start)])
            }
            C::Decided(d) => {
                let (first, last) = days(&d.ago);
                IndexRange::Decided { first, last, count: log.count_between(first, last) }
            }
            // Only buyers of a category with a launch in the window; on a day
            // without launches, nobody.
            C::BoughtLaunchedCategory(days)
            | C::UntoldLaunchInBoughtCategory(api::UntoldLaunch { within_days: days, .. }) => {
                let buyers = |&c: &u32| base.by_first_order_in_category[c as usize].range(Day::MIN, clock.today);
                IndexRange::AnyOf(launched.within(*days).keys().map(buyers).collect())
            }
            _ => return None,
        })
    }

    fn len(&self) -> usize {
        match self {
            IndexRange::Days(s) => s.len(),
            IndexRange::AnyOf(ranges) => ranges.iter().map(|s| s.len()).sum(),
            IndexRange::Members(s) => s.len(),
            IndexRange::Events(s) => s.len(),
            IndexRange::Decided { count, .. } => *count,
        }
    }

    fn members(&self, log: &StrategyLog) -> Vec<u32> {
        match self {
            IndexRange::Days(s) => s.iter().map(|&(_, m)| m).collect(),
            IndexRange::AnyOf(ranges) => ranges.iter().flat_map(|s| s.iter().map(|&(_, m)| m)).collect(),
            IndexRange::Members(s) => s.to_vec(),
            IndexRange::Events(s) => s.iter().map(|&(_, m)| m).collect(),
            IndexRange::Decided { first, last, .. } => log.decided_between(*first, *last).collect(),
        }
    }
}

/// The skus launched in each window the audience's conditions name, by
/// category, computed once per run. Fx: looked up for each order of each
/// candidate.
struct LaunchedCategories(FxHashMap<u32, FxHashMap<u32, Vec<String>>>);

impl LaunchedCategories {
    fn of(base: &MemberBase, audience: &api::Audience, clock: RunClock) -> Self {
        let conditions = audience.any_of.iter().flat_map(|c| c.all_of.iter().chain(&c.none_of));
        let windows = conditions.filter_map(|c| match c {
            api::Condition::BoughtLaunchedCategory(days) => Some(*days),
            api::Condition::UntoldLaunchInBoughtCategory(u) => Some(u.within_days),
            _ => None,
        });
        let skus_within = |days: u32| {
            let mut skus: FxHashMap<u32, Vec<String>> = FxHashMap::default();
            for p in base.launches(clock.window(days).0, clock.at) {
                skus.entry(p.category).or_default().push(p.product.sku.clone());
            }
            (days, skus)
        };
        LaunchedCategories(windows.map(skus_within).collect())
    }

    fn within(&self, days: u32) -> &FxHashMap<u32, Vec<String>> {
        &self.0[&days]
    }
}

/// Day-index decisions read per candidate, at most, to mark a `decided`
/// condition's members up front: reading an index entry costs a fraction of
/// looking up one member's decisions (a hash probe and cache misses).
const DAY_INDEX_READS_PER_CANDIDATE: usize = 16;

/// The members each `decided` condition of a clause holds for, marked once
/// from the strategy's day index where that is cheaper than checking each
/// candidate's own decisions (group-buy's audience checks ~440,000 active
/// customers at 1 M members for an invitation in the last 30 days).
struct DecidedMembers<'a>(Vec<(&'a api::EarlierDecision, FixedBitSet)>);

impl<'a> DecidedMembers<'a> {
    fn of(base: &MemberBase, log: &StrategyLog, clause: &'a api::Clause, clock: RunClock, candidates: usize) -> Self {
        let conditions = clause.all_of.iter().chain(&clause.none_of).filter_map(|c| match c {
            api::Condition::Decided(d) => Some(d),
            _ => None,
        });
        let marked = conditions.filter_map(|d| {
            let days = clock.days(&d.ago);
            if log.count_between(days.0, days.1) > DAY_INDEX_READS_PER_CANDIDATE * candidates {
                return None;
            }
            let mut members = FixedBitSet::with_capacity(base.len());
            log.mark_decided(days, clock.at, d.step.as_deref(), d.status.map(Into::into), &mut members);
            Some((d, members))
        });
        DecidedMembers(marked.collect())
    }

    /// The members marked for this very condition, if it was marked.
    fn get(&self, condition: &api::EarlierDecision) -> Option<&FixedBitSet> {
        self.0.iter().find(|(c, _)| std::ptr::eq(*c, condition)).map(|(_, members)| members)
    }
}

/// What a clause's conditions are checked against, beside the member.
struct Checks<'a> {
    base: &'a MemberBase,
    clock: RunClock,
    launched: &'a LaunchedCategories,
    decided: DecidedMembers<'a>,
}

fn in_range(day: Day, (first, last): (Day, Day)) -> bool {
    first <= day && day <= last
}

/// One candidate as the conditions see them: their orders as of the run and
/// the strategy's decisions about them, each looked up once for the whole
/// clause (an audience reads them for hundreds of thousands of members).
struct Subject<'a> {
    m: u32,
    base: &'a MemberBase,
    log: &'a StrategyLog,
    at: Millis,
    orders: OnceCell<&'a [OrderRow]>,
    decisions: OnceCell<&'a [LoggedDecision]>,
}

impl<'a> Subject<'a> {
    fn new(base: &'a MemberBase, log: &'a StrategyLog, m: u32, clock: RunClock) -> Self {
        Subject { m, base, log, at: clock.at, orders: OnceCell::new(), decisions: OnceCell::new() }
    }

    fn orders(&self) -> &'a [OrderRow] {
        self.orders.get_or_init(|| self.base.orders_as_of(self.m, self.at))
    }

    /// Decisions made before the run, oldest first.
    fn decisions(&self) -> &'a [LoggedDecision] {
        self.decisions.get_or_init(|| {
            let all = self.log.of(self.m);
            &all[..all.partition_point(|d| d.run_at < self.at)]
        })
    }
}

fn holds(checks: &Checks, condition: &api::Condition, subject: &Subject) -> bool {
    use api::Condition as C;
    let Checks { base, clock, launched, decided } = checks;
    let clock = *clock;
    let row = base.member(subject.m);
    let orders = || subject.orders();
    match condition {
        C::Joined(ago) => in_range(row.joined_day, clock.days(ago)),
        C::WecomAdded(ago) => match (row.member.wecom_added_at, row.wecom_added_day) {
            (Some(at), Some(day)) => at <= clock.at && in_range(day, clock.days(ago)),
            _ => false,
        },
        C::FirstOrder(ago) => orders().first().is_some_and(|o| in_range(o.day, clock.days(ago))),
        C::LastOrder(ago) => orders().last().is_some_and(|o| in_range(o.day, clock.days(ago))),
        C::HasOrdered => !orders().is_empty(),
        C::OrdersWithin(w) => {
            let window = clock.window(w.within_days);
            orders().iter().rev().take_while(|o| o.day >= window.0).count() as u32 >= w.at_least
        }
        C::SpendWithin(w) => {
            let window = clock.window(w.within_days);
            spend(orders().iter().rev().take_while(|o| o.day >= window.0)) >= w.at_least
        }
        C::LevelIn(levels) => levels.contains(&row.member.level),
        C::BirthdayInRunMonth => row
            .member
            .birthday
            .is_some_and(|b| crate::calendar::month_of(b) == crate::calendar::month_of(date_of_day(clock.today))),
        C::Event(e) => {
            let since = clock.at - e.within_hours as i64 * MILLIS_PER_HOUR;
            base.events_as_of(subject.m, clock.at)
                .iter()
                .rev()
                .take_while(|ev| ev.at >= since)
                .any(|ev| ev.kind == e.kind)
        }
        C::Decided(d) => match decided.get(d) {
            Some(members) => members.contains(subject.m as usize),
            // The fields held inline first: the step is a string elsewhere in memory.
            None => subject.decisions().iter().any(|past| {
                in_range(past.day, clock.days(&d.ago))
                    && d.status.is_none_or(|s| model::DecisionStatus::from(s) == past.status)
                    && d.step.as_ref().is_none_or(|s| **s == *past.step)
            }),
        },
        C::BoughtLaunchedCategory(days) => {
            let categories = launched.within(*days);
            !categories.is_empty() && orders().iter().any(|o| categories.contains_key(&o.category))
        }
        C::UntoldLaunchInBoughtCategory(u) => {
            let skus = launched.within(u.within_days);
            if skus.is_empty() {
                return false;
            }
            let told = |sku: &str| {
                subject.decisions().iter().any(|past| {
                    *past.step == *u.step && past.variables.iter().any(|(k, v)| **k == *u.sku_variable && v == sku)
                })
            };
            let mut checked = Vec::new();
            orders().iter().any(|o| match skus.get(&o.category) {
                Some(launched) if !checked.contains(&o.category) => {
                    checked.push(o.category);
                    launched.iter().any(|sku| !told(sku))
                }
                _ => false,
            })
        }
    }
}

/// Everything the plugin is given about one member, as of the run.
pub fn member_facts(
    base: &MemberBase,
    log: &StrategyLog,
    m: u32,
    audience: &api::Audience,
    clock: RunClock,
) -> api::Member {
    let row = base.member(m);
    let member = &row.member;
    let wecom_visible = member.wecom_added_at.is_some_and(|at| at <= clock.at);
    let profile = api::Profile {
        id: member.id.clone(),
        name: member.name.clone(),
        level: member.level,
        birthday: member.birthday.map(api::Date::from),
        joined_at: member.joined_at,
        joined_day: row.joined_day,
        wecom_added_at: member.wecom_added_at.filter(|_| wecom_visible),
        wecom_added_day: row.wecom_added_day.filter(|_| wecom_visible),
        store_id: member.store_id.clone(),
        guide_id: member.guide_id.clone(),
        timezone: member.tz.clone(),
    };
    // Only the look-back window, and only when some kind is asked for: the
    // events are the largest part of a member's row, and reading them all for
    // every member selected was a third of the facts' time.
    let events = if audience.event_kinds.is_empty() {
        Vec::new()
    } else {
        let since = clock.at - audience.event_lookback_hours as i64 * MILLIS_PER_HOUR;
        let events = base.events_as_of(m, clock.at);
        events[events.partition_point(|e| e.at < since)..]
            .iter()
            .filter(|e| audience.event_kinds.contains(&e.kind))
            .map(|e| api::Event {
                id: e.id.clone(),
                kind: e.kind.clone(),
                at: e.at,
                day: e.day,
                attrs: e.attrs.clone(),
            })
            .collect()
    };
    let history = log.of(m).iter().filter(|d| d.run_at < clock.at).map(api::PastDecision::from).collect();
    api::Member {
        profile,
        orders: order_facts(base, base.orders_as_of(m, clock.at), &audience.order_windows, clock),
        events,
        history,
    }
}

fn order_facts(base: &MemberBase, orders: &[OrderRow], windows: &[u32], clock: RunClock) -> api::OrderFacts {
    let mut by_category: FxHashMap<u32, api::CategoryStats> = FxHashMap::default();
    for o in orders {
        let stats = by_category.entry(o.category).or_insert_with(|| api::CategoryStats {
            category: base.category_name(o.category).to_string(),
            orders: 0,
            spend: 0,
            last_day: o.day,
        });
        stats.orders = stats.orders.saturating_add(1);
        stats.spend = stats.spend.saturating_add(o.amount);
        stats.last_day = stats.last_day.max(o.day);
    }
    let mut categories: Vec<api::CategoryStats> = by_category.into_values().collect();
    categories
        .sort_by(|a, b| (b.orders, b.last_day).cmp(&(a.orders, a.last_day)).then_with(|| a.category.cmp(&b.category)));
    let windows = windows
        .iter()
        .map(|&days| {
            let (first, _) = clock.window(days);
            let inside = orders.iter().rev().take_while(|o| o.day >= first);
            let (count, spend) =
                inside.fold((0u32, 0i64), |(n, s), o| (n.saturating_add(1), s.saturating_add(o.amount)));
            api::WindowStats { days, orders: count, spend }
        })
        .collect();
    api::OrderFacts {
        first_order_at: orders.first().map(|o| o.at),
        first_order_day: orders.first().map(|o| o.day),
        last_order_at: orders.last().map(|o| o.at),
        last_order_day: orders.last().map(|o| o.day),
        orders: u32::try_from(orders.len()).unwrap_or(u32::MAX),
        spend: spend(orders.iter()),
        windows,
        categories,
    }
}

/// What these orders add up to. Saturating: each amount is within
/// [`model::MAX_AMOUNT_FEN`], so a real sum never comes near the limit, and
/// no data can make a member's spend wrap around to a negative number.
fn spend<'a>(orders: impl Iterator<Item = &'a OrderRow>) -> model::Fen {
    orders.fold(0, |sum, o| sum.saturating_add(o.amount))
}

/// The products launched within the audience's look-back, newest first.
pub fn launches(base: &MemberBase, audience: &api::Audience, clock: RunClock) -> Vec<api::Product> {
    if audience.launch_lookback_days == 0 {
        return Vec::new();
    }
    let (first, _) = clock.window(audience.launch_lookback_days);
    base.launches(first, clock.at)
        .map(|p| api::Product {
            sku: p.product.sku.clone(),
            name: p.product.name.clone(),
            category: p.product.category.clone(),
            price: p.product.price,
            launched_at: p.product.launched_at,
            launched_day: p.launched_day,
            tags: p.product.tags.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{bare_member, ActionKind, DataSet, DecisionStatus};

    const DAY: Millis = 86_400_000;

    fn logged(step: &str, status: DecisionStatus, day: Day, run_at: Millis) -> LoggedDecision {
        LoggedDecision {
            step: step.into(),
            action: ActionKind::Message,
            status,
            run_at,
            day,
            channel: "sms".into(),
            template: "t".into(),
            variables: Vec::new(),
            benefit: None,
            held_back_by_caps: false,
        }
    }

    /// A `decided` condition marked from the day index selects exactly the
    /// members that checking each one's own decisions does: the same days,
    /// steps and statuses, and nothing decided at or after the run instant.
    #[test]
    fn decided_members_marked_from_the_day_index_are_those_each_members_decisions_show() {
        let members = ["A", "B", "C", "D", "E", "F"].map(bare_member).to_vec();
        let base = MemberBase::build(BrandCalendar::default(), DataSet { members, ..Default::default() });
        let clock = RunClock { at: 100 * DAY + 10_000, today: 100 };
        let mut log = StrategyLog::default();
        use DecisionStatus::*;
        log.add(0, logged("invite", Dispatched, 95, 95 * DAY));
        log.add(1, logged("invite", Holdout, 99, 99 * DAY));
        log.add(1, logged("remind", Dispatched, 60, 60 * DAY));
        log.add(2, logged("invite", Suppressed, 100, 100 * DAY));
        // Today, but at the run instant: not yet decided as the run sees it.
        log.add(3, logged("invite", Dispatched, 100, clock.at));
        log.add(4, logged("remind", Holdout, 100, 100 * DAY + 5));

        let steps = [None, Some("invite"), Some("remind"), Some("never-used")];
        let statuses = [None, Some(api::DecisionStatus::Dispatched), Some(api::DecisionStatus::Holdout)];
        let windows = [(0, 0), (0, 30), (1, 10), (30, 60)];
        let (mut marked_any, mut held_any) = (false, false);
        for step in steps {
            for status in statuses {
                for (min, max) in windows {
                    let ago = api::DaysAgo { min, max };
                    let condition =
                        api::Condition::Decided(api::EarlierDecision { step: step.map(Into::into), status, ago });
                    let clause = api::Clause { all_of: Vec::new(), none_of: vec![condition] };
                    let launched = LaunchedCategories(FxHashMap::default());
                    let decided = DecidedMembers::of(&base, &log, &clause, clock, base.len());
                    marked_any |= !decided.0.is_empty();
                    let from_index = Checks { base: &base, clock, launched: &launched, decided };
                    let from_members =
                        Checks { base: &base, clock, launched: &launched, decided: DecidedMembers(Vec::new()) };
                    for m in 0..base.len() as u32 {
                        let subject = Subject::new(&base, &log, m, clock);
                        let expected = holds(&from_members, &clause.none_of[0], &subject);
                        held_any |= expected;
                        let what = format!("member {m}, step {step:?}, status {status:?}, {min}..={max} days ago");
                        assert_eq!(holds(&from_index, &clause.none_of[0], &subject), expected, "{what}");
                    }
                }
            }
        }
        assert!(marked_any && held_any);
        // Member D's decision at the run instant is not seen either way.
        let today = api::Condition::Decided(api::EarlierDecision {
            step: None,
            status: None,
            ago: api::DaysAgo { min: 0, max: 0 },
        });
        let audience = api::Audience {
            any_of: vec![api::Clause { all_of: vec![today], none_of: Vec::new() }],
            order_windows: Vec::new(),
            event_kinds: Vec::new(),
            event_lookback_hours: 0,
            launch_lookback_days: 0,
        };
        assert_eq!(select(&base, &log, &audience, clock), [2, 4]);
    }

    /// Amounts are bounded at import; even so, no orders can make a
    /// member's spend wrap around: two that together pass `i64::MAX` give
    /// the largest spend, not a negative one (the facts once said `-2`).
    #[test]
    fn a_members_spend_saturates_instead_of_wrapping() {
        let huge = i64::MAX / 2 + 1;
        let order = |id: &str, at: Millis| model::Order {
            id: id.into(),
            member_id: "A".into(),
            placed_at: at,
            amount: huge,
            channel: model::OrderChannel::Store,
            category: "tops".into(),
            sku: "T".into(),
        };
        let data = DataSet {
            members: vec![bare_member("A")],
            orders: vec![order("1", DAY), order("2", 2 * DAY)],
            ..Default::default()
        };
        let base = MemberBase::build(BrandCalendar::default(), data);
        let clock = RunClock::new(&base.calendar, 3 * DAY);
        let facts = order_facts(&base, base.orders_as_of(0, clock.at), &[30], clock);
        assert_eq!((facts.orders, facts.spend), (2, i64::MAX));
        assert_eq!((facts.windows[0].orders, facts.windows[0].spend), (2, i64::MAX));
        assert_eq!((facts.categories[0].orders, facts.categories[0].spend), (2, i64::MAX));
        assert_eq!(spend(base.orders_as_of(0, clock.at).iter()), i64::MAX, "as `spend-within` sees it");
    }
}
