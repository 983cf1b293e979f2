//! Platform rate limits on delivery: a channel never delivers more than its
//! `rate_per_minute` in any window, whoever delivers (concurrent deliveries,
//! later passes of the service); a receiver's 429 makes its channel wait as
//! long as its `Retry-After` asks while the other channels go on, and burns
//! no attempt; a rate of 0 is refused; `canvas outbox status` and `GET
//! /api/v1/outbox/status` show each channel's backlog and its drain time.
//!
//! The touches are recorded by hand, due a second ago: the dispatcher sends
//! whatever the outbox holds, and no plugin is needed to fill it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use canvas::config::CanvasConfig;
use canvas::dispatch::{DispatchReport, Dispatcher};
use canvas::model::{now_millis, ActionKind, Decision, DecisionStatus};
use canvas::store::{OutboxState, Queue, Store};
use serde_json::Value;
use tempfile::TempDir;

use crate::receiver::{Mode, Receiver, Request};
use crate::serve_runs::Served;
use crate::service::{start_at, TOKEN};
use crate::support::*;

/// `count` touches on `channel`, due a second ago; `later`: deferred a day instead.
fn touches(channel: &str, count: usize, later: bool) -> Vec<Decision> {
    let run_at = now_millis() - 1_000;
    let (status, send_at) =
        if later { (DecisionStatus::Deferred, Some(run_at + 86_400_000)) } else { (DecisionStatus::Dispatched, None) };
    (0..count)
        .map(|i| Decision {
            key: format!("rate-test/notice/{channel}/{}/M{i:05}", if later { "later" } else { "now" }),
            strategy: "rate-test".into(),
            plugin_version: "0.1.0".into(),
            plugin_sha256: "".into(),
            run_at,
            day: CanvasConfig::default().calendar().day_of(run_at),
            member_id: format!("M{i:05}"),
            step: "notice".into(),
            action: ActionKind::Message,
            channel: channel.into(),
            template: "notice".into(),
            variables: Vec::new(),
            benefit: None,
            coupon_id: None,
            guide_id: None,
            group_buy: None,
            status,
            reason: None,
            send_at,
        })
        .collect()
}

/// A store at `dir/store` with these touches queued.
fn store_with_touches(dir: &TempDir, batches: &[Vec<Decision>]) -> Arc<Store> {
    let store = Store::open(&dir.path().join("store")).unwrap();
    for batch in batches {
        store.record_decisions(batch, Queue::ToBeSent).unwrap();
    }
    Arc::new(store)
}

/// `[dispatch]` with these keys, then `channels` (their TOML tables).
fn dispatch_config(keys: &str, channels: &[(&str, String)]) -> CanvasConfig {
    let tables: String =
        channels.iter().map(|(name, table)| format!("[dispatch.channels.{name}]\n{table}\n")).collect();
    config(&format!("[dispatch]\n{keys}\n{tables}"))
}

fn webhook(url: &str, rate: Option<u32>) -> String {
    let rate = rate.map(|r| format!("rate_per_minute = {r}\n")).unwrap_or_default();
    format!("kind = \"webhook\"\nurl = \"{url}\"\n{rate}")
}

fn drain(store: &Arc<Store>, config: &CanvasConfig) -> DispatchReport {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dispatcher = Dispatcher::new(store.clone(), config.dispatch.clone(), config.calendar()).unwrap();
    runtime.block_on(dispatcher.drain()).unwrap()
}

/// When each request of `channel` came, in order.
fn times(log: &[Request], channel: &str) -> Vec<Instant> {
    let mut times: Vec<Instant> = log.iter().filter(|r| r.channel == channel).map(|r| r.at).collect();
    times.sort();
    times
}

/// The most requests in any window `width` long.
fn most_in_any_window(times: &[Instant], width: Duration) -> usize {
    (0..times.len()).map(|i| times[i..].iter().take_while(|&&t| t < times[i] + width).count()).max().unwrap_or(0)
}

