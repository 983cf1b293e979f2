//! The outbox: every dispatched or deferred touch waits here, keyed by its
//! decision's idempotency key, until a sink confirms delivery or it runs out
//! of attempts (dead letter, re-drivable). Written in the same page as the
//! decision (see [`super::decisions`]), so a decided touch is never lost and
//! never queued twice; each later change of state is a record of its own in
//! the `outbox_updates` tree: the decision key (UTF-8) → the entry as it is
//! now ([`Queued`], postcard), overriding the page's copy.
//!
//! A touch's body is its decision's own line (decisions.jsonl), and the
//! page holds the decision already: the store keeps no body, and makes it
//! when an entry is read ([`OutboxItem`], always with its body), in the
//! brand's calendar: a body kept beside the decision would repeat it in
//! every page, and be made for every decision recorded rather than for each
//! touch sent. Pages an older canvas wrote may hold the body an entry was
//! queued with ([`Queued::kept_body`]); such an entry is sent with it.

use std::collections::HashMap;

use anyhow::Context;

use super::ledger::{DuePosition, Slot};
use super::outbox_entry::{OutboxItem, OutboxState, Queued, QueuedState};
use super::{decode, Store};
use crate::calendar::BrandCalendar;
use crate::decision_line::decision_json;
use crate::model::{Decision, Millis};

/// Where reading a channel's due outbox items got to ([`Store::due_outbox`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DueCursor(Option<DuePosition>);

/// A channel's pending outbox items ([`Store::outbox_backlog`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingCount {
    /// The channel (`wecom`, `sms`...).
    pub channel: String,
    /// Items whose next attempt is due now.
    pub due: u64,
    /// Items whose next attempt is later: deferred touches, failed attempts waiting for their retry.
    pub later: u64,
}

impl Store {
    /// The outbox entry of the decision at `slot` as it is now (its last
    /// update, else as queued).
    fn outbox_state(&self, slot: Slot) -> anyhow::Result<Option<Queued>> {
        let Some(queued) = self.entry(slot)?.queued else { return Ok(None) };
        self.current(queued).map(Some)
    }

    /// [`Store::outbox_state`] with its body: as kept, or else the
    /// decision's line rendered in `calendar`.
    fn outbox_item(&self, calendar: &BrandCalendar, slot: Slot) -> anyhow::Result<Option<OutboxItem>> {
        let entry = self.entry(slot)?;
        let Some(mut queued) = entry.queued else { return Ok(None) };
        let kept = queued.kept_body.take();
        Ok(Some(self.current(queued)?.with_payload(body(calendar, &entry.decision, kept))))
    }

    /// Each outbox entry's state since it was queued, by key: those with an
    /// update (a page's copy says pending for the rest).
    pub(super) fn outbox_states(&self) -> anyhow::Result<HashMap<String, OutboxState>> {
        let mut states = HashMap::new();
        for value in self.outbox_updates.iter().values() {
            let value = value?;
            let update = QueuedState::read(&value)?;
            states.insert(update.key.to_string(), update.state);
        }
        Ok(states)
    }

    /// An entry as queued, or its last update if it has one.
    fn current(&self, queued: Queued) -> anyhow::Result<Queued> {
        match self.outbox_updates.get(queued.key.as_bytes())? {
            Some(bytes) => decode(&bytes),
            None => Ok(queued),
        }
    }

    /// A channel's pending items whose next attempt is due by `now`,
    /// earliest first, each with its body rendered in `calendar`: up to
    /// `limit` of them after `cursor`, which is moved past them, so the next
    /// call goes on where this one ended (entries still in flight are not
    /// read twice).
    pub fn due_outbox(
        &self,
        calendar: &BrandCalendar,
        channel: &str,
        now: Millis,
        cursor: &mut DueCursor,
        limit: usize,
    ) -> anyhow::Result<Vec<OutboxItem>> {
        let due: Vec<DuePosition> = self
            .with_ledger(|ledger| ledger.due(channel, cursor.0, Some(now.saturating_add(1))).take(limit).collect())?;
        if let Some(&last) = due.last() {
            cursor.0 = Some(last);
        }
        due.into_iter().filter_map(|(_, slot)| self.outbox_item(calendar, slot).transpose()).collect()
    }

    /// The channels with a pending item due by `now`, in name order.
    pub fn outbox_channels_due(&self, now: Millis) -> anyhow::Result<Vec<String>> {
        self.with_ledger(|ledger| {
            let channels = ledger.channels();
            let due = |channel: &&str| ledger.due(channel, None, Some(now.saturating_add(1))).next().is_some();
            channels.into_iter().filter(due).map(str::to_string).collect()
        })
    }

