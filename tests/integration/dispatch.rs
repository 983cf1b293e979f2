//! Reliable dispatch: the outbox delivers each decided touch with its
//! idempotency key, retries a failing receiver with backoff, dead-letters
//! what it cannot deliver (visible, re-drivable), and never creates a second
//! touch — not on a re-run, not after SIGKILL at any point.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use canvas::app::{App, PluginSource, Selection};
use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::decision_line::decision_json;
use canvas::dispatch::{DispatchReport, Dispatcher, Sink, SinkConfig};
use canvas::model::DecisionStatus;
use canvas::store::{OutboxItem, OutboxState, Queue, Store};
use tempfile::TempDir;

use crate::receiver::{Mode, Receiver};
use crate::support::*;

const MARCH_FIRST: &str = "2026-03-01T10:00:00+08:00";

fn five_birthdays() -> Data {
    (1..=5).fold(Data::new(), |data, i| data.member(&format!("M{i}"), 1, "1990-03-14"))
}

fn webhook_config(url: &str) -> CanvasConfig {
    webhook_config_with(url, 1_000, 3)
}

fn webhook_config_with(url: &str, timeout_ms: u64, max_attempts: u32) -> CanvasConfig {
    config(&format!(
        "[governance]\nholdout_percent = 0\n\
         [dispatch]\nmax_attempts = {max_attempts}\nbackoff_initial_ms = 10\nbackoff_max_ms = 40\ntimeout_ms = {timeout_ms}\n\
         [dispatch.channels.\"*\"]\nkind = \"webhook\"\nurl = \"{url}\"\n"
    ))
}

/// A store with `data` imported.
fn store_with(data: &Data) -> (TempDir, Arc<Store>) {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let csv = data.write();
    store.import(&canvas::import::read_dir(csv.path()).unwrap()).unwrap();
    (dir, Arc::new(store))
}

/// One real run of birthday-tiered at `at`, queueing its touches.
fn run(store: &Store, config: &CanvasConfig, at: &str) {
    let plugins = plugin_dir(&[plugin("birthday-tiered")]);
    let app = App::new(config.clone()).unwrap();
    let loaded = app.strategies(PluginSource::Folder(plugins.path()), None).unwrap();
    let mut runner = app.runner(app.stored_runner_state(store, &loaded.strategies).unwrap(), store, true);
    let (at, every) = (parse_instant(at).unwrap(), Selection::Every);
    app.run_at(&mut runner, &loaded.strategies, at, canvas::model::RunTrigger::Manual, every, &mut |_| {}).unwrap();
}

/// The five birthday decisions of a run in one store, and another store
/// with the same data and nothing recorded: for recording them by hand.
fn decided_elsewhere(config: &CanvasConfig) -> (Vec<canvas::model::Decision>, TempDir, Arc<Store>) {
    let (_decided_dir, decided) = store_with(&five_birthdays());
    run(&decided, config, MARCH_FIRST);
    let (dir, store) = store_with(&five_birthdays());
    (decided.decisions().unwrap(), dir, store)
}

fn dispatch(store: &Arc<Store>, config: &CanvasConfig) -> DispatchReport {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(async {
            Dispatcher::new(store.clone(), config.dispatch.clone(), config.calendar()).unwrap().drain().await
        })
        .unwrap()
}

#[test]
fn each_touch_reaches_the_webhook_once_with_its_idempotency_key() {
    let receiver = Receiver::start(Mode::Accept);
    let config = webhook_config(&receiver.url);
    let (_dir, store) = store_with(&five_birthdays());
    run(&store, &config, MARCH_FIRST);
    let report = dispatch(&store, &config);
    assert_eq!((report.delivered, report.retried, report.dead), (5, 0, 0));
    let keys: Vec<String> = receiver.with(|r| r.accepted.iter().map(|(k, _)| k.clone()).collect());
    assert_eq!(keys.len(), 5);
    assert!(keys.contains(&"birthday-tiered/birthday/2026-03-01/M1".to_string()), "{keys:?}");
    let body = receiver.with(|r| r.accepted[0].1.clone());
    assert_eq!(body["key"].as_str(), Some(keys[0].as_str()), "the body carries the key too");
    assert_eq!(body["benefit"]["value"], 20.0);

    // Running the same instant again, and a manual run later that day, decide and send nothing new.
    run(&store, &config, MARCH_FIRST);
    run(&store, &config, "2026-03-01T15:30:00+08:00");
    let again = dispatch(&store, &config);
    assert_eq!(again.delivered, 0);
    assert_eq!(receiver.with(|r| r.requests), 5);
}

