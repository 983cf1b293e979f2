//! The decision ledger: a run's decisions are written as pages of a few
//! thousand whole members each — one sled insert per page instead of five per
//! decision (decision, by-member index, outbox entry, due index, coupon
//! event): sled pays mostly per insert, and a busy day has a million
//! decisions. A page lands whole or not at all, so a member's decisions and
//! their outbox entries stay atomic.
//!
//! The lookups the host needs (has this key been decided, a member's
//! decisions, which outbox entries are due) are indexes in memory, built from
//! the pages the first time they are needed and kept in step on every write.
//! Outbox entries change state after they are written (delivered, retried,
//! dead); each change is one small record that overrides the page's copy.

use std::cell::RefCell;
use std::collections::BTreeSet;

use anyhow::Context;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::outbox_entry::Queued;
use crate::model::{Decision, Event, Millis};
use crate::parallel;

/// Where a record sits: its page and its place in the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Slot {
    pub page: u64,
    pub index: u32,
}

/// A decision and, when it is to be sent, its outbox entry as first queued;
/// then the build that decided it (`Decision::plugin_sha256`), last, so the
/// entries written before it was kept still read.
#[derive(Serialize)]
pub(crate) struct EntryRef<'a> {
    pub decision: &'a Decision,
    /// Made while encoding (see `store::Queue`).
    pub queued: Option<Queued>,
    pub plugin_sha256: &'a str,
}

impl<'a> EntryRef<'a> {
    pub fn new(decision: &'a Decision, queued: Option<Queued>) -> Self {
        EntryRef { decision, queued, plugin_sha256: &decision.plugin_sha256 }
    }
}

/// [`EntryRef`] read back (the same encoding, owned).
#[derive(Deserialize)]
pub(crate) struct Entry {
    pub decision: Decision,
    pub queued: Option<Queued>,
    plugin_sha256: String,
}

/// A record kept in pages, from its body (its bytes in the page).
pub(crate) trait PageRecord: Sized {
    fn from_body(body: &[u8]) -> anyhow::Result<Self>;
}

impl PageRecord for Entry {
    /// An entry written before the build was kept lacks its last field: read
    /// as "" (an empty string is one 0 byte in postcard).
    fn from_body(body: &[u8]) -> anyhow::Result<Entry> {
        let mut entry: Entry = postcard::from_bytes(body).or_else(|_| super::decode(&[body, &[0]].concat()))?;
        entry.decision.plugin_sha256 = std::mem::take(&mut entry.plugin_sha256).into();
        Ok(entry)
    }
}

impl PageRecord for Event {
    fn from_body(body: &[u8]) -> anyhow::Result<Event> {
        super::decode(body)
    }
}

/// Encodes records as one page: a count, each record's end offset, the
/// postcard bodies — so one record can be read without decoding the rest —
/// and the whole compressed with LZ4 (touches repeat strategy, template and
/// channel names; pages shrink several times).
pub(crate) fn encode_page<T: Serialize>(records: impl IntoIterator<Item = T>) -> anyhow::Result<Vec<u8>> {
    let mut bodies = Vec::new();
    let mut ends = Vec::new();
    for record in records {
        bodies = postcard::to_extend(&record, bodies)?;
        ends.push(u32::try_from(bodies.len()).context("a page over 4 GiB")?);
    }
    Ok(lz4_flex::compress_prepend_size(&frame(&ends, &bodies)))
}

/// [`encode_page`] of bodies already encoded, compressed with zstd (the
/// imported records' pages: written once, kept for years, read whole at
/// a start only after an import — a third smaller than with LZ4).
pub(crate) fn encode_bodies<'b>(records: impl IntoIterator<Item = &'b [u8]>, level: i32) -> anyhow::Result<Vec<u8>> {
    let mut bodies = Vec::new();
    let mut ends = Vec::new();
    for record in records {
        bodies.extend_from_slice(record);
        ends.push(u32::try_from(bodies.len()).context("a page over 4 GiB")?);
    }
    let framed = frame(&ends, &bodies);
    let mut page = (framed.len() as u32).to_le_bytes().to_vec();
    // A context per thread: making one per page was a hundredth of an import.
    thread_local! {
        static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    }
    let compressed = COMPRESSOR.with_borrow_mut(|compressor| {
        let compressor = match compressor {
            Some(compressor) => compressor,
            None => compressor.insert(zstd::bulk::Compressor::new(level)?),
        };
        compressor.set_compression_level(level)?;
        compressor.compress(&framed)
    });
    page.extend(compressed.context("compressing a page of records")?);
    Ok(page)
}

