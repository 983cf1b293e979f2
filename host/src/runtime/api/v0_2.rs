//! `canvas:strategy@0.2.0`, still run. 0.3.0 added a condition
//! (`wecom-friend-now`) and the member's `reach`; otherwise the types have
//! the same shape. So a 0.2.0 plugin's audience is converted into the current
//! one by [`From`], once, when it is asked for, and its `decide` is given
//! each member as [`MemberBefore0_3`]: the current member's parts, borrowed,
//! without `reach` (the component model types records by their shape, not
//! their names, so no copy of the facts is made).

wasmtime::component::bindgen!({
    path: "../wit/v0.2.0",
    world: "canvas:strategy/plugin@0.2.0",
});
pub use canvas::strategy::types::{Audience, Clause, Condition};

use wasmtime::component::{ComponentType, Lower};

use super as current;

/// A member as 0.1.0 and 0.2.0 have it: `profile`, `orders`, `events`,
/// `history`, lowered straight from the current member's.
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct MemberBefore0_3<'a> {
    profile: &'a current::Profile,
    orders: &'a current::OrderFacts,
    events: &'a [current::Event],
    history: &'a [current::PastDecision],
}

impl<'a> From<&'a current::Member> for MemberBefore0_3<'a> {
    fn from(m: &'a current::Member) -> Self {
        MemberBefore0_3 { profile: &m.profile, orders: &m.orders, events: &m.events, history: &m.history }
    }
}

impl From<Audience> for current::Audience {
    fn from(a: Audience) -> Self {
        current::Audience {
            any_of: a.any_of.into_iter().map(current::Clause::from).collect(),
            order_windows: a.order_windows,
            event_kinds: a.event_kinds,
            event_lookback_hours: a.event_lookback_hours,
            launch_lookback_days: a.launch_lookback_days,
        }
    }
}

impl From<Clause> for current::Clause {
    fn from(c: Clause) -> Self {
        let convert = |conditions: Vec<Condition>| conditions.into_iter().map(current::Condition::from).collect();
        current::Clause { all_of: convert(c.all_of), none_of: convert(c.none_of) }
    }
}

impl From<Condition> for current::Condition {
    fn from(c: Condition) -> Self {
        use canvas::strategy::types as old;
        use current::{
            Condition as New, DaysAgo, DecisionStatus, EarlierDecision, OrderCount, RecentEvent, SpendAmount,
            UntoldLaunch,
        };
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
            C::UntoldLaunchInBoughtCategory(u) => New::UntoldLaunchInBoughtCategory(UntoldLaunch {
                within_days: u.within_days,
                step: u.step,
                sku_variable: u.sku_variable,
            }),
        }
    }
}
