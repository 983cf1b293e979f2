//! A channel's turn to deliver: its rate limit and the pause its receiver
//! asked for (HTTP 429). One gate per channel, shared by every delivery of
//! that channel for the dispatcher's whole life — in flight at once or in
//! later passes — so a service's budget holds across passes. Channels
//! served by the `"*"` sink each get their own gate.
//!
//! The limit is `governor`'s GCRA limiter with a burst of one: turns come
//! at least `60 s / rate_per_minute` apart, so no window of a minute holds
//! more than `rate_per_minute` of them. A larger burst would let `burst +
//! rate` through in some minute, over the platform's limit.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::model::Millis;

/// Why a channel may not deliver now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Its receiver answered 429: not before this instant (ms since the epoch).
    Paused(Millis),
    /// Its rate allows the next delivery this much later.
    Throttled(Duration),
}

/// One channel's rate limit and pause.
pub struct Gate {
    /// `None`: no limit.
    limiter: Option<DefaultDirectRateLimiter>,
    /// Not before this instant (ms since the epoch; 0: not paused).
    paused_until: AtomicI64,
}

impl Gate {
    /// A gate letting `rate_per_minute` deliveries through a minute (`None`: all).
    pub fn new(rate_per_minute: Option<NonZeroU32>) -> Gate {
        let one = NonZeroU32::MIN;
        let limiter = rate_per_minute.map(|rate| RateLimiter::direct(Quota::per_minute(rate).allow_burst(one)));
        Gate { limiter, paused_until: AtomicI64::new(0) }
    }

    /// Takes the channel's next turn if it is `now` (ms since the epoch);
    /// else says how long to wait. A paused channel takes no turn, so the
    /// pause does not use up its budget.
    pub fn take_turn(&self, now: Millis) -> Result<(), Wait> {
        if let Some(until) = self.paused_until(now) {
            return Err(Wait::Paused(until));
        }
        match &self.limiter {
            None => Ok(()),
            Some(limiter) => {
                limiter.check().map_err(|later| Wait::Throttled(later.wait_time_from(DefaultClock::default().now())))
            }
        }
    }

    /// Pauses the channel until `until` (ms since the epoch), unless it is
    /// paused longer already.
    pub fn pause_until(&self, until: Millis) {
        self.paused_until.fetch_max(until, Ordering::SeqCst);
    }

    /// Till when the channel is paused, if it still is at `now`.
    pub fn paused_until(&self, now: Millis) -> Option<Millis> {
        Some(self.paused_until.load(Ordering::SeqCst)).filter(|&until| until > now)
    }
}

/// The gates of the channels a dispatcher delivered to, made on first use.
#[derive(Default)]
pub struct Gates(Mutex<HashMap<String, Arc<Gate>>>);

impl Gates {
    /// `channel`'s gate; made with `rate` the first time it is asked for.
    pub fn of(&self, channel: &str, rate: impl FnOnce() -> Option<NonZeroU32>) -> Arc<Gate> {
        let mut gates = self.0.lock().expect("the gates lock is never poisoned");
        gates.entry(channel.to_string()).or_insert_with(|| Arc::new(Gate::new(rate()))).clone()
    }

    /// The gate of `channel` if it was made.
    pub fn get(&self, channel: &str) -> Option<Arc<Gate>> {
        self.0.lock().expect("the gates lock is never poisoned").get(channel).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limited_channel_takes_one_turn_per_period_and_says_how_long_to_wait() {
        let gate = Gate::new(NonZeroU32::new(60));
        assert_eq!(gate.take_turn(0), Ok(()));
        match gate.take_turn(0) {
            Err(Wait::Throttled(wait)) => assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1)),
            other => panic!("a second turn within the second: {other:?}"),
        }
    }

    #[test]
    fn a_channel_without_a_rate_is_never_throttled() {
        let gate = Gate::new(None);
        assert!((0..1_000).all(|_| gate.take_turn(0).is_ok()));
    }

    #[test]
    fn a_paused_channel_waits_for_the_longest_pause_asked_without_using_its_budget() {
        let gate = Gate::new(NonZeroU32::new(60));
        gate.pause_until(2_000);
        gate.pause_until(1_000);
        assert_eq!(gate.take_turn(1_500), Err(Wait::Paused(2_000)));
        assert_eq!(gate.paused_until(2_000), None);
        assert_eq!(gate.take_turn(2_000), Ok(()), "the pause took no turn");
    }

    #[test]
    fn each_channel_has_its_own_budget() {
        let gates = Gates::default();
        let rate = || NonZeroU32::new(60);
        assert_eq!(gates.of("sms", rate).take_turn(0), Ok(()));
        assert!(gates.of("sms", rate).take_turn(0).is_err(), "sms used its turn");
        assert_eq!(gates.of("app", rate).take_turn(0), Ok(()), "app has its own");
        assert!(Arc::ptr_eq(&gates.of("sms", rate), &gates.get("sms").unwrap()));
    }
}
