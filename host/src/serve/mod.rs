//! `canvas serve`: the long-running service an operator runs.
//!
//! - a **scheduler** runs each enabled strategy on its schedule (cron, brand
//!   time zone), one run at a time, and on start catches up runs missed
//!   while it was down (or skips them: `[serve] catch_up`);
//! - **triggers** ([`triggers`]): ingested events fire the strategies that
//!   react to them, at once or after a delay, kept in the store until due;
//! - a **dispatcher** delivers the outbox continuously;
//! - the **admin API** (axum, bearer token: [`auth`]) manages plugins, shows
//!   runs, decisions and dead letters, triggers runs, and ingests data;
//! - the **console** ([`console`]) — the operator's pages at `/`, built into
//!   the binary — uses the same API, signed in with a session cookie;
//! - runs are one at a time for their whole life, whoever asked ([`runs`]);
//! - on shutdown (SIGTERM) it stops scheduling and runs, gives the run in
//!   flight up to `shutdown_grace_ms` to finish (then exits without it: the
//!   store is crash-safe and a scheduled run is caught up at the next
//!   start), delivers what is due within `shutdown_flush_ms`, saves its
//!   warm member base as the snapshot the next start reads
//!   ([`crate::app::save_member_base`]), and flushes the store.
//!
//! The listener, the clock and the shutdown signal are passed in, so tests
//! run the real service in-process on 127.0.0.1:0 with a fast clock.

mod api;
pub mod auth;
pub mod clock;
mod compaction;
mod console;
mod metrics;
mod runs;
pub mod settings;
mod triggers;
mod warm;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{watch, Mutex, Notify};

pub use auth::Auth;
pub use clock::{Clock, ScaledClock, SteppedClock, SystemClock};
use metrics::Metrics;
use runs::{Phase, RunRefused, WarmSlot};

use crate::app::{App, PluginSource};
use crate::dispatch::{DispatchReport, Dispatcher};
use crate::model::{Millis, RunTrigger};
use crate::registry::Registry;
use crate::runner::RunnerState;
use crate::schedule::Schedule;
use crate::store::{AuditEntry, PluginEntry, Store};
use crate::strategy::Off;

/// What the scheduler, the dispatcher and the API share.
pub(crate) struct Canvas {
    store: Arc<Store>,
    /// The operator's config and the plugin engine (the composition root).
    app: App,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    dispatcher: Dispatcher,
    /// The tokens the API takes and who each names; empty: the API is open.
    tokens: Vec<(String, auth::Caller)>,
    /// The console's signed-in browsers.
    sessions: console::session::Sessions,
    /// One run at a time, for the run's whole life: each run's blocking work
    /// owns the guard (see [`runs`]), never a caller that may go away.
    run_lock: Arc<Mutex<()>>,
    /// Runs waiting for the lock (manual ones are bounded: [`runs::MAX_WAITING_RUNS`]).
    runs_waiting: std::sync::atomic::AtomicUsize,
    /// Serving, stopping (no new runs), or given up on the run in flight.
    phase: watch::Sender<Phase>,
    /// Wakes the dispatcher after a run queued touches.
    dispatch_now: Notify,
    /// The runner's state after the last run, and the data generation it was
    /// built from: the next run goes on from it instead of reading the whole
    /// member base and every decision from the store again.
    warm: WarmSlot<(u64, RunnerState)>,
    /// Bumped by every ingest: a warm state of an older generation is stale.
    data_generation: AtomicU64,
    /// Room for previews made at once (`api::preview`): each holds a copy of the runner state.
    previews: Arc<tokio::sync::Semaphore>,
    /// The console's dry runs (`api::dry_runs`), kept in memory.
    dry_runs: api::DryRuns,
    /// The strategies that run and their triggers, as of the registry's last change.
    armed: triggers::Armed,
    /// Wakes the firing loop after an ingest scheduled a firing.
    fire_now: Notify,
    /// Events and orders ingested while a run or firing pass had the warm
    /// state lent, for the next one to add (see `warm`).
    unapplied: std::sync::Mutex<warm::Unapplied>,
    /// The cutoff day the service last tried to compact to (`i32::MIN`: not
    /// yet), so a compaction that removed nothing is not tried again at once.
    compaction_tried: std::sync::atomic::AtomicI32,
}

