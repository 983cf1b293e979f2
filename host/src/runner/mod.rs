//! A run instant: every strategy due then evaluates its audience as of the
//! instant and proposes touches, batch by batch; the governor decides what
//! becomes of each proposal; the decisions (and, for real runs, their outbox
//! entries) are recorded, each member's all at once (see Store::record_decisions).
//!
//! A plugin that fails (trap, limit, error, invalid touch) fails its own run:
//! the run is recorded with the reason, proposals of its earlier batches
//! stand, and the other strategies go on. A (strategy, step, period, member)
//! already decided is never decided again, so re-running an instant, or
//! running it again after a crash, adds nothing twice.

mod fire;
mod isolate;
mod propose;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use fire::Fired;
use propose::Proposed;

use crate::calendar::RunClock;
use crate::decision_log::DecisionLog;
use crate::governance::Governor;
use crate::member_base::MemberBase;
use crate::model::{self, Decision, Event, Millis, RunOutcome, RunRecord, RunTrigger};
use crate::parallel::all_cores;
use crate::runtime::PluginError;
use crate::store::{Queue, Store};
use crate::strategy::Strategy;

/// `[run]`: how a run's members are handed to plugins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSettings {
    /// Members per plugin call.
    pub batch_size: usize,
    /// Plugin calls (batches) at once; 0 = one per core.
    pub workers: usize,
    /// How far ahead of the clock an operator may ask for a run, in hours,
    /// unless forced (`canvas run --force`, the API's `"force": true`).
    pub max_ahead_hours: u32,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings { batch_size: 500, workers: 0, max_ahead_hours: 24 }
    }
}

/// A run instant stopped before anything of it was recorded (the host is
/// shutting down): it is as if it had not started, and runs again when asked
/// (a scheduled one is caught up at the next start).
#[derive(Debug, thiserror::Error)]
#[error("the run at {at} was stopped and nothing of it was recorded: {reason}")]
pub struct RunStopped {
    /// The run instant, RFC 3339 in the brand's time zone.
    pub at: String,
    /// What stopped it (the host shutting down).
    pub reason: String,
}

/// Where a runner's time went, summed over its runs (for benchmarks and
/// the run summary).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunTimings {
    /// Evaluating audiences (`audience-for` calls included) and gathering launches.
    pub audience: Duration,
    /// Gathering each selected member's facts for the plugin.
    pub facts: Duration,
    /// `decide` calls in the sandbox, touch checks included.
    pub plugin: Duration,
    /// Skipping what was decided before, and the governor's decisions.
    pub governance: Duration,
    /// Writing decisions, outbox entries, coupon events and run records, and the flush.
    pub record: Duration,
}

/// Runs strategies against a member base, recording into a store.
pub struct Runner<'a> {
    /// The member base the runner decides over, as of its latest run.
    pub base: MemberBase,
    /// Every strategy's earlier decisions, with this runner's added as it records them.
    pub log: DecisionLog,
    /// Where its runs' time went, summed since the last reset.
    pub timings: RunTimings,
    governor: Governor,
    store: &'a Store,
    batch_size: usize,
    /// Threads deciding batches at once.
    workers: usize,
    /// Whether decided touches go to the outbox (real runs) or not (simulation).
    enqueue: bool,
}

/// What a runner knows between run instants: the member base, the decision
/// log and the governor's memory. Each run keeps them in step with the
/// decisions it records, so a long-running service keeps this instead of
/// reading the store again before every run (over a minute at a million
/// members); it is stale once the member data changes.
#[derive(Clone)]
pub struct RunnerState {
    /// The member base, with the events its runs added (issued coupons).
    pub base: MemberBase,
    log: DecisionLog,
    governor: Governor,
}

impl RunnerState {
    /// The decisions made so far, read from the store into the log and the governor.
    pub fn load(base: MemberBase, store: &Store, mut governor: Governor) -> anyhow::Result<Self> {
        // Read in place from the store's pages, a page at a time: a start
        // after weeks at a million members reads millions, and copying each
        // one's strings, or holding them all, was most of it.
        let mut log = DecisionLog::default();
        store.each_decision_page(|page| {
            for decision in page {
                governor.remember(decision);
            }
            log.extend(&base, page);
        })?;
        Ok(RunnerState { base, log, governor })
    }

    /// Its member base; the rest is freed on a thread of its own.
    pub fn into_base(self) -> MemberBase {
        let RunnerState { base, log, governor } = self;
        std::thread::spawn(move || drop((log, governor)));
        base
    }

