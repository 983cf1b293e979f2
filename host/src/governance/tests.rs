//! The governor's unit tests: arbitration, holdout, quiet hours, caps,
//! budgets, reachability and guides, each on a few proposals.

use super::*;
use crate::calendar::parse_instant;
use crate::model::{ActionKind, Benefit, DecisionStatus};

pub(super) fn proposal(strategy: &str, member: &str, at: Millis) -> Proposal {
    Proposal {
        key: format!("{strategy}/s/p/{member}"),
        strategy: strategy.into(),
        plugin_version: "1".into(),
        plugin_sha256: "".into(),
        run_at: at,
        day: 0,
        member_id: member.into(),
        step: "s".into(),
        action: ActionKind::Coupon,
        channel: "wecom".into(),
        template: "t".into(),
        variables: vec![],
        benefit: Some(Benefit { kind: BenefitKind::Coupon, value: 2_000, gift: None }),
        coupon_id: None,
        guide_id: None,
        group_buy: None,
    }
}

/// A touch of `strategy` sent to `member` at `at`.
fn sent(strategy: &str, member: &str, at: Millis) -> Decision {
    outcome::Worded { status: DecisionStatus::Dispatched, reason: None, send_at: None }
        .decision(proposal(strategy, member, at))
}

fn no_holdout() -> Governor {
    Governor::new(
        GovernancePolicy { holdout_percent: 0.0, ..Default::default() },
        HashMap::new(),
        BrandCalendar::default(),
    )
}

pub(super) const TEN: &str = "2026-03-01T10:00:00+08:00";

#[test]
fn the_higher_priority_strategy_wins_and_the_other_is_told_why() {
    let at = parse_instant(TEN).unwrap();
    let out = no_holdout().decide(
        at,
        vec![vec![proposal("dormant-recall", "M1", at)], vec![proposal("birthday-tiered", "M1", at)]],
        &[],
        &|_: &str| None,
    );
    let by = |s: &str| out.iter().find(|d| d.strategy == s).unwrap();
    assert_eq!(by("birthday-tiered").status, DecisionStatus::Dispatched);
    assert_eq!(by("dormant-recall").status, DecisionStatus::Suppressed);
    assert_eq!(by("dormant-recall").reason.as_deref(), Some("arbitration: birthday-tiered has priority"));
}

#[test]
fn ids_alike_in_their_first_sixteen_bytes_are_still_put_in_id_order() {
    let at = parse_instant(TEN).unwrap();
    // Ids that tie in their first 16 bytes, or end within them: each
    // member's proposals are still decided together.
    let members = ["brand-member-0000-b", "brand-member-0000-a", "brand-member-0000", "brand-member-000", "b"];
    let batches: Vec<Vec<Proposal>> = members
        .iter()
        .flat_map(|m| [proposal("dormant-recall", m, at), proposal("birthday-tiered", m, at)])
        .map(|d| vec![d])
        .collect();
    let out = no_holdout().decide(at, batches, &[], &|_: &str| None);
    let order: Vec<(&str, &str)> = out.iter().map(|d| (d.member_id.as_str(), d.strategy.as_str())).collect();
    let mut expected = order.clone();
    expected.sort_by_key(|&(member, strategy)| (member, strategy != "birthday-tiered"));
    assert_eq!(order, expected);
    assert_eq!(order[0], ("b", "birthday-tiered"));
    assert_eq!(out.iter().filter(|d| d.status == DecisionStatus::Dispatched).count(), 5, "one winner a member");
}

#[test]
fn quiet_hours_defer_to_the_morning_in_the_members_zone() {
    let at = parse_instant(TEN).unwrap();
    let london: Tz = "Europe/London".parse().unwrap();
    let out = no_holdout().decide(at, vec![vec![proposal("dormant-recall", "M1", at)]], &[], &|_: &str| Some(london));
    assert_eq!(out[0].status, DecisionStatus::Deferred);
    assert_eq!(out[0].send_at, Some(parse_instant("2026-03-01T09:00:00+00:00").unwrap()));
    assert!(
        out[0].reason.as_deref().unwrap().starts_with("quiet hours in Europe/London; sends at"),
        "{:?}",
        out[0].reason
    );
}

#[test]
fn capped_touches_are_deferred_or_dropped_per_strategy() {
    let at = parse_instant(TEN).unwrap();
    let mut dropper = HashMap::new();
    let drop = StrategyRules {
        holdout_percent: 0.0,
        on_cap: OnCap::Drop,
        max_defer_hours: 48,
        coupon_budget_per_day: None,
        fallback_channels: Vec::new(),
        on_guide_full: OnCap::Defer,
    };
    dropper.insert("dormant-recall".to_string(), drop);
    let mut g = Governor::new(
        GovernancePolicy { holdout_percent: 0.0, ..Default::default() },
        dropper,
        BrandCalendar::default(),
    );
    let earlier = sent("birthday-tiered", "M1", at - 24 * HOUR);
    g.remember(&earlier.view());
    let out = g.decide(
        at,
        vec![vec![proposal("dormant-recall", "M1", at)], vec![proposal("second-purchase-nudge", "M2", at)]],
        &[],
        &|_: &str| None,
    );
    assert_eq!(out[0].status, DecisionStatus::Suppressed);
    assert_eq!(out[0].reason.as_deref(), Some("fatigue: less than 48h since another touch"));
    assert_eq!(out[1].status, DecisionStatus::Dispatched);

    let mut deferring = no_holdout();
    deferring.remember(&earlier.view());
    let out = deferring.decide(at, vec![vec![proposal("dormant-recall", "M1", at)]], &[], &|_: &str| None);
    assert_eq!(out[0].status, DecisionStatus::Deferred);
    assert_eq!(out[0].send_at, Some(at + 24 * HOUR), "48h after the earlier touch");
}

