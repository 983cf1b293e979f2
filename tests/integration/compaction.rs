//! `canvas compact`: decisions older than the days kept go to an export
//! file and leave the store, but each member's latest of a strategy, step
//! and status — and the runs after it decide exactly as on a store that
//! kept everything. Runs and results that would reach what left are refused.

use std::collections::BTreeSet;
use std::path::Path;

use canvas::app::{App, PluginSource, Selection};
use canvas::calendar::parse_instant;
use canvas::model::RunTrigger;
use canvas::store::Store;
use tempfile::TempDir;

use crate::support::*;

const FIRST_RUN: &str = "2026-07-01";
const COMPACTED_AT: &str = "2026-09-30T10:00:00+08:00";

fn run_days(app: &App, store_path: &Path, from: &str, days: i64) {
    let store = Store::open(store_path).unwrap();
    let strategies =
        app.strategies(PluginSource::Folder(&repo_root().join("target/plugins")), None).unwrap().strategies;
    // Recorded, not queued: a touch still pending keeps its page (and so
    // its neighbours) in the store, and nothing delivers these.
    let mut runner = app.runner(app.stored_runner_state(&store, &strategies).unwrap(), &store, false);
    for day in 0..days {
        let date = date(from) + chrono::Duration::days(day);
        let at = parse_instant(&format!("{date}T10:00:00+08:00")).unwrap();
        app.run_at(&mut runner, &strategies, at, RunTrigger::Manual, Selection::Due, &mut |_| {}).unwrap();
    }
}

fn decisions(store_path: &Path) -> Vec<String> {
    let store = Store::open(store_path).unwrap();
    store.decisions().unwrap().iter().map(|d| serde_json::to_string(d).unwrap()).collect()
}

