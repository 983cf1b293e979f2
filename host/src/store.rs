//! The operator's store, in sled: imported records, decisions and runs.
//!
//! Imported records share one tree, keyed by a kind prefix and their id.
//! Decisions are written as pages of whole members (see [`ledger`]). Values
//! are postcard-encoded model records. Imports are written under a guard
//! and an undo log (see [`import`]).

mod import;
mod ledger;
mod marker;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::de::DeserializeOwned;

use crate::dispatch::{OutboxItem, OutboxState};
use crate::model::{DataSet, Decision, Event, Member, Order, Product, RunRecord};
use crate::parallel::{self, all_cores};
use import::UNDO_TREE;
pub use import::{Discarded, ImportCounts, ImportInProgress, ImportInterrupted, ImportReport};
pub(crate) use ledger::Slot;
use ledger::{Entry, EntryRef, Ledger, Page};

const MEMBER: &[u8] = b"m/";
const ORDER: &[u8] = b"o/";
const EVENT: &[u8] = b"e/";
const PRODUCT: &[u8] = b"p/";
/// Pages of events the host produced (coupons issued), by page id.
const EVENT_PAGE: &[u8] = b"E/";
/// Decisions per page when recording a run (whole members).
const RECORD_CHUNK: usize = 5_000;
/// Key ranges a scan is split into, per core.
const RANGES_PER_CORE: usize = 32;

/// Which outbox entries a run's decisions are recorded with.
#[derive(Clone, Copy, Debug)]
pub enum Queue<'a> {
    /// None: the decisions are only recorded.
    Nothing,
    /// One for each decision that is to be sent (dispatched now or deferred),
    /// made from it as [`OutboxItem::for_decision`] does — while the pages
    /// are encoded, on every core.
    ToBeSent,
    /// These entries, a caller's own (best in the decisions' order: then
    /// they are paired in one pass instead of by key).
    Entries(&'a [OutboxItem]),
}

pub struct Store {
    db: sled::Db,
    records: sled::Tree,
    /// The running or interrupted import's undo log (see [`import`]).
    undo: sled::Tree,
    /// One import at a time, and no read of the whole data set during one.
    import_lock: Mutex<()>,
    /// Decisions with their outbox entries, in pages by page id (see [`ledger`]).
    decision_pages: sled::Tree,
    runs: sled::Tree,
    /// An outbox entry's state since it was queued, by decision key (see dispatch::outbox).
    pub(crate) outbox_updates: sled::Tree,
    /// Indexes over the pages, built on first use.
    ledger: Mutex<Option<Ledger>>,
    last_page: Mutex<Option<(u64, Arc<Page>)>>,
    /// Installed plugins (see registry): entries by id, wasm and compiled code by SHA-256.
    pub(crate) plugins: sled::Tree,
    pub(crate) plugin_wasm: sled::Tree,
    pub(crate) plugin_compiled: sled::Tree,
}

