//! Event kinds no strategy reads stay in the store: a run's member base
//! keeps the kinds the host and its strategies read, decides exactly as a
//! base with every event, and is read again when a strategy comes to read
//! another kind — in `canvas serve` too, where a plugin's config can change
//! between passes.

use std::time::Duration;

use canvas::app::{App, KindsWanted, PluginSource, Selection, SNAPSHOT_FILE};
use canvas::member_base::{snapshot, KeptKinds, MemberBase};
use canvas::model::{Millis, RunTrigger};
use canvas::store::{RecordsMark, Store};
use canvas::strategy::{kept_kinds, Strategy};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;

fn events_held(base: &MemberBase) -> usize {
    (0..base.len() as u32).map(|m| base.events_as_of(m, Millis::MAX).len()).sum()
}

/// Three daily runs of `strategies` on `store`, each with the base `base_of` gives.
fn three_days(app: &App, store: &Store, strategies: &[Strategy], base_of: &dyn Fn() -> MemberBase) -> Vec<String> {
    for day in 1..=3 {
        let at = canvas::calendar::parse_instant(&format!("2026-10-0{day}T10:00:00+08:00")).unwrap();
        let mut runner = app.runner(app.runner_state(base_of(), store).unwrap(), store, true);
        app.run_at(&mut runner, strategies, at, RunTrigger::Manual, Selection::Every, &mut |_| {}).unwrap();
    }
    let mut all: Vec<String> = store.decisions().unwrap().iter().map(|d| serde_json::to_string(d).unwrap()).collect();
    all.sort();
    all
}

#[test]
fn a_base_with_only_the_kinds_read_decides_as_one_with_every_event_and_is_read_again_for_a_new_kind() {
    let work = TempDir::new().unwrap();
    let data = generate(&work.path().join("data"), 3000, 9);
    let (kept_path, every_path) = (work.path().join("kept"), work.path().join("every"));
    import_into(&kept_path, &data);
    import_into(&every_path, &data);
    let app = App::new(cached_config()).unwrap();
    let strategies =
        app.strategies(PluginSource::Folder(&repo_root().join("target/plugins")), None).unwrap().strategies;
    let kinds = kept_kinds(&strategies);
    let (kept, every) = (Store::open(&kept_path).unwrap(), Store::open(&every_path).unwrap());

    let all_events = every.dataset().unwrap().events;
    assert!(all_events.iter().any(|e| e.kind == "product_view"), "the data has page views");
    assert!(!kinds.keeps("product_view") && !kinds.keeps("mini_program_visit"), "no shipped strategy reads them");
    let base = app.stored_member_base(&kept, KindsWanted::Run(&kinds)).unwrap();
    assert_eq!(base.kept(), &kinds);
    let read = all_events.iter().filter(|e| kinds.keeps(&e.kind)).count();
    assert_eq!(events_held(&base), read, "every event of a kept kind, and no other");
    assert!(read < all_events.len() / 2, "most events stay on disk: {read} of {}", all_events.len());
    drop(base);

    let from_kept =
        three_days(&app, &kept, &strategies, &|| app.stored_member_base(&kept, KindsWanted::Run(&kinds)).unwrap());
    let with_every = three_days(&app, &every, &strategies, &|| app.member_base(every.dataset().unwrap()));
    assert!(from_kept.len() > 1_000, "the runs decided something: {}", from_kept.len());
    assert!(from_kept == with_every, "every decision of the three days is the same");

    // A strategy that comes to read page views: the snapshot lacks them, the
    // store is read again and the snapshot keeps them from then on.
    let file = kept_path.join(SNAPSHOT_FILE);
    let saved_kinds = || snapshot::saved_mark::<RecordsMark>(&file).map(|(_, kinds)| kinds);
    assert_eq!(saved_kinds(), Some(kinds.clone()));
    let wider = kinds.clone().with(["product_view"]);
    let base = app.stored_member_base(&kept, KindsWanted::Run(&wider)).unwrap();
    assert_eq!(events_held(&base), all_events.iter().filter(|e| wider.keeps(&e.kind)).count());
    assert_eq!(saved_kinds(), Some(wider.clone()));
    drop(base);
    // Fewer wanted: the wider snapshot serves as it is, results' needs too.
    let saved = std::fs::read(&file).unwrap();
    let base = app.stored_member_base(&kept, KindsWanted::Run(&kinds)).unwrap();
    assert_eq!(base.kept(), &wider);
    let results = app.stored_member_base(&kept, KindsWanted::AtLeast(&KeptKinds::host())).unwrap();
    assert_eq!(results.kept(), &wider);
    assert_eq!(std::fs::read(&file).unwrap(), saved, "read, not rebuilt");
}

