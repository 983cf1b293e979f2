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
