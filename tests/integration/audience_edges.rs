//! The calendar edges of audiences, pinned through the real plugins:
//! brand time zone, 23:59 and UTC-stamped orders, the run instant, future
//! members, same-day double orders, leap years.

use canvas::config::CanvasConfig;

use crate::support::*;

fn dormant(data: &Data, from: &str, to: &str) -> Vec<(String, String)> {
    dormant_in(data, from, to, CanvasConfig::default())
}

fn dormant_in(data: &Data, from: &str, to: &str, config: CanvasConfig) -> Vec<(String, String)> {
    let dir = data.write();
    simulate_with(dir.path(), &[plugin("dormant-recall")], from, to, config).decided("dormant-recall")
}

fn on(date: &str, member: &str) -> (String, String) {
    (date.to_string(), member.to_string())
}

#[test]
fn an_order_stamped_17_30_utc_counts_for_the_next_day_in_shanghai() {
    // 2025-12-01T17:30Z is 2 December 01:30 in Shanghai: 90 days later is 2 March.
    let data = Data::new().member("M1", 1, "").order("M1", "2025-12-01T17:30:00Z");
    assert_eq!(dormant(&data, "2026-02-27", "2026-03-04"), [on("2026-03-02", "M1")]);
}

#[test]
fn an_order_at_23_59_local_counts_for_that_day() {
    let data = Data::new()
        .member("M1", 1, "")
        .order("M1", "2025-12-01T23:59:00+08:00")
        .member("M2", 1, "")
        .order("M2", "2025-12-02T00:00:00+08:00");
    assert_eq!(dormant(&data, "2026-02-27", "2026-03-04"), [on("2026-03-01", "M1"), on("2026-03-02", "M2")]);
}

#[test]
fn the_brand_time_zone_decides_the_day() {
    // The same instant is still 1 December in London, and the run is at 10:00 London time.
    let data = Data::new().member("M1", 1, "").order("M1", "2025-12-01T17:30:00Z");
    let london = config("timezone = \"Europe/London\"");
    let decided = data.write();
    let sim = simulate_with(decided.path(), &[plugin("dormant-recall")], "2026-02-27", "2026-03-04", london);
    assert_eq!(sim.decided("dormant-recall"), [on("2026-03-01", "M1")]);
    assert_eq!(sim.decisions[0]["run_at"], "2026-03-01T10:00:00+00:00");
}

#[test]
fn an_order_before_ten_on_the_run_day_resets_the_clock_and_one_after_does_not_yet() {
    let data = Data::new()
        .member("M1", 1, "")
        .order("M1", "2025-12-01T12:00:00+08:00")
        .order("M1", "2026-03-01T09:59:59+08:00")
        .member("M2", 1, "")
        .order("M2", "2025-12-01T12:00:00+08:00")
        .order("M2", "2026-03-01T10:00:01+08:00");
    // M1's new order existed at the 10:00 run; M2's did not yet, so M2 is recalled.
    assert_eq!(dormant(&data, "2026-02-28", "2026-03-02"), [on("2026-03-01", "M2")]);
}

#[test]
fn a_new_order_resets_the_clock_and_two_orders_on_one_day_recall_once() {
    let data = Data::new()
        .member("M1", 1, "")
        .order("M1", "2025-12-01T10:00:00+08:00")
        .order("M1", "2025-12-05T10:00:00+08:00")
        .member("M2", 1, "")
        .order("M2", "2025-12-01T10:00:00+08:00")
        .order("M2", "2025-12-01T20:00:00+08:00");
    let decided = dormant(&data, "2026-02-25", "2026-03-10");
    assert_eq!(decided, [on("2026-03-01", "M2"), on("2026-03-05", "M1")]);
}

