//! Delivering decided touches: the outbox in the store, sinks routed by
//! channel, each channel at its own rate, retries with exponential backoff
//! and jitter, dead letters.
//!
//! Delivery is at least once, and every attempt carries the decision's
//! idempotency key, so a receiver that honours `Idempotency-Key` (and the
//! file sink) sees each touch once even when a crash repeats an attempt.
//!
//! Each channel has a gate ([`gate`]): its `rate_per_minute`, and the pause
//! its receiver asks for with a 429. A pass reads each channel's due
//! touches on their own and takes them round robin, so a channel that must
//! wait holds up none of the others; a delivery waiting for its channel's
//! turn is neither an error nor an attempt.

mod backlog;
mod gate;
mod sinks;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

pub use backlog::{backlog, drain_time, spoken, ChannelBacklog};
pub use gate::{Gate, Wait};
pub use sinks::{wait_asked, Delivery, Sink, SinkConfig};

use crate::calendar::BrandCalendar;
use crate::model::{now_millis, Millis};
use crate::store::{DueCursor, OutboxItem, OutboxState, Store};

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
    fn backoff(&self, attempts: u32) -> Millis {
        let doubled = self.backoff_initial_ms.saturating_mul(1u64 << attempts.saturating_sub(1).min(32));
        let full = doubled.min(self.backoff_max_ms).max(1);
        rand::rng().random_range(full / 2..=full) as Millis
    }

    /// The wait a 429's `Retry-After` asked for, as taken: at least
    /// `backoff_initial_ms` (a `0` would be a loop of requests) and at most
    /// `backoff_max_ms` — a receiver asking for hours would otherwise hold
    /// every touch of the channel that long; the operator's longest wait
    /// between attempts holds whoever asks.
    fn retry_after(&self, asked: Duration) -> Millis {
        let asked = u64::try_from(asked.as_millis()).unwrap_or(u64::MAX);
        asked.max(self.backoff_initial_ms).min(self.backoff_max_ms).max(1) as Millis
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
    /// Deliveries the receiver turned away as over its rate limit (HTTP
    /// 429): not attempts, and never a dead letter; each is tried again
    /// after the wait the receiver asked for (or the backoff).
    pub rate_limited: u64,
    /// Pending touches not due yet (deferred).
    pub waiting: u64,
    /// For each delivery: from when it was due to when it was delivered.
    pub latencies: Vec<Millis>,
}

/// How long a pass takes new deliveries before it ends (once those in
/// flight settle) and the outbox is read again: what a run queued meanwhile,
/// on any channel, waits at most about this long behind a throttled one.
const PASS_SLICE: Duration = Duration::from_secs(1);

/// What one pass came to.
#[derive(Default)]
struct Pass {
    /// Deliveries it started.
    attempted: usize,
    /// The earliest a channel it held back (paused, or throttled past the
    /// pass) may deliver again, ms since the epoch.
    held_until: Option<Millis>,
}

impl Pass {
    fn hold(&mut self, until: Millis) {
        self.held_until = Some(self.held_until.map_or(until, |held| held.min(until)));
    }
}

/// One channel's due touches in a pass.
struct Lane {
    channel: String,
    sink: Option<Arc<Sink>>,
    gate: Arc<Gate>,
    /// Read from the store a few at a time, as the channel's turns come.
    queue: VecDeque<OutboxItem>,
    cursor: DueCursor,
    /// Nothing more of this channel in this pass.
    done: bool,
}

/// Delivers the store's outbox to the sinks the config routes each channel to.
pub struct Dispatcher {
    store: Arc<Store>,
    config: DispatchConfig,
    /// The brand's: payloads give their instants in it.
    calendar: BrandCalendar,
    /// By channel, `"*"` for the rest; a path or URL used twice shares one sink.
    sinks: HashMap<String, Arc<Sink>>,
    /// Each channel's rate limit and pause, for the dispatcher's whole life.
    gates: gate::Gates,
}

impl Dispatcher {
    /// Opens every sink the config names (failing if one cannot be opened,
    /// a file that cannot be created, say).
    pub fn new(store: Arc<Store>, config: DispatchConfig, calendar: BrandCalendar) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(config.timeout_ms);
        let mut opened: HashMap<SinkConfig, Arc<Sink>> = HashMap::new();
        let mut sinks = HashMap::new();
        for (channel, channel_config) in &config.channels {
            let sink = &channel_config.sink;
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
        Ok(Dispatcher { store, config, calendar, sinks, gates: Default::default() })
    }

    fn sink_for(&self, channel: &str) -> Option<Arc<Sink>> {
        self.sinks.get(channel).or_else(|| self.sinks.get("*")).cloned()
    }

    fn gate(&self, channel: &str) -> Arc<Gate> {
        self.gates.of(channel, || self.config.rate_for(channel))
    }

    /// Till when `channel`'s receiver asked it to wait (HTTP 429), if it still is at `now`.
    pub fn paused_until(&self, channel: &str, now: Millis) -> Option<Millis> {
        self.gates.get(channel).and_then(|gate| gate.paused_until(now))
    }

    /// The backlog of each channel, due by `now`, with the pauses this
    /// dispatcher was asked for that still hold (on the real clock, as they were asked).
    pub fn backlog(&self, now: Millis) -> anyhow::Result<Vec<ChannelBacklog>> {
        let real = now_millis();
        backlog(&self.store, &self.config, now, |c| self.paused_until(c, real), |at| self.calendar.format(at))
    }