#[test]
fn a_channel_never_delivers_more_than_its_rate_in_any_window() {
    let receiver = Receiver::start(Mode::Accept);
    // 600 a minute: a turn every 100 ms, with no burst. 16 deliveries may
    // be in flight at once: they share the channel's turns.
    let config = dispatch_config("concurrency = 16", &[("sms", webhook(&receiver.url, Some(600)))]);
    let dir = TempDir::new().unwrap();
    let store = store_with_touches(&dir, &[touches("sms", 20, false)]);
    let report = drain(&store, &config);
    assert_eq!((report.delivered, report.dead, report.rate_limited), (20, 0, 0));

    let sms = receiver.with(|r| times(&r.log, "sms"));
    assert_eq!(sms.len(), 20);
    // Turns 100 ms apart put at most 10 in any second; one more is allowed
    // for a request that left on its turn and reached the receiver late.
    let most = most_in_any_window(&sms, Duration::from_secs(1));
    assert!(most <= 11, "{most} requests within a second at 600/min");
    // 20 turns take 1.9 s at least; one period allowed for a late first arrival.
    let span = *sms.last().unwrap() - sms[0];
    assert!(span >= Duration::from_millis(1_800), "20 requests at 600/min within {span:?}");
}

#[test]
fn a_429_pauses_its_channel_for_the_retry_after_while_the_others_go_on() {
    let wecom = Receiver::start(Mode::TooManyFirst { first: 1, retry_after: Some("2") });
    let sms = Receiver::start(Mode::Accept);
    // One delivery in flight at a time: the paused channel must not hold the only slot.
    let config = dispatch_config(
        "concurrency = 1\nmax_attempts = 3\nbackoff_initial_ms = 10\nbackoff_max_ms = 10000",
        &[("wecom", webhook(&wecom.url, None)), ("sms", webhook(&sms.url, None))],
    );
    let dir = TempDir::new().unwrap();
    let store = store_with_touches(&dir, &[touches("wecom", 3, false), touches("sms", 10, false)]);
    let report = drain(&store, &config);
    assert_eq!((report.delivered, report.rate_limited, report.dead, report.retried), (13, 1, 0, 0));

    let log = wecom.with(|r| r.log.clone());
    let refused = &log[0];
    assert_eq!((refused.status, log.len()), (429, 4), "{log:?}");
    for later in &log[1..] {
        // The dispatcher's clock counts whole milliseconds: 1 ms is allowed for that.
        let waited = later.at - refused.at;
        assert!(waited >= Duration::from_millis(1_999), "a wecom request {waited:?} after the 429: {log:?}");
        assert_eq!(later.status, 200);
    }
    let paused = refused.at..refused.at + Duration::from_secs(2);
    let meanwhile = sms.with(|r| r.log.iter().filter(|q| paused.contains(&q.at)).count());
    assert!(meanwhile >= 1, "sms went on while wecom waited");

    // Delivered once, and the 429 was not counted as an attempt.
    let (accepted, redeliveries) = wecom.with(|r| (r.accepted.len(), r.redeliveries));
    assert_eq!((accepted, redeliveries), (3, 0));
    let items = store.outbox_items(&Default::default(), None).unwrap();
    let item = items.iter().find(|i| i.key == refused.key).unwrap();
    assert_eq!((item.state, item.attempts), (OutboxState::Delivered, 1));
    assert!(items.iter().all(|i| i.state == OutboxState::Delivered));
}

#[test]
fn a_429_without_retry_after_waits_the_backoff_and_never_burns_the_touch() {
    let receiver = Receiver::start(Mode::TooManyFirst { first: 2, retry_after: None });
    // One attempt only: a 429 counted as a failed attempt would make it a dead letter.
    let config = dispatch_config(
        "max_attempts = 1\nbackoff_initial_ms = 200\nbackoff_max_ms = 1000",
        &[("wecom", webhook(&receiver.url, None))],
    );
    let dir = TempDir::new().unwrap();
    let store = store_with_touches(&dir, &[touches("wecom", 1, false)]);
    let report = drain(&store, &config);
    assert_eq!((report.delivered, report.rate_limited, report.dead), (1, 2, 0));
    let log = receiver.with(|r| r.log.clone());
    assert_eq!(log.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 429, 200]);
    for pair in log.windows(2) {
        // The first backoff, 200 ms, drawn between half and all of it.
        assert!(pair[1].at - pair[0].at >= Duration::from_millis(100), "{log:?}");
    }
    let item = store.outbox_items(&Default::default(), None).unwrap().remove(0);
    assert_eq!((item.state, item.attempts), (OutboxState::Delivered, 1));
}

#[test]
fn a_rate_of_zero_is_refused_naming_the_key() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("canvas.toml");
    std::fs::write(&file, "[dispatch.channels.sms]\nkind = \"file\"\npath = \"sms.jsonl\"\nrate_per_minute = 0\n")
        .unwrap();
    let output = canvas().arg("--config").arg(&file).args(["dispatch", "--store"]).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("dispatch.channels.sms.rate_per_minute must be at least 1"), "{error}");
    assert!(error.contains("canvas.toml"), "the file is named: {error}");
}