/// zstd's level for the pages an import writes: its default, which at 1 M
/// members made a 1.36 GB store where level 1 made 1.42–1.54 GB, in the
/// same import time (writing is a quarter of it).
pub(crate) const RECORD_PAGE_ZSTD_LEVEL: i32 = 3;
/// For the few pages an ingest rewrites, where each request waits on them
/// (an event trigger's latency): level 1 compresses several times faster.
pub(crate) const INGESTED_PAGE_ZSTD_LEVEL: i32 = 1;

fn frame(ends: &[u32], bodies: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(4 + 4 * ends.len() + bodies.len());
    framed.extend_from_slice(&(ends.len() as u32).to_le_bytes());
    for end in ends {
        framed.extend_from_slice(&end.to_le_bytes());
    }
    framed.extend_from_slice(bodies);
    framed
}

/// [`encode_page`] for each page, on every core; in order.
pub(crate) fn encode_pages<D: Sync, T: Serialize>(
    pages: &[Vec<D>],
    entry: impl Fn(&D) -> T + Sync,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let encode = |page: &Vec<D>| encode_page(page.iter().map(&entry));
    parallel::in_order(pages.iter(), parallel::all_cores(), encode, Result::is_err).into_iter().collect()
}

const UNREADABLE: &str = "the store holds a page this version cannot read";

/// A decoded page (see [`encode_page`]).
pub(crate) struct Page {
    framed: Vec<u8>,
    count: usize,
}

impl Page {
    pub fn decode(bytes: &[u8]) -> anyhow::Result<Page> {
        Page::of_framed(lz4_flex::decompress_size_prepended(bytes).context(UNREADABLE)?)
    }

    /// A page of [`encode_bodies`].
    pub fn decode_records(bytes: &[u8]) -> anyhow::Result<Page> {
        let size = bytes.get(..4).context(UNREADABLE)?;
        let size = u32::from_le_bytes(size.try_into().expect("4 bytes")) as usize;
        thread_local! {
            static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
        }
        let framed = DECOMPRESSOR.with_borrow_mut(|decompressor| {
            let decompressor = match decompressor {
                Some(decompressor) => decompressor,
                None => decompressor.insert(zstd::bulk::Decompressor::new()?),
            };
            decompressor.decompress(&bytes[4..], size)
        });
        Page::of_framed(framed.context(UNREADABLE)?)
    }

    fn of_framed(framed: Vec<u8>) -> anyhow::Result<Page> {
        let unreadable = UNREADABLE;
        let count = framed.get(..4).map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize).context(unreadable)?;
        anyhow::ensure!(framed.len() >= 4 + 4 * count, unreadable);
        Ok(Page { framed, count })
    }

    fn end(&self, index: usize) -> usize {
        let at = 4 + 4 * index;
        u32::from_le_bytes(self.framed[at..at + 4].try_into().unwrap()) as usize
    }

    /// How many records the page holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Record `index`'s bytes.
    pub fn body(&self, index: usize) -> anyhow::Result<&[u8]> {
        anyhow::ensure!(index < self.count, "record {index} is not in a page of {}", self.count);
        let bodies = &self.framed[4 + 4 * self.count..];
        let start = if index == 0 { 0 } else { self.end(index - 1) };
        bodies.get(start..self.end(index)).context("a page's offsets are out of bounds")
    }

    pub fn get<T: PageRecord>(&self, index: usize) -> anyhow::Result<T> {
        T::from_body(self.body(index)?)
    }

    pub fn all<T: PageRecord>(&self) -> anyhow::Result<Vec<T>> {
        (0..self.count).map(|i| self.get(i)).collect()
    }
}

