//! Applying an import to the store, under a guard that a killed import
//! cannot lift by accident.
//!
//! Every row is checked before anything is written; each kind's rows are
//! then merged into its pages ([`super::record_pages`]) and written in
//! batches of [`IMPORT_BATCH`] rows or a hundredth of the import, whichever
//! is more. While they are, a marker in the store says *which* import is
//! being written — the SHA-256 of its parsed records, where they came from,
//! when, how many — and an undo log keeps, for every page the import
//! writes or removes, the value it had before (or that it had none). Each
//! batch's undo entries are flushed to disk before the batch is written,
//! and the batch before the next one's. The undo log is the `import_undo`
//! tree: a batch number (u64, big-endian) → that batch's page keys, each
//! with its value before or none (postcard); the marker is JSON at
//! `meta/import-in-progress` in the `record_pages` tree, beside the records it
//! guards.
//!
//! If the process dies midway, the marker stands, and until it goes:
//! - runs are refused ([`Store::dataset`]): the data is half one import,
//!   half what was there before;
//! - an import of other data is refused — it would otherwise lift the guard
//!   while the interrupted import's records stay half written;
//! - the same import (same records, whatever the folder or request)
//!   completes: what the interrupted attempt wrote is rolled back, then the
//!   import is written whole, counting new / changed / unchanged against
//!   the store as it was before the interrupted attempt;
//! - [`Store::discard_interrupted_import`] gives every page it wrote its
//!   earlier value back, removes those it added, and lifts the guard.
//!
//! An import of at most [`IMPORT_BATCH`] rows (an API ingest) is one sled
//! batch instead, which sled applies atomically: no marker, no undo log.

use std::collections::{BTreeSet, HashSet};

use anyhow::Context;
use rustc_hash::FxHashSet;
use serde::Serialize;

pub use super::marker::{Discarded, ImportInProgress, ImportInterrupted};
use super::record_pages::{row, PageSink, RowFinder, UndoBatch, EVENT, GUIDE, MEMBER, ORDER, PRODUCT};
use super::records::RECORDS_STAMP;
use super::Store;
use crate::import::{ImportRefused, ImportSource, ParsedImport, RecordKind, MEMBERS_CSV};
use crate::model::DataSet;

/// Present while an import is being written: an [`ImportInProgress`] as JSON
/// (or, from canvas before the undo log, the bare text `in progress`).
const IMPORT_MARKER: &[u8] = b"meta/import-in-progress";
/// The undo log's tree: record key → its value before the import.
pub(super) const UNDO_TREE: &str = "import_undo";
/// Rows per sled batch when importing.
const IMPORT_BATCH: u64 = 20_000;

/// What an import did, per kind of record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Records in the import: `new + changed + unchanged`.
    pub read: u64,
    /// Records whose id the store did not hold.
    pub new: u64,
    /// Records whose id the store held with other values.
    pub changed: u64,
    /// Records the store already held exactly so.
    pub unchanged: u64,
}

/// What an import did, for each of the files. A completed interrupted
/// import counts against the store as it was before that import began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Of the member records (`members.csv`, or an ingest request's members).
    pub members: ImportCounts,
    /// Of the order records (`orders.csv`, or an ingest request's orders).
    pub orders: ImportCounts,
    /// Of the event records (`events.csv`, or an ingest request's events).
    pub events: ImportCounts,
    /// Of the product records (`products.csv`, or an ingest request's products).
    pub products: ImportCounts,
    /// Of the guide records (`guides.csv`, or an ingest request's guides).
    pub guides: ImportCounts,
}

impl ImportReport {
    /// Whether any record was new or changed: false when the same data was imported again.
    pub fn changed_anything(&self) -> bool {
        [self.members, self.orders, self.events, self.products, self.guides].iter().any(|c| c.new + c.changed > 0)
    }
}

/// What the marker says.
enum Marker {
    Import(ImportInProgress),
    /// Written by canvas before the undo log.
    Bare,
}

impl Store {
    /// Applies a parsed import atomically as far as the data goes: orders
    /// and events must belong to a member in this import or already in the
    /// store, else the import is refused ([`ImportRefused`]) and nothing
    /// changes. Re-importing the same rows changes nothing. While another
    /// import stands interrupted, only that same import is taken
    /// ([`ImportInterrupted`] otherwise); see the module doc.
    pub fn import(&self, parsed: &ParsedImport) -> anyhow::Result<ImportReport> {
        self.import_with_progress(parsed, &mut |_, _, _| {})
    }

