//! Event triggers in `canvas serve`: an ingested event fires the strategies
//! that react to it when their delay has passed, once, across a restart,
//! unless its cancel condition came first — and the touch is dispatched.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;

fn touches(dir: &TempDir) -> Vec<Value> {
    let path = dir.path().join("touches.jsonl");
    if path.exists() {
        read_jsonl(&path)
    } else {
        Vec::new()
    }
}

/// 1 real second is 10 minutes of the service's clock: an hour's delay is 6 s.
const TEN_MINUTES_A_SECOND: f64 = 600.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingested_coupon_is_reminded_an_hour_later_once_across_a_restart_unless_redeemed_first() {
    let dir = TempDir::new().unwrap();
    let data = Data::new().member("M1", 1, "").member("M2", 1, "").member("M3", 1, "");
    let store = store_with(&dir, &data);
    install(&store, &[plugin("coupon-reminder")]);
    let config = service_config(&dir, "", "");
    let s = start_at(config.clone(), store, "2026-03-01T12:00:00+08:00", TEN_MINUTES_A_SECOND).await;

    let coupon = |id: &str, member: &str, kind: &str, at: &str, coupon: &str| json!({ "event_id": id, "member_id": member, "kind": kind, "at": at, "attrs": { "coupon_id": coupon } });
    let issued = coupon("E1", "M1", "coupon_issued", "2026-03-01T12:00:00+08:00", "C1");
    let events = json!([
        issued,
        coupon("E2", "M2", "coupon_issued", "2026-03-01T12:00:00+08:00", "C2"),
        coupon("E3", "M2", "coupon_redeemed", "2026-03-01T12:05:00+08:00", "C2"),
        // Without the attribute the trigger requires: ignored.
        json!({ "event_id": "E4", "member_id": "M3", "kind": "coupon_issued", "at": "2026-03-01T12:00:00+08:00", "attrs": {} }),
    ]);
    let (status, ingested) = s.post("/api/v1/events", events.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ingested}");
    let waiting = s.store.firings_waiting().unwrap();
    assert_eq!(waiting.iter().map(|(id, n, _)| (id.as_str(), *n)).collect::<Vec<_>>(), [("coupon-reminder", 2)]);
    // The operator sees them on the strategy's card.
    let (_, canvas) = s.get("/api/v1/canvas").await;
    let card = canvas["strategies"].as_array().unwrap().iter().find(|c| c["id"] == "coupon-reminder").unwrap();
    assert_eq!(card["waiting_firings"], json!({ "count": 2, "next_due": "2026-03-01 13:00" }), "{card}");

    // Down before they are due: the firings wait in the store.
    let store = s.store.clone();
    s.service.shutdown().await.unwrap();
    assert!(touches(&dir).is_empty());
    let s = start_at(config, store, "2026-03-01T12:40:00+08:00", TEN_MINUTES_A_SECOND).await;
    s.eventually("the reminder is delivered", async |_| !touches(&dir).is_empty()).await;
    let sent = touches(&dir);
    assert_eq!(sent.len(), 1, "C2 was redeemed before the hour: {sent:?}");
    assert_eq!((&sent[0]["member_id"], &sent[0]["variables"]["coupon_id"]), (&json!("M1"), &json!("C1")));
    assert_eq!(sent[0]["run_at"], "2026-03-01T13:00:00+08:00", "decided as of the firing's instant");
    assert!(s.store.firings_waiting().unwrap().is_empty());

    // The same event again (a retried ingest): it fires again, decides nothing twice.
    let (status, _) = s.post("/api/v1/events", json!([issued]).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    s.eventually("the repeated firing has fired", async |s| s.store.firings_waiting().unwrap().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(touches(&dir).len(), 1, "never twice for one event");
    let (_, runs) = s.get("/api/v1/runs").await;
    let tally = runs.as_array().unwrap().iter().find(|r| r["strategy"] == "coupon-reminder").expect("a tally");
    assert_eq!(
        (&tally["trigger"], &tally["decisions"], &tally["already_decided"]),
        (&json!("event"), &json!(1), &json!(1))
    );
    let metrics = s.client.get(s.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"canvas_trigger_firings_total{strategy="coupon-reminder",outcome="called_off"} 1"#),
        "{metrics}"
    );
    s.service.shutdown().await.unwrap();
}
