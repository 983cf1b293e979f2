//! The console's data endpoints over the real service on 127.0.0.1:0 with
//! the shipped plugins: the canvas cards, previews with no side effect
//! (the store's digest before and after), governance with today's
//! preview, the member page, and dry runs with config tried.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;

/// Three March birthdays: M1 (V1) and M2 (V3) reachable on WeCom, M3 (V1)
/// deleted the brand on WeCom in February; M2 ordered in January.
fn march_birthdays() -> Data {
    birthdays().member("M3", 1, "1991-03-05").raw_event("E1,M3,wecom_deleted,2026-02-01T10:00:00+08:00,")
}

/// The service at 08:00 on 1 March (the birthday run is at 10:00), with `plugins` installed and enabled.
async fn service(dir: &TempDir, plugins: &[&str], extra: &str) -> Running {
    let store = store_with(dir, &march_birthdays());
    install(&store, &plugins.iter().map(|p| plugin(p)).collect::<Vec<_>>());
    start_at(service_config(dir, "", extra), store, "2026-03-01T08:00:00+08:00", 1.0).await
}

fn keyed(decisions: &Value) -> Vec<(String, String, String)> {
    let mut keyed: Vec<(String, String, String)> = decisions
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["key"].to_string(), d["status"].to_string(), d["reason"].to_string()))
        .collect();
    keyed.sort();
    keyed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_shows_the_audience_and_a_sample_and_changes_nothing_so_the_next_run_decides_as_if_it_never_happened()
{
    let dir = TempDir::new().unwrap();
    let s = service(&dir, &["birthday-tiered"], "").await;
    // A run first, so the service holds a warm state the preview must leave alone.
    let (status, _) = s.post("/api/v1/runs", json!({ "at": "2026-02-01T10:00:00+08:00" }).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let before = s.store.digest().unwrap();

    let (status, preview) = s.post("/api/v1/plugins/birthday-tiered/preview", "{}").await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["at"], "2026-03-01 10:00", "its slot today");
    assert_eq!(preview["audience"], 3);
    assert_eq!(preview["by_status"], json!({ "dispatched": 2, "suppressed": 1 }));
    let reasons = preview["by_reason"].as_object().unwrap();
    assert!(reasons.keys().any(|r| r.contains("deleted the brand on WeCom on 2026-02-01")), "{preview}");
    let sample = preview["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 3);
    let m1 = sample.iter().find(|d| d["member_id"] == "M1").unwrap();
    assert_eq!(m1["benefit"]["value"], 20.0);

    // Keys tried, not saved: the sample uses them, the plugin's config does not change.
    let thirty = json!({ "config": { "levels": { "1": { "kind": "coupon", "value": 30 } } } });
    let (status, tried) = s.post("/api/v1/plugins/birthday-tiered/preview", thirty.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    let m1 = tried["sample"].as_array().unwrap().iter().find(|d| d["member_id"] == "M1").unwrap().clone();
    assert_eq!(m1["benefit"]["value"], 30.0);
    assert_eq!(s.get("/api/v1/plugins/birthday-tiered").await.1["config"], json!({}));

    assert_eq!(s.store.digest().unwrap(), before, "a preview wrote to the store");
    assert!(s.get("/api/v1/members/M1/decisions").await.1.as_array().unwrap().is_empty());
    assert!(s.get("/api/v1/outbox").await.1.as_array().unwrap().is_empty());

    let (status, ran) = s.post("/api/v1/runs", json!({ "at": "2026-03-01T10:00:00+08:00" }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(ran["runs"][0]["decisions"], 3, "the preview decided nothing for real");
    let mut decided = Vec::new();
    for member in ["M1", "M2", "M3"] {
        decided.extend(s.get(&format!("/api/v1/members/{member}/decisions")).await.1.as_array().unwrap().clone());
    }
    assert_eq!(keyed(&Value::Array(decided.clone())), keyed(&preview["sample"]), "the run decided as previewed");
    let m1 = decided.iter().find(|d| d["member_id"] == "M1").unwrap();
    assert_eq!(m1["benefit"]["value"], 20.0, "the keys only tried are not used");

    let (_, again) = s.post("/api/v1/plugins/birthday-tiered/preview", "").await;
    // M1 and M2 are decided for the month; M3, still unreachable, is not asked again.
    let counts = ["audience", "already_decided", "held_back", "decisions"].map(|k| again[k].as_u64().unwrap());
    assert_eq!(counts, [3, 2, 1, 0], "{again}");
    s.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_of_a_config_the_plugin_refuses_is_a_400_with_its_message_and_an_unknown_plugin_a_404() {
    let dir = TempDir::new().unwrap();
    let s = service(&dir, &["birthday-tiered"], "").await;
    let seven = json!({ "config": { "levels": { "7": { "kind": "coupon", "value": 30 } } } });
    let (status, refused) = s.post("/api/v1/plugins/birthday-tiered/preview", seven.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["error"].as_str().unwrap().contains("levels.7: unknown member level; levels are 1–4"), "{refused}");
    let (status, unknown) = s.post("/api/v1/plugins/birthday-tierd/preview", "{}").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(unknown["error"].as_str().unwrap().contains("birthday-tierd"), "{unknown}");
    let (status, _) = s.post("/api/v1/plugins/birthday-tiered/preview", "{\"levels\": 1}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "config keys go under `config`");
    s.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_member_page_shows_a_suppressed_decision_with_its_reason_the_reach_and_the_orders() {
    let dir = TempDir::new().unwrap();
    let s = service(&dir, &["birthday-tiered"], "").await;
    s.post("/api/v1/runs", json!({ "at": "2026-03-01T10:00:00+08:00" }).to_string()).await;

    let (status, m3) = s.get("/api/v1/members/M3").await;
    assert_eq!(status, StatusCode::OK, "{m3}");
    assert_eq!(m3["member"]["level"], 1);
    assert_eq!(m3["reach"]["wecom"], json!({ "state": "deleted", "since": "2026-02-01 10:00" }));
    assert_eq!(m3["reach"]["unreachable"]["wecom"], "deleted the brand on WeCom on 2026-02-01");
    assert_eq!(m3["reach"]["do_not_contact"], false);
    assert_eq!(m3["decisions"][0]["status"], "suppressed");
    assert!(m3["decisions"][0]["reason"].as_str().unwrap().contains("deleted the brand on WeCom"), "{m3}");
    assert_eq!(m3["events"][0]["kind"], "wecom_deleted");
    assert!(m3["deliveries"].as_array().unwrap().is_empty(), "a suppressed touch is never queued");

    let (_, m2) = s.get("/api/v1/members/M2").await;
    assert_eq!(m2["reach"]["wecom"]["state"], "friend");
    assert_eq!(m2["reach"]["unreachable"], json!({}));
    assert_eq!(m2["orders"][0]["placed_at"], "2026-01-10 12:00");
    assert_eq!(m2["orders"][0]["amount"], 199.0);
    assert_eq!(m2["decisions"][0]["status"], "dispatched");
    assert_eq!(m2["deliveries"][0]["key"], m2["decisions"][0]["key"]);
    assert!(m2["events"].as_array().unwrap().iter().any(|e| e["kind"] == "coupon_issued"), "{m2}");

    // A do-not-contact mark shows at once.
    s.post("/api/v1/members/M2/do-not-contact", "{}").await;
    let (_, marked) = s.get("/api/v1/members/M2").await;
    assert_eq!(marked["reach"]["do_not_contact"], true);
    assert!(marked["reach"]["unreachable"]["wecom"].as_str().unwrap().starts_with("do not contact"), "{marked}");

    let (status, unknown) = s.get("/api/v1/members/NOBODY").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(unknown["error"].as_str().unwrap().contains("NOBODY"), "{unknown}");
    s.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_canvas_shows_the_strategies_in_life_cycle_order_with_their_audience_in_words_benefit_and_last_run() {
    let dir = TempDir::new().unwrap();
    let stages =
        "[strategies.birthday-tiered]\nstage = \"upsell\"\n[strategies.dormant-recall]\nstage = \"retention\"\n";
    let s = service(&dir, &["birthday-tiered", "dormant-recall", "coupon-reminder"], stages).await;
    s.post("/api/v1/runs", json!({ "at": "2026-03-01T10:00:00+08:00", "strategies": ["birthday-tiered"] }).to_string())
        .await;
    let (status, canvas) = s.get("/api/v1/canvas").await;
    assert_eq!(status, StatusCode::OK, "{canvas}");
    assert_eq!(
        (canvas["time_zone"].as_str(), canvas["now"].as_str().map(|n| &n[..10])),
        (Some("Asia/Shanghai"), Some("2026-03-01"))
    );
    assert_eq!(canvas["stages"][0], "activation");
    let cards = canvas["strategies"].as_array().unwrap();
    let ids: Vec<&str> = cards.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["dormant-recall", "birthday-tiered", "coupon-reminder"], "by stage, no stage last");
    let birthday = &cards[1];
    assert_eq!(birthday["stage"], "upsell");
    assert_eq!(birthday["priority"], 1);
    assert_eq!(birthday["audience"], json!({ "en": ["Birthday this month"], "zh": ["本月生日"] }));
    assert!(birthday["benefit"]["en"].as_str().unwrap().starts_with("V1: ¥20 coupon; V2: ¥50 coupon"), "{birthday}");
    assert!(birthday["benefit"]["zh"].as_str().unwrap().starts_with("V1：¥20优惠券"), "{birthday}");
    assert_eq!(birthday["next_run"], "2026-03-01 10:00", "the clock says 08:00; the run asked for ran ahead of it");
    assert_eq!(birthday["steps"], json!(["birthday"]));
    assert_eq!(birthday["last_run"]["at"], "2026-03-01 10:00");
    assert_eq!(birthday["last_run"]["by_status"], json!({ "dispatched": 2, "suppressed": 1 }));
    let recall = &cards[0];
    assert_eq!(recall["audience"]["en"], json!(["Last order exactly 90 days ago"]));
    assert_eq!(recall["last_run"], Value::Null);
    assert_eq!(cards[2]["stage"], Value::Null);
    assert!(cards[2]["priority"].is_null(), "coupon-reminder is not in the priority list");
    s.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_shows_the_policy_and_what_todays_runs_would_hold_back_without_recording_it() {
    let dir = TempDir::new().unwrap();
    let s = service(&dir, &["birthday-tiered"], "[strategies.birthday-tiered]\nholdout_percent = 5\n").await;
    let before = s.store.digest().unwrap();
    let (status, governance) = s.get("/api/v1/governance").await;
    assert_eq!(status, StatusCode::OK, "{governance}");
    assert_eq!(governance["policy"]["holdout_percent"], 0.0);
    assert_eq!(governance["policy"]["priority"][0], "birthday-tiered");
    assert_eq!(governance["policy"]["strategies"]["birthday-tiered"]["holdout_percent"], 5.0);
    let today = &governance["today"]["by_strategy"]["birthday-tiered"];
    assert_eq!(today["runs"], json!(["2026-03-01 10:00"]));
    assert_eq!(today["by_status"]["suppressed"], 1, "{governance}");
    assert_eq!(s.store.digest().unwrap(), before, "governance's preview wrote to the store");
    assert!(s.get("/api/v1/runs").await.1.as_array().unwrap().is_empty());
    s.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_with_a_config_tried_reports_decisions_that_use_it_while_the_live_config_keeps_its_own() {
    let dir = TempDir::new().unwrap();
    let s = service(&dir, &["birthday-tiered", "dormant-recall"], "").await;
    let before = s.store.digest().unwrap();
    let asked = json!({ "strategies": ["birthday-tiered"], "from": "2026-03-01", "to": "2026-03-31",
                        "config": { "birthday-tiered": { "levels": { "1": { "kind": "coupon", "value": 30 } } } } });
    let (status, started) = s.post("/api/v1/dry-runs", asked.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let id = started["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/dry-runs/{id}");
    s.eventually("the dry run ends", async |s: &Running| s.get(&path).await.1["state"] != "running").await;
    let (_, done) = s.get(&path).await;
    assert_eq!(done["state"], "done", "{done}");
    let totals = &done["summary"]["strategies"]["birthday-tiered"];
    // M1 (V1) at the 30 tried, M2 (V3) at 100; M3 cannot be reached.
    assert_eq!(totals["benefit_fen"], 13_000, "{done}");
    assert_eq!(totals["decisions"], 3);
    assert!(done["summary"]["strategies"].get("dormant-recall").is_none(), "only the strategies asked for");

    let report = s.client.get(s.url(&format!("{path}/report.html"))).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(report.status(), StatusCode::OK);
    assert!(report.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = report.text().await.unwrap();
    assert!(html.contains("birthday-tiered") && html.contains("2026-03-01"), "a report of the dry run");

    let (_, live) = s.get("/api/v1/plugins/birthday-tiered").await;
    assert_eq!(live["effective_config"]["levels"]["1"]["value"], 20.0, "the live config keeps its 20");
    assert_eq!(s.store.digest().unwrap(), before, "a dry run wrote to the live store");
    let (_, listed) = s.get("/api/v1/dry-runs").await;
    assert_eq!(listed[0]["id"], id.as_str());
    s.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_asked_for_with_unknown_ids_bad_dates_or_too_long_a_range_is_a_400_naming_them() {
    let dir = TempDir::new().unwrap();
    let s = service(&dir, &["birthday-tiered"], "").await;
    let refused = async |body: Value| {
        let (status, answer) = s.post("/api/v1/dry-runs", body.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        answer["error"].as_str().unwrap().to_string()
    };
    let unknown =
        refused(json!({ "strategies": ["birthday-tiered", "nope"], "from": "2026-03-01", "to": "2026-03-02" })).await;
    assert!(unknown.contains("`nope`") && unknown.contains("installed: `birthday-tiered`"), "{unknown}");
    let many: Vec<String> = (0..5000).map(|i| format!("x{i}")).collect();
    let many = refused(json!({ "strategies": many, "from": "2026-03-01", "to": "2026-03-02" })).await;
    assert!(many.contains("`x9`, and 4990 more") && many.len() < 300, "a few named, not thousands: {many}");
    assert!(refused(json!({ "from": "2026-13-01", "to": "2026-03-02" })).await.starts_with("from: `2026-13-01`"));
    assert!(refused(json!({ "from": "2026-03-02", "to": "2026-03-01" })).await.contains("before"));
    let long = refused(json!({ "from": "2025-01-01", "to": "2026-03-01" })).await;
    assert!(long.contains("425 days") && long.contains("at most 366"), "{long}");
    let stray = json!({ "strategies": ["birthday-tiered"], "from": "2026-03-01", "to": "2026-03-02",
                        "config": { "dormant-recall": { "after_days": 60 } } });
    assert!(refused(stray).await.contains("`dormant-recall` is not among the strategies"));
    let bad_config = json!({ "from": "2026-03-01", "to": "2026-03-02",
                             "config": { "birthday-tiered": { "levels": { "9": { "kind": "coupon", "value": 1 } } } } });
    assert!(refused(bad_config).await.contains("levels.9: unknown member level"));
    let (status, _) = s.get("/api/v1/dry-runs/dry-999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.get("/api/v1/dry-runs/dry-999/report.html").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(s.get("/api/v1/dry-runs").await.1.as_array().unwrap().is_empty(), "nothing refused was started");
    s.service.shutdown().await.unwrap();
}

/// A preview asked for while a run is deciding waits for the run to end,
/// then previews over what it recorded (never over a half-recorded run, nor
/// over the state before it, which would show touches the run is sending as
/// still to be sent); the run goes on undisturbed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_asked_for_during_a_run_waits_for_it_and_sees_what_it_decided() {
    const MEMBERS: usize = 20;
    let dir = TempDir::new().unwrap();
    let data = (1..=MEMBERS).fold(Data::new(), |data, i| {
        let id = format!("M{i}");
        data.member(&id, 1, "1990-06-01").order(&id, "2026-01-10T12:00:00+08:00")
    });
    let store = store_with(&dir, &data);
    install(&store, &[test_plugin("slow")]);
    // One member a batch, one batch at a time: the run lasts seconds.
    let s = start_at(
        service_config(&dir, "", "[run]\nbatch_size = 1\nworkers = 1\n"),
        store,
        "2026-03-01T08:00:00+08:00",
        1.0,
    )
    .await;
    let run = {
        let (client, url) = (s.client.clone(), s.url("/api/v1/runs"));
        tokio::spawn(async move {
            let body = json!({ "at": "2026-03-01T10:00:00+08:00", "strategies": ["slow"] }).to_string();
            client.post(url).bearer_auth(TOKEN).body(body).send().await.unwrap().json::<Value>().await.unwrap()
        })
    };
    s.eventually("the run is deciding", async |s: &Running| {
        let metrics = s.client.get(s.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap().text().await.unwrap();
        metrics.lines().any(|l| l == "canvas_runs_in_flight 1")
    })
    .await;
    // A preview that does not spin would be done long before the run, were it not to wait.
    let quick = json!({ "config": { "spins_per_member": 0 } }).to_string();
    let (status, preview) = s.post("/api/v1/plugins/slow/preview", quick).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["at"], "2026-03-01 10:00");
    assert_eq!(
        (preview["already_decided"].as_u64(), preview["decisions"].as_u64()),
        (Some(MEMBERS as u64), Some(0)),
        "the preview saw the whole run: {preview}"
    );
    let ran = run.await.unwrap();
    assert_eq!(ran["runs"][0]["decisions"], MEMBERS, "{ran}");
    s.service.shutdown().await.unwrap();
}
