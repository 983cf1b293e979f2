//! `canvas:strategy@0.1.0`, still run. It differs from 0.2.0 only in what
//! `audience-for` may ask for (0.2.0 added a condition), so only its audience
//! types are used, converted by [`From`] into 0.2.0's (and on, by
//! [`super::v0_2`], into the current ones) once, when a plugin's audience is
//! asked for; `decide` is called as for a 0.2.0 plugin.

wasmtime::component::bindgen!({
    path: "../wit/v0.1.0",
    world: "canvas:strategy/plugin@0.1.0",
});
pub use canvas::strategy::types::{Audience, Clause, Condition};

use super::v0_2::canvas::strategy::types as next;

impl From<Audience> for next::Audience {
    fn from(a: Audience) -> Self {
        next::Audience {
            any_of: a.any_of.into_iter().map(next::Clause::from).collect(),
            order_windows: a.order_windows,
            event_kinds: a.event_kinds,
            event_lookback_hours: a.event_lookback_hours,
            launch_lookback_days: a.launch_lookback_days,
        }
    }
}

impl From<Clause> for next::Clause {
    fn from(c: Clause) -> Self {
        let convert = |conditions: Vec<Condition>| conditions.into_iter().map(next::Condition::from).collect();
        next::Clause { all_of: convert(c.all_of), none_of: convert(c.none_of) }
    }
}

impl From<Condition> for next::Condition {
    fn from(c: Condition) -> Self {
        use canvas::strategy::types as old;
        use next::{Condition as New, DaysAgo, DecisionStatus, EarlierDecision, OrderCount, RecentEvent, SpendAmount};
        use Condition as C;
        let ago = |d: old::DaysAgo| DaysAgo { min: d.min, max: d.max };
        match c {
            C::Joined(d) => New::Joined(ago(d)),
            C::WecomAdded(d) => New::WecomAdded(ago(d)),
            C::FirstOrder(d) => New::FirstOrder(ago(d)),
            C::LastOrder(d) => New::LastOrder(ago(d)),
            C::HasOrdered => New::HasOrdered,
            C::OrdersWithin(o) => New::OrdersWithin(OrderCount { within_days: o.within_days, at_least: o.at_least }),
            C::SpendWithin(s) => New::SpendWithin(SpendAmount { within_days: s.within_days, at_least: s.at_least }),
            C::LevelIn(levels) => New::LevelIn(levels),
            C::BirthdayInRunMonth => New::BirthdayInRunMonth,
            C::Event(e) => New::Event(RecentEvent { kind: e.kind, within_hours: e.within_hours }),
            C::Decided(d) => New::Decided(EarlierDecision {
                step: d.step,
                status: d.status.map(|s| match s {
                    old::DecisionStatus::Dispatched => DecisionStatus::Dispatched,
                    old::DecisionStatus::Suppressed => DecisionStatus::Suppressed,
                    old::DecisionStatus::Holdout => DecisionStatus::Holdout,
                    old::DecisionStatus::Deferred => DecisionStatus::Deferred,
                    old::DecisionStatus::Failed => DecisionStatus::Failed,
                }),
                ago: ago(d.ago),
            }),
            C::BoughtLaunchedCategory(days) => New::BoughtLaunchedCategory(days),
        }
    }
}
