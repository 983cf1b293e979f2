//! Delivering decided touches: the outbox in the store, sinks routed by
//! channel, retries with exponential backoff and jitter, dead letters.
//!
//! Delivery is at least once, and every attempt carries the decision's
//! idempotency key, so a receiver that honours `Idempotency-Key` (and the
//! file sink) sees each touch once even when a crash repeats an attempt.

mod sinks;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

pub use sinks::{Delivery, Sink, SinkConfig};

use crate::calendar::BrandCalendar;
use crate::model::{now_millis, Millis};
use crate::store::{OutboxItem, OutboxState, Store};

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
    /// The longest wait between attempts, however many have failed.
    pub backoff_max_ms: u64,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// Channel → sink. `"*"` serves every channel not named.
    pub channels: BTreeMap<String, SinkConfig>,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            max_attempts: 8,
            timeout_ms: 5_000,
            backoff_initial_ms: 1_000,
            backoff_max_ms: 300_000,
            concurrency: 16,
            channels: BTreeMap::from([("*".to_string(), SinkConfig::File { path: "touches.jsonl".into() })]),
        }
    }
}

impl DispatchConfig {
    /// Refuses settings no dispatcher can work with (no attempts, no
    /// concurrency, a webhook URL that is not http(s)), naming the key.
    pub fn check(&self) -> Result<(), String> {
        if self.max_attempts == 0 || self.concurrency == 0 {
            return Err("dispatch.max_attempts and dispatch.concurrency must be at least 1".into());
        }
        for (channel, sink) in &self.channels {
            if let SinkConfig::Webhook { url } = sink {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!("dispatch.channels.{channel}.url `{url}` is not an http(s) URL"));
                }
            }
        }
        Ok(())
    }

    /// The wait before attempt `attempts + 1`, with jitter.
    fn backoff(&self, attempts: u32) -> Millis {
        let doubled = self.backoff_initial_ms.saturating_mul(1u64 << attempts.saturating_sub(1).min(32));
        let full = doubled.min(self.backoff_max_ms).max(1);
        rand::rng().random_range(full / 2..=full) as Millis
    }
}

/// What a dispatch pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Touches the receiver now holds (ones it already held, by their key, included).
    pub delivered: u64,
    /// Failed attempts that will be tried again.
    pub retried: u64,
    /// Touches that became dead letters: out of attempts, or refused for good.
    pub dead: u64,
    /// Pending touches not due yet (deferred).
    pub waiting: u64,
    /// For each delivery: from when it was due to when it was delivered.
    pub latencies: Vec<Millis>,
}

/// Delivers the store's outbox to the sinks the config routes each channel to.
pub struct Dispatcher {
    store: Arc<Store>,
    config: DispatchConfig,
    /// The brand's: payloads give their instants in it.
    calendar: BrandCalendar,
    /// By channel, `"*"` for the rest; a path or URL used twice shares one sink.
    sinks: HashMap<String, Arc<Sink>>,
}

impl Dispatcher {
    /// Opens every sink the config names (failing if one cannot be opened,
    /// a file that cannot be created, say).
    pub fn new(store: Arc<Store>, config: DispatchConfig, calendar: BrandCalendar) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(config.timeout_ms);
        let mut opened: HashMap<SinkConfig, Arc<Sink>> = HashMap::new();
        let mut sinks = HashMap::new();
        for (channel, sink) in &config.channels {
            let shared = match opened.get(sink) {
                Some(open) => open.clone(),
                None => {
                    let open = Arc::new(Sink::open(sink, timeout)?);
                    opened.insert(sink.clone(), open.clone());
                    open
                }
            };
            sinks.insert(channel.clone(), shared);
        }
        Ok(Dispatcher { store, config, calendar, sinks })
    }

    fn sink_for(&self, channel: &str) -> Option<Arc<Sink>> {
        self.sinks.get(channel).or_else(|| self.sinks.get("*")).cloned()
    }

    /// Delivers every touch due now, waiting through retries, until each is
    /// delivered or dead. Touches deferred to later stay pending.
    pub async fn drain(&self) -> anyhow::Result<DispatchReport> {
        let horizon = now_millis();
        let mut report = DispatchReport::default();
        loop {
            let now = now_millis();
            if self.pass(now, &mut report).await? == 0 {
                match self.store.next_retry(horizon)? {
                    Some(at) => tokio::time::sleep(Duration::from_millis((at - now).max(1) as u64)).await,
                    None => break,
                }
            }
        }
        report.waiting = self.store.pending_outbox()? as u64;
        self.store.flush()?;
        Ok(report)
    }

    /// One attempt for every touch due by `now`; what is retried waits for a
    /// later pass. For a long-running service that calls it again and again.
    pub async fn pump(&self, now: Millis) -> anyhow::Result<DispatchReport> {
        let mut report = DispatchReport::default();
        while self.pass(now, &mut report).await? > 0 {}
        self.store.flush()?;
        Ok(report)
    }

    /// Attempts up to a batch of due touches; how many it attempted.
    async fn pass(&self, now: Millis, report: &mut DispatchReport) -> anyhow::Result<usize> {
        let due = self.store.due_outbox(&self.calendar, now, self.config.concurrency * 64)?;
        let attempted = due.len();
        self.deliver(due, report).await?;
        Ok(attempted)
    }

    /// One attempt for each item, `concurrency` at a time.
    async fn deliver(&self, items: Vec<OutboxItem>, report: &mut DispatchReport) -> anyhow::Result<()> {
        let mut in_flight = tokio::task::JoinSet::new();
        let mut items = items.into_iter();
        loop {
            while in_flight.len() < self.config.concurrency {
                let Some(item) = items.next() else { break };
                let sink = self.sink_for(&item.channel);
                in_flight.spawn(async move {
                    let outcome = match sink {
                        Some(sink) => sink.deliver(&item).await,
                        None => Delivery::Refused(format!(
                            "no sink for channel `{}` (add dispatch.channels.{} or \"*\")",
                            item.channel, item.channel
                        )),
                    };
                    (item, outcome)
                });
            }
            let Some(done) = in_flight.join_next().await else { break };
            let (item, outcome) = done?;
            self.settle(item, outcome, report)?;
        }
        Ok(())
    }

    fn settle(&self, mut item: OutboxItem, outcome: Delivery, report: &mut DispatchReport) -> anyhow::Result<()> {
        let previous = item.next_attempt_at;
        let now = now_millis();
        item.attempts += 1;
        match outcome {
            Delivery::Delivered => {
                item.state = OutboxState::Delivered;
                item.delivered_at = Some(now);
                item.last_error = None;
                report.delivered += 1;
                report.latencies.push(now - item.due_at);
            }
            Delivery::Retry(error) if item.attempts < self.config.max_attempts => {
                item.next_attempt_at = now + self.config.backoff(item.attempts);
                item.last_error = Some(error);
                report.retried += 1;
            }
            Delivery::Retry(error) | Delivery::Refused(error) => {
                item.state = OutboxState::Dead;
                item.last_error = Some(format!("after {} attempt(s): {error}", item.attempts));
                report.dead += 1;
            }
        }
        self.store.update_outbox(previous, &item)
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
}