impl Canvas {
    pub(crate) fn registry(&self) -> Registry<'_> {
        self.app.registry(&self.store)
    }

    /// Marks the member base stale after `store` data changed (an ingest).
    pub(crate) fn data_changed(&self) {
        self.data_generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The enabled strategies' schedules (the canvas config's override, else
    /// the active plugin version's), without loading any plugin.
    fn schedules(&self) -> anyhow::Result<Vec<(String, Schedule)>> {
        let mut schedules = Vec::new();
        // Those that run by the one rule (see `strategy::Off`).
        let runs = |e: &PluginEntry| Off::of_installed(e.enabled, &self.app.settings(&e.id)).is_none();
        for entry in self.registry().list()?.into_iter().filter(runs) {
            let expression = self.app.schedule_of(&entry);
            match Schedule::parse(&expression) {
                Ok(schedule) => schedules.push((entry.id, schedule)),
                Err(e) => tracing::warn!(strategy = %entry.id, error = %e, "not scheduled: its schedule does not read"),
            }
        }
        Ok(schedules)
    }

    async fn dispatch(&self) -> anyhow::Result<DispatchReport> {
        let report = self.dispatcher.pump(crate::model::now_millis().max(self.clock.now())).await?;
        self.metrics.record_dispatch(&report);
        Ok(report)
    }
}

/// A running service.
pub struct Service {
    /// The address it listens on, as bound (a port 0 in `listen` is resolved here).
    pub addr: std::net::SocketAddr,
    /// How its admin API is protected (where the generated token is).
    pub auth: Auth,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Service {
    /// Stops it and waits until it has: within `shutdown_grace_ms` (+ a
    /// second to answer the clients still waiting) + `shutdown_flush_ms`,
    /// plus the store's last flush.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await?
    }

    /// Waits until it stops by itself (an error) or `signal` resolves, then shuts down.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        signal.await;
        self.shutdown().await
    }
}

/// How long, past the grace, clients still waiting for the run in flight
/// get to read the 503 that says the service did not wait for it.
const ANSWER_TIME: Duration = Duration::from_secs(1);

