//! The host against a plugin written to attack it (plugins/testing/hostile):
//! a sleep in a host call, oversized and out-of-range touches, an audience
//! that would make the host do unbounded work, a member whose facts break
//! the plugin, a flood of logs, terminal escapes in its words, an impostor
//! in the plugin folder. Each attack ends in a clear refusal or a failed
//! decision naming the plugin and the limit; the host and the other
//! strategies go on.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::*;

/// Four customers with an order the day before the runs.
fn customers() -> Data {
    let mut data = Data::new();
    for id in ["M1", "M2", "M3", "M4"] {
        data = data.member(id, 2, "1990-06-01").order(id, "2025-12-01T12:00:00+08:00");
    }
    data
}

/// `[sandbox]` keys, and the hostile plugin's config (its sleeps: 15 s in
/// `describe`, `sleep_ms` in the others, against a 2 s deadline).
fn hostile_config(sandbox: &str, hostile: &str) -> canvas::config::CanvasConfig {
    config(&format!(
        "[governance]\nholdout_percent = 0\n[sandbox]\ndeadline_ms = 2_000\n{sandbox}\n\
         [strategies.hostile]\nconfig = {{ {hostile} }}\n"
    ))
}

fn simulate_hostile(sandbox: &str, hostile: &str) -> Simulated {
    let data = customers().write();
    let plugins = [plugin("dormant-recall"), test_plugin("hostile")];
    simulate_with(data.path(), &plugins, "2026-03-01", "2026-03-01", hostile_config(sandbox, hostile))
}

fn decisions_of<'a>(sim: &'a Simulated, strategy: &str) -> Vec<&'a Value> {
    sim.decisions.iter().filter(|d| d["strategy"] == strategy).collect()
}

fn status_of(sim: &Simulated, strategy: &str, member: &str) -> (String, String) {
    let d = sim
        .decisions
        .iter()
        .find(|d| d["strategy"] == strategy && d["member_id"] == member)
        .unwrap_or_else(|| panic!("no decision of {strategy} for {member}"));
    (d["status"].as_str().unwrap().to_string(), d["reason"].as_str().unwrap_or("").to_string())
}

fn run_of<'a>(sim: &'a Simulated, strategy: &str) -> &'a Value {
    sim.runs.iter().find(|r| r["strategy"] == strategy).expect("a run")
}

#[test]
fn a_plugin_sleeping_in_every_export_neither_hangs_the_host_nor_stops_the_others() {
    // Rust's thread::sleep is a WASI clock poll, out of the epoch deadline's
    // reach: the host answers it at once, the clock standing at the run instant.
    let started = Instant::now();
    let sim = simulate_hostile("", "sleep_ms = 15_000");
    assert!(started.elapsed() < Duration::from_secs(15), "no 15 s sleep was slept: {:?}", started.elapsed());
    assert!(sim.result.refused.is_empty(), "{:?}", sim.result.refused);
    assert_eq!(decisions_of(&sim, "hostile").len(), 4, "it decided every member");
    assert!(decisions_of(&sim, "hostile").iter().all(|d| d["status"] != "failed"));
    assert_eq!(run_of(&sim, "hostile")["status"], "completed");
    assert_eq!(decisions_of(&sim, "dormant-recall").len(), 4, "the strategy beside it decided too");
}

#[test]
fn a_member_whose_facts_break_the_plugin_fails_alone_and_the_others_are_decided() {
    let sim = simulate_hostile("", "sleep_ms = 0, fail_on = \"M3\"");
    let (status, reason) = status_of(&sim, "hostile", "M3");
    assert_eq!(status, "failed");
    assert!(reason.contains("plugin hostile 0.1.0 trapped"), "{reason}");
    assert!(reason.contains("hostile: failing on member M3"), "the panic is quoted: {reason}");
    for member in ["M1", "M2", "M4"] {
        // Decided: arbitration gives them to dormant-recall, which ranks first.
        assert_eq!(status_of(&sim, "hostile", member).0, "suppressed", "{member}");
    }
    let run = run_of(&sim, "hostile");
    assert_eq!((run["status"].as_str(), run["failed_members"].as_u64()), (Some("completed"), Some(1)));
    assert!(sim.result.summary.table().contains("the plugin failed on 1 members alone"));
}

