//! The seed strategies through the host: follow-ups that depend on earlier
//! dispatched decisions, coupons issued by one strategy and reminded by
//! another, hourly schedules, launches and group buys.

use serde_json::{json, Value};

use crate::support::*;

fn decisions_of<'a>(sim: &'a Simulated, strategy: &str) -> Vec<&'a Value> {
    sim.decisions.iter().filter(|d| d["strategy"] == strategy).collect()
}

#[test]
fn first_purchase_nudge_then_one_followup_unless_they_buy() {
    let data = Data::new()
        .raw_member("W1,会员W1,1,,2026-01-01T10:00:00+08:00,2026-01-31T20:00:00+08:00,S01,G0101,")
        .raw_member("W2,会员W2,1,,2026-01-01T10:00:00+08:00,2026-01-31T20:00:00+08:00,S01,G0102,")
        .order("W2", "2026-03-05T12:00:00+08:00");
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("first-purchase-nudge")], "2026-02-01", "2026-03-31", config(""));
    let got: Vec<(String, String, String)> = decisions_of(&sim, "first-purchase-nudge")
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().into(),
                d["member_id"].as_str().unwrap().into(),
                d["step"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [("2026-03-02", "W1", "first"), ("2026-03-02", "W2", "first"), ("2026-03-09", "W1", "followup")];
    assert_eq!(got, expected.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())));
    let task = decisions_of(&sim, "first-purchase-nudge")[0];
    assert_eq!(task["action"], "staff_task");
    assert_eq!(task["guide_id"], "G0101");
    assert_eq!(task["benefit"]["value"], 30.0);
}

#[test]
fn a_coupon_from_one_strategy_is_reminded_an_hour_later_by_the_triggered_coupon_reminder() {
    let data = Data::new().member("B1", 1, "1990-03-14");
    let dir = data.write();
    let plugins = [plugin("birthday-tiered"), plugin("coupon-reminder")];
    let sim = simulate_with(dir.path(), &plugins, "2026-03-01", "2026-03-01", config(""));
    let runs = sim.runs.iter().filter(|r| r["strategy"] == "coupon-reminder").collect::<Vec<_>>();
    assert_eq!(runs.len(), 1, "no schedule: one tally of the day's firings, {runs:?}");
    assert_eq!(
        (&runs[0]["trigger"], &runs[0]["audience"], &runs[0]["decisions"]),
        (&json!("event"), &json!(1), &json!(1))
    );
    let birthday = decisions_of(&sim, "birthday-tiered");
    let coupon_id = birthday[0]["coupon_id"].as_str().expect("a coupon decision names its coupon");
    let reminders = decisions_of(&sim, "coupon-reminder");
    assert_eq!(reminders.len(), 1, "one reminder per coupon");
    assert_eq!(reminders[0]["run_at"], "2026-03-01T11:00:00+08:00");
    assert_eq!(reminders[0]["variables"]["coupon_id"], coupon_id);
}