impl Store {
    /// Opens (or creates) the store. Only one process may have it open: a
    /// second one is refused, so two runs can never interleave their writes.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        let db = sled::open(path).map_err(|e| match e {
            // sled says so in its message only (an `Other` I/O error).
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                anyhow::anyhow!("the store at {} is in use by another canvas process", path.display())
            }
            other => anyhow::Error::new(other).context(format!("cannot open the store at {}", path.display())),
        })?;
        // Stores before decision pages kept one record per decision there.
        if db.tree_names().iter().any(|name| name == b"decisions".as_slice()) && !db.open_tree("decisions")?.is_empty()
        {
            anyhow::bail!(
                "the store at {} was written by an earlier canvas (one record per decision); \
                 import the data into a new store",
                path.display()
            );
        }
        Ok(Store {
            records: db.open_tree("records")?,
            undo: db.open_tree(UNDO_TREE)?,
            import_lock: Mutex::new(()),
            decision_pages: db.open_tree("decision_pages")?,
            runs: db.open_tree("runs")?,
            outbox_updates: db.open_tree("outbox_updates")?,
            ledger: Mutex::new(None),
            last_page: Mutex::new(None),
            plugins: db.open_tree("plugins")?,
            plugin_wasm: db.open_tree("plugin_wasm")?,
            plugin_compiled: db.open_tree("plugin_compiled")?,
            db,
        })
    }

    /// Everything imported so far; refused ([`ImportInterrupted`]) while an
    /// import stands interrupted. Waits for an import being written.
    pub fn dataset(&self) -> anyhow::Result<DataSet> {
        let _no_import_midway = self.import_lock.lock().expect("no import panicked holding the lock");
        self.check_import_complete()?;
        let mut events = self.scan::<Event>(EVENT)?;
        let mut produced = HashSet::new();
        for page in self.records.scan_prefix(EVENT_PAGE).values() {
            for event in Page::decode(&page?)?.all::<Event>()? {
                // A page written again after a crash repeats its events.
                if produced.insert(event.id.clone()) {
                    events.push(event);
                }
            }
        }
        Ok(DataSet {
            members: self.scan::<Member>(MEMBER)?,
            orders: self.scan::<Order>(ORDER)?,
            events,
            products: self.scan::<Product>(PRODUCT)?,
        })
    }

    /// Every record under `prefix`, in key order, read and decoded on all
    /// cores: a large brand's twenty million events are most of a start-up.
    /// The keys are split into many ranges, which the cores take in turn, so
    /// a range that holds more keys than its share (ids of varying length)
    /// does not leave a core idle.
    fn scan<T: DeserializeOwned + Send>(&self, prefix: &[u8]) -> anyhow::Result<Vec<T>> {
        let ranges = key_ranges(&self.records, prefix, RANGES_PER_CORE * all_cores())?;
        let read = |(from, to): &KeyRange| -> anyhow::Result<Vec<T>> {
            self.records.range((from.clone(), to.clone())).values().map(|v| decode(&v?)).collect()
        };
        let parts = parallel::in_order(ranges.iter(), all_cores(), read, Result::is_err);
        let parts = parts.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        let mut records = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            records.extend(part);
        }
        Ok(records)
    }

    /// Keeps the decisions whose key is not recorded yet, in order, handing
    /// each recorded one to `decided` first. In place: a busy day's proposals
    /// are hundreds of MB, not worth copying to drop a few.
    pub fn retain_undecided(
        &self,
        proposals: &mut Vec<Decision>,
        mut decided: impl FnMut(&Decision),
    ) -> anyhow::Result<()> {
        self.with_ledger(|ledger| {
            proposals.retain(|d| {
                let recorded = ledger.contains(&d.key);
                if recorded {
                    decided(d);
                }
                !recorded
            })
        })
    }

    /// Records the decisions of a run instant and their outbox entries, as
    /// pages of about [`RECORD_CHUNK`] decisions of whole members (see
    /// [`ledger`]): a member's decisions and their outbox entries land all
    /// together or not at all. A crash between two pages leaves some members
    /// recorded: running the instant again decides the others, as recorded
    /// keys are never decided twice. A key that exists already is kept as it was.
    pub fn record_decisions(&self, decisions: &[Decision], queue: Queue<'_>) -> anyhow::Result<()> {
        let given = match queue {
            Queue::Entries(outbox) => queued_entries(decisions, outbox),
            Queue::Nothing | Queue::ToBeSent => vec![None; decisions.len()],
        };
        let make = matches!(queue, Queue::ToBeSent);
        let pending_at = |d: &Decision, given: Option<&OutboxItem>| {
            if make {
                OutboxItem::first_attempt_for(d)
            } else {
                given.map(|item| item.next_attempt_at)
            }
        };
        // Member by member, each member's in the order given. The governor
        // hands them over in member order already; sort only if not.
        let mut by_member: Vec<(&Decision, Option<&OutboxItem>)> = decisions.iter().zip(given).collect();
        if !by_member.is_sorted_by(|(a, _), (b, _)| a.member_id <= b.member_id) {
            by_member.sort_by(|(a, _), (b, _)| a.member_id.cmp(&b.member_id));
        }
        let mut guard = self.ledger_built()?;
        let ledger = guard.as_mut().expect("built above");
        ledger.reserve(by_member.len());
        let mut seen = FxHashSet::with_capacity_and_hasher(by_member.len(), Default::default());
        let mut pages: Vec<Vec<(&Decision, Option<&OutboxItem>)>> = vec![Vec::with_capacity(RECORD_CHUNK)];
        for (i, &(d, item)) in by_member.iter().enumerate() {
            let page = pages.last_mut().expect("there is always a page");
            if !ledger.contains(&d.key) && seen.insert(&d.key) {
                page.push((d, item));
            }
            let members_last = by_member.get(i + 1).is_none_or(|(next, _)| next.member_id != d.member_id);
            if members_last && page.len() >= RECORD_CHUNK {
                pages.push(Vec::with_capacity(RECORD_CHUNK));
            }
        }
        pages.retain(|page| !page.is_empty());
        let ids = pages.iter().map(|_| self.db.generate_id()).collect::<Result<Vec<u64>, _>>()?;
        // The indexes are kept in step on a thread of their own while the
        // pages are encoded (on every core, most of the work) and written in
        // order: a second of CPU each at a million decisions. Should a write
        // fail, the indexes are dropped and built again from the pages.
        let written = std::thread::scope(|scope| {
            let indexing = scope.spawn(|| {
                for (&page, decisions) in ids.iter().zip(&pages) {
                    for (index, &(d, given)) in decisions.iter().enumerate() {
                        ledger.add(Slot { page, index: index as u32 }, d, pending_at(d, given));
                    }
                }
            });
            let entry = |pair: &_| entry_of(pair, make);
            let written = ledger::encode_pages(&pages, entry).and_then(|encoded| {
                for (page, bytes) in ids.iter().zip(encoded) {
                    self.decision_pages.insert(page.to_be_bytes(), bytes).context("recording decisions")?;
                }
                Ok(())
            });
            indexing.join().expect("indexing decisions does not panic");
            written
        });
        if written.is_err() {
            *guard = None;
        }
        written
    }

    /// The ledger, built from the pages on first use.
    fn ledger_built(&self) -> anyhow::Result<std::sync::MutexGuard<'_, Option<Ledger>>> {
        let mut guard = self.ledger.lock().expect("the ledger lock is never poisoned");
        if guard.is_none() {
            *guard = Some(self.build_ledger(|_| {})?);
        }
        Ok(guard)
    }

    /// Runs `f` on the ledger's indexes, built from the pages on first use.
    pub(crate) fn with_ledger<R>(&self, f: impl FnOnce(&mut Ledger) -> R) -> anyhow::Result<R> {
        Ok(f(self.ledger_built()?.as_mut().expect("built on first use")))
    }

    /// Reads every page into the indexes, handing each decision to `each`.
    fn build_ledger(&self, mut each: impl FnMut(Decision)) -> anyhow::Result<Ledger> {
        let mut updated: HashMap<String, OutboxItem> = HashMap::new();
        for value in self.outbox_updates.iter().values() {
            let item: OutboxItem = decode(&value?)?;
            updated.insert(item.key.clone(), item);
        }
        let mut ledger = Ledger::default();
        for entry in self.decision_pages.iter() {
            let (page_key, bytes) = entry?;
            let page = page_id(&page_key)?;
            for (index, entry) in Page::decode(&bytes)?.all::<Entry>()?.into_iter().enumerate() {
                let current = updated.get(&entry.decision.key).or(entry.queued.as_ref());
                let pending_at =
                    current.filter(|item| item.state == OutboxState::Pending).map(|item| item.next_attempt_at);
                ledger.add(Slot { page, index: index as u32 }, &entry.decision, pending_at);
                each(entry.decision);
            }
        }
        Ok(ledger)
    }

    /// A page, decoded; the last one read is kept, as readers (the
    /// dispatcher, a member's history) tend to read one page many times.
    pub(crate) fn page(&self, id: u64) -> anyhow::Result<Arc<Page>> {
        let mut last = self.last_page.lock().expect("the page cache lock is never poisoned");
        if let Some((cached, page)) = last.as_ref() {
            if *cached == id {
                return Ok(page.clone());
            }
        }
        let bytes =
            self.decision_pages.get(id.to_be_bytes())?.with_context(|| format!("decision page {id} is missing"))?;
        let page = Arc::new(Page::decode(&bytes)?);
        *last = Some((id, page.clone()));
        Ok(page)
    }

    pub(crate) fn entry(&self, slot: Slot) -> anyhow::Result<Entry> {
        self.page(slot.page)?.get(slot.index as usize)
    }

    /// Every recorded entry, page by page.
    pub(crate) fn entries(&self) -> impl Iterator<Item = anyhow::Result<Entry>> + '_ {
        self.decision_pages.iter().values().flat_map(|bytes| {
            let page = bytes.map_err(anyhow::Error::from).and_then(|b| Page::decode(&b)).and_then(|p| p.all::<Entry>());
            match page {
                Ok(entries) => entries.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            }
        })
    }

    /// A member's decisions, by every strategy, in key order.
    pub fn decisions_of_member(&self, member_id: &str) -> anyhow::Result<Vec<Decision>> {
        let mut slots = self.with_ledger(|ledger| ledger.of_member(member_id).to_vec())?;
        slots.sort();
        let mut found =
            slots.into_iter().map(|slot| Ok(self.entry(slot)?.decision)).collect::<anyhow::Result<Vec<_>>>()?;
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    pub fn decision(&self, key: &str) -> anyhow::Result<Option<Decision>> {
        let slot = self.with_ledger(|ledger| ledger.slot(key))?;
        slot.map(|slot| Ok(self.entry(slot)?.decision)).transpose()
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

    /// Records a run; a second run of the same instant is kept beside the first.
    pub fn record_run(&self, run: &RunRecord) -> anyhow::Result<()> {
        let mut key = sortable(run.run_at).to_vec();
        key.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
        key.extend_from_slice(run.strategy.as_bytes());
        self.runs.insert(key, postcard::to_stdvec(run)?).context("recording a run")?;
        Ok(())
    }

    /// All decisions, in key order.
    pub fn decisions(&self) -> anyhow::Result<Vec<Decision>> {
        let mut all = Vec::new();
        let mut ledger = self.ledger.lock().expect("the ledger lock is never poisoned");
        match ledger.as_ref() {
            Some(_) => {
                for entry in self.entries() {
                    all.push(entry?.decision);
                }
            }
            // A runner reads them all at its start: build the indexes in the same pass.
            None => *ledger = Some(self.build_ledger(|d| all.push(d))?),
        }
        drop(ledger);
        all.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        Ok(all)
    }

    /// All runs, oldest first.
    pub fn runs(&self) -> anyhow::Result<Vec<RunRecord>> {
        self.runs.iter().values().map(|v| decode_run(&v?)).collect()
    }

    pub fn flush(&self) -> anyhow::Result<()> {
        self.db.flush().context("flushing the store")?;
        Ok(())
    }
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

fn key(prefix: &[u8], id: &str) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

/// What a page holds of a decision: with its entry made from it (`make`),
/// or with the one given.
fn entry_of<'a>(&(decision, given): &(&'a Decision, Option<&'a OutboxItem>), make: bool) -> EntryRef<'a> {
    let queued = if make { OutboxItem::for_decision(decision).map(Cow::Owned) } else { given.map(Cow::Borrowed) };
    EntryRef { decision, queued }
}

/// Each decision's outbox entry, if it has one. When `outbox` follows the
/// decisions' order, one pass of key comparisons pairs them; otherwise (a
/// caller's own order) they are found by key.
fn queued_entries<'a>(decisions: &[Decision], outbox: &'a [OutboxItem]) -> Vec<Option<&'a OutboxItem>> {
    let mut next = outbox.iter().peekable();
    let in_order: Vec<_> = decisions.iter().map(|d| next.next_if(|item| item.key == d.key)).collect();
    if next.peek().is_none() {
        return in_order;
    }
    let by_key: FxHashMap<&str, &OutboxItem> = outbox.iter().map(|item| (item.key.as_str(), item)).collect();
    decisions.iter().map(|d| by_key.get(d.key.as_str()).copied()).collect()
}