/// Starts the service on `listener`. Refuses a non-loopback address without
/// a token; generates one on a loopback address unless `allow_no_token` ([`auth`]).
pub async fn start(
    app: App,
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<Service> {
    let addr = listener.local_addr()?;
    refuse_bad_config(&app, &store)?;
    record_config_file(&app, &store, clock.now())?;
    let auth = auth::resolve(&app.config.serve, &app.config.store, addr)?;
    let tokens = auth.accepted(&app.config.serve)?;
    let dispatcher = app.dispatcher(store.clone())?;
    store.announce_service(addr)?;
    let canvas = Arc::new(Canvas {
        store,
        app,
        clock,
        metrics: Metrics::default(),
        dispatcher,
        tokens,
        sessions: Default::default(),
        run_lock: Arc::new(Mutex::new(())),
        runs_waiting: Default::default(),
        phase: watch::Sender::new(Phase::Serving),
        dispatch_now: Notify::new(),
        warm: WarmSlot::default(),
        data_generation: AtomicU64::new(0),
        previews: Arc::new(tokio::sync::Semaphore::new(api::PREVIEWS_AT_ONCE)),
        dry_runs: Default::default(),
        armed: Default::default(),
        fire_now: Notify::new(),
        unapplied: Default::default(),
        compaction_tried: std::sync::atomic::AtomicI32::new(i32::MIN),
    });
    let (stop, stopped) = watch::channel(false);
    // The dispatcher stops last, so its final pass sees what the last run queued.
    let (stop_dispatch, dispatch_stopped) = watch::channel(false);
    let app = api::router(canvas.clone());
    let task = tokio::spawn(async move {
        let mut api_stopped = stopped.clone();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = api_stopped.wait_for(|s| *s).await;
        });
        let mut server = tokio::spawn(async move { server.await });
        let scheduler = tokio::spawn(schedule_runs(canvas.clone()));
        let firer = tokio::spawn(triggers::fire_continuously(canvas.clone()));
        let dispatcher = tokio::spawn(dispatch_continuously(canvas.clone(), dispatch_stopped));
        let mut stopped = stopped;
        let _ = stopped.wait_for(|s| *s).await;

        canvas.stop_runs();
        canvas.dry_runs.stop();
        let grace = Duration::from_millis(canvas.app.config.serve.shutdown_grace_ms);
        let deadline = tokio::time::Instant::now() + grace;
        let scheduled = scheduler.await?.context("the scheduler");
        let fired = firer.await?.context("the trigger firings");
        // Holding the lock, shutdown knows no run is in flight, and none starts.
        let idle = tokio::time::timeout_at(deadline, canvas.run_lock.clone().lock_owned()).await;
        if idle.is_err() {
            // Past the grace, the plugin call in flight is cut (within a
            // tick) and the run unwinds without recording anything.
            canvas.app.engine.cancel_calls();
            let unwound = tokio::time::timeout(ANSWER_TIME, canvas.run_lock.clone().lock_owned()).await;
            let what = if unwound.is_ok() { "was stopped" } else { "did not finish" };
            tracing::warn!(
                "the run in flight {what} within shutdown_grace_ms ({} ms): stopping without it \
                 (it is not recorded; a scheduled run is caught up at the next start)",
                grace.as_millis()
            );
            if unwound.is_err() {
                canvas.give_up_runs();
            }
        }
        // Open requests (a slow upload, say) get the same grace, then are cut.
        let served =
            match tokio::time::timeout_at(deadline.max(tokio::time::Instant::now()) + ANSWER_TIME, &mut server).await {
                Ok(served) => served?.context("the admin API"),
                Err(_) => {
                    server.abort();
                    tracing::warn!("closed the API connections still open after shutdown_grace_ms");
                    Ok(())
                }
            };
        let _ = stop_dispatch.send(true);
        dispatcher.await?.context("the dispatcher")?;
        // No run, ingest or firing is left: the warm base holds what the store does.
        let saving = canvas.clone();
        tokio::task::spawn_blocking(move || saving.save_warm_base()).await?;
        // Stopped at its next run instant, it removes its scratch directory.
        canvas.dry_runs.ended(grace).await;
        canvas.store.withdraw_service();
        canvas.store.flush()?;
        scheduled?;
        fired?;
        served?;
        Ok(())
    });
    Ok(Service { addr, auth, stop, task })
}

/// The canvas config is checked against the installed plugins before the
/// service starts: a mistyped strategy id, or a config a running strategy's
/// plugin refuses, would otherwise only show as runs that never happen.
fn refuse_bad_config(app: &App, store: &Store) -> anyhow::Result<()> {
    let loaded = app.strategies(PluginSource::Installed(store), None).context("not starting")?;
    let refused: Vec<String> = loaded
        .off
        .iter()
        .filter(|(_, off)| matches!(off, Off::Refused(_)))
        .map(|(id, off)| format!("{id} {off}"))
        .collect();
    anyhow::ensure!(refused.is_empty(), "not starting: {}", refused.join("; "));
    Ok(())
}

/// What the service runs with from canvas.toml, in the audit log whenever
/// it differs from what the last start ran with (actor `canvas.toml`): the
/// file has no API, so its changes are seen when they take effect. The
/// `[serve]` and `[dispatch]` sections are left out, as they hold secrets
/// (tokens, webhook URLs).
fn record_config_file(app: &App, store: &Store, now: Millis) -> anyhow::Result<()> {
    let c = &app.config;
    let current = serde_json::json!({
        "timezone": c.timezone, "run": c.run, "sandbox": c.sandbox, "governance": c.governance,
        "report": c.report, "strategies": c.strategies,
    });
    let last = store.audit(usize::MAX)?.into_iter().find(|e| e.action == CONFIG_FILE).map(|e| e.after);
    if last.as_ref() != Some(&current) {
        let before = last.unwrap_or(serde_json::Value::Null);
        store.record_audit(&AuditEntry::new(now, "canvas.toml", CONFIG_FILE, "canvas.toml", before, current))?;
    }
    Ok(())
}

/// The audit action of a canvas.toml that changed between two starts.
const CONFIG_FILE: &str = "config-file";

