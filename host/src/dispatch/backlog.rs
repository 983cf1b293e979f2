//! The outbox's backlog per channel, as `canvas outbox status` and `GET
//! /api/v1/outbox/status` show it: what is due now, what waits for later,
//! the channel's rate, and how long what is due takes to go out at it.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::DispatchConfig;
use crate::model::Millis;
use crate::store::Store;

/// A channel's pending touches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelBacklog {
    /// The channel (`wecom`, `sms`...).
    pub channel: String,
    /// Pending touches whose next attempt is due now.
    pub due: u64,
    /// Pending touches whose next attempt is later (deferred, or retried after a failure).
    pub later: u64,
    /// Its delivery rate; `None` for no limit.
    pub rate_per_minute: Option<u32>,
    /// Till when its receiver asked it to wait (HTTP 429), RFC 3339 in the
    /// brand's time zone; known only to the dispatcher that was told (the
    /// service's), `None` otherwise.
    pub paused_until: Option<String>,
    /// How long the touches due now take to go out at the channel's rate,
    /// after the pause, in whole seconds (rounded up); `None` without a
    /// limit, when it is the receiver's pace.
    pub drains_in_seconds: Option<u64>,
}

impl ChannelBacklog {
    /// How the backlog reads in one line: `12400 due, 3 later, drains in ~1 min 15 s at 10000/min`.
    pub fn summary(&self) -> String {
        let pace = match (self.rate_per_minute, self.drains_in_seconds) {
            _ if self.due == 0 => "nothing due now".to_string(),
            (Some(rate), Some(seconds)) => format!("drains in ~{} at {rate}/min", spoken(seconds)),
            _ => "no rate limit: drains at the receiver's pace".to_string(),
        };
        let paused = self.paused_until.as_ref().map(|at| format!(", paused until {at}")).unwrap_or_default();
        format!("{} due, {} later, {pace}{paused}", self.due, self.later)
    }
}

/// Each channel with pending touches, in name order, at `now`: what is due
/// and how long it takes at the rate `config` gives the channel; `paused`
/// says till when a channel was asked to wait, if it was (ms since the epoch).
pub fn backlog(
    store: &Store,
    config: &DispatchConfig,
    now: Millis,
    paused: impl Fn(&str) -> Option<Millis>,
    format: impl Fn(Millis) -> String,
) -> anyhow::Result<Vec<ChannelBacklog>> {
    let counts = store.outbox_backlog(now)?;
    Ok(counts
        .into_iter()
        .map(|count| {
            let rate = config.rate_for(&count.channel);
            let pause = paused(&count.channel);
            let wait =
                pause.map_or(Duration::ZERO, |until| Duration::from_millis(until.saturating_sub(now).max(0) as u64));
            let drains = rate.map(|rate| (wait + drain_time(count.due, rate)).as_secs_f64().ceil() as u64);
            ChannelBacklog {
                channel: count.channel,
                due: count.due,
                later: count.later,
                rate_per_minute: rate.map(NonZeroU32::get),
                paused_until: pause.map(&format),
                drains_in_seconds: drains,
            }
        })
        .collect())
}

/// How long `due` deliveries take at `rate` a minute: one every `60 s / rate`.
pub fn drain_time(due: u64, rate: NonZeroU32) -> Duration {
    // In u128 nanoseconds: a count and a rate multiplied never overflow.
    let nanos = u128::from(due) * 60_000_000_000 / u128::from(rate.get());
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Seconds as people say them: `45 s`, `1 min 15 s`, `2 h 5 min`.
pub fn spoken(seconds: u64) -> String {
    let (hours, minutes, secs) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    match (hours, minutes, secs) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_drains_at_its_rate() {
        let rate = NonZeroU32::new(10_000).unwrap();
        assert_eq!(drain_time(12_400, rate), Duration::from_millis(74_400));
        assert_eq!(drain_time(0, rate), Duration::ZERO);
        assert_eq!(drain_time(u64::MAX, NonZeroU32::MIN), Duration::from_nanos(u64::MAX), "no overflow");
    }

    #[test]
    fn durations_are_spoken_in_their_largest_units() {
        assert_eq!(spoken(0), "0 s");
        assert_eq!(spoken(45), "45 s");
        assert_eq!(spoken(75), "1 min 15 s");
        assert_eq!(spoken(120), "2 min");
        assert_eq!(spoken(3_600), "1 h");
        assert_eq!(spoken(7_530), "2 h 5 min");
    }

    #[test]
    fn a_summary_reads_as_one_line() {
        let backlog = ChannelBacklog {
            channel: "wecom".into(),
            due: 12_400,
            later: 3,
            rate_per_minute: Some(10_000),
            paused_until: None,
            drains_in_seconds: Some(75),
        };
        assert_eq!(backlog.summary(), "12400 due, 3 later, drains in ~1 min 15 s at 10000/min");
        let unlimited = ChannelBacklog { rate_per_minute: None, drains_in_seconds: None, ..backlog };
        assert_eq!(unlimited.summary(), "12400 due, 3 later, no rate limit: drains at the receiver's pace");
        let empty = ChannelBacklog { due: 0, ..unlimited };
        assert_eq!(empty.summary(), "0 due, 3 later, nothing due now");
    }
}