    /// [`Store::import`], telling `progress` (kind, rows written so far, rows
    /// of that kind) after each batch is written.
    pub fn import_with_progress(
        &self,
        parsed: &ParsedImport,
        progress: &mut dyn FnMut(RecordKind, u64, u64),
    ) -> anyhow::Result<ImportReport> {
        let _one_at_a_time = self.import_lock.lock().expect("no import panicked holding the lock");
        let this = ImportInProgress::of(parsed, crate::model::now_millis())?;
        match self.marker()? {
            None => {}
            // The same import again: what the interrupted one wrote is rolled
            // back, and this one counts against the store as it was before.
            Some(Marker::Import(interrupted)) if interrupted.fingerprint == this.fingerprint => {
                self.roll_back()?;
            }
            Some(marker) => {
                let interrupted = match marker {
                    Marker::Import(import) => Some(import),
                    Marker::Bare => None,
                };
                return Err(ImportInterrupted { interrupted, refused_import: Some(this.source) }.into());
            }
        }
        check_members_known(parsed, |ids| self.members_in_store(ids))?;
        let data = &parsed.data;
        let rows = data.members.len() + data.orders.len() + data.events.len() + data.products.len() + data.guides.len();
        // An import of at most IMPORT_BATCH rows (an API ingest, say) is one
        // sled batch, which sled applies atomically: all or nothing without
        // the marker and the undo log, and one flush instead of three.
        let at_once = rows as u64 <= IMPORT_BATCH;
        if !at_once {
            // Left over from an import that completed or was discarded.
            self.undo.clear().context("clearing the import undo log")?;
            let mut marker = sled::Batch::default();
            marker.insert(IMPORT_MARKER, serde_json::to_vec(&this)?);
            // Whatever this import changes, copies of the records are stale.
            marker.insert(RECORDS_STAMP, self.db.generate_id()?.to_be_bytes().to_vec());
            self.records.apply_batch(marker)?;
            self.db.flush().context("flushing the import marker")?;
        }
        // A large import's batches grow with it: each costs a flush.
        let batch_rows = if at_once { usize::MAX } else { (IMPORT_BATCH as usize).max(rows / 100) };
        let sink = if at_once { PageSink::new(self, false).quick() } else { PageSink::new(self, true) };
        let mut writing = Writing { store: self, sink, next_undo: 0, batch_rows };
        let w = &mut writing;
        let report = ImportReport {
            members: w.kind(MEMBER, RecordKind::Members, &data.members, |m| &m.id, progress)?,
            orders: w.kind(ORDER, RecordKind::Orders, &data.orders, |o| &o.id, progress)?,
            events: w.kind(EVENT, RecordKind::Events, &data.events, |e| &e.id, progress)?,
            products: w.kind(PRODUCT, RecordKind::Products, &data.products, |p| &p.sku, progress)?,
            guides: w.kind(GUIDE, RecordKind::Guides, &data.guides, |g| &g.id, progress)?,
        };
        if at_once {
            if report.changed_anything() {
                writing.sink.insert_raw(RECORDS_STAMP, self.db.generate_id()?.to_be_bytes().to_vec());
            }
            self.records.apply_batch(writing.sink.take().1).context("writing the import")?;
            self.db.flush().context("flushing the import to disk")?;
        } else {
            self.db.flush().context("flushing the import to disk")?;
            self.records.remove(IMPORT_MARKER)?;
            self.db.flush().context("flushing the import to disk")?;
            self.undo.clear().context("clearing the import undo log")?;
        }
        Ok(report)
    }

    /// The interrupted import, if one stands: `Some(None)` for an earlier
    /// canvas's bare marker.
    pub fn interrupted_import(&self) -> anyhow::Result<Option<Option<ImportInProgress>>> {
        Ok(self.marker()?.map(|marker| match marker {
            Marker::Import(import) => Some(import),
            Marker::Bare => None,
        }))
    }