#[test]
fn ninety_days_count_the_leap_day() {
    let data = Data::new()
        .member_joined("M1", "", "2023-06-01T10:00:00+08:00")
        .order("M1", "2024-01-01T12:00:00+08:00")
        .member_joined("M2", "", "2023-06-01T10:00:00+08:00")
        .order("M2", "2025-01-01T12:00:00+08:00");
    assert_eq!(dormant(&data, "2024-03-29", "2024-04-02"), [on("2024-03-31", "M1")]);
    assert_eq!(dormant(&data, "2025-03-29", "2025-04-02"), [on("2025-04-01", "M2")]);
}

#[test]
fn after_days_comes_from_the_operator_config() {
    let data = Data::new().member("M1", 1, "").order("M1", "2025-12-01T12:00:00+08:00");
    let sixty = config("[strategies.dormant-recall]\nconfig = { after_days = 60 }");
    assert_eq!(dormant_in(&data, "2026-01-28", "2026-03-05", sixty), [on("2026-01-30", "M1")]);
}

fn birthdays(data: &Data, from: &str, to: &str, config: CanvasConfig) -> Simulated {
    let dir = data.write();
    simulate_with(dir.path(), &[plugin("birthday-tiered")], from, to, config)
}

#[test]
fn leap_day_birthdays_are_february_birthdays_in_every_year() {
    let data = Data::new().member("M1", 2, "2000-02-29");
    let common = birthdays(&data, "2027-01-01", "2027-03-31", CanvasConfig::default());
    assert_eq!(common.decided("birthday-tiered"), [on("2027-02-01", "M1")]);
    let leap = birthdays(&data, "2028-01-01", "2028-03-31", CanvasConfig::default());
    assert_eq!(leap.decided("birthday-tiered"), [on("2028-02-01", "M1")]);
}

#[test]
fn birthday_benefits_follow_the_level_tiers() {
    let data = Data::new()
        .member("V1", 1, "1990-03-14")
        .member("V2", 2, "1990-03-01")
        .member("V3", 3, "1990-03-31")
        .member("V4", 4, "1990-03-02");
    let sim = birthdays(&data, "2026-03-01", "2026-03-01", CanvasConfig::default());
    let values: Vec<(String, f64, Option<String>)> = sim
        .decisions
        .iter()
        .map(|d| {
            let b = &d["benefit"];
            (d["member_id"].as_str().unwrap().into(), b["value"].as_f64().unwrap(), b["gift"].as_str().map(Into::into))
        })
        .collect();
    assert_eq!(
        values,
        [
            ("V1".into(), 20.0, None),
            ("V2".into(), 50.0, None),
            ("V3".into(), 100.0, None),
            ("V4".into(), 100.0, Some("birthday gift box".into()))
        ]
    );
}

#[test]
fn birthday_benefits_come_once_a_year_even_on_a_daily_schedule() {
    let data = Data::new().member("M1", 3, "1990-03-14");
    let daily = config("[strategies.birthday-tiered]\nschedule = \"0 10 * * *\"");
    let sim = birthdays(&data, "2026-03-01", "2026-03-31", daily);
    assert_eq!(sim.decided("birthday-tiered"), [on("2026-03-01", "M1")]);
    assert_eq!(sim.result.runs, 31);
}

#[test]
fn members_who_join_after_the_run_instant_do_not_exist_yet() {
    let data = Data::new().member_joined("EARLY", "1990-03-20", "2026-03-01T09:59:00+08:00").member_joined(
        "LATE",
        "1990-03-20",
        "2026-03-01T10:01:00+08:00",
    );
    let sim = birthdays(&data, "2026-03-01", "2026-03-01", CanvasConfig::default());
    assert_eq!(sim.decided("birthday-tiered"), [on("2026-03-01", "EARLY")]);
}

#[test]
fn operators_change_a_benefit_without_rebuilding_the_plugin() {
    let data = Data::new().member("M1", 1, "1990-03-14");
    let thirty = config("[strategies.birthday-tiered.config.levels.1]\nkind = \"coupon\"\nvalue = 30\n");
    let sim = birthdays(&data, "2026-03-01", "2026-03-01", thirty);
    assert_eq!(sim.decisions[0]["benefit"]["value"], 30.0);
}
