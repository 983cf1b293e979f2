//! The plugin lifecycle over the API — list, show, install, enable,
//! disable, configure, roll back — and the audit log every change of it
//! (and every run asked for, cancel and redrive) is recorded in, with the
//! name of the token that made it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{blocking, ApiError, ApiResult};
use crate::serve::auth::Caller;
use crate::serve::Canvas;
use crate::store::AuditEntry;

pub(super) async fn list_plugins(State(canvas): State<Arc<Canvas>>) -> ApiResult {
    let entries = blocking(&canvas, |c| Ok(c.registry().list()?)).await?;
    Ok(Json(entries.iter().map(|e| canvas.app.plugin_summary(e)).collect::<Vec<_>>()).into_response())
}

pub(super) async fn show_plugin(State(canvas): State<Arc<Canvas>>, Path(id): Path<String>) -> ApiResult {
    let shown = blocking(&canvas, move |c| Ok(c.app.plugin_details(&c.registry().get(&id)?))).await?;
    Ok(Json(shown).into_response())
}

/// Records a change `caller` made, in the store's audit log (and the service log).
pub(super) fn audit(
    c: &Canvas,
    caller: &Caller,
    action: &str,
    target: &str,
    before: Value,
    after: Value,
) -> Result<(), ApiError> {
    Ok(c.store.record_audit(&AuditEntry::new(c.clock.now(), &caller.name, action, target, before, after))?)
}

pub(super) async fn install_plugin(
    State(canvas): State<Arc<Canvas>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult {
    let installed = blocking(&canvas, move |c| {
        let registry = c.registry().acting_as(&caller.name);
        Ok(registry.install("upload", &body, &|id| c.app.settings(id), c.clock.now())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(installed)).into_response())
}

async fn set_enabled(canvas: Arc<Canvas>, caller: Caller, id: String, enabled: bool) -> ApiResult {
    let entry = blocking(&canvas, move |c| {
        Ok(c.registry().acting_as(&caller.name).set_enabled(&id, enabled, &c.app.settings(&id), c.clock.now())?)
    })
    .await?;
    Ok(Json(canvas.app.plugin_summary(&entry)).into_response())
}

pub(super) async fn enable_plugin(
    State(c): State<Arc<Canvas>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    set_enabled(c, caller, id, true).await
}

pub(super) async fn disable_plugin(
    State(c): State<Arc<Canvas>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    set_enabled(c, caller, id, false).await
}

pub(super) async fn configure_plugin(
    State(canvas): State<Arc<Canvas>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let keys: serde_json::Map<String, Value> = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("the config must be a JSON object: {e}")))?;
    let effective = blocking(&canvas, move |c| {
        let registry = c.registry().acting_as(&caller.name);
        Ok(registry.set_config(&id, keys, &c.app.config.strategy(&id), c.clock.now())?)
    })
    .await?;
    Ok(Json(json!({ "effective_config": effective })).into_response())
}

pub(super) async fn rollback_plugin(
    State(canvas): State<Arc<Canvas>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    let entry = blocking(&canvas, move |c| {
        Ok(c.registry().acting_as(&caller.name).rollback(&id, &c.app.settings(&id), c.clock.now())?)
    })
    .await?;
    Ok(Json(canvas.app.plugin_summary(&entry)).into_response())
}

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    limit: Option<usize>,
}

/// What operators changed, newest first.
pub(super) async fn list_audit(State(canvas): State<Arc<Canvas>>, Query(query): Query<AuditQuery>) -> ApiResult {
    let entries = blocking(&canvas, move |c| Ok(c.store.audit(query.limit.unwrap_or(100))?)).await?;
    let shown: Vec<Value> = entries.iter().map(|e| canvas.app.audit_shown(e)).collect();
    Ok(Json(shown).into_response())
}
