//! Each strategy's earlier decisions, in memory for the audience and the
//! plugin's `history`, kept in step with the store by the runner.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::sync::Arc;

use fixedbitset::FixedBitSet;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::decision_view::DecisionView;
use crate::governance::{held_back_by_caps, unreachable};
use crate::keyed;
use crate::member_base::MemberBase;
use crate::model::{ActionKind, Benefit, Day, DecisionStatus, Millis};

/// A decision as the log keeps it. The step, channel, template and variable
/// names are the same few strings across a strategy's decisions: each is
/// held once and shared (see [`StrategyLog::add_decision`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedDecision {
    /// [`Decision::step`]: audiences' `decided` conditions and plugins go by it.
    pub step: Arc<str>,
    /// [`Decision::action`].
    pub action: ActionKind,
    /// [`Decision::status`].
    pub status: DecisionStatus,
    /// [`Decision::run_at`]: the member's decisions are kept in its order.
    pub run_at: Millis,
    /// [`Decision::day`]: the day index files the decision under it.
    pub day: Day,
    /// [`Decision::channel`].
    pub channel: Arc<str>,
    /// [`Decision::template`].
    pub template: Arc<str>,
    /// [`Decision::variables`], names shared, values the decision's own.
    pub variables: Vec<(Arc<str>, String)>,
    /// [`Decision::benefit`].
    pub benefit: Option<Benefit>,
    /// Suppressed by a fatigue cap or the WeCom limit.
    pub held_back_by_caps: bool,
    /// Suppressed because no channel reached the member.
    pub unreachable: bool,
}

/// A decision as the day index holds it: enough to tell whether it meets an
/// audience's `decided` condition without reading the member's decisions.
#[derive(Clone, Copy, Debug)]
struct DayEntry {
    member: u32,
    /// Index into [`StrategyLog::steps`].
    step: u32,
    status: DecisionStatus,
    run_at: Millis,
}

/// One strategy's decisions, by member and by day.
#[derive(Clone, Debug, Default)]
pub struct StrategyLog {
    /// Keyed by member index: Fx, as audiences look up hundreds of thousands
    /// of members a run and need no protection against chosen keys.
    by_member: FxHashMap<u32, Vec<LoggedDecision>>,
    by_day: BTreeMap<Day, Vec<DayEntry>>,
    /// Each step the strategy's decisions name, with its number in [`DayEntry::step`].
    steps: FxHashMap<String, u32>,
    /// The strings its decisions repeat, each held once.
    names: FxHashSet<Arc<str>>,
}

impl StrategyLog {
    /// The member's latest decision, if any.
    pub fn latest(&self, member: u32) -> Option<&LoggedDecision> {
        self.of(member).last()
    }

    /// The member's decisions, oldest first.
    pub fn of(&self, member: u32) -> &[LoggedDecision] {
        self.by_member.get(&member).map_or(&[], Vec::as_slice)
    }