#[test]
fn caps_hold_back_a_strategy_when_no_channel_has_a_slot_within_its_rules() {
    let at = parse_instant(TEN).unwrap();
    let mut g = no_holdout();
    let earlier = sent("birthday-tiered", "M1", at - 24 * HOUR);
    g.remember(&earlier.view());
    let tz = BrandCalendar::default().tz();
    assert!(!g.caps_hold_back("dormant-recall", "M1", at, tz), "48h after the touch is within 48h: deferred");
    assert!(!g.caps_hold_back("dormant-recall", "M2", at, tz), "no touches");
    assert!(!g.caps_hold_back("coupon-reminder", "M1", at, tz), "exempt from the caps");
    let second = sent("dormant-recall", "M1", at + 24 * HOUR);
    g.remember(&second.view());
    assert!(g.caps_hold_back("dormant-recall", "M1", at, tz), "2 touches in 168h until 6 days on");
    assert!(!g.caps_hold_back("dormant-recall", "M1", at + 5 * 24 * HOUR, tz), "within 48h of free");
}

#[test]
fn a_held_back_strategy_wins_arbitration_as_its_proposal_would_have() {
    let at = parse_instant(TEN).unwrap();
    let held =
        [("M1".to_string(), "birthday-tiered".to_string()), ("M2".to_string(), "group-buy-referral".to_string())];
    let proposals = vec![proposal("dormant-recall", "M1", at), proposal("dormant-recall", "M2", at)];
    let out = no_holdout().decide(at, vec![proposals], &held, &|_: &str| None);
    assert_eq!(out.len(), 2, "held-back members are not decided again");
    assert_eq!(out[0].reason.as_deref(), Some("arbitration: birthday-tiered has priority"));
    assert_eq!(out[1].status, DecisionStatus::Dispatched, "group-buy-referral ranks below dormant-recall");
}

#[test]
fn the_daily_coupon_budget_suppresses_the_rest() {
    let at = parse_instant(TEN).unwrap();
    let budget = StrategyRules {
        holdout_percent: 0.0,
        on_cap: OnCap::Defer,
        max_defer_hours: 48,
        coupon_budget_per_day: Some(5_000),
        fallback_channels: Vec::new(),
        on_guide_full: OnCap::Defer,
    };
    let rules = HashMap::from([("birthday-tiered".to_string(), budget)]);
    let mut g = Governor::new(GovernancePolicy::default(), rules, BrandCalendar::default());
    let members = ["M1", "M2", "M3"].map(|m| proposal("birthday-tiered", m, at));
    let out = g.decide(at, vec![members.to_vec()], &[], &|_: &str| None);
    let statuses: Vec<DecisionStatus> = out.iter().map(|d| d.status).collect();
    assert_eq!(statuses, [DecisionStatus::Dispatched, DecisionStatus::Dispatched, DecisionStatus::Suppressed]);
    assert_eq!(out[2].reason.as_deref(), Some("budget: 50 yuan of coupons a day, 40 yuan spent"));
}

/// Members some channels cannot reach: (member, channel) → why.
struct Unreached(Vec<(&'static str, &'static str, Unreachable)>);

impl Members for Unreached {
    fn time_zone(&self, _: &str) -> Option<Tz> {
        None
    }

    fn unreachable(&self, member: &str, channel: &str, _: bool, _: Millis) -> Option<Unreachable> {
        self.0.iter().find(|(m, c, _)| *m == member && *c == channel).map(|(_, _, why)| *why)
    }
}

#[test]
fn a_touch_no_channel_reaches_is_suppressed_and_a_fallback_carries_it_when_one_does() {
    let at = parse_instant(TEN).unwrap();
    let deleted = Unreachable::DeletedOnWecom { since: BrandCalendar::default().day_of(at - 3_600_000) };
    let sms_off = Unreachable::Unsubscribed { every_channel: false, since: 20_000 };
    let members = Unreached(vec![("M1", "wecom", deleted), ("M2", "wecom", deleted), ("M2", "sms", sms_off)]);
    let with_sms = |fallback: &[&str]| {
        let rules = StrategyRules {
            holdout_percent: 0.0,
            on_cap: OnCap::Defer,
            max_defer_hours: 48,
            coupon_budget_per_day: None,
            fallback_channels: fallback.iter().map(|c| c.to_string()).collect(),
            on_guide_full: OnCap::Defer,
        };
        Governor::new(
            GovernancePolicy { holdout_percent: 0.0, ..Default::default() },
            HashMap::from([("dormant-recall".to_string(), rules)]),
            BrandCalendar::default(),
        )
    };
    let proposals = || vec![["M1", "M2", "M3"].map(|m| proposal("dormant-recall", m, at)).to_vec()];

    let out = with_sms(&[]).decide(at, proposals(), &[], &members);
    assert_eq!(out[0].status, DecisionStatus::Suppressed);
    assert_eq!(out[0].reason.as_deref(), Some("unreachable: deleted the brand on WeCom on 2026-03-01"));
    assert_eq!((out[2].status, out[2].channel.as_str()), (DecisionStatus::Dispatched, "wecom"));

    let mut g = with_sms(&["sms", "app-push"]);
    let out = g.decide(at, proposals(), &[], &members);
    assert_eq!((out[0].status, out[0].channel.as_str()), (DecisionStatus::Dispatched, "sms"));
    assert_eq!(
        out[0].reason.as_deref(),
        Some("by sms: wecom cannot reach the member (deleted the brand on WeCom on 2026-03-01)")
    );
    assert_eq!(out[1].channel, "app-push", "M2 unsubscribed from SMS: the next fallback");
    assert_eq!(g.touches["M1"][0].channel, "sms", "the caps count the channel used");
}
