//! `canvas simulate` over the committed sample data: every strategy decides,
//! nothing is written outside OUT, the output is the documented shape and
//! the same every time. The sample data is what the generator makes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use crate::support::*;

fn sample_data() -> std::path::PathBuf {
    repo_root().join("sample-data")
}

fn canvas(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_canvas")).args(args).output().unwrap()
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn every_strategy_decides_over_the_sample_data_and_the_output_has_the_documented_shape() {
    let plugins = SHIPPED_STRATEGIES.map(plugin);
    let sim = simulate_with(&sample_data(), &plugins, "2026-08-01", "2026-10-24", config(""));
    for strategy in SHIPPED_STRATEGIES {
        let decided = sim.decided(strategy);
        assert!(decided.len() >= 10, "{strategy} made {} decisions", decided.len());
        let totals = &sim.result.summary.strategies[strategy];
        assert_eq!(totals.failed_runs, 0);
        assert!(totals.count(canvas::model::DecisionStatus::Dispatched) > 0, "{strategy} sent something");
    }
    let birthday_days: BTreeSet<String> = sim.decided("birthday-tiered").into_iter().map(|(d, _)| d).collect();
    assert_eq!(birthday_days, BTreeSet::from(["2026-08-01".into(), "2026-09-01".into(), "2026-10-01".into()]));
    let recall_days: BTreeSet<String> = sim.decided("dormant-recall").into_iter().map(|(d, _)| d).collect();
    assert!(recall_days.len() > 40, "dormant members are recalled on most days: {}", recall_days.len());

    let keys = [
        "date",
        "run_at",
        "strategy",
        "step",
        "member_id",
        "action",
        "channel",
        "template",
        "benefit",
        "status",
        "reason",
    ];
    for d in &sim.decisions {
        for key in keys {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
        let status = d["status"].as_str().unwrap();
        assert!(["dispatched", "deferred", "holdout", "suppressed"].contains(&status), "{status}");
        // A dispatched touch has no reason, unless it went another way than
        // proposed (a fallback channel, another guide) and says so.
        let rerouted = d["reason"].as_str().is_some_and(|r| r.starts_with("by ") || r.starts_with("guide "));
        assert_eq!(
            d["reason"].is_null() || rerouted,
            status == "dispatched" || rerouted,
            "a reason unless dispatched: {d}"
        );
        assert_eq!(d["send_at"].is_string(), status == "deferred", "a send time when deferred: {d}");
        assert!(d["key"].as_str().unwrap().starts_with(d["strategy"].as_str().unwrap()));
        let run_at = d["run_at"].as_str().unwrap();
        // Triggered strategies decide at the event's instant plus their delay.
        let triggered = ["coupon-reminder", "browse-abandon", "out-of-stock-recovery"];
        if !triggered.contains(&d["strategy"].as_str().unwrap()) {
            assert!(run_at.ends_with("T10:00:00+08:00"), "daily runs are at 10:00 brand time: {run_at}");
        }
        let benefit = &d["benefit"];
        assert!(benefit.is_null() || (benefit["kind"].is_string() && benefit["value"].is_number()), "{benefit}");
    }
    assert_eq!(
        files_in(sim.out.path()),
        BTreeSet::from(
            ["decisions.jsonl", "referrals.csv", "report.html", "report.json", "runs.jsonl"].map(String::from)
        )
    );
}

#[test]
fn simulations_are_deterministic() {
    let plugins = SHIPPED_STRATEGIES.map(plugin);
    let first = simulate_with(&sample_data(), &plugins, "2026-09-01", "2026-09-30", config(""));
    let second = simulate_with(&sample_data(), &plugins, "2026-09-01", "2026-09-30", config(""));
    assert_eq!(first.decisions, second.decisions);
}

#[test]
fn the_simulate_command_writes_only_into_out_and_prints_a_summary() {
    let work = TempDir::new().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for file in ["members.csv", "orders.csv", "events.csv", "products.csv"] {
        std::fs::copy(sample_data().join(file), data.join(file)).unwrap();
    }
    let plugins = plugin_dir(&[plugin("dormant-recall"), plugin("birthday-tiered")]);
    let out = work.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_canvas"))
        .current_dir(work.path())
        .args(["simulate", "--data", "data", "--from", "2026-09-01", "--to", "2026-09-07", "--out", "out", "--plugins"])
        .arg(plugins.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("simulated 2026-09-01 to 2026-09-07: 8 runs"), "{stdout}");
    assert!(stdout.contains("birthday-tiered") && stdout.contains("dormant-recall"), "{stdout}");
    // What they would have done and what it would cost; over history nothing was caused.
    assert!(stdout.contains("would have done") && stdout.contains("break-even"), "{stdout}");
    assert!(stdout.contains("measured only live, against the holdout"), "{stdout}");
    let lower = stdout.to_lowercase();
    assert!(!lower.contains("uplift") && !lower.contains("did it work") && !lower.contains("backtest"), "{stdout}");
    assert!(stdout.contains("made from: config sha256 "), "{stdout}");
    assert_eq!(files_in(work.path()), BTreeSet::from(["data".into(), "out".into()]), "nothing else in the work folder");
    assert_eq!(
        files_in(&out),
        BTreeSet::from(
            ["decisions.jsonl", "referrals.csv", "report.html", "report.json", "runs.jsonl"].map(String::from)
        )
    );
    assert_eq!(files_in(&data).len(), 4, "the data folder is untouched");
}

#[test]
fn strategies_can_be_picked_and_an_unknown_one_is_named() {
    let plugins = plugin_dir(&[plugin("dormant-recall"), plugin("birthday-tiered")]);
    let out = TempDir::new().unwrap();
    let data = sample_data();
    let base = ["simulate", "--data", data.to_str().unwrap(), "--from", "2026-09-01", "--to", "2026-09-02"];
    let run = |strategies: &str| {
        let mut args = base.to_vec();
        args.extend(["--out", out.path().to_str().unwrap(), "--plugins", plugins.path().to_str().unwrap()]);
        args.extend(["--strategies", strategies]);
        canvas(&args)
    };
    let only = run("birthday-tiered");
    assert!(only.status.success());
    let strategies: BTreeSet<String> = read_jsonl(&out.path().join("decisions.jsonl"))
        .iter()
        .map(|d| d["strategy"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(strategies, BTreeSet::from(["birthday-tiered".to_string()]));

    let unknown = run("birthday-tiered,birthday");
    assert_eq!(unknown.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("no plugin has the id `birthday`; there are: birthday-tiered, dormant-recall"), "{stderr}");
}

#[test]
fn plugin_files_compile_once_into_the_users_cache_and_run_without_one() {
    let plugins = plugin_dir(&[plugin("dormant-recall")]);
    let home = TempDir::new().unwrap();
    let data = sample_data();
    let simulate = |env: (&str, &Path)| {
        let out = TempDir::new().unwrap();
        let args = ["simulate", "--data", data.to_str().unwrap(), "--from", "2026-09-01", "--to", "2026-09-01"];
        let output = Command::new(env!("CARGO_BIN_EXE_canvas"))
            .args(args)
            .args(["--out", out.path().to_str().unwrap(), "--plugins", plugins.path().to_str().unwrap(), "--quiet"])
            .env_remove("XDG_CACHE_HOME")
            .env(env.0, env.1)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    };
    simulate(("XDG_CACHE_HOME", home.path()));
    let compiled = home.path().join("canvas").join("compiled");
    assert!(std::fs::read_dir(&compiled).unwrap().next().is_some(), "nothing kept in {}", compiled.display());

    // A service user whose home cannot hold a cache still runs its plugins.
    let not_a_dir = home.path().join("a-file");
    std::fs::write(&not_a_dir, "").unwrap();
    simulate(("HOME", &not_a_dir));
}

#[test]
fn the_sample_data_is_what_the_seeded_generator_makes() {
    let out = TempDir::new().unwrap();
    let status = canvas(&[
        "gen",
        "--members",
        "2400",
        "--months",
        "20",
        "--seed",
        "7",
        "--end",
        "2026-10-31",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    for file in ["members.csv", "orders.csv", "events.csv", "products.csv", "guides.csv"] {
        let made = std::fs::read(out.path().join(file)).unwrap();
        let committed = std::fs::read(sample_data().join(file)).unwrap();
        assert!(made == committed, "sample-data/{file} differs from `canvas gen` output: regenerate it (see README)");
    }
}

#[test]
fn deciding_batches_in_parallel_gives_what_one_at_a_time_gives() {
    let plugins = SHIPPED_STRATEGIES.map(plugin);
    // Small batches, so each strategy's audience spans many of them.
    let one = simulate_with(
        &sample_data(),
        &plugins,
        "2026-09-01",
        "2026-09-14",
        config("[run]\nbatch_size = 3\nworkers = 1\n"),
    );
    let three = simulate_with(
        &sample_data(),
        &plugins,
        "2026-09-01",
        "2026-09-14",
        config("[run]\nbatch_size = 3\nworkers = 3\n"),
    );
    assert!(one.decisions.len() > 100, "enough decisions to interleave: {}", one.decisions.len());
    assert_eq!(one.decisions, three.decisions);
    let batches = |sim: &Simulated| sim.runs.iter().map(|r| r["batches"].clone()).collect::<Vec<_>>();
    assert_eq!(batches(&one), batches(&three));
}

#[test]
fn a_failing_batch_ends_its_run_at_that_batch_when_batches_run_in_parallel() {
    let data = Data::new()
        .member("M1", 1, "")
        .order("M1", "2025-12-01T12:00:00+08:00")
        .member("M2", 1, "")
        .order("M2", "2025-12-01T12:00:00+08:00")
        .member("M3", 1, "")
        .order("M3", "2025-12-01T12:00:00+08:00")
        .write();
    let sim = simulate_with(
        data.path(),
        &[test_plugin("trap")],
        "2026-03-01",
        "2026-03-01",
        // No member may fail alone: the first failing batch fails the run.
        config("[run]\nbatch_size = 1\nworkers = 3\n[sandbox]\nfailed_members = 0\n"),
    );
    let run = &sim.runs[0];
    assert_eq!(run["status"], "failed");
    assert_eq!(run["batches"], 1, "the batches after the failed one do not count: {run}");
    assert!(run["error"].as_str().unwrap().contains("deliberate failure on member M1"), "{run}");
}