#[test]
fn a_receiver_answering_500_is_retried_until_it_accepts() {
    let receiver = Receiver::start(Mode::FailFirst(2));
    let config = webhook_config(&receiver.url);
    let (_dir, store) = store_with(&five_birthdays());
    run(&store, &config, MARCH_FIRST);
    let report = dispatch(&store, &config);
    assert_eq!((report.delivered, report.retried, report.dead), (5, 10, 0));
    assert_eq!(receiver.with(|r| (r.requests, r.accepted.len())), (15, 5));
    let items = store.outbox_items(&config.calendar(), Some(OutboxState::Delivered)).unwrap();
    assert!(items.iter().all(|i| i.attempts == 3), "two failures, then delivered");
    // The failures were recorded as updates of each entry: what the retry
    // sent is still the whole touch, each body its own decision's line.
    for (key, body) in receiver.with(|r| r.accepted.clone()) {
        let decision = store.decision(&key).unwrap().unwrap();
        let line: serde_json::Value = serde_json::from_str(&decision_json(&config.calendar(), &decision)).unwrap();
        assert_eq!(body, line, "{key}");
        assert_eq!(body["member_id"].as_str(), Some(decision.member_id.as_str()));
    }
}

#[test]
fn decisions_recorded_out_of_member_order_each_queue_their_own_touch() {
    // The runner hands its decisions over in member order; recording sorts
    // any other order. Either way each decision to be sent is queued with
    // its own touch, and a decision not to be sent with none.
    let receiver = Receiver::start(Mode::Accept);
    let config = webhook_config(&receiver.url);
    let (mut decisions, _dir, store) = decided_elsewhere(&config);
    assert_eq!(decisions.len(), 5);
    for d in decisions.iter_mut().skip(1).step_by(2) {
        d.status = DecisionStatus::Suppressed;
        d.reason = Some("fatigue: 2 touches in 168h already".into());
    }
    decisions.reverse();
    store.record_decisions(&decisions, Queue::ToBeSent).unwrap();
    assert_eq!(store.decisions().unwrap().len(), 5, "every decision is recorded, queued or not");
    assert_eq!(dispatch(&store, &config).delivered, 3);
    let mut accepted = receiver.with(|r| r.accepted.clone());
    accepted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected: Vec<_> = decisions
        .iter()
        .filter(|d| d.status == DecisionStatus::Dispatched)
        .map(|d| (d.key.clone(), serde_json::from_str(&decision_json(&config.calendar(), d)).unwrap()))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(accepted, expected);
}

#[test]
fn a_receiver_that_is_down_leaves_dead_letters_that_can_be_redriven() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down_url = format!("http://{}/touches", closed.local_addr().unwrap());
    drop(closed);
    let config = webhook_config(&down_url);
    let (_dir, store) = store_with(&five_birthdays());
    run(&store, &config, MARCH_FIRST);
    let report = dispatch(&store, &config);
    assert_eq!((report.delivered, report.retried, report.dead), (0, 10, 5));
    let dead = store.outbox_items(&config.calendar(), Some(OutboxState::Dead)).unwrap();
    assert_eq!(dead.len(), 5);
    let error = dead[0].last_error.as_deref().unwrap();
    assert!(error.starts_with("after 3 attempt(s): cannot connect to"), "{error}");

    let receiver = Receiver::start(Mode::Accept);
    let fixed = webhook_config(&receiver.url);
    assert_eq!(store.redrive(&[], canvas::model::now_millis()).unwrap(), 5);
    let report = dispatch(&store, &fixed);
    assert_eq!(report.delivered, 5, "nothing was lost");
    assert_eq!(receiver.with(|r| r.accepted.len()), 5);
}

