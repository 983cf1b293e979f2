//! One member over the API: their decisions by every strategy, newest
//! first, and the operator's do-not-contact mark (set with `POST`, cleared
//! with `DELETE`, each audited and kept as an event of the member's: see
//! `crate::contact`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{audit, blocking, ApiError, ApiResult};
use crate::contact::{self, UnknownMember};
use crate::decision_line::decision_json;
use crate::serve::auth::Caller;
use crate::serve::Canvas;

pub(super) async fn member_decisions(State(canvas): State<Arc<Canvas>>, Path(id): Path<String>) -> ApiResult {
    let decisions = blocking(&canvas, move |c| {
        let calendar = c.app.config.calendar();
        let mut found = c.store.decisions_of_member(&id)?;
        found.sort_by_key(|d| std::cmp::Reverse(d.run_at));
        let lines = found.iter().map(|d| serde_json::from_str::<Value>(&decision_json(&calendar, d)));
        Ok(lines.collect::<Result<Vec<_>, _>>().map_err(anyhow::Error::from)?)
    })
    .await?;
    Ok(Json(decisions).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MarkRequest {
    /// Why, in the operator's words (kept with the mark).
    #[serde(default)]
    reason: String,
}

pub(super) async fn set_do_not_contact(
    State(canvas): State<Arc<Canvas>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    mark(canvas, caller, id, true, body).await
}

pub(super) async fn clear_do_not_contact(
    State(canvas): State<Arc<Canvas>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    mark(canvas, caller, id, false, body).await
}

async fn mark(canvas: Arc<Canvas>, caller: Caller, id: String, on: bool, body: Bytes) -> ApiResult {
    let request: MarkRequest = if body.is_empty() {
        MarkRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("{e}")))?
    };
    let event = blocking(&canvas, move |c| {
        let at = c.clock.now();
        let event = contact::mark(&c.store, &id, on, at, &caller.name, &request.reason).map_err(|e| match e
            .downcast::<UnknownMember>(
        ) {
            Ok(unknown) => ApiError::new(StatusCode::NOT_FOUND, unknown.to_string()),
            Err(e) => ApiError::from(e),
        })?;
        let after = json!({ "do_not_contact": on, "reason": request.reason });
        audit(c, &caller, "do-not-contact", &id, Value::Null, after)?;
        c.data_changed();
        Ok(event)
    })
    .await?;
    let at = canvas.app.calendar().format(event.at);
    Ok(Json(json!({ "member_id": event.member_id, "do_not_contact": on, "at": at })).into_response())
}
