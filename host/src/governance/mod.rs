//! Plugins propose; the host decides. Every touch proposed at one run instant
//! goes through one policy before anything leaves, in this order:
//!
//! 1. **arbitration** — when several strategies want a member in the same
//!    run, the highest priority wins; the others are `suppressed`, naming it;
//! 2. **holdout** — a stable share of each strategy's members is `holdout`:
//!    selected, recorded, never touched (the control group for uplift);
//! 3. **reachability** — a touch on a channel that cannot reach the member
//!    (do not contact, unsubscribed, deleted the brand on WeCom: see
//!    `member_base::reachability`) goes by the strategy's first reachable
//!    `fallback_channels`, or is `suppressed` naming why and since when;
//! 4. **guides** — a staff task whose guide has left goes to the store's
//!    fallback or the HQ account, or is `suppressed` when no one is there
//!    (see `guides`); the guide's daily capacity is checked with the caps;
//! 5. **quiet hours** in the member's time zone defer a touch to the morning;
//! 6. **fatigue caps and the WeCom limit** — a touch that would break one is
//!    dropped (`suppressed`) or `deferred` to the first moment all allow,
//!    per strategy (service strategies in `exempt_from_caps` skip the caps,
//!    not the WeCom limit); so is a staff task for a guide whose day is
//!    full (`on_guide_full`), deferred to a day the guide has room;
//! 7. **budget** — a strategy's coupons beyond its daily budget are `suppressed`.
//!
//! What passes is `dispatched` (now) or `deferred` (with `send_at`).
//!
//! The [`Governor`] is here; the order it decides proposals in is in
//! `arbitration`, the rules in `holdout`, `guides`, `quiet_hours` and
//! `caps`, and what becomes of a proposal — and the words for it — in
//! `outcome`. About 400 lines without its tests: the slot search and the
//! order of the rules are one story, best read in one file.

mod arbitration;
mod caps;
mod guides;
mod holdout;
mod outcome;
pub mod policy;
mod quiet_hours;

use std::collections::HashMap;

use chrono_tz::Tz;
use rustc_hash::FxHashMap;

use caps::first_violation;
pub use caps::PlannedTouch;
use guides::{Assignee, GuideTasks, Reassigned};
pub use holdout::in_holdout;
pub use outcome::{guide_reason_kind, held_back_by_caps, unreachable};
use outcome::{Outcome, Reason, Wait};
pub use policy::{GovernancePolicy, GuidesPolicy, OnCap, StrategyRules};

use crate::calendar::{date_of_day, BrandCalendar};
use crate::decision_view::DecisionView;
use crate::keyed;
use crate::member_base::{MemberBase, Unreachable};
use crate::model::{ActionKind, BenefitKind, Day, Decision, Fen, Guide, Millis, Proposal};

const HOUR: i64 = 3_600_000;
/// Deferral search gives up after this many rule checks (each moves the time forward).
const MAX_SLOT_SEARCH: usize = 64;

/// What the governor asks about a member: their own time zone, whether
/// a channel reaches them at an instant (`via_wecom`: WeCom carries it),
/// their store, and the guides staff tasks go to.
pub trait Members {
    /// The member's own time zone, if they have one.
    fn time_zone(&self, member: &str) -> Option<Tz>;
    /// Why `channel` cannot reach the member at `at`, if it cannot.
    fn unreachable(&self, member: &str, channel: &str, via_wecom: bool, at: Millis) -> Option<Unreachable>;
    /// The member's store; none by default.
    fn store_of(&self, _member: &str) -> Option<&str> {
        None
    }
    /// The guide with this id as guides.csv lists them; none by default
    /// (every guide active, with the brand's default capacity).
    fn guide(&self, _id: &str) -> Option<&Guide> {
        None
    }
}

impl Members for MemberBase {
    fn time_zone(&self, member: &str) -> Option<Tz> {
        self.time_zone_of(member)
    }

    fn unreachable(&self, member: &str, channel: &str, via_wecom: bool, at: Millis) -> Option<Unreachable> {
        MemberBase::unreachable(self, self.index_of(member)?, channel, via_wecom, at)
    }

    fn store_of(&self, member: &str) -> Option<&str> {
        MemberBase::store_of(self, member)
    }

    fn guide(&self, id: &str) -> Option<&Guide> {
        MemberBase::guide(self, id)
    }
}

/// Members known by their time zones alone, every channel reaching each
/// (the governor's unit tests).
impl<F: Fn(&str) -> Option<Tz>> Members for F {
    fn time_zone(&self, member: &str) -> Option<Tz> {
        self(member)
    }

