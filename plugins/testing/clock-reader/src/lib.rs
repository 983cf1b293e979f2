//! Reads the wall clock and the process's randomness, and reports both: the
//! host must answer with the run instant and a fixed seed, so a plugin stays
//! a pure function of its input.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{SystemTime, UNIX_EPOCH};

use canvas_sdk::*;

pub struct ClockReader;

impl Strategy for ClockReader {
    const ID: &'static str = "clock-reader";
    const NAME: &'static str = "Reads the clock (test)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Reports what the WASI clock and randomness say.";
    type Config = NoConfig;

    fn audience(_: &NoConfig) -> Audience {
        Audience::when([Condition::HasOrdered])
    }

    fn decide(run: &Run<NoConfig>, member: &Member) -> Vec<Touch> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let hash = RandomState::new().hash_one(member.id());
        vec![Touch::message(member, "clock", "wecom", "clock")
            .var("wall_clock_ms", now)
            .var("run_at_ms", run.run_at)
            .var("hash", hash)]
    }
}

register_strategy!(ClockReader);
