//! An outbox entry, as the store keeps it ([`Queued`]: in its decision's
//! page as first queued, and in `outbox_updates` as it is now) and as it
//! hands it out ([`OutboxItem`], with its body). A module of its own, below
//! both the pages (`ledger`) and the outbox table (`outbox`), which use it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{Decision, Millis};

/// Where a touch's delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Not delivered yet: waiting for its due time or its next attempt.
    Pending,
    /// The sink has it; never attempted again.
    Delivered,
    /// Out of attempts, or refused for good; `canvas outbox redrive` retries it.
    Dead,
    /// Taken back by an operator before it was delivered (`canvas outbox
    /// cancel`); never sent. Last, so entries stored before it decode as they were.
    Cancelled,
}

impl OutboxState {
    /// `pending`, `delivered`, `dead` or `cancelled`: as `canvas outbox list` prints it, and as its JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Delivered => "delivered",
            OutboxState::Dead => "dead",
            OutboxState::Cancelled => "cancelled",
        }
    }
}

/// A touch in the outbox, as the store hands it out: where it goes, what it
/// says, and how its delivery stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    /// The decision's idempotency key, sent as the `Idempotency-Key` header.
    pub key: String,
    /// The touch's channel (`wecom`, `sms`...), which picks the sink.
    pub channel: String,
    /// The touch as JSON: its decision's decisions.jsonl line (or, from an
    /// earlier store, the body it was queued with).
    pub payload: String,
    /// Not before (a deferred touch's `send_at`).
    pub due_at: Millis,
    /// Where its delivery stands.
    pub state: OutboxState,
    /// Attempts made so far, failed or not.
    pub attempts: u32,
    /// When it is next tried: `due_at` at first, then after each failure's backoff.
    pub next_attempt_at: Millis,
    /// Why the last attempt failed; None once delivered. A dead letter's says after how many attempts.
    pub last_error: Option<String>,
    /// When the sink took it; None until then.
    pub delivered_at: Option<Millis>,
}

/// An outbox entry as the store keeps it: in its decision's page as first
/// queued, and in `outbox_updates` as it is now. The on-disk format —
/// postcard, where the fields' order is the format — as canvas has always
/// written it; [`OutboxItem`] without its body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Queued {
    pub key: String,
    pub channel: String,
    /// The body the entry was queued with: kept only by pages of stores
    /// from before the body was made when sent, and their entries are sent
    /// with it. `None` in every entry written since, updates included (an
    /// update's is never read: the page's copy is the entry's body).
    #[serde(with = "empty_for_none")]
    pub kept_body: Option<String>,
    pub due_at: Millis,
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at: Millis,
    pub last_error: Option<String>,
    pub delivered_at: Option<Millis>,
}

/// [`Queued`]'s leading fields, borrowed: what building the indexes reads
/// of each outbox update (a delivered touch has one: millions after weeks
/// at a million members), with nothing copied. The same encoding, read
/// with `postcard::take_from_bytes`, which leaves the rest unread.
#[derive(Deserialize)]
pub(super) struct QueuedState<'a> {
    pub key: &'a str,
    pub channel: &'a str,
    _kept_body: &'a str,
    pub due_at: Millis,
    pub state: OutboxState,
    _attempts: u32,
    pub next_attempt_at: Millis,
}

impl<'a> QueuedState<'a> {
    /// An outbox update's leading fields, read in place.
    pub fn read(update: &'a [u8]) -> anyhow::Result<Self> {
        let (state, _) = postcard::take_from_bytes(update)
            .map_err(|e| anyhow::anyhow!("the store holds an outbox update this version cannot read: {e}"))?;
        Ok(state)
    }
}

impl Queued {
    /// When [`Queued::for_decision`]'s entry is first tried, without making
    /// it: the recording's due index needs only this.
    pub fn first_attempt_for(d: &Decision) -> Option<Millis> {
        d.planned_send_at()
    }

    /// The outbox entry of a decision that is to be sent; `None` for a
    /// decision not to be sent.
    pub fn for_decision(d: &Decision) -> Option<Self> {
        let due_at = Self::first_attempt_for(d)?;
        Some(Queued {
            key: d.key.clone(),
            channel: d.channel.clone(),
            kept_body: None,
            due_at,
            state: OutboxState::Pending,
            attempts: 0,
            next_attempt_at: due_at,
            last_error: None,
            delivered_at: None,
        })
    }

    /// An item's state, as an update records it.
    pub(super) fn of(item: &OutboxItem) -> Self {
        Queued {
            key: item.key.clone(),
            channel: item.channel.clone(),
            kept_body: None,
            last_error: item.last_error.clone(),
            due_at: item.due_at,
            state: item.state,
            attempts: item.attempts,
            next_attempt_at: item.next_attempt_at,
            delivered_at: item.delivered_at,
        }
    }

    /// The entry as handed out, with `payload` for its body.
    pub(super) fn with_payload(self, payload: String) -> OutboxItem {
        let Queued { key, channel, kept_body: _, due_at, state, attempts, next_attempt_at, last_error, delivered_at } =
            self;
        OutboxItem { key, channel, payload, due_at, state, attempts, next_attempt_at, last_error, delivered_at }
    }
}

/// [`Queued::kept_body`] as the stores hold it: a string, empty for none.
mod empty_for_none {
    use super::*;

    pub fn serialize<S: Serializer>(body: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(body.as_deref().unwrap_or(""))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let body = String::deserialize(d)?;
        Ok((!body.is_empty()).then_some(body))
    }
}
