//! The admin API: JSON over HTTP, bearer-token auth on everything but
//! `/healthz`, described by `/openapi.json`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Query, State};
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

mod canvas;
mod dry_runs;
mod governance;
mod guard;
mod member_page;
mod members;
mod plugins;
mod preview;
mod results;

pub(crate) use dry_runs::DryRuns;
pub(crate) use preview::PREVIEWS_AT_ONCE;

use members::{clear_do_not_contact, member_decisions, set_do_not_contact};
use plugins::{
    audit, configure_plugin, disable_plugin, enable_plugin, install_plugin, list_audit, list_plugins, rollback_plugin,
    show_plugin,
};

use super::auth::Caller;
use super::runs::RunRefused;
use super::Canvas;
use crate::app::AskRefused;
use crate::calendar::parse_instant;
use crate::import::{parse_json, ImportRefused, RecordKind};
use crate::model::RunTrigger;
use crate::registry::RegistryError;
use crate::report::run_json;
use crate::store::OutboxState;
use crate::store::{CompactedAway, ImportInterrupted};
use guard::require_token;
pub(crate) use guard::{caller_of, same_secret};

const OPENAPI: &str = include_str!("../openapi.json");
/// Python and JavaScript components are 12–18 MB.
const MAX_BODY: usize = 64 << 20;

pub(crate) fn router(canvas: Arc<Canvas>) -> Router {
    let guarded = Router::new()
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/api/v1/plugins", get(list_plugins).post(install_plugin))
        .route("/api/v1/plugins/{id}", get(show_plugin))
        .route("/api/v1/plugins/{id}/enable", post(enable_plugin))
        .route("/api/v1/plugins/{id}/disable", post(disable_plugin))
        .route("/api/v1/plugins/{id}/config", put(configure_plugin))
        .route("/api/v1/plugins/{id}/rollback", post(rollback_plugin))
        .route("/api/v1/plugins/{id}/preview", post(preview::preview_plugin))
        .route("/api/v1/runs", get(list_runs).post(run_now))
        .route("/api/v1/runs/cancel", post(cancel_run))
        .route("/api/v1/audit", get(list_audit))
        .route("/api/v1/canvas", get(canvas::canvas))
        .route("/api/v1/governance", get(governance::governance))
        .route("/api/v1/dry-runs", get(dry_runs::list_dry_runs).post(dry_runs::start_dry_run))
        .route("/api/v1/dry-runs/{id}", get(dry_runs::show_dry_run))
        .route("/api/v1/dry-runs/{id}/report.html", get(dry_runs::dry_run_report))
        .route("/api/v1/results", get(results::results))
        .route("/api/v1/members/{id}", get(member_page::member_page))
        .route("/api/v1/members/{id}/decisions", get(member_decisions))
        .route("/api/v1/members/{id}/do-not-contact", post(set_do_not_contact).delete(clear_do_not_contact))
        .route("/api/v1/outbox", get(outbox))
        .route("/api/v1/outbox/status", get(outbox_status))
        .route("/api/v1/dead-letters", get(dead_letters))
        .route("/api/v1/dead-letters/redrive", post(redrive))
        .route("/api/v1/members", post(ingest_members))
        .route("/api/v1/orders", post(ingest_orders))
        .route("/api/v1/events", post(ingest_events))
        .route("/api/v1/products", post(ingest_products))
        .route("/api/v1/guides", post(ingest_guides))
        .layer(middleware::from_fn_with_state(canvas.clone(), require_token))
        .layer(DefaultBodyLimit::max(MAX_BODY));
    let console = super::console::router();
    Router::new().route("/healthz", get(healthz)).merge(guarded).merge(console).with_state(canvas)
}