    /// The day of the earliest decision it holds, if any.
    pub fn earliest_decision_day(&self) -> Option<crate::model::Day> {
        self.log.earliest_day()
    }

    /// Frees the state on a thread of its own. At a million members that
    /// takes seconds, which a command about to end need not wait for (its
    /// exit hands the memory back at once); a caller that lives on still
    /// gets the memory back.
    pub fn drop_in_background(self) {
        std::thread::spawn(move || drop(self));
    }
}

impl<'a> Runner<'a> {
    /// `enqueue`: put dispatched and deferred touches in the store's outbox.
    pub fn new(
        base: MemberBase,
        store: &'a Store,
        governor: Governor,
        batch_size: usize,
        enqueue: bool,
    ) -> anyhow::Result<Self> {
        Ok(Self::resume(RunnerState::load(base, store, governor)?, store, batch_size, enqueue))
    }

    /// A runner that goes on from `state`, which must be in step with `store`.
    pub fn resume(state: RunnerState, store: &'a Store, batch_size: usize, enqueue: bool) -> Self {
        let RunnerState { base, log, governor } = state;
        Runner {
            base,
            log,
            timings: RunTimings::default(),
            governor,
            store,
            batch_size: batch_size.max(1),
            workers: all_cores(),
            enqueue,
        }
    }

    /// What this runner knows, to resume from at the next instant.
    pub fn into_state(self) -> RunnerState {
        RunnerState { base: self.base, log: self.log, governor: self.governor }
    }

