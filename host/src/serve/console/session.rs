//! Sign-in for the console: a browser exchanges a token the API takes for a
//! session cookie, so the token is typed once and never kept by the page.
//!
//! - The cookie is `HttpOnly` (no script reads it) and `SameSite=Strict`
//!   (no other site's page sends it); it names a session held in memory,
//!   which ends at sign-out, after [`LIFETIME`], or when the service stops
//!   (the operator signs in again).
//! - A change made with the cookie (anything but GET/HEAD) must also carry
//!   the session's CSRF token in `X-CSRF-Token` — which only a page of this
//!   origin can read, from `GET /api/v1/session` — and, when the browser
//!   says where the request comes from (`Origin`, `Sec-Fetch-Site`), come
//!   from this origin. SameSite alone leaves out older browsers and
//!   same-site subdomains; the header closes that.
//! - A session is its token's [`Caller`]: a read-only token's session sees
//!   everything and changes nothing, and the audit log names the token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue};

use crate::serve::auth::{generate, Caller};

/// The cookie's name.
pub(crate) const COOKIE: &str = "canvas_session";
/// The header a change made with the cookie carries the CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts after sign-in: a working day and then some.
pub(crate) const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Sessions held at most; signing in past it ends the oldest. Bounds what
/// a script signing in over and over can make the service hold.
const MAX_SESSIONS: usize = 1024;

/// A signed-in browser.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    /// Whose token signed it in.
    pub caller: Caller,
    /// The token a change must carry in [`CSRF_HEADER`].
    pub csrf: String,
    started: Instant,
}

/// The sessions of a running service, by the id their cookie carries.
#[derive(Default)]
pub(crate) struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for `caller`: its id (the cookie's value) and itself.
    pub(crate) fn start(&self, caller: Caller) -> (String, Session) {
        let session = Session { caller, csrf: generate(), started: Instant::now() };
        let id = generate();
        let mut by_id = self.by_id.lock().expect("no panic holds the sessions");
        by_id.retain(|_, s| s.started.elapsed() < LIFETIME);
        if by_id.len() >= MAX_SESSIONS {
            let oldest = by_id.iter().min_by_key(|(_, s)| s.started).map(|(id, _)| id.clone());
            by_id.remove(&oldest.expect("a full map has an oldest"));
        }
        by_id.insert(id.clone(), session.clone());
        (id, session)
    }

    /// The live session `id` names, if any.
    pub(crate) fn find(&self, id: &str) -> Option<Session> {
        let mut by_id = self.by_id.lock().expect("no panic holds the sessions");
        match by_id.get(id) {
            Some(s) if s.started.elapsed() < LIFETIME => Some(s.clone()),
            Some(_) => {
                by_id.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends the session `id` names (signing out); nothing if there is none.
    pub(crate) fn end(&self, id: &str) {
        self.by_id.lock().expect("no panic holds the sessions").remove(id);
    }
}

/// The session id in a request's `Cookie` header(s), if it carries ours.
pub(crate) fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` that signs a browser in with session `id`.
pub(crate) fn set_cookie(id: &str) -> HeaderValue {
    let cookie = format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", LIFETIME.as_secs());
    HeaderValue::from_str(&cookie).expect("hex is a valid header value")
}

/// The `Set-Cookie` that signs a browser out.
pub(crate) fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("canvas_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// Why a change made with a session's cookie is refused, if it is: it must
/// carry the session's CSRF token and come from this origin.
pub(crate) fn cross_site(session: &Session, headers: &HeaderMap) -> Option<String> {
    let given = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !crate::serve::api::same_secret(given.as_bytes(), session.csrf.as_bytes()) {
        return Some(format!(
            "a change made with the session cookie must carry the session's `X-CSRF-Token` \
             (from GET /api/v1/session); {}",
            if given.is_empty() { "this request has none" } else { "this one does not match" }
        ));
    }
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|s| s == "cross-site") {
        return Some("refused: a change from another site's page (Sec-Fetch-Site: cross-site)".into());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("")) {
        None => None,
        Some(origin) if host.is_some_and(|host| same_origin(origin, host)) => None,
        Some(origin) => Some(format!("refused: a change from the page of another origin ({origin})")),
    }
}

/// Whether `origin` (`http://host:port`) is the server's own, as the
/// request's `Host` names it.
fn same_origin(origin: &str, host: &str) -> bool {
    let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller { name: "admin".into(), read_only: false }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_session_cookie_is_found_among_others_and_an_empty_one_is_none() {
        let h = headers(&[("cookie", "theme=dark; canvas_session=abc123 ; x=1")]);
        assert_eq!(cookie(&h).as_deref(), Some("abc123"));
        assert_eq!(cookie(&headers(&[("cookie", "a=1"), ("cookie", "canvas_session=z")])).as_deref(), Some("z"));
        assert_eq!(cookie(&headers(&[("cookie", "canvas_session=")])), None);
        assert_eq!(cookie(&headers(&[("cookie", "not_canvas_session=abc")])), None);
    }

    #[test]
    fn a_change_needs_the_sessions_csrf_token_and_this_origin() {
        let sessions = Sessions::default();
        let (_, session) = sessions.start(caller());
        let csrf = session.csrf.clone();
        let own = [("host", "127.0.0.1:8720"), ("origin", "http://127.0.0.1:8720")];
        assert_eq!(cross_site(&session, &headers(&[own[0], own[1], ("x-csrf-token", &csrf)])), None);
        assert_eq!(
            cross_site(&session, &headers(&[own[0], ("x-csrf-token", &csrf)])),
            None,
            "no Origin: a same-origin GET-less client"
        );
        let none = cross_site(&session, &headers(&own)).unwrap();
        assert!(none.contains("X-CSRF-Token") && none.contains("has none"), "{none}");
        let wrong = cross_site(&session, &headers(&[own[0], own[1], ("x-csrf-token", "00")])).unwrap();
        assert!(wrong.contains("does not match"), "{wrong}");
        let foreign = [("host", "127.0.0.1:8720"), ("origin", "http://evil.example"), ("x-csrf-token", &csrf)];
        assert!(cross_site(&session, &headers(&foreign)).unwrap().contains("evil.example"));
        let fetched = [own[0], ("sec-fetch-site", "cross-site"), ("x-csrf-token", &csrf)];
        assert!(cross_site(&session, &headers(&fetched)).unwrap().contains("cross-site"));
    }

    #[test]
    fn a_session_ends_at_sign_out_and_each_has_its_own_id_and_csrf_token() {
        let sessions = Sessions::default();
        let (a, first) = sessions.start(caller());
        let (b, second) = sessions.start(caller());
        assert_ne!(a, b);
        assert_ne!(first.csrf, second.csrf);
        assert_eq!(a.len(), 64);
        sessions.end(&a);
        assert!(sessions.find(&a).is_none());
        assert_eq!(sessions.find(&b).unwrap().caller, caller());
    }

    #[test]
    fn signing_in_past_the_bound_ends_the_oldest_session() {
        let sessions = Sessions::default();
        let (oldest, _) = sessions.start(caller());
        for _ in 1..MAX_SESSIONS {
            sessions.start(caller());
        }
        assert!(sessions.find(&oldest).is_some());
        let (newest, _) = sessions.start(caller());
        assert!(sessions.find(&oldest).is_none(), "the oldest made room");
        assert!(sessions.find(&newest).is_some());
    }
}