    /// The earliest next attempt of a pending item that was due by `horizon`.
    pub fn next_retry(&self, horizon: Millis) -> anyhow::Result<Option<Millis>> {
        let pending: Vec<Vec<Slot>> = self.with_ledger(|ledger| {
            let channels = ledger.channels();
            channels.iter().map(|channel| ledger.due(channel, None, None).map(|(_, slot)| slot).collect()).collect()
        })?;
        // Each channel's first such item, in its order of next attempt; the earliest of those.
        let mut earliest = None;
        for slots in pending {
            for slot in slots {
                if let Some(item) = self.outbox_state(slot)? {
                    if item.due_at <= horizon {
                        earliest = Some(earliest.map_or(item.next_attempt_at, |e: Millis| e.min(item.next_attempt_at)));
                        break;
                    }
                }
            }
        }
        Ok(earliest)
    }

    /// The pending items of each channel that has any, in name order: how
    /// many are due by `now`, and how many wait for a later attempt
    /// (deferred, or retried after a failure). Counted from the index,
    /// without reading an entry.
    pub fn outbox_backlog(&self, now: Millis) -> anyhow::Result<Vec<PendingCount>> {
        self.with_ledger(|ledger| {
            let channels = ledger.channels();
            channels
                .into_iter()
                .map(|channel| {
                    let due = ledger.due(channel, None, Some(now.saturating_add(1))).count() as u64;
                    let all = ledger.due(channel, None, None).count() as u64;
                    PendingCount { channel: channel.to_string(), due, later: all - due }
                })
                .collect()
        })
    }

    /// Stores an item's new state, keeping the due index in step. The body
    /// is not stored: it never changes after the entry is queued.
    pub fn update_outbox(&self, previous_next_attempt: Millis, item: &OutboxItem) -> anyhow::Result<()> {
        self.put_update(previous_next_attempt, &Queued::of(item))
    }

    fn put_update(&self, previous_next_attempt: Millis, state: &Queued) -> anyhow::Result<()> {
        self.outbox_updates.insert(state.key.as_bytes(), postcard::to_stdvec(state)?).context("updating the outbox")?;
        let pending_at = (state.state == OutboxState::Pending).then_some(state.next_attempt_at);
        self.with_ledger(|ledger| ledger.reschedule(previous_next_attempt, &state.key, &state.channel, pending_at))
    }

    /// How many items wait to be delivered (now or later).
    pub fn pending_outbox(&self) -> anyhow::Result<usize> {
        self.with_ledger(|ledger| ledger.pending())
    }

    /// Every outbox item, optionally of one state, in key order, each with
    /// its body rendered in `calendar`.
    pub fn outbox_items(
        &self,
        calendar: &BrandCalendar,
        state: Option<OutboxState>,
    ) -> anyhow::Result<Vec<OutboxItem>> {
        let mut items = Vec::new();
        for entry in self.entries() {
            let entry = entry?;
            let Some(mut queued) = entry.queued else { continue };
            let kept = queued.kept_body.take();
            let current = self.current(queued)?;
            if state.is_none_or(|s| s == current.state) {
                items.push(current.with_payload(body(calendar, &entry.decision, kept)));
            }
        }
        items.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(items)
    }

    /// Puts dead letters back in the queue, due `now`, with fresh attempts.
    /// `keys` empty: every dead letter. Returns how many were re-driven.
    pub fn redrive(&self, keys: &[String], now: Millis) -> anyhow::Result<usize> {
        let mut count = 0;
        for entry in self.entries() {
            let Some(queued) = entry?.queued else { continue };
            let mut item = self.current(queued)?;
            if item.state != OutboxState::Dead || !(keys.is_empty() || keys.contains(&item.key)) {
                continue;
            }
            let previous = item.next_attempt_at;
            item.state = OutboxState::Pending;
            item.attempts = 0;
            item.next_attempt_at = now;
            item.kept_body = None;
            self.put_update(previous, &item)?;
            count += 1;
        }
        self.flush()?;
        Ok(count)
    }

    /// Takes back a member's touches not delivered yet whose channel
    /// `affected` names (a deletion on WeCom, an unsubscribe, a
    /// do-not-contact mark made them undeliverable): each pending entry is
    /// `cancelled` with `reason` and never sent. Returns how many were.
    pub fn cancel_member(
        &self,
        member_id: &str,
        affected: impl Fn(&str) -> bool,
        reason: &str,
    ) -> anyhow::Result<usize> {
        let slots = self.with_ledger(|ledger| ledger.of_member(member_id).to_vec())?;
        let mut count = 0;
        for slot in slots {
            let entry = self.entry(slot)?;
            let Some(queued) = entry.queued else { continue };
            if affected(&entry.decision.channel) && self.cancel(queued, reason)? {
                count += 1;
            }
        }
        if count > 0 {
            self.flush()?;
        }
        Ok(count)
    }

