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
mod config;
mod gate;
mod sinks;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

pub use backlog::{backlog, drain_time, spoken, ChannelBacklog};
pub use config::{ChannelConfig, DispatchConfig, WECOM_RATE_PER_MINUTE};
pub use sinks::{wait_asked, Delivery, Sink, SinkConfig};

use crate::calendar::BrandCalendar;
use crate::model::{now_millis, Millis};
use crate::store::{DueCursor, OutboxItem, OutboxState, Store};
use gate::{Gate, Wait};

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
            let until = self.calendar.format(item.next_attempt_at);
            item.last_error =
                Some(format!("rate limited{asked}, not counted as an attempt; waits until {until}: {message}"));
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
