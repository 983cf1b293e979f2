//! `canvas serve`, started for real on 127.0.0.1:0 with a fast clock and
//! driven over HTTP: auth, the plugin lifecycle, runs and decisions, a
//! schedule firing, catching up, ingest, dead letters, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use canvas::app::{App, PluginSource, Selection};
use canvas::calendar::parse_instant;
use canvas::import::RecordKind;
use canvas::model::RunTrigger;
use canvas::serve::{self, ScaledClock};
use canvas::store::Store;
use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;

use crate::receiver::{Mode, Receiver};
use crate::service::*;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_but_healthz_needs_the_token() {
    let dir = TempDir::new().unwrap();
    let s =
        start_at(service_config(&dir, "", ""), store_with(&dir, &birthdays()), "2026-03-01T08:00:00+08:00", 1.0).await;
    let plain = |path: &str| s.client.get(s.url(path)).send();
    assert_eq!(plain("/healthz").await.unwrap().status(), StatusCode::OK);
    for path in ["/api/v1/plugins", "/metrics", "/openapi.json", "/api/v1/runs", "/api/v1/dead-letters"] {
        let refused = plain(path).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(refused.headers()["www-authenticate"], "Bearer");
        let wrong = s.client.get(s.url(path)).bearer_auth("guess").send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
        let right = s.client.get(s.url(path)).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(right.status(), StatusCode::OK, "{path}");
    }
    s.service.shutdown().await.unwrap();

    let open = TempDir::new().unwrap();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let clock = Arc::new(ScaledClock::new(0, 1.0));
    let no_token = config("");
    let refused = serve::start(App::new(no_token).unwrap(), store_with(&open, &birthdays()), clock, listener).await;
    let message = format!("{:#}", refused.err().expect("refused"));
    assert!(message.contains("without a token"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_enable_configure_run_and_see_the_decisions() {
    let dir = TempDir::new().unwrap();
    let s =
        start_at(service_config(&dir, "", ""), store_with(&dir, &birthdays()), "2026-03-01T08:00:00+08:00", 1.0).await;
    let wasm = std::fs::read(plugin("birthday-tiered")).unwrap();
    let (status, installed) = s.post("/api/v1/plugins", wasm).await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    assert_eq!((installed["id"].as_str(), installed["version"].as_str()), (Some("birthday-tiered"), Some("0.1.0")));
    assert_eq!(installed["sha256"].as_str().unwrap().len(), 64);

    let (status, refused) = s.post("/api/v1/plugins", b"\0asm\x01\0\0\0".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["error"].as_str().unwrap().contains("core WebAssembly module"), "{refused}");

    let (_, list) = s.get("/api/v1/plugins").await;
    assert_eq!(list[0]["enabled"], false, "installed plugins start disabled");
    let (status, _) = s.post("/api/v1/plugins/birthday-tiered/enable", "").await;
    assert_eq!(status, StatusCode::OK);

    let (status, bad) = s.put("/api/v1/plugins/birthday-tiered/config", json!({ "level": 1 })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad["error"].as_str().unwrap().contains("unknown field `level`"), "{bad}");
    let thirty_five = json!({ "levels": { "1": { "kind": "coupon", "value": 35 } } });
    let (status, effective) = s.put("/api/v1/plugins/birthday-tiered/config", thirty_five).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(effective["effective_config"]["levels"]["2"]["value"], 50.0, "the other levels keep their defaults");

    let (_, shown) = s.get("/api/v1/plugins/birthday-tiered").await;
    assert_eq!(shown["config"]["levels"]["1"]["value"], 35);
    assert_eq!(shown["schedule"], "0 10 1 * *");
    assert_eq!(shown["default_config"]["levels"]["1"]["value"], 20.0);

    let (status, ran) = s.post("/api/v1/runs", json!({ "at": "2026-03-01T10:00:00+08:00" }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(ran["runs"][0]["strategy"], "birthday-tiered");
    assert_eq!(ran["runs"][0]["decisions"], 2);

    let (_, decisions) = s.get("/api/v1/members/M1/decisions").await;
    assert_eq!(decisions[0]["benefit"]["value"], 35.0, "the new config was used at the next run");
    assert_eq!(decisions[0]["status"], "dispatched");
    let (_, runs) = s.get("/api/v1/runs?strategy=birthday-tiered").await;
    assert_eq!(runs[0]["trigger"], "manual");
    assert!(runs[0]["duration_ms"].as_f64().unwrap() > 0.0);

    let metrics = s.client.get(s.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"canvas_runs_total{strategy="birthday-tiered",outcome="completed"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"canvas_decisions_total{strategy="birthday-tiered",status="dispatched"} 2"#));
    assert!(metrics.contains("canvas_plugin_fuel_total"));
    s.eventually("the touches are delivered", async |s: &Running| {
        let metrics = s.client.get(s.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap().text().await.unwrap();
        metrics.contains("canvas_dispatch_latency_seconds_count 2")
    })
    .await;
    s.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_fires_and_missed_runs_are_caught_up_after_a_restart() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered")]);
    // One real second is two minutes: 10:00 comes half a second after the start.
    let s = start_at(service_config(&dir, "", ""), store, "2026-03-01T09:59:00+08:00", 120.0).await;
    s.eventually("the 10:00 run", async |s: &Running| {
        let (_, runs) = s.get("/api/v1/runs").await;
        runs.as_array().is_some_and(|r| !r.is_empty())
    })
    .await;
    let (_, runs) = s.get("/api/v1/runs").await;
    assert_eq!(
        (runs[0]["run_at"].as_str(), runs[0]["trigger"].as_str()),
        (Some("2026-03-01T10:00:00+08:00"), Some("schedule"))
    );
    let store = s.store.clone();
    s.service.shutdown().await.unwrap();

    // Down for three months: the 1 April, 1 May and 1 June runs were missed.
    let s = start_at(service_config(&dir, "catch_up_days = 100", ""), store.clone(), "2026-06-01T11:00:00+08:00", 1.0)
        .await;
    s.eventually("the catch-up runs", async |s: &Running| {
        let (_, runs) = s.get("/api/v1/runs").await;
        runs.as_array().is_some_and(|r| r.len() == 4)
    })
    .await;
    let (_, runs) = s.get("/api/v1/runs").await;
    let caught_up: Vec<(&str, &str)> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["date"].as_str().unwrap(), r["trigger"].as_str().unwrap()))
        .collect();
    assert_eq!(
        caught_up,
        [
            ("2026-06-01", "catch-up"),
            ("2026-05-01", "catch-up"),
            ("2026-04-01", "catch-up"),
            ("2026-03-01", "schedule")
        ]
    );
    s.service.shutdown().await.unwrap();

    let skip = start_at(service_config(&dir, "catch_up = false", ""), store, "2026-09-01T11:00:00+08:00", 1.0).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, runs) = skip.get("/api/v1/runs").await;
    skip.service.shutdown().await.unwrap();
    assert_eq!(runs.as_array().map(Vec::len), Some(4), "skipping: no catch-up runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_takes_over_and_a_rollback_brings_the_old_version_back() {
    let dir = TempDir::new().unwrap();
    let s =
        start_at(service_config(&dir, "", ""), store_with(&dir, &birthdays()), "2026-03-01T08:00:00+08:00", 1.0).await;
    let v1 = std::fs::read(test_plugin("versioned-0.1.0")).unwrap();
    let v2 = std::fs::read(test_plugin("versioned-0.2.0")).unwrap();
    assert_eq!(s.post("/api/v1/plugins", v1).await.0, StatusCode::CREATED);
    s.post("/api/v1/plugins/versioned/enable", "").await;
    let template_on = async |day: &str| {
        // Days ahead of the service's clock: forced.
        let at = json!({ "at": format!("{day}T10:00:00+08:00"), "force": true }).to_string();
        let (status, ran) = s.post("/api/v1/runs", at).await;
        assert_eq!(status, StatusCode::OK, "{ran}");
        let (_, decisions) = s.get("/api/v1/members/M2/decisions").await;
        decisions[0]["template"].as_str().unwrap().to_string()
    };
    assert_eq!(template_on("2026-03-02").await, "hello-0.1.0");
    let (status, upgraded) = s.post("/api/v1/plugins", v2).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!((upgraded["version"].as_str(), upgraded["replaced"].as_str()), (Some("0.2.0"), Some("0.1.0")));
    assert_eq!(template_on("2026-03-03").await, "hello-0.2.0");
    let (status, rolled) = s.post("/api/v1/plugins/versioned/rollback", "").await;
    assert_eq!((status, rolled["version"].as_str()), (StatusCode::OK, Some("0.1.0")));
    assert_eq!(template_on("2026-03-04").await, "hello-0.1.0");
    let (status, _) = s.post("/api/v1/plugins/versioned/rollback", "").await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing older to roll back to");
    let (_, shown) = s.get("/api/v1/plugins/versioned").await;
    assert_eq!(shown["versions"].as_array().unwrap().len(), 2);
    s.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingested_data_is_validated_idempotent_and_seen_by_the_next_run() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[test_plugin("versioned-0.1.0")]);
    let s = start_at(service_config(&dir, "", ""), store, "2026-03-01T08:00:00+08:00", 1.0).await;
    // A run first: the service then holds the member base, which the ingest makes stale.
    let (status, _) = s.post("/api/v1/runs", json!({ "at": "2026-02-28T10:00:00+08:00" }).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let members = concat!(
        r#"{"member_id":"N1","name":"新会员","level":2,"birthday":"","joined_at":"2026-02-01T10:00:00+08:00","store_id":"S01","guide_id":"G0101"}"#,
        "\n",
        r#"{"member_id":"N2","name":"另一位","level":"1","joined_at":"2026-02-02T10:00:00Z","store_id":"S01","guide_id":"G0101","tz":"Asia/Tokyo"}"#,
        "\n"
    );
    let (status, counts) = s.post("/api/v1/members", members).await;
    assert_eq!(status, StatusCode::OK, "{counts}");
    assert_eq!((counts["read"].as_u64(), counts["new"].as_u64()), (Some(2), Some(2)));
    let (_, again) = s.post("/api/v1/members", members).await;
    assert_eq!((again["new"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(2)), "idempotent by id");

    let orders = json!([
        { "order_id": "X1", "member_id": "N1", "placed_at": "2026-02-20T12:00:00+08:00", "amount": 99.5, "channel": "online", "category": "tops", "sku": "TP-1" },
        { "order_id": "X2", "member_id": "N1", "placed_at": "2026-02-21T12:00:00+08:00", "amount": "abc", "channel": "store", "category": "tops", "sku": "TP-1" },
        { "order_id": "X3", "member_id": "NOBODY", "placed_at": "2026-02-21T12:00:00+08:00", "amount": 1, "channel": "store", "category": "tops", "sku": "TP-1" }
    ]);
    let (status, refused) = s.post("/api/v1/orders", orders.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let details: Vec<&str> = refused["details"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert!(details[0].starts_with("orders record 2: field `amount`: `abc` is not an amount"), "{details:?}");
    let good = json!([orders[0]]);
    assert_eq!(s.post("/api/v1/orders", good.to_string()).await.0, StatusCode::OK);
    let (status, refused) = s.post("/api/v1/orders", json!([orders[2]]).to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an order of an unknown member");
    let detail = refused["details"][0].as_str().unwrap();
    assert_eq!(
        detail,
        "orders record 1: field `member_id`: member `NOBODY` is not in the store (send the member first)"
    );

    s.post("/api/v1/runs", json!({ "at": "2026-03-01T10:00:00+08:00" }).to_string()).await;
    let (_, decisions) = s.get("/api/v1/members/N1/decisions").await;
    assert_eq!(decisions.as_array().unwrap().len(), 1, "the run saw the ingested member and order");
    s.service.shutdown().await.unwrap();
}

/// The service keeps the member base and the decisions between runs instead
/// of reading them again: over a week of the sample data, with followups,
/// cooldowns, coupons and fatigue caps carried from day to day, its runs
/// decide exactly what runs that each read the store afresh decide — with
/// the week's orders arriving over the ingest API before each run (into the
/// warm base in place: first orders, repeat ones, each day's sent twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_one_service_decide_as_runs_that_each_read_the_store() {
    let plugins = SHIPPED_STRATEGIES.map(plugin);
    let mut sample = canvas::import::read_dir(&repo_root().join("sample-data")).unwrap();
    let calendar = canvas::calendar::BrandCalendar::named("Asia/Shanghai").unwrap();
    let (week_from, week_to) =
        (parse_instant("2026-09-01T00:00:00+08:00").unwrap(), parse_instant("2026-09-08T10:00:00+08:00").unwrap());
    let in_week = |o: &canvas::model::Order| (week_from..=week_to).contains(&o.placed_at);
    let week_orders: Vec<canvas::model::Order> = sample.data.orders.iter().filter(|o| in_week(o)).cloned().collect();
    sample.data.orders.retain(|o| !in_week(o));
    assert!(week_orders.len() > 20, "{} orders in the week", week_orders.len());
    // The orders placed up to `at` since `since`, as the ingest API takes them.
    let orders_json = |since: i64, at: i64| {
        let orders: Vec<serde_json::Value> = week_orders
            .iter()
            .filter(|o| o.placed_at > since && o.placed_at <= at)
            .map(|o| {
                json!({ "order_id": o.id, "member_id": o.member_id, "placed_at": calendar.format(o.placed_at),
                    "amount": format!("{}.{:02}", o.amount / 100, o.amount % 100),
                    "channel": if o.channel == canvas::model::OrderChannel::Store { "store" } else { "online" },
                    "category": o.category, "sku": o.sku })
            })
            .collect();
        serde_json::Value::from(orders).to_string()
    };
    let stores: Vec<(TempDir, Arc<Store>)> = (0..2)
        .map(|_| {
            let dir = TempDir::new().unwrap();
            let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
            store.import(&sample).unwrap();
            install(&store, &plugins);
            (dir, store)
        })
        .collect();
    // Every morning at 10:00, the 1st run twice (the second adds nothing).
    let mut instants = vec!["2026-09-01T10:00:00+08:00".to_string()];
    instants.extend((1..=8).map(|day| format!("2026-09-{day:02}T10:00:00+08:00")));

    let (dir, store) = &stores[0];
    let s = start_at(service_config(dir, "", ""), store.clone(), "2026-09-01T08:00:00+08:00", 1.0).await;
    let mut served = 0;
    let mut since = week_from - 1;
    for at in &instants {
        let instant = parse_instant(at).unwrap();
        for _ in 0..2 {
            let (status, body) = s.post("/api/v1/orders", orders_json(since, instant)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        since = instant;
        // Days ahead of the service's clock: forced, and run whatever the schedules, as the store-read runs are.
        let (status, body) = s.post("/api/v1/runs", json!({ "at": at, "force": true }).to_string()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        served += body["runs"].as_array().unwrap().iter().map(|r| r["decisions"].as_u64().unwrap()).sum::<u64>();
    }
    s.service.shutdown().await.unwrap();

    let (dir, store) = &stores[1];
    let config = service_config(dir, "", "");
    // Each run as `canvas run` makes it: a fresh runner that reads the store.
    let app = App::new(config).unwrap();
    let strategies = app.strategies(PluginSource::Installed(store), None).unwrap().strategies;
    let mut since = week_from - 1;
    for at in &instants {
        let at = parse_instant(at).unwrap();
        store.import(&canvas::import::parse_json(RecordKind::Orders, &orders_json(since, at)).unwrap()).unwrap();
        since = at;
        let mut runner = app.runner(app.stored_runner_state(store, &strategies).unwrap(), store, true);
        app.run_at(&mut runner, &strategies, at, RunTrigger::Manual, Selection::Every, &mut |_| {}).unwrap();
    }

    let decided = |store: &Store| {
        let mut lines: Vec<String> = store.decisions().unwrap().iter().map(|d| format!("{d:?}")).collect();
        lines.sort();
        lines
    };
    let (warm, cold) = (decided(&stores[0].1), decided(&stores[1].1));
    assert!(warm.len() > 500 && warm.len() as u64 == served, "{} decisions, {served} served", warm.len());
    // The triggered ones fire on events, not runs (`triggered_service.rs`).
    let triggered = ["coupon-reminder", "browse-abandon", "out-of-stock-recovery"];
    for strategy in SHIPPED_STRATEGIES.iter().filter(|s| !triggered.contains(s)) {
        assert!(warm.iter().any(|d| d.contains(&format!("strategy: \"{strategy}\""))), "{strategy} decided nothing");
    }
    assert!(warm.iter().any(|d| d.contains("status: Suppressed")), "no fatigue cap carried over");
    let only_in = |a: &[String], b: &[String]| a.iter().filter(|d| !b.contains(d)).take(3).cloned().collect::<Vec<_>>();
    assert_eq!(
        (only_in(&warm, &cold), only_in(&cold, &warm)),
        (vec![], vec![]),
        "decided only by the service, only by fresh runs"
    );
    assert_eq!(warm.len(), cold.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_redriven_over_the_api() {
    let receiver = Receiver::start(Mode::Fail(503));
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered")]);
    let webhook = format!(
        "[dispatch]\nmax_attempts = 2\nbackoff_initial_ms = 10\n[dispatch.channels.wecom]\nkind = \"webhook\"\nurl = \"{}\"\n",
        receiver.url
    );
    let s = start_at(service_config(&dir, "", &webhook), store, "2026-03-01T08:00:00+08:00", 1.0).await;
    s.post("/api/v1/runs", json!({ "at": "2026-03-01T10:00:00+08:00" }).to_string()).await;
    s.eventually("two dead letters", async |s: &Running| {
        s.get("/api/v1/dead-letters").await.1.as_array().is_some_and(|d| d.len() == 2)
    })
    .await;
    let (_, dead) = s.get("/api/v1/dead-letters").await;
    assert!(dead[0]["last_error"].as_str().unwrap().contains("HTTP 503"), "{dead}");
    receiver.set_mode(Mode::Accept);
    let (_, redriven) = s.post("/api/v1/dead-letters/redrive", "{}").await;
    assert_eq!(redriven["redriven"], 2);
    s.eventually("delivered after the re-drive", async |_| receiver.with(|r| r.accepted.len()) == 2).await;
    assert!(s.get("/api/v1/dead-letters").await.1.as_array().unwrap().is_empty());
    s.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_the_run_finish_and_flushes_the_outbox() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered")]);
    // The dispatcher would wait a minute between passes; shutdown must not.
    let s = start_at(service_config(&dir, "dispatch_interval_ms = 60000", ""), store, "2026-03-01T08:00:00+08:00", 1.0)
        .await;
    let run = {
        let (client, url) = (s.client.clone(), s.url("/api/v1/runs"));
        tokio::spawn(async move {
            let body = json!({ "at": "2026-03-01T10:00:00+08:00" }).to_string();
            client.post(url).bearer_auth(TOKEN).body(body).send().await.unwrap().status()
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let store = s.store.clone();
    s.service.shutdown().await.unwrap();
    assert_eq!(run.await.unwrap(), StatusCode::OK, "the run in flight finished");
    let pending = store.outbox_items(&Default::default(), Some(canvas::store::OutboxState::Pending)).unwrap();
    assert!(pending.is_empty(), "nothing due is left in the outbox: {pending:?}");
    let lines = std::fs::read_to_string(dir.path().join("touches.jsonl")).unwrap().lines().count();
    assert_eq!(lines, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route() {
    let dir = TempDir::new().unwrap();
    let s =
        start_at(service_config(&dir, "", ""), store_with(&dir, &birthdays()), "2026-03-01T08:00:00+08:00", 1.0).await;
    let (_, doc) = s.get("/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/api/v1/plugins",
        "/api/v1/plugins/{id}",
        "/api/v1/plugins/{id}/enable",
        "/api/v1/plugins/{id}/disable",
        "/api/v1/plugins/{id}/config",
        "/api/v1/plugins/{id}/rollback",
        "/api/v1/runs",
        "/api/v1/runs/cancel",
        "/api/v1/session",
        "/api/v1/audit",
        "/api/v1/members/{id}/decisions",
        "/api/v1/members/{id}/do-not-contact",
        "/api/v1/outbox",
        "/api/v1/outbox/status",
        "/api/v1/dead-letters",
        "/api/v1/dead-letters/redrive",
        "/api/v1/members",
        "/api/v1/orders",
        "/api/v1/events",
        "/api/v1/products",
        "/api/v1/guides",
        "/api/v1/results",
        "/api/v1/canvas",
        "/api/v1/governance",
        "/api/v1/plugins/{id}/preview",
        "/api/v1/members/{id}",
        "/api/v1/dry-runs",
        "/api/v1/dry-runs/{id}",
        "/api/v1/dry-runs/{id}/report.html",
    ] {
        assert!(paths.contains_key(route), "{route} is not documented");
    }
    assert_eq!(paths.len(), 32, "a documented path that does not exist");
    s.service.shutdown().await.unwrap();
}
