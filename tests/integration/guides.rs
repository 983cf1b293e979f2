//! Guides as people: guides.csv (and `POST /api/v1/guides`) says who left
//! and how many staff tasks a day each guide takes. A task for a member whose
//! guide had left by the run instant goes to the store's fallback, else the
//! HQ account, saying so; a guide's day beyond their capacity is deferred to
//! the next morning or dropped, per strategy — counted over runs, in the
//! real store as in a simulation.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;

const RUN: &str = "2026-03-01T10:00:00+08:00";
/// 30 days before [`RUN`]: first-purchase-nudge's day for a staff task.
const ADDED: &str = "2026-01-30T12:00:00+08:00";
const NO_HOLDOUT: &str = "[governance]\nholdout_percent = 0\n";
const FALLBACKS: &str = "[governance.guides]\nhq_account = \"HQ\"\nstore_fallback = { S01 = \"G0100\" }\n";

/// A member of `store` with `guide`, who added the brand on WeCom on `added` and never bought.
fn friend(id: &str, store: &str, guide: &str, added: &str) -> String {
    format!("{id},会员{id},1,,{added},{added},{store},{guide},")
}

/// member → (status, guide_id, reason) of each first-purchase-nudge decision.
fn tasks(sim: &Simulated) -> BTreeMap<String, (String, String, String)> {
    sim.decisions
        .iter()
        .map(|d| {
            let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            (text("member_id"), (text("status"), text("guide_id"), text("reason")))
        })
        .collect()
}

fn staff(status: &str, guide: &str, reason: &str) -> (String, String, String) {
    (status.into(), guide.into(), reason.into())
}

/// M1's guide left the day before the run, M2's leaves a second after it,
/// M3's store (S02) has no fallback, M4's guide is not in guides.csv.
fn departures() -> Data {
    Data::new()
        .raw_member(&friend("M1", "S01", "G0101", ADDED))
        .raw_member(&friend("M2", "S01", "G0102", ADDED))
        .raw_member(&friend("M3", "S02", "G0201", ADDED))
        .raw_member(&friend("M4", "S01", "G9999", ADDED))
        .raw_guide("G0100,S01,店长,active,,")
        .raw_guide("G0101,S01,王芳,left,2026-02-28T18:00:00+08:00,")
        .raw_guide("G0102,S01,李娜,left,2026-03-01T10:00:01+08:00,")
        .raw_guide("G0201,S02,张伟,left,2026-02-01T12:00:00+08:00,")
}

#[test]
fn a_task_for_a_member_whose_guide_left_yesterday_goes_to_the_stores_fallback_or_hq_as_of_the_run_instant() {
    let data = departures().write();
    let nudge = [plugin("first-purchase-nudge")];
    let sim =
        simulate_with(data.path(), &nudge, "2026-03-01", "2026-03-01", config(&format!("{NO_HOLDOUT}{FALLBACKS}")));
    let got = tasks(&sim);
    let to_store = "guide G0101 left on 2026-02-28: task goes to G0100 (store S01's fallback)";
    assert_eq!(got["M1"], staff("dispatched", "G0100", to_store));
    assert_eq!(got["M2"], staff("dispatched", "G0102", ""), "leaves at 10:00:01: the run does not see the future");
    let to_hq = "guide G0201 left on 2026-02-01: task goes to HQ (the brand's HQ account)";
    assert_eq!(got["M3"], staff("dispatched", "HQ", to_hq));
    assert_eq!(got["M4"], staff("dispatched", "G9999", ""), "a guide guides.csv does not list is there");

    let table = sim.result.summary.table();
    for line in [
        "dispatched: guide left: task goes to the store's fallback  (first-purchase-nudge 1)",
        "dispatched: guide left: task goes to the HQ account  (first-purchase-nudge 1)",
        "staff tasks per guide per day: 4 tasks to 4 guides on 4 guide-days, at most 1 (G0100 on 2026-03-01)",
    ] {
        assert!(table.contains(line), "no {line:?} in\n{table}");
    }

    // With no one there to take them (the HQ account named is a guide who
    // left), the tasks of guides who left are suppressed, naming why.
    let no_hq = format!("{NO_HOLDOUT}[governance.guides]\nhq_account = \"G0101\"\n");
    let sim = simulate_with(data.path(), &nudge, "2026-03-01", "2026-03-01", config(&no_hq));
    let got = tasks(&sim);
    let no_one = "guide G0101 left on 2026-02-28: no one to take the task \
                  (no active fallback for store S01, no active HQ account)";
    assert_eq!(got["M1"], staff("suppressed", "G0101", no_one));
    assert_eq!(got["M2"].0, "dispatched");
    let table = sim.result.summary.table();
    assert!(table.contains("suppressed: guide left: no one to take the task  (first-purchase-nudge 2)"), "{table}");
}