#[test]
fn a_touch_for_someone_outside_the_batch_fails_the_member_it_came_with() {
    let sim = simulate_hostile("", "sleep_ms = 0, outsider_for = \"M2\"");
    let (status, reason) = status_of(&sim, "hostile", "M2");
    assert_eq!(status, "failed");
    assert!(reason.contains("member `M-OUTSIDER` was not in the batch it was given"), "{reason}");
    assert!(sim.decisions.iter().all(|d| d["member_id"] != "M-OUTSIDER"), "no decision for an outsider");
    assert_eq!(decisions_of(&sim, "hostile").iter().filter(|d| d["status"] != "failed").count(), 3);
}

#[test]
fn more_failing_members_than_allowed_fail_the_run_and_failing_on_all_fails_it_too() {
    let sim = simulate_hostile("failed_members = 0", "sleep_ms = 0, fail_on = \"M1\"");
    let run = run_of(&sim, "hostile");
    assert_eq!(run["status"], "failed", "with no failures allowed, the first failing batch fails the run");
    assert!(run["error"].as_str().unwrap().contains("failing on member M1"), "{run}");

    let data = customers().write();
    let sim = simulate_with(data.path(), &[test_plugin("trap")], "2026-03-01", "2026-03-01", config(""));
    let run = run_of(&sim, "trap");
    assert_eq!(run["failed_members"], 4);
    assert_eq!(run["status"], "failed", "a plugin that fails on everyone fails its run");
    assert!(run["error"].as_str().unwrap().contains("deliberate failure on member"), "{run}");
}

/// Once the plugin has failed on `failed_members` members, the next call
/// that fails is not split again but fails the run, naming the setting: a
/// plugin failing on everyone would otherwise be split down to every
/// member. The failed decisions found before stand.
#[test]
fn a_failure_after_the_allowed_ones_fails_the_run_and_those_before_stand() {
    let data = customers().write();
    let limit = config("[sandbox]\nfailed_members = 2\n");
    let sim = simulate_with(data.path(), &[test_plugin("trap")], "2026-03-01", "2026-03-01", limit);
    let run = run_of(&sim, "trap");
    assert_eq!((run["status"].as_str(), run["failed_members"].as_u64()), (Some("failed"), Some(2)), "{run}");
    let error = run["error"].as_str().unwrap();
    let named = "plugin trap 0.1.0 failed on more than 2 members of this run (sandbox.failed_members); the last: ";
    assert!(error.starts_with(named) && error.contains("deliberate failure on member"), "{error}");
    let failed = decisions_of(&sim, "trap").iter().filter(|d| d["status"] == "failed").count();
    assert_eq!(failed, 2, "the two members it was allowed to fail on have their failed decisions");
}

#[test]
fn every_field_of_a_touch_counts_against_the_output_cap() {
    // A 5 MiB gift name under a 4 MiB cap: before, only the template and
    // variables were counted. Each member's answer is over the cap alone.
    let sim = simulate_hostile("output_kib = 4096", "sleep_ms = 0, gift_bytes = 5_242_880");
    for member in ["M1", "M2", "M3", "M4"] {
        let (status, reason) = status_of(&sim, "hostile", member);
        assert_eq!(status, "failed");
        assert!(reason.contains("over the output cap of 4096 KiB (sandbox.output_kib)"), "{reason}");
    }
    assert!(sim.decisions.iter().all(|d| d.to_string().len() < 10_000), "no gift name was stored");
    assert_eq!(decisions_of(&sim, "dormant-recall").len(), 4);
}

