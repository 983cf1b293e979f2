//! Runs in the service: strictly one at a time for their whole life,
//! whoever asked (the scheduler, catching up, an API client) and whatever
//! that caller does meanwhile.
//!
//! A run is a task of its own that takes the run lock and hands it to the
//! blocking work, which holds it until the run's last write: a caller only
//! waits for the run's outcome, so a client that hangs up (axum then drops
//! its handler) leaves the run going, still alone, to the end and into the
//! run history. The runner state a run leaves for the next one is lent to
//! one run at a time ([`WarmSlot`]): a run that is not the latest one can
//! never put back its older governance state.
//!
//! Shutdown goes through [`Canvas::stop_runs`] (no new runs); when the run
//! in flight outlasts `[serve] shutdown_grace_ms`, its plugin call is cut
//! and it unwinds unrecorded ([`crate::runner::RunStopped`]); should it
//! still not end (loading the member base, say), [`Canvas::give_up_runs`]
//! (callers stop waiting; the process exits without it).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::watch;

use super::Canvas;
use crate::app::{select, PluginSource, RunAsk, Selection};
use crate::model::{Millis, RunOutcome, RunRecord, RunTrigger};
use crate::strategy::Loaded;

/// Where the service is in its life, as runs see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Serving,
    /// Shutting down: no run starts any more; the one in flight may finish.
    Stopping,
    /// The run in flight outlasted the grace: nobody waits for it any more.
    GaveUp,
}

/// Why a run did not happen, or why its caller stopped waiting for it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunRefused {
    #[error("the service is stopping: no new runs start")]
    Stopping,
    #[error("{0} runs already wait for their turn: ask again when they have run (GET /api/v1/runs)")]
    Busy(usize),
    #[error(
        "the service stopped before the run finished ([serve] shutdown_grace_ms): unless it is in the run \
         history it was not recorded; a scheduled run is caught up at the next start, a manual one must be \
         asked for again"
    )]
    GaveUp,
}

/// Runs asked for over the API that may wait for their turn at once. Runs
/// outlive their clients, so without a bound a client could queue days of
/// runs in a second, and the scheduled ones would wait behind them.
pub(crate) const MAX_WAITING_RUNS: usize = 8;

impl Canvas {
    /// Runs, at `at`, what `ask` asks for (a scheduled run: the strategies
    /// its schedules have there), after any run in progress. The run does not depend on this future: dropping it (a
    /// client that hangs up) leaves the run going to its end. A manual run
    /// is refused when [`MAX_WAITING_RUNS`] already wait for their turn.
    pub(crate) async fn run(
        self: &Arc<Self>,
        at: Millis,
        trigger: RunTrigger,
        ids: Option<Vec<String>>,
        force: bool,
    ) -> anyhow::Result<Vec<RunRecord>> {
        let limit = if matches!(trigger, RunTrigger::Manual) { MAX_WAITING_RUNS } else { usize::MAX };
        let turn = WaitingTurn::take(self, limit)?;
        let mut phase = self.phase.subscribe();
        let canvas = self.clone();
        let run = tokio::spawn(async move {
            let running = canvas.run_lock.clone().lock_owned().await;
            drop(turn);
            if *canvas.phase.borrow() != Phase::Serving {
                return Err(RunRefused::Stopping.into());
            }
            let worker = canvas.clone();
            let records = tokio::task::spawn_blocking(move || {
                // The blocking work owns the lock: however the async side
                // ends (a dropped task, a runtime shutting down), no other
                // run starts before this one's last write.
                let _running = running;
                worker.run_blocking(at, trigger, ids.as_deref(), force)
            })
            .await??;
            canvas.dispatch_now.notify_one();
            Ok(records)
        });
        tokio::select! {
            joined = run => joined?,
            _ = phase.wait_for(|p| *p == Phase::GaveUp) => Err(RunRefused::GaveUp.into()),
        }
    }

    /// No new runs: the scheduler stops, runs waiting for their turn and new
    /// requests are refused; the run in flight goes on, for the grace
    /// (after which shutdown cuts its plugin call: `PluginEngine::cancel_calls`).
    pub(crate) fn stop_runs(&self) {
        self.phase.send_if_modified(|phase| {
            let serving = *phase == Phase::Serving;
            if serving {
                *phase = Phase::Stopping;
            }
            serving
        });
    }

