//! Takes its time: spins `spins_per_member` iterations for each member
//! before proposing a message to them. A run over a few dozen members then
//! lasts seconds, long enough for the service tests to disconnect a client
//! or send SIGTERM while the run is in flight.

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub spins_per_member: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { spins_per_member: 50_000_000 }
    }
}

pub struct Slow;

impl Strategy for Slow {
    const ID: &'static str = "slow";
    const NAME: &'static str = "Takes its time (test)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Spins a fixed number of iterations per member, then messages them.";
    type Config = Config;

    fn audience(_: &Config) -> Audience {
        Audience::when([Condition::HasOrdered])
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let mut spins: u64 = 0;
        while spins < run.config.spins_per_member {
            spins = std::hint::black_box(spins + 1);
        }
        vec![Touch::message(member, "hello", "wecom", "slow")]
    }
}

register_strategy!(Slow);
