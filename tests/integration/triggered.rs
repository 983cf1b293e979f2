//! The triggered strategies of issue 36 end to end: `browse-abandon` and
//! `out-of-stock-recovery` over `canvas simulate` (an event at T fires at
//! T + the trigger's delay, its cancel conditions checked up to then), and
//! the sales an out-of-stock-recovery task recovers credited to its guide in
//! the live results (store, `canvas results`, the API, `canvas report`).
//!
//! The simulate tests need the host's trigger engine (the runner firing
//! `audience.triggers`); the results tests need only the store.

use std::sync::Arc;

use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::member_base::MemberBase;
use canvas::model::{ActionKind, Decision, DecisionStatus};
use canvas::results::{GuideRecovery, Results, ResultsQuery, RECOVERY_STRATEGY};
use canvas::store::{Queue, Store};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;

/// No control group, so that every decision the tests expect is sent.
const NO_HOLDOUT: &str = "[governance]\nholdout_percent = 0\n";

fn decisions_of<'a>(sim: &'a Simulated, strategy: &str) -> Vec<&'a Value> {
    sim.decisions.iter().filter(|d| d["strategy"] == strategy).collect()
}

/// A member who joined in 2025 and has been a WeCom friend since (the
/// message goes out on WeCom); the tests give them an order, so they are no
/// first-order case.
fn customer(id: &str) -> String {
    format!("{id},会员{id},2,,2025-01-01T10:00:00+08:00,2025-01-02T10:00:00+08:00,S01,G0101,")
}

fn view(id: &str, member: &str, at: &str, sku: &str) -> String {
    format!(r#"{id},{member},product_view,{at},"{{""sku"":""{sku}"",""name"":""春季连衣裙""}}""#)
}

#[test]
fn a_view_without_an_order_gets_one_message_a_day_later_and_an_order_in_between_calls_it_off() {
    let data = Data::new()
        .raw_member(&customer("V1"))
        .raw_member(&customer("V2"))
        .order("V1", "2025-12-01T12:00:00+08:00")
        .order("V2", "2025-12-01T12:00:00+08:00")
        .raw_event(&view("E1", "V1", "2026-03-02T14:00:00+08:00", "DR-1"))
        .raw_event(&view("E2", "V2", "2026-03-02T14:00:00+08:00", "DR-1"))
        .order("V2", "2026-03-03T09:00:00+08:00");
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("browse-abandon")], "2026-03-01", "2026-03-05", config(NO_HOLDOUT));
    let sent = decisions_of(&sim, "browse-abandon");
    assert_eq!(sent.len(), 1, "V2 ordered within 24 hours: {sent:?}");
    let d = sent[0];
    assert_eq!((d["member_id"].as_str(), d["step"].as_str()), (Some("V1"), Some("browse")));
    assert_eq!(d["run_at"], "2026-03-03T14:00:00+08:00", "24 hours after the view");
    assert_eq!((d["action"].as_str(), d["status"].as_str()), (Some("message"), Some("dispatched")));
    assert_eq!((d["variables"]["sku"].as_str(), d["variables"]["name"].as_str()), (Some("DR-1"), Some("春季连衣裙")));
}

#[test]
fn a_second_view_of_the_same_product_within_30_days_brings_nothing_and_another_product_does() {
    let data = Data::new()
        .raw_member(&customer("V1"))
        .order("V1", "2025-12-01T12:00:00+08:00")
        .raw_event(&view("E1", "V1", "2026-03-02T14:00:00+08:00", "DR-1"))
        .raw_event(&view("E2", "V1", "2026-03-12T14:00:00+08:00", "DR-1"))
        .raw_event(&view("E3", "V1", "2026-03-20T14:00:00+08:00", "TP-7"))
        .raw_event(&view("E4", "V1", "2026-04-06T14:00:00+08:00", "DR-1"));
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("browse-abandon")], "2026-03-01", "2026-04-10", config(NO_HOLDOUT));
    let got: Vec<(&str, &str)> = decisions_of(&sim, "browse-abandon")
        .iter()
        .map(|d| (d["run_at"].as_str().unwrap(), d["variables"]["sku"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("2026-03-03T14:00:00+08:00", "DR-1"),
            ("2026-03-21T14:00:00+08:00", "TP-7"),
            ("2026-04-07T14:00:00+08:00", "DR-1"),
        ],
        "DR-1 again only 35 days after it was brought up"
    );
}

