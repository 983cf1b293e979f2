//! Dry runs from the console: `POST /api/v1/dry-runs` simulates the chosen
//! installed strategies (their active versions; all of them by default)
//! over the live store's data for a date range, with config keys tried for
//! some of them, exactly as `canvas simulate` does ([`simulate_live`]), in a
//! scratch directory: nothing of the live store changes. `GET
//! /api/v1/dry-runs[/{id}[/report.html]]` lists them, shows one with its
//! per-strategy totals, and serves its self-contained HTML report.
//!
//! The request is checked before anything starts (ids, dates, range at
//! most [`MAX_DAYS`] days, each config tried is accepted by its plugin: a
//! 400 naming what is wrong); the simulation then runs on a thread of its
//! own, one at a time (a second one asked for meanwhile gets a 429). The
//! service keeps the last [`KEPT`] dry runs in memory, reports included, and
//! removes each scratch directory as soon as its report is read: a dry run
//! leaves no file behind. A service stopping stops its dry run between two
//! run instants.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{ApiError, ApiResult};
use crate::calendar::parse_date;
use crate::serve::Canvas;
use crate::simulate::{simulate_live, LiveSimulation};

/// The longest range a dry run covers, in days (both ends included).
const MAX_DAYS: i64 = 366;
/// Ids an error names at most.
const NAMED: usize = 10;
/// Dry runs the service remembers; older ones are forgotten.
const KEPT: usize = 20;

/// The service's dry runs, newest last.
#[derive(Default)]
pub(crate) struct DryRuns {
    runs: Mutex<Vec<DryRun>>,
    next_id: AtomicU64,
    /// Set when the service stops: the running simulation stops at its next instant.
    stop: Arc<AtomicBool>,
}

impl DryRuns {
    /// The dry run in progress stops between two run instants.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Waits (at most `within`) for the dry run in progress to end, so it
    /// removes its scratch directory before the process exits.
    pub(crate) async fn ended(&self, within: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.with(|runs| runs.iter().any(|r| r.state == "running")) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Vec<DryRun>) -> R) -> R {
        f(&mut self.runs.lock().expect("no dry-run bookkeeping panics holding the lock"))
    }
}

struct DryRun {
    id: String,
    asked: Value,
    started_at: String,
    finished_at: Option<String>,
    state: &'static str,
    error: Option<String>,
    summary: Value,
    report_html: Option<String>,
}