#[test]
fn coupon_reminders_come_an_hour_after_each_coupon_unless_that_coupon_was_redeemed() {
    let data = Data::new()
        .member("M59", 1, "")
        .member("M61", 1, "")
        .member("MR", 1, "")
        .member("MO", 1, "")
        .raw_event(r#"E1,M61,coupon_issued,2026-03-01T08:59:00+08:00,"{""coupon_id"":""C61""}""#)
        .raw_event(r#"E2,M59,coupon_issued,2026-03-01T09:01:00+08:00,"{""coupon_id"":""C59""}""#)
        .raw_event(r#"E3,MR,coupon_issued,2026-03-01T08:00:00+08:00,"{""coupon_id"":""CR""}""#)
        .raw_event(r#"E4,MR,coupon_redeemed,2026-03-01T08:30:00+08:00,"{""coupon_id"":""CR""}""#)
        .raw_event(r#"E5,MO,coupon_issued,2026-03-01T08:00:00+08:00,"{""coupon_id"":""CO""}""#)
        .raw_event(r#"E6,MO,coupon_redeemed,2026-03-01T08:30:00+08:00,"{""coupon_id"":""C-other""}""#)
        .raw_event(r#"E7,M61,coupon_redeemed,2026-03-01T10:30:00+08:00,"{""coupon_id"":""C61""}""#)
        .raw_event(r#"E8,M61,coupon_issued,2026-03-01T23:30:00+08:00,"{""coupon_id"":""C-tomorrow""}""#);
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("coupon-reminder")], "2026-03-01", "2026-03-01", config(""));
    let got: Vec<(String, String)> = sim
        .decisions
        .iter()
        .map(|d| (d["run_at"].as_str().unwrap().into(), d["variables"]["coupon_id"].as_str().unwrap().into()))
        .collect();
    let expected = [
        ("2026-03-01T09:00:00+08:00", "CO"),  // another coupon's redemption calls nothing off
        ("2026-03-01T09:59:00+08:00", "C61"), // redeemed after the reminder: too late to call it off
        ("2026-03-01T10:01:00+08:00", "C59"),
    ];
    assert_eq!(
        got,
        expected.map(|(at, id)| (at.to_string(), id.to_string())),
        "CR was redeemed first; C-tomorrow is due after the range"
    );
}

#[test]
fn second_purchase_nudge_over_the_host() {
    let data = Data::new()
        .member("N1", 1, "")
        .order("N1", "2026-01-01T12:00:00+08:00")
        .member("N2", 1, "")
        .order("N2", "2026-01-01T12:00:00+08:00")
        .order("N2", "2026-01-02T12:00:00+08:00");
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("second-purchase-nudge")], "2026-02-25", "2026-03-12", config(""));
    assert_eq!(
        sim.decided("second-purchase-nudge"),
        [("2026-03-02".into(), "N1".into()), ("2026-03-09".into(), "N1".into())]
    );
}

#[test]
fn category_recommendation_names_the_launch_and_never_repeats_it() {
    let data = Data::new()
        .member("H1", 3, "")
        .order("H1", "2026-01-10T12:00:00+08:00")
        .order("H1", "2026-02-10T12:00:00+08:00")
        .member("L1", 1, "")
        .order("L1", "2026-02-10T12:00:00+08:00")
        .raw_product("DR-9,春季连衣裙,dress,499,2026-03-03T10:00:00+08:00,new");
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("category-recommendation")], "2026-03-01", "2026-03-12", config(""));
    let sent = decisions_of(&sim, "category-recommendation");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0]["date"].as_str(), sent[0]["member_id"].as_str()), (Some("2026-03-03"), Some("H1")));
    assert_eq!(sent[0]["variables"]["sku"], "DR-9");
}

