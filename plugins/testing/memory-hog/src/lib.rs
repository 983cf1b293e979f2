//! Grabs memory without bound in `decide`: the host's memory cap must stop it.

use canvas_sdk::*;

pub struct MemoryHog;

impl Strategy for MemoryHog {
    const ID: &'static str = "memory-hog";
    const NAME: &'static str = "Grabs unbounded memory (test)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Allocates 1 MiB blocks until something stops it.";
    type Config = NoConfig;

    fn audience(_: &NoConfig) -> Audience {
        Audience::when([Condition::HasOrdered])
    }

    fn decide(_: &Run<NoConfig>, _: &Member) -> Vec<Touch> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(std::hint::black_box(vec![7u8; 1 << 20]));
        }
    }
}

register_strategy!(MemoryHog);