/// 31 members of guide G0101, who takes 30 tasks a day.
fn thirty_one() -> Data {
    let mut data = Data::new().raw_guide("G0101,S01,王芳,active,,30");
    for i in 1..=31 {
        data = data.raw_member(&friend(&format!("M{i:02}"), "S01", "G0101", ADDED));
    }
    data
}

#[test]
fn the_31st_task_of_a_guide_with_capacity_30_is_deferred_to_the_next_morning_or_dropped_per_strategy() {
    let data = thirty_one().write();
    let nudge = [plugin("first-purchase-nudge")];
    let sim = simulate_with(data.path(), &nudge, "2026-03-01", "2026-03-01", config(NO_HOLDOUT));
    let statuses: Vec<&str> = sim.decisions.iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == "dispatched").count(), 30, "{statuses:?}");
    let last = sim.decisions.iter().find(|d| d["member_id"] == "M31").unwrap();
    assert_eq!(last["status"], "deferred");
    assert_eq!(last["send_at"], "2026-03-02T09:00:00+08:00", "the next day, when quiet hours end");
    assert_eq!(last["reason"], "guide G0101 has 30 tasks on 2026-03-01 already; sends at 2026-03-02T09:00:00+08:00");
    let report = &sim.result.report.guide_tasks;
    assert_eq!((report.tasks, report.guides, report.guide_days), (31, 1, 2));
    let busiest: Vec<(String, u32)> = report.busiest.iter().map(|b| (b.date.to_string(), b.tasks)).collect();
    assert_eq!(busiest, [("2026-03-01".to_string(), 30), ("2026-03-02".to_string(), 1)]);
    let html = std::fs::read_to_string(sim.out.path().join("report.html")).unwrap();
    assert!(html.contains("Staff tasks per guide per day") && html.contains("<td>G0101</td>"), "the report shows it");

    let drop = format!("{NO_HOLDOUT}[strategies.first-purchase-nudge]\non_guide_full = \"drop\"\n");
    let sim = simulate_with(data.path(), &nudge, "2026-03-01", "2026-03-01", config(&drop));
    let last = sim.decisions.iter().find(|d| d["member_id"] == "M31").unwrap();
    assert_eq!(
        (&last["status"], &last["reason"]),
        (&json!("suppressed"), &json!("guide G0101 has 30 tasks on 2026-03-01 already"))
    );
    assert_eq!(sim.result.report.guide_tasks.tasks, 30);
}

