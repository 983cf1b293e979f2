//! Where a clause's candidates come from: the narrowest index range of its
//! conditions (a day index of joins, WeCom adds, orders or first orders per
//! category, the members by birth month, an event kind's instants, the
//! strategy's decisions by day), the launches its conditions name, and the
//! `decided` conditions marked up front from the strategy's day index. Each
//! range holds every member its condition can hold for, and may hold more:
//! the conditions themselves are checked afterwards (`conditions`).

use fixedbitset::FixedBitSet;
use rustc_hash::FxHashMap;

use super::{RunClock, MILLIS_PER_HOUR};
use crate::calendar::date_of_day;
use crate::decision_log::StrategyLog;
use crate::member_base::MemberBase;
use crate::model::{Day, Millis};
use crate::runtime::api;

/// The part of one index that holds a condition's candidates.
pub(super) enum IndexRange<'a> {
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
    pub(super) fn of(
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
            // A current friend added the brand on some day up to today.
            C::WecomFriendNow => IndexRange::Days(base.by_wecom_day.range(Day::MIN, clock.today)),
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

    pub(super) fn len(&self) -> usize {
        match self {
            IndexRange::Days(s) => s.len(),
            IndexRange::AnyOf(ranges) => ranges.iter().map(|s| s.len()).sum(),
            IndexRange::Members(s) => s.len(),
            IndexRange::Events(s) => s.len(),
            IndexRange::Decided { count, .. } => *count,
        }
    }

    pub(super) fn members(&self, log: &StrategyLog) -> Vec<u32> {
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
pub(super) struct LaunchedCategories(FxHashMap<u32, FxHashMap<u32, Vec<String>>>);

impl LaunchedCategories {
    pub(super) fn of(base: &MemberBase, audience: &api::Audience, clock: RunClock) -> Self {
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

    pub(super) fn within(&self, days: u32) -> &FxHashMap<u32, Vec<String>> {
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
pub(super) struct DecidedMembers<'a>(Vec<(&'a api::EarlierDecision, FixedBitSet)>);

impl<'a> DecidedMembers<'a> {
    pub(super) fn of(
        base: &MemberBase,
        log: &StrategyLog,
        clause: &'a api::Clause,
        clock: RunClock,
        candidates: usize,
    ) -> Self {
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
    pub(super) fn get(&self, condition: &api::EarlierDecision) -> Option<&FixedBitSet> {
        self.0.iter().find(|(c, _)| std::ptr::eq(*c, condition)).map(|(_, members)| members)
    }
}

#[cfg(test)]
mod tests {
    use super::super::conditions::{holds, Checks, Subject};
    use super::super::select;
    use super::*;
    use crate::calendar::BrandCalendar;
    use crate::decision_log::LoggedDecision;
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
            unreachable: false,
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
            triggers: vec![],
        };
        assert_eq!(select(&base, &log, &audience, clock), [2, 4]);
    }
}
