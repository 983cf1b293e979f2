//! One strategy's part of a run: its audience evaluated, the members the
//! caps still hold back screened out, the rest decided batch by batch in
//! fresh sandboxes (`workers` at a time), and the proposals handed back in
//! batch order for the governor.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::isolate::{BatchDecider, Decided};
use super::Runner;
use crate::audience;
use crate::calendar::RunClock;
use crate::decision_log::StrategyLog;
use crate::governance::Governor;
use crate::member_base::MemberBase;
use crate::model::{Decision, Millis, Proposal, RunOutcome, RunRecord};
use crate::parallel;
use crate::runtime::proposals::{self, Proposals};
use crate::runtime::{api, PluginError};
use crate::strategy::Strategy;

impl Runner<'_> {
    /// The strategy's audience for this run, as its plugin asks for it now;
    /// one that reads event kinds the member base does not keep fails the
    /// strategy's part (its decisions would go by events left out).
    pub(super) fn audience_of(&self, strategy: &Strategy) -> Result<api::Audience, PluginError> {
        let audience = strategy.plugin.audience(&strategy.config)?;
        let missing = self.base.kept().missing(audience::event_kinds_read(&audience));
        if !missing.is_empty() {
            return Err(PluginError::EventKindsNotKept { plugin: strategy.plugin.label(), kinds: missing.join(", ") });
        }
        Ok(audience)
    }

    /// The strategy's proposals, batch by batch, appended to `batches`,
    /// and the (member, strategy) pairs it did not ask for because the caps
    /// still hold them back, to `held_back`. Proposals of batches before a
    /// failure stand.
    pub(super) fn propose(
        &mut self,
        strategy: &Strategy,
        clock: RunClock,
        record: &mut RunRecord,
        proposed: &mut Proposed<'_>,
    ) -> Result<(), PluginError> {
        let plugin = &strategy.plugin;
        let started = Instant::now();
        let audience = self.audience_of(strategy)?;
        let log = self.log.strategy(strategy.id());
        let mut selected = audience::select(&self.base, log, &audience, clock);
        record.audience = selected.len() as u64;
        let context = audience::run_context(&self.base, &strategy.config.to_string(), &audience, clock, None);
        let period = strategy.schedule.period_of(&self.base.calendar, clock.at);
        self.timings.audience += started.elapsed();

        let screening = Instant::now();
        let (base, governor) = (&self.base, &self.governor);
        let held = parallel::test_all(&selected, SCREENED_PER_TASK, |&m| {
            still_held_back(base, governor, strategy.id(), log, m, clock.at)
        });
        let mut held = held.into_iter();
        selected.retain(|&m| {
            let held = held.next().expect("one flag a member");
            if held {
                proposed.held_back.push((base.member(m).member.id.clone(), strategy.id().to_string()));
            }
            !held
        });
        record.held_back = record.audience - selected.len() as u64;
        self.timings.governance += screening.elapsed();

        // Batches are independent: each is gathered and decided in a fresh
        // sandbox, `workers` at a time, then taken in order — so the
        // proposals, and what stands when a batch fails, are as if one by one.
        let failed_members = AtomicU64::new(0);
        let decider =
            BatchDecider { plugin, context: &context, clock, period: &period, failed_members: &failed_members };
        let (base, batch_size) = (&self.base, self.batch_size);
        let calling = Instant::now();
        let decide = |batch: &[u32]| {
            let gathering = Instant::now();
            let members: Vec<api::Member> =
                batch.iter().map(|&m| audience::member_facts(base, log, m, &audience, clock)).collect();
            let facts = gathering.elapsed();
            let mut decided = Decided::default();
            let error = decider.decide(&members, &mut decided).err();
            BatchOutcome { facts, decided, error }
        };
        let failed = |outcome: &BatchOutcome| outcome.error.is_some();
        let outcomes = parallel::in_order(selected.chunks(batch_size), self.workers, decide, failed);
        let wall = calling.elapsed();
        let (mut facts, mut calls) = (Duration::ZERO, Duration::ZERO);
        let (mut failure, mut all_failed_with) = (None, None);
        for outcome in outcomes {
            record.batches += 1;
            record.fuel_used += outcome.decided.fuel;
            facts += outcome.facts;
            calls += outcome.decided.calls;
            // What a failing batch decided before it failed stands too.
            let Proposals { proposed: batch, failed } = outcome.decided.proposals;
            let first_failure = failed.iter().find(|d| d.step == proposals::NO_STEP).and_then(|d| d.reason.clone());
            all_failed_with = all_failed_with.or(first_failure);
            proposed.batches.push(batch);
            proposed.failed.extend(failed);
            if let Some(error) = outcome.error {
                failure = Some(error);
                break;
            }
        }
        record.failed_members = failed_members.load(Ordering::SeqCst);
        // A plugin that failed on every member it was asked about failed
        // the run, though each member's failure is recorded.
        if failure.is_none() && record.failed_members == selected.len() as u64 {
            if let Some(error) = all_failed_with {
                record.outcome = RunOutcome::Failed { error };
            }
        }
        // Worker time summed over threads, shared out over the wall time.
        let busy = (facts + calls).as_secs_f64().max(f64::EPSILON);
        let timings = &mut self.timings;
        timings.facts += wall.mul_f64(facts.as_secs_f64() / busy);
        timings.plugin += wall.mul_f64(calls.as_secs_f64() / busy);
        failure.map_or(Ok(()), Err)
    }
}

/// Where a strategy's proposals go: batches for the governor, failed
/// decisions past it, and the members the caps still hold back.
pub(super) struct Proposed<'a> {
    pub(super) batches: &'a mut Vec<Vec<Proposal>>,
    pub(super) failed: &'a mut Vec<Decision>,
    pub(super) held_back: &'a mut Vec<(String, String)>,
}

/// Members screened per task, on all cores: a slot search is a few µs.
const SCREENED_PER_TASK: usize = 4_096;

/// Whether the caps held `member` back at `strategy`'s latest decision and
/// still hold back any touch of it, or no channel reached them then and none
/// does now. Whatever the plugin proposed would be suppressed, and a daily
/// strategy would record one more suppression every day until the caps have
/// room or the member can be reached again — so the member is left out and
/// that decision stands. The first time is always decided and recorded.
pub(super) fn still_held_back(
    base: &MemberBase,
    governor: &Governor,
    strategy: &str,
    log: &StrategyLog,
    member: u32,
    at: Millis,
) -> bool {
    let Some(latest) = log.latest(member) else { return false };
    let id = &base.member(member).member.id;
    if latest.unreachable {
        return governor.still_unreachable(strategy, id, &latest.channel, at, base);
    }
    if !latest.held_back_by_caps {
        return false;
    }
    let tz = base.time_zone(member).unwrap_or(base.calendar.tz());
    governor.caps_hold_back(strategy, id, at, tz)
}

/// What deciding one batch gave; `error` fails the run.
struct BatchOutcome {
    facts: Duration,
    decided: Decided,
    error: Option<PluginError>,
}