/// An error as the API answers it: a status and `{"error": …, "details": […]}`.
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    details: Vec<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), details: Vec::new() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message, "details": self.details }))).into_response()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        let e = match e.downcast::<ImportRefused>() {
            Ok(refused) => {
                return ApiError {
                    status: StatusCode::BAD_REQUEST,
                    message: format!("refused, nothing was changed: {} bad records", refused.errors.len()),
                    details: refused.reported(),
                }
            }
            Err(e) => e,
        };
        let e = match e.downcast::<AskRefused>() {
            Ok(refused) => {
                let status = match refused {
                    AskRefused::Unknown { .. } => StatusCode::NOT_FOUND,
                    _ => StatusCode::CONFLICT,
                };
                return ApiError::new(status, refused.to_string());
            }
            Err(e) => e,
        };
        let e = match e.downcast::<CompactedAway>() {
            Ok(refused) => return ApiError::new(StatusCode::CONFLICT, refused.to_string()),
            Err(e) => e,
        };
        // An interrupted import holds the store until it is completed or
        // discarded: the request conflicts with that state, it is not broken.
        match e.downcast::<ImportInterrupted>() {
            Ok(interrupted) => ApiError::new(StatusCode::CONFLICT, interrupted.to_string()),
            Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let status = match &e {
            RegistryError::Unknown(_) => StatusCode::NOT_FOUND,
            RegistryError::Rejected(_) | RegistryError::BadConfig { .. } => StatusCode::BAD_REQUEST,
            RegistryError::NothingToRollBack(_) | RegistryError::VersionTaken { .. } => StatusCode::CONFLICT,
            RegistryError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

type ApiResult = Result<Response, ApiError>;

/// Runs store and plugin work off the async threads.
async fn blocking<T: Send + 'static>(
    canvas: &Arc<Canvas>,
    work: impl FnOnce(&Canvas) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let canvas = canvas.clone();
    tokio::task::spawn_blocking(move || work(&canvas)).await?
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn metrics(State(canvas): State<Arc<Canvas>>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], canvas.metrics.render()).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[derive(Deserialize)]
struct RunsQuery {
    strategy: Option<String>,
    limit: Option<usize>,
}

async fn list_runs(State(canvas): State<Arc<Canvas>>, Query(query): Query<RunsQuery>) -> ApiResult {
    let runs = blocking(&canvas, move |c| {
        let calendar = c.app.config.calendar();
        let runs = c.store.runs()?;
        let picked = runs.iter().rev().filter(|r| query.strategy.as_ref().is_none_or(|s| *s == r.strategy));
        let lines =
            picked.take(query.limit.unwrap_or(100)).map(|r| serde_json::from_str::<Value>(&run_json(&calendar, r)));
        Ok(lines.collect::<Result<Vec<_>, _>>().map_err(anyhow::Error::from)?)
    })
    .await?;
    Ok(Json(runs).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    /// RFC 3339; now when absent.
    at: Option<String>,
    /// Only these strategies (each must run, and be due unless `force`); else those due.
    strategies: Option<Vec<String>>,
    /// Whatever the schedules, and however far ahead of the clock `at` is.
    #[serde(default)]
    force: bool,
}

async fn run_now(State(canvas): State<Arc<Canvas>>, Extension(caller): Extension<Caller>, body: Bytes) -> ApiResult {
    let request: RunRequest = if body.is_empty() {
        RunRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("{e}")))?
    };
    let at = match &request.at {
        Some(text) => parse_instant(text).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?,
        None => canvas.clock.now(),
    };
    let only = request.strategies;
    let asked = json!({ "at": canvas.app.calendar().format(at), "strategies": only, "force": request.force });
    // The run is the service's, not this request's: a client that hangs up
    // leaves it going, and it shows in the run history.
    let records = canvas.run(at, RunTrigger::Manual, only, request.force).await.map_err(|e| {
        match e.downcast::<RunRefused>() {
            Ok(refused @ RunRefused::Busy(_)) => ApiError::new(StatusCode::TOO_MANY_REQUESTS, refused.to_string()),
            Ok(refused) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, refused.to_string()),
            Err(e) if e.is::<crate::runner::RunStopped>() => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            Err(e) => ApiError::from(e),
        }
    })?;
    let calendar = canvas.app.config.calendar();
    let runs: Vec<Value> = records.iter().filter_map(|r| serde_json::from_str(&run_json(&calendar, r)).ok()).collect();
    let ran: Vec<String> = records.iter().map(|r| r.strategy.clone()).collect();
    let target = if ran.is_empty() { "none due".to_string() } else { ran.join(",") };
    blocking(&canvas, move |c| audit(c, &caller, "run", &target, asked, json!({ "runs": ran.len() }))).await?;
    Ok(Json(json!({ "runs": runs })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    /// The strategy whose run it was.
    strategy: String,
    /// The run's instant, RFC 3339.
    at: String,
}

/// Takes back the touches of one run not delivered yet.
async fn cancel_run(State(canvas): State<Arc<Canvas>>, Extension(caller): Extension<Caller>, body: Bytes) -> ApiResult {
    let request: CancelRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("{e}")))?;
    let at = parse_instant(&request.at).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let cancelled = blocking(&canvas, move |c| {
        let reason = format!("cancelled by {} at {}", caller.name, c.app.calendar().format(c.clock.now()));
        let cancelled = c.store.cancel_run(&request.strategy, at, &reason)?;
        let after = json!({ "run_at": request.at, "cancelled": cancelled });
        audit(c, &caller, "cancel", &request.strategy, Value::Null, after)?;
        Ok(cancelled)
    })
    .await?;
    Ok(Json(json!({ "cancelled": cancelled })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    /// Only the entries in this state.
    state: Option<OutboxState>,
}

/// The outbox entries (of one state), in the order they are delivered.
async fn outbox(State(canvas): State<Arc<Canvas>>, Query(query): Query<OutboxQuery>) -> ApiResult {
    outbox_of(canvas, query.state).await
}

/// The backlog per channel: due now, later, the rate, the drain time, a pause a 429 asked for.
async fn outbox_status(State(canvas): State<Arc<Canvas>>) -> ApiResult {
    let backlog = blocking(&canvas, |c| {
        // Due as the dispatcher sees it: by the service's clock, if that runs ahead.
        let now = crate::model::now_millis().max(c.clock.now());
        Ok(c.dispatcher.backlog(now)?)
    })
    .await?;
    Ok(Json(backlog).into_response())
}

async fn dead_letters(State(canvas): State<Arc<Canvas>>) -> ApiResult {
    outbox_of(canvas, Some(OutboxState::Dead)).await
}

async fn outbox_of(canvas: Arc<Canvas>, state: Option<OutboxState>) -> ApiResult {
    let items = blocking(&canvas, move |c| {
        let items = c.store.outbox_items(&c.app.config.calendar(), state)?;
        Ok(items.iter().map(|i| c.app.outbox_item_shown(i)).collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(items).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RedriveRequest {
    /// These dead letters; every one when absent.
    keys: Option<Vec<String>>,
}

async fn redrive(State(canvas): State<Arc<Canvas>>, Extension(caller): Extension<Caller>, body: Bytes) -> ApiResult {
    let request: RedriveRequest = if body.is_empty() {
        RedriveRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("{e}")))?
    };
    let count = blocking(&canvas, move |c| {
        let keys = request.keys.unwrap_or_default();
        let count = c.store.redrive(&keys, c.clock.now())?;
        audit(c, &caller, "redrive", "dead-letters", Value::Null, json!({ "keys": keys, "redriven": count }))?;
        Ok(count)
    })
    .await?;
    canvas.dispatch_now.notify_one();
    Ok(Json(json!({ "redriven": count })).into_response())
}

/// A JSON array or NDJSON (told apart by the body itself), validated like
/// the CSV files (strict JSON types, errors naming the record and field),
/// applied all or nothing, idempotent by id. 409 while an import stands
/// interrupted, unless this is that same import, which it completes.
async fn ingest(canvas: Arc<Canvas>, kind: RecordKind, body: Bytes) -> ApiResult {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the body is not UTF-8"))?;
    let report = blocking(&canvas, move |c| {
        let parsed = parse_json(kind, &text).map_err(anyhow::Error::from)?;
        let imported = c.store.import(&parsed);
        match (&imported, kind) {
            // Events fire triggers; they and orders go into the warm member base in place.
            (Ok(report), RecordKind::Events) => c.events_ingested(&parsed.data.events, report.events.changed > 0)?,
            (Ok(report), RecordKind::Orders) => c.orders_ingested(&parsed.data.orders, report.orders.changed > 0),
            _ => c.data_changed(), // even a failed import may have written part of its records
        }
        let imported = imported?;
        let channels = &c.app.config.governance.wecom_limit.channels;
        crate::contact::withdraw_undeliverable(&c.store, &parsed.data.events, channels, &c.app.calendar())?;
        Ok(imported)
    })
    .await?;
    let counts = match kind {
        RecordKind::Members => report.members,
        RecordKind::Orders => report.orders,
        RecordKind::Events => report.events,
        RecordKind::Products => report.products,
        RecordKind::Guides => report.guides,
    };
    Ok(Json(
        json!({ "read": counts.read, "new": counts.new, "changed": counts.changed, "unchanged": counts.unchanged }),
    )
    .into_response())
}

async fn ingest_members(State(canvas): State<Arc<Canvas>>, body: Bytes) -> ApiResult {
    ingest(canvas, RecordKind::Members, body).await
}

async fn ingest_orders(State(canvas): State<Arc<Canvas>>, body: Bytes) -> ApiResult {
    ingest(canvas, RecordKind::Orders, body).await
}

async fn ingest_events(State(canvas): State<Arc<Canvas>>, body: Bytes) -> ApiResult {
    ingest(canvas, RecordKind::Events, body).await
}

async fn ingest_products(State(canvas): State<Arc<Canvas>>, body: Bytes) -> ApiResult {
    ingest(canvas, RecordKind::Products, body).await
}

async fn ingest_guides(State(canvas): State<Arc<Canvas>>, body: Bytes) -> ApiResult {
    ingest(canvas, RecordKind::Guides, body).await
}
