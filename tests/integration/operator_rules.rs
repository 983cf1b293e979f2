//! What runs, when, and with which plugin — the same in `canvas run`, the
//! service's run-now and `canvas plugin list` (docs/operations.md, "What
//! runs, and when: the rules"). Each test is a case an operator hit.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest;
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;
use canvas::store::{OutboxState, Store};

const MARCH_1: &str = "2026-03-01T10:00:00+08:00";
const MARCH_15: &str = "2026-03-15T10:00:00+08:00";

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn canvas_on(store: &Path, config: &str, args: &[&str]) -> Output {
    let config_file = store.with_file_name("canvas.toml");
    std::fs::write(&config_file, config).unwrap();
    canvas().args(args).arg("--store").arg(store).arg("--config").arg(&config_file).output().unwrap()
}

fn runs_in(store: &Path) -> Vec<(String, i64)> {
    let store = Store::open(store).unwrap();
    store.runs().unwrap().iter().map(|r| (r.strategy.clone(), r.run_at)).collect()
}

#[test]
fn canvas_run_on_a_store_with_nothing_installed_refuses_instead_of_running_every_built_plugin() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &[]);
    let run = canvas_on(&store, "", &["run", "--at", MARCH_1, "--no-dispatch"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(text(&run).contains("no plugin is installed in this store"), "{}", text(&run));
    assert!(runs_in(&store).is_empty(), "nothing ran");

    // A folder runs only when asked for, and says it is development mode.
    let folder = plugin_dir(&[plugin("birthday-tiered")]);
    let dev =
        canvas_on(&store, "", &["run", "--at", MARCH_1, "--no-dispatch", "--plugins", folder.path().to_str().unwrap()]);
    assert!(dev.status.success(), "{}", text(&dev));
    assert!(text(&dev).contains("development mode"), "{}", text(&dev));
}

#[test]
fn enabled_false_in_canvas_toml_switches_an_installed_enabled_strategy_off_in_run_and_plugin_list() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &["birthday-tiered", "dormant-recall"]);
    let off = "[strategies.dormant-recall]\nenabled = false\n";

    let run = canvas_on(&store, off, &["run", "--at", MARCH_1, "--no-dispatch"]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("ran birthday-tiered at"), "{}", text(&run));
    assert_eq!(
        runs_in(&store).iter().filter(|(s, _)| s == "dormant-recall").count(),
        0,
        "switched off: it did not run"
    );

    let named = canvas_on(&store, off, &["run", "--at", MARCH_1, "--no-dispatch", "--strategies", "dormant-recall"]);
    assert_eq!(named.status.code(), Some(1), "{}", text(&named));
    assert!(text(&named).contains("`dormant-recall` is switched off in canvas.toml"), "{}", text(&named));

    let list = canvas_on(&store, off, &["plugin", "list"]);
    let line = |id: &str| text(&list).lines().find(|l| l.starts_with(id)).unwrap_or_default().to_string();
    assert!(line("dormant-recall").contains("off (toml)"), "{}", text(&list));
    assert!(line("birthday-tiered").contains(" yes "), "{}", text(&list));
}

#[test]
fn named_strategies_must_exist_run_and_be_due_unless_forced_and_far_futures_are_refused() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &["birthday-tiered"]);

    let typo = canvas_on(&store, "", &["run", "--at", MARCH_1, "--no-dispatch", "--strategies", "birthday-tierd"]);
    assert_eq!(typo.status.code(), Some(1), "{}", text(&typo));
    assert!(
        text(&typo).contains("no plugin has the id `birthday-tierd`; there are: birthday-tiered"),
        "{}",
        text(&typo)
    );

    let not_due = canvas_on(&store, "", &["run", "--at", MARCH_15, "--no-dispatch", "--strategies", "birthday-tiered"]);
    assert_eq!(not_due.status.code(), Some(1), "{}", text(&not_due));
    assert!(text(&not_due).contains("not due at 2026-03-15T10:00:00+08:00: `birthday-tiered` runs at `0 10 1 * *`"));
    assert!(runs_in(&store).is_empty(), "nothing ran");

    let forced = canvas_on(
        &store,
        "",
        &["run", "--at", MARCH_15, "--no-dispatch", "--strategies", "birthday-tiered", "--force"],
    );
    assert!(forced.status.success(), "{}", text(&forced));
    assert!(text(&forced).contains("ran birthday-tiered at 2026-03-15"), "{}", text(&forced));

    let far = canvas_on(&store, "", &["run", "--at", "2030-03-01T10:00:00+08:00", "--no-dispatch"]);
    assert_eq!(far.status.code(), Some(1), "{}", text(&far));
    assert!(text(&far).contains("ahead of the clock"), "{}", text(&far));
    assert!(text(&far).contains("[run] max_ahead_hours = 24"), "{}", text(&far));
    assert_eq!(runs_in(&store).len(), 1, "only the forced run is in the history");
}