#[test]
fn a_wecom_friend_who_never_bought_gets_the_first_order_coupon_with_the_product() {
    let data = Data::new().member("F1", 1, "").raw_event(&view("E1", "F1", "2026-03-02T14:00:00+08:00", "DR-1"));
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("browse-abandon")], "2026-03-01", "2026-03-05", config(NO_HOLDOUT));
    let sent = decisions_of(&sim, "browse-abandon");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0]["step"].as_str(), sent[0]["action"].as_str()), (Some("browse_first_order"), Some("coupon")));
    assert_eq!(sent[0]["benefit"]["value"], 20.0);
    assert_eq!(sent[0]["variables"]["sku"], "DR-1");
}

fn request(id: &str, member: &str, at: &str, price_sensitive: bool) -> String {
    format!(
        r#"{id},{member},out_of_stock_request,{at},"{{""sku"":""DR-1"",""size"":""M"",""store_id"":""S02"",""price_sensitive"":{price_sensitive}}}""#
    )
}

#[test]
fn an_out_of_stock_request_gives_the_members_guide_a_task_with_the_link_and_a_coupon_when_price_sensitive() {
    let data = Data::new()
        .raw_member("P1,会员P1,2,,2025-01-01T10:00:00+08:00,2025-01-01T10:00:00+08:00,S01,G0101,")
        .raw_member("P2,会员P2,2,,2025-01-01T10:00:00+08:00,2025-01-01T10:00:00+08:00,S01,G0102,")
        .raw_event(&request("E1", "P1", "2026-03-02T15:00:00+08:00", true))
        .raw_event(&request("E2", "P2", "2026-03-02T16:00:00+08:00", false))
        .raw_event(r#"E3,P2,out_of_stock_request,2026-03-02T17:00:00+08:00,"{""sku"":""DR-1""}""#);
    let dir = data.write();
    let plugins = [plugin("out-of-stock-recovery")];
    let sim = simulate_with(dir.path(), &plugins, "2026-03-01", "2026-03-03", config(NO_HOLDOUT));
    let tasks = decisions_of(&sim, "out-of-stock-recovery");
    assert_eq!(tasks.len(), 2, "a request without size and store is ignored: {tasks:?}");
    let [p1, p2] = [tasks[0], tasks[1]];
    assert_eq!((p1["member_id"].as_str(), p1["action"].as_str()), (Some("P1"), Some("staff_task")));
    assert_eq!(p1["run_at"], "2026-03-02T15:00:00+08:00", "at once");
    assert_eq!((p1["guide_id"].as_str(), p2["guide_id"].as_str()), (Some("G0101"), Some("G0102")), "their own guide");
    assert_eq!(p1["variables"]["link"], "https://shop.example.com/p/DR-1?size=M");
    assert_eq!((p1["variables"]["size"].as_str(), p1["variables"]["store"].as_str()), (Some("M"), Some("S02")));
    assert_eq!(p1["benefit"]["value"], 20.0, "price-sensitive: a coupon");
    assert!(p2["benefit"].is_null(), "not price-sensitive: the link alone: {p2}");
}

// ---- the sale credited to the guide -----------------------------------

fn recovery_task(member: &str, at: &str, guide: &str) -> Decision {
    let run_at = parse_instant(at).unwrap();
    Decision {
        key: format!("{RECOVERY_STRATEGY}/recovery/{at}/{member}"),
        strategy: RECOVERY_STRATEGY.into(),
        plugin_version: "0.1.0".into(),
        plugin_sha256: "".into(),
        run_at,
        day: CanvasConfig::default().calendar().day_of(run_at),
        member_id: member.into(),
        step: "recovery".into(),
        action: ActionKind::StaffTask,
        channel: "wecom".into(),
        template: "out_of_stock_recovery".into(),
        variables: vec![("sku".into(), "DR-1".into())],
        benefit: None,
        coupon_id: None,
        guide_id: Some(guide.into()),
        group_buy: None,
        status: DecisionStatus::Dispatched,
        reason: None,
        send_at: None,
    }
}

/// 2026-03-02 to 2026-03-15, window 7 days: R1's guide G0101 gets a task
/// 03-02 and R1 orders 03-04 and 03-06 (both credited, once each, to
/// G0101); R2's task goes to G0105 (who took over from R2's own guide) and
/// R2 orders 03-12 (past the window: nothing); R3 gets two tasks, G0101's
/// 03-03 and G0102's 03-05, and orders 03-06 (credited once, to the latest,
/// G0102); R4 orders after another strategy's staff task (not a recovery).
fn recovery_story(dir: &TempDir) -> Arc<Store> {
    let joined = "2025-01-01T10:00:00+08:00";
    let mut data = Data::new();
    for id in ["R1", "R2", "R3", "R4"] {
        data = data.raw_member(&format!("{id},{id},2,,{joined},{joined},S01,G0101,"));
    }
    let data = data
        .raw_order("O1,R1,2026-03-04T12:00:00+08:00,299.00,online,dress,DR-1")
        .raw_order("O2,R1,2026-03-06T12:00:00+08:00,100.00,online,tops,TP-1")
        .raw_order("O3,R2,2026-03-12T12:00:00+08:00,299.00,online,dress,DR-1")
        .raw_order("O4,R3,2026-03-06T12:00:00+08:00,199.00,online,dress,DR-1")
        .raw_order("O5,R4,2026-03-04T12:00:00+08:00,500.00,online,dress,DR-1");
    let store = store_with(dir, &data);
    let mut other = recovery_task("R4", "2026-03-02T10:00:00+08:00", "G0101");
    other.strategy = "first-purchase-nudge".into();
    other.key = "first-purchase-nudge/first/R4".into();
    let decisions = [
        recovery_task("R1", "2026-03-02T15:00:00+08:00", "G0101"),
        recovery_task("R2", "2026-03-02T15:00:00+08:00", "G0105"),
        recovery_task("R3", "2026-03-03T15:00:00+08:00", "G0101"),
        recovery_task("R3", "2026-03-05T15:00:00+08:00", "G0102"),
        other,
    ];
    store.record_decisions(&decisions, Queue::Nothing).unwrap();
    store
}

fn recovered(store: &Store) -> Results {
    let config = CanvasConfig::default();
    let base = MemberBase::build(config.calendar(), store.dataset().unwrap());
    let query = ResultsQuery::parse("2026-03-02", "2026-03-15", "strategy").unwrap();
    Results::of_store(&base, store, &query, &config.report, &config.results).unwrap()
}

#[test]
fn orders_after_a_recovery_task_are_credited_to_the_tasks_guide_each_once_within_the_window() {
    let dir = TempDir::new().unwrap();
    let results = recovered(&recovery_story(&dir));
    let row = |guide: &str, tasks, members_ordered, orders, revenue_fen| GuideRecovery {
        guide_id: guide.into(),
        tasks,
        members_ordered,
        orders,
        revenue_fen,
    };
    assert_eq!(
        results.recovered_by_guides,
        [
            row("G0101", 2, 1, 2, 39_900), // R1's two orders; R3's order went to the later task
            row("G0102", 1, 1, 1, 19_900), // R3's order
            row("G0105", 1, 0, 0, 0),      // R2 ordered past the window
        ]
    );
    let strategy = results.groups.iter().find(|g| g.key["strategy"] == RECOVERY_STRATEGY).unwrap();
    assert_eq!(strategy.staff_tasks, 4, "the strategy's own row counts its tasks as ever");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovered_sales_per_guide_show_in_the_api_the_cli_and_the_report() {
    let dir = TempDir::new().unwrap();
    let expected = serde_json::to_value(recovered(&recovery_story(&dir))).unwrap();
    assert_eq!(expected["recovered_by_guides"][0]["guide_id"], "G0101");
    let store_dir = dir.path().join("store");
    let store = store_dir.to_str().unwrap().to_string();
    let range = ["--from", "2026-03-02", "--to", "2026-03-15", "--by", "strategy", "--store", store.as_str()];

    let output = canvas().arg("results").args(range).env_remove("CANVAS_TOKEN").output().unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(table.contains("recovered by guides (orders within 7 days of an out-of-stock-recovery task):"), "{table}");
    let g0101 = table.lines().find(|l| l.trim_start().starts_with("G0101")).expect("a line for G0101");
    assert_eq!(g0101.split_whitespace().collect::<Vec<_>>(), ["G0101", "2", "1", "2", "¥399"], "{table}");

    let out = dir.path().join("out");
    let output = canvas()
        .arg("report")
        .args(range)
        .args(["--out", out.to_str().unwrap()])
        .env_remove("CANVAS_TOKEN")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<h2>Recovered by guides</h2>"), "{html}");
    assert!(html.contains("<tr><td>G0102</td><td>1</td><td>1</td><td>1</td><td>¥199</td></tr>"), "{html}");

    let config = service_config(&dir, "", "");
    let running = start_at(config, Arc::new(Store::open(&store_dir).unwrap()), "2026-03-16T10:00:00+08:00", 1.0).await;
    let (status, from_api) = running.get("/api/v1/results?from=2026-03-02&to=2026-03-15&by=strategy").await;
    assert_eq!(status, StatusCode::OK, "{from_api}");
    assert_eq!(from_api["recovered_by_guides"], expected["recovered_by_guides"]);
    running.service.shutdown().await.unwrap();
}