    /// Decide up to `workers` batches at once (0: one per core).
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = if workers == 0 { all_cores() } else { workers };
        self
    }

    /// Runs `strategies` at `at`: one record per strategy. Plugin failures end
    /// up in the records; only a store failure is an `Err`.
    pub fn run_instant(
        &mut self,
        at: Millis,
        trigger: RunTrigger,
        strategies: &[&Strategy],
        on_decision: &mut dyn FnMut(&Decision),
    ) -> anyhow::Result<Vec<RunRecord>> {
        let (mut records, decided) = self.decide_instant(at, trigger, strategies)?;
        self.record(&mut records, decided, on_decision)?;
        // Decisions are durable before anything is dispatched.
        let flushing = Instant::now();
        self.store.flush()?;
        self.timings.record += flushing.elapsed();
        Ok(records)
    }

    /// Records what an instant decided: coupon events, decisions (with
    /// their outbox entries for real runs), run records; the log and the
    /// member base kept in step. The caller flushes the store.
    fn record(
        &mut self,
        records: &mut [RunRecord],
        decided: Vec<Decision>,
        on_decision: &mut dyn FnMut(&Decision),
    ) -> anyhow::Result<()> {
        let recording = Instant::now();
        let queue = if self.enqueue { Queue::ToBeSent } else { Queue::Nothing };
        // Coupons first: if the process dies before their decisions land, the
        // instant is decided again and writes the same coupon events again.
        let coupons: Vec<Event> = decided.iter().filter(|d| d.issues_coupon()).map(coupon_issued).collect();
        self.store.record_events(&coupons)?;
        // The log is kept in step while the store encodes and writes: the
        // two take about as long, so side by side neither waits. Should the
        // store fail, the run fails and its caller reads the state from the
        // store again.
        let (log, base, store) = (&mut self.log, &self.base, self.store);
        std::thread::scope(|scope| {
            let logging = scope.spawn(|| log.extend(base, decided.iter().map(Decision::view)));
            let recorded = store.record_decisions(&decided, queue);
            logging.join().expect("adding to the decision log does not panic");
            recorded
        })?;
        self.base.add_events(coupons);
        for decision in &decided {
            record_of(records, &decision.strategy).decisions += 1;
            on_decision(decision);
        }
        // Triggered firings are tallied by their caller (a record per
        // firing would be thousands a minute); scheduled runs each have one.
        for record in records.iter().filter(|r| r.trigger != RunTrigger::Event) {
            self.store.record_run(record)?;
        }
        // Freeing a busy day's decisions (ten strings each, for up to every
        // member) is work the caller need not wait for.
        if decided.len() >= FREED_IN_BACKGROUND {
            std::thread::spawn(move || drop(decided));
        }
        self.timings.record += recording.elapsed();
        Ok(())
    }

    /// What a run of `strategies` at `at` would decide, with nothing
    /// written anywhere: no decision, coupon, outbox entry or run record in
    /// the store, which is only read (what is decided already). This
    /// runner's own state goes on as after the run (the log, the governor's
    /// memory, the coupons in the member base), so a caller previews several
    /// instants in a row on one state — which must then be thrown away: it
    /// is no longer in step with the store. The records count the decisions.
    pub fn preview_instant(
        &mut self,
        at: Millis,
        strategies: &[&Strategy],
    ) -> anyhow::Result<(Vec<RunRecord>, Vec<Decision>)> {
        let (mut records, decided) = self.decide_instant(at, RunTrigger::Manual, strategies)?;
        let coupons: Vec<Event> = decided.iter().filter(|d| d.issues_coupon()).map(coupon_issued).collect();
        self.log.extend(&self.base, decided.iter().map(Decision::view));
        self.base.add_events(coupons);
        for decision in &decided {
            record_of(&mut records, &decision.strategy).decisions += 1;
        }
        Ok((records, decided))
    }

    /// Each strategy proposes, what is decided already is dropped, and the
    /// governor decides the rest: one record per strategy (its decisions
    /// not yet counted) and the decisions, in arbitration order.
    fn decide_instant(
        &mut self,
        at: Millis,
        trigger: RunTrigger,
        strategies: &[&Strategy],
    ) -> anyhow::Result<(Vec<RunRecord>, Vec<Decision>)> {
        let clock = RunClock::new(&self.base.calendar, at);
        // Before what a compaction left, keys would be decided again.
        self.store.check_not_compacted(clock.today)?;
        let mut records = Vec::with_capacity(strategies.len());
        let mut batches = Vec::new();
        let mut failed = Vec::new();
        let mut held_back = Vec::new();
        for strategy in strategies {
            let started = Instant::now();
            let build = (strategy.plugin.manifest.version.as_str(), &*strategy.plugin.sha256);
            let mut record = RunRecord::starting(strategy.id(), trigger, build, at, clock.today);
            let proposed = &mut Proposed { batches: &mut batches, failed: &mut failed, held_back: &mut held_back };
            match self.propose(strategy, clock, &mut record, proposed) {
                Ok(()) => {}
                // Shutting down: nothing of this instant is recorded, so it
                // is run again (caught up) as if it had never started.
                Err(error @ PluginError::Cancelled { .. }) => {
                    return Err(RunStopped { at: self.base.calendar.format(at), reason: error.to_string() }.into())
                }
                Err(error) => record.outcome = RunOutcome::Failed { error: error.to_string() },
            }
            record.duration_micros = started.elapsed().as_micros() as u64;
            records.push(record);
        }

        let decided = self.govern(at, &mut records, batches, failed, &held_back)?;
        Ok((records, decided))
    }

    /// What is decided already is dropped (counted in the records), and the
    /// governor decides the rest, in arbitration order; failed decisions
    /// touch nobody and pass it by.
    fn govern(
        &mut self,
        at: Millis,
        records: &mut [RunRecord],
        mut batches: Vec<Vec<model::Proposal>>,
        mut failed: Vec<Decision>,
        held_back: &[(String, String)],
    ) -> anyhow::Result<Vec<Decision>> {
        let governing = Instant::now();
        let mut already_decided = |strategy: &str| record_of(records, strategy).already_decided += 1;
        for batch in &mut batches {
            self.store.retain_undecided(batch, |p| &p.key, |p| already_decided(&p.strategy))?;
        }
        self.store.retain_undecided(&mut failed, |d| &d.key, |d| already_decided(&d.strategy))?;
        let mut decided = self.governor.decide(at, batches, held_back, &self.base);
        decided.append(&mut failed);
        self.timings.governance += governing.elapsed();
        Ok(decided)
    }
}

/// Decisions from which a run frees them on a thread of its own.
const FREED_IN_BACKGROUND: usize = 50_000;

fn record_of<'r>(records: &'r mut [RunRecord], strategy: &str) -> &'r mut RunRecord {
    records.iter_mut().find(|r| r.strategy == strategy).expect("every proposal comes from a strategy of this run")
}

/// The event a coupon decision leaves behind, when the coupon is sent
/// (which may fire triggers: `triggers`).
pub fn coupon_issued(d: &Decision) -> Event {
    let coupon_id = d.coupon_id.clone().expect("only coupon decisions issue coupons");
    let value = d.benefit.as_ref().map_or(0, |b| b.value) as f64 / 100.0;
    let attrs = serde_json::json!({ "coupon_id": coupon_id, "strategy": d.strategy, "step": d.step, "value": value });
    Event {
        id: format!("{}:{coupon_id}", model::COUPON_ISSUED),
        member_id: d.member_id.clone(),
        kind: model::COUPON_ISSUED.to_string(),
        at: d.planned_send_at().unwrap_or(d.run_at),
        attrs: attrs.to_string(),
    }
}

#[cfg(test)]
mod tests;
