//! A triggered instant: the firings due at one instant (`triggers`), each
//! strategy's `decide` called for each firing's member alone with the event
//! that triggered it, then governed together — caps, quiet hours, holdouts,
//! and arbitration among the strategies the same event fired — and recorded
//! as a run's decisions are. The service and the simulation both come here.
//!
//! A firing whose cancel condition happened by its instant is called off
//! (counted, nothing decided). A member the plugin fails on gets a `failed`
//! decision, as in a run; a plugin that refuses its config fails its own
//! firings (the record says why), never the other strategies'.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::isolate::{BatchDecider, Decided};
use super::{RunStopped, Runner};
use crate::audience;
use crate::calendar::RunClock;
use crate::model::{Decision, Millis, RunOutcome, RunRecord, RunTrigger};
use crate::runtime::PluginError;
use crate::strategy::Strategy;
use crate::triggers::{api_event, called_off, Firing};

/// What firing an instant's triggers gave.
#[derive(Debug, Default)]
pub struct Fired {
    /// One record per strategy fired (trigger `event`; not stored: callers tally them).
    pub records: Vec<RunRecord>,
    /// Firings a cancel condition called off, per strategy (in record order).
    pub called_off: Vec<(String, u64)>,
}

impl Runner<'_> {
    /// Fires `firings`, all due at `at` (their strategies in arbitration
    /// order: a strategy's firings together, strategies as they come), and
    /// records what they decide. The store is not flushed: the caller does,
    /// before anything is dispatched. Only a store failure is an `Err`.
    pub fn fire_instant(
        &mut self,
        at: Millis,
        firings: &[(&Strategy, &Firing)],
        on_decision: &mut dyn FnMut(&Decision),
    ) -> anyhow::Result<Fired> {
        let clock = RunClock::new(&self.base.calendar, at);
        self.store.check_not_compacted(clock.today)?;
        let mut fired = Fired::default();
        let mut batches = Vec::new();
        let mut failed = Vec::new();
        let mut strategies: Vec<&Strategy> = Vec::new();
        for (strategy, _) in firings {
            if !strategies.iter().any(|s| s.id() == strategy.id()) {
                strategies.push(strategy);
            }
        }
        for strategy in strategies {
            let started = Instant::now();
            let plugin = &strategy.plugin;
            let build = (plugin.manifest.version.as_str(), &*plugin.sha256);
            let mut record = RunRecord::starting(strategy.id(), RunTrigger::Event, build, at, clock.today);
            let mine = firings.iter().filter(|(s, _)| s.id() == strategy.id()).map(|(_, f)| *f);
            let mut decided = Decided::default();
            let mut called_off = 0;
            match self.decide_firings(strategy, clock, mine, &mut record, &mut decided, &mut called_off) {
                Ok(()) => {}
                Err(error @ PluginError::Cancelled { .. }) => {
                    return Err(RunStopped { at: self.base.calendar.format(at), reason: error.to_string() }.into())
                }
                Err(error) => record.outcome = RunOutcome::Failed { error: error.to_string() },
            }
            record.fuel_used = decided.fuel;
            batches.push(decided.proposals.proposed);
            failed.extend(decided.proposals.failed);
            record.duration_micros = started.elapsed().as_micros() as u64;
            fired.called_off.push((strategy.id().to_string(), called_off));
            fired.records.push(record);
        }
        let decided = self.govern(at, &mut fired.records, batches, failed, &[])?;
        self.record(&mut fired.records, decided, on_decision)?;
        Ok(fired)
    }

    /// One strategy's firings at `clock`, one call each, into `decided`.
    fn decide_firings<'f>(
        &self,
        strategy: &Strategy,
        clock: RunClock,
        firings: impl Iterator<Item = &'f Firing>,
        record: &mut RunRecord,
        decided: &mut Decided,
        called_off_count: &mut u64,
    ) -> Result<(), PluginError> {
        let plugin = &strategy.plugin;
        let audience = self.audience_of(strategy)?;
        let log = self.log.strategy(strategy.id());
        let base = &self.base;
        let config = strategy.config.to_string();
        let failed_members = AtomicU64::new(0);
        let result = (|| {
            for firing in firings {
                let Some(m) = base.index_of(&firing.event.member_id) else { continue };
                if base.member(m).member.joined_at > clock.at {
                    continue;
                }
                if called_off(base, firing) {
                    *called_off_count += 1;
                    continue;
                }
                record.audience += 1;
                record.batches += 1;
                let facts = audience::member_facts(base, log, m, &audience, clock);
                let context =
                    audience::run_context(base, &config, &audience, clock, Some(api_event(base, &firing.event)));
                let period = firing.period();
                let decider =
                    BatchDecider { plugin, context: &context, clock, period: &period, failed_members: &failed_members };
                decider.decide(std::slice::from_ref(&facts), decided)?;
            }
            Ok(())
        })();
        record.failed_members = failed_members.load(Ordering::SeqCst);
        result
    }
}