fn canvas_ok(args: &[&str], store: &Path) -> String {
    let output = canvas().args(args).arg("--store").arg(store).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "canvas {args:?}: {stderr}");
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn canvas_refused(args: &[&str], store: &Path) -> String {
    let output = canvas().args(args).arg("--store").arg(store).output().unwrap();
    assert!(!output.status.success(), "canvas {args:?} should be refused");
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn compacting_exports_the_old_decisions_keeps_the_latest_of_each_kind_and_later_runs_decide_the_same() {
    let work = TempDir::new().unwrap();
    let data = generate(&work.path().join("data"), 3000, 9);
    let (compacted, whole) = (work.path().join("compacted"), work.path().join("whole"));
    for store in [&compacted, &whole] {
        import_into(store, &data);
    }
    let app = App::new(cached_config()).unwrap();
    // A quarter of daily service on both stores.
    run_days(&app, &compacted, FIRST_RUN, 91);
    run_days(&app, &whole, FIRST_RUN, 91);
    let before = decisions(&whole);
    assert_eq!(decisions(&compacted), before);

    let plugins = repo_root().join("target/plugins");
    let plugins = plugins.to_str().unwrap();
    let export = work.path().join("old-decisions.jsonl");
    let export_arg = export.to_str().unwrap();
    let compact = ["compact", "--at", COMPACTED_AT, "--plugins", plugins, "--export", export_arg];

    // Too few days for the caps' windows (and the service's catch-up): refused, nothing changed.
    let refused = canvas_refused(&[&compact[..], &["--keep-days", "20"]].concat(), &compacted);
    assert!(refused.contains("keep at least") && refused.contains("governance."), "{refused}");
    assert!(!export.exists());
    assert_eq!(decisions(&compacted), before);

    assert!(refused.contains("keep at least 41 days"), "the caps' 31 days with 2 of deferral, and 7 of catch-up");
    // By default the fewest days allowed.
    let said = canvas_ok(&compact, &compacted);
    assert!(said.contains("compacted the decisions before 2026-08-20"), "{said}");

    // Every decision is either still in the store or in the export, never both.
    let exported = read_jsonl(&export);
    let kept = decisions(&compacted);
    assert!(exported.len() > 500, "a quarter's old decisions left the store: {}", exported.len());
    assert_eq!(exported.len() + kept.len(), before.len());
    let kept_keys: BTreeSet<String> =
        Store::open(&compacted).unwrap().decisions().unwrap().into_iter().map(|d| d.key).collect();
    let cutoff = canvas::calendar::day_number(date("2026-08-20"));
    for line in &exported {
        let key = line["key"].as_str().unwrap();
        assert!(!kept_keys.contains(key), "{key} is both exported and kept");
        assert!(line["day"].as_i64().unwrap() < i64::from(cutoff), "{key} is from a kept day");
        assert!(line["plugin_sha256"].as_str().is_some_and(|s| s.len() == 64), "{line}");
    }
    // The latest of each kind before the cutoff stays: a member decided so is still seen as decided so.
    let store = Store::open(&compacted).unwrap();
    let kinds_kept: BTreeSet<String> = store
        .decisions()
        .unwrap()
        .iter()
        .map(|d| format!("{}/{}/{}/{}", d.strategy, d.member_id, d.step, serde_json::to_value(d.status).unwrap()))
        .collect();
    assert!(store.decisions().unwrap().iter().any(|d| d.day < cutoff), "the latest before the cutoff stays");
    for line in &exported {
        let kind = ["strategy", "member_id", "step"].map(|k| line[k].as_str().unwrap()).join("/");
        let kind = format!("{kind}/{}", line["status"]);
        assert!(kinds_kept.contains(&kind), "{kind}: no decision of its kind kept");
    }
    drop(store);

    // Two more weeks on both: the compacted store decides exactly as the whole one.
    run_days(&app, &compacted, "2026-09-30", 14);
    run_days(&app, &whole, "2026-09-30", 14);
    let before: std::collections::HashSet<String> = before.into_iter().collect();
    let later = |all: Vec<String>| all.into_iter().filter(|d| !before.contains(d)).collect::<Vec<_>>();
    let (from_compacted, from_whole) = (later(decisions(&compacted)), later(decisions(&whole)));
    assert!(from_whole.len() > 500, "the two weeks decided something: {}", from_whole.len());
    assert!(from_compacted == from_whole, "every decision after the compaction is the same");

    // What would reach the removed decisions is refused, naming the export.
    let run_at = ["run", "--no-dispatch", "--plugins", plugins, "--at", "2026-09-10T10:00:00+08:00"];
    let refused = canvas_refused(&run_at, &compacted);
    assert!(refused.contains("were compacted") && refused.contains("old-decisions.jsonl"), "{refused}");
    let refused = canvas_refused(&["results", "--from", "2026-08-01", "--to", "2026-08-31"], &compacted);
    assert!(refused.contains("results from 2026-08-01 would miss them"), "{refused}");
    canvas_ok(&["results", "--from", "2026-08-20", "--to", "2026-09-15"], &compacted);
    // An export is never overwritten.
    let refused = canvas_refused(&compact, &compacted);
    assert!(refused.contains("exists already"), "{refused}");
    let audit = canvas_ok(&["audit"], &compacted);
    assert!(audit.contains("compact") && audit.contains("2026-08-20"), "{audit}");
}

/// With `[serve] compact_export_dir`, the service compacts after a scheduled
/// run, as `canvas compact` would by default, and goes on from its
/// decisions read again: the next runs work on the compacted store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_compacts_after_a_scheduled_run_into_its_export_folder() {
    use reqwest::StatusCode;
    use serde_json::json;

    use crate::service::*;

    let dir = TempDir::new().unwrap();
    let data = generate(&dir.path().join("data"), 2000, 4);
    let store = Store::open(&dir.path().join("store")).unwrap();
    store.import(&canvas::import::read_dir(&data).unwrap()).unwrap();
    install(&store, &["dormant-recall", "group-buy-referral", "first-purchase-nudge"].map(plugin));
    let exports = dir.path().join("exports");
    let serve = format!("catch_up = false\ncompact_export_dir = \"{}\"", exports.display());
    let config = service_config(&dir, &serve, "");
    // Four months of daily runs before the service starts (recorded, not queued, as above).
    let app = App::new(config.clone()).unwrap();
    let strategies = app.strategies(PluginSource::Installed(&store), None).unwrap().strategies;
    let mut runner = app.runner(app.stored_runner_state(&store, &strategies).unwrap(), &store, false);
    for day in 0..122 {
        let at = parse_instant(&format!("{}T10:00:00+08:00", date("2026-06-01") + chrono::Duration::days(day)));
        app.run_at(&mut runner, &strategies, at.unwrap(), RunTrigger::Manual, Selection::Due, &mut |_| {}).unwrap();
    }
    drop(runner);
    let held = store.decisions().unwrap().len();

    let s = start_at(config, std::sync::Arc::new(store), "2026-10-01T09:59:58+08:00", 1.0).await;
    let export = exports.join("decisions-before-2026-08-21.jsonl");
    s.eventually("the scheduled run compacts", async |s| s.store.compaction().unwrap().is_some() && export.exists())
        .await;
    let done = s.store.compaction().unwrap().unwrap();
    let exported = read_jsonl(&export);
    assert!(done.removed > 0 && exported.len() as u64 == done.removed, "{done:?}");
    let (status, audit) = s.get("/api/v1/audit").await;
    assert_eq!(status, StatusCode::OK);
    let entry = &audit.as_array().unwrap()[0];
    assert_eq!((entry["actor"].as_str(), entry["action"].as_str()), (Some("canvas serve"), Some("compact")), "{audit}");
    let kept: BTreeSet<String> = s.store.decisions().unwrap().into_iter().map(|d| d.key).collect();
    assert!(exported.iter().all(|line| !kept.contains(line["key"].as_str().unwrap())), "exported, then removed");
    assert!(kept.len() < held, "the old decisions left the store: {} of {held}", kept.len());
    let next = json!({ "at": "2026-10-02T10:00:00+08:00", "force": true });
    let (status, ran) = s.post("/api/v1/runs", next.to_string()).await;
    assert_eq!(status, StatusCode::OK, "the next run goes on from the compacted decisions: {ran}");
    let (status, refused) =
        s.post("/api/v1/runs", json!({ "at": "2026-09-01T10:00:00+08:00", "force": true }).to_string()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    s.service.shutdown().await.unwrap();
}
