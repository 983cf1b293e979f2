//! Panics in `decide` (a trap): the host must report the panic message.

use canvas_sdk::*;

pub struct Trap;

impl Strategy for Trap {
    const ID: &'static str = "trap";
    const NAME: &'static str = "Panics (test)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Panics on the first member it sees.";
    type Config = NoConfig;

    fn audience(_: &NoConfig) -> Audience {
        Audience::when([Condition::HasOrdered])
    }

    fn decide(_: &Run<NoConfig>, member: &Member) -> Vec<Touch> {
        panic!("deliberate failure on member {}", member.id())
    }
}

register_strategy!(Trap);