#[test]
fn a_runs_queued_touches_can_be_cancelled_and_are_then_never_sent() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &["birthday-tiered"]);
    let touches = dir.path().join("touches.jsonl");
    let config = format!(
        "[governance]\nholdout_percent = 0\n[dispatch.channels.\"*\"]\nkind = \"file\"\npath = {:?}\n",
        touches.display().to_string()
    );
    let run = canvas_on(&store, &config, &["run", "--at", MARCH_1, "--no-dispatch"]);
    assert!(run.status.success(), "{}", text(&run));

    let cancel =
        canvas_on(&store, &config, &["outbox", "cancel", "--strategy", "birthday-tiered", "--run-at", MARCH_1]);
    assert!(cancel.status.success(), "{}", text(&cancel));
    assert!(text(&cancel).contains("2 touches of birthday-tiered's run"), "{}", text(&cancel));

    let dispatch = canvas_on(&store, &config, &["dispatch"]);
    assert!(dispatch.status.success(), "{}", text(&dispatch));
    assert!(!touches.exists() || std::fs::read_to_string(&touches).unwrap().is_empty(), "nothing was sent");
    let list = canvas_on(&store, &config, &["outbox", "list", "--state", "cancelled"]);
    assert!(text(&list).contains("2 entries"), "{}", text(&list));
    assert!(text(&list).contains("cancelled by cli:"), "{}", text(&list));
}

