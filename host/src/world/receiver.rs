//! The world as the webhook sink: an axum server on 127.0.0.1:0 that takes
//! each touch dispatch POSTs (the decision line as the body, the decision
//! key as `Idempotency-Key`), records it in the [`World`] and answers 200 —
//! 409 for a key it already holds, which dispatch counts as delivered.
//! A body that is not a touch is answered 400, naming what is missing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

use super::{Touch, World};
use crate::calendar::parse_instant;

/// A running receiver; stops when dropped.
pub struct Receiver {
    /// Where dispatch sends touches: `http://127.0.0.1:PORT/touches`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the world reads of a decision line.
#[derive(Deserialize)]
struct Line {
    key: String,
    strategy: String,
    member_id: String,
    run_at: String,
    send_at: Option<String>,
}

/// Starts the receiver for `world` on 127.0.0.1, on a port of the system's choosing.
pub async fn start(world: Arc<World>) -> anyhow::Result<Receiver> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/touches", listener.local_addr()?);
    let app = Router::new().route("/touches", post(touch)).with_state(world);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the world's receiver stopped");
        }
    });
    Ok(Receiver { url, task })
}

async fn touch(State(world): State<Arc<World>>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let line: Line = match serde_json::from_slice(&body) {
        Ok(line) => line,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not a touch (a decision line): {e}")),
    };
    let header = headers.get("Idempotency-Key").and_then(|v| v.to_str().ok());
    if header.is_some_and(|h| h != line.key) {
        return (StatusCode::BAD_REQUEST, "the Idempotency-Key header is not the body's key".into());
    }
    let when = line.send_at.as_deref().unwrap_or(&line.run_at);
    let at = match parse_instant(when) {
        Ok(at) => at,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("`send_at`/`run_at` `{when}`: {e}")),
    };
    let touch = Touch { key: line.key, strategy: line.strategy, member_id: line.member_id, at };
    if world.receive(touch) {
        (StatusCode::OK, "received".into())
    } else {
        (StatusCode::CONFLICT, "this key was received before".into())
    }
}
