//! Event triggers (WIT 0.4.0): which strategies an event fires, when, and
//! whether a later happening called the firing off.
//!
//! A strategy's audience may name triggers: an event kind (with attributes
//! it must have), a delay, and cancel conditions. Each event of a member
//! that matches becomes a [`Firing`] due at the event's instant plus the
//! delay; when it is due, the runner calls the strategy's `decide` for that
//! member alone with the event (`runner::fire`), unless [`called_off`] says
//! a cancel condition happened after the event and by then. The service
//! keeps firings in the store until they fire (durable across restarts:
//! `store::triggers`); a simulation keeps them in memory. Both take events
//! in time order from the same [`TriggerTable`], so a dry run fires what the
//! service would have.
//!
//! A firing's decisions carry the event's id in their period
//! ([`Firing::period`]), so an event fires a strategy's step for a member
//! at most once, however often its firing is retried.

use crate::member_base::MemberBase;
use crate::model::{Event, Millis};
use crate::runtime::api;
pub use crate::store::{Cancel, Firing};
use crate::strategy::Strategy;

impl From<&api::CancelCondition> for Cancel {
    fn from(c: &api::CancelCondition) -> Self {
        match c {
            api::CancelCondition::Event(e) => Cancel::Event { kind: e.kind.clone(), same_attr: e.same_attr.clone() },
            api::CancelCondition::Ordered => Cancel::Ordered,
        }
    }
}

impl Firing {
    /// The period of the decisions it makes: the triggering event, so each
    /// event fires a strategy's step for a member at most once.
    pub fn period(&self) -> String {
        period_of(&self.event)
    }
}

/// The idempotency period of a decision fired by `event`.
pub fn period_of(event: &Event) -> String {
    format!("on {} {}", event.kind, event.id)
}

/// The enabled strategies' triggers, to match events against.
#[derive(Clone, Debug, Default)]
pub struct TriggerTable {
    /// (strategy id, its triggers), in the order the strategies were given.
    entries: Vec<(String, Vec<api::Trigger>)>,
}

impl TriggerTable {
    /// The triggers of `strategies`' audiences with their configs. A plugin
    /// whose audience cannot be had (it refuses its config, it fails) fires
    /// nothing: its scheduled runs record why.
    pub fn of<'s>(strategies: impl IntoIterator<Item = &'s Strategy>) -> Self {
        let entries = strategies
            .into_iter()
            .filter_map(|s| {
                let audience = s.plugin.audience(&s.config).ok()?;
                (!audience.triggers.is_empty()).then(|| (s.id().to_string(), audience.triggers))
            })
            .collect();
        TriggerTable { entries }
    }

    /// Whether no strategy reacts to any event.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The strategies that react to some event, by id.
    pub fn strategies(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(id, _)| id.as_str())
    }

    /// The largest delay of any trigger, in milliseconds: how far before a
    /// period an event may lie and still fire inside it.
    pub fn longest_delay(&self) -> Millis {
        let minutes = self.entries.iter().flat_map(|(_, t)| t.iter().map(|t| t.delay_minutes)).max().unwrap_or(0);
        i64::from(minutes) * MILLIS_PER_MINUTE
    }

    /// The firings `event` starts, one per matching trigger, strategies in
    /// table order (a strategy with two triggers on one kind fires twice,
    /// each at its own delay).
    pub fn firings(&self, event: &Event) -> Vec<Firing> {
        let mut firings = Vec::new();
        let mut attrs = None;
        for (strategy, triggers) in &self.entries {
            for trigger in triggers.iter().filter(|t| t.event_kind == event.kind) {
                let attrs = attrs.get_or_insert_with(|| attrs_of(event));
                if !trigger.requires_attrs.iter().all(|key| attrs.get(key).is_some_and(|v| !v.is_null())) {
                    continue;
                }
                firings.push(Firing {
                    strategy: strategy.clone(),
                    event: event.clone(),
                    due: event.at.saturating_add(i64::from(trigger.delay_minutes) * MILLIS_PER_MINUTE),
                    cancel_if: trigger.cancel_if.iter().map(Cancel::from).collect(),
                });
            }
        }
        firings
    }
}

const MILLIS_PER_MINUTE: i64 = 60_000;

fn attrs_of(event: &Event) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_str(&event.attrs).unwrap_or_default()
}

/// Whether something the firing's cancel conditions name happened to the
/// member after the event and by the firing's due instant, as far as `base`
/// knows. A member the base does not know calls nothing off.
pub fn called_off(base: &MemberBase, firing: &Firing) -> bool {
    if firing.cancel_if.is_empty() {
        return false;
    }
    let Some(m) = base.index_of(&firing.event.member_id) else { return false };
    let after = firing.event.at;
    let triggering = attrs_of(&firing.event);
    firing.cancel_if.iter().any(|cancel| match cancel {
        Cancel::Ordered => base.orders_as_of(m, firing.due).iter().any(|o| o.at >= after),
        Cancel::Event { kind, same_attr } => base.events_as_of(m, firing.due).iter().any(|e| {
            e.at >= after
                && e.kind == *kind
                && e.id != firing.event.id
                && same_attr.as_ref().is_none_or(|key| {
                    let theirs: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(e.attrs).unwrap_or_default();
                    triggering.get(key).is_some_and(|v| !v.is_null() && theirs.get(key) == Some(v))
                })
        }),
    })
}

/// The event as the plugin is told of it.
pub fn api_event(base: &MemberBase, event: &Event) -> api::Event {
    api::Event {
        id: event.id.clone(),
        kind: event.kind.clone(),
        at: event.at,
        day: base.calendar.day_of(event.at),
        attrs: event.attrs.clone(),
    }
}

/// Firings waiting for their instant, in memory (a simulation's; the
/// service keeps its own in the store): earliest first, and in the order
/// they came among those due at one instant.
#[derive(Debug, Default)]
pub struct Pending {
    queue: std::collections::BTreeMap<(Millis, u64), Firing>,
    next: u64,
}

impl Pending {
    /// Adds firings to wait for.
    pub fn add(&mut self, firings: impl IntoIterator<Item = Firing>) {
        for firing in firings {
            self.queue.insert((firing.due, self.next), firing);
            self.next += 1;
        }
    }

    /// The earliest instant a firing is due at.
    pub fn next_due(&self) -> Option<Millis> {
        self.queue.keys().next().map(|&(due, _)| due)
    }

    /// Takes the firings due at or before `at`, earliest first.
    pub fn take_due(&mut self, at: Millis) -> Vec<Firing> {
        let later = self.queue.split_off(&(at.saturating_add(1), 0));
        std::mem::replace(&mut self.queue, later).into_values().collect()
    }

    /// Firings waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
