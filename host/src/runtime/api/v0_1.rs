//! `canvas:strategy@0.1.0`, still run. It differs from 0.2.0 only in what
//! `audience-for` may ask for (0.2.0 added a condition), so only its audience
//! types are used, converted by [`From`] into the current ones once, when a
//! plugin's audience is asked for; `decide` is called as for a 0.2.0 plugin.

wasmtime::component::bindgen!({
    path: "../wit/v0.1.0",
    world: "canvas:strategy/plugin@0.1.0",
});
pub use canvas::strategy::types::{Audience, Clause, Condition};

use super as new;
use canvas::strategy::types as old;

audience_up!();