    fn unreachable(&self, _: &str, _: &str, _: bool, _: Millis) -> Option<Unreachable> {
        None
    }
}

/// A touch sent on a fallback channel: the channel, and the words the
/// decision's reason starts with.
struct Fallback {
    channel: String,
    note: String,
}

/// What a sent touch took instead of what it proposed: a fallback channel,
/// a fallback guide, or both.
#[derive(Default)]
struct Rerouted {
    channel: Option<Fallback>,
    guide: Option<Reassigned>,
}

impl Rerouted {
    /// The decision goes by the fallback channel (which the caps then
    /// count), to the fallback guide (whose capacity then counts), and its
    /// reason says why, channel first, before what made it wait.
    fn apply(self, decision: &mut Decision) {
        let mut notes: Vec<String> = Vec::new();
        if let Some(fallback) = self.channel {
            decision.channel = fallback.channel;
            notes.push(fallback.note);
        }
        if let Some(reassigned) = self.guide {
            decision.guide_id = Some(reassigned.to);
            notes.push(reassigned.note);
        }
        if notes.is_empty() {
            return;
        }
        notes.extend(decision.reason.take());
        decision.reason = Some(notes.join("; "));
    }
}

/// Applies the touch policy to a run instant's proposals, remembering every
/// touch and coupon decided so far (from the store, then from each run) for
/// the caps and budgets.
#[derive(Clone)]
pub struct Governor {
    policy: GovernancePolicy,
    rules: HashMap<String, StrategyRules>,
    /// A strategy's rules when `rules` has none: `[governance]`'s.
    default_rules: StrategyRules,
    calendar: BrandCalendar,
    /// Each member's touches, sent or planned (dispatched and deferred
    /// decisions). Fx: looked up for every proposal; member ids come from the
    /// brand's own data.
    touches: FxHashMap<String, Vec<PlannedTouch>>,
    /// Coupon value per strategy and day the coupon is sent (by strategy
    /// first, so a lookup needs no key built).
    coupons_spent: HashMap<String, HashMap<Day, Fen>>,
    /// Staff tasks per guide and day they are sent, for guides' capacities.
    guide_tasks: GuideTasks,
}

impl Governor {
    /// `rules`: each strategy's holdout, cap handling and budget.
    pub fn new(policy: GovernancePolicy, rules: HashMap<String, StrategyRules>, calendar: BrandCalendar) -> Self {
        let default_rules = StrategyRules {
            holdout_percent: policy.holdout_percent,
            on_cap: policy.on_cap,
            max_defer_hours: policy.max_defer_hours,
            coupon_budget_per_day: None,
            fallback_channels: Vec::new(),
            on_guide_full: policy.on_guide_full,
        };
        Governor {
            policy,
            rules,
            default_rules,
            calendar,
            touches: FxHashMap::default(),
            coupons_spent: HashMap::new(),
            guide_tasks: GuideTasks::default(),
        }
    }

    /// Takes earlier decisions into account (caps count them, budgets spend
    /// them, staff tasks fill their guide's day).
    pub fn remember(&mut self, decision: &DecisionView<'_>) {
        let Some(send_at) = decision.planned_send_at() else { return };
        let touch = PlannedTouch { at: send_at, channel: decision.channel.to_string() };
        keyed::value_for(&mut self.touches, decision.member_id).push(touch);
        if let (ActionKind::StaffTask, Some(guide)) = (decision.action, decision.guide_id) {
            self.guide_tasks.add(guide, self.calendar.day_of(send_at));
        }
        if let Some(b) = decision.benefit.as_ref().filter(|b| b.kind == BenefitKind::Coupon) {
            let day = self.calendar.day_of(send_at);
            let spent = keyed::value_for(&mut self.coupons_spent, decision.strategy).entry(day).or_default();
            *spent = spent.saturating_add(b.value);
        }
    }

    fn rules_for(&self, strategy: &str) -> &StrategyRules {
        self.rules.get(strategy).unwrap_or(&self.default_rules)
    }