    /// Takes back the touches of one run not delivered yet: every pending
    /// outbox entry of `strategy`'s decisions made at `run_at` is
    /// `cancelled` (with `reason` as its last error) and never sent.
    /// Returns how many were; those delivered already stay as they are.
    pub fn cancel_run(&self, strategy: &str, run_at: Millis, reason: &str) -> anyhow::Result<usize> {
        let mut count = 0;
        for entry in self.entries() {
            let entry = entry?;
            let Some(queued) = entry.queued else { continue };
            if entry.decision.strategy == strategy && entry.decision.run_at == run_at && self.cancel(queued, reason)? {
                count += 1;
            }
        }
        self.flush()?;
        Ok(count)
    }

    /// Cancels one outbox entry if it is still pending, `reason` as its last
    /// error; whether it was.
    fn cancel(&self, queued: Queued, reason: &str) -> anyhow::Result<bool> {
        let mut item = self.current(queued)?;
        if item.state != OutboxState::Pending {
            return Ok(false);
        }
        let previous = item.next_attempt_at;
        item.state = OutboxState::Cancelled;
        item.last_error = Some(reason.to_string());
        item.kept_body = None;
        self.put_update(previous, &item)?;
        Ok(true)
    }
}

/// A touch's body: the one its entry was queued with, if an earlier store
/// kept one, or else its decision's line.
fn body(calendar: &BrandCalendar, decision: &Decision, kept: Option<String>) -> String {
    kept.unwrap_or_else(|| decision_json(calendar, decision))
}

#[cfg(test)]
mod tests {
    use super::super::ledger::{encode_page, EntryRef};
    use super::*;
    use crate::model::DecisionStatus;

    fn decision(member_id: &str) -> Decision {
        crate::model::sample_decision(member_id)
    }

