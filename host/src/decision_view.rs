//! A decision with its strings borrowed: what the decision log, the
//! governor and the store's indexes read of one. A runner's start reads
//! every decision recorded — millions after a few weeks at a million
//! members — and decoding each into a [`Decision`] of a dozen owned strings
//! was most of that start; read in place from a stored page
//! (`store::Store::each_decision_page`) a view allocates only its
//! variables' list. A decision in hand gives one with [`Decision::view`].

use serde::Deserialize;

use crate::model::{ActionKind, Benefit, Day, Decision, DecisionStatus, GroupBuy, Millis};

/// [`Decision`]'s fields, borrowed. Its encoding is `Decision`'s (postcard:
/// the fields in order), so a stored decision reads as one without copies.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct DecisionView<'a> {
    /// [`Decision::key`].
    pub key: &'a str,
    /// [`Decision::strategy`].
    pub strategy: &'a str,
    /// [`Decision::plugin_version`].
    pub plugin_version: &'a str,
    /// [`Decision::run_at`].
    pub run_at: Millis,
    /// [`Decision::day`].
    pub day: Day,
    /// [`Decision::member_id`].
    pub member_id: &'a str,
    /// [`Decision::step`].
    pub step: &'a str,
    /// [`Decision::action`].
    pub action: ActionKind,
    /// [`Decision::channel`].
    pub channel: &'a str,
    /// [`Decision::template`].
    pub template: &'a str,
    /// [`Decision::variables`].
    #[serde(borrow)]
    pub variables: Vec<(&'a str, &'a str)>,
    /// [`Decision::benefit`] (rare and small: owned).
    pub benefit: Option<Benefit>,
    /// [`Decision::coupon_id`].
    #[serde(borrow)]
    pub coupon_id: Option<&'a str>,
    /// [`Decision::guide_id`].
    #[serde(borrow)]
    pub guide_id: Option<&'a str>,
    /// [`Decision::group_buy`] (rare: owned).
    pub group_buy: Option<GroupBuy>,
    /// [`Decision::status`].
    pub status: DecisionStatus,
    /// [`Decision::reason`].
    #[serde(borrow)]
    pub reason: Option<&'a str>,
    /// [`Decision::send_at`].
    pub send_at: Option<Millis>,
}

impl DecisionView<'_> {
    /// [`Decision::planned_send_at`].
    pub fn planned_send_at(&self) -> Option<Millis> {
        crate::model::planned_send_at(self.status, self.send_at, self.run_at)
    }
}

impl Decision {
    /// This decision's fields, borrowed.
    pub fn view(&self) -> DecisionView<'_> {
        DecisionView {
            key: &self.key,
            strategy: &self.strategy,
            plugin_version: &self.plugin_version,
            run_at: self.run_at,
            day: self.day,
            member_id: &self.member_id,
            step: &self.step,
            action: self.action,
            channel: &self.channel,
            template: &self.template,
            variables: self.variables.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            benefit: self.benefit.clone(),
            coupon_id: self.coupon_id.as_deref(),
            guide_id: self.guide_id.as_deref(),
            group_buy: self.group_buy.clone(),
            status: self.status,
            reason: self.reason.as_deref(),
            send_at: self.send_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BenefitKind;

    /// A stored decision (postcard) reads as a view of every field.
    #[test]
    fn a_decisions_encoding_reads_as_its_view() {
        let decision = Decision {
            key: "s/first/2026-03/M1".into(),
            strategy: "s".into(),
            plugin_version: "1.2.0".into(),
            plugin_sha256: "ab".into(),
            run_at: 1_000,
            day: 20_000,
            member_id: "M1".into(),
            step: "first".into(),
            action: ActionKind::Message,
            channel: "wecom".into(),
            template: "hello".into(),
            variables: vec![("name".into(), "会员M1".into()), ("sku".into(), "DR-1".into())],
            benefit: Some(Benefit { kind: BenefitKind::Coupon, value: 2_000, gift: Some("box".into()) }),
            coupon_id: Some("C-1".into()),
            guide_id: None,
            group_buy: Some(GroupBuy { sku: "DR-1".into(), group_size: 3, price: 9_900 }),
            status: DecisionStatus::Deferred,
            reason: Some("quiet hours".into()),
            send_at: Some(5_000),
        };
        let bytes = postcard::to_stdvec(&decision).unwrap();
        let (view, rest) = postcard::take_from_bytes::<DecisionView<'_>>(&bytes).unwrap();
        assert!(rest.is_empty());
        assert_eq!(view, decision.view());
        assert_eq!(view.planned_send_at(), decision.planned_send_at());
    }
}