fn page_id(key: &[u8]) -> anyhow::Result<u64> {
    Ok(u64::from_be_bytes(key.try_into().context("a decision page with a malformed key")?))
}

/// Big-endian with the sign bit flipped, so byte order is numeric order.
pub(crate) fn sortable(at: i64) -> [u8; 8] {
    ((at as u64) ^ (1 << 63)).to_be_bytes()
}

/// A run record; one recorded before `held_back` or `failed_members` (its
/// last fields) were counted lacks their bytes, and reads them as 0.
fn decode_run(bytes: &[u8]) -> anyhow::Result<RunRecord> {
    postcard::from_bytes(bytes)
        .or_else(|_| postcard::from_bytes(&[bytes, &[0]].concat()))
        .or_else(|_| decode(&[bytes, &[0, 0]].concat()))
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    postcard::from_bytes(bytes).context("the store holds a record this version cannot read")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RunOutcome, RunTrigger};

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

    #[test]
    fn a_run_recorded_before_held_back_was_counted_reads_as_none_held_back() {
        let run = RunRecord {
            strategy: "group-buy-referral".into(),
            trigger: RunTrigger::Schedule,
            plugin_version: "0.1.0".into(),
            run_at: 1_772_330_400_000,
            day: 20_513,
            audience: 9,
            batches: 1,
            decisions: 9,
            already_decided: 0,
            fuel_used: 1_000,
            duration_micros: 10,
            outcome: RunOutcome::Completed,
            held_back: 0,
            failed_members: 0,
        };
        let bytes = postcard::to_stdvec(&run).unwrap();
        assert_eq!(decode_run(&bytes).unwrap(), run);
        let older = &bytes[..bytes.len() - 1];
        assert_eq!(decode_run(older).unwrap(), run);
        let oldest = &bytes[..bytes.len() - 2];
        assert_eq!(decode_run(oldest).unwrap(), run);
        let held = RunRecord { held_back: 300, ..run };
        assert_eq!(decode_run(&postcard::to_stdvec(&held).unwrap()).unwrap(), held);
    }
}