#[test]
fn builds_are_known_by_content_other_bytes_under_a_version_are_refused_and_runs_and_decisions_name_theirs() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &["birthday-tiered"]);
    // The same component with a custom section appended: valid, same
    // manifest and version, other bytes.
    let mut bytes = std::fs::read(plugin("birthday-tiered")).unwrap();
    bytes.extend_from_slice(&[0x00, 0x05, 0x04, b'n', b'o', b't', b'e']);
    let changed = dir.path().join("birthday-tiered.wasm");
    std::fs::write(&changed, bytes).unwrap();
    let install = canvas_on(&store, "", &["plugin", "install", changed.to_str().unwrap()]);
    assert_eq!(install.status.code(), Some(1), "{}", text(&install));
    assert!(text(&install).contains("is installed already as another build"), "{}", text(&install));
    assert!(text(&install).contains("give the changed plugin a new version"), "{}", text(&install));

    // Every run and decision names the build that made it.
    let installed: String = sha2::Sha256::digest(std::fs::read(plugin("birthday-tiered")).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let run = canvas_on(&store, "", &["run", "--at", MARCH_1, "--no-dispatch"]);
    assert!(run.status.success(), "{}", text(&run));
    let runs = canvas_on(&store, "", &["runs", "--format", "json"]);
    let line: Value = serde_json::from_str(String::from_utf8_lossy(&runs.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(line["plugin_sha256"], installed.as_str(), "{line}");
    let opened = Store::open(&store).unwrap();
    let decided = opened.decisions_of_member("M1").unwrap();
    assert!(!decided.is_empty());
    assert!(decided.iter().all(|d| *d.plugin_sha256 == installed), "{decided:?}");
    let line: Value =
        serde_json::from_str(&canvas::decision_line::decision_json(&Default::default(), &decided[0])).unwrap();
    assert_eq!(line["plugin_sha256"], installed.as_str(), "decisions.jsonl and the sinks say so too");
}

#[test]
fn printing_into_a_closed_pipe_ends_quietly() {
    let dir = TempDir::new().unwrap();
    let mut data = Data::new();
    for i in 0..2_000 {
        data = data.member(&format!("M{i:05}"), 1, "1990-03-14");
    }
    let store = installed_store(&dir, &data, &["birthday-tiered"]);
    let run = canvas_on(&store, "[governance]\nholdout_percent = 0\n", &["run", "--at", MARCH_1, "--no-dispatch"]);
    assert!(run.status.success(), "{}", text(&run));

    // `canvas outbox list | head -1`: the reader goes away after one line.
    let mut list = Command::new(env!("CARGO_BIN_EXE_canvas"))
        .args(["outbox", "list", "--store"])
        .arg(&store)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = list.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let ended = list.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&ended.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "nothing said: {stderr}");
    assert_eq!(ended.status.signal(), Some(SIGPIPE), "ended by SIGPIPE, as `ls | head` does");
}

/// Linux's signal number for a broken pipe.
const SIGPIPE: i32 = 13;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_honours_schedules_names_unknown_and_disabled_ids_and_refuses_far_futures() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered"), plugin("dormant-recall"), plugin("coupon-reminder")]);
    let config = service_config(&dir, "", "[strategies.coupon-reminder]\nenabled = false\n");
    let s = start_at(config, store, "2026-03-15T09:00:00+08:00", 1.0).await;
    let (status, _) = s.post("/api/v1/plugins/dormant-recall/disable", "").await;
    assert_eq!(status, StatusCode::OK);

    let (_, list) = s.get("/api/v1/plugins").await;
    let shown = |id: &str| list.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
    assert_eq!(shown("coupon-reminder")["enabled"], false, "switched off in canvas.toml: not shown as enabled");
    assert!(shown("coupon-reminder")["off"].as_str().unwrap().contains("canvas.toml"));
    assert_eq!(shown("birthday-tiered")["enabled"], true);

    // No ids: the strategies due then; birthday-tiered runs on the 1st only.
    let (status, ran) = s.post("/api/v1/runs", json!({ "at": MARCH_15 }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert!(ran["runs"].as_array().unwrap().iter().all(|r| r["strategy"] != "birthday-tiered"), "{ran}");

    let ask = |body: serde_json::Value| {
        let s = &s;
        async move { s.post("/api/v1/runs", body.to_string()).await }
    };
    let (status, refused) = ask(json!({ "at": MARCH_15, "strategies": ["birthday-tiered"] })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("not due"), "{refused}");
    let (status, refused) = ask(json!({ "at": MARCH_15, "strategies": ["birthday-tierd"] })).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("`birthday-tierd`"), "{refused}");
    let (status, refused) = ask(json!({ "at": MARCH_15, "strategies": ["dormant-recall"], "force": true })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("`dormant-recall` is disabled"), "{refused}");
    let (status, refused) = ask(json!({ "at": "2030-03-01T10:00:00+08:00" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("ahead of the clock"), "{refused}");

    let (status, ran) = ask(json!({ "at": MARCH_15, "strategies": ["birthday-tiered"], "force": true })).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(ran["runs"][0]["strategy"], "birthday-tiered", "forced: whatever its schedule");
    let (_, runs) = s.get("/api/v1/runs").await;
    assert!(runs.as_array().unwrap().iter().all(|r| r["run_at"].as_str().unwrap().starts_with("2026-03-15")), "{runs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_cancels_a_runs_touches_not_delivered_yet() {
    // The dispatcher sends what is due by the wall clock, so the run is the
    // coming 23:00 in Shanghai: quiet hours defer its touches to 09:00 after.
    let shanghai = chrono_tz::Asia::Shanghai;
    let now = chrono::Utc::now().with_timezone(&shanghai);
    let mut late = now.date_naive().and_hms_opt(23, 0, 0).unwrap().and_local_timezone(shanghai).unwrap();
    if late <= now {
        late += chrono::Duration::days(1);
    }
    let birthday = format!("1990-{}-14", late.format("%m"));
    let data = Data::new().member("M1", 1, &birthday).member("M2", 3, &birthday);
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &data);
    install(&store, &[plugin("birthday-tiered")]);
    let s = start_at(service_config(&dir, "", ""), store, &now.to_rfc3339(), 1.0).await;
    let at = late.to_rfc3339();
    let (status, ran) =
        s.post("/api/v1/runs", json!({ "at": at, "strategies": ["birthday-tiered"], "force": true }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    let (status, cancelled) =
        s.post("/api/v1/runs/cancel", json!({ "strategy": "birthday-tiered", "at": at }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["cancelled"], 2, "{ran}");
    let calendar = canvas::calendar::BrandCalendar::named("Asia/Shanghai").unwrap();
    assert_eq!(s.store.outbox_items(&calendar, Some(OutboxState::Cancelled)).unwrap().len(), 2);
    assert_eq!(s.store.pending_outbox().unwrap(), 0, "nothing left to send");
}

#[test]
fn config_set_merges_at_the_leaf_and_keeps_the_other_keys() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &["birthday-tiered"]);
    let set = |args: &[&str]| {
        let mut all = vec!["plugin", "config", "birthday-tiered"];
        all.extend_from_slice(args);
        let output = canvas_on(&store, "", &all);
        assert!(output.status.success(), "{}", text(&output));
        text(&output)
    };
    set(&["--set", "levels.2.value=60"]);
    set(&["--set", r#"levels={"1":{"kind":"coupon","value":30}}"#]);
    let shown = set(&["--set", "levels.3.value=90"]);
    let effective: serde_json::Value =
        serde_json::from_str(shown.split("effective config from the next run: ").nth(1).unwrap().trim()).unwrap();
    assert_eq!(effective["levels"]["1"]["value"], 30.0);
    assert_eq!(effective["levels"]["2"]["value"], 60, "not reverted by the later --set of levels");
    assert_eq!(effective["levels"]["3"]["value"], 90);
    assert_eq!(effective["levels"]["4"]["value"], 100.0, "the default");
    let unset = set(&["--unset", "levels.2"]);
    assert!(unset.contains(r#""2":{"kind":"coupon","value":50.0}"#), "back to the default: {unset}");
}

/// A due strategy whose config its plugin refuses at run time (here from
/// canvas.toml, which `canvas run` reads as it starts) does not run, and that
/// is a failed run on record with the plugin's reason, not a silence.
#[test]
fn a_due_strategy_whose_config_is_refused_at_run_time_is_a_failed_run_on_record() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &["birthday-tiered"]);
    let config = "[strategies.birthday-tiered]\nconfig = { levels = { 1 = { kind = \"coupon\", value = -30 } } }\n";
    let run = canvas_on(&store, config, &["run", "--at", MARCH_1, "--no-dispatch"]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("birthday-tiered did not run"), "{}", text(&run));
    let runs = canvas_on(&store, "", &["runs", "--format", "json"]);
    let line: Value = serde_json::from_str(String::from_utf8_lossy(&runs.stdout).lines().next().unwrap()).unwrap();
    assert_eq!((line["strategy"].as_str(), line["status"].as_str()), (Some("birthday-tiered"), Some("failed")));
    assert!(line["error"].as_str().unwrap().contains("levels.1.value"), "{line}");
    assert_eq!(line["plugin_sha256"].as_str().map(str::len), Some(64), "{line}");
}

/// A store an earlier canvas wrote may hold a config the plugin now refuses
/// (`value = -30` was accepted once): enabling the strategy finds it, naming
/// the key, instead of its next run failing.
#[test]
fn enabling_a_strategy_checks_the_config_it_would_run_with() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &["birthday-tiered"]);
    let disable = canvas_on(&store, "", &["plugin", "disable", "birthday-tiered"]);
    assert!(disable.status.success(), "{}", text(&disable));
    {
        // As the earlier canvas stored it: the entry's JSON, config and all.
        let db = sled::open(&store).unwrap();
        let plugins = db.open_tree("plugins").unwrap();
        let mut entry: Value = serde_json::from_slice(&plugins.get("birthday-tiered").unwrap().unwrap()).unwrap();
        entry["config"] = json!({ "levels": { "1": { "kind": "coupon", "value": -30 } } });
        plugins.insert("birthday-tiered", serde_json::to_vec(&entry).unwrap()).unwrap();
        db.flush().unwrap();
    }
    let enable = canvas_on(&store, "", &["plugin", "enable", "birthday-tiered"]);
    assert_eq!(enable.status.code(), Some(1), "{}", text(&enable));
    assert!(text(&enable).contains("levels.1.value") && text(&enable).contains("-30"), "{}", text(&enable));
    let list = canvas_on(&store, "", &["plugin", "list"]);
    assert!(text(&list).lines().nth(1).unwrap().contains(" no "), "still disabled: {}", text(&list));

    let fixed = canvas_on(&store, "", &["plugin", "config", "birthday-tiered", "--unset", "levels.1"]);
    assert!(fixed.status.success(), "{}", text(&fixed));
    let enable = canvas_on(&store, "", &["plugin", "enable", "birthday-tiered"]);
    assert!(enable.status.success(), "{}", text(&enable));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_does_not_start_on_a_config_a_plugin_refuses_or_a_mistyped_strategy_id() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("dormant-recall")]);
    let mut mistyped_priority = service_config(&dir, "", "");
    mistyped_priority.governance.priority = vec!["dormant-recall".into(), "dormant-recal".into()];
    for (config, expected) in [
        (service_config(&dir, "", "[strategies.dormant-recall]\nconfig = { after_dayz = 60 }\n"), "after_dayz"),
        (
            service_config(&dir, "", "[strategies.dormant-recal]\ncoupon_budget_per_day = 100\n"),
            "[strategies.dormant-recal]: no plugin has the id `dormant-recal`, did you mean `dormant-recall`?",
        ),
        (mistyped_priority, "governance.priority: no plugin has the id `dormant-recal`"),
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let clock = std::sync::Arc::new(canvas::serve::ScaledClock::new(0, 1.0));
        let refused =
            canvas::serve::start(canvas::app::App::new(config).unwrap(), store.clone(), clock, listener).await;
        let error = format!("{:#}", refused.err().expect("not started"));
        assert!(error.contains("not starting") && error.contains(expected), "{error}");
    }
}

#[test]
fn commands_in_the_wrong_folder_say_there_is_no_store_instead_of_creating_one() {
    let dir = TempDir::new().unwrap();
    let commands =
        [&["plugin", "list"][..], &["outbox", "list"], &["dispatch"], &["run", "--at", MARCH_1], &["audit"], &["runs"]];
    for args in commands {
        let output = canvas().args(args).current_dir(dir.path()).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", text(&output));
        assert!(text(&output).contains("there is no store at canvas-store"), "{args:?}: {}", text(&output));
        assert!(!dir.path().join("canvas-store").exists(), "{args:?} created no store");
    }
    let init = canvas().args(["init"]).current_dir(dir.path()).output().unwrap();
    assert!(text(&init).contains("created an empty store at canvas-store"), "{}", text(&init));
    let list = canvas().args(["plugin", "list"]).current_dir(dir.path()).output().unwrap();
    assert!(list.status.success(), "{}", text(&list));
}

#[test]
fn simulate_quiet_says_why_it_exits_2_when_a_plugin_refuses_its_config() {
    let dir = TempDir::new().unwrap();
    let data = birthdays().write();
    let folder = plugin_dir(&[plugin("birthday-tiered"), plugin("dormant-recall")]);
    let config = dir.path().join("canvas.toml");
    std::fs::write(&config, "[strategies.dormant-recall]\nconfig = { after_dayz = 60 }\n").unwrap();
    let out = dir.path().join("out");
    let simulated = canvas()
        .args(["simulate", "--from", "2026-03-01", "--to", "2026-03-01", "--quiet", "--data"])
        .arg(data.path())
        .arg("--out")
        .arg(&out)
        .arg("--plugins")
        .arg(folder.path())
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(simulated.status.code(), Some(2), "{}", text(&simulated));
    assert!(simulated.stdout.is_empty(), "quiet: {}", text(&simulated));
    let stderr = String::from_utf8_lossy(&simulated.stderr);
    assert!(stderr.contains("refused: strategies.dormant-recall.config") && stderr.contains("after_dayz"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_the_plugin_finds_out_of_range_is_refused_when_set_naming_the_key() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered"), plugin("dormant-recall")]);
    let s = start_at(service_config(&dir, "", ""), store, "2026-03-01T08:00:00+08:00", 1.0).await;
    for (id, keys, expected) in [
        ("birthday-tiered", json!({ "levels": { "1": { "kind": "coupon", "value": -30 } } }), "levels.1.value"),
        (
            "birthday-tiered",
            json!({ "levels": { "7": { "kind": "coupon", "value": 30 } } }),
            "levels.7: unknown member level",
        ),
        ("dormant-recall", json!({ "after_days": 0 }), "after_days: must be at least 1"),
    ] {
        let (status, refused) = s.put(&format!("/api/v1/plugins/{id}/config"), keys).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert!(refused["error"].as_str().unwrap().contains(expected), "{refused}");
    }
    let (status, ran) = s.post("/api/v1/runs", json!({ "at": MARCH_1 }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    let birthday = ran["runs"].as_array().unwrap().iter().find(|r| r["strategy"] == "birthday-tiered").unwrap().clone();
    assert_eq!(birthday["decisions"], 2, "the refused keys were not kept: the next run went as before");
}
