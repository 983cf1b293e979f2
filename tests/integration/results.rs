//! Live results over a real store: hand-made members, orders and events
//! (imported as CSV), and decisions recorded the way a run records them,
//! chosen so every number is known by hand. Then the same results through
//! the `canvas` binary (table, JSON, CSV) and the admin API, which must agree.
//!
//! The story, 2026-03-02 (a Monday) to 2026-03-15, window 7 days, harm 7 days:
//! - `s1` (wecom) runs 2026-03-02 10:00: touches A (a 20-yuan coupon), B, C;
//!   holds out H1, H2; suppresses D.
//! - `s2` (sms) runs 2026-03-03 10:00: touches C; at 2026-03-09 10:00 it
//!   gives staff tasks (wecom) for E and F.
//! - A orders 03-04 and redeems the coupon; C orders 03-04 (inside both s1's
//!   and s2's windows: last touch, s2, gets it); B orders 03-12 (past the
//!   window); H1 orders 03-05. B deletes the brand on WeCom 03-05 (harm); C
//!   unsubscribes 03-20 (past the harm window). E's task is done 03-10; F's
//!   03-20 (too late).
//! - Before the period: C bought 2025-06-01 (existing), B 2024-12-01
//!   (re-activated), H1 2026-01-10 (existing); A never (new).

use std::sync::Arc;

use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::member_base::MemberBase;
use canvas::model::{ActionKind, Benefit, BenefitKind, Decision, DecisionStatus};
use canvas::results::{Results, ResultsQuery};
use canvas::store::{Queue, Store};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;

