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

use serde::{Deserialize, Serialize};

use crate::member_base::MemberBase;
use crate::model::{Event, Millis};
use crate::runtime::api;
use crate::strategy::Strategy;

/// What calls a firing off: a later event of the member's, or any order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cancel {
    /// An event of `kind`; with `same_attr`, only one whose attribute of
    /// that name equals the triggering event's.
    Event {
        /// The event kind, e.g. `coupon_redeemed`.
        kind: String,
        /// The attribute both events must agree on, e.g. `coupon_id`.
        same_attr: Option<String>,
    },
    /// Any order.
    Ordered,
}

impl From<&api::CancelCondition> for Cancel {
    fn from(c: &api::CancelCondition) -> Self {
        match c {
            api::CancelCondition::Event(e) => Cancel::Event { kind: e.kind.clone(), same_attr: e.same_attr.clone() },
            api::CancelCondition::Ordered => Cancel::Ordered,
        }
    }
}

/// One strategy's reaction to one event, due at `due`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    /// The strategy that reacts.
    pub strategy: String,
    /// The event it reacts to (whose member it decides).
    pub event: Event,
    /// When `decide` is called: the event's instant plus the trigger's delay.
    pub due: Millis,
    /// What calls it off, as the trigger said when the event came in.
    pub cancel_if: Vec<Cancel>,
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
                        serde_json::from_str(&e.attrs).unwrap_or_default();
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
