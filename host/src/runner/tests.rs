//! The runner's own rules that need no plugin: its settings, the event a
//! sent coupon leaves, and which members it does not ask a plugin about
//! again because the caps still hold them back. Deciding batches — halving a
//! failing batch down to the member it fails on, the `failed_members` limit,
//! the run record — calls a real plugin, so it is tested in
//! tests/integration/hardening.rs with plugins built for it.

use std::collections::HashMap;

use super::propose::still_held_back;
use super::*;
use crate::calendar::{parse_instant, BrandCalendar};
use crate::decision_log::{LoggedDecision, StrategyLog};
use crate::governance::{GovernancePolicy, OnCap, StrategyRules};
use crate::model::{bare_member, ActionKind, Benefit, BenefitKind, DataSet, DecisionStatus};

const HOUR: Millis = 3_600_000;
const STRATEGY: &str = "group-buy-referral";

fn at(text: &str) -> Millis {
    parse_instant(text).expect("an RFC 3339 instant")
}

/// A decision of `strategy` for `member` at `run_at`, sent then.
fn sent(strategy: &str, member: &str, run_at: Millis) -> Decision {
    Decision {
        key: format!("{strategy}/invite/p/{member}"),
        strategy: strategy.into(),
        plugin_version: "1.0.0".into(),
        run_at,
        day: BrandCalendar::default().day_of(run_at),
        step: "invite".into(),
        channel: "sms".into(),
        template: "t".into(),
        ..crate::model::sample_decision(member)
    }
}

#[test]
fn runs_go_in_batches_of_500_on_every_core_unless_the_config_says_otherwise() {
    assert_eq!(RunSettings::default(), RunSettings { batch_size: 500, workers: 0, max_ahead_hours: 24 });
    let settings: RunSettings = toml::from_str("batch_size = 100").unwrap();
    assert_eq!(settings, RunSettings { batch_size: 100, workers: 0, max_ahead_hours: 24 });
    let typo = toml::from_str::<RunSettings>("batch = 100").unwrap_err().to_string();
    assert!(typo.contains("unknown field `batch`"), "{typo}");
}

#[test]
fn a_sent_coupon_leaves_an_event_named_by_its_coupon_when_it_is_sent() {
    let run = at("2026-03-10T10:00:00+08:00");
    let mut coupon = sent("birthday-tiered", "M1", run);
    coupon.action = ActionKind::Coupon;
    coupon.benefit = Some(Benefit { kind: BenefitKind::Coupon, value: 3_050, gift: None });
    coupon.coupon_id = Some("CP-7".into());

    let now = coupon_issued(&coupon);
    assert_eq!((now.id.as_str(), now.kind.as_str()), ("coupon_issued:CP-7", model::COUPON_ISSUED));
    assert_eq!((now.member_id.as_str(), now.at), ("M1", run));
    let attrs: serde_json::Value = serde_json::from_str(&now.attrs).unwrap();
    let expected =
        serde_json::json!({"coupon_id": "CP-7", "strategy": "birthday-tiered", "step": "invite", "value": 30.5});
    assert_eq!(attrs, expected, "the value in yuan");

    // Deferred out of quiet hours: issued when it is sent, not at the run.
    coupon.status = DecisionStatus::Deferred;
    coupon.send_at = Some(run + 12 * HOUR);
    assert_eq!(coupon_issued(&coupon).at, run + 12 * HOUR);
}

/// The member `A` of a one-member base whose two touches (by any strategy)
/// fill the fatigue cap of two in 168 hours until a week after `run`.
fn capped_member(run: Millis) -> (MemberBase, Governor) {
    let base =
        MemberBase::build(BrandCalendar::default(), DataSet { members: vec![bare_member("A")], ..Default::default() });
    // No control group, so the caps alone decide.
    let rules = StrategyRules {
        holdout_percent: 0.0,
        on_cap: OnCap::Defer,
        max_defer_hours: 48,
        coupon_budget_per_day: None,
        fallback_channels: Vec::new(),
        on_guide_full: OnCap::Defer,
    };
    let mut governor =
        Governor::new(GovernancePolicy::default(), HashMap::from([(STRATEGY.into(), rules)]), base.calendar);
    governor.remember(&sent("dormant-recall", "A", run - 30 * HOUR).view());
    governor.remember(&sent("birthday-tiered", "A", run - 20 * HOUR).view());
    (base, governor)
}

fn logged(status: DecisionStatus, held_back_by_caps: bool, run_at: Millis) -> LoggedDecision {
    LoggedDecision {
        step: "invite".into(),
        action: ActionKind::GroupBuyInvite,
        status,
        run_at,
        day: BrandCalendar::default().day_of(run_at),
        channel: "wecom".into(),
        template: "t".into(),
        variables: Vec::new(),
        benefit: None,
        held_back_by_caps,
        unreachable: false,
    }
}

#[test]
fn a_member_the_caps_held_back_last_time_is_not_asked_again_while_they_still_do() {
    let run = at("2026-03-10T10:00:00+08:00");
    let (base, governor) = capped_member(run);
    let mut log = StrategyLog::default();
    log.add(0, logged(DecisionStatus::Suppressed, true, run - 24 * HOUR));
    assert!(still_held_back(&base, &governor, STRATEGY, &log, 0, run));
    // A week on, both touches have left the window: asked again.
    assert!(!still_held_back(&base, &governor, STRATEGY, &log, 0, run + 7 * 24 * HOUR));
}

#[test]
fn a_member_is_always_asked_when_the_caps_did_not_hold_back_their_latest_decision() {
    let run = at("2026-03-10T10:00:00+08:00");
    let (base, governor) = capped_member(run);
    // Never decided: the first time is always decided, and recorded.
    assert!(!still_held_back(&base, &governor, STRATEGY, &StrategyLog::default(), 0, run));
    // Held back once, but the latest decision was another (a holdout here).
    let mut log = StrategyLog::default();
    log.add(0, logged(DecisionStatus::Suppressed, true, run - 48 * HOUR));
    log.add(0, logged(DecisionStatus::Holdout, false, run - 24 * HOUR));
    assert!(!still_held_back(&base, &governor, STRATEGY, &log, 0, run));
}

#[test]
fn a_member_no_channel_reached_last_time_is_not_asked_again_until_they_add_the_brand_again() {
    let run = at("2026-03-10T10:00:00+08:00");
    let mut member = bare_member("A");
    member.wecom_added_at = Some(run - 100 * 24 * HOUR);
    let event = |id: &str, kind: &str, at: Millis| crate::model::Event {
        id: id.into(),
        member_id: "A".into(),
        kind: kind.into(),
        at,
        attrs: "{}".into(),
    };
    let events = vec![event("E1", "wecom_deleted", run - 48 * HOUR), event("E2", "wecom_added", run + 24 * HOUR)];
    let base =
        MemberBase::build(BrandCalendar::default(), DataSet { members: vec![member], events, ..Default::default() });
    let governor = Governor::new(GovernancePolicy::default(), HashMap::new(), base.calendar);
    let mut log = StrategyLog::default();
    log.add(0, LoggedDecision { unreachable: true, ..logged(DecisionStatus::Suppressed, false, run - 24 * HOUR) });
    assert!(still_held_back(&base, &governor, STRATEGY, &log, 0, run), "still deleted: not asked");
    assert!(!still_held_back(&base, &governor, STRATEGY, &log, 0, run + 48 * HOUR), "a friend again: asked");
}