    /// Callers waiting for the run in flight stop waiting (an API client gets
    /// a 503), so the service can exit without it.
    pub(crate) fn give_up_runs(&self) {
        self.phase.send_replace(Phase::GaveUp);
    }

    pub(crate) fn phase(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    fn run_blocking(
        &self,
        at: Millis,
        trigger: RunTrigger,
        ids: Option<&[String]>,
        force: bool,
    ) -> anyhow::Result<Vec<RunRecord>> {
        let loaded = self.app.strategies(PluginSource::Installed(&self.store), None)?;
        for refusal in &loaded.refused {
            tracing::warn!(%refusal, "a plugin is refused");
        }
        let selection = match (trigger, ids) {
            // An operator's request is checked (schedules, ids, how far ahead).
            (RunTrigger::Manual, ids) => self.app.selection(&loaded, at, self.clock.now(), RunAsk { ids, force })?,
            // The scheduler's ids are due by construction; one disabled
            // since it looked is simply not among the loaded strategies.
            (_, Some(ids)) => Selection::Named(ids),
            (_, None) => Selection::Due,
        };
        let mut failed = match (trigger, ids) {
            (RunTrigger::Schedule | RunTrigger::CatchUp, Some(ids)) => {
                self.record_refused(&loaded, ids, at, trigger)?
            }
            _ => Vec::new(),
        };
        if select(&loaded.strategies, &self.app.calendar(), at, selection).is_empty() {
            return Ok(failed);
        }
        let _in_flight = self.metrics.run_in_flight();
        tracing::info!(at = %self.app.calendar().format(at), ?trigger, ids = ?ids, force, "run started");
        self.store.check_not_compacted(self.app.calendar().day_of(at))?;
        let (loan, generation, state) = self.lend_state(&loaded.strategies)?;
        let mut runner = self.app.runner(state, &self.store, true);
        // A run that fails half-way may have recorded part of its decisions:
        // its state is dropped and the next run reads the store again.
        let mut issued = Vec::new();
        let records = self.app.run_at(&mut runner, &loaded.strategies, at, trigger, selection, &mut |d| {
            self.metrics.record_decision(d);
            if d.issues_coupon() {
                issued.push(crate::runner::coupon_issued(d));
            }
        })?;
        let state = match trigger {
            RunTrigger::Schedule => self.compact_if_due(at, &loaded.strategies, runner.into_state()),
            _ => Ok(runner.into_state()),
        };
        match state {
            Ok(state) => self.give_back_state(loan, generation, state),
            // Not given back: the next run reads the store again.
            Err(error) => tracing::error!(error = %format!("{error:#}"), "the runner state is read again next run"),
        }
        // The coupons it sent may fire triggers (a reminder an hour later).
        self.schedule_firings(&issued, self.clock.now())?;
        for record in &records {
            self.metrics.record_run(record);
            log_run(&self.app.calendar(), record);
        }
        failed.extend(records);
        Ok(failed)
    }

    /// A scheduled strategy whose plugin refuses its config (or whose build
    /// no longer loads) does not run: a failed run (`App::record_refused`),
    /// counted in the metrics and logged.
    fn record_refused(
        &self,
        loaded: &Loaded,
        ids: &[String],
        at: Millis,
        trigger: RunTrigger,
    ) -> anyhow::Result<Vec<RunRecord>> {
        let failed = self.app.record_refused(&self.store, loaded, at, trigger, Selection::Named(ids))?;
        for record in &failed {
            self.metrics.record_run(record);
            log_run(&self.app.calendar(), record);
        }
        Ok(failed)
    }
}

/// A run's end, in the service log: what it decided, or why it failed.
fn log_run(calendar: &crate::calendar::BrandCalendar, r: &RunRecord) {
    let (at, ms) = (calendar.format(r.run_at), r.duration_micros / 1000);
    let build = format!("{} {}", r.plugin_version, r.plugin_sha256.get(..12).unwrap_or_default());
    match &r.outcome {
        RunOutcome::Completed => tracing::info!(
            strategy = %r.strategy, at = %at, trigger = ?r.trigger, audience = r.audience, decisions = r.decisions,
            failed_members = r.failed_members, duration_ms = ms, build = %build, "run completed"
        ),
        RunOutcome::Failed { error } => tracing::error!(
            strategy = %r.strategy, at = %at, trigger = ?r.trigger, decisions = r.decisions, error = %error,
            duration_ms = ms, build = %build, "run failed"
        ),
    }
}

/// A run's place among the runs waiting for their turn, given up (on drop)
/// once it has the run lock, or if it never gets it.
struct WaitingTurn(Arc<Canvas>);

impl WaitingTurn {
    fn take(canvas: &Arc<Canvas>, limit: usize) -> Result<WaitingTurn, RunRefused> {
        canvas
            .runs_waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |waiting| (waiting < limit).then_some(waiting + 1))
            .map_err(RunRefused::Busy)?;
        canvas.metrics.runs_waiting(1);
        Ok(WaitingTurn(canvas.clone()))
    }
}