impl DryRun {
    fn shown(&self, with_summary: bool) -> Value {
        let mut shown = json!({ "id": self.id, "state": self.state, "error": self.error, "asked": self.asked,
                                "started_at": self.started_at, "finished_at": self.finished_at });
        if with_summary {
            shown["summary"] = self.summary.clone();
        }
        shown
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRunRequest {
    /// Installed strategy ids; every installed one when absent.
    strategies: Option<Vec<String>>,
    from: String,
    to: String,
    /// Per strategy id, config keys to try (laid over the saved ones).
    #[serde(default)]
    config: Map<String, Value>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

/// The date range asked for, checked.
fn range(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let from_date = parse_date(from).map_err(|e| bad(format!("from: {e}")))?;
    let to_date = parse_date(to).map_err(|e| bad(format!("to: {e}")))?;
    if to_date < from_date {
        return Err(bad(format!("to {to_date} is before from {from_date}")));
    }
    let days = (to_date - from_date).num_days() + 1;
    if days > MAX_DAYS {
        return Err(bad(format!("from {from_date} to {to_date} is {days} days: a dry run covers at most {MAX_DAYS}")));
    }
    Ok((from_date, to_date))
}

pub(super) async fn start_dry_run(State(canvas): State<Arc<Canvas>>, body: Bytes) -> ApiResult {
    let request: DryRunRequest = serde_json::from_slice(&body).map_err(|e| bad(format!("{e}")))?;
    let (from, to) = range(&request.from, &request.to)?;
    let asked = json!({ "strategies": request.strategies, "from": from.to_string(), "to": to.to_string(),
                        "config": request.config });
    let c = canvas.clone();
    let (strategies, config) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let registry = c.registry();
        let installed = registry.list()?;
        let known: BTreeSet<&str> = installed.iter().map(|e| e.id.as_str()).collect();
        let chosen: Vec<String> = match &request.strategies {
            Some(ids) if ids.is_empty() => return Err(bad("strategies: name at least one, or leave it out for all")),
            Some(ids) => ids.clone(),
            None => known.iter().map(|id| id.to_string()).collect(),
        };
        if chosen.is_empty() {
            return Err(bad("no plugin is installed: nothing to simulate"));
        }
        // Ids come from the request: a few are named, not ten thousand.
        let list = |ids: &[&str]| {
            let mut named: Vec<String> =
                ids.iter().take(NAMED).map(|id| format!("`{}`", crate::printable::clipped(id, 64))).collect();
            if ids.len() > NAMED {
                named.push(format!("and {} more", ids.len() - NAMED));
            }
            named.join(", ")
        };
        let unknown: Vec<&str> = chosen.iter().map(String::as_str).filter(|id| !known.contains(id)).collect();
        if !unknown.is_empty() {
            let installed: Vec<&str> = known.iter().copied().collect();
            return Err(bad(format!(
                "strategies: no plugin {} is installed (installed: {})",
                list(&unknown),
                list(&installed)
            )));
        }
        let stray: Vec<&str> =
            request.config.keys().map(String::as_str).filter(|id| !chosen.iter().any(|c| c == id)).collect();
        if !stray.is_empty() {
            return Err(bad(format!("config: {} is not among the strategies simulated", list(&stray))));
        }
        let mut config = c.app.config.clone();
        let mut strategies = Vec::new();
        for entry in installed.iter().filter(|e| chosen.contains(&e.id)) {
            let trying = match request.config.get(&entry.id) {
                None => Map::new(),
                Some(Value::Object(keys)) => keys.clone(),
                Some(_) => return Err(bad(format!("config.{}: must be an object of config keys", entry.id))),
            };
            let strategy = registry.strategy_trying(entry, &c.app.settings(&entry.id), &trying)?;
            // What the strategy runs with, so the report's config digest names it.
            let settings = config.strategies.entry(entry.id.clone()).or_default();
            settings.config = strategy.config.as_object().cloned().unwrap_or_default();
            settings.enabled = true;
            strategies.push(strategy);
        }
        Ok((strategies, config))
    })
    .await??;

    let calendar = canvas.app.calendar();
    let started_at = calendar.format_minute(canvas.clock.now());
    let id = canvas.dry_runs.with(|runs| {
        if runs.iter().any(|r| r.state == "running") {
            let message = "a dry run is running already: ask again when it is done (GET /api/v1/dry-runs)";
            return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, message));
        }
        // Numbered under the lock, so a refused request takes no number.
        let id = format!("dry-{}", canvas.dry_runs.next_id.fetch_add(1, Ordering::SeqCst) + 1);
        runs.push(DryRun {
            id: id.clone(),
            asked,
            started_at,
            finished_at: None,
            state: "running",
            error: None,
            summary: Value::Null,
            report_html: None,
        });
        let forgotten = runs.len().saturating_sub(KEPT);
        runs.drain(..forgotten);
        Ok(id)
    })?;
    let c = canvas.clone();
    let running = id.clone();
    tokio::task::spawn_blocking(move || {
        let simulate = |out: &PathBuf| -> anyhow::Result<(Value, usize, String)> {
            let data = c.store.dataset()?;
            let (engine, stop) = (c.app.engine.clone(), c.dry_runs.stop.clone());
            let live = LiveSimulation { data, strategies, config, engine, from, to, out: out.clone(), stop };
            let result = simulate_live(live, &mut |_, _| {})?;
            let html = std::fs::read_to_string(&result.report_html)?;
            Ok((serde_json::to_value(&result.summary.strategies)?, result.runs, html))
        };
        let done = scratch_dir(&running).and_then(|out| {
            let done = simulate(&out);
            let _ = std::fs::remove_dir_all(&out);
            done
        });
        let finished_at = calendar.format_minute(c.clock.now());
        c.dry_runs.with(|runs| {
            let Some(run) = runs.iter_mut().find(|r| r.id == running) else { return };
            run.finished_at = Some(finished_at);
            match done {
                Ok((summary, instants, html)) => {
                    run.state = "done";
                    run.summary = json!({ "runs": instants, "strategies": summary });
                    run.report_html = Some(html);
                }
                Err(e) => {
                    tracing::warn!(dry_run = %running, error = %format!("{e:#}"), "dry run failed");
                    run.state = "failed";
                    run.error = Some(format!("{e:#}"));
                }
            }
        });
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response())
}

/// Where a dry run writes while it runs, removed once its report is read:
/// a new directory of the service's own (owner only), made here, so
/// nothing another user put in the shared temp folder beforehand (a
/// symlink elsewhere) is ever written through.
fn scratch_dir(id: &str) -> anyhow::Result<PathBuf> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("canvas-dry-run-{}-{id}-{nanos:09}", std::process::id()));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).with_context(|| format!("cannot create the dry run's scratch directory {}", dir.display()))?;
    Ok(dir)
}

pub(super) async fn list_dry_runs(State(canvas): State<Arc<Canvas>>) -> ApiResult {
    let shown: Vec<Value> = canvas.dry_runs.with(|runs| runs.iter().rev().map(|r| r.shown(false)).collect());
    Ok(Json(shown).into_response())
}

fn unknown(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no dry run `{id}` (GET /api/v1/dry-runs lists them)"))
}

pub(super) async fn show_dry_run(State(canvas): State<Arc<Canvas>>, Path(id): Path<String>) -> ApiResult {
    let shown = canvas.dry_runs.with(|runs| runs.iter().find(|r| r.id == id).map(|r| r.shown(true)));
    Ok(Json(shown.ok_or_else(|| unknown(&id))?).into_response())
}

pub(super) async fn dry_run_report(State(canvas): State<Arc<Canvas>>, Path(id): Path<String>) -> ApiResult {
    let found = canvas.dry_runs.with(|runs| runs.iter().find(|r| r.id == id).map(|r| (r.state, r.report_html.clone())));
    match found {
        None => Err(unknown(&id)),
        Some((_, Some(html))) => Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()),
        Some((state, None)) => {
            Err(ApiError::new(StatusCode::CONFLICT, format!("dry run `{id}` is {state}: it has no report")))
        }
    }
}