#[test]
fn touches_over_a_name_or_value_limit_fail_their_member_naming_the_field_and_the_limit() {
    let cases = [
        ("gift_bytes = 200", "`benefit.gift` is 200 bytes long, over the limit of 128 bytes"),
        (
            "value_fen = 9_223_372_036_854_775_800",
            "a benefit is worth more than 0 and at most 10000 yuan (sandbox.benefit_max_yuan)",
        ),
        ("value_fen = 0", "a benefit is worth more than 0"),
        ("group_size = 1", "`group_buy.group_size` is 1; at least 2"),
    ];
    for (attack, expected) in cases {
        let sim = simulate_hostile("", &format!("sleep_ms = 0, {attack}"));
        for member in ["M1", "M2", "M3", "M4"] {
            let (status, reason) = status_of(&sim, "hostile", member);
            assert_eq!(status, "failed", "{attack}");
            assert!(reason.starts_with("plugin hostile 0.1.0 returned an invalid touch"), "{reason}");
            assert!(reason.contains(&format!("member `{member}` at step `hostile`")), "{reason}");
            assert!(reason.contains(expected), "{attack}: {reason}");
        }
        assert_eq!(run_of(&sim, "hostile")["status"], "completed", "{attack}: the run goes on");
        assert_eq!(decisions_of(&sim, "dormant-recall").len(), 4);
    }
    let capped = simulate_hostile("benefit_max_yuan = 20", "sleep_ms = 0, value_fen = 3_000");
    assert!(status_of(&capped, "hostile", "M1").1.contains("at most 20 yuan"), "the maximum is a setting");
}

#[test]
fn a_coupon_too_big_to_sum_never_gets_past_the_daily_budget() {
    let data = customers().write();
    let toml = "[governance]\nholdout_percent = 0\n[strategies.hostile]\ncoupon_budget_per_day = 100\n\
                config = { sleep_ms = 0, value_fen = 9_223_372_036_854_775_800 }\n";
    let sim = simulate_with(data.path(), &[test_plugin("hostile")], "2026-03-01", "2026-03-01", config(toml));
    assert!(decisions_of(&sim, "hostile").iter().all(|d| d["status"] == "failed"));
    assert_eq!(sim.result.summary.strategies["hostile"].benefit_fen, 0, "no coupon was handed out");
}

#[test]
fn an_audience_that_would_make_the_host_do_unbounded_work_is_refused_naming_the_limit() {
    let cases = [
        ("clauses = 1_000", "an audience of too many clauses: 1000, over the limit of 128 (sandbox.audience_clauses)"),
        ("order_windows = 100", "too many order windows: 100, over the limit of 16 (sandbox.order_windows)"),
        ("lookback_days = 50_000", "reaching back 50000 days, over the limit of 36600 days (sandbox.lookback_days)"),
        ("clauses = 200_000", "over the output cap of 4096 KiB (sandbox.output_kib)"),
    ];
    for (attack, expected) in cases {
        let sim = simulate_hostile("", &format!("sleep_ms = 0, {attack}"));
        let refusal = sim.result.refused.join("\n");
        assert!(refusal.contains("plugin hostile 0.1.0"), "{attack}: {refusal}");
        assert!(refusal.contains(expected), "{attack}: {refusal}");
        assert!(decisions_of(&sim, "hostile").is_empty());
        assert_eq!(decisions_of(&sim, "dormant-recall").len(), 4, "{attack}: the others run");
    }
    let raised = simulate_hostile("audience_clauses = 2_000", "sleep_ms = 0, clauses = 1_000");
    assert_eq!(decisions_of(&raised, "hostile").len(), 4, "the limits are settings");
}

#[test]
fn a_plugin_that_prints_more_than_its_log_holds_loses_words_not_its_call() {
    let sim = simulate_hostile("", "sleep_ms = 0, log_bytes = 100_000");
    assert_eq!(decisions_of(&sim, "hostile").iter().filter(|d| d["status"] != "failed").count(), 4);
    let sim = simulate_hostile("", "sleep_ms = 0, log_bytes = 100_000, fail_on = \"M1\"");
    let reason = status_of(&sim, "hostile", "M1").1;
    assert!(reason.contains("failing on member M1"), "the end of stderr is quoted: {reason}");
    assert!(reason.contains("bytes more were cut"), "{reason}");
    assert!(reason.len() < 4_096, "a failure quotes at most a kilobyte of stderr: {} bytes", reason.len());
}

