//! The `record_pages` tree: what the brand imported, and the events the host
//! itself produced.
//!
//! - `rows/m/`, `rows/o/`, `rows/e/`, `rows/p/`, `rows/g/` followed by an
//!   id → a page of [`Member`]s, [`Order`]s, [`Event`]s, [`Product`]s or
//!   [`Guide`]s from that id on, in id order (see [`super::record_pages`]).
//!   Keyed by id, so importing a record again replaces it (see
//!   [`super::import`]); one tree with a prefix per kind, so an import
//!   writes all its kinds in one sled batch.
//! - `E/` followed by a page id (u64, big-endian) → a page of events the
//!   host produced (coupons issued by decisions), in the decision pages'
//!   format ([`super::ledger::encode_page`]): one insert per run instant,
//!   not one per coupon.
//! - `meta/import-in-progress` → the interrupted-import marker (see
//!   [`super::import`]).
//! - `meta/records-stamp` → a u64 written anew by every import that changes
//!   a record: with the last event page's key, the [`RecordsMark`] a copy
//!   of the records kept elsewhere (the member base's snapshot) is checked by.
//!
//! Reading the data set is most of a large brand's start-up, so the scans
//! run on every core over key ranges ([`key_ranges`]).

use std::collections::HashSet;
use std::ops::Bound;
use std::sync::MutexGuard;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::ledger::{self, Page};
use super::record_pages::{each_row, split_row, EVENT, GUIDE, MEMBER, ORDER, PRODUCT};
use super::{decode, Store};
use crate::model::{DataSet, Event, EventRef, Guide, Member, Order, Product};
use crate::parallel::{self, all_cores};

/// Pages of events the host produced (coupons issued), by page id.
const EVENT_PAGE: &[u8] = b"E/";
/// The stamp of the last import that changed a record (a sled id, big-endian).
pub(super) const RECORDS_STAMP: &[u8] = b"meta/records-stamp";
/// Key ranges a scan is split into, per core.
const RANGES_PER_CORE: usize = 32;

/// Where the store's records stood when they were read: a copy built
/// from them is current while no import changed a record since (the same
/// stamp); events the host recorded since are in the pages after
/// `pages_through` ([`Store::events_recorded_since`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsMark {
    stamp: u64,
    /// The key of the last page of host-produced events; empty: none yet.
    pages_through: Vec<u8>,
}

/// The records read in steps under one hold of the import lock.
pub struct RecordsRead<'s> {
    store: &'s Store,
    _no_import_midway: MutexGuard<'s, ()>,
}

impl RecordsRead<'_> {
    /// The members, orders, products and guides (no events: [`RecordsRead::events`]).
    pub fn all_but_events(&self) -> anyhow::Result<DataSet> {
        let store = self.store;
        Ok(DataSet {
            members: store.scan::<Member>(MEMBER)?,
            orders: store.scan::<Order>(ORDER)?,
            events: Vec::new(),
            products: store.scan::<Product>(PRODUCT)?,
            guides: store.scan::<Guide>(GUIDE)?,
        })
    }

    /// Every event, each handed to `add` borrowed from its record, none
    /// kept whole: the imported ones on all cores, into a fresh `start()`
    /// per key range, then the host's pages (an event a page written again
    /// after a crash repeats, once) into one more; the accumulators in that
    /// order. What a member base is built from at a large brand's start.
    pub fn events<A: Send>(
        &self,
        start: impl Fn() -> A + Sync,
        add: impl Fn(&mut A, EventRef<'_>) + Sync,
    ) -> anyhow::Result<Vec<A>> {
        let records = &self.store.records;
        let ranges = key_ranges(records, EVENT, RANGES_PER_CORE * all_cores())?;
        let read = |(from, to): &KeyRange| -> anyhow::Result<A> {
            let mut into = start();
            each_row(records.range((from.clone(), to.clone())).values(), |event| {
                add(
                    &mut into,
                    postcard::from_bytes(event).context("the store holds an event this version cannot read")?,
                );
                Ok(())
            })?;
            Ok(into)
        };
        let parts = parallel::in_order(ranges.iter(), all_cores(), read, Result::is_err);
        let mut parts = parts.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        let (mut produced, mut into) = (HashSet::new(), start());
        for page in records.scan_prefix(EVENT_PAGE).values() {
            for event in Page::decode(&page?)?.all::<Event>()? {
                if produced.insert(event.id.clone()) {
                    add(&mut into, event.as_ref());
                }
            }
        }
        parts.push(into);
        Ok(parts)
    }
}

/// A member as imported, with their orders and events, oldest first.
pub type MemberRecords = (Member, Vec<Order>, Vec<Event>);

