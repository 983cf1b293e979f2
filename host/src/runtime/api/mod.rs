//! The WIT package `canvas:strategy` as host types. Released versions are
//! frozen in `wit/v<version>/`; the host names every version it supports here.
//!
//! The host works in the newest version's types. Versions differ in what
//! `audience-for` may ask for, (0.3.0) in what `decide` is told of a member
//! and (0.4.0) of the run, so an older plugin's audience is converted up
//! once, when it is asked for, and its `decide` is given the older member and
//! context shapes, borrowed from the current ones
//! ([`v0_2::MemberBefore0_3`], [`v0_3::RunContextBefore0_4`]); `describe` has
//! one shape in every version (the component model types records and variants
//! by their shape, not their names). One module per version: [`v0_1`],
//! [`v0_2`], [`v0_3`], `v0_4` (the current types, re-exported here); the
//! plugin's functions are found and called per version in `runtime::exports`.

/// The `From` impls that convert an older version's audience into the next
/// version's, written once for every pair: the invoking module names the two
/// as `old` and `new` (`use … as old;`), and passes the arms for the
/// conditions the older version has beyond those of 0.1.0.
macro_rules! audience_up {
    ($($extra:tt)*) => {
        impl From<old::Audience> for new::Audience {
            fn from(a: old::Audience) -> Self {
                new::Audience {
                    any_of: a.any_of.into_iter().map(new::Clause::from).collect(),
                    order_windows: a.order_windows,
                    event_kinds: a.event_kinds,
                    event_lookback_hours: a.event_lookback_hours,
                    launch_lookback_days: a.launch_lookback_days,
                    // Triggers came in 0.4.0: an older plugin has none.
                    triggers: Vec::new(),
                }
            }
        }

        impl From<old::Clause> for new::Clause {
            fn from(c: old::Clause) -> Self {
                let convert =
                    |conditions: Vec<old::Condition>| conditions.into_iter().map(new::Condition::from).collect();
                new::Clause { all_of: convert(c.all_of), none_of: convert(c.none_of) }
            }
        }

        impl From<old::Condition> for new::Condition {
            fn from(c: old::Condition) -> Self {
                use new::Condition as New;
                use old::Condition as C;
                let ago = |d: old::DaysAgo| new::DaysAgo { min: d.min, max: d.max };
                match c {
                    C::Joined(d) => New::Joined(ago(d)),
                    C::WecomAdded(d) => New::WecomAdded(ago(d)),
                    C::FirstOrder(d) => New::FirstOrder(ago(d)),
                    C::LastOrder(d) => New::LastOrder(ago(d)),
                    C::HasOrdered => New::HasOrdered,
                    C::OrdersWithin(o) => {
                        New::OrdersWithin(new::OrderCount { within_days: o.within_days, at_least: o.at_least })
                    }
                    C::SpendWithin(s) => {
                        New::SpendWithin(new::SpendAmount { within_days: s.within_days, at_least: s.at_least })
                    }
                    C::LevelIn(levels) => New::LevelIn(levels),
                    C::BirthdayInRunMonth => New::BirthdayInRunMonth,
                    C::Event(e) => New::Event(new::RecentEvent { kind: e.kind, within_hours: e.within_hours }),
                    C::Decided(d) => New::Decided(new::EarlierDecision {
                        step: d.step,
                        status: d.status.map(|s| match s {
                            old::DecisionStatus::Dispatched => new::DecisionStatus::Dispatched,
                            old::DecisionStatus::Suppressed => new::DecisionStatus::Suppressed,
                            old::DecisionStatus::Holdout => new::DecisionStatus::Holdout,
                            old::DecisionStatus::Deferred => new::DecisionStatus::Deferred,
                            old::DecisionStatus::Failed => new::DecisionStatus::Failed,
                        }),
                        ago: ago(d.ago),
                    }),
                    C::BoughtLaunchedCategory(days) => New::BoughtLaunchedCategory(days),
                    $($extra)*
                }
            }
        }
    };
}

// `bindgen!` makes these from the WIT files, which document the types and
// functions (and bindgen carries those docs over); the glue it adds around
// them (instantiation, linker helpers, `exports` modules) has none to give.
#[allow(missing_docs)]
pub mod v0_1;
#[allow(missing_docs)]
pub mod v0_2;
#[allow(missing_docs)]
pub mod v0_3;
#[allow(missing_docs)]
mod v0_4;

pub use v0_4::canvas::strategy::types::*;

/// The WIT package every plugin targets.
pub const PACKAGE: &str = "canvas:strategy";
/// The exported interface, without version.
pub const STRATEGY_INTERFACE: &str = "canvas:strategy/strategy";
/// API versions this host can run, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &[
    ApiVersion::ALL[0].as_str(),
    ApiVersion::ALL[1].as_str(),
    ApiVersion::ALL[2].as_str(),
    ApiVersion::ALL[3].as_str(),
];

/// A version of the WIT package this host runs plugins of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiVersion {
    /// `0.1.0`: the first release, still run.
    V0_1,
    /// `0.2.0`: added `untold-launch-in-bought-category`, still run.
    V0_2,
    /// `0.3.0`: added the member's `reach`, still run.
    V0_3,
    /// `0.4.0`: the current types, which the host works in (triggers).
    V0_4,
}

impl ApiVersion {
    /// Newest first.
    pub const ALL: [ApiVersion; 4] = [ApiVersion::V0_4, ApiVersion::V0_3, ApiVersion::V0_2, ApiVersion::V0_1];

    /// The version a plugin exports (`0.4.0`, from `…/strategy@0.4.0`);
    /// None if this host does not support it.
    pub fn parse(version: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == version)
    }

    /// The version as WIT writes it, `0.4.0`: what manifests record and messages name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V0_1 => "0.1.0",
            ApiVersion::V0_2 => "0.2.0",
            ApiVersion::V0_3 => "0.3.0",
            ApiVersion::V0_4 => "0.4.0",
        }
    }
}

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
            step: d.step.to_string(),
            kind: d.action.into(),
            status: d.status.into(),
            run_at: d.run_at,
            day: d.day,
            channel: d.channel.to_string(),
            template: d.template.to_string(),
            variables: d.variables.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
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