/// Runs the `canvas` binary; (exit code, stdout and stderr).
fn canvas_run(args: &[&str]) -> (i32, String) {
    let out = canvas().args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn install_list_show_and_test_print_a_plugins_escape_sequences_as_text_and_its_sleep_hangs_nothing() {
    let dir = TempDir::new().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let hostile = test_plugin("hostile");
    assert_eq!(canvas_run(&["init", "--store", store]).0, 0);
    let started = Instant::now();
    let (code, installed) = canvas_run(&["plugin", "install", hostile.to_str().unwrap(), "--store", store]);
    assert_eq!(code, 0, "{installed}");
    assert!(started.elapsed() < Duration::from_secs(15), "describing itself sleeps 15 s: not slept");
    for (code, text) in [
        canvas_run(&["plugin", "list", "--store", store]),
        canvas_run(&["plugin", "show", "hostile", "--store", store]),
    ] {
        assert_eq!(code, 0, "{text}");
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{9b}'), "raw: {text:?}");
    }
    let (_, shown) = canvas_run(&["plugin", "show", "hostile", "--store", store]);
    assert!(shown.contains("Hostile \\u{1b}[2J\\u{1b}]0;owned\\u{7} (test)"), "{shown}");

    let fixture = dir.path().join("fixture.json");
    let member = r#"{"member_id":"M1","name":"a","level":2,"joined_at":"2025-01-01T10:00:00+08:00","store_id":"S1","guide_id":"G1"}"#;
    let order = r#"{"order_id":"O1","member_id":"M1","placed_at":"2025-12-01T12:00:00+08:00","amount":10,"channel":"store","category":"dress","sku":"DR-1"}"#;
    std::fs::write(
        &fixture,
        format!(
            r#"{{"run_at":"2026-03-01T10:00:00+08:00","config":{{"sleep_ms":0,"gift_bytes":300}},"members":[{member}],"orders":[{order}]}}"#
        ),
    )
    .unwrap();
    let (code, tested) =
        canvas_run(&["plugin", "test", hostile.to_str().unwrap(), "--input", fixture.to_str().unwrap()]);
    assert_eq!(code, 1, "a refused touch fails the test: {tested}");
    assert!(tested.contains("refused   1"), "{tested}");
    assert!(tested.contains("`benefit.gift` is 300 bytes long, over the limit of 128 bytes"), "{tested}");
    assert!(!tested.contains('\u{1b}'), "{tested:?}");
}

#[test]
fn two_plugin_files_claiming_one_id_are_an_error_naming_both() {
    let data = customers().write();
    let folder = TempDir::new().unwrap();
    let copy = |name: &str| std::fs::copy(plugin("dormant-recall"), folder.path().join(name)).unwrap();
    copy("a-dormant-recall.wasm");
    copy("zz-impostor.wasm");
    let out = TempDir::new().unwrap();
    let options = canvas::simulate::SimulateOptions {
        data: data.path().to_path_buf(),
        from: date("2026-03-01"),
        to: date("2026-03-01"),
        out: out.path().to_path_buf(),
        plugins: folder.path().to_path_buf(),
        strategies: None,
        config: config(""),
    };
    let error = canvas::simulate::simulate(&options, &mut |_, _| {}).err().expect("an impostor is an error");
    let message = format!("{error:#}");
    for named in ["a-dormant-recall.wasm", "zz-impostor.wasm", "both claim the plugin id `dormant-recall`"] {
        assert!(message.contains(named), "{message}");
    }
    assert!(!Path::new(&out.path().join("decisions.jsonl")).exists(), "nothing ran");
}
