//! The plugin author's tools: `canvas plugin test` on hand-written fixtures,
//! and `canvas plugin new`, whose scaffold builds and passes its own test.

use std::path::Path;
use std::process::Output;

use tempfile::TempDir;

use crate::support::*;

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn member(id: &str, level: u8) -> String {
    format!(
        r#"{{"member_id": "{id}", "name": "会员{id}", "level": {level}, "birthday": "1990-06-14",
            "joined_at": "2025-01-01T10:00:00+08:00", "wecom_added_at": "", "store_id": "S01", "guide_id": "G01", "tz": ""}}"#
    )
}

/// M1 last ordered 90 days before the run, M2 60 days before, M3 never.
fn dormant_fixture(dir: &Path) -> std::path::PathBuf {
    let fixture = format!(
        r#"{{
          "run_at": "2026-06-01T10:00:00+08:00",
          "members": [{}, {}, {}],
          "orders": [
            {{"order_id": "O1", "member_id": "M1", "placed_at": "2026-03-03T23:59:00+08:00", "amount": 199, "channel": "store", "category": "dress", "sku": "DR-1"}},
            {{"order_id": "O2", "member_id": "M2", "placed_at": "2026-04-02T12:00:00+08:00", "amount": "99.50", "channel": "online", "category": "tops", "sku": "TP-1"}}
          ]
        }}"#,
        member("M1", 2),
        member("M2", 1),
        member("M3", 1)
    );
    let path = dir.join("fixture.json");
    std::fs::write(&path, fixture).unwrap();
    path
}

fn plugin_test(plugin: &Path, fixture: &Path, extra: &[&str]) -> Output {
    canvas().arg("plugin").arg("test").arg(plugin).arg("--input").arg(fixture).args(extra).output().unwrap()
}

#[test]
fn plugin_test_shows_the_audience_the_touches_and_what_the_calls_used() {
    let dir = TempDir::new().unwrap();
    let output = plugin_test(&plugin("dormant-recall"), &dormant_fixture(dir.path()), &[]);
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains("audience  1 of 3 members: M1"), "{shown}");
    assert!(shown.contains("M1  recall  Coupon  wecom/dormant_recall  Gift 30.00 yuan + new-customer gift"), "{shown}");
    assert!(shown.contains("days_since_last_order=90"), "{shown}");
    for column in ["fuel used (of 2,000,000,000)", "peak memory (of 256 MiB)", "time (of 10,000 ms)", "decide"] {
        assert!(shown.contains(column), "{column} missing: {shown}");
    }

    let json = plugin_test(&plugin("dormant-recall"), &dormant_fixture(dir.path()), &["--format", "json"]);
    let outcome: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(outcome["audience"], serde_json::json!(["M1"]));
    assert!(outcome["calls"]["decide"]["fuel_used"].as_u64().unwrap() > 0);
    assert!(outcome["calls"]["decide"]["peak_memory_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn plugin_test_compares_with_an_expectation_and_fails_with_a_readable_diff() {
    let dir = TempDir::new().unwrap();
    let fixture = dormant_fixture(dir.path());
    let expect = dir.path().join("expected.json");

    // `--format json` output is itself a valid expectation.
    let json = plugin_test(&plugin("dormant-recall"), &fixture, &["--format", "json"]);
    std::fs::write(&expect, &json.stdout).unwrap();
    let met = plugin_test(&plugin("dormant-recall"), &fixture, &["--expect", expect.to_str().unwrap()]);
    assert!(met.status.success(), "{}", text(&met));
    assert!(text(&met).contains("expectation met: 1 touches"), "{}", text(&met));

    // A loose expectation names only what it cares about; this one is wrong twice.
    std::fs::write(
        &expect,
        r#"[{"member_id": "M1", "step": "recall", "benefit": {"kind": "gift", "value": 25, "gift": "new-customer gift"}},
            {"member_id": "M2", "step": "recall"}]"#,
    )
    .unwrap();
    let missed = plugin_test(&plugin("dormant-recall"), &fixture, &["--expect", expect.to_str().unwrap()]);
    let shown = text(&missed);
    assert_eq!(missed.status.code(), Some(1), "{shown}");
    assert!(shown.contains("expectation NOT met"), "{shown}");
    assert!(shown.contains("~ M1 / recall: `benefit` expected"), "{shown}");
    assert!(shown.contains("- missing: no touch for member M2 at step recall"), "{shown}");
}

