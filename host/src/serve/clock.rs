//! The service's clock, passed in so tests can run a day's schedule in seconds.

use std::time::{Duration, Instant};

use crate::model::Millis;

/// What time the service thinks it is: the scheduler's "now", and how long
/// to sleep until a run is due.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, by this clock.
    fn now(&self) -> Millis;
    /// How long to wait, in real time, until the clock reads `at`.
    fn real_until(&self, at: Millis) -> Duration;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        crate::model::now_millis()
    }

    fn real_until(&self, at: Millis) -> Duration {
        Duration::from_millis((at - self.now()).max(0) as u64)
    }
}

/// A clock that starts at `origin` and runs `speed` times faster than real time.
pub struct ScaledClock {
    started: Instant,
    origin: Millis,
    speed: f64,
}

impl ScaledClock {
    /// A clock reading `origin` now; `speed` 3600 makes an hour pass in a second.
    pub fn new(origin: Millis, speed: f64) -> Self {
        ScaledClock { started: Instant::now(), origin, speed }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Millis {
        self.origin + (self.started.elapsed().as_secs_f64() * 1000.0 * self.speed) as Millis
    }

    fn real_until(&self, at: Millis) -> Duration {
        Duration::from_secs_f64(((at - self.now()).max(0) as f64 / 1000.0) / self.speed)
    }
}
