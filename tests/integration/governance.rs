//! The touch policy through real plugins: arbitration, holdouts, quiet hours,
//! fatigue caps (dropped or deferred per strategy), the WeCom limit, budgets.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::*;

fn sim(data: &Data, plugins: &[&str], from: &str, to: &str, toml: &str) -> Simulated {
    let dir = data.write();
    let plugins: Vec<_> = plugins.iter().map(|p| plugin(p)).collect();
    simulate_with(dir.path(), &plugins, from, to, config(toml))
}

fn only<'a>(s: &'a Simulated, strategy: &str) -> Vec<&'a Value> {
    s.decisions.iter().filter(|d| d["strategy"] == strategy).collect()
}

const NO_HOLDOUT: &str = "[governance]\nholdout_percent = 0\n";

#[test]
fn when_two_strategies_want_a_member_the_higher_priority_wins_and_is_named() {
    let data = Data::new().member("M1", 2, "1990-03-14").order("M1", "2025-12-01T12:00:00+08:00");
    let s = sim(&data, &["birthday-tiered", "dormant-recall"], "2026-03-01", "2026-03-01", NO_HOLDOUT);
    assert_eq!(only(&s, "birthday-tiered")[0]["status"], "dispatched");
    let recall = only(&s, "dormant-recall")[0];
    assert_eq!(recall["status"], "suppressed");
    assert_eq!(recall["reason"], "arbitration: birthday-tiered has priority");

    let reversed = "[governance]\nholdout_percent = 0\npriority = [\"dormant-recall\", \"birthday-tiered\"]\n";
    let s = sim(&data, &["birthday-tiered", "dormant-recall"], "2026-03-01", "2026-03-01", reversed);
    assert_eq!(only(&s, "dormant-recall")[0]["status"], "dispatched");
}

#[test]
fn holdouts_are_a_stable_tenth_of_each_strategys_members() {
    let mut data = Data::new();
    for i in 0..400 {
        data = data.member(&format!("M{i:04}"), 1, "1990-03-14");
    }
    let held = |from: &str| -> BTreeSet<String> {
        let s = sim(&data, &["birthday-tiered"], from, from, "");
        s.decisions
            .iter()
            .filter(|d| d["status"] == "holdout")
            .map(|d| d["member_id"].as_str().unwrap().into())
            .collect()
    };
    let this_year = held("2026-03-01");
    assert!((20..=60).contains(&this_year.len()), "about 10% of 400: {}", this_year.len());
    assert_eq!(held("2027-03-01"), this_year, "a member stays in or out of the control group");
    let s = sim(&data, &["birthday-tiered"], "2026-03-01", "2026-03-01", "");
    let holdout = s.decisions.iter().find(|d| d["status"] == "holdout").unwrap();
    assert_eq!(holdout["reason"], "in the 10% control group");
    assert_eq!(s.result.summary.strategies["birthday-tiered"].members_touched as usize, 400 - this_year.len());
}

#[test]
fn quiet_hours_defer_a_touch_to_the_morning_in_the_members_own_time_zone() {
    let data = Data::new()
        .raw_member(
            "UK,会员UK,1,1990-03-14,2025-01-01T10:00:00+08:00,2025-01-01T10:00:00+08:00,S01,G0101,Europe/London",
        )
        .raw_member("SH,会员SH,1,1990-03-14,2025-01-01T10:00:00+08:00,2025-01-01T10:00:00+08:00,S01,G0101,");
    let s = sim(&data, &["birthday-tiered"], "2026-03-01", "2026-03-01", NO_HOLDOUT);
    let uk = s.decisions.iter().find(|d| d["member_id"] == "UK").unwrap();
    assert_eq!(uk["status"], "deferred");
    assert_eq!(uk["send_at"], "2026-03-01T17:00:00+08:00", "09:00 in London is 17:00 in Shanghai");
    assert!(uk["reason"].as_str().unwrap().starts_with("quiet hours in Europe/London"), "{}", uk["reason"]);
    let sh = s.decisions.iter().find(|d| d["member_id"] == "SH").unwrap();
    assert_eq!(sh["status"], "dispatched");
}

#[test]
fn a_capped_touch_is_deferred_or_dropped_as_its_strategy_says() {
    // A birthday coupon on 1 March; the recall is due on 2 March, within 48 hours.
    let data = Data::new().member("M1", 2, "1990-03-14").order("M1", "2025-12-02T12:00:00+08:00");
    let s = sim(&data, &["birthday-tiered", "dormant-recall"], "2026-03-01", "2026-03-02", NO_HOLDOUT);
    let recall = only(&s, "dormant-recall")[0];
    assert_eq!(recall["status"], "deferred");
    assert_eq!(recall["send_at"], "2026-03-03T10:00:00+08:00");
    assert!(recall["reason"].as_str().unwrap().starts_with("fatigue: less than 48h since another touch"));

    let drop = format!("{NO_HOLDOUT}[strategies.dormant-recall]\non_cap = \"drop\"\n");
    let s = sim(&data, &["birthday-tiered", "dormant-recall"], "2026-03-01", "2026-03-02", &drop);
    let recall = only(&s, "dormant-recall")[0];
    assert_eq!(
        (recall["status"].as_str(), recall["reason"].as_str()),
        (Some("suppressed"), Some("fatigue: less than 48h since another touch"))
    );

    let short = format!("{NO_HOLDOUT}[strategies.dormant-recall]\nmax_defer_hours = 12\n");
    let s = sim(&data, &["birthday-tiered", "dormant-recall"], "2026-03-01", "2026-03-02", &short);
    let recall = only(&s, "dormant-recall")[0];
    assert_eq!(recall["status"], "suppressed");
    assert!(recall["reason"].as_str().unwrap().ends_with("no slot within 12h"), "{}", recall["reason"]);
}

