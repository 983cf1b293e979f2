//! Evaluates a plugin's declarative audience over the member base as of a run
//! instant, and gathers the facts the plugin is given for each member.
//!
//! Nothing after the run instant exists: members who join later, and later
//! orders, events and decisions, are invisible. Each clause starts from its
//! most selective indexed condition (e.g. "last order exactly 90 days ago"
//! reads only the members with an order on that day), so the cost of a run
//! follows the size of its audience rather than of the member base.
//!
//! - this file: the run's clock and [`select`], clause by clause;
//! - `index`: where a clause's candidates come from — the narrowest day,
//!   month or event index of its conditions, the launches its conditions
//!   name, the `decided` conditions marked from the strategy's day index;
//! - `conditions`: whether one condition holds for one candidate;
//! - `facts`: what the plugin is given about each member selected
//!   ([`member_facts`]) and about the run ([`launches`]);
//! - `words`: an audience in words, in English and Chinese, for operators ([`in_words`]).

mod conditions;
mod facts;
mod index;
#[cfg(test)]
mod tests;
mod words;

use fixedbitset::FixedBitSet;

use conditions::{holds, Checks, Subject};
pub use facts::{launches, member_facts, run_context};
use index::{DecidedMembers, IndexRange, LaunchedCategories};
pub use words::{in_words, Language};

use crate::calendar::RunClock;
use crate::decision_log::StrategyLog;
use crate::member_base::MemberBase;
use crate::model::Day;
use crate::parallel;
use crate::runtime::api;

const MILLIS_PER_HOUR: i64 = 3_600_000;

/// Day ranges relative to the run's day, as audiences count them.
impl RunClock {
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
/// over months holds each active member many times) are marked in a bit per
/// member and read back in order: one pass over the base's bits, where a
/// sort would move every entry, repeats included, several times.
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

/// How many days back `audience` needs every decision: an untold-launch
/// window (a launch is told after it, so within it), or the near edge of a
/// `decided` window. Older decisions may be compacted to the latest of each
/// step and status without changing whom it selects: a window reaching past
/// the cutoff from within the kept days finds a decision in its older part
/// exactly when it finds that latest one.
pub fn decision_days_read(audience: &api::Audience) -> u32 {
    let conditions = audience.any_of.iter().flat_map(|c| c.all_of.iter().chain(&c.none_of));
    let days = conditions.map(|c| match c {
        api::Condition::UntoldLaunchInBoughtCategory(u) => u.within_days,
        api::Condition::Decided(d) => d.ago.min,
        _ => 0,
    });
    days.max().unwrap_or(0)
}

/// The event kinds `audience` reads from the member base: those its
/// conditions name, those it asks to be given, and those that call its
/// triggers off. A trigger's own kind is not among them: the event that
/// fires it comes with the firing, not from the base.
pub fn event_kinds_read(audience: &api::Audience) -> impl Iterator<Item = &str> {
    let conditions = audience.any_of.iter().flat_map(|c| c.all_of.iter().chain(&c.none_of));
    let in_conditions = conditions.filter_map(|c| match c {
        api::Condition::Event(e) => Some(e.kind.as_str()),
        _ => None,
    });
    let cancels = audience.triggers.iter().flat_map(|t| &t.cancel_if).filter_map(|c| match c {
        api::CancelCondition::Event(e) => Some(e.kind.as_str()),
        api::CancelCondition::Ordered => None,
    });
    in_conditions.chain(audience.event_kinds.iter().map(String::as_str)).chain(cancels)
}
