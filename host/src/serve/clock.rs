//! The service's clock, passed in so tests can run a day's schedule in seconds
//! (a scaled clock) or step from one run instant to the next (a stepped one).

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

/// A clock that stands still until it is moved: the closed loop
/// ([`crate::world`]) sets it to each run instant and moves on only once the
/// service has run and dispatched everything due there, so what each run
/// sees does not depend on how fast the machine is.
pub struct SteppedClock {
    now: std::sync::atomic::AtomicI64,
}

/// How long the scheduler sleeps before it looks again at a stepped clock
/// that has not reached its next run: short, as the clock may move any moment.
const STEP_POLL: Duration = Duration::from_millis(20);

impl SteppedClock {
    /// A clock reading `at` until [`SteppedClock::set`] moves it.
    pub fn new(at: Millis) -> Self {
        SteppedClock { now: std::sync::atomic::AtomicI64::new(at) }
    }

    /// Moves the clock to `at`; never backwards (a later `at` than now only).
    pub fn set(&self, at: Millis) {
        self.now.fetch_max(at, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for SteppedClock {
    fn now(&self) -> Millis {
        self.now.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn real_until(&self, at: Millis) -> Duration {
        if at <= self.now() {
            Duration::ZERO
        } else {
            STEP_POLL
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stepped_clock_moves_only_forward_and_answers_a_wait_with_a_short_poll() {
        let clock = SteppedClock::new(1_000);
        assert_eq!(clock.real_until(1_000), Duration::ZERO);
        assert_eq!(clock.real_until(5_000), STEP_POLL, "not there yet: look again soon, not in 4 s");
        clock.set(5_000);
        clock.set(2_000);
        assert_eq!(clock.now(), 5_000, "never backwards");
        assert_eq!(clock.real_until(5_000), Duration::ZERO);
    }
}
