//! The console's sign-in (issue 35): a token exchanged for a session cookie
//! the page's script cannot read and no other site sends; changes made with
//! it carry the session's CSRF token and come from this origin; a read-only
//! token's session looks but cannot change; signing out ends it. Bearer
//! clients are unchanged.

use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;

const VIEWER: &str = "viewer-token-0123456789";

/// Signs in with `token`: the cookie to send back and the session's JSON.
async fn sign_in(s: &Running, token: &str) -> (StatusCode, Option<String>, Value) {
    let response = s.client.post(s.url("/api/v1/session")).json(&json!({ "token": token })).send().await.unwrap();
    let status = response.status();
    let cookie = response.headers().get(SET_COOKIE).map(|v| v.to_str().unwrap().to_string());
    (status, cookie, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signs_a_browser_in_and_its_changes_need_the_csrf_token_and_this_origin() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered")]);
    let viewer = format!("[serve.tokens.viewer]\ntoken = \"{VIEWER}\"\nread_only = true\n");
    let s = start_at(service_config(&dir, "", &viewer), store, "2026-03-01T08:00:00+08:00", 1.0).await;

    assert_eq!(s.client.get(s.url("/api/v1/session")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let (status, cookie, refused) = sign_in(&s, "not-a-token").await;
    assert_eq!((status, cookie), (StatusCode::UNAUTHORIZED, None), "{refused}");

    let (status, cookie, session) = sign_in(&s, TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let set_cookie = cookie.expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{attribute} in {set_cookie}");
    }
    assert!(!set_cookie.contains(TOKEN), "the cookie is not the token");
    assert_eq!((session["name"].as_str(), session["read_only"].as_bool()), (Some("admin"), Some(false)));
    assert_eq!(session["time_zone"], "Asia/Shanghai");
    assert_eq!(session["today"], "2026-03-01", "the service's today, in the brand's time zone");
    let csrf = session["csrf"].as_str().unwrap().to_string();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let shown = s.client.get(s.url("/api/v1/session")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(shown.json::<Value>().await.unwrap()["csrf"], csrf.as_str(), "the page reads its CSRF token back");

    let plugins = s.client.get(s.url("/api/v1/plugins")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(plugins.status(), StatusCode::OK, "the cookie reads the API");
    let disable = |csrf: Option<&str>, origin: Option<&str>| {
        let mut request = s.client.post(s.url("/api/v1/plugins/birthday-tiered/disable")).header(COOKIE, &cookie);
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, refused) = disable(None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a cross-site form post has no CSRF token: {refused}");
    assert!(refused["error"].as_str().unwrap().contains("X-CSRF-Token"), "{refused}");
    let (status, _) = disable(Some("0".repeat(64).as_str()), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a guessed CSRF token");
    let (status, refused) = disable(Some(&csrf), Some("http://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another origin's page: {refused}");
    let (_, plugin) = s.get("/api/v1/plugins/birthday-tiered").await;
    assert_eq!(plugin["plugin"]["enabled"], true, "nothing refused changed anything: {plugin}");
    let own = s.base.clone();
    let (status, disabled) = disable(Some(&csrf), Some(&own)).await;
    assert_eq!(status, StatusCode::OK, "{disabled}");
    assert_eq!(disabled["enabled"], false);
    let (_, audit) = s.get("/api/v1/audit").await;
    assert_eq!(audit[0]["actor"], "admin", "the audit log names the session's token: {audit}");

    let sign_out = |csrf: &str| {
        let request = s.client.delete(s.url("/api/v1/session")).header(COOKIE, &cookie).header("X-CSRF-Token", csrf);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(sign_out("wrong").await.status(), StatusCode::FORBIDDEN, "another site cannot sign one out");
    let out = sign_out(&csrf).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(out.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"), "the cookie is cleared");
    let after = s.client.get(s.url("/api/v1/plugins")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "the old cookie opens nothing");
    assert_eq!(s.get("/api/v1/plugins").await.0, StatusCode::OK, "bearer clients are unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_tokens_session_sees_everything_and_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered")]);
    let viewer = format!("[serve.tokens.viewer]\ntoken = \"{VIEWER}\"\nread_only = true\n");
    let s = start_at(service_config(&dir, "", &viewer), store, "2026-03-01T08:00:00+08:00", 1.0).await;
    let (status, cookie, session) = sign_in(&s, VIEWER).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((session["name"].as_str(), session["read_only"].as_bool()), (Some("viewer"), Some(true)));
    let cookie = cookie.unwrap().split(';').next().unwrap().to_string();
    let csrf = session["csrf"].as_str().unwrap();
    for path in ["/api/v1/plugins", "/api/v1/runs", "/api/v1/audit", "/api/v1/outbox"] {
        let seen = s.client.get(s.url(path)).header(COOKIE, &cookie).send().await.unwrap();
        assert_eq!(seen.status(), StatusCode::OK, "{path}");
    }
    let thirty = json!({ "levels": { "1": { "kind": "coupon", "value": 30 } } });
    let change = s.client.put(s.url("/api/v1/plugins/birthday-tiered/config")).header(COOKIE, &cookie);
    let refused = change.header("X-CSRF-Token", csrf).json(&thirty).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused: Value = refused.json().await.unwrap();
    assert!(refused["error"].as_str().unwrap().contains("the token `viewer` is read-only"), "{refused}");
    let (_, plugin) = s.get("/api/v1/plugins/birthday-tiered").await;
    assert_eq!(plugin["config"], json!({}), "{plugin}");
    // A preview only reads: looking at what a run would do is looking.
    let preview = s.client.post(s.url("/api/v1/plugins/birthday-tiered/preview")).header(COOKIE, &cookie);
    let preview = preview.header("X-CSRF-Token", csrf).json(&json!({})).send().await.unwrap();
    assert_eq!(preview.status(), StatusCode::OK, "{}", preview.text().await.unwrap());
    let without_csrf = s.client.post(s.url("/api/v1/plugins/birthday-tiered/preview")).header(COOKIE, &cookie);
    assert_eq!(without_csrf.send().await.unwrap().status(), StatusCode::FORBIDDEN, "a POST still needs the CSRF token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_from_the_binary_to_anyone_and_holds_no_data() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    let s = start_at(service_config(&dir, "", ""), store, "2026-03-01T08:00:00+08:00", 1.0).await;
    let page = s.client.get(s.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "no more 401 at /");
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = page.text().await.unwrap();
    let scripts: Vec<&str> = html.split("src=\"").skip(1).map(|rest| rest.split('"').next().unwrap()).collect();
    assert!(!scripts.is_empty(), "the page loads its scripts: {html}");
    for script in scripts {
        assert!(script.starts_with("/assets/"), "only this origin's files, no CDN: {script}");
        let file = s.client.get(s.url(script)).send().await.unwrap();
        assert_eq!(file.status(), StatusCode::OK, "{script}");
    }
    let missing = s.client.get(s.url("/assets/no-such-file.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let escape = s.client.get(s.url("/assets/../../Cargo.toml")).send().await.unwrap();
    assert_ne!(escape.status(), StatusCode::OK, "nothing outside the console's files");
    assert_eq!(s.client.get(s.url("/api/v1/plugins")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}