    /// Decides every touch proposed at one run instant `at`, given batch by
    /// batch (in any order): the decisions they become, in arbitration
    /// order (see [`arbitration::in_arbitration_order`]). `held_back`: (member,
    /// strategy) pairs the caps still hold back from a touch of the strategy,
    /// not asked again (see [`Governor::caps_hold_back`]); they are not
    /// decided again, but win arbitration as their proposals would have.
    /// `members` gives a member's own time zone and reachability.
    pub fn decide(
        &mut self,
        at: Millis,
        batches: Vec<Vec<Proposal>>,
        held_back: &[(String, String)],
        members: &impl Members,
    ) -> Vec<Decision> {
        let proposals = arbitration::in_arbitration_order(&self.policy, batches);
        let mut first_held: HashMap<&str, &str> = HashMap::new();
        for (member, strategy) in held_back {
            let first = first_held.entry(member).or_insert(strategy);
            if self.policy.rank(strategy) < self.policy.rank(first) {
                *first = strategy;
            }
        }
        let mut decided = Vec::with_capacity(proposals.len());
        // The member being decided and the strategy that won them; kept in
        // buffers of their own, reused member after member.
        let (mut member, mut winner) = (String::new(), String::new());
        for p in proposals {
            if decided.is_empty() || member != p.member_id {
                let strategy = match first_held.get(p.member_id.as_str()) {
                    Some(&held) if self.policy.rank(held) < self.policy.rank(&p.strategy) => held,
                    _ => &p.strategy,
                };
                member.clone_from(&p.member_id);
                winner.clear();
                winner.push_str(strategy);
            }
            let (outcome, rerouted) = if winner != p.strategy {
                (Outcome::Suppressed(Reason::Arbitration { winner: &winner }), Rerouted::default())
            } else {
                self.outcome(&p, at, members)
            };
            let mut decision = outcome.worded(&self.calendar).decision(p);
            rerouted.apply(&mut decision);
            self.remember(&decision.view());
            decided.push(decision);
        }
        decided
    }

