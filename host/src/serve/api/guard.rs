//! Who may use the API: a bearer token the API takes, or the console's
//! session cookie (whose changes must also pass the CSRF check,
//! [`session::cross_site`]); a read-only token may look — and preview, and
//! dry-run, which change nothing — but not change.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::serve::auth::Caller;
use crate::serve::console::{session, signed_in};
use crate::serve::Canvas;

/// Lets a request in with a token the API takes — as a bearer, or through
/// the console's session cookie, whose changes must also pass the CSRF
/// check ([`session::cross_site`]) — and tells the handlers who sent it
/// ([`Caller`], for the audit log); a read-only token's changes (anything
/// but GET) are refused with 403.
pub(super) async fn require_token(State(canvas): State<Arc<Canvas>>, mut request: Request, next: Next) -> Response {
    if canvas.tokens.is_empty() {
        request.extensions_mut().insert(Caller { name: "open".into(), read_only: false });
        return next.run(request).await;
    }
    let changes = changes(&request);
    // Every POST, PUT and DELETE made with the cookie carries the CSRF
    // token, a preview's too: another site must not make the service work.
    let posts = !matches!(*request.method(), Method::GET | Method::HEAD);
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let caller = match bearer {
        Some(given) => caller_of(&canvas.tokens, &given),
        None if session::cookie(request.headers()).is_some() => {
            let session = match signed_in(&canvas, request.headers()) {
                Ok(session) => session,
                Err(e) => return refused_unread(e.into_response()),
            };
            if let Some(why) = session::cross_site(&session, request.headers()).filter(|_| posts) {
                return refused_unread(ApiError::new(StatusCode::FORBIDDEN, why).into_response());
            }
            Some(session.caller)
        }
        None => None,
    };
    match caller {
        Some(caller) if caller.read_only && changes => {
            let message = format!("the token `{}` is read-only: it may look, not change", caller.name);
            refused_unread(ApiError::new(StatusCode::FORBIDDEN, message).into_response())
        }
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => {
            let message = "a valid `Authorization: Bearer <token>` (or the console's sign-in) is required";
            let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
            response.headers_mut().insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("a valid header"));
            refused_unread(response)
        }
    }
}

/// Who `given` names among the tokens the API takes. Every token is
/// compared, so timing tells nothing of which one matched.
pub(crate) fn caller_of(tokens: &[(String, Caller)], given: &str) -> Option<Caller> {
    let mut matched = None;
    for (token, caller) in tokens {
        if same_secret(given.as_bytes(), token.as_bytes()) {
            matched = Some(caller.clone());
        }
    }
    matched
}

/// A request refused before its body was read (a 64 MB plugin upload) ends
/// its connection: the server drops the unread body, and a client that put
/// the connection back in its pool would find it broken on its next request.
fn refused_unread(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, "close".parse().expect("a valid header"));
    response
}

/// Compares without stopping at the first difference, so timing tells nothing.
pub(crate) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Whether a request would change anything: every method but GET and
/// HEAD, except asking for a preview or a dry run, which only read.
fn changes(request: &Request) -> bool {
    let path = request.uri().path();
    let looks = path == "/api/v1/dry-runs" || (path.starts_with("/api/v1/plugins/") && path.ends_with("/preview"));
    let method = request.method();
    let reads = matches!(*method, Method::GET | Method::HEAD) || (*method == Method::POST && looks);
    !reads
}
