//! The outlook's arithmetic on hand-made numbers: the baseline of selected
//! members touched or not, each order once, the break-even lift, group-buy
//! discounts per invite sent.

use super::*;
use crate::calendar::parse_instant;
use crate::model::{bare_member, Benefit, BenefitKind, DataSet, GroupBuy, Order, OrderChannel};

fn at(text: &str) -> Millis {
    parse_instant(text).unwrap()
}

fn order(id: &str, member: &str, when: &str, yuan: i64) -> Order {
    Order {
        id: id.into(),
        member_id: member.into(),
        placed_at: at(when),
        amount: yuan * 100,
        channel: OrderChannel::Online,
        category: "tops".into(),
        sku: "T".into(),
    }
}

fn decision(strategy: &str, member: &str, when: &str, status: DecisionStatus) -> Decision {
    Decision {
        key: format!("{strategy}/x/p/{member}/{when}"),
        strategy: strategy.into(),
        plugin_version: "1".into(),
        plugin_sha256: "".into(),
        run_at: at(when),
        day: 0,
        member_id: member.into(),
        step: "x".into(),
        action: ActionKind::Message,
        channel: "wecom".into(),
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

const RUN: &str = "2026-03-01T10:00:00+08:00";

#[test]
fn break_even_is_the_cost_per_touched_member_over_the_margin_on_an_order() {
    // 20 yuan a touched member, 200-yuan orders at 50% margin: 100 yuan of
    // margin an extra order, so 20 extra orders per 100 members → 20 pp.
    let pp = break_even_pp(2_000.0, 20_000.0, 0.5).unwrap();
    assert!((pp - 20.0).abs() < 1e-9, "{pp}");
    assert_eq!(break_even_pp(0.0, 20_000.0, 0.6), Some(0.0), "a free touch pays for itself at any lift");
    assert_eq!(break_even_pp(2_000.0, 0.0, 0.6), None, "no order value to price it with");
}

#[test]
fn the_baseline_is_what_selected_members_did_touched_or_not_each_order_once() {
    let data = DataSet {
        members: ["SENT", "HELD", "SUPP", "IDLE", "LATE"].map(bare_member).to_vec(),
        orders: vec![
            order("1", "SENT", "2026-03-02T12:00:00+08:00", 100),
            order("2", "SENT", "2026-03-03T12:00:00+08:00", 300),
            order("3", "HELD", "2026-03-05T12:00:00+08:00", 200),
            order("4", "SUPP", "2026-03-20T12:00:00+08:00", 999), // past 7 days
            order("5", "IDLE", "2026-02-20T12:00:00+08:00", 50),  // before the decision
            order("6", "LATE", "2026-04-30T12:00:00+08:00", 10),  // the data's last order
        ],
        ..Default::default()
    };
    let base = MemberBase::build(Default::default(), data);
    let mut log = OutlookLog::default();
    let mut sent = decision("s", "SENT", RUN, DecisionStatus::Dispatched);
    sent.benefit = Some(Benefit { kind: BenefitKind::Coupon, value: 3_000, gift: None });
    log.add(&sent);
    // A second decision for SENT two days later: its window overlaps, its orders count once.
    log.add(&decision("s", "SENT", "2026-03-02T10:00:00+08:00", DecisionStatus::Suppressed));
    log.add(&decision("s", "HELD", RUN, DecisionStatus::Holdout));
    log.add(&decision("s", "SUPP", RUN, DecisionStatus::Suppressed));
    log.add(&decision("s", "IDLE", RUN, DecisionStatus::Failed));
    log.add(&decision("s", "LATE", "2026-04-28T10:00:00+08:00", DecisionStatus::Holdout));
    let o = Outlook::score(&base, &HashMap::new(), &log, &ReportSettings::default());
    let s = &o.strategies["s"];
    assert_eq!(
        (s.baseline.members, s.baseline.converted, s.baseline.orders, s.baseline.revenue_fen),
        (3, 2, 3, 60_000),
        "SENT, HELD and SUPP selected; a failed decision is not; LATE's window is incomplete"
    );
    assert_eq!(s.baseline.incomplete, 1);
    assert_eq!(s.baseline.conversion, Some(2.0 / 3.0));
    assert_eq!(s.baseline.average_order_value_fen, Some(20_000));
    assert_eq!((s.cost.total_fen, s.cost.touched_members, s.cost.per_touched_member_fen), (3_000, 1, Some(3_000)));
    // 30 yuan per touched member over 200 yuan × 0.6 = 25 pp.
    assert!((s.cost.break_even_pp.unwrap() - 25.0).abs() < 1e-9, "{:?}", s.cost);
}

#[test]
fn overall_counts_a_member_and_an_order_in_two_strategies_windows_once() {
    let data = DataSet {
        members: ["A", "B", "LAST"].map(bare_member).to_vec(),
        orders: vec![
            order("1", "A", "2026-03-03T12:00:00+08:00", 500),
            order("2", "B", "2026-03-04T12:00:00+08:00", 100),
            order("3", "LAST", "2026-06-01T12:00:00+08:00", 1),
        ],
        ..Default::default()
    };
    let base = MemberBase::build(Default::default(), data);
    let mut log = OutlookLog::default();
    for strategy in ["one", "two"] {
        let mut d = decision(strategy, "A", RUN, DecisionStatus::Dispatched);
        d.benefit = Some(Benefit { kind: BenefitKind::Coupon, value: 1_000, gift: None });
        log.add(&d);
    }
    log.add(&decision("two", "B", RUN, DecisionStatus::Holdout));
    let o = Outlook::score(&base, &HashMap::new(), &log, &ReportSettings::default());
    assert_eq!(o.strategies["one"].baseline.revenue_fen, 50_000);
    assert_eq!(o.strategies["two"].baseline.revenue_fen, 60_000);
    let all = &o.overall;
    assert_eq!((all.baseline.members, all.baseline.orders, all.baseline.revenue_fen), (2, 2, 60_000), "A's order once");
    assert_eq!((all.cost.total_fen, all.cost.touched_members), (2_000, 1), "two benefits, one member");
}

#[test]
fn each_group_buy_invite_sent_costs_its_discount_off_the_list_price() {
    let data = DataSet {
        members: ["R", "R2", "R3", "R4", "HELD"].map(bare_member).to_vec(),
        orders: vec![order("1", "R", "2026-06-01T12:00:00+08:00", 1)],
        ..Default::default()
    };
    let base = MemberBase::build(Default::default(), data);
    let invite = |member: &str, sku: &str, status| {
        let mut d = decision("g", member, RUN, status);
        d.action = ActionKind::GroupBuyInvite;
        d.group_buy = Some(GroupBuy { sku: sku.into(), group_size: 3, price: 29_900 });
        d
    };
    let mut log = OutlookLog::default();
    log.add(&invite("R", "DR-1", DecisionStatus::Dispatched));
    let mut deferred = invite("R2", "DR-1", DecisionStatus::Deferred);
    deferred.send_at = Some(at("2026-03-02T10:00:00+08:00"));
    log.add(&deferred);
    log.add(&invite("R3", "GONE", DecisionStatus::Dispatched)); // not in products.csv
    log.add(&invite("HELD", "DR-1", DecisionStatus::Holdout)); // never sent: no cost
    log.add(&invite("R4", "CHEAP", DecisionStatus::Dispatched)); // group price above list: no discount, not a gain
    let prices = HashMap::from([("DR-1".to_string(), 39_900), ("CHEAP".to_string(), 9_900)]);
    let o = Outlook::score(&base, &prices, &log, &ReportSettings::default());
    let c = &o.strategies["g"].cost;
    assert_eq!((c.group_buy_invites, c.group_buy_invites_unpriced), (4, 1), "{c:?}");
    assert_eq!((c.group_buy_discounts_fen, c.total_fen), (20_000, 20_000), "two priced invites at 100 yuan off");
    assert_eq!((c.touched_members, c.per_touched_member_fen), (4, Some(5_000)));
}
