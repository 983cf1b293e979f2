//! Echoes what the host computed of each member's orders — count and spend
//! overall, in a 365-day window and in the favourite category — as the
//! variables of one message, so a test can read the facts a plugin is given
//! (once, two huge amounts made `spend` negative).

use canvas_sdk::*;

pub struct FactsEcho;

/// The window the host sums orders and spend over.
const WINDOW_DAYS: u32 = 365;

impl Strategy for FactsEcho {
    const ID: &'static str = "facts-echo";
    const NAME: &'static str = "Echoes order facts (test)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Reports each member's order count and spend as touch variables.";
    type Config = NoConfig;

    fn audience(_: &NoConfig) -> Audience {
        Audience::when([Condition::HasOrdered]).order_windows([WINDOW_DAYS])
    }

    fn decide(_: &Run<NoConfig>, member: &Member) -> Vec<Touch> {
        let facts = &member.orders;
        let window = facts.window(WINDOW_DAYS);
        let category = facts.favourite_category();
        vec![Touch::message(member, "facts", "wecom", "facts")
            .var("orders", facts.orders)
            .var("spend", facts.spend)
            .var("window_orders", window.map_or(0, |w| w.orders))
            .var("window_spend", window.map_or(0, |w| w.spend))
            .var("category_spend", category.map_or(0, |c| c.spend))]
    }
}

register_strategy!(FactsEcho);
