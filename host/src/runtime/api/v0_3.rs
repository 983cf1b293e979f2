//! `canvas:strategy@0.3.0`, still run. 0.4.0 added triggers (the audience's
//! `triggers`, the run context's `trigger`); the conditions and the member
//! have the same shape. So a 0.3.0 plugin's audience is converted into the
//! current one by [`From`] (with no triggers), once, when it is asked for,
//! and its `decide` is given the run context as [`RunContextBefore0_4`]: the
//! current context's parts, borrowed, without `trigger` (the component model
//! types records by their shape, not their names). A 0.3.0 plugin is never
//! triggered, so nothing is lost.

wasmtime::component::bindgen!({
    path: "../wit/v0.3.0",
    world: "canvas:strategy/plugin@0.3.0",
});
pub use canvas::strategy::types::{Audience, Clause, Condition};

use wasmtime::component::{ComponentType, Lower};

use super as current;

/// A run context as 0.1.0 to 0.3.0 have it, lowered straight from the current one's.
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct RunContextBefore0_4<'a> {
    #[component(name = "run-at")]
    run_at: current::Instant,
    today: current::Day,
    date: &'a current::Date,
    timezone: &'a str,
    config: &'a str,
    launches: &'a [current::Product],
}

impl<'a> From<&'a current::RunContext> for RunContextBefore0_4<'a> {
    fn from(c: &'a current::RunContext) -> Self {
        RunContextBefore0_4 {
            run_at: c.run_at,
            today: c.today,
            date: &c.date,
            timezone: &c.timezone,
            config: &c.config,
            launches: &c.launches,
        }
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
    C::WecomFriendNow => New::WecomFriendNow,
}