    /// Members with a decision on a day in `first..=last`.
    pub fn decided_between(&self, first: Day, last: Day) -> impl Iterator<Item = u32> + '_ {
        self.by_day.range(first..=last).flat_map(|(_, entries)| entries.iter().map(|e| e.member))
    }

    /// Adds to `members` (a bit per member index) everyone with a decision
    /// on a day in `first..=last`, made before `before`, of `step` and
    /// `status` where given.
    pub fn mark_decided(
        &self,
        (first, last): (Day, Day),
        before: Millis,
        step: Option<&str>,
        status: Option<DecisionStatus>,
        members: &mut FixedBitSet,
    ) {
        let step = match step {
            Some(step) => match self.steps.get(step) {
                Some(&id) => Some(id),
                None => return,
            },
            None => None,
        };
        for (_, entries) in self.by_day.range(first..=last) {
            for e in entries {
                if e.run_at < before && step.is_none_or(|s| s == e.step) && status.is_none_or(|s| s == e.status) {
                    members.insert(e.member as usize);
                }
            }
        }
    }

    /// Decisions (not members) on a day in `first..=last`: what reading that
    /// stretch of the day index costs, for an audience choosing its index.
    pub fn count_between(&self, first: Day, last: Day) -> usize {
        self.by_day.range(first..=last).map(|(_, entries)| entries.len()).sum()
    }

    /// Logs a decision of the member's (`member`: its index in the base).
    /// The repeated strings are shared, not copied: on a busy day this runs
    /// a million times beside the store's write, and a copy would cost three
    /// allocations or more a decision, and memory the log holds all day.
    pub fn add_decision(&mut self, member: u32, d: &DecisionView<'_>) {
        let logged = LoggedDecision {
            step: self.name(d.step),
            action: d.action,
            status: d.status,
            run_at: d.run_at,
            day: d.day,
            channel: self.name(d.channel),
            template: self.name(d.template),
            variables: d.variables.iter().map(|&(k, v)| (self.name(k), v.to_string())).collect(),
            benefit: d.benefit.clone(),
            held_back_by_caps: held_back_by_caps(d.status, d.reason),
            unreachable: unreachable(d.status, d.reason),
        };
        self.add(member, logged);
    }

    fn name(&mut self, name: &str) -> Arc<str> {
        if let Some(held) = self.names.get(name) {
            return held.clone();
        }
        let held: Arc<str> = name.into();
        self.names.insert(held.clone());
        held
    }

    /// Logs a decision already in the log's form (`member`: its index in the
    /// base). It goes among the member's by `run_at`, so decisions may come
    /// in any order.
    pub fn add(&mut self, member: u32, decision: LoggedDecision) {
        let next_step = self.steps.len() as u32;
        let step = *keyed::value_for_or(&mut self.steps, &decision.step, || next_step);
        let entry = DayEntry { member, step, status: decision.status, run_at: decision.run_at };
        self.by_day.entry(decision.day).or_default().push(entry);
        // Most members have one decision a strategy: room for exactly one.
        // A first push would make room for four, and at a million decisions
        // a day the three unused are hundreds of MB faulted in for nothing.
        let decisions = self.by_member.entry(member).or_insert_with(|| Vec::with_capacity(1));
        let at = decisions.partition_point(|d| d.run_at <= decision.run_at);
        decisions.insert(at, decision);
    }
}

/// Every strategy's log.
#[derive(Clone, Debug, Default)]
pub struct DecisionLog {
    /// Fx: looked up once for every decision recorded.
    strategies: FxHashMap<String, StrategyLog>,
    empty: StrategyLog,
}

impl DecisionLog {
    /// Loads decisions (e.g. from the store); those of members the base does
    /// not know are left out.
    pub fn load<'v>(base: &MemberBase, decisions: impl IntoIterator<Item = impl Borrow<DecisionView<'v>>>) -> Self {
        let mut log = DecisionLog::default();
        log.extend(base, decisions);
        log
    }

    /// Adds decisions; those of members the base does not know are left
    /// out. A member's decisions tend to come together (a run's are in
    /// member order): the member is looked up once for them, not once each
    /// in a map of all members.
    pub fn extend<'v>(
        &mut self,
        base: &MemberBase,
        decisions: impl IntoIterator<Item = impl Borrow<DecisionView<'v>>>,
    ) {
        let mut last: Option<(&str, Option<u32>)> = None;
        for decision in decisions {
            let decision = decision.borrow();
            let member = match last {
                Some((id, member)) if id == decision.member_id => member,
                _ => base.index_of(decision.member_id),
            };
            last = Some((decision.member_id, member));
            if let Some(member) = member {
                keyed::value_for(&mut self.strategies, decision.strategy).add_decision(member, decision);
            }
        }
    }

    /// The day of the earliest decision held, if any.
    pub fn earliest_day(&self) -> Option<Day> {
        self.strategies.values().filter_map(|s| s.by_day.keys().next().copied()).min()
    }

    /// The log of the strategy `id`: an empty one when it has no decisions.
    pub fn strategy(&self, id: &str) -> &StrategyLog {
        self.strategies.get(id).unwrap_or(&self.empty)
    }
}
