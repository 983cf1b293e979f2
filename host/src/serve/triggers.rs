//! Event triggers in the service (see `crate::triggers`).
//!
//! - An **ingested event** is matched against the enabled strategies'
//!   triggers ([`Canvas::schedule_firings`]); each firing is kept in the
//!   store until due, so a delayed one survives a restart. The warm member
//!   base takes the events in place ([`Canvas::events_ingested`]), so a
//!   firing a moment later decides over them without reading the store
//!   again. Coupons the service's own runs and firings issue are events too.
//! - A **firing loop** ([`fire_continuously`]) wakes when the next firing
//!   is due (or an ingest brings one due now) and fires what is due, in due
//!   order, an instant at a time (`Runner::fire_instant`: the same
//!   governance as a run, arbitration among the strategies one event fired),
//!   under the run lock — firings and runs never interleave — then flushes
//!   once and wakes the dispatcher.
//! - Each day's firings of a strategy add up to one run record (the
//!   store's `trigger_tallies`), shown among the runs.

use std::sync::Arc;
use std::time::Duration;

use super::runs::Phase;
use super::Canvas;
use crate::app::PluginSource;
use crate::model::{Event, Millis, RunOutcome};
use crate::runner::coupon_issued;
use crate::strategy::{Loaded, Strategy};
use crate::triggers::{Firing, TriggerTable};

/// Firings decided in one pass at most: a backlog (after a restart) is
/// worked off in passes, each flushed, letting a run in between.
const FIRINGS_PER_PASS: usize = 5_000;

/// How long the loop sleeps with nothing due (it re-reads the store then:
/// a firing scheduled by a run wakes it sooner).
const IDLE_POLL: Duration = Duration::from_secs(1);

/// The installed strategies that run, and their triggers: loaded again only
/// when the registry changed (an install, a config, an enable), not per
/// ingest or firing.
#[derive(Default)]
pub(crate) struct Armed(std::sync::Mutex<Option<(String, Arc<ArmedStrategies>)>>);

pub(crate) struct ArmedStrategies {
    pub loaded: Loaded,
    pub table: TriggerTable,
}

impl ArmedStrategies {
    fn strategy(&self, id: &str) -> Option<&Strategy> {
        self.loaded.strategies.iter().find(|s| s.id() == id)
    }
}

impl Canvas {
    /// The strategies as installed now, with their trigger table.
    pub(crate) fn armed(&self) -> anyhow::Result<Arc<ArmedStrategies>> {
        let fingerprint = serde_json::to_string(&self.registry().list()?)?;
        let mut cache = self.armed.0.lock().expect("the armed strategies are never held across a panic");
        if let Some((seen, armed)) = &*cache {
            if *seen == fingerprint {
                return Ok(armed.clone());
            }
        }
        let loaded = self.app.strategies(PluginSource::Installed(&self.store), None)?;
        let table = TriggerTable::of(&loaded.strategies);
        let armed = Arc::new(ArmedStrategies { loaded, table });
        *cache = Some((fingerprint, armed.clone()));
        Ok(armed)
    }

    /// Events just imported over the API: into the warm member base, and
    /// the firings they start kept.
    pub(crate) fn events_ingested(&self, events: &[Event], changed: bool) -> anyhow::Result<()> {
        self.events_ingested_into_base(events, changed);
        self.schedule_firings(events, self.clock.now())
    }