/// Runs strategies when they are due; first catches up (or skips) the runs
/// missed while the service was down. Stops at [`Canvas::stop_runs`]
/// without waiting for the run in flight (shutdown does, within its grace).
async fn schedule_runs(canvas: Arc<Canvas>) -> anyhow::Result<()> {
    let mut phase = canvas.phase();
    let calendar = canvas.app.config.calendar();
    let started = canvas.clock.now();
    if canvas.app.config.serve.catch_up {
        for (at, ids) in missed_runs(&canvas, started)? {
            let run = canvas.run(at, RunTrigger::CatchUp, Some(ids), false);
            tokio::select! {
                _ = phase.wait_for(|p| *p != Phase::Serving) => return Ok(()),
                ran = run => match ran {
                    Err(e) if e.is::<RunRefused>() => return Ok(()),
                    ran => ran.map(drop)?,
                },
            }
        }
    }
    let mut after = started;
    loop {
        let next = canvas
            .schedules()?
            .into_iter()
            .filter_map(|(id, s)| {
                s.runs_between(&calendar, after + 1, after + 400 * 86_400_000).first().map(|&at| (at, id))
            })
            .fold(None::<(Millis, Vec<String>)>, |next, (at, id)| match next {
                Some((t, mut ids)) if t == at => {
                    ids.push(id);
                    Some((t, ids))
                }
                Some((t, ids)) if t < at => Some((t, ids)),
                _ => Some((at, vec![id])),
            });
        // Re-read the schedules now and then: plugins get enabled and disabled.
        let (wait, due) = match next {
            Some((at, ids)) => (canvas.clock.real_until(at).min(Duration::from_secs(30)), Some((at, ids))),
            None => (Duration::from_secs(5), None),
        };
        tokio::select! {
            _ = phase.wait_for(|p| *p != Phase::Serving) => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
        if let Some((at, ids)) = due {
            if canvas.clock.now() >= at {
                let run = canvas.run(at, RunTrigger::Schedule, Some(ids), false);
                let records = tokio::select! {
                    _ = phase.wait_for(|p| *p != Phase::Serving) => return Ok(()),
                    records = run => records,
                };
                match records {
                    Err(e) if e.is::<RunRefused>() => return Ok(()),
                    Err(e) => {
                        tracing::error!(at = %calendar.format(at), error = %format!("{e:#}"), "scheduled run failed")
                    }
                    Ok(_) => {}
                }
                after = at;
            }
        }
    }
}

/// Scheduled instants between each enabled strategy's last scheduled run
/// and `now` (at most `catch_up_days` back), grouped by instant. A strategy
/// that never ran has nothing to catch up.
fn missed_runs(canvas: &Canvas, now: Millis) -> anyhow::Result<Vec<(Millis, Vec<String>)>> {
    let calendar = canvas.app.config.calendar();
    let runs = canvas.store.runs()?;
    let horizon = now - canvas.app.config.serve.catch_up_days as i64 * crate::model::MILLIS_PER_DAY;
    let mut due: std::collections::BTreeMap<Millis, Vec<String>> = Default::default();
    for (id, schedule) in canvas.schedules()? {
        let last = runs
            .iter()
            .filter(|r| r.strategy == id && matches!(r.trigger, RunTrigger::Schedule | RunTrigger::CatchUp))
            .map(|r| r.run_at)
            .max();
        let Some(last) = last else { continue };
        for at in schedule.runs_between(&calendar, (last + 1).max(horizon), now + 1) {
            due.entry(at).or_default().push(id.clone());
        }
    }
    Ok(due.into_iter().collect())
}

/// Delivers due touches every `dispatch_interval_ms` (sooner after a run);
/// on shutdown, one last pass within `shutdown_flush_ms`.
async fn dispatch_continuously(canvas: Arc<Canvas>, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let interval = Duration::from_millis(canvas.app.config.serve.dispatch_interval_ms.max(10));
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(interval) => {}
            _ = canvas.dispatch_now.notified() => {}
        }
        if let Err(e) = canvas.dispatch().await {
            tracing::error!(error = %format!("{e:#}"), "dispatching failed");
        }
    }
    let flush = Duration::from_millis(canvas.app.config.serve.shutdown_flush_ms);
    let _ = tokio::time::timeout(flush, canvas.dispatch()).await;
    Ok(())
}