#[test]
fn the_wecom_limit_holds_even_for_service_messages() {
    // One bulk message a day: the hourly reminder of the birthday coupon must wait for tomorrow's morning.
    let data = Data::new().member("M1", 1, "1990-03-14");
    let toml = format!("{NO_HOLDOUT}[governance.wecom_limit]\nper = \"day\"\n");
    let s = sim(&data, &["birthday-tiered", "coupon-reminder"], "2026-03-01", "2026-03-01", &toml);
    let reminder = only(&s, "coupon-reminder")[0];
    assert_eq!(reminder["status"], "deferred");
    assert!(
        reminder["reason"].as_str().unwrap().starts_with("WeCom limit: 1 bulk messages today"),
        "{}",
        reminder["reason"]
    );
    assert_eq!(reminder["send_at"], "2026-03-02T09:00:00+08:00", "past midnight, then past the quiet hours");

    let s = sim(&data, &["birthday-tiered", "coupon-reminder"], "2026-03-01", "2026-03-01", NO_HOLDOUT);
    assert_eq!(only(&s, "coupon-reminder")[0]["status"], "dispatched", "service messages skip the fatigue caps");
}

#[test]
fn a_strategys_coupons_stop_at_its_daily_budget() {
    let mut data = Data::new();
    for i in 1..=5 {
        data = data.member(&format!("M{i}"), 1, "1990-03-14");
    }
    let toml = format!("{NO_HOLDOUT}[strategies.birthday-tiered]\ncoupon_budget_per_day = 60\n");
    let s = sim(&data, &["birthday-tiered"], "2026-03-01", "2026-03-01", &toml);
    let statuses: Vec<&str> = s.decisions.iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["dispatched", "dispatched", "dispatched", "suppressed", "suppressed"]);
    assert_eq!(s.decisions[3]["reason"], "budget: 60 yuan of coupons a day, 60 yuan spent");
}

#[test]
fn policy_typos_are_errors_naming_the_key() {
    let error = canvas::config::CanvasConfig::parse("[governance.fatigue]\nmax_touch = 3\n").unwrap_err();
    assert!(format!("{error:#}").contains("max_touch"), "{error:#}");
    let error = canvas::config::CanvasConfig::parse("[governance.quiet_hours]\nstart = \"9pm\"\n").unwrap_err();
    assert!(format!("{error:#}").contains("`9pm` is not a time of day HH:MM"), "{error:#}");
    let error = canvas::config::CanvasConfig::parse("[strategies.x]\non_cap = \"later\"\n").unwrap_err();
    assert!(format!("{error:#}").contains("later"), "{error:#}");
}

#[test]
fn a_member_the_caps_still_hold_back_is_not_decided_again_until_they_have_room() {
    // One touch a week. The birthday coupon (1 March) fills it; the daily
    // group-buy invite is held back on 2 March, on record, then not asked
    // again until 8 March, when the week is over. The recall due on 4 March
    // still loses to the held-back invite, which outranks it here.
    let data = Data::new().member("G1", 2, "1990-03-14").order("G1", "2025-12-04T12:00:00+08:00");
    let toml = format!(
        "{NO_HOLDOUT}priority = [\"birthday-tiered\", \"group-buy-referral\", \"dormant-recall\"]\n\
         [governance.fatigue]\nmax_touches = 1\n\
         [strategies.group-buy-referral]\non_cap = \"drop\"\n"
    );
    let strategies = ["birthday-tiered", "group-buy-referral", "dormant-recall"];
    let s = sim(&data, &strategies, "2026-03-01", "2026-03-09", &toml);
    let invites: Vec<(&str, &str, &str)> = only(&s, "group-buy-referral")
        .iter()
        .map(|d| (d["date"].as_str().unwrap(), d["status"].as_str().unwrap(), d["reason"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        invites,
        [
            ("2026-03-01", "suppressed", "arbitration: birthday-tiered has priority"),
            ("2026-03-02", "suppressed", "fatigue: 1 touches in 168h already"),
            ("2026-03-08", "dispatched", ""),
        ]
    );
    let held: Vec<(&str, u64)> = s
        .runs
        .iter()
        .filter(|r| r["strategy"] == "group-buy-referral")
        .map(|r| (r["date"].as_str().unwrap(), r["held_back"].as_u64().unwrap()))
        .collect();
    let days = ["01", "02", "03", "04", "05", "06", "07", "08", "09"];
    let expected: Vec<(String, u64)> =
        days.iter().map(|d| (format!("2026-03-{d}"), u64::from(("03"..="07").contains(d)))).collect();
    assert_eq!(held, expected.iter().map(|(d, n)| (d.as_str(), *n)).collect::<Vec<_>>());
    let recall = only(&s, "dormant-recall")[0];
    assert_eq!(
        (recall["date"].as_str(), recall["reason"].as_str()),
        (Some("2026-03-04"), Some("arbitration: group-buy-referral has priority"))
    );
    let summary = &s.result.summary.strategies["group-buy-referral"];
    assert_eq!(summary.held_back, 5);
}
