//! Builders for the touches a strategy proposes, and the operator-facing
//! shape of a benefit in config.

use serde::{Deserialize, Serialize};

use crate::{Action, Benefit, BenefitKind, GroupBuy, Member, StaffTask, Touch};

impl Touch {
    fn new(member: &Member, step: &str, channel: &str, template: &str, action: Action) -> Self {
        Touch {
            member_id: member.profile.id.clone(),
            step: step.to_string(),
            channel: channel.to_string(),
            template: template.to_string(),
            variables: Vec::new(),
            action,
        }
    }

    /// A message on `channel` using `template`.
    pub fn message(member: &Member, step: &str, channel: &str, template: &str) -> Self {
        Touch::new(member, step, channel, template, Action::Message)
    }

    /// A coupon, announced on `channel` using `template`.
    pub fn coupon(member: &Member, step: &str, channel: &str, template: &str, benefit: Benefit) -> Self {
        Touch::new(member, step, channel, template, Action::Coupon(benefit))
    }

    /// A task for the member's own guide, who contacts them over WeCom.
    pub fn staff_task(member: &Member, step: &str, template: &str, benefit: Option<Benefit>) -> Self {
        let task = StaffTask { guide_id: member.profile.guide_id.clone(), benefit };
        Touch::new(member, step, "wecom", template, Action::StaffTask(task))
    }

    /// An invitation to open a group buy.
    pub fn group_buy_invite(member: &Member, step: &str, channel: &str, template: &str, group: GroupBuy) -> Self {
        Touch::new(member, step, channel, template, Action::GroupBuyInvite(group))
    }

    /// Adds a template variable.
    pub fn var(mut self, key: &str, value: impl ToString) -> Self {
        self.variables.push((key.to_string(), value.to_string()));
        self
    }

    /// The benefit this touch carries, if any.
    pub fn benefit(&self) -> Option<&Benefit> {
        match &self.action {
            Action::Coupon(benefit) => Some(benefit),
            Action::StaffTask(task) => task.benefit.as_ref(),
            Action::Message | Action::GroupBuyInvite(_) => None,
        }
    }
}

/// The most a benefit in config may be worth, in yuan: the host's ceiling on
/// any amount (100,000,000 yuan, 10^10 fen), so the value in fen always fits.
pub const MAX_BENEFIT_YUAN: f64 = 100_000_000.0;

/// A benefit as operators write it in config: `{"kind": "coupon", "value": 20}`
/// with the value in yuan, and an optional named gift.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenefitSpec {
    /// What kind of benefit.
    pub kind: BenefitSpecKind,
    /// Yuan (decimal); stored as fen.
    #[serde(default)]
    pub value: f64,
    /// The gift's name, shown to the member; for a coupon, a gift that comes with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gift: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// The benefit kinds an operator can write in config (`"coupon"`, `"early_access"`…).
pub enum BenefitSpecKind {
    /// A coupon worth `value` yuan.
    Coupon,
    /// A named gift costing the brand `value` yuan.
    Gift,
    /// A lottery draw.
    Lottery,
    /// Loyalty points.
    Points,
    /// Early access to a launch.
    EarlyAccess,
}

impl BenefitSpec {
    /// A coupon worth `yuan`.
    pub fn coupon(yuan: f64) -> Self {
        BenefitSpec { kind: BenefitSpecKind::Coupon, value: yuan, gift: None }
    }

    /// A named gift that costs the brand `yuan`.
    pub fn gift(yuan: f64, gift: &str) -> Self {
        BenefitSpec { kind: BenefitSpecKind::Gift, value: yuan, gift: Some(gift.to_string()) }
    }

    /// The same benefit with a named gift added.
    pub fn with_gift(mut self, gift: &str) -> Self {
        self.gift = Some(gift.to_string());
        self
    }

