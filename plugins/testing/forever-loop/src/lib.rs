//! Loops forever in `decide`: the host's fuel limit must stop it.

use canvas_sdk::*;

pub struct ForeverLoop;

impl Strategy for ForeverLoop {
    const ID: &'static str = "forever-loop";
    const NAME: &'static str = "Loops forever (test)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Never returns from decide.";
    type Config = NoConfig;

    fn audience(_: &NoConfig) -> Audience {
        Audience::when([Condition::HasOrdered])
    }

    fn decide(_: &Run<NoConfig>, _: &Member) -> Vec<Touch> {
        let mut spins: u64 = 0;
        loop {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
    }
}

register_strategy!(ForeverLoop);