#[test]
fn a_slow_receiver_times_out_and_the_retry_is_not_a_second_touch() {
    let receiver = Receiver::start(Mode::Slow(Duration::from_millis(400)));
    let config = webhook_config_with(&receiver.url, 100, 2);
    let (_dir, store) = store_with(&five_birthdays());
    run(&store, &config, MARCH_FIRST);
    let report = dispatch(&store, &config);
    assert_eq!(report.dead, 5, "every attempt timed out");
    assert!(store.outbox_items(&config.calendar(), Some(OutboxState::Dead)).unwrap()[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("timed out"));
    receiver.set_mode(Mode::Accept);
    store.redrive(&[], canvas::model::now_millis()).unwrap();
    assert_eq!(dispatch(&store, &config).delivered, 5);
    let (accepted, redeliveries) = receiver.with(|r| (r.accepted.len(), r.redeliveries));
    assert_eq!(accepted, 5, "the receiver holds each touch once");
    assert!(redeliveries >= 5, "the timed-out attempts had reached it: {redeliveries}");
}

#[test]
fn a_refusing_receiver_dead_letters_at_once() {
    let receiver = Receiver::start(Mode::Fail(400));
    let config = webhook_config(&receiver.url);
    let (_dir, store) = store_with(&five_birthdays());
    run(&store, &config, MARCH_FIRST);
    let report = dispatch(&store, &config);
    assert_eq!((report.retried, report.dead), (0, 5));
    assert!(store.outbox_items(&config.calendar(), None).unwrap()[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("HTTP 400"));
}

#[test]
fn the_file_sink_writes_each_touch_once_across_restarts() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("out/touches.jsonl");
    let item = OutboxItem {
        key: "k/1".into(),
        channel: "wecom".into(),
        payload: r#"{"key":"k/1"}"#.into(),
        due_at: 0,
        state: OutboxState::Pending,
        attempts: 0,
        next_attempt_at: 0,
        last_error: None,
        delivered_at: None,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for _ in 0..2 {
        let sink = Sink::open(&SinkConfig::File { path: path.clone() }, Duration::from_secs(1)).unwrap();
        runtime.block_on(sink.deliver(&item));
        runtime.block_on(sink.deliver(&item));
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
}

#[test]
fn a_second_process_cannot_open_a_store_in_use() {
    let dir = TempDir::new().unwrap();
    let _store = Store::open(&dir.path().join("store")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_canvas"))
        .args(["dispatch", "--store"])
        .arg(dir.path().join("store"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is in use by another canvas process"));
}

/// SIGKILL the run-and-dispatch process at random points, many times, and
/// restart it each time. No decided touch may be lost, none may be accepted
/// twice, and no (strategy, step, period, member) may be decided twice.
#[test]
fn killed_at_random_points_nothing_is_lost_or_sent_twice() {
    let receiver = Receiver::start(Mode::Jitter(Duration::from_millis(6)));
    let work = TempDir::new().unwrap();
    let store = work.path().join("store");
    let config = work.path().join("canvas.toml");
    std::fs::write(
        &config,
        format!(
            "[dispatch]\nconcurrency = 2\nbackoff_initial_ms = 10\nbackoff_max_ms = 100\n\
             [dispatch.channels.\"*\"]\nkind = \"webhook\"\nurl = \"{}\"\n",
            receiver.url
        ),
    )
    .unwrap();
    let plugins = plugin_dir(&[
        plugin("birthday-tiered"),
        plugin("category-recommendation"),
        plugin("dormant-recall"),
        plugin("group-buy-referral"),
    ]);
    let canvas = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_canvas"));
        command.arg("--config").arg(&config).args(args).arg("--store").arg(&store);
        command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        command
    };
    let import = canvas(&["import", "--data", repo_root().join("sample-data").to_str().unwrap()]).status().unwrap();
    assert!(import.success());
    let run_args = ["run", "--at", "2026-09-01T10:00:00+08:00", "--plugins", plugins.path().to_str().unwrap()];

    let mut rng = 0x9e37_79b9_u64;
    let mut next = move |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound
    };
    let (mut kills, mut finished_early) = (0, 0);
    // Each kill lands at a random point of what a whole run takes now (as
    // the work left shrinks, so do the runs): within deciding, recording or
    // dispatching, whatever this machine's speed.
    let mut whole_run = Duration::from_millis(3_000);
    for _ in 0..20 {
        let started = Instant::now();
        let mut child = canvas(&run_args).spawn().unwrap();
        let deadline = started + whole_run.mul_f64(next(1_000) as f64 / 1_000.0);
        while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(2));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        } else {
            finished_early += 1;
            whole_run = started.elapsed();
        }
        child.wait().unwrap();
    }
    let last = canvas(&run_args).status().unwrap();
    assert!(last.success() || last.code() == Some(2), "the final run completes: {last:?}");

    let store = Store::open(&store).unwrap();
    let decisions = store.decisions().unwrap();
    let sent: HashSet<String> =
        decisions.iter().filter(|d| d.planned_send_at().is_some()).map(|d| d.key.clone()).collect();
    let (accepted, redeliveries, requests) = receiver.with(|r| (r.accepted.clone(), r.redeliveries, r.requests));
    let accepted_keys: HashSet<String> = accepted.iter().map(|(k, _)| k.clone()).collect();
    let logical: HashSet<(String, String, String, String)> = accepted
        .iter()
        .map(|(_, body)| {
            let field = |f: &str| body[f].as_str().unwrap_or_default().to_string();
            (field("strategy"), field("step"), field("date"), field("member_id"))
        })
        .collect();
    let lost = sent.difference(&accepted_keys).count();
    let duplicates = accepted.len() - logical.len();
    println!(
        "crash test: {kills} kills ({finished_early} runs finished before their kill), {} touches decided to send, \
         {} accepted, {requests} requests, {redeliveries} redeliveries of a key, {duplicates} duplicates, {lost} lost",
        sent.len(),
        accepted.len()
    );
    assert!(kills >= 5, "the test must actually interrupt runs: {kills}");
    assert!(sent.len() > 500, "{}", sent.len());
    assert_eq!(lost, 0, "every decided touch was delivered");
    assert_eq!(duplicates, 0, "no touch was accepted twice under different keys");
    assert_eq!(accepted.len(), accepted_keys.len());
    let unsent: HashSet<&String> = accepted_keys.iter().filter(|k| !sent.contains(*k)).collect();
    assert!(unsent.is_empty(), "only decided touches were sent: {unsent:?}");
    let undelivered = store.outbox_items(&Default::default(), Some(OutboxState::Pending)).unwrap().len()
        + store.outbox_items(&Default::default(), Some(OutboxState::Dead)).unwrap().len();
    assert_eq!(undelivered, 0);
    assert!(Path::new(&work.path().join("store")).exists());
}
