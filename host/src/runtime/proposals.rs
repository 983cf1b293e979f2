//! The guest contract's other half: a plugin's answer for one batch, turned
//! into proposals (and failed decisions), with their idempotency keys and
//! coupon ids.
//!
//! Each touch is checked against the contract ([`contract::check_touch`]:
//! names, lengths, values). A touch that breaks it fails *that member's
//! decision* — recorded as `failed` with a reason naming the plugin, the
//! field and the limit — and the other touches go on to governance. A touch
//! for someone outside the batch cannot be pinned on a member of it: that
//! fails the call, and the runner finds the member it came from by
//! splitting the batch (see `runner/isolate.rs`).

use rustc_hash::{FxHashMap, FxHashSet};
use sha2::{Digest, Sha256};

use super::contract::{self, is_step_name};
use super::{api, LoadedPlugin, PluginError};
use crate::calendar::RunClock;
use crate::model::{self, ActionKind, Decision, DecisionStatus, GroupBuy, Proposal};
use crate::printable::{clipped, printable_line};

/// The step of a `failed` decision that no touch named (the call failed for
/// the member, or the touch's own step was not a step name). Outside the
/// step alphabet, so it never meets a plugin's own step.
pub const NO_STEP: &str = "!call";

/// A batch's touches: proposals for the governor to decide, and failed
/// decisions, which skip it.
#[derive(Debug, Default)]
pub struct Proposals {
    /// Touches that kept to the contract, in the plugin's order.
    pub proposed: Vec<Proposal>,
    /// One `failed` decision per member and step whose touch broke the
    /// contract (or, from the runner, per member the plugin failed on).
    pub failed: Vec<Decision>,
}

/// Checks a batch's touches and turns them into proposals and failed
/// decisions; `Err` when a touch names a member outside the batch.
pub(crate) fn proposals_from(
    plugin: &LoadedPlugin,
    clock: RunClock,
    period: &str,
    members: &[api::Member],
    touches: Vec<api::Touch>,
) -> Result<Proposals, PluginError> {
    // Checked by reference first, and a problem worded only when there is
    // one: a busy day checks a million touches.
    let in_batch: FxHashSet<&str> = members.iter().map(|m| m.profile.id.as_str()).collect();
    if let Some(outsider) = touches.iter().find(|t| !in_batch.contains(t.member_id.as_str())) {
        let message = format!(
            "member `{}` was not in the batch it was given",
            printable_line(&clipped(&outsider.member_id, contract::MAX_NAME_BYTES))
        );
        return Err(PluginError::InvalidOutput { plugin: plugin.label(), message });
    }
    let mut per_step: FxHashMap<(&str, &str), u32> = FxHashMap::default();
    for t in &touches {
        *per_step.entry((&t.member_id, &t.step)).or_default() += 1;
    }
    let refusals: Vec<Option<String>> = touches
        .iter()
        .map(|t| match contract::check_touch(t, plugin.limits()) {
            Err(problem) => Some(problem),
            Ok(()) if per_step[&(t.member_id.as_str(), t.step.as_str())] > 1 => {
                Some(format!("member `{}` got two touches at step `{}` in one run", t.member_id, t.step))
            }
            Ok(()) => None,
        })
        .collect();
    drop(per_step);

    let mut out = Proposals::default();
    let mut failed_keys = FxHashSet::default();
    for (touch, refusal) in touches.into_iter().zip(refusals) {
        match refusal {
            None => out.proposed.push(proposal(plugin, clock, period, touch)),
            Some(problem) => {
                let step = if is_step_name(&touch.step) { touch.step.as_str() } else { NO_STEP };
                let reason = PluginError::InvalidOutput { plugin: plugin.label(), message: problem }.to_string();
                let failure = failed(plugin, clock, period, &touch.member_id, step, action_kind(&touch.action), reason);
                // Two touches at one step are one failed decision.
                if failed_keys.insert(failure.key.clone()) {
                    out.failed.push(failure);
                }
            }
        }
    }
    Ok(out)
}

/// What a checked touch proposes.
fn proposal(plugin: &LoadedPlugin, clock: RunClock, period: &str, touch: api::Touch) -> Proposal {
    let action = action_kind(&touch.action);
    let (benefit, guide_id, group_buy) = match touch.action {
        api::Action::Message => (None, None, None),
        api::Action::Coupon(b) => (Some(b), None, None),
        api::Action::StaffTask(t) => (t.benefit, Some(t.guide_id), None),
        api::Action::GroupBuyInvite(g) => {
            (None, None, Some(GroupBuy { sku: g.sku, group_size: g.group_size, price: g.price }))
        }
    };
    let key = decision_key(plugin.id(), &touch.step, period, &touch.member_id);
    let coupon_id = benefit.as_ref().filter(|b| b.kind == api::BenefitKind::Coupon).map(|_| coupon_id(&key));
    Proposal {
        key,
        strategy: plugin.id().to_string(),
        plugin_version: plugin.manifest.version.clone(),
        plugin_sha256: plugin.sha256.clone(),
        run_at: clock.at,
        day: clock.today,
        member_id: touch.member_id,
        step: touch.step,
        action,
        channel: touch.channel,
        template: touch.template,
        variables: touch.variables,
        benefit: benefit.as_ref().map(model::Benefit::from),
        coupon_id,
        guide_id,
        group_buy,
    }
}

/// A `failed` decision: the member was not touched, and `reason` says why.
/// It keeps nothing the plugin handed over but the step (when it is one):
/// what broke the contract is not stored.
pub(crate) fn failed(
    plugin: &LoadedPlugin,
    clock: RunClock,
    period: &str,
    member_id: &str,
    step: &str,
    action: ActionKind,
    reason: String,
) -> Decision {
    Decision {
        key: decision_key(plugin.id(), step, period, member_id),
        strategy: plugin.id().to_string(),
        plugin_version: plugin.manifest.version.clone(),
        plugin_sha256: plugin.sha256.clone(),
        run_at: clock.at,
        day: clock.today,
        member_id: member_id.to_string(),
        step: step.to_string(),
        action,
        channel: String::new(),
        template: String::new(),
        variables: Vec::new(),
        benefit: None,
        coupon_id: None,
        guide_id: None,
        group_buy: None,
        status: DecisionStatus::Failed,
        reason: Some(reason),
        send_at: None,
    }
}

fn action_kind(action: &api::Action) -> ActionKind {
    match action {
        api::Action::Message => ActionKind::Message,
        api::Action::Coupon(_) => ActionKind::Coupon,
        api::Action::StaffTask(_) => ActionKind::StaffTask,
        api::Action::GroupBuyInvite(_) => ActionKind::GroupBuyInvite,
    }
}

/// The idempotency key, `strategy/step/period/member`.
fn decision_key(strategy: &str, step: &str, period: &str, member: &str) -> String {
    [strategy, step, period, member].join("/")
}

/// A coupon's id: stable for its decision's key, so the same decision always
/// names the same coupon.
fn coupon_id(key: &str) -> String {
    let digest = Sha256::digest(key);
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("C-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coupon_id_is_the_first_six_bytes_of_its_keys_sha256_in_hex() {
        // Stored and sent to members: the same decision must always name the same coupon.
        assert_eq!(coupon_id("birthday-tiered/birthday/2026-03/M000042"), "C-f908db4e78e5");
    }
}