    fn marker(&self) -> anyhow::Result<Option<Marker>> {
        let Some(bytes) = self.records.get(IMPORT_MARKER)? else { return Ok(None) };
        Ok(Some(match serde_json::from_slice(&bytes) {
            Ok(import) => Marker::Import(import),
            Err(_) => Marker::Bare,
        }))
    }

    /// Refuses a store whose last import was interrupted.
    pub(super) fn check_import_complete(&self) -> anyhow::Result<()> {
        match self.interrupted_import()? {
            None => Ok(()),
            Some(interrupted) => Err(ImportInterrupted { interrupted, refused_import: None }.into()),
        }
    }

    /// Rolls back an interrupted import: every page of records it wrote
    /// gets the value it had before (one it added is removed), then the
    /// guard goes. `None` when no import stands interrupted. Safe to run
    /// again if it is itself interrupted: the undo log and the marker go last.
    pub fn discard_interrupted_import(&self) -> anyhow::Result<Option<Discarded>> {
        let _one_at_a_time = self.import_lock.lock().expect("no import panicked holding the lock");
        let Some(import) = self.interrupted_import()? else { return Ok(None) };
        let [restored, removed, untouched] = self.roll_back()?;
        Ok(Some(Discarded { import, restored, removed, untouched }))
    }

    /// [`Store::discard_interrupted_import`] under the import lock: how many
    /// keys got their value back, were removed, were as before.
    fn roll_back(&self) -> anyhow::Result<[u64; 3]> {
        let [mut restored, mut removed, mut untouched] = [0; 3];
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        for (key, before) in self.undo_entries()? {
            let now = self.records.get(&key)?;
            match (before.as_deref(), now) {
                (before, now) if before == now.as_deref() => untouched += 1,
                (None, Some(_)) => {
                    batch.remove(key);
                    removed += 1;
                    pending += 1;
                }
                (Some(before), _) => {
                    batch.insert(key, before);
                    restored += 1;
                    pending += 1;
                }
                (None, None) => unreachable!("equal, handled above"),
            }
            if pending == IMPORT_BATCH {
                self.records.apply_batch(std::mem::take(&mut batch)).context("rolling back the import")?;
                pending = 0;
            }
        }
        self.records.apply_batch(batch).context("rolling back the import")?;
        self.db.flush().context("flushing the rollback to disk")?;
        self.records.remove(IMPORT_MARKER)?;
        self.db.flush().context("flushing the rollback to disk")?;
        self.undo.clear().context("clearing the import undo log")?;
        Ok([restored, removed, untouched])
    }

    /// Which of `ids` (sorted) are members in the store.
    fn members_in_store<'i>(&self, ids: &BTreeSet<&'i str>) -> anyhow::Result<HashSet<&'i str>> {
        let mut finder = RowFinder::default();
        let mut found = HashSet::new();
        for &id in ids {
            if finder.find(self, MEMBER, id)?.is_some() {
                found.insert(id);
            }
        }
        Ok(found)
    }

    /// What [`Store::import`] followed by [`Store::dataset`] gives on an empty
    /// store, without writing it: the same checks, then each kind of record
    /// in key order with the last row of an id kept. For the simulation, which
    /// reads its data once and keeps nothing.
    pub fn dataset_of_import(parsed: ParsedImport) -> anyhow::Result<DataSet> {
        check_members_known(&parsed, |_| Ok(HashSet::new()))?;
        fn by_id<T>(records: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
            let mut keyed: std::collections::BTreeMap<String, T> = std::collections::BTreeMap::new();
            for record in records {
                keyed.insert(id(&record).to_string(), record);
            }
            keyed.into_values().collect()
        }
        let data = parsed.data;
        Ok(DataSet {
            members: by_id(data.members, |m| &m.id),
            orders: by_id(data.orders, |o| &o.id),
            events: by_id(data.events, |e| &e.id),
            products: by_id(data.products, |p| &p.sku),
            guides: by_id(data.guides, |g| &g.id),
        })
    }

    /// Every entry of the undo log, oldest first (a key is in it once).
    pub(super) fn undo_entries(&self) -> anyhow::Result<UndoBatch> {
        let mut entries = Vec::new();
        for batch in self.undo.iter().values() {
            let batch: UndoBatch = postcard::from_bytes(&batch?).context("the import undo log is unreadable")?;
            entries.extend(batch);
        }
        Ok(entries)
    }
}