    /// Keeps the firings `events` start, except those due more than
    /// `[serve] trigger_late_minutes` before `now`; wakes the firing loop.
    pub(crate) fn schedule_firings(&self, events: &[Event], now: Millis) -> anyhow::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let armed = self.armed()?;
        let oldest = now.saturating_sub(i64::from(self.app.config.serve.trigger_late_minutes) * 60_000);
        let firings: Vec<Firing> =
            events.iter().flat_map(|e| armed.table.firings(e)).filter(|f| f.due >= oldest).collect();
        if !firings.is_empty() {
            self.store.schedule_firings(&firings)?;
            self.fire_now.notify_one();
        }
        Ok(())
    }

    /// Fires what is due, under the run lock (after any run in progress).
    async fn fire_due(self: &Arc<Self>) -> anyhow::Result<()> {
        let canvas = self.clone();
        let pass = tokio::spawn(async move {
            let running = canvas.run_lock.clone().lock_owned().await;
            if *canvas.phase.borrow() != Phase::Serving {
                return Ok(());
            }
            let worker = canvas.clone();
            // As for a run, the blocking work owns the lock to its last write.
            tokio::task::spawn_blocking(move || {
                let _running = running;
                worker.fire_blocking(worker.clock.now())
            })
            .await??;
            canvas.dispatch_now.notify_one();
            anyhow::Ok(())
        });
        pass.await?
    }

    fn fire_blocking(&self, now: Millis) -> anyhow::Result<()> {
        let due = self.store.firings_due(now, FIRINGS_PER_PASS)?;
        if due.is_empty() {
            return Ok(());
        }
        let armed = self.armed()?;
        // A strategy disabled (or refused) since its firing was kept fires nothing.
        let (firing, dropped): (Vec<&Firing>, Vec<&Firing>) =
            due.iter().partition(|f| armed.strategy(&f.strategy).is_some());
        for f in &dropped {
            self.metrics.record_firings(&f.strategy, "dropped", 1);
        }
        let (loan, generation, state) = self.lend_state(&armed.loaded.strategies)?;
        let mut runner = self.app.runner(state, &self.store, true);
        let mut issued = Vec::new();
        let mut fire = || -> anyhow::Result<()> {
            for group in firing.chunk_by(|a, b| a.due == b.due) {
                let at = group[0].due;
                let pairs: Vec<(&Strategy, &Firing)> =
                    group.iter().filter_map(|f| Some((armed.strategy(&f.strategy)?, *f))).collect();
                let fired = runner.fire_instant(at, &pairs, &mut |d| {
                    self.metrics.record_decision(d);
                    if d.issues_coupon() {
                        issued.push(coupon_issued(d));
                    }
                })?;
                for record in &fired.records {
                    self.store.tally_firing(record)?;
                    self.metrics.record_firings(&record.strategy, "decided", record.audience);
                    if let RunOutcome::Failed { error } = &record.outcome {
                        self.metrics.record_run(record);
                        tracing::error!(strategy = %record.strategy, %error, "a triggered firing failed");
                    }
                }
                for (strategy, n) in &fired.called_off {
                    self.metrics.record_firings(strategy, "called_off", *n);
                }
                self.store.remove_firings(group.iter().copied())?;
                let decided_at = self.clock.now();
                for f in group {
                    self.metrics.record_firing_lag(f.due, decided_at);
                }
            }
            self.store.remove_firings(dropped.iter().copied())
        };
        let firing_started = std::time::Instant::now();
        let fired = fire();
        tracing::debug!(firings = due.len(), ms = firing_started.elapsed().as_millis() as u64, "fired");
        // Decisions and the firings' removal are durable before dispatch.
        self.store.flush()?;
        match fired {
            Ok(()) => {
                self.give_back_state(loan, generation, runner.into_state());
            }
            // Part of it may be recorded: the next pass reads the store again.
            Err(e) => return Err(e),
        }
        self.schedule_firings(&issued, now)
    }
}

/// Fires trigger firings as they fall due, until the service stops.
pub(crate) async fn fire_continuously(canvas: Arc<Canvas>) -> anyhow::Result<()> {
    let mut phase = canvas.phase();
    loop {
        let wait = match canvas.store.next_firing_due()? {
            Some(at) => canvas.clock.real_until(at).min(IDLE_POLL),
            None => IDLE_POLL,
        };
        if !wait.is_zero() {
            tokio::select! {
                _ = phase.wait_for(|p| *p != Phase::Serving) => return Ok(()),
                _ = tokio::time::sleep(wait) => {}
                _ = canvas.fire_now.notified() => {}
            }
        }
        if *phase.borrow() != Phase::Serving {
            return Ok(());
        }
        if canvas.store.next_firing_due()?.is_none_or(|at| at > canvas.clock.now()) {
            continue;
        }
        let fired = tokio::select! {
            _ = phase.wait_for(|p| *p != Phase::Serving) => return Ok(()),
            fired = canvas.fire_due() => fired,
        };
        if let Err(e) = fired {
            tracing::error!(error = %format!("{e:#}"), "firing triggers failed");
            // Not in a tight loop over a store that fails.
            tokio::time::sleep(IDLE_POLL).await;
        }
    }
}