    /// Delivers every touch due now, waiting through retries, rate limits
    /// and pauses, until each is delivered or dead. Touches deferred to
    /// later stay pending.
    pub async fn drain(&self) -> anyhow::Result<DispatchReport> {
        let horizon = now_millis();
        let mut report = DispatchReport::default();
        loop {
            let now = now_millis();
            let pass = self.pass(now, &mut report).await?;
            if pass.attempted > 0 {
                continue;
            }
            // Nothing could go now: wait for the next retry to come due, or
            // for a held channel's turn, whichever is first.
            let Some(retry) = self.store.next_retry(horizon)? else { break };
            let wake = match pass.held_until {
                Some(held) if retry > now => held.min(retry),
                Some(held) => held,
                // Due since the pass looked: go again.
                None => retry,
            };
            tokio::time::sleep(Duration::from_millis((wake - now).max(1) as u64)).await;
        }
        report.waiting = self.store.pending_outbox()? as u64;
        self.store.flush()?;
        Ok(report)
    }

    /// Every touch due by `now` whose channel may deliver: one attempt each;
    /// what is retried, paused or throttled waits for a later call. For a
    /// long-running service that calls it again and again.
    pub async fn pump(&self, now: Millis) -> anyhow::Result<DispatchReport> {
        let mut report = DispatchReport::default();
        while self.pass(now, &mut report).await?.attempted > 0 {}
        self.store.flush()?;
        Ok(report)
    }

    /// Delivers due touches for about [`PASS_SLICE`], `concurrency` in
    /// flight, each channel when its gate lets it, taking the channels round
    /// robin; then waits for those in flight.
    async fn pass(&self, now: Millis, report: &mut DispatchReport) -> anyhow::Result<Pass> {
        let until = Instant::now() + PASS_SLICE;
        let mut lanes: Vec<Lane> = self
            .store
            .outbox_channels_due(now)?
            .into_iter()
            .map(|channel| Lane {
                sink: self.sink_for(&channel),
                gate: self.gate(&channel),
                channel,
                queue: VecDeque::new(),
                cursor: DueCursor::default(),
                done: false,
            })
            .collect();
        let mut pass = Pass::default();
        let mut in_flight = tokio::task::JoinSet::new();
        let mut next = 0;
        loop {
            let mut wake = None;
            while in_flight.len() < self.config.concurrency {
                let Some((item, sink)) = self.admit(&mut lanes, &mut next, now, until, &mut wake, &mut pass)? else {
                    break;
                };
                pass.attempted += 1;
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
            if in_flight.is_empty() && wake.is_none() {
                break;
            }
            tokio::select! {
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    let (item, outcome) = done?;
                    self.settle(item, outcome, report)?;
                }
                _ = tokio::time::sleep_until(wake.unwrap_or(until)), if wake.is_some() => {}
            }
        }
        Ok(pass)
    }

    /// The next touch a channel may deliver now, taking the lanes round
    /// robin from `next`; `None` when none may. A lane throttled until
    /// before `until` sets `wake`; one paused, or throttled past it, is done
    /// for the pass (its touches stay due) and holds `pass`.
    fn admit(
        &self,
        lanes: &mut [Lane],
        next: &mut usize,
        now: Millis,
        until: Instant,
        wake: &mut Option<Instant>,
        pass: &mut Pass,
    ) -> anyhow::Result<Option<(OutboxItem, Option<Arc<Sink>>)>> {
        let count = lanes.len();
        for _ in 0..count {
            let lane = &mut lanes[*next];
            *next = (*next + 1) % count;
            if lane.done {
                continue;
            }
            if Instant::now() >= until {
                lane.done = true; // the rest is for the next pass
                continue;
            }
            if lane.queue.is_empty() {
                let read = self.config.concurrency.saturating_mul(4);
                let due = self.store.due_outbox(&self.calendar, &lane.channel, now, &mut lane.cursor, read)?;
                lane.queue.extend(due);
                if lane.queue.is_empty() {
                    lane.done = true;
                    continue;
                }
            }
            match lane.gate.take_turn(now_millis()) {
                Ok(()) => return Ok(lane.queue.pop_front().map(|item| (item, lane.sink.clone()))),
                Err(Wait::Paused(at)) => {
                    lane.done = true;
                    pass.hold(at);
                }
                Err(Wait::Throttled(wait)) if Instant::now() + wait < until => {
                    let at = Instant::now() + wait;
                    *wake = Some(wake.map_or(at, |w: Instant| w.min(at)));
                }
                Err(Wait::Throttled(wait)) => {
                    lane.done = true;
                    pass.hold(now_millis().saturating_add(wait.as_millis().try_into().unwrap_or(Millis::MAX)));
                }
            }
        }
        Ok(None)
    }

    fn settle(&self, mut item: OutboxItem, outcome: Delivery, report: &mut DispatchReport) -> anyhow::Result<()> {
        let previous = item.next_attempt_at;
        let now = now_millis();
        if let Delivery::RateLimited { message, retry_after } = outcome {
            // The receiver is busy, not the touch at fault: no attempt is
            // counted, and it stays pending however often this happens. The
            // whole channel waits with it: the receiver will refuse the rest too.
            let wait = match retry_after {
                Some(asked) => self.config.retry_after(asked),
                None => self.config.backoff(item.attempts + 1),
            };
            item.next_attempt_at = now.saturating_add(wait);
            let asked = retry_after.map(|a| format!(" (Retry-After {} s)", a.as_secs())).unwrap_or_default();
            item.last_error = Some(format!("rate limited{asked}, the channel waits until {}: {message}", {
                self.calendar.format(item.next_attempt_at)
            }));
            self.gate(&item.channel).pause_until(item.next_attempt_at);
            report.rate_limited += 1;
            return self.store.update_outbox(previous, &item);
        }
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
            Delivery::RateLimited { .. } => unreachable!("settled above"),
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
