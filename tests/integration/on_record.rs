//! On record: every operator's change lands in the audit log with who made
//! it (a token's name, or `cli:<user>`) and the state before and after;
//! read-only tokens look but cannot change; the service logs runs as text
//! or JSON.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::serve_runs::Served;
use crate::service::*;
use crate::support::*;

const VIEWER: &str = "viewer-token-0123456789";
const OPS: &str = "ops-token-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_over_the_api_are_audited_with_the_tokens_name_and_a_read_only_token_cannot_change() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered")]);
    let tokens = format!(
        "[serve.tokens.viewer]\ntoken = \"{VIEWER}\"\nread_only = true\n[serve.tokens.ops]\ntoken = \"{OPS}\"\n"
    );
    let s = start_at(service_config(&dir, "", &tokens), store, "2026-03-01T08:00:00+08:00", 1.0).await;
    let as_token = |token: &'static str, method: reqwest::Method, path: &str, body: Option<Value>| {
        let request = s.client.request(method, s.url(path)).bearer_auth(token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let (status, _) = as_token(VIEWER, reqwest::Method::GET, "/api/v1/plugins", None).await;
    assert_eq!(status, StatusCode::OK, "a read-only token may look");
    let (status, refused) =
        as_token(VIEWER, reqwest::Method::POST, "/api/v1/plugins/birthday-tiered/disable", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("the token `viewer` is read-only"), "{refused}");

    let thirty = json!({ "levels": { "1": { "kind": "coupon", "value": 30 } } });
    let (status, _) =
        as_token(OPS, reqwest::Method::PUT, "/api/v1/plugins/birthday-tiered/config", Some(thirty.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s.post("/api/v1/plugins/birthday-tiered/disable", "").await;
    assert_eq!(status, StatusCode::OK);

    let (_, audit) = as_token(VIEWER, reqwest::Method::GET, "/api/v1/audit", None).await;
    let entries = audit.as_array().unwrap();
    assert_eq!(entries.len(), 3, "the refused change left no entry: {audit}");
    assert_eq!(
        (entries[2]["actor"].as_str(), entries[2]["action"].as_str()),
        (Some("canvas.toml"), Some("config-file"))
    );
    assert_eq!(entries[2]["before"], Value::Null, "the first start: no earlier config");
    assert!(entries[2]["after"].get("serve").is_none(), "no tokens in the audit log: {audit}");
    assert_eq!((entries[0]["actor"].as_str(), entries[0]["action"].as_str()), (Some("admin"), Some("disable")));
    assert_eq!((&entries[0]["before"], &entries[0]["after"]), (&json!(true), &json!(false)));
    assert_eq!((entries[1]["actor"].as_str(), entries[1]["action"].as_str()), (Some("ops"), Some("config")));
    assert_eq!((&entries[1]["before"], &entries[1]["after"]), (&json!({}), &thirty));
    assert_eq!(entries[1]["target"], "birthday-tiered");
    assert!(entries[1]["at"].as_str().unwrap().starts_with("2026-03-01T08:00"), "{audit}");
}

#[test]
fn changes_from_the_command_line_are_audited_as_the_user() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &["birthday-tiered"]);
    let canvas_on = |args: &[&str]| {
        let output = canvas().args(args).arg("--store").arg(&store).env("USER", "lin").output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    canvas_on(&["plugin", "disable", "birthday-tiered"]);
    canvas_on(&["plugin", "config", "birthday-tiered", "--set", "levels.2.value=60"]);
    let shown = canvas_on(&["audit"]);
    let lines: Vec<&str> = shown.lines().collect();
    assert!(
        lines[1].contains("cli:lin")
            && lines[1].contains("config")
            && lines[1].contains(r#"{"levels":{"2":{"value":60}}}"#),
        "{shown}"
    );
    assert!(
        lines[2].contains("cli:lin") && lines[2].contains("disable") && lines[2].contains("true → false"),
        "{shown}"
    );
    assert!(shown.contains("2 changes"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_logs_runs_as_json_when_asked() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered")]);
    drop(store);
    let config = dir.path().join("canvas.toml");
    let text = format!(
        "store = {:?}\n[governance]\nholdout_percent = 0\n[serve]\ntoken = \"{OPS}\"\nlog_format = \"json\"\n\
         [dispatch.channels.\"*\"]\nkind = \"file\"\npath = {:?}\n",
        dir.path().join("store").display().to_string(),
        dir.path().join("touches.jsonl").display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    let mut served = Served::start_with(&config, &[]);
    let ran = reqwest::Client::new()
        .post(format!("http://{}/api/v1/runs", served.addr))
        .bearer_auth(OPS)
        .body(json!({ "at": "2026-03-01T10:00:00+08:00", "force": true }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(ran.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(20);
    let completed = loop {
        let logged = served.stderr.lock().unwrap().clone();
        let lines: Vec<Value> = logged.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        if let Some(line) = lines.iter().find(|l| l["fields"]["message"] == "run completed") {
            break line.clone();
        }
        assert!(Instant::now() < deadline, "no JSON `run completed` line: {logged}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(completed["level"], "INFO");
    assert_eq!(completed["fields"]["strategy"], "birthday-tiered");
    assert_eq!(completed["fields"]["decisions"], 2);
    served.terminate();
    assert!(served.exits_within(Duration::from_secs(30)).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_canvas_toml_is_audited_when_the_service_starts_with_it() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered")]);
    let changes = |store: &canvas::store::Store| {
        store.audit(100).unwrap().into_iter().filter(|e| e.action == "config-file").collect::<Vec<_>>()
    };
    // Each start an hour after the last: the audit log is in time order.
    let starts = [("08", ""), ("09", ""), ("10", "[strategies.birthday-tiered]\nholdout_percent = 5\n")];
    for (hour, extra) in starts {
        let clock = format!("2026-03-01T{hour}:00:00+08:00");
        let s = start_at(service_config(&dir, "", extra), store.clone(), &clock, 1.0).await;
        s.service.shutdown().await.unwrap();
    }
    let recorded = changes(&store);
    assert_eq!(recorded.len(), 2, "the first start, then the change; not the unchanged restart");
    assert_eq!(recorded[0].before["strategies"], json!({}));
    assert_eq!(recorded[0].after["strategies"]["birthday-tiered"]["holdout_percent"], 5.0);
    assert_eq!(recorded[0].actor, "canvas.toml");
}