/// The firings' cancel condition reads a kind the service's warm base did
/// not keep until the plugin's config named it: the next pass reads the
/// base again, and a visit ingested meanwhile calls the firing off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_a_reconfigured_plugin_reads_is_read_into_the_services_base_before_it_decides() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered"), test_plugin("trigger-echo")]);
    let echo =
        "[strategies.trigger-echo]\nconfig = { kind = \"coupon_issued\", delay_minutes = 60, channel = \"wecom\" }\n";
    let s = start_at(service_config(&dir, "", echo), store, "2026-03-01T09:00:00+08:00", 600.0).await;
    // A run loads the warm base: the kinds its strategies read, no visits.
    let (status, ran) = s.post("/api/v1/runs", json!({ "at": "2026-03-01T10:00:00+08:00" }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    let (_, kinds) = snapshot::saved_mark::<RecordsMark>(&s.store.path().join(SNAPSHOT_FILE)).expect("saved");
    assert!(!kinds.keeps("mini_program_visit"), "{kinds}");

    let unless_visit = json!({ "unless_kind": "mini_program_visit" });
    let (status, answer) = s.put("/api/v1/plugins/trigger-echo/config", unless_visit).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let event = |id: &str, member: &str, kind: &str, at: &str| json!({ "event_id": id, "member_id": member, "kind": kind, "at": at, "attrs": { "coupon_id": id } });
    let events = json!([
        event("E1", "M1", "coupon_issued", "2026-03-01T09:00:00+08:00"),
        event("E2", "M2", "coupon_issued", "2026-03-01T09:00:00+08:00"),
        event("V2", "M2", "mini_program_visit", "2026-03-01T09:05:00+08:00"),
    ]);
    let (status, ingested) = s.post("/api/v1/events", events.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ingested}");
    s.eventually("both firings are done", async |s| s.store.firings_waiting().unwrap().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let path = dir.path().join("touches.jsonl");
    // (The birthday run's own coupons fire it too: those are not asked about.)
    let ours = |t: &Value| {
        t["strategy"] == "trigger-echo" && ["E1", "E2"].contains(&t["variables"]["event_id"].as_str().unwrap())
    };
    let echoed: Vec<Value> = read_jsonl(&path).into_iter().filter(ours).collect();
    let members: Vec<&Value> = echoed.iter().map(|t| &t["member_id"]).collect();
    assert_eq!(members, [&json!("M1")], "M2's visit after the coupon called theirs off: {echoed:?}");
    s.service.shutdown().await.unwrap();
}

/// A runner whose base was read without a kind a plugin names (the plugin
/// named others when set up, or was given another base): that plugin's
/// part fails, saying which kinds; the other strategies run as ever.
#[test]
fn a_plugin_naming_a_kind_the_base_lacks_fails_its_own_part_saying_which() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    let plugins = plugin_dir(&[plugin("birthday-tiered"), test_plugin("trigger-echo")]);
    let echo = "[governance]\nholdout_percent = 0\n[strategies.trigger-echo]\n\
                config = { kind = \"coupon_issued\", unless_kind = \"product_view\" }\n";
    let app = App::new(config(echo)).unwrap();
    let strategies = app.strategies(PluginSource::Folder(plugins.path()), None).unwrap().strategies;
    assert!(kept_kinds(&strategies).keeps("product_view"), "its cancel condition names it");

    let base = app.stored_member_base(&store, KindsWanted::Run(&KeptKinds::host())).unwrap();
    let mut runner = app.runner(app.runner_state(base, &store).unwrap(), &store, true);
    let at = canvas::calendar::parse_instant("2026-03-01T10:00:00+08:00").unwrap();
    let records = app.run_at(&mut runner, &strategies, at, RunTrigger::Manual, Selection::Every, &mut |_| {}).unwrap();
    let outcome = |id: &str| records.iter().find(|r| r.strategy == id).map(|r| r.outcome.clone()).unwrap();
    match outcome("trigger-echo") {
        canvas::model::RunOutcome::Failed { error } => {
            assert!(error.contains("trigger-echo") && error.contains("product_view"), "{error}")
        }
        completed => panic!("trigger-echo ran on a base without its kind: {completed:?}"),
    }
    assert_eq!(outcome("birthday-tiered"), canvas::model::RunOutcome::Completed);
    assert!(store.decisions().unwrap().iter().any(|d| d.strategy == "birthday-tiered"), "its touches were decided");
}