    /// Checks the benefit as config at `key` (e.g. `levels.1`): for
    /// [`crate::Strategy::check`]. Every kind needs a value of at least one
    /// fen — the host refuses a benefit worth 0 or less on each touch, gift,
    /// lottery and points included, so 0 is no "not priced" — and at most
    /// [`MAX_BENEFIT_YUAN`], the host's ceiling on any amount (its setting
    /// `benefit_max_yuan`, lower by default, it checks on each touch). A gift
    /// must name the gift, which is what the member is told they get; any
    /// gift name must be one the host passes on (1–128 bytes, no control
    /// characters).
    pub fn check(&self, key: &str) -> Result<(), String> {
        let fen = (self.value * 100.0).round();
        // Written so that NaN and the infinities fail too.
        if !(self.value.is_finite() && fen >= 1.0 && self.value <= MAX_BENEFIT_YUAN) {
            return Err(format!("{key}.value: must be from 0.01 to {MAX_BENEFIT_YUAN} yuan (is {})", self.value));
        }
        match &self.gift {
            Some(gift) => crate::check::name(&format!("{key}.gift"), gift, crate::check::MAX_LABEL_BYTES),
            None if self.kind == BenefitSpecKind::Gift => Err(format!(
                "{key}.gift: a benefit of kind \"gift\" must name the gift; 1–{} bytes",
                crate::check::MAX_LABEL_BYTES
            )),
            None => Ok(()),
        }
    }

    /// The benefit as the WIT contract carries it (value in fen).
    pub fn benefit(&self) -> Benefit {
        Benefit {
            kind: match self.kind {
                BenefitSpecKind::Coupon => BenefitKind::Coupon,
                BenefitSpecKind::Gift => BenefitKind::Gift,
                BenefitSpecKind::Lottery => BenefitKind::Lottery,
                BenefitSpecKind::Points => BenefitKind::Points,
                BenefitSpecKind::EarlyAccess => BenefitKind::EarlyAccess,
            },
            value: (self.value * 100.0).round() as i64,
            gift: self.gift.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_benefit_worth_nothing_or_less_or_not_a_number_is_refused_naming_the_key_and_the_range() {
        let refused = |value: f64| BenefitSpec::coupon(value).check("levels.1").unwrap_err();
        assert_eq!(refused(-30.0), "levels.1.value: must be from 0.01 to 100000000 yuan (is -30)");
        assert_eq!(refused(0.0), "levels.1.value: must be from 0.01 to 100000000 yuan (is 0)");
        assert_eq!(refused(0.004), "levels.1.value: must be from 0.01 to 100000000 yuan (is 0.004)", "0 fen");
        assert_eq!(refused(f64::NAN), "levels.1.value: must be from 0.01 to 100000000 yuan (is NaN)");
        assert_eq!(refused(f64::INFINITY), "levels.1.value: must be from 0.01 to 100000000 yuan (is inf)");
        assert_eq!(refused(1e9), "levels.1.value: must be from 0.01 to 100000000 yuan (is 1000000000)");
        assert_eq!(BenefitSpec::coupon(0.01).check("levels.1"), Ok(()));
        assert_eq!(BenefitSpec::coupon(MAX_BENEFIT_YUAN).check("levels.1"), Ok(()));
    }

    #[test]
    fn every_kind_needs_a_value_as_the_host_refuses_a_benefit_worth_nothing() {
        for kind in [BenefitSpecKind::Lottery, BenefitSpecKind::Points, BenefitSpecKind::EarlyAccess] {
            let unpriced = BenefitSpec { kind, value: 0.0, gift: None };
            assert!(unpriced.check("benefit").unwrap_err().starts_with("benefit.value: "), "{kind:?}");
            assert_eq!(BenefitSpec { value: 5.0, ..unpriced }.check("benefit"), Ok(()), "{kind:?}");
        }
    }

    #[test]
    fn a_gift_must_name_its_gift_and_any_gift_name_must_be_one_the_host_passes_on() {
        let unnamed = BenefitSpec { kind: BenefitSpecKind::Gift, value: 30.0, gift: None };
        assert_eq!(
            unnamed.check("benefit"),
            Err("benefit.gift: a benefit of kind \"gift\" must name the gift; 1–128 bytes".into())
        );
        assert_eq!(BenefitSpec::gift(30.0, "scarf").check("benefit"), Ok(()));
        let blank = BenefitSpec::coupon(20.0).with_gift("  ");
        assert_eq!(blank.check("levels.4"), Err("levels.4.gift: must not be empty; 1–128 bytes".into()));
        let long = BenefitSpec::coupon(20.0).with_gift(&"x".repeat(129));
        assert_eq!(long.check("levels.4"), Err("levels.4.gift: is 129 bytes long; at most 128 bytes".into()));
    }
}