fn data() -> Data {
    let joined = "2024-01-01T10:00:00+08:00";
    let mut data = Data::new();
    for id in ["A", "B", "C", "D", "E", "F", "H1", "H2"] {
        data = data.raw_member(&format!("{id},{id},2,,{joined},{joined},S01,G0101,"));
    }
    data.raw_order("O1,A,2026-03-04T12:00:00+08:00,199.00,online,dress,DR-1")
        .raw_order("O2,C,2026-03-04T12:00:00+08:00,199.00,online,dress,DR-1")
        .raw_order("O3,B,2026-03-12T12:00:00+08:00,199.00,online,dress,DR-1")
        .raw_order("O4,H1,2026-03-05T12:00:00+08:00,199.00,online,dress,DR-1")
        .raw_order("O5,C,2025-06-01T12:00:00+08:00,50.00,store,dress,DR-1")
        .raw_order("O6,B,2024-12-01T12:00:00+08:00,50.00,store,dress,DR-1")
        .raw_order("O7,H1,2026-01-10T12:00:00+08:00,50.00,store,dress,DR-1")
        .raw_event(r#"E1,A,coupon_redeemed,2026-03-04T12:00:00+08:00,"{""coupon_id"":""C-A""}""#)
        .raw_event(r#"E2,B,coupon_redeemed,2026-03-04T12:00:00+08:00,"{""coupon_id"":""C-X""}""#)
        .raw_event("E3,B,wecom_deleted,2026-03-05T09:00:00+08:00,")
        .raw_event("E4,C,unsubscribed,2026-03-20T09:00:00+08:00,")
        .raw_event(r#"E5,E,staff_task_done,2026-03-10T15:00:00+08:00,"{""strategy"":""s2""}""#)
        .raw_event("E6,F,staff_task_done,2026-03-20T15:00:00+08:00,")
}

fn decision(strategy: &str, at: &str, member: &str, channel: &str, status: DecisionStatus) -> Decision {
    let run_at = parse_instant(at).unwrap();
    Decision {
        key: format!("{strategy}/main/{at}/{member}"),
        strategy: strategy.into(),
        plugin_version: "1.0.0".into(),
        plugin_sha256: "".into(),
        run_at,
        day: CanvasConfig::default().calendar().day_of(run_at),
        member_id: member.into(),
        step: "main".into(),
        action: ActionKind::Message,
        channel: channel.into(),
        template: "t".into(),
        variables: vec![],
        benefit: None,
        coupon_id: None,
        guide_id: None,
        group_buy: None,
        status,
        reason: None,
        send_at: None,
    }
}

fn decisions() -> Vec<Decision> {
    use DecisionStatus::*;
    let s1 = "2026-03-02T10:00:00+08:00";
    let mut coupon = decision("s1", s1, "A", "wecom", Dispatched);
    coupon.action = ActionKind::Coupon;
    coupon.benefit = Some(Benefit { kind: BenefitKind::Coupon, value: 2_000, gift: None });
    coupon.coupon_id = Some("C-A".into());
    let task = |member| {
        let mut d = decision("s2", "2026-03-09T10:00:00+08:00", member, "wecom", Dispatched);
        d.action = ActionKind::StaffTask;
        d.guide_id = Some("G0101".into());
        d
    };
    vec![
        coupon,
        decision("s1", s1, "B", "wecom", Dispatched),
        decision("s1", s1, "C", "wecom", Dispatched),
        decision("s1", s1, "H1", "wecom", Holdout),
        decision("s1", s1, "H2", "wecom", Holdout),
        decision("s1", s1, "D", "wecom", Suppressed),
        decision("s2", "2026-03-03T10:00:00+08:00", "C", "sms", Dispatched),
        task("E"),
        task("F"),
    ]
}

/// A store holding the story, at `dir/store`.
fn story(dir: &TempDir) -> Arc<Store> {
    let store = store_with(dir, &data());
    store.record_decisions(&decisions(), Queue::Nothing).unwrap();
    store
}

fn results_of(store: &Store, by: &str) -> Results {
    let config = CanvasConfig::default();
    let base = MemberBase::build(config.calendar(), store.dataset().unwrap());
    let query = ResultsQuery::parse("2026-03-02", "2026-03-15", by).unwrap();
    Results::of_store(&base, store, &query, &config.report, &config.results).unwrap()
}

#[test]
fn conversions_uplift_cost_harm_and_staff_tasks_per_strategy_are_the_hand_counted_ones() {
    let dir = TempDir::new().unwrap();
    let results = results_of(&story(&dir), "strategy");
    let [s1, s2] = [&results.groups[0], &results.groups[1]];
    assert_eq!((s1.key["strategy"].as_str(), s2.key["strategy"].as_str()), ("s1", "s2"));

    assert_eq!((s1.selected, s1.touched, s1.held_out, s1.suppressed), (6, 3, 2, 1));
    assert_eq!((s1.touched_converted, s1.holdout_converted), (2, 1), "A and C converted; B ordered too late; H1 did");
    assert_eq!(
        (s1.touched_orders, s1.touched_revenue_fen, s1.holdout_orders, s1.holdout_revenue_fen),
        (2, 39_800, 1, 19_900)
    );
    assert_eq!(s1.uplift_pp, Some(16.67), "2/3 − 1/2");
    assert!(s1.uplift_low_pp.unwrap() < 0.0 && s1.uplift_high_pp.unwrap() > 16.67, "so few members: a wide interval");
    assert_eq!(s1.incremental_orders, Some(0.5), "(2/3 − 1/2) × 3");
    assert_eq!(s1.incremental_revenue_fen, Some(9_950), "(39800/3 − 19900/2) × 3");
    assert_eq!((s1.coupons_redeemed, s1.coupon_cost_fen, s1.cost_fen), (1, 2_000, 2_000), "C-X is no touch's coupon");
    assert_eq!(s1.roi, Some(3.975), "(9950 − 2000) / 2000");
    assert_eq!((s1.touched_harmed, s1.holdout_harmed), (1, 0), "B's deletion counts, C's late unsubscribe does not");
    assert_eq!(s1.touched_harm_rate, Some(1.0 / 3.0));

    assert_eq!((s2.selected, s2.touched, s2.held_out, s2.touched_converted), (3, 3, 0, 1));
    assert_eq!((s2.uplift_pp, s2.incremental_revenue_fen, s2.roi), (None, None, None), "no holdout, no uplift");
    assert_eq!((s2.staff_tasks, s2.staff_tasks_done, s2.staff_task_done_share), (2, 1, Some(0.5)));
    assert_eq!(s2.cost_fen, 0);

    let total = &results.total;
    assert_eq!((total.selected, total.touched, total.held_out), (8, 5, 2));
    assert_eq!(total.touched_converted, 2, "C converted in both strategies, once in the total");
}

#[test]
fn an_order_inside_two_strategies_windows_is_attributed_once_to_the_last_touch() {
    let dir = TempDir::new().unwrap();
    let results = results_of(&story(&dir), "strategy");
    let [s1, s2] = [&results.groups[0], &results.groups[1]];
    assert_eq!((s1.attributed_orders, s1.attributed_revenue_fen), (1, 19_900), "A's order only");
    assert_eq!((s2.attributed_orders, s2.attributed_revenue_fen), (1, 19_900), "C's order: s2 touched C last");
    assert_eq!((s1.touched_orders, s2.touched_orders), (2, 1), "conversion still counts C's order in both windows");
    assert_eq!(results.total.attributed_revenue_fen, s1.attributed_revenue_fen + s2.attributed_revenue_fen);
    assert_eq!(results.total.attributed_orders, 2, "B's late order and H1's untouched one go to no touch");
}

#[test]
fn grouping_by_channel_and_week_puts_each_touch_in_its_send_week() {
    let dir = TempDir::new().unwrap();
    let results = results_of(&story(&dir), "channel,week");
    let keys: Vec<(String, String)> =
        results.groups.iter().map(|g| (g.key["channel"].clone(), g.key["week"].clone())).collect();
    assert_eq!(
        keys,
        [
            ("sms".into(), "2026-03-02".into()),
            ("wecom".into(), "2026-03-02".into()),
            ("wecom".into(), "2026-03-09".into())
        ]
    );
    let [sms, wecom1, wecom2] = [&results.groups[0], &results.groups[1], &results.groups[2]];
    assert_eq!((sms.touched, sms.attributed_orders), (1, 1));
    assert_eq!((wecom1.selected, wecom1.touched, wecom1.held_out, wecom1.attributed_orders), (6, 3, 2, 1));
    assert_eq!((wecom2.touched, wecom2.staff_tasks, wecom2.staff_tasks_done), (2, 2, 1));
    assert_eq!(results.by, ["channel", "week"]);
}

#[test]
fn the_sales_split_tells_new_existing_and_reactivated_customers_over_all_orders() {
    let dir = TempDir::new().unwrap();
    let split = results_of(&story(&dir), "").sales_split;
    assert_eq!((split.new_members, split.new_revenue_fen), (1, 19_900), "A: first order ever");
    assert_eq!((split.existing_members, split.existing_revenue_fen), (2, 39_800), "C and H1 bought in the year before");
    assert_eq!((split.reactivated_members, split.reactivated_revenue_fen), (1, 19_900), "B: last bought 2024-12");
}

/// `canvas ARGS`: exit code, stdout, stderr.
fn cli(args: &[&str]) -> (Option<i32>, String, String) {
    let output = canvas().args(args).env_remove("CANVAS_TOKEN").output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_table_json_and_csv_agree_with_the_api_and_a_bad_by_is_refused_by_both() {
    let dir = TempDir::new().unwrap();
    let expected = serde_json::to_value(results_of(&story(&dir), "strategy")).unwrap();
    let store_dir = dir.path().join("store");
    let store = store_dir.to_str().unwrap().to_string();
    let range = ["--from", "2026-03-02", "--to", "2026-03-15", "--by", "strategy", "--store", store.as_str()];
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut all: Vec<String> = vec!["results".into()];
        all.extend(range.iter().map(|s| s.to_string()));
        all.extend(extra.iter().map(|s| s.to_string()));
        all
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        cli(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let (code, json, err) = run(&["--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let from_cli: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(from_cli, expected);

    let (code, table, _) = run(&[]);
    assert_eq!(code, Some(0));
    let s1 = table.lines().find(|l| l.starts_with("s1 ")).expect("a row for s1");
    assert!(s1.contains("66.7%") && s1.contains("50.0%") && s1.contains("+16.7 pp"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("total ")), "{table}");
    assert!(table.contains("re-activated 1 members ¥199"), "{table}");

    let (code, csv, _) = run(&["--format", "csv"]);
    assert_eq!(code, Some(0));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "s1, s2 and the total");
    let column = |row: &csv::StringRecord, name: &str| row[header.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(column(&rows[0], "strategy"), "s1");
    assert_eq!(column(&rows[0], "attributed_revenue_fen"), "19900");
    assert_eq!(column(&rows[0], "uplift_pp"), "16.67");
    assert_eq!(column(&rows[2], "group"), "total");

    let (code, _, err) =
        cli(&["results", "--from", "2026-03-02", "--to", "2026-03-15", "--by", "strategy,colour", "--store", &store]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`by`: `colour` is not a dimension; allowed:"), "{err}");
    let (code, _, err) = cli(&["results", "--from", "2026-13-02", "--to", "2026-03-15", "--store", &store]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`from`: `2026-13-02` is not a date YYYY-MM-DD"), "{err}");

    let config = service_config(&dir, "", "");
    let running = start_at(config, Arc::new(Store::open(&store_dir).unwrap()), "2026-03-16T10:00:00+08:00", 1.0).await;
    let (status, from_api) = running.get("/api/v1/results?from=2026-03-02&to=2026-03-15&by=strategy").await;
    assert_eq!(status, StatusCode::OK, "{from_api}");
    assert_eq!(from_api, expected, "one JSON shape: the API's is the CLI's");

    let (status, refused) = running.get("/api/v1/results?from=2026-03-02&to=2026-03-15&by=strategy,colour").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["error"].as_str().unwrap().contains("`by`: `colour` is not a dimension"), "{refused}");
    let (status, refused) = running.get("/api/v1/results?from=2026-03-02").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["error"].as_str().unwrap().contains("`to` is required"), "{refused}");

    // While the service holds the store, the CLI asks it.
    let toml = dir.path().join("canvas.toml");
    std::fs::write(&toml, format!("store = {store:?}\n[serve]\ntoken = \"{TOKEN}\"\n")).unwrap();
    let toml = toml.to_str().unwrap().to_string();
    let (code, json, err) = tokio::task::spawn_blocking(move || {
        cli(&[
            "results",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-15",
            "--by",
            "strategy",
            "--format",
            "json",
            "--config",
            &toml,
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("through its API"), "{err}");
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), expected);
    running.service.shutdown().await.unwrap();
}

#[test]
fn canvas_report_writes_a_self_contained_page_of_the_results() {
    let dir = TempDir::new().unwrap();
    drop(story(&dir));
    let out = dir.path().join("out");
    let store = dir.path().join("store");
    let (code, _, err) = cli(&[
        "report",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-15",
        "--by",
        "strategy",
        "--store",
        store.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<td>s1</td>") && html.contains("+16.7 pp") && html.contains("<svg"), "{html}");
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="), "nothing fetched");
}