impl Store {
    /// Everything imported so far; refused ([`super::ImportInterrupted`]) while an
    /// import stands interrupted. Waits for an import being written.
    pub fn dataset(&self) -> anyhow::Result<DataSet> {
        let read = self.read_records()?;
        let parts = read.events(Vec::new, |events: &mut Vec<Event>, e| events.push(e.to_event()))?;
        let events = parts.into_iter().flatten().collect();
        Ok(DataSet { events, ..read.all_but_events()? })
    }

    /// The records, to be read in steps with no import writing between
    /// them ([`Store::dataset`]'s refusals and wait).
    pub fn read_records(&self) -> anyhow::Result<RecordsRead<'_>> {
        let no_import_midway = self.import_lock.lock().expect("no import panicked holding the lock");
        self.check_import_complete()?;
        Ok(RecordsRead { store: self, _no_import_midway: no_import_midway })
    }

    /// Every record under `prefix`, in key order, read and decoded on all
    /// cores: a large brand's twenty million events are most of a start-up.
    /// The keys are split into many ranges, which the cores take in turn, so
    /// a range that holds more keys than its share (ids of varying length)
    /// does not leave a core idle.
    fn scan<T: DeserializeOwned + Send>(&self, prefix: &[u8]) -> anyhow::Result<Vec<T>> {
        let ranges = key_ranges(&self.records, prefix, RANGES_PER_CORE * all_cores())?;
        let read = |(from, to): &KeyRange| -> anyhow::Result<Vec<T>> {
            let mut records = Vec::new();
            each_row(self.records.range((from.clone(), to.clone())).values(), |record| {
                records.push(decode(record)?);
                Ok(())
            })?;
            Ok(records)
        };
        let parts = parallel::in_order(ranges.iter(), all_cores(), read, Result::is_err);
        let parts = parts.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        let mut records = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            records.extend(part);
        }
        Ok(records)
    }

    /// One member as imported, with their orders and events (imported, and
    /// the coupons the host issued them), oldest first; `None`: no such
    /// member. Orders and events are not indexed by member, so this scans
    /// them (on every core): fine for an operator looking one member up.
    pub fn member_records(&self, id: &str) -> anyhow::Result<Option<MemberRecords>> {
        let Some(row) = self.find_row(MEMBER, id)? else { return Ok(None) };
        let member: Member = decode(split_row(&row)?.1)?;
        let mut orders: Vec<Order> = self.scan::<Order>(ORDER)?.into_iter().filter(|o| o.member_id == id).collect();
        let mut events: Vec<Event> = self.scan::<Event>(EVENT)?.into_iter().filter(|e| e.member_id == id).collect();
        let mut produced = HashSet::new();
        for page in self.records.scan_prefix(EVENT_PAGE).values() {
            for event in Page::decode(&page?)?.all::<Event>()? {
                if event.member_id == id && produced.insert(event.id.clone()) {
                    events.push(event);
                }
            }
        }
        orders.sort_by(|a, b| (a.placed_at, &a.id).cmp(&(b.placed_at, &b.id)));
        events.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        Ok(Some((member, orders, events)))
    }

    /// Where the records stand now; `None` for a store no import of this
    /// version has written to (nothing to mark a copy by: build it afresh).
    /// Read it before the records a copy is built from: an import landing
    /// between the two makes the copy look older than it is, never newer.
    pub fn records_mark(&self) -> anyhow::Result<Option<RecordsMark>> {
        let Some(stamp) = self.records.get(RECORDS_STAMP)? else { return Ok(None) };
        let stamp = u64::from_be_bytes(stamp.as_ref().try_into().context("the records stamp is not 8 bytes")?);
        let last_page = self.records.scan_prefix(EVENT_PAGE).keys().next_back().transpose()?;
        Ok(Some(RecordsMark { stamp, pages_through: last_page.map_or_else(Vec::new, |k| k.to_vec()) }))
    }

    /// The events the host recorded after `mark` (a page written again
    /// after a crash may repeat some), and the mark now; `None` when an
    /// import changed records since: a copy as of `mark` is stale.
    pub fn events_recorded_since(&self, mark: &RecordsMark) -> anyhow::Result<Option<(Vec<Event>, RecordsMark)>> {
        let _no_import_midway = self.import_lock.lock().expect("no import panicked holding the lock");
        self.check_import_complete()?;
        let Some(now) = self.records_mark()? else { return Ok(None) };
        if now.stamp != mark.stamp {
            return Ok(None);
        }
        let mut events = Vec::new();
        if !now.pages_through.is_empty() {
            let from = match mark.pages_through.is_empty() {
                true => Bound::Included(EVENT_PAGE.to_vec()),
                false => Bound::Excluded(mark.pages_through.clone()),
            };
            for page in self.records.range((from, Bound::Included(now.pages_through.clone()))).values() {
                events.extend(Page::decode(&page?)?.all::<Event>()?);
            }
        }
        Ok(Some((events, now)))
    }

    /// Whether a member with this id was imported.
    pub fn has_member(&self, id: &str) -> anyhow::Result<bool> {
        Ok(self.find_row(MEMBER, id)?.is_some())
    }

    /// Records events the host itself produced (coupons issued by decisions),
    /// as one page. Written before the decisions they follow from: if the
    /// process dies between the two, the instant is decided again and the
    /// same events (same ids) are written again, which [`Store::dataset`] reads once.
    pub fn record_events(&self, events: &[Event]) -> anyhow::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut page_key = EVENT_PAGE.to_vec();
        page_key.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
        self.records.insert(page_key, ledger::encode_page(events)?).context("recording events")?;
        Ok(())
    }
}

