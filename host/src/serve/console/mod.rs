//! The operator console: its pages at `/` ([`assets`], built into the
//! binary) and the sign-in that lets a browser use the admin API with a
//! session cookie instead of a bearer token ([`session`]). The pages read
//! and change everything through the admin API: there is no second way in.

mod assets;
pub(crate) mod session;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{extract::State, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::api::{caller_of, ApiError};
use super::auth::Caller;
use super::Canvas;
use session::Session;

/// The console's routes, open to all (sign-in is how one gets in).
pub(crate) fn router() -> Router<Arc<Canvas>> {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{*path}", get(assets::asset))
        .route("/api/v1/session", get(who_is_signed_in).post(sign_in).delete(sign_out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    token: String,
}

/// What the page knows of its session: who, whether it may change
/// anything, the CSRF token its changes carry, the brand's time zone and
/// the service's today in it (the default of the page's date ranges).
fn shown(canvas: &Canvas, caller: &Caller, csrf: &str) -> serde_json::Value {
    let today = canvas.app.calendar().date_of(canvas.clock.now());
    json!({ "name": caller.name, "read_only": caller.read_only, "csrf": csrf,
            "time_zone": canvas.app.config.timezone, "today": today.format("%Y-%m-%d").to_string() })
}

fn open(canvas: &Canvas) -> Response {
    Json(shown(canvas, &Caller { name: "open".into(), read_only: false }, "")).into_response()
}

/// `POST /api/v1/session {"token": …}`: a token the API takes, for a cookie.
async fn sign_in(State(canvas): State<Arc<Canvas>>, body: Bytes) -> Result<Response, ApiError> {
    if canvas.tokens.is_empty() {
        return Ok(open(&canvas));
    }
    let asked: SignIn = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("sign in with {{\"token\": \"…\"}}: {e}")))?;
    let Some(caller) = caller_of(&canvas.tokens, asked.token.trim()) else {
        tracing::warn!("a sign-in to the console with a token the API does not take");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "that token is not one this service takes"));
    };
    tracing::info!(token = %caller.name, "signed in to the console");
    let (id, session) = canvas.sessions.start(caller);
    let mut response = Json(shown(&canvas, &session.caller, &session.csrf)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::set_cookie(&id));
    Ok(response)
}

/// `GET /api/v1/session`: who is signed in, or 401.
async fn who_is_signed_in(State(canvas): State<Arc<Canvas>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if canvas.tokens.is_empty() {
        return Ok(open(&canvas));
    }
    let session = signed_in(&canvas, &headers)?;
    Ok(Json(shown(&canvas, &session.caller, &session.csrf)).into_response())
}

/// `DELETE /api/v1/session`: signs out (a change: it needs the CSRF token,
/// so another site cannot sign an operator out either).
async fn sign_out(State(canvas): State<Arc<Canvas>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if canvas.tokens.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let session = signed_in(&canvas, &headers)?;
    if let Some(why) = session::cross_site(&session, &headers) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, why));
    }
    canvas.sessions.end(&session::cookie(&headers).expect("a session was found by its cookie"));
    tracing::info!(token = %session.caller.name, "signed out of the console");
    Ok(([(header::SET_COOKIE, session::clear_cookie())], StatusCode::NO_CONTENT).into_response())
}

/// The session the request's cookie names, or 401 saying so.
pub(crate) fn signed_in(canvas: &Canvas, headers: &HeaderMap) -> Result<Session, ApiError> {
    let id = session::cookie(headers).ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "not signed in"))?;
    canvas.sessions.find(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the session has ended (signed out, expired or the service restarted): sign in again",
        )
    })
}