    /// What becomes of a proposal that won arbitration: its strategy's
    /// control group, then the channel that reaches the member (a fallback
    /// when not its own), then — for a staff task — the guide who takes it
    /// (a fallback when the member's own left), then quiet hours, the caps
    /// on that channel and the guide's day, then the budget. What it took
    /// instead of what it proposed comes back with it.
    fn outcome<'p>(&'p self, d: &'p Proposal, at: Millis, members: &'p impl Members) -> (Outcome<'p>, Rerouted) {
        let rules = self.rules_for(&d.strategy);
        if in_holdout(&d.strategy, &d.member_id, rules.holdout_percent) {
            return (Outcome::Holdout { percent: rules.holdout_percent }, Rerouted::default());
        }
        let reach = |channel: &str| members.unreachable(&d.member_id, channel, self.via_wecom(channel), at);
        let (channel, fallback) = match reach(&d.channel) {
            None => (d.channel.as_str(), None),
            Some(why) => match rules.fallback_channels.iter().find(|c| reach(c).is_none()) {
                Some(other) => {
                    let note = format!("by {other}: {} cannot reach the member ({})", d.channel, why.on(&d.channel));
                    (other.as_str(), Some(Fallback { channel: other.clone(), note }))
                }
                None => {
                    let reason = Reason::Unreachable { channel: &d.channel, why };
                    return (Outcome::Suppressed(reason), Rerouted::default());
                }
            },
        };
        let (assignee, reassigned) = match (d.action, d.guide_id.as_deref()) {
            (ActionKind::StaffTask, Some(guide)) => {
                match guides::assign(&self.policy.guides, &self.calendar, members, &d.member_id, guide, at) {
                    Ok((assignee, reassigned)) => (Some(assignee), reassigned),
                    Err(reason) => return (Outcome::Suppressed(reason), Rerouted::default()),
                }
            }
            _ => (None, None),
        };
        let tz = members.time_zone(&d.member_id).unwrap_or(self.calendar.tz());
        let sent = match self.slot(&d.strategy, &d.member_id, Some(channel), assignee, at, tz, rules) {
            Ok(sent) => sent,
            Err(reason) => return (Outcome::Suppressed(reason), Rerouted::default()),
        };
        match self.over_budget(d, sent.send_at().unwrap_or(at), rules) {
            Some(reason) => (Outcome::Suppressed(reason), Rerouted::default()),
            None => (sent, Rerouted { channel: fallback, guide: reassigned }),
        }
    }

    /// Whether every touch `strategy` could propose to `member` at `at`,
    /// whatever its channel, would be suppressed by a cap: the caps over all
    /// channels leave no slot within the strategy's rules, and the member is
    /// not in its control group (which comes before the caps).
    pub fn caps_hold_back(&self, strategy: &str, member: &str, at: Millis, tz: Tz) -> bool {
        let rules = self.rules_for(strategy);
        !in_holdout(strategy, member, rules.holdout_percent)
            && matches!(self.slot(strategy, member, None, None, at, tz, rules), Err(reason) if reason.is_cap())
    }

    /// Whether WeCom carries `channel` (`wecom_limit.channels`): it then needs a current friendship.
    fn via_wecom(&self, channel: &str) -> bool {
        self.policy.wecom_limit.channels.iter().any(|c| c == channel)
    }

    /// Whether neither `channel` nor any of the strategy's fallbacks reaches
    /// `member` at `at`.
    pub fn still_unreachable(
        &self,
        strategy: &str,
        member: &str,
        channel: &str,
        at: Millis,
        members: &impl Members,
    ) -> bool {
        let fallbacks = &self.rules_for(strategy).fallback_channels;
        std::iter::once(channel)
            .chain(fallbacks.iter().map(String::as_str))
            .all(|c| members.unreachable(member, c, self.via_wecom(c), at).is_some())
    }

    /// When a touch on `channel` (`None`: checked against the rules over all
    /// channels only), a staff task for `task`'s guide if one, can be sent:
    /// `Dispatched` now, or `Deferred` to a later moment quiet hours, caps
    /// and the guide's day allow, with what first made it wait; the
    /// `Reason` it cannot within the rules. Nothing is worded here:
    /// screening members asks this for every member held back and needs no
    /// words.
    #[allow(clippy::too_many_arguments)]
    fn slot<'c>(
        &self,
        strategy: &str,
        member: &str,
        channel: Option<&'c str>,
        task: Option<Assignee<'c>>,
        at: Millis,
        tz: Tz,
        rules: &StrategyRules,
    ) -> Result<Outcome<'c>, Reason<'c>> {
        let touches = self.touches.get(member).map_or(&[][..], Vec::as_slice);
        let fatigue = (!self.policy.exempt_from_caps.iter().any(|s| s == strategy)).then_some(&self.policy.fatigue);
        let latest = at + rules.max_defer_hours as i64 * HOUR;
        // `t` moves only forward, and only when something makes the touch
        // wait: no wait, and it is sent at `at`.
        let mut t = at;
        let mut wait: Option<Wait<'_>> = None;
        for _ in 0..MAX_SLOT_SEARCH {
            if let Some(end) = self.policy.quiet_hours.ends_after(tz, t) {
                wait.get_or_insert(Wait::QuietHours(tz));
                t = end;
            }
            if let Some(v) = first_violation(fatigue, &self.policy.wecom_limit, &self.calendar, touches, t, channel) {
                if rules.on_cap == OnCap::Drop {
                    return Err(Reason::Capped(v.rule));
                }
                if v.retry_at > latest {
                    return Err(Reason::CappedTooLong { rule: v.rule, max_defer_hours: rules.max_defer_hours });
                }
                wait.get_or_insert(Wait::Capped(v.rule));
                t = v.retry_at;
                continue;
            }
            let Some(full) = task.and_then(|guide| guide.full_on(&self.guide_tasks, self.calendar.day_of(t))) else {
                return Ok(wait.map_or(Outcome::Dispatched, |wait| Outcome::Deferred { send_at: t, wait }));
            };
            if rules.on_guide_full == OnCap::Drop {
                return Err(Reason::GuideFull(full));
            }
            // The guide's next day, from its start: quiet hours (checked
            // again above) then move it to the morning, the member's.
            let next_day = self.calendar.start_of(date_of_day(full.day + 1));
            if next_day > latest {
                return Err(Reason::GuideFullTooLong { full, max_defer_hours: rules.max_defer_hours });
            }
            wait.get_or_insert(Wait::GuideFull(full));
            t = next_day;
        }
        Err(Reason::NoSlotFound { max_defer_hours: rules.max_defer_hours })
    }

    /// Whether a coupon sent at `send_at` would take the strategy over its daily budget.
    fn over_budget(&self, d: &Proposal, send_at: Millis, rules: &StrategyRules) -> Option<Reason<'static>> {
        let budget = rules.coupon_budget_per_day?;
        let coupon = d.benefit.as_ref().filter(|b| b.kind == BenefitKind::Coupon)?;
        let day = self.calendar.day_of(send_at);
        let spent = self.coupons_spent.get(&d.strategy).and_then(|days| days.get(&day)).copied().unwrap_or(0);
        (spent.saturating_add(coupon.value) > budget).then_some(Reason::OverBudget { budget, spent })
    }
}

#[cfg(test)]
mod tests;
