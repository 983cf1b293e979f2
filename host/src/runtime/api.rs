//! The WIT package `canvas:strategy` as host types. Released versions are
//! frozen in `wit/v<version>/`; the host names every version it supports here.

wasmtime::component::bindgen!({
    path: "../wit/v0.1.0",
    world: "canvas:strategy/plugin@0.1.0",
});

pub use canvas::strategy::types::*;

/// The WIT package every plugin targets.
pub const PACKAGE: &str = "canvas:strategy";
/// The exported interface, without version.
pub const STRATEGY_INTERFACE: &str = "canvas:strategy/strategy";
/// API versions this host can run, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["0.1.0"];

// ---- between the WIT types and the host's model --------------------------

use crate::decision_log::LoggedDecision;
use crate::model;

impl From<chrono::NaiveDate> for Date {
    fn from(date: chrono::NaiveDate) -> Self {
        use chrono::Datelike;
        Date { year: date.year(), month: date.month() as u8, day: date.day() as u8 }
    }
}

impl From<&LoggedDecision> for PastDecision {
    fn from(d: &LoggedDecision) -> Self {
        PastDecision {
            step: d.step.clone(),
            kind: d.action.into(),
            status: d.status.into(),
            run_at: d.run_at,
            day: d.day,
            channel: d.channel.clone(),
            template: d.template.clone(),
            variables: d.variables.clone(),
            benefit: d.benefit.as_ref().map(Benefit::from),
        }
    }
}

impl From<model::ActionKind> for ActionKind {
    fn from(kind: model::ActionKind) -> Self {
        match kind {
            model::ActionKind::Message => ActionKind::Message,
            model::ActionKind::Coupon => ActionKind::Coupon,
            model::ActionKind::StaffTask => ActionKind::StaffTask,
            model::ActionKind::GroupBuyInvite => ActionKind::GroupBuyInvite,
        }
    }
}

impl From<DecisionStatus> for model::DecisionStatus {
    fn from(s: DecisionStatus) -> Self {
        match s {
            DecisionStatus::Dispatched => model::DecisionStatus::Dispatched,
            DecisionStatus::Suppressed => model::DecisionStatus::Suppressed,
            DecisionStatus::Holdout => model::DecisionStatus::Holdout,
            DecisionStatus::Deferred => model::DecisionStatus::Deferred,
            DecisionStatus::Failed => model::DecisionStatus::Failed,
        }
    }
}

impl From<model::DecisionStatus> for DecisionStatus {
    fn from(s: model::DecisionStatus) -> Self {
        match s {
            model::DecisionStatus::Dispatched => DecisionStatus::Dispatched,
            model::DecisionStatus::Suppressed => DecisionStatus::Suppressed,
            model::DecisionStatus::Holdout => DecisionStatus::Holdout,
            model::DecisionStatus::Deferred => DecisionStatus::Deferred,
            model::DecisionStatus::Failed => DecisionStatus::Failed,
        }
    }
}

impl From<&Benefit> for model::Benefit {
    fn from(b: &Benefit) -> Self {
        let kind = match b.kind {
            BenefitKind::Coupon => model::BenefitKind::Coupon,
            BenefitKind::Gift => model::BenefitKind::Gift,
            BenefitKind::Lottery => model::BenefitKind::Lottery,
            BenefitKind::Points => model::BenefitKind::Points,
            BenefitKind::EarlyAccess => model::BenefitKind::EarlyAccess,
        };
        model::Benefit { kind, value: b.value, gift: b.gift.clone() }
    }
}

impl From<&model::Benefit> for Benefit {
    fn from(b: &model::Benefit) -> Self {
        let kind = match b.kind {
            model::BenefitKind::Coupon => BenefitKind::Coupon,
            model::BenefitKind::Gift => BenefitKind::Gift,
            model::BenefitKind::Lottery => BenefitKind::Lottery,
            model::BenefitKind::Points => BenefitKind::Points,
            model::BenefitKind::EarlyAccess => BenefitKind::EarlyAccess,
        };
        Benefit { kind, value: b.value, gift: b.gift.clone() }
    }
}
