//! Strategies in Python and JavaScript: each twin of a Rust strategy makes
//! exactly the Rust strategy's decisions over the sample data (the triggered
//! coupon reminder included), and the Python-only strategy decides by its
//! rules. The SDKs all build against `canvas:strategy@0.4.0`; a raw plugin
//! built against 0.1.0 (test-plugins/api-0-1) is the host's promise that an
//! older plugin keeps running.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use canvas::runtime::{api, LoadedPlugin, PluginEngine, SandboxLimits};

use chrono::{Datelike, NaiveDate};

use crate::support::*;

fn sample_data() -> std::path::PathBuf {
    repo_root().join("sample-data")
}

/// Simulates `from..=to` with one plugin and returns its decisions, each
/// without the build that made it (twins are other builds by definition).
fn decisions_of(plugin: std::path::PathBuf, from: &str, to: &str) -> Vec<serde_json::Value> {
    let sim = simulate_with(&sample_data(), &[plugin], from, to, cached_config());
    let failed: Vec<_> = sim.runs.iter().filter(|r| r["status"] != "completed").collect();
    assert!(failed.is_empty(), "failed runs: {failed:?}");
    let builds: BTreeSet<String> = sim.runs.iter().map(|r| r["plugin_sha256"].to_string()).collect();
    assert!(builds.len() <= 1, "one build per simulation: {builds:?}");
    let mut decisions = sim.decisions;
    for decision in &mut decisions {
        let made_by = decision.as_object_mut().unwrap().remove("plugin_sha256").map(|b| b.to_string());
        assert_eq!(made_by.as_ref(), builds.first(), "the build of its run");
    }
    decisions
}

/// Asserts the twin decided exactly what the Rust strategy did, in order.
fn assert_same_decisions(language: &str, twin: &[serde_json::Value], rust: &[serde_json::Value]) {
    for (t, r) in twin.iter().zip(rust) {
        assert_eq!(t, r, "first difference between the {language} twin and Rust");
    }
    assert_eq!(twin.len(), rust.len(), "the {language} twin's decisions");
}

#[test]
fn the_python_dormant_recall_decides_exactly_as_the_rust_one() {
    let rust = decisions_of(plugin("dormant-recall"), "2026-07-01", "2026-10-24");
    let python = decisions_of(twin_plugin("python", "dormant-recall"), "2026-07-01", "2026-10-24");
    assert!(rust.len() > 100, "the comparison needs decisions to compare: {}", rust.len());
    assert_same_decisions("Python", &python, &rust);
}

#[test]
fn the_javascript_birthday_tiered_decides_exactly_as_the_rust_one() {
    // A year of monthly runs: every month's birthdays, every level's tier.
    let rust = decisions_of(plugin("birthday-tiered"), "2025-11-01", "2026-10-31");
    let js = decisions_of(twin_plugin("js", "birthday-tiered"), "2025-11-01", "2026-10-31");
    assert!(rust.len() > 1_000, "the comparison needs decisions to compare: {}", rust.len());
    let months: std::collections::BTreeSet<&str> = rust.iter().map(|d| &d["date"].as_str().unwrap()[..7]).collect();
    assert_eq!(months.len(), 12, "{months:?}");
    assert_same_decisions("JavaScript", &js, &rust);
}

#[test]
fn the_python_and_javascript_coupon_reminders_decide_exactly_as_the_rust_one_on_triggers() {
    // sample-data/events.csv issues coupons (`coupon_issued` with a
    // coupon_id) and redeems some of them: the simulation replays them
    // through the strategy's trigger, an hour after each coupon unless it was
    // redeemed first. Only triggered calls decide: the strategy has no schedule.
    let (from, to) = ("2026-08-01", "2026-10-24");
    let rust = decisions_of(plugin("coupon-reminder"), from, to);
    assert!(
        rust.len() > 10,
        "the comparison needs triggered decisions to compare ({} found): `canvas simulate` must replay \
         coupon_issued events through the coupon reminder's trigger",
        rust.len()
    );
    let coupons: BTreeSet<&str> = rust.iter().map(|d| d["variables"]["coupon_id"].as_str().unwrap()).collect();
    assert_eq!(coupons.len(), rust.len(), "one reminder per coupon");
    let python = decisions_of(twin_plugin("python", "coupon-reminder"), from, to);
    assert_same_decisions("Python", &python, &rust);
    let js = decisions_of(twin_plugin("js", "coupon-reminder"), from, to);
    assert_same_decisions("JavaScript", &js, &rust);
}