impl Drop for WaitingTurn {
    fn drop(&mut self) {
        self.0.runs_waiting.fetch_sub(1, Ordering::SeqCst);
        self.0.metrics.runs_waiting(-1);
    }
}

/// The state the last run left for the next one, lent to one run at a time.
/// Lending it makes that run the latest; only the latest run may give a
/// state back. With runs one at a time that always holds; should two runs
/// ever overlap, the older one's state (which misses the newer one's
/// decisions) is refused instead of overwriting the newer one's.
pub(crate) struct WarmSlot<T> {
    slot: std::sync::Mutex<Slot<T>>,
}

struct Slot<T> {
    state: Option<T>,
    /// The loan of the latest run.
    latest: u64,
}

/// A run's claim to give a state back.
#[derive(Debug)]
pub(crate) struct Loan(u64);

impl<T> Default for WarmSlot<T> {
    fn default() -> Self {
        WarmSlot { slot: std::sync::Mutex::new(Slot { state: None, latest: 0 }) }
    }
}

impl<T> WarmSlot<T> {
    /// Takes the state (if any) for a run that is now the latest.
    pub(crate) fn lend(&self) -> (Loan, Option<T>) {
        let mut slot = self.slot.lock().expect("the warm slot is never held across a panic");
        slot.latest += 1;
        (Loan(slot.latest), slot.state.take())
    }

    /// Puts a run's state back, unless a later run was lent the slot since:
    /// then the state is handed back to be dropped.
    pub(crate) fn give_back(&self, loan: Loan, state: T) -> Result<(), (Loan, T)> {
        let mut slot = self.slot.lock().expect("the warm slot is never held across a panic");
        if loan.0 != slot.latest {
            return Err((loan, state));
        }
        slot.state = Some(state);
        Ok(())
    }

    /// Changes the state where it is, if it is there (no run has it lent):
    /// what `change` says, or false when there was none.
    pub(crate) fn update(&self, change: impl FnOnce(&mut T) -> bool) -> bool {
        let mut slot = self.slot.lock().expect("the warm slot is never held across a panic");
        slot.state.as_mut().is_some_and(change)
    }

    /// Reads the state where it is, without lending it (a run lent it since
    /// gives its own back as it would): a run asking meanwhile waits for the
    /// read to end, rather than reading the whole store again.
    pub(crate) fn peek<R>(&self, read: impl FnOnce(Option<&T>) -> R) -> R {
        let slot = self.slot.lock().expect("the warm slot is never held across a panic");
        read(slot.state.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_run_gives_its_state_back_and_the_next_run_gets_it() {
        let warm = WarmSlot::default();
        let (loan, nothing) = warm.lend();
        assert_eq!(nothing, None);
        warm.give_back(loan, "after run 1").unwrap();
        let (_, state) = warm.lend();
        assert_eq!(state, Some("after run 1"));
    }

    #[test]
    fn a_run_overtaken_by_a_later_one_cannot_put_its_older_state_back() {
        let warm = WarmSlot::default();
        let (first, _) = warm.lend();
        let (second, _) = warm.lend();
        warm.give_back(second, "after run 2").unwrap();
        let refused = warm.give_back(first, "after run 1, older");
        assert_eq!(refused.map_err(|(_, state)| state), Err("after run 1, older"));
        assert_eq!(warm.lend().1, Some("after run 2"));
    }

    #[test]
    fn an_older_run_ending_first_cannot_fill_the_slot_for_a_later_run_still_going() {
        let warm = WarmSlot::default();
        let (first, _) = warm.lend();
        let (_second, _) = warm.lend();
        assert!(warm.give_back(first, "after run 1").is_err());
        assert_eq!(warm.lend().1, None, "the next run reads the store again");
    }
}
