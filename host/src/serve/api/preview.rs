//! Previews: what a run would do, with no side effect at all.
//!
//! - `POST /api/v1/plugins/{id}/preview` (body `{}` or `{"config": {keys}}`,
//!   tried, not saved): one strategy at its run instant of today;
//! - the "today" of `GET /api/v1/governance` ([`super::governance`]): every
//!   strategy that runs, at each of today's run instants.
//!
//! A preview proposes and governs as a run does
//! ([`crate::runner::Runner::preview_instant`]) on a copy of the runner
//! state thrown away after: the store is only read (which keys are decided
//! already), and the warm state the next run goes on from is left as it was.
//!
//! Racing a run: the copy is taken holding the run lock, so it is the state
//! between two runs, never one half-recorded; the lock is held only for the
//! copy (or, when no run has left a current state, for reading it from the
//! store, as a run would), not for the plugin calls. A preview waits for a
//! run in flight to end; a run asked for meanwhile waits for the copy. At
//! most [`PREVIEWS_AT_ONCE`] previews are made at once (each holds a copy of
//! the member base), further ones get a 429.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{ApiError, ApiResult};
use crate::app::KindsWanted;
use crate::calendar::BrandCalendar;
use crate::decision_line::decision_json;
use crate::member_base::KeptKinds;
use crate::model::{Decision, Millis, RunRecord};
use crate::runner::RunnerState;
use crate::schedule::Schedule;
use crate::serve::runs::Phase;
use crate::serve::Canvas;
use crate::strategy::kept_kinds;

/// Previews made at once; more get a 429 (each holds a copy of the member base).
pub(crate) const PREVIEWS_AT_ONCE: usize = 2;
/// Decisions a preview shows in full.
const SAMPLE: usize = 20;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PreviewRequest {
    /// Config keys to try, laid over the saved ones; not saved.
    #[serde(default)]
    config: Map<String, Value>,
}

pub(super) async fn preview_plugin(
    State(canvas): State<Arc<Canvas>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let request: PreviewRequest = if body.is_empty() {
        PreviewRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("{e}")))?
    };
    // The strategy first: an unknown id or a refused config needs no copy of the state.
    let c = canvas.clone();
    let strategy = tokio::task::spawn_blocking(move || {
        let registry = c.registry();
        let entry = registry.get(&id)?;
        registry.strategy_trying(&entry, &c.app.settings(&id), &request.config)
    })
    .await??;
    let now = canvas.clock.now();
    let at = run_instant_today(&strategy.schedule, &canvas.app.calendar(), now);
    let kinds = kept_kinds([&strategy]);
    let shown = canvas
        .with_throwaway_state(kinds, move |c, state| {
            let mut runner = c.app.runner(state, &c.store, false);
            let previewed = runner.preview_instant(at, &[&strategy]);
            runner.into_state().drop_in_background();
            let (records, decisions) = previewed?;
            let calendar = c.app.calendar();
            let record = records.first().expect("one record for the one strategy");
            let (by_status, by_reason) = tally(&decisions);
            let sample = decisions
                .iter()
                .take(SAMPLE)
                .map(|d| serde_json::from_str::<Value>(&decision_json(&calendar, d)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(anyhow::Error::from)?;
            Ok(json!({
                "at": calendar.format_minute(at), "run_at": calendar.format(at),
                "audience": record.audience, "held_back": record.held_back,
                "already_decided": record.already_decided, "decisions": decisions.len(),
                "outcome": outcome(record), "by_status": by_status, "by_reason": by_reason, "sample": sample,
            }))
        })
        .await?;
    Ok(Json(shown).into_response())
}

/// A preview's instant for a strategy: its next run today at or after
/// `now`, else its last one today (already run: what is decided then
/// shows as `already_decided`), else `now` (it has no run today).
pub(crate) fn run_instant_today(schedule: &Schedule, calendar: &BrandCalendar, now: Millis) -> Millis {
    let (start, end) = day_bounds(calendar, now);
    let today = schedule.runs_between(calendar, start, end);
    today.iter().copied().find(|&at| at >= now).or(today.last().copied()).unwrap_or(now)
}

/// The start of `now`'s local day and of the next.
pub(crate) fn day_bounds(calendar: &BrandCalendar, now: Millis) -> (Millis, Millis) {
    let date = calendar.date_of(now);
    let next = date.succ_opt().expect("a date with a next day");
    (calendar.start_of(date), calendar.start_of(next))
}

/// Decisions counted by status and by reason (a decision with none counts under its status).
pub(crate) fn tally(decisions: &[Decision]) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let (mut by_status, mut by_reason) = (BTreeMap::new(), BTreeMap::new());
    for d in decisions {
        *by_status.entry(d.status.as_str().to_string()).or_default() += 1;
        if let Some(reason) = &d.reason {
            *by_reason.entry(reason.clone()).or_default() += 1;
        }
    }
    (by_status, by_reason)
}

/// `null` when the strategy's part went through, else why it failed.
pub(crate) fn outcome(record: &RunRecord) -> Value {
    match &record.outcome {
        crate::model::RunOutcome::Completed => Value::Null,
        crate::model::RunOutcome::Failed { error } => Value::String(error.clone()),
    }
}

impl Canvas {
    /// Runs `work` on a copy of the runner state as the last run left it
    /// (or as the store holds it, when no current one is warm or it lacks
    /// event kinds of `kinds`), off the async threads; the copy is `work`'s
    /// to throw away. See the module doc for how this races runs.
    pub(crate) async fn with_throwaway_state<T: Send + 'static>(
        self: &Arc<Self>,
        kinds: KeptKinds,
        work: impl FnOnce(&Canvas, RunnerState) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let busy = || {
            let message = format!("{PREVIEWS_AT_ONCE} previews are being made already: ask again when they are done");
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, message)
        };
        let permit = self.previews.clone().try_acquire_owned().map_err(|_| busy())?;
        let stopping = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the service is stopping: no previews");
        if *self.phase.borrow() != Phase::Serving {
            return Err(stopping());
        }
        let mut phase = self.phase();
        let lock = self.run_lock.clone();
        let running = tokio::select! {
            guard = lock.lock_owned() => guard,
            _ = phase.wait_for(|p| *p != Phase::Serving) => return Err(stopping()),
        };
        let canvas = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let state = {
                // Held while copying: no run records meanwhile.
                let _running = running;
                let generation = canvas.data_generation.load(Ordering::SeqCst);
                let warm = canvas.warm.peek(|slot| {
                    slot.filter(|(built_from, state)| *built_from == generation && state.base.kept().covers(&kinds))
                        .map(|(_, state)| state.clone())
                });
                match warm {
                    Some(state) => state,
                    None => {
                        let base = canvas.app.stored_member_base(&canvas.store, KindsWanted::AtLeast(&kinds))?;
                        canvas.app.runner_state(base, &canvas.store)?
                    }
                }
            };
            work(&canvas, state)
        })
        .await?
    }
}