#[test]
fn category_recommendation_selects_only_members_with_a_launch_still_to_hear_of() {
    // H1 buys dresses most and tops too: a dress launches on the 3rd, a top on the 5th.
    let data = Data::new()
        .member("H1", 3, "")
        .order("H1", "2026-01-10T12:00:00+08:00")
        .order("H1", "2026-02-10T12:00:00+08:00")
        .raw_order("T1,H1,2026-02-20T12:00:00+08:00,99.00,store,tops,TP-0")
        .raw_product("DR-9,春季连衣裙,dress,499,2026-03-03T10:00:00+08:00,new")
        .raw_product("TP-1,春季上衣,tops,199,2026-03-05T09:00:00+08:00,new");
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("category-recommendation")], "2026-03-01", "2026-03-12", config(""));
    let told: Vec<(&str, &str)> = decisions_of(&sim, "category-recommendation")
        .iter()
        .map(|d| (d["date"].as_str().unwrap(), d["variables"]["sku"].as_str().unwrap()))
        .collect();
    assert_eq!(told, [("2026-03-03", "DR-9"), ("2026-03-05", "TP-1")]);
    // Told of the dress, H1 is not selected again for it while it is new:
    // only on the days with news still to tell.
    let audiences: Vec<u64> = sim
        .runs
        .iter()
        .filter(|r| r["strategy"] == "category-recommendation")
        .map(|r| r["audience"].as_u64().unwrap())
        .collect();
    assert_eq!(audiences, [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn category_recommendation_counts_a_first_purchase_in_the_category_made_that_morning() {
    // D1 first buys a dress at 09:00 on launch day, an hour before the run;
    // D2, who buys tops often, at 11:00, an hour after it: told the next day.
    let data = Data::new()
        .member("D1", 2, "")
        .raw_order("T1,D1,2026-01-05T12:00:00+08:00,99.00,store,tops,TP-0")
        .raw_order("O1,D1,2026-03-03T09:00:00+08:00,499.00,store,dress,DR-1")
        .member("D2", 2, "")
        .raw_order("T2,D2,2026-01-05T12:00:00+08:00,99.00,store,tops,TP-0")
        .raw_order("T3,D2,2026-02-05T12:00:00+08:00,99.00,store,tops,TP-0")
        .raw_order("O2,D2,2026-03-03T11:00:00+08:00,499.00,store,dress,DR-1")
        .raw_product("DR-9,春季连衣裙,dress,499,2026-03-03T08:00:00+08:00,new");
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("category-recommendation")], "2026-03-01", "2026-03-05", config(""));
    let told: Vec<(&str, &str)> = decisions_of(&sim, "category-recommendation")
        .iter()
        .map(|d| (d["date"].as_str().unwrap(), d["member_id"].as_str().unwrap()))
        .collect();
    assert_eq!(told, [("2026-03-03", "D1"), ("2026-03-04", "D2")]);
}

#[test]
fn group_buy_invites_respect_the_cooldown() {
    let data = Data::new().member("G1", 2, "").order("G1", "2026-02-20T12:00:00+08:00");
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("group-buy-referral")], "2026-03-01", "2026-04-15", config(""));
    let invites = decisions_of(&sim, "group-buy-referral");
    let dates: Vec<&str> = invites.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2026-03-01", "2026-03-31"]);
    assert_eq!(invites[0]["action"], "group_buy_invite");
    assert_eq!(invites[0]["group_buy"]["sku"], "DR-1");
    assert_eq!(invites[0]["group_buy"]["price"], 159.2);
}

#[test]
fn referrals_count_the_members_each_referrer_brought_and_how_many_were_new() {
    let data = Data::new()
        .member("R1", 2, "")
        .order("R1", "2026-02-20T12:00:00+08:00")
        .member("OLD", 1, "")
        .order("OLD", "2026-01-05T12:00:00+08:00")
        .member_joined("NEW", "", "2026-03-05T09:00:00+08:00")
        .raw_event(r#"E1,NEW,group_buy_joined,2026-03-05T09:10:00+08:00,"{""referrer"":""R1"",""sku"":""DR-1""}""#)
        .order("NEW", "2026-03-05T09:20:00+08:00")
        .raw_event(r#"E2,OLD,group_buy_joined,2026-03-06T20:00:00+08:00,"{""referrer"":""R1"",""sku"":""DR-1""}""#)
        .raw_event(r#"E3,OLD,group_buy_joined,2026-02-01T20:00:00+08:00,"{""referrer"":""R1"",""sku"":""DR-1""}""#);
    let dir = data.write();
    let sim = simulate_with(dir.path(), &[plugin("group-buy-referral")], "2026-03-01", "2026-03-10", config(""));
    let referrals = &sim.result.referrals;
    assert_eq!(referrals.by_referrer.len(), 1, "the February join is outside the simulated period");
    let r1 = &referrals.by_referrer["R1"];
    assert_eq!((r1.joins, r1.new_customers, r1.invited_before), (2, 1, true));
    let csv = std::fs::read_to_string(&sim.result.referrals_file).unwrap();
    assert_eq!(csv.lines().nth(1), Some("R1,2,1,2026-03-05T09:10:00+08:00,true"));
}
