//! `[dispatch]` in the canvas config: attempts, timeouts, backoff, how many
//! deliveries in flight, and each channel's sink and rate — with the checks
//! on load and the waits the dispatcher derives from it (backoff, a 429's
//! `Retry-After`, a channel's rate).

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::SinkConfig;
use crate::model::Millis;

/// WeCom's documented limit on messages sent through its API: 10,000 a
/// minute. The channel `wecom` is held to it unless its `rate_per_minute` says otherwise.
pub const WECOM_RATE_PER_MINUTE: u32 = 10_000;

/// `[dispatch]` in the canvas config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// Attempts before a touch becomes a dead letter.
    pub max_attempts: u32,
    /// Per HTTP attempt.
    pub timeout_ms: u64,
    /// The wait after the first failure; it doubles per attempt up to `backoff_max_ms`,
    /// and each wait is drawn between half and all of it (jitter).
    pub backoff_initial_ms: u64,
    /// The longest wait between attempts, however many have failed, and
    /// however long a receiver's `Retry-After` asks for.
    pub backoff_max_ms: u64,
    /// Deliveries in flight at once, over all channels.
    pub concurrency: usize,
    /// Channel → its sink and rate. `"*"` serves every channel not named.
    pub channels: BTreeMap<String, ChannelConfig>,
}

/// `[dispatch.channels.<name>]`: where a channel's touches go, and how fast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelConfig {
    /// `kind = "webhook"` with `url`, or `kind = "file"` with `path`.
    #[serde(flatten)]
    pub sink: SinkConfig,
    /// Deliveries a minute at most, shared by every delivery of the
    /// channel; under `"*"`, of each channel it serves, each its own
    /// budget. At least 1. Unset: [`WECOM_RATE_PER_MINUTE`] for `wecom`,
    /// no limit for other channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_minute: Option<u32>,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        let file = ChannelConfig { sink: SinkConfig::File { path: "touches.jsonl".into() }, rate_per_minute: None };
        DispatchConfig {
            max_attempts: 8,
            timeout_ms: 5_000,
            backoff_initial_ms: 1_000,
            backoff_max_ms: 300_000,
            concurrency: 16,
            channels: BTreeMap::from([("*".to_string(), file)]),
        }
    }
}

impl DispatchConfig {
    /// Refuses settings no dispatcher can work with (no attempts, no
    /// concurrency, a webhook URL that is not http(s), a rate of 0), naming the key.
    pub fn check(&self) -> Result<(), String> {
        if self.max_attempts == 0 || self.concurrency == 0 {
            return Err("dispatch.max_attempts and dispatch.concurrency must be at least 1".into());
        }
        for (channel, config) in &self.channels {
            if let SinkConfig::Webhook { url } = &config.sink {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!("dispatch.channels.{channel}.url `{url}` is not an http(s) URL"));
                }
            }
            if config.rate_per_minute == Some(0) {
                return Err(format!(
                    "dispatch.channels.{channel}.rate_per_minute must be at least 1 (leave it out for no limit)"
                ));
            }
        }
        Ok(())
    }

    /// The deliveries a minute `channel` is held to: its own section's
    /// `rate_per_minute`, or the `"*"` section's for a channel not named;
    /// unset, WeCom's limit for `wecom` and none for the rest.
    pub fn rate_for(&self, channel: &str) -> Option<NonZeroU32> {
        let section = self.channels.get(channel).or_else(|| self.channels.get("*"));
        let default = (channel == "wecom").then_some(WECOM_RATE_PER_MINUTE);
        section.and_then(|s| s.rate_per_minute).or(default).and_then(NonZeroU32::new)
    }

    /// The wait before attempt `attempts + 1`, with jitter.
    pub(super) fn backoff(&self, attempts: u32) -> Millis {
        let doubled = self.backoff_initial_ms.saturating_mul(1u64 << attempts.saturating_sub(1).min(32));
        let full = doubled.min(self.backoff_max_ms).max(1);
        rand::rng().random_range(full / 2..=full) as Millis
    }

    /// The wait a 429's `Retry-After` asked for, as taken: at least
    /// `backoff_initial_ms` (a `0` would be a loop of requests) and at most
    /// `backoff_max_ms` — a receiver asking for hours would otherwise hold
    /// every touch of the channel that long; the operator's longest wait
    /// between attempts holds whoever asks.
    pub(super) fn retry_after(&self, asked: Duration) -> Millis {
        let asked = u64::try_from(asked.as_millis()).unwrap_or(u64::MAX);
        asked.max(self.backoff_initial_ms).min(self.backoff_max_ms).max(1) as Millis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let config = DispatchConfig { backoff_initial_ms: 100, backoff_max_ms: 1_000, ..Default::default() };
        for _ in 0..100 {
            assert!((50..=100).contains(&config.backoff(1)));
            assert!((100..=200).contains(&config.backoff(2)));
            assert!((500..=1_000).contains(&config.backoff(9)));
        }
    }

    #[test]
    fn a_retry_after_is_taken_between_the_first_backoff_and_the_longest() {
        let config = DispatchConfig { backoff_initial_ms: 100, backoff_max_ms: 60_000, ..Default::default() };
        assert_eq!(config.retry_after(Duration::from_secs(2)), 2_000);
        assert_eq!(config.retry_after(Duration::ZERO), 100, "no loop of requests");
        assert_eq!(config.retry_after(Duration::from_secs(86_400)), 60_000, "capped");
        assert_eq!(config.retry_after(Duration::MAX), 60_000);
    }

    fn channels(toml: &str) -> DispatchConfig {
        let config: DispatchConfig = toml::from_str(toml).unwrap();
        config.check().unwrap();
        config
    }

    #[test]
    fn wecom_is_held_to_its_documented_limit_unless_its_rate_is_set() {
        let rate = |n| NonZeroU32::new(n);
        let only_star = channels("[channels.\"*\"]\nkind = \"file\"\npath = \"t.jsonl\"\n");
        assert_eq!(only_star.rate_for("wecom"), rate(WECOM_RATE_PER_MINUTE));
        assert_eq!(only_star.rate_for("sms"), None, "no limit unless set");
        let set = channels(
            "[channels.wecom]\nkind = \"webhook\"\nurl = \"http://h/w\"\nrate_per_minute = 600\n\
             [channels.\"*\"]\nkind = \"file\"\npath = \"t.jsonl\"\nrate_per_minute = 120\n\
             [channels.app]\nkind = \"file\"\npath = \"t.jsonl\"\n",
        );
        assert_eq!(set.rate_for("wecom"), rate(600));
        assert_eq!(set.rate_for("sms"), rate(120), "the \"*\" section's rate, for each channel it serves");
        assert_eq!(set.rate_for("app"), None, "a channel named without a rate is not limited by \"*\"");
    }

    #[test]
    fn a_zero_rate_is_refused_naming_its_key() {
        let config: DispatchConfig =
            toml::from_str("[channels.sms]\nkind = \"file\"\npath = \"t.jsonl\"\nrate_per_minute = 0\n").unwrap();
        let error = config.check().unwrap_err();
        assert!(error.contains("dispatch.channels.sms.rate_per_minute must be at least 1"), "{error}");
    }
}