/// A record's (a page's) key: its kind's prefix and its (first) id.
pub(super) fn key(prefix: &[u8], id: &str) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

/// A key range, as sled takes it.
type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Ranges, in key order, that together hold every key under `prefix` once:
/// at least `parts` when there are that many keys. They are split halfway
/// between keys read as numbers, so ids of one shape (sequential or random)
/// split about evenly; any split would be correct.
fn key_ranges(tree: &sled::Tree, prefix: &[u8], parts: usize) -> anyhow::Result<Vec<KeyRange>> {
    let mut keys = tree.scan_prefix(prefix).keys();
    let Some(first) = keys.next().transpose()? else { return Ok(Vec::new()) };
    let Some(last) = keys.next_back().transpose()? else {
        return Ok(vec![(Bound::Included(first.to_vec()), Bound::Included(first.to_vec()))]);
    };
    let mut splits = vec![first.to_vec(), last.to_vec()];
    while splits.len() <= parts {
        let halves: Vec<Vec<u8>> = splits.windows(2).map(|w| midpoint(&w[0], &w[1])).collect();
        let before = splits.len();
        splits.extend(halves);
        splits.sort_unstable();
        splits.dedup();
        if splits.len() == before {
            break; // no key lies between: fewer ranges than parts
        }
    }
    let last_range = splits.len() - 2;
    Ok(splits
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let end = if i == last_range { Bound::Included(w[1].clone()) } else { Bound::Excluded(w[1].clone()) };
            (Bound::Included(w[0].clone()), end)
        })
        .collect())
}

/// The key halfway between `a` and `b`, both read as big-endian numbers as
/// long as the longer one.
fn midpoint(a: &[u8], b: &[u8]) -> Vec<u8> {
    let len = a.len().max(b.len());
    let byte = |key: &[u8], i: usize| u32::from(key.get(i).copied().unwrap_or(0));
    let mut sum = vec![0u32; len];
    let mut carry = 0;
    for i in (0..len).rev() {
        let total = byte(a, i) + byte(b, i) + carry;
        sum[i] = total & 0xff;
        carry = total >> 8;
    }
    // Halve carry‖sum, from the most significant byte down.
    let mut rest = carry;
    sum.into_iter()
        .map(|digit| {
            let value = rest * 256 + digit;
            rest = value % 2;
            (value / 2) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scan reads its ranges side by side: together they must hold every
    /// record under the prefix once, in key order, whatever the ids' shape.
    #[test]
    fn key_ranges_hold_every_key_under_the_prefix_once_in_order() {
        let tree = sled::Config::new().temporary(true).open().unwrap().open_tree("records").unwrap();
        // Ids of varying length, as a brand's sequential ids are (E1 … E2345),
        // between the keys of the prefixes either side.
        let ids: Vec<String> = (1..=2345).map(|n| format!("E{n}")).collect();
        for id in &ids {
            tree.insert(key(EVENT, id), id.as_bytes()).unwrap();
        }
        tree.insert(b"d/x", "before").unwrap();
        tree.insert(b"f/x", "after").unwrap();
        tree.insert(key(ORDER, "O1"), "the only order").unwrap();
        let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
        expected.sort_unstable();

        let read = |prefix: &[u8], parts: usize| -> (usize, Vec<String>) {
            let ranges = key_ranges(&tree, prefix, parts).unwrap();
            let values = ranges
                .iter()
                .flat_map(|(from, to)| tree.range((from.clone(), to.clone())).values())
                .map(|v| String::from_utf8(v.unwrap().to_vec()).unwrap())
                .collect();
            (ranges.len(), values)
        };
        for parts in [1, 2, 3, 64, 10_000] {
            let (ranges, values) = read(EVENT, parts);
            assert_eq!(values, expected, "{parts} parts");
            assert!(ranges >= parts.min(2_000), "{parts} parts asked, {ranges} made");
        }
        assert_eq!(read(ORDER, 64), (1, vec!["the only order".to_string()]));
        assert_eq!(read(PRODUCT, 64), (0, vec![]));
        assert_eq!(midpoint(b"e/E00", b"e/E20"), b"e/E10");
        assert_eq!(midpoint(&[0x00, 0xff], &[0x01, 0x01, 0x07]), [0x01, 0x00, 0x03]);
    }
}