#[test]
fn a_guides_day_filled_by_an_earlier_run_is_full_for_the_next_run_on_the_real_store() {
    let dir = TempDir::new().unwrap();
    // Two members for the first run's day, one for the next; the guide takes one task a day.
    let data = Data::new()
        .raw_guide("G0101,S01,王芳,active,,1")
        .raw_member(&friend("M1", "S01", "G0101", ADDED))
        .raw_member(&friend("M2", "S01", "G0101", ADDED))
        .raw_member(&friend("M3", "S01", "G0101", "2026-01-31T12:00:00+08:00"));
    let store = installed_store(&dir, &data, &["first-purchase-nudge"]);
    let config_file = dir.path().join("canvas.toml");
    std::fs::write(&config_file, NO_HOLDOUT).unwrap();
    for at in [RUN, "2026-03-02T10:00:00+08:00"] {
        let run = canvas()
            .args(["--config", config_file.to_str().unwrap(), "run", "--store", store.to_str().unwrap()])
            .args(["--at", at, "--strategies", "first-purchase-nudge", "--force", "--no-dispatch"])
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let decisions = canvas::store::Store::open(&store).unwrap().decisions().unwrap();
    let of = |m: &str| decisions.iter().find(|d| d.member_id == m).unwrap();
    assert_eq!(of("M1").status, canvas::model::DecisionStatus::Dispatched);
    assert_eq!(
        of("M2").reason.as_deref(),
        Some("guide G0101 has 1 task on 2026-03-01 already; sends at 2026-03-02T09:00:00+08:00")
    );
    // The second run, another process, reads the first's deferred task back from the store.
    assert_eq!(
        of("M3").reason.as_deref(),
        Some("guide G0101 has 1 task on 2026-03-02 already; sends at 2026-03-03T09:00:00+08:00")
    );
}

#[test]
fn guides_csv_is_checked_like_every_file_naming_the_line_and_column() {
    let rows = [
        "G1,S01,甲,gone,,",
        "G2,S01,乙,left,,",
        "G3,S01,丙,active,2026-01-01T10:00:00+08:00,",
        "G4,S01,丁,active,,10001",
        "G5,S01,戊,left,2026-02-30T10:00:00+08:00,",
        "G6,S01,己,active,,0",
        "G6,S01,庚,active,,",
    ];
    let data = rows.iter().fold(Data::new().member("M1", 1, ""), |data, row| data.raw_guide(row)).write();
    let errors: Vec<String> =
        canvas::import::read_dir(data.path()).expect_err("refused").errors.iter().map(ToString::to_string).collect();
    let left_at_error = &errors[4];
    assert_eq!(
        errors[..4],
        [
            "guides.csv:2: column 4 `status`: `gone` is not `active` or `left`",
            "guides.csv:3: column 5 `left_at`: is empty: a guide whose status is `left` needs the instant they left",
            "guides.csv:4: column 5 `left_at`: is set, but the status is `active` (a guide who left has status `left`)",
            "guides.csv:5: column 6 `daily_task_capacity`: `10001` is not a number of tasks a day from 0 to 10000",
        ]
    );
    assert!(left_at_error.starts_with("guides.csv:6: column 5 `left_at`: "), "{left_at_error}");
    assert_eq!(errors[5], "guides.csv:8: column 1 `guide_id`: `G6` already appears on line 7");
    assert_eq!(errors.len(), 6);

    // A good file is imported with the rest, and counted.
    let good = Data::new().member("M1", 1, "").raw_guide("G0101,S01,王芳,left,2026-02-28T18:00:00+08:00,30").write();
    let store = TempDir::new().unwrap();
    let imported = canvas()
        .args(["import", "--data", data_path(&good), "--store", store.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&imported.stdout);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    assert!(stdout.contains("guides.csv           1 rows: 1 new, 0 changed, 0 unchanged"), "{stdout}");
    let guides = canvas::store::Store::open(store.path()).unwrap().dataset().unwrap().guides;
    assert_eq!(
        (guides[0].id.as_str(), guides[0].daily_task_capacity, guides[0].left_at.is_some()),
        ("G0101", Some(30), true)
    );
}

fn data_path(dir: &TempDir) -> &str {
    dir.path().to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guides_ingested_over_the_api_decide_the_next_run_and_a_bad_record_is_refused_naming_its_field() {
    let dir = TempDir::new().unwrap();
    let data = Data::new().raw_member(&friend("M1", "S01", "G0101", ADDED));
    let store = store_with(&dir, &data);
    install(&store, &[plugin("first-purchase-nudge")]);
    let s = start_at(service_config(&dir, "", FALLBACKS), store, "2026-03-01T09:00:00+08:00", 1.0).await;

    let left = json!([{ "guide_id": "G0101", "store_id": "S01", "name": "王芳", "status": "left",
                        "left_at": "2026-02-28T18:00:00+08:00", "daily_task_capacity": 30 }]);
    let (status, counts) = s.post("/api/v1/guides", left.to_string()).await;
    assert_eq!((status, &counts), (StatusCode::OK, &json!({ "read": 1, "new": 1, "changed": 0, "unchanged": 0 })));
    let (_, again) = s.post("/api/v1/guides", left.to_string()).await;
    assert_eq!(again["unchanged"], 1, "idempotent by guide_id");

    let bad = json!([{ "guide_id": "G0102", "store_id": "S01", "status": "active", "daily_task_capacity": "lots" }]);
    let (status, refused) = s.post("/api/v1/guides", bad.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        refused["details"],
        json!(["guides record 1: field `daily_task_capacity`: `lots` is not a number of tasks a day from 0 to 10000"])
    );

    let (status, ran) = s.post("/api/v1/runs", json!({ "at": RUN }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    let (_, decided) = s.get("/api/v1/members/M1/decisions").await;
    let decision: &Value = &decided[0];
    assert_eq!(decision["guide_id"], "G0100", "{decided}");
    assert_eq!(decision["reason"], "guide G0101 left on 2026-02-28: task goes to G0100 (store S01's fallback)");
    assert_eq!(decision["status"], "dispatched");
    s.service.shutdown().await.unwrap();
}