#[test]
fn the_twins_build_against_0_4_0_and_ask_for_the_rust_audience_triggers_included() {
    let cache = repo_root().join("target").join("compile-cache");
    let engine = Arc::new(PluginEngine::with_compile_cache(SandboxLimits::default(), Some(&cache)).unwrap());
    // Each with a config its Rust strategy refuses, for a rule of its own.
    let twins = [
        ("python", "dormant-recall", r#"{"after_days": 0}"#),
        ("js", "birthday-tiered", r#"{"levels": {"7": {"kind": "coupon", "value": 30}}}"#),
        ("python", "coupon-reminder", r#"{"remind_after_hours": 24}"#),
        ("js", "coupon-reminder", r#"{"remind_after_hours": 0}"#),
    ];
    for (language, name, refused) in twins {
        let twin = LoadedPlugin::load(&engine, &twin_plugin(language, name)).unwrap();
        let rust = LoadedPlugin::load(&engine, &plugin(name)).unwrap();
        assert_eq!(twin.manifest.api_version, "0.4.0", "{language} {name}");
        assert_eq!(twin.manifest.schedule.expression(), rust.manifest.schedule.expression(), "{language} {name}");
        let config = &rust.manifest.default_config;
        let (twin_audience, rust_audience) = (twin.audience(config).unwrap(), rust.audience(config).unwrap());
        assert_eq!(format!("{twin_audience:?}"), format!("{rust_audience:?}"), "{language} {name}");
        if name == "coupon-reminder" {
            assert_eq!(twin_audience.triggers.len(), 1, "{language}: {twin_audience:?}");
        }
        // The twin refuses it too, in the same words.
        let refused: serde_json::Value = serde_json::from_str(refused).unwrap();
        let (twin_err, rust_err) = (twin.audience(&refused).unwrap_err(), rust.audience(&refused).unwrap_err());
        assert_eq!(twin_err.to_string(), rust_err.to_string(), "{language} {name}");
    }
}

#[test]
fn a_plugin_built_against_0_1_0_runs_beside_0_4_0_ones_and_is_handed_the_same_members() {
    let cache = repo_root().join("target").join("compile-cache");
    let engine = Arc::new(PluginEngine::with_compile_cache(SandboxLimits::default(), Some(&cache)).unwrap());
    let (old, rust) = (
        LoadedPlugin::load(&engine, &test_plugin("api-0-1")).unwrap(),
        LoadedPlugin::load(&engine, &plugin("birthday-tiered")).unwrap(),
    );
    assert_eq!((old.manifest.api_version.as_str(), rust.manifest.api_version.as_str()), ("0.1.0", "0.4.0"));
    // 0.1.0's audience, converted to the host's 0.4.0 types, is the Rust plugin's.
    let config = &rust.manifest.default_config;
    assert_eq!(
        format!("{:?}", old.audience(&serde_json::json!({})).unwrap()),
        format!("{:?}", rust.audience(config).unwrap())
    );
    // Over a year of monthly runs it greets exactly the members the 0.4.0
    // birthday strategy gives a benefit, on the same days.
    let greeted = |plugin| -> BTreeSet<(String, String)> {
        let decisions = decisions_of(plugin, "2025-11-01", "2026-10-31");
        decisions.iter().map(|d| (d["member_id"].to_string(), d["date"].to_string())).collect()
    };
    let (by_old, by_rust) = (greeted(test_plugin("api-0-1")), greeted(plugin("birthday-tiered")));
    assert!(by_rust.len() > 1_000, "{}", by_rust.len());
    assert_eq!(by_old, by_rust);
}

#[test]
fn the_python_vip_anniversary_thanks_vip_members_on_their_anniversary_only() {
    let decisions = decisions_of(plugin("vip-anniversary"), "2026-01-01", "2026-10-24");
    assert!(decisions.len() > 20, "{} decisions", decisions.len());
    let members = std::fs::read_to_string(sample_data().join("members.csv")).unwrap();
    let mut joined: HashMap<String, (u8, NaiveDate)> = HashMap::new();
    let mut rows = csv::Reader::from_reader(members.as_bytes());
    for row in rows.records() {
        let row = row.unwrap();
        let at = chrono::DateTime::parse_from_rfc3339(&row[4]).unwrap().with_timezone(&chrono_tz::Asia::Shanghai);
        joined.insert(row[0].to_string(), (row[2].parse().unwrap(), at.date_naive()));
    }
    let mut thanked = std::collections::HashSet::new();
    for d in &decisions {
        let member = d["member_id"].as_str().unwrap();
        let (level, joined_on) = joined[member];
        let date = date(d["date"].as_str().unwrap());
        assert!(level >= 3, "{member} is level {level}");
        let years = date.year() - joined_on.year();
        assert!(years >= 1);
        // A 29 February join is thanked on 28 February in common years.
        let leap_day_in_common_year = (joined_on.month(), joined_on.day()) == (2, 29) && !date.leap_year();
        let anniversary = if leap_day_in_common_year { (2, 28) } else { (joined_on.month(), joined_on.day()) };
        assert_eq!((date.month(), date.day()), anniversary, "{member} joined {joined_on}");
        assert_eq!(d["variables"]["years"], years.to_string());
        let expected_value = if [1, 3, 5, 10].contains(&years) { 50.0 } else { 20.0 };
        assert_eq!(d["benefit"]["value"], expected_value, "{d}");
        assert!(thanked.insert((member.to_string(), date.year())), "{member} thanked twice in {}", date.year());
    }
}

#[test]
fn the_python_vip_anniversary_asks_for_exactly_the_days_an_anniversary_can_lie_back() {
    let cache = repo_root().join("target").join("compile-cache");
    let engine = Arc::new(PluginEngine::with_compile_cache(SandboxLimits::default(), Some(&cache)).unwrap());
    let vip = LoadedPlugin::load(&engine, &plugin("vip-anniversary")).unwrap();
    let audience = vip.audience(&vip.manifest.default_config).unwrap();
    let asked: BTreeSet<u32> = audience
        .any_of
        .iter()
        .flat_map(|clause| &clause.all_of)
        .filter_map(|condition| match condition {
            api::Condition::Joined(ago) => Some(ago.min..=ago.max),
            _ => None,
        })
        .flatten()
        .collect();
    // Every anniversary, 1 to 50 years on, of every join day from 1950 to
    // 2300 (leap years, 29 February joins, the common years 2100 and 2200).
    let mut reached = BTreeSet::new();
    let mut joined = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    while joined.year() <= 2300 {
        for years in 1..=50 {
            let year = joined.year() + years;
            let anniversary = NaiveDate::from_ymd_opt(year, joined.month(), joined.day())
                .unwrap_or_else(|| NaiveDate::from_ymd_opt(year, 2, 28).unwrap());
            reached.insert((anniversary - joined).num_days() as u32);
        }
        joined = joined.succ_opt().unwrap();
    }
    let missed: Vec<&u32> = reached.difference(&asked).collect();
    assert!(missed.is_empty(), "anniversaries it never sees, days back: {missed:?}");
    let idle: Vec<&u32> = asked.difference(&reached).collect();
    assert!(idle.is_empty(), "days back no anniversary lies on, asked for all the same: {idle:?}");
}