#[test]
fn plugin_test_lays_a_json_config_over_the_defaults() {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("sixty-days.json");
    std::fs::write(&config, r#"{"after_days": 60, "benefit": {"kind": "lottery", "value": 5}}"#).unwrap();
    let with_config = || {
        let mut command = canvas();
        command.args(["--config", config.to_str().unwrap(), "plugin", "test"]).arg(plugin("dormant-recall"));
        command.arg("--input").arg(dormant_fixture(dir.path())).output().unwrap()
    };
    let output = with_config();
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains("audience  1 of 3 members: M2"), "{shown}");
    assert!(shown.contains("Lottery 5.00 yuan"), "{shown}");

    std::fs::write(&config, r#"{"after_dayz": 60}"#).unwrap();
    let refused = with_config();
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused).contains("unknown field `after_dayz`"), "{}", text(&refused));
}

#[test]
fn a_bad_fixture_or_a_failing_plugin_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let fixture = dir.path().join("bad.json");
    let bad =
        format!(r#"{{"run_at": "2026-06-01T10:00:00+08:00", "members": [{}, {}]}}"#, member("M1", 1), member("M2", 7));
    std::fs::write(&fixture, bad).unwrap();
    let output = plugin_test(&plugin("dormant-recall"), &fixture, &[]);
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(shown.contains("members record 2") && shown.contains("level"), "{shown}");

    std::fs::write(&fixture, r#"{"run_at": "2026-06-01T10:00:00+08:00", "memberz": []}"#).unwrap();
    let shown = text(&plugin_test(&plugin("dormant-recall"), &fixture, &[]));
    assert!(shown.contains("bad.json") && shown.contains("unknown field `memberz`"), "{shown}");

    let trapping = plugin_test(&test_plugin("trap"), &dormant_fixture(dir.path()), &[]);
    let shown = text(&trapping);
    assert_eq!(trapping.status.code(), Some(1), "{shown}");
    assert!(shown.contains("trapped"), "{shown}");
}

/// Every fixture committed beside a plugin, with its `.expected.json`.
#[test]
fn the_committed_plugin_fixtures_pass() {
    let tests = repo_root().join("plugins/python/vip-anniversary/tests");
    let mut ran = 0;
    for entry in std::fs::read_dir(&tests).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.ends_with(".expected.json") {
            continue;
        }
        let expect = path.with_file_name(name.replace(".json", ".expected.json"));
        let output = plugin_test(&plugin("vip-anniversary"), &path, &["--expect", expect.to_str().unwrap()]);
        assert!(output.status.success(), "{name}: {}", text(&output));
        ran += 1;
    }
    assert!(ran > 0);
}

/// Runs `canvas plugin new` and the scaffold's own build.sh, then its test.
fn scaffold_builds_and_passes(lang: &str, env: &[(&str, std::path::PathBuf)]) {
    let dir = TempDir::new().unwrap();
    let created =
        canvas().args(["plugin", "new", "spring-welcome", "--lang", lang, "--dir"]).arg(dir.path()).output().unwrap();
    assert!(created.status.success(), "{}", text(&created));
    let folder = dir.path().join("spring-welcome");
    assert!(folder.join("README.md").exists());

    let mut build = std::process::Command::new("sh");
    build.arg("build.sh").current_dir(&folder);
    for (key, value) in env {
        build.env(key, value);
    }
    let built = build.output().unwrap();
    assert!(built.status.success(), "{lang} build: {}", text(&built));

    let output = canvas()
        .current_dir(&folder)
        .args(["plugin", "test", "spring-welcome.wasm", "--input", "fixture.json", "--expect", "expected.json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{lang}: {}", text(&output));
    assert!(text(&output).contains("audience  1 of 3 members: M1"), "{}", text(&output));
}

#[test]
fn a_new_rust_plugin_builds_and_passes_its_test() {
    // Share the workspace's compiled dependencies (wit-bindgen, serde).
    scaffold_builds_and_passes("rust", &[("CARGO_TARGET_DIR", repo_root().join("target/scaffold"))]);
}

#[test]
fn a_new_python_plugin_builds_and_passes_its_test() {
    let componentize_py = repo_root().join("target/tools/python/bin/componentize-py");
    scaffold_builds_and_passes("python", &[("COMPONENTIZE_PY", componentize_py)]);
}

#[test]
fn a_new_javascript_plugin_builds_and_passes_its_test() {
    let componentize_js = repo_root().join("plugins/js/node_modules/.bin/componentize-js");
    scaffold_builds_and_passes("js", &[("COMPONENTIZE_JS", componentize_js)]);
}

#[test]
fn plugin_new_refuses_a_bad_id_and_an_existing_folder() {
    let dir = TempDir::new().unwrap();
    let bad = canvas()
        .args(["plugin", "new", "Spring_Welcome", "--lang", "python", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).contains("cannot be a plugin id"), "{}", text(&bad));
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    let taken = canvas().args(["plugin", "new", "taken", "--lang", "js", "--dir"]).arg(dir.path()).output().unwrap();
    assert!(text(&taken).contains("already exists"), "{}", text(&taken));
}
