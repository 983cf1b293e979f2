//! The closed loop (issue 34): the real service, stepped day after day over
//! generated members, its touches delivered over HTTP to a seeded world
//! that answers them through the ingest API with a planted lift and planted
//! deletions — and the live results must recover what was planted. Seeded,
//! so each test sees one world; sized so the planted effects are far
//! outside the noise and each test takes seconds.

use std::collections::BTreeMap;

use canvas::config::CanvasConfig;
use canvas::world::{run_loop, Harm, LoopOptions, LoopOutcome, Plan};
use chrono::NaiveDate;
use serde_json::Value;
use tempfile::TempDir;

use crate::support::*;

fn options(
    work: &TempDir,
    seed: u64,
    members: u32,
    days: u32,
    plants: &[(&str, f64)],
    harm: Option<Harm>,
) -> LoopOptions {
    let plan = Plan {
        seed,
        lift: plants.iter().map(|(id, lift)| (id.to_string(), *lift)).collect::<BTreeMap<_, _>>(),
        lift_days: 7,
        background: 0.01,
        harm,
    };
    LoopOptions {
        members,
        history_months: 12,
        data_seed: seed,
        start: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        days,
        plugins: plants.iter().map(|(id, _)| plugin(id)).collect(),
        plan,
        holdout_percent: 50.0,
        work: work.path().to_path_buf(),
        config: CanvasConfig::default(),
    }
}

async fn run(options: LoopOptions) -> LoopOutcome {
    run_loop(options, &mut |_| {}).await.expect("the loop runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_results_recover_a_planted_lift_and_the_holdout_converts_at_the_background_rate() {
    let work = TempDir::new().unwrap();
    let outcome = run(options(&work, 11, 5_000, 40, &[("dormant-recall", 0.30)], None)).await;
    let row = &outcome.rows[0];
    assert_eq!(row.strategy, "dormant-recall");
    let (uplift, low, high) = row.measured_uplift_pp.expect("touched and held-out members");
    assert!(row.touched >= 80 && row.held_out >= 80, "{row:?}");
    // The truth: lift × (1 − background conversion in 7 days) = 30% × 93.2%.
    assert!((row.planted_uplift_pp - 27.97).abs() < 0.01, "{row:?}");
    assert!(low <= row.planted_uplift_pp && row.planted_uplift_pp <= high, "planted outside [{low}, {high}]: {row:?}");
    assert!(low > 0.0, "at this size the interval excludes 0: {uplift} [{low}, {high}]");
    let (_, hl, hh) = row.holdout_conversion.unwrap();
    assert!(hl <= row.background_conversion && row.background_conversion <= hh, "holdout moved: {row:?}");
    let lift_orders = outcome.counts.lift_orders["dormant-recall"];
    assert!(lift_orders > 0 && lift_orders < outcome.counts.touches["dormant-recall"], "{:?}", outcome.counts);
    assert_eq!(outcome.counts.redeliveries, 0, "every touch delivered once");
    // The results saw what the world sent: the touched converted at about the planted rate.
    let group = &outcome.results.groups[0];
    assert_eq!(group.touched, row.touched);
    assert!(group.touched_converted >= lift_orders / 2, "{group:?}");
}

#[test]
fn with_nothing_planted_canvas_loop_measures_an_interval_that_contains_zero() {
    let work = TempDir::new().unwrap();
    let plugins = repo_root().join("target").join("plugins");
    let output = canvas()
        .args(["loop", "--members", "5000", "--days", "40", "--seed", "11", "--plant", "dormant-recall=0"])
        .args(["--format", "json", "--plugins"])
        .arg(&plugins)
        .arg("--work")
        .arg(work.path().join("loop"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let row = &json["planted_vs_measured"][0];
    assert_eq!(row["strategy"], "dormant-recall");
    assert_eq!(row["planted_uplift_pp"], 0.0);
    let measured = row["measured_uplift_pp"].as_array().expect("measured");
    let (low, high) = (measured[1].as_f64().unwrap(), measured[2].as_f64().unwrap());
    assert!(low <= 0.0 && 0.0 <= high, "no effect planted, yet [{low}, {high}]: {row}");
    assert!(row["touched"].as_u64().unwrap() >= 80, "{row}");
    assert_eq!(row["uplift_inside"], true);
    assert_eq!(json["results"]["groups"][0]["key"]["strategy"], "dormant-recall");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_harm_shows_as_more_deletions_among_the_touched_than_the_held_out() {
    let work = TempDir::new().unwrap();
    // Two strategies over the same members: some get a second touch within 7 days.
    let plants = [("category-recommendation", 0.0), ("group-buy-referral", 0.0)];
    let harm = Some(Harm { over: 1, probability: 0.3 });
    let outcome = run(options(&work, 7, 3_000, 30, &plants, harm)).await;
    let deletions: u64 = outcome.counts.deletions.values().sum();
    assert!(deletions >= 5, "{:?}", outcome.counts);
    let total = &outcome.results.total;
    let (touched, held) = (total.touched_harm_rate.unwrap(), total.holdout_harm_rate.unwrap());
    assert!(touched > held, "touched {touched} vs held out {held}");
    assert!(total.harm_uplift_low_pp.unwrap() > 0.0, "{total:?}");
    for row in &outcome.rows {
        let (t, h, _, _) = row.harm_rates.expect("touched and held out");
        assert!(t > h, "{row:?}");
    }
}