    /// Stores before a touch's body was made when it is sent kept the body
    /// in the page, beside its decision: such an entry is sent with the body
    /// it was queued with, through the updates of its failed attempts, while
    /// an entry queued without one gets its decision's line.
    #[test]
    fn an_entry_queued_with_its_body_in_the_page_is_sent_with_that_body() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (kept, made) = (decision("M1"), decision("M2"));
        let mut earlier = Queued::for_decision(&kept).unwrap();
        earlier.kept_body = Some(r#"{"kept":"as queued"}"#.into());
        let entries = [EntryRef::new(&kept, Some(earlier)), EntryRef::new(&made, Queued::for_decision(&made))];
        store.decision_pages.insert(1u64.to_be_bytes(), encode_page(entries).unwrap()).unwrap();

        let calendar = BrandCalendar::default();
        let expected = [
            (kept.key.clone(), r#"{"kept":"as queued"}"#.to_string()),
            (made.key.clone(), decision_json(&calendar, &made)),
        ];
        let bodies = |items: &[OutboxItem]| -> Vec<(String, String)> {
            let mut bodies: Vec<_> = items.iter().map(|i| (i.key.clone(), i.payload.clone())).collect();
            bodies.sort();
            bodies
        };
        let now = kept.run_at + 1;
        let due = store.due_outbox(&calendar, "wecom", now, &mut DueCursor::default(), 10).unwrap();
        assert_eq!(bodies(&due), expected);

        for item in due {
            let previous = item.next_attempt_at;
            let retry = OutboxItem { attempts: 1, last_error: Some("HTTP 503".into()), ..item };
            store.update_outbox(previous, &retry).unwrap();
        }
        let again = store.due_outbox(&calendar, "wecom", now, &mut DueCursor::default(), 10).unwrap();
        assert!(again.iter().all(|i| i.attempts == 1), "the updates are read");
        assert_eq!(bodies(&again), expected);
        assert_eq!(bodies(&store.outbox_items(&calendar, None).unwrap()), expected);
    }

    /// Each channel's due entries are read on their own, a few at a time
    /// from where the last read ended, and counted without reading them.
    #[test]
    fn each_channel_is_read_and_counted_on_its_own() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let on = |member: &str, channel: &str| Decision { channel: channel.into(), ..decision(member) };
        let deferred =
            Decision { status: DecisionStatus::Deferred, send_at: Some(2_000_000_000_000), ..on("M6", "sms") };
        let decisions = [on("M1", "wecom"), on("M2", "wecom"), on("M3", "wecom"), on("M4", "sms"), deferred];
        store.record_decisions(&decisions, crate::store::Queue::ToBeSent).unwrap();
        let (calendar, now) = (BrandCalendar::default(), decisions[0].run_at + 1);

        assert_eq!(store.outbox_channels_due(now).unwrap(), ["sms", "wecom"]);
        let mut cursor = DueCursor::default();
        let mut read = Vec::new();
        for _ in 0..3 {
            let items = store.due_outbox(&calendar, "wecom", now, &mut cursor, 2).unwrap();
            assert!(items.iter().all(|i| i.channel == "wecom"));
            read.push(items.into_iter().map(|i| i.key).collect::<Vec<_>>());
        }
        let keys: Vec<String> = decisions[..3].iter().map(|d| d.key.clone()).collect();
        assert_eq!(read, [keys[..2].to_vec(), keys[2..].to_vec(), vec![]], "each entry read once, in order");

        let counts = |store: &Store| -> Vec<(String, u64, u64)> {
            store.outbox_backlog(now).unwrap().into_iter().map(|c| (c.channel, c.due, c.later)).collect()
        };
        assert_eq!(counts(&store), [("sms".into(), 1, 1), ("wecom".into(), 3, 0)]);
        // One wecom entry failed and waits for its retry; one sms entry was delivered.
        let mut cursor = DueCursor::default();
        let first = store.due_outbox(&calendar, "wecom", now, &mut cursor, 1).unwrap().remove(0);
        let retry = OutboxItem { attempts: 1, next_attempt_at: now + 60_000, ..first.clone() };
        store.update_outbox(first.next_attempt_at, &retry).unwrap();
        let sent = store.due_outbox(&calendar, "sms", now, &mut DueCursor::default(), 1).unwrap().remove(0);
        let delivered = OutboxItem { state: OutboxState::Delivered, delivered_at: Some(now), ..sent.clone() };
        store.update_outbox(sent.next_attempt_at, &delivered).unwrap();
        assert_eq!(counts(&store), [("sms".into(), 0, 1), ("wecom".into(), 2, 1)]);
        assert_eq!(store.outbox_channels_due(now).unwrap(), ["wecom"]);
        assert_eq!(store.next_retry(now).unwrap(), Some(first.next_attempt_at), "the earliest, of any channel");
        assert_eq!(store.pending_outbox().unwrap(), 4);
        // Opened again, the indexes are built from the pages and brought up
        // to date by the updates: the same counts, the same entries due.
        let due_soon = |store: &Store| {
            let mut due = Vec::new();
            for channel in ["sms", "wecom"] {
                let read = store.due_outbox(&calendar, channel, now + 60_000, &mut DueCursor::default(), 10).unwrap();
                due.extend(read.into_iter().map(|i| (i.key, i.attempts, i.next_attempt_at)));
            }
            due
        };
        let before = due_soon(&store);
        let path = store.path().to_path_buf();
        drop(store);
        let store = Store::open(&path).unwrap();
        store.each_decision_page(|_| {}).unwrap();
        assert_eq!(counts(&store), [("sms".into(), 0, 1), ("wecom".into(), 2, 1)]);
        assert_eq!(store.next_retry(now).unwrap(), Some(first.next_attempt_at));
        let reopened = due_soon(&store);
        assert_eq!(reopened, before);
        assert!(reopened.contains(&(first.key.clone(), 1, now + 60_000)), "the retry: {reopened:?}");
        // Built on first use instead of by a runner's start: the same.
        drop(store);
        assert_eq!(due_soon(&Store::open(&path).unwrap()), before);
    }

    /// The pages and updates of every store so far hold entries in this
    /// encoding: field for field, in this order.
    #[test]
    fn an_entry_is_kept_in_the_encoding_stores_hold() {
        let entry = Queued {
            key: "k".into(),
            channel: "wecom".into(),
            kept_body: None,
            due_at: 1,
            state: OutboxState::Dead,
            attempts: 3,
            next_attempt_at: 2,
            last_error: Some("e".into()),
            delivered_at: None,
        };
        let bytes = [&[1, b'k', 5][..], b"wecom", &[0, 2, 2, 3, 4, 1, 1, b'e', 0]].concat();
        assert_eq!(postcard::to_stdvec(&entry).unwrap(), bytes);
        assert_eq!(decode::<Queued>(&bytes).unwrap(), entry);
        // An older store's page, with the body the entry was queued with.
        let kept = Queued { kept_body: Some("{}".into()), ..entry };
        let bytes = [&[1, b'k', 5][..], b"wecom", &[2, b'{', b'}', 2, 2, 3, 4, 1, 1, b'e', 0]].concat();
        assert_eq!(postcard::to_stdvec(&kept).unwrap(), bytes);
        assert_eq!(decode::<Queued>(&bytes).unwrap(), kept);
    }
}
