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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worlds_receiver_draws_once_per_key_and_refuses_what_is_not_a_touch() {
    use canvas::calendar::BrandCalendar;
    use canvas::model::Product;
    use canvas::world::{receiver, World};
    let product = Product {
        sku: "S1".into(),
        name: String::new(),
        category: "dresses".into(),
        price: 100,
        launched_at: 0,
        tags: vec![],
    };
    let plan = Plan { seed: 1, lift: BTreeMap::from([("s".into(), 1.0)]), lift_days: 7, background: 0.0, harm: None };
    let calendar = BrandCalendar::named("Asia/Shanghai").unwrap();
    let world = std::sync::Arc::new(World::new(plan, calendar, vec!["M1".into()], &[product]).unwrap());
    let receiver = receiver::start(world.clone()).await.unwrap();
    let client = reqwest::Client::new();
    let post = |key: &str, body: String| client.post(&receiver.url).header("Idempotency-Key", key).body(body).send();
    let line = |key: &str| {
        format!(
            r#"{{"key":"{key}","strategy":"s","member_id":"M1","run_at":"2026-03-01T10:00:00+08:00","send_at":null}}"#
        )
    };
    assert_eq!(post("k1", line("k1")).await.unwrap().status(), 200);
    assert_eq!(post("k1", line("k1")).await.unwrap().status(), 409, "a redelivery: dispatch counts it delivered");
    assert_eq!(post("k2", line("k1")).await.unwrap().status(), 400, "the header names another touch");
    let bad = post("k3", "{\"key\":\"k3\"}".into()).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("missing field"));
    let bad_time = post("k4", line("k4").replace("2026-03-01T10:00:00+08:00", "yesterday")).await.unwrap();
    assert_eq!(bad_time.status(), 400);
    let reactions = world.settle();
    assert_eq!(reactions.orders.len(), 1, "one order for the one touch, however often it came");
    let placed = reactions.orders[0]["placed_at"].as_str().unwrap();
    assert!(placed > "2026-03-01T10:00:00+08:00" && placed < "2026-03-08T10:00:00+08:00", "{placed}");
    assert_eq!(world.counts().redeliveries, 1);
}

#[test]
fn canvas_loop_refuses_a_bad_plan_naming_the_setting() {
    let refused = |extra: &[&str]| {
        let output = canvas().args(["loop", "--members", "100"]).args(extra).output().unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).to_string()
    };
    assert!(refused(&["--plant", "dormant-recall"]).contains("write STRATEGY=PCT"));
    assert!(refused(&["--plant", "dormant-recall=lots"]).contains("`lots` is not a percentage"));
    assert!(refused(&["--plant", "no-such-strategy=10"]).contains("no-such-strategy.wasm"));
    assert!(refused(&["--plant", "dormant-recall=150"]).contains("the lift of dormant-recall is 1.5"));
    assert!(refused(&["--plant", "dormant-recall=10", "--lift-days", "9"]).contains("lift days is 9"));
    assert!(refused(&["--plant", "dormant-recall=10", "--days", "5"]).contains("more than the attribution window"));
    assert!(refused(&["--plant", "dormant-recall=10", "--start", "2099-01-01"]).contains("not past yet"));
}