/// An import being written: its pages in a sink, written a batch at a time
/// when the import can be interrupted (each batch's undo entries on disk
/// before it), else all at the end.
struct Writing<'s> {
    store: &'s Store,
    sink: PageSink<'s>,
    /// The next batch's number in the undo log.
    next_undo: u64,
    /// Rows per batch; `usize::MAX`: one batch, written by the caller.
    batch_rows: usize,
}

impl Writing<'_> {
    /// Counts and merges one kind of record into its pages, sorted by id
    /// on every core (the last row of an id wins, as written last).
    fn kind<T: Serialize + Sync>(
        &mut self,
        prefix: &[u8],
        kind: RecordKind,
        records: &[T],
        id: impl Fn(&T) -> &str + Sync,
        progress: &mut dyn FnMut(RecordKind, u64, u64),
    ) -> anyhow::Result<ImportCounts> {
        use rayon::slice::ParallelSliceMut;
        let total = records.len() as u64;
        let mut ids: Vec<(&str, usize)> = records.iter().enumerate().map(|(i, r)| (id(r), i)).collect();
        ids.par_sort_unstable();
        let body = |index: usize| row(id(&records[index]), &records[index]);
        let (store, batch_rows, one_batch) = (self.store, self.batch_rows, self.batch_rows == usize::MAX);
        let next_undo = &mut self.next_undo;
        let counts = store.merge_rows(prefix, &ids, &body, batch_rows, &mut self.sink, &mut |sink, done| {
            store.write_batch(next_undo, sink.take())?;
            progress(kind, done, total);
            Ok(())
        })?;
        if !one_batch {
            store.write_batch(next_undo, self.sink.take())?;
        }
        if total > 0 && (one_batch || !total.is_multiple_of(batch_rows as u64)) {
            progress(kind, total, total);
        }
        Ok(counts)
    }
}

impl Store {
    /// The undo entries, on disk, then the pages they save the old values
    /// of (on disk with the next batch's undo entries, or at the end).
    fn write_batch(&self, next_undo: &mut u64, (saved, batch): (UndoBatch, sled::Batch)) -> anyhow::Result<()> {
        if !saved.is_empty() {
            self.undo.insert(next_undo.to_be_bytes(), postcard::to_stdvec(&saved)?).context("writing the undo log")?;
            *next_undo += 1;
            self.db.flush().context("flushing the import undo log")?;
        }
        self.records.apply_batch(batch).context("writing the import")?;
        Ok(())
    }
}

/// Refuses orders and events of a member neither in the import nor
/// `in_store` (which of the ids asked, sorted, the store holds).
fn check_members_known<'p>(
    parsed: &'p ParsedImport,
    in_store: impl FnOnce(&BTreeSet<&'p str>) -> anyhow::Result<HashSet<&'p str>>,
) -> anyhow::Result<()> {
    let incoming: FxHashSet<&str> = parsed.data.members.iter().map(|m| m.id.as_str()).collect();
    let unknown = |member_id: &str| -> String {
        match parsed.source {
            ImportSource::Folder(_) => format!("member `{member_id}` is neither in {MEMBERS_CSV} nor in the store"),
            ImportSource::Request(_) => format!("member `{member_id}` is not in the store (send the member first)"),
        }
    };
    let d = &parsed.data;
    let member_ids = [
        (RecordKind::Orders, d.orders.iter().map(|o| o.member_id.as_str()).collect::<Vec<_>>()),
        (RecordKind::Events, d.events.iter().map(|e| e.member_id.as_str()).collect()),
    ];
    let elsewhere: BTreeSet<&str> =
        member_ids.iter().flat_map(|(_, ids)| ids.iter().copied()).filter(|id| !incoming.contains(id)).collect();
    let stored = if elsewhere.is_empty() { HashSet::new() } else { in_store(&elsewhere)? };
    let mut errors = Vec::new();
    for (kind, ids) in member_ids {
        for (index, member_id) in ids.into_iter().enumerate() {
            if !incoming.contains(member_id) && !stored.contains(member_id) {
                errors.push(parsed.error_at(kind, index, "member_id", unknown(member_id)));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ImportRefused { errors }.into())
    }
}
