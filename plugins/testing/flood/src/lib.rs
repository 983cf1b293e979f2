//! Returns far more output than the host accepts: the output cap must stop it.

use canvas_sdk::*;

pub struct Flood;

impl Strategy for Flood {
    const ID: &'static str = "flood";
    const NAME: &'static str = "Floods the host with output (test)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Returns a touch with a 5 MiB template variable per member.";
    type Config = NoConfig;

    fn audience(_: &NoConfig) -> Audience {
        Audience::when([Condition::HasOrdered])
    }

    fn decide(_: &Run<NoConfig>, member: &Member) -> Vec<Touch> {
        vec![Touch::message(member, "flood", "wecom", "flood").var("padding", "x".repeat(5 << 20))]
    }
}

register_strategy!(Flood);
