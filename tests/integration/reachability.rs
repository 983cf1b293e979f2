//! Reachability: no touch goes down a path that no longer exists. A member
//! who deleted the brand on WeCom (删粉), never added it, unsubscribed, or is
//! marked do-not-contact is not sent a touch on that channel — as of the run
//! instant, never later — unless the strategy names a fallback channel that
//! reaches them; the reason says why and since when.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;

const RUN: &str = "2026-03-01T10:00:00+08:00";

/// March birthdays (birthday-tiered runs on the 1st at 10:00), each with a
/// WeCom story; M2 never added the brand.
fn march() -> Data {
    let mut data = Data::new()
        .member("M1", 1, "1990-03-14")
        .raw_member("M2,会员M2,1,1990-03-14,2025-01-01T10:00:00+08:00,,S01,G0101,");
    for id in ["M3", "M4", "M5", "M6", "M7", "M8"] {
        data = data.member(id, 1, "1990-03-14");
    }
    data.raw_event("E1,M3,wecom_deleted,2026-03-01T09:59:00+08:00,")
        .raw_event("E2,M4,wecom_deleted,2026-03-01T10:00:01+08:00,")
        .raw_event("E3,M5,wecom_deleted,2026-02-20T12:00:00+08:00,")
        .raw_event("E4,M5,wecom_added,2026-02-21T12:00:00+08:00,")
        .raw_event("E5,M6,wecom_deleted,2026-02-28T17:30:00Z,")
        .raw_event(r#"E6,M7,unsubscribed,2026-02-01T12:00:00+08:00,"{""channel"":""wecom""}""#)
        .raw_event("E7,M8,wecom_deleted,2026-02-10T12:00:00+08:00,")
        .raw_event("E8,M8,unsubscribed,2026-02-11T12:00:00+08:00,")
}

/// member → (status, channel, reason) of each birthday-tiered decision.
fn outcomes(sim: &Simulated) -> std::collections::BTreeMap<String, (String, String, String)> {
    sim.decisions
        .iter()
        .map(|d| {
            let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            (text("member_id"), (text("status"), text("channel"), text("reason")))
        })
        .collect()
}

#[test]
fn unreachable_members_are_suppressed_naming_why_and_since_when_as_of_the_run_instant() {
    let data = march().write();
    let sim = simulate_with(
        data.path(),
        &[plugin("birthday-tiered")],
        "2026-03-01",
        "2026-03-01",
        config("[governance]\nholdout_percent = 0\n"),
    );
    let got = outcomes(&sim);
    let of = |m: &str| (got[m].0.as_str(), got[m].2.as_str());
    assert_eq!(of("M1"), ("dispatched", ""));
    assert_eq!(of("M2"), ("suppressed", "unreachable: not a WeCom friend"));
    assert_eq!(
        of("M3"),
        ("suppressed", "unreachable: deleted the brand on WeCom on 2026-03-01"),
        "09:59, before the run"
    );
    assert_eq!(of("M4"), ("dispatched", ""), "deleted at 10:00:01: the run does not see the future");
    assert_eq!(of("M5"), ("dispatched", ""), "added the brand again the next day");
    assert_eq!(of("M6"), ("suppressed", "unreachable: deleted the brand on WeCom on 2026-03-01"), "UTC-stamped");
    assert_eq!(of("M7"), ("suppressed", "unreachable: unsubscribed from wecom on 2026-02-01"));
    assert_eq!(of("M8"), ("suppressed", "unreachable: unsubscribed from every channel on 2026-02-11"));

    let totals = &sim.result.summary.strategies["birthday-tiered"];
    assert_eq!(totals.unreachable, 5);
    assert_eq!(totals.unreachable_by_channel["wecom"], 5);
    let table = sim.result.summary.table();
    assert!(table.contains("unreachable"), "{table}");
    assert!(table.contains("suppressed: unreachable: deleted the brand on WeCom  (birthday-tiered 2)"), "{table}");
    let html = std::fs::read_to_string(sim.out.path().join("report.html")).unwrap();
    assert!(html.contains(r#"<td title="wecom 5">5</td>"#), "the report counts them per strategy and channel");
}

#[test]
fn a_fallback_channel_carries_the_touch_when_it_reaches_the_member_and_the_caps_count_it() {
    let data = march().write();
    let toml = "[governance]\nholdout_percent = 0\n[strategies.birthday-tiered]\nfallback_channels = [\"sms\"]\n";
    let sim = simulate_with(data.path(), &[plugin("birthday-tiered")], "2026-03-01", "2026-03-01", config(toml));
    let got = outcomes(&sim);
    assert_eq!(
        got["M3"],
        (
            "dispatched".into(),
            "sms".into(),
            "by sms: wecom cannot reach the member (deleted the brand on WeCom on 2026-03-01)".into()
        )
    );
    assert_eq!((got["M7"].0.as_str(), got["M7"].1.as_str()), ("dispatched", "sms"), "unsubscribed from WeCom only");
    assert_eq!(got["M8"].2, "unreachable: unsubscribed from every channel on 2026-02-11", "no channel reaches them");
    assert_eq!(got["M1"].1, "wecom", "a reachable member keeps the touch's own channel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_do_not_contact_mark_stops_every_channel_until_cleared_and_is_on_record() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &march());
    install(&store, &[plugin("birthday-tiered")]);
    let s = start_at(service_config(&dir, "", ""), store.clone(), "2026-03-01T09:00:00+08:00", 1.0).await;

    let (status, marked) =
        s.post("/api/v1/members/M1/do-not-contact", json!({ "reason": "asked by phone" }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{marked}");
    let (status, _) = s.post("/api/v1/members/nobody/do-not-contact", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, ran) = s.post("/api/v1/runs", json!({ "at": RUN }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    let (_, decided) = s.get("/api/v1/members/M1/decisions").await;
    assert_eq!(decided[0]["status"], "suppressed", "{decided}");
    assert_eq!(decided[0]["reason"], "unreachable: do not contact (set on 2026-03-01)");

    let cleared = s.client.delete(s.url("/api/v1/members/M1/do-not-contact")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(cleared.status(), StatusCode::OK);
    let (_, audit) = s.get("/api/v1/audit").await;
    let marks: Vec<&Value> = audit.as_array().unwrap().iter().filter(|e| e["action"] == "do-not-contact").collect();
    assert_eq!(marks.len(), 2, "{audit}");
    assert_eq!(marks[1]["after"], json!({ "do_not_contact": true, "reason": "asked by phone" }));
    s.service.shutdown().await.unwrap();

    // The mark is an event of the member's: a dry run over the store's data sees it from when it was set.
    let events = store.dataset().unwrap().events;
    let kinds: Vec<&str> = events.iter().filter(|e| e.member_id == "M1").map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["do_not_contact", "do_not_contact_cleared"]);
}

#[test]
fn canvas_member_do_not_contact_marks_and_clears_from_the_command_line() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &march(), &["birthday-tiered"]);
    let member = |args: &[&str]| {
        canvas().args(["member", "do-not-contact"]).args(args).arg("--store").arg(&store).output().unwrap()
    };
    let set = member(&["M1", "--reason", "complaint"]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    assert!(String::from_utf8_lossy(&set.stdout).contains("M1: do not contact"));
    let unknown = member(&["nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no member `nobody`"));
    let clear = member(&["M1", "--clear"]);
    assert!(clear.status.success());
    let audit = canvas().args(["audit", "--format", "json", "--store"]).arg(&store).output().unwrap();
    let entries: Vec<Value> = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(entries.iter().filter(|e| e["action"] == "do-not-contact").count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_touch_whose_member_deletes_the_brand_before_it_is_sent_is_cancelled_saying_why() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &march());
    install(&store, &[plugin("birthday-tiered")]);
    let s = start_at(service_config(&dir, "", ""), store, "2027-03-01T21:30:00+08:00", 1.0).await;
    // At 22:00 quiet hours defer every touch to 09:00. (In 2027: the
    // dispatcher goes by the later of the service's clock and the real one.)
    let (status, ran) =
        s.post("/api/v1/runs", json!({ "at": "2027-03-01T22:00:00+08:00", "force": true }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    let (_, pending) = s.get("/api/v1/outbox?state=pending").await;
    let keys = |list: &Value, member: &str| {
        list.as_array().unwrap().iter().filter(|e| e["key"].as_str().unwrap().ends_with(member)).count()
    };
    assert_eq!((keys(&pending, "/M1"), keys(&pending, "/M5")), (1, 1), "{pending}");

    let events = json!([
        { "event_id": "X1", "member_id": "M1", "kind": "wecom_deleted", "at": "2027-03-01T23:00:00+08:00", "attrs": {} },
        { "event_id": "X2", "member_id": "M5", "kind": "wecom_deleted", "at": "2027-03-01T23:00:00+08:00", "attrs": {} },
        { "event_id": "X3", "member_id": "M5", "kind": "wecom_added", "at": "2027-03-01T23:30:00+08:00", "attrs": {} },
    ]);
    let (status, ingested) = s.post("/api/v1/events", events.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ingested}");
    let (_, cancelled) = s.get("/api/v1/outbox?state=cancelled").await;
    let entries = cancelled.as_array().unwrap();
    assert_eq!(entries.len(), 1, "M5 added the brand again: their touch stays: {cancelled}");
    assert!(entries[0]["key"].as_str().unwrap().ends_with("/M1"));
    assert_eq!(entries[0]["last_error"], "cancelled: M1 deleted the brand on WeCom on 2027-03-01");
    s.service.shutdown().await.unwrap();
}

/// first-purchase-nudge asks for members who added the brand on WeCom
/// exactly `after_days` (30) ago: the day their *current* friendship began.
#[test]
fn first_purchase_nudge_selects_current_friends_by_the_day_the_current_friendship_began() {
    let member =
        |id: &str, added: &str| format!("{id},会员{id},1,1990-05-01,2025-01-01T10:00:00+08:00,{added},S01,G0101,");
    let data = Data::new()
        .raw_member(&member("F1", "2026-03-01T12:00:00+08:00"))
        .raw_member(&member("F2", "2026-03-01T12:00:00+08:00"))
        .raw_member(&member("F3", "2025-06-01T12:00:00+08:00"))
        .raw_member(&member("F4", "2026-03-01T12:00:00+08:00"))
        .raw_event("E1,F2,wecom_deleted,2026-03-20T12:00:00+08:00,")
        .raw_event("E2,F3,wecom_deleted,2026-02-01T12:00:00+08:00,")
        .raw_event("E3,F3,wecom_added,2026-03-01T12:00:00+08:00,")
        .raw_event("E4,F4,wecom_deleted,2026-03-31T10:30:00+08:00,")
        .write();
    let sim = simulate_with(
        data.path(),
        &[plugin("first-purchase-nudge")],
        "2026-03-31",
        "2026-03-31",
        config("[governance]\nholdout_percent = 0\n"),
    );
    let members: Vec<String> = sim.decided("first-purchase-nudge").into_iter().map(|(_, m)| m).collect();
    assert_eq!(members, ["F1", "F3", "F4"], "F2 deleted the brand before the run; F3 added it again 30 days ago");
    assert!(sim.decisions.iter().all(|d| d["step"] == "first" && d["status"] == "dispatched"), "{:?}", sim.decisions);
}

/// Day number (days since 1970-01-01) of a date, as WIT's `day` counts.
fn day_number(date: &str) -> String {
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days().to_string()
}

/// The reach facts a WIT 0.3.0 plugin is given, and the condition
/// `wecom-friend-now`, for each WeCom and consent story (as of the run
/// instant: M4's deletion a second after it is not seen).
#[test]
fn a_0_3_plugin_is_told_how_each_member_can_be_reached_and_can_ask_for_current_friends() {
    let data = march()
        .member("M9", 1, "1990-03-14")
        .member("M10", 1, "1990-03-14")
        .raw_event("E9,M9,unsubscribed,2026-02-01T12:00:00+08:00,")
        .raw_event(r#"E10,M9,resubscribed,2026-02-03T12:00:00+08:00,"{""channel"":""sms""}""#)
        .raw_event("E11,M10,do_not_contact,2026-02-05T12:00:00+08:00,")
        .write();
    let no_holdout = "[governance]\nholdout_percent = 0\n";
    let sim = simulate_with(data.path(), &[test_plugin("reach-echo")], "2026-03-01", "2026-03-01", config(no_holdout));
    let echoed: std::collections::BTreeMap<String, Value> =
        sim.decisions.iter().map(|d| (d["member_id"].as_str().unwrap().to_string(), d["variables"].clone())).collect();
    let facts = |m: &str| {
        let v = &echoed[m];
        let text = |k: &str| v[k].as_str().unwrap().to_string();
        (text("wecom"), text("sms"), text("wecom_consent"), text("do_not_contact"))
    };
    let joined = day_number("2025-01-01");
    let friend = format!("friend since {joined}");
    let open = |wecom: &str| (wecom.to_string(), "true".into(), "true".into(), "no".into());
    assert_eq!(facts("M1"), open(&friend));
    assert_eq!(facts("M2"), open("never"));
    assert_eq!(facts("M3"), open(&format!("deleted on {}", day_number("2026-03-01"))));
    assert_eq!(facts("M4"), open(&friend), "deleted a second after the run");
    assert_eq!(facts("M5"), open(&format!("friend since {}", day_number("2026-02-21"))), "re-added");
    assert_eq!(echoed["M5"]["profile_added_day"], day_number("2026-02-21"), "the profile agrees");
    assert_eq!(facts("M7"), (friend.clone(), "true".into(), "false".into(), "no".into()), "unsubscribed from wecom");
    let deleted_feb_10 = format!("deleted on {}", day_number("2026-02-10"));
    assert_eq!(facts("M8"), (deleted_feb_10, "false".into(), "false".into(), "no".into()), "from every channel");
    assert_eq!(facts("M9"), (friend.clone(), "true".into(), "false".into(), "no".into()), "every channel, then sms");
    let dnc = format!("since {}", day_number("2026-02-05"));
    assert_eq!(facts("M10"), (friend, "false".into(), "false".into(), dnc));

    let friends_only = format!("{no_holdout}[strategies.reach-echo]\nconfig = {{ friends_only = true }}\n");
    let sim =
        simulate_with(data.path(), &[test_plugin("reach-echo")], "2026-03-01", "2026-03-01", config(&friends_only));
    let mut selected: Vec<&str> = sim.decisions.iter().map(|d| d["member_id"].as_str().unwrap()).collect();
    selected.sort();
    assert_eq!(selected, ["M1", "M10", "M4", "M5", "M7", "M9"], "wecom-friend-now: not M2 (never), M3, M8 (deleted)");
}

/// A plugin built against 0.2.0, before `reach` and `wecom-friend-now`,
/// keeps running beside 0.3.0 ones: it is given the 0.2.0 member shape (its
/// events and history intact) and its `wecom-added` goes by the current
/// friendship too.
#[test]
fn a_0_2_plugin_keeps_running_and_sees_the_current_friendship() {
    let data = march().write();
    let no_holdout = config("[governance]\nholdout_percent = 0\n");
    let plugins = [test_plugin("api-0-2"), test_plugin("reach-echo")];
    let sim = simulate_with(data.path(), &plugins, "2026-03-01", "2026-03-01", no_holdout);
    let runs: Vec<(&str, &str)> =
        sim.runs.iter().map(|r| (r["strategy"].as_str().unwrap(), r["status"].as_str().unwrap())).collect();
    assert!(runs.contains(&("api-0-2", "completed")) && runs.contains(&("reach-echo", "completed")), "{runs:?}");
    let echoed: std::collections::BTreeMap<&str, &Value> = sim
        .decisions
        .iter()
        .filter(|d| d["strategy"] == "api-0-2")
        .map(|d| (d["member_id"].as_str().unwrap(), &d["variables"]))
        .collect();
    let mut selected: Vec<&str> = echoed.keys().copied().collect();
    selected.sort();
    assert_eq!(selected, ["M1", "M4", "M5", "M7"], "friends as of 10:00: not M2 (never), M3, M6, M8 (deleted)");
    assert_eq!(echoed["M5"]["added_day"], day_number("2026-02-21"));
    assert_eq!(echoed["M5"]["events"], "2", "its deletion and re-add, in the 0.2.0 member's events");
}
