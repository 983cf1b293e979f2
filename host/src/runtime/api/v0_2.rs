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

use canvas::strategy::types as old;
use current as new;

audience_up! {
    C::UntoldLaunchInBoughtCategory(u) => New::UntoldLaunchInBoughtCategory(new::UntoldLaunch {
        within_days: u.within_days,
        step: u.step,
        sku_variable: u.sku_variable,
    }),
}