/// The in-memory indexes over the pages. Fx maps: every decision of a run is
/// looked up and added (a million on a busy day); keys are the host's own
/// idempotency keys and the brand's member ids.
#[derive(Default)]
pub(crate) struct Ledger {
    /// Every decision key recorded, and where. Boxed strings, as they never
    /// grow: a million of them on a busy day, every byte fresh memory.
    slots: FxHashMap<Box<str>, Slot>,
    by_member: FxHashMap<Box<str>, Vec<Slot>>,
    /// Pending outbox entries by channel, then by next attempt and place (no
    /// key copied): each channel is delivered at its own rate, so the
    /// dispatcher reads each channel's due entries on their own, and the
    /// backlog is counted per channel without reading an entry.
    due: FxHashMap<Box<str>, BTreeSet<(Millis, Slot)>>,
}

/// Where a channel's due entries were read up to: an entry's next attempt and place.
pub(crate) type DuePosition = (Millis, Slot);

impl Ledger {
    pub fn slot(&self, key: &str) -> Option<Slot> {
        self.slots.get(key).copied()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.slots.contains_key(key)
    }

    pub fn of_member(&self, member_id: &str) -> &[Slot] {
        self.by_member.get(member_id).map_or(&[], Vec::as_slice)
    }

    /// Room for `decisions` more keys, so a busy day's adds do not rehash
    /// the key index again and again. (Not the member index: most members
    /// decided today were decided before.)
    pub fn reserve(&mut self, decisions: usize) {
        self.slots.reserve(decisions);
    }

    /// Adds a recorded decision (its key, member and channel); `pending_at`:
    /// the next attempt of its outbox entry while that is pending.
    pub fn add(&mut self, slot: Slot, [key, member_id, channel]: [&str; 3], pending_at: Option<Millis>) {
        self.slots.insert(key.into(), slot);
        match self.by_member.get_mut(member_id) {
            Some(slots) => slots.push(slot),
            // Room for exactly one: most members have a decision or two.
            None => {
                self.by_member.insert(member_id.into(), vec![slot]);
            }
        }
        if let Some(at) = pending_at {
            self.channel_due(channel).insert((at, slot));
        }
    }

    /// A channel's due index, made on its first entry.
    fn channel_due(&mut self, channel: &str) -> &mut BTreeSet<(Millis, Slot)> {
        // Looked up before inserting: a busy day adds a million entries to a
        // handful of channels, and a key is boxed only for a new channel.
        if !self.due.contains_key(channel) {
            self.due.insert(channel.into(), BTreeSet::new());
        }
        self.due.get_mut(channel).expect("inserted above")
    }

    /// Keeps the due index in step with an outbox entry's new state:
    /// `pending_at`, its next attempt while it is pending.
    pub fn reschedule(&mut self, previous_next_attempt: Millis, key: &str, channel: &str, pending_at: Option<Millis>) {
        let Some(slot) = self.slot(key) else { return };
        let due = self.channel_due(channel);
        due.remove(&(previous_next_attempt, slot));
        if let Some(at) = pending_at {
            due.insert((at, slot));
        }
    }

    /// Where a channel's pending entries are, in order of next attempt:
    /// those after `after` if given, up to `until` (exclusive) if given.
    pub fn due(
        &self,
        channel: &str,
        after: Option<DuePosition>,
        until: Option<Millis>,
    ) -> impl Iterator<Item = DuePosition> + '_ {
        use std::ops::Bound;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let until = until.map_or(Bound::Unbounded, |at| Bound::Excluded((at, Slot { page: 0, index: 0 })));
        // An empty range when `after` is past `until` (BTreeSet::range would panic).
        let empty = matches!((from, until), (Bound::Excluded(a), Bound::Excluded(u)) if a >= u);
        self.due.get(channel).filter(|_| !empty).into_iter().flat_map(move |due| due.range((from, until)).copied())
    }

    /// The channels with pending entries, in name order.
    pub fn channels(&self) -> Vec<&str> {
        let mut channels: Vec<&str> =
            self.due.iter().filter(|(_, due)| !due.is_empty()).map(|(channel, _)| &**channel).collect();
        channels.sort_unstable();
        channels
    }

    pub fn pending(&self) -> usize {
        self.due.values().map(BTreeSet::len).sum()
    }
}