/// The service keeps each channel's budget for its whole life: at 40 a
/// minute a turn comes every 1.5 s, longer than a pass, so the service's
/// passes (every 100 ms) find the channel throttled again and again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_holds_a_channel_to_its_rate_across_its_passes() {
    let receiver = Receiver::start(Mode::Accept);
    let dir = TempDir::new().unwrap();
    let channel = format!("[dispatch.channels.sms]\n{}", webhook(&receiver.url, Some(40)));
    let config = crate::service::service_config(&dir, "", &channel);
    let store = store_with_touches(&dir, &[touches("sms", 4, false)]);
    let s = start_at(config, store, "2026-03-01T08:00:00+08:00", 1.0).await;
    s.eventually("four sms delivered", async |_| receiver.with(|r| r.accepted.len() == 4)).await;
    let sms = receiver.with(|r| times(&r.log, "sms"));
    for pair in sms.windows(2) {
        // 1.5 s apart; 100 ms allowed for a request that left on its turn and arrived late.
        assert!(pair[1] - pair[0] >= Duration::from_millis(1_400), "{sms:?}");
    }
    s.service.shutdown().await.unwrap();
}

/// `canvas ARGS --config CONFIG`: exit code, stdout, stderr.
fn cli(config: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = canvas().args(args).arg("--config").arg(config).env_remove("CANVAS_TOKEN").output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn the_backlog_per_channel_and_its_drain_time_read_the_same_from_the_store_and_the_service() {
    let dir = TempDir::new().unwrap();
    let batches = [
        touches("wecom", 12_400, false),
        touches("wecom", 3, true),
        touches("sms", 30, false),
        touches("app", 5, false),
    ];
    drop(store_with_touches(&dir, &batches));
    let file = dir.path().join("canvas.toml");
    // wecom at WeCom's own limit (unset), sms at 120 a minute, app unlimited.
    // The service delivers nothing while the test looks: its first pass is an hour away.
    let path = |name: &str| dir.path().join(name).display().to_string();
    let text = format!(
        "store = {:?}\n[serve]\ntoken = \"{TOKEN}\"\ndispatch_interval_ms = 3600000\nshutdown_flush_ms = 0\n\
         [dispatch.channels.wecom]\nkind = \"file\"\npath = {:?}\n\
         [dispatch.channels.\"*\"]\nkind = \"file\"\npath = {:?}\n\
         [dispatch.channels.sms]\nkind = \"file\"\npath = {:?}\nrate_per_minute = 120\n",
        path("store"),
        path("wecom.jsonl"),
        path("other.jsonl"),
        path("sms.jsonl"),
    );
    std::fs::write(&file, text).unwrap();

    let (code, table, err) = cli(&file, &["outbox", "status"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        table,
        "app    5 due, 0 later, no rate limit: drains at the receiver's pace\n\
         sms    30 due, 0 later, drains in ~15 s at 120/min\n\
         wecom  12400 due, 3 later, drains in ~1 min 15 s at 10000/min\n"
    );
    let (code, json, _) = cli(&file, &["outbox", "status", "--format", "json"]);
    assert_eq!(code, Some(0));
    let backlog: Value = serde_json::from_str(&json).unwrap();
    let wecom = &backlog[2];
    assert_eq!(
        (wecom["channel"].as_str(), wecom["due"].as_u64(), wecom["later"].as_u64()),
        (Some("wecom"), Some(12_400), Some(3))
    );
    assert_eq!((wecom["rate_per_minute"].as_u64(), wecom["drains_in_seconds"].as_u64()), (Some(10_000), Some(75)));
    assert!(backlog[0]["rate_per_minute"].is_null() && backlog[0]["drains_in_seconds"].is_null(), "{json}");

    let mut served = Served::start_with(&file, &[]);
    let (code, through_service, err) = cli(&file, &["outbox", "status"]);
    assert_eq!((code, through_service.as_str()), (Some(0), table.as_str()), "{err}");
    assert!(err.contains("through its API"), "{err}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer: Value = runtime.block_on(async {
        let url = format!("http://{}/api/v1/outbox/status", served.addr);
        reqwest::Client::new().get(url).bearer_auth(TOKEN).send().await.unwrap().json().await.unwrap()
    });
    assert_eq!(answer, backlog, "the API gives the same numbers");
    served.terminate();
    assert!(served.exits_within(Duration::from_secs(30)).success());
}
