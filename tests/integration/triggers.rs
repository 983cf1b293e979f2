//! Triggered strategies in a simulation, which fires them as the service
//! does: the touches one event starts are governed together (arbitration by
//! priority, holdouts), a firing in quiet hours is deferred like any touch,
//! and a cancel condition that happened by the firing calls it off.

use serde_json::Value;

use crate::support::*;

/// `trigger-echo` reacting to `kind` after `delay` minutes, plus `extra` keys.
fn echo_on(kind: &str, delay: u32, extra: &str) -> String {
    format!("[strategies.trigger-echo]\nconfig = {{ kind = \"{kind}\", delay_minutes = {delay}, channel = \"wecom\"{extra} }}\n")
}

fn of<'s>(decisions: &'s [Value], strategy: &str) -> Vec<&'s Value> {
    decisions.iter().filter(|d| d["strategy"] == strategy).collect()
}

#[test]
fn strategies_one_event_fires_at_one_instant_are_arbitrated_by_priority_and_holdouts_apply() {
    let data = Data::new()
        .member("M1", 1, "")
        .raw_event(r#"E1,M1,coupon_issued,2026-03-02T12:00:00+08:00,"{""coupon_id"":""C1""}""#)
        .write();
    let plugins = [plugin("coupon-reminder"), test_plugin("trigger-echo")];
    let toml = format!(
        "[governance]\nholdout_percent = 0\nexempt_from_caps = []\npriority = [\"trigger-echo\", \"coupon-reminder\"]\n{}",
        echo_on("coupon_issued", 60, "")
    );
    let sim = simulate_with(data.path(), &plugins, "2026-03-02", "2026-03-02", config(&toml));
    let (echo, reminder) = (of(&sim.decisions, "trigger-echo"), of(&sim.decisions, "coupon-reminder"));
    assert_eq!((echo.len(), reminder.len()), (1, 1), "{:?}", sim.decisions);
    assert_eq!((&echo[0]["status"], &echo[0]["run_at"]), (&"dispatched".into(), &"2026-03-02T13:00:00+08:00".into()));
    assert_eq!(reminder[0]["status"], "suppressed");
    assert_eq!(reminder[0]["reason"], "arbitration: trigger-echo has priority");

    let held_out = format!("{toml}holdout_percent = 100\n");
    let sim = simulate_with(data.path(), &plugins, "2026-03-02", "2026-03-02", config(&held_out));
    assert_eq!(of(&sim.decisions, "trigger-echo")[0]["status"], "holdout", "its control group is kept out");
    let reminder = of(&sim.decisions, "coupon-reminder");
    assert_eq!(
        reminder[0]["reason"], "arbitration: trigger-echo has priority",
        "a held-out winner keeps its place, as in a run: the control group looks like the treated one"
    );
}

#[test]
fn a_firing_in_quiet_hours_is_deferred_to_their_end_and_an_order_by_then_calls_one_off() {
    let data = Data::new()
        .member("Q1", 1, "")
        .member("O1", 1, "")
        .raw_event(r#"E1,Q1,product_view,2026-03-02T20:30:00+08:00,"{""sku"":""SKU1""}""#)
        .raw_event(r#"E2,O1,product_view,2026-03-02T12:00:00+08:00,"{""sku"":""SKU1""}""#)
        .order("O1", "2026-03-02T12:40:00+08:00")
        .raw_event(r#"E3,O1,product_view,2026-03-02T14:00:00+08:00,"{}""#)
        .write();
    let toml = format!(
        "[governance]\nholdout_percent = 0\n{}",
        echo_on("product_view", 60, ", unless_ordered = true, requires = [\"sku\"]")
    );
    let sim = simulate_with(data.path(), &[test_plugin("trigger-echo")], "2026-03-02", "2026-03-03", config(&toml));
    let got: Vec<(&str, &str, &str, &str)> = sim
        .decisions
        .iter()
        .map(|d| {
            let planned = d["send_at"].as_str().unwrap_or("");
            (d["member_id"].as_str().unwrap(), d["run_at"].as_str().unwrap(), d["status"].as_str().unwrap(), planned)
        })
        .collect();
    assert_eq!(
        got,
        [("Q1", "2026-03-02T21:30:00+08:00", "deferred", "2026-03-03T09:00:00+08:00")],
        "O1 ordered within the hour; their second view has no sku"
    );
}
