//! Applying an import to the store, under a guard that a killed import
//! cannot lift by accident.
//!
//! Every row is checked before anything is written; the rows are then
//! written in batches of [`IMPORT_BATCH`] (one sled batch of millions of rows
//! takes tens of GB). While they are, a marker in the store says *which*
//! import is being written — the SHA-256 of its parsed records, where they
//! came from, when, how many — and an undo log keeps, for every record the
//! import overwrites, the value it had before (or that it had none). Each
//! batch's undo entries are flushed to disk before the batch is written,
//! and the batch before the next one's. The undo log is the `import_undo`
//! tree: a batch number (u64, big-endian) → that batch's record keys, each
//! with its value before or none (postcard); the marker is JSON at
//! `meta/import-in-progress` in the `records` tree, beside the records it
//! guards.
//!
//! If the process dies midway, the marker stands, and until it goes:
//! - runs are refused ([`Store::dataset`]): the data is half one import,
//!   half what was there before;
//! - an import of other data is refused — it would otherwise lift the guard
//!   while the interrupted import's records stay half written;
//! - the same import (same records, whatever the folder or request) goes on
//!   where it stopped and completes, counting new / changed / unchanged
//!   against the store as it was before the interrupted attempt;
//! - [`Store::discard_interrupted_import`] gives every record it wrote its
//!   earlier value back, removes those it added, and lifts the guard.

use std::collections::HashMap;

use anyhow::Context;
use serde::Serialize;

pub use super::marker::{Discarded, ImportInProgress, ImportInterrupted};
use super::records::{key, EVENT, GUIDE, MEMBER, ORDER, PRODUCT, RECORDS_STAMP};
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

/// One batch's entries in the undo log: each record key the batch writes,
/// with the value it had before the import (`None`: it had none). A batch
/// is one sled entry, keyed by its sequence number: an entry a row would
/// double the import's writes.
type UndoBatch = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Each record key in the undo log, with its value before the import.
type Priors = HashMap<Vec<u8>, Option<Vec<u8>>>;

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
        let completing = match self.marker()? {
            None => false,
            Some(Marker::Import(interrupted)) if interrupted.fingerprint == this.fingerprint => true,
            Some(marker) => {
                let interrupted = match marker {
                    Marker::Import(import) => Some(import),
                    Marker::Bare => None,
                };
                return Err(ImportInterrupted { interrupted, refused_import: Some(this.source) }.into());
            }
        };
        check_members_known(parsed, |id| Ok(self.records.contains_key(key(MEMBER, id))?))?;
        let data = &parsed.data;
        let rows = data.members.len() + data.orders.len() + data.events.len() + data.products.len() + data.guides.len();
        if !completing && rows as u64 <= IMPORT_BATCH {
            return self.import_at_once(data, progress);
        }
        let mut undo = if completing {
            Undo { priors: self.priors()?, next: self.undo.last()?.map_or(Ok(0), |(k, _)| batch_number(&k))? + 1 }
        } else {
            // Left over from an import that completed or was discarded.
            self.undo.clear().context("clearing the import undo log")?;
            let mut marker = sled::Batch::default();
            marker.insert(IMPORT_MARKER, serde_json::to_vec(&this)?);
            // Whatever this import changes, copies of the records are stale.
            marker.insert(RECORDS_STAMP, self.db.generate_id()?.to_be_bytes().to_vec());
            self.records.apply_batch(marker)?;
            self.db.flush().context("flushing the import marker")?;
            Undo { priors: HashMap::new(), next: 0 }
        };
        let u = &mut undo;
        let report = ImportReport {
            members: self.stage(MEMBER, RecordKind::Members, data.members.iter().map(|m| (&m.id, m)), u, progress)?,
            orders: self.stage(ORDER, RecordKind::Orders, data.orders.iter().map(|o| (&o.id, o)), u, progress)?,
            events: self.stage(EVENT, RecordKind::Events, data.events.iter().map(|e| (&e.id, e)), u, progress)?,
            products: self.stage(
                PRODUCT,
                RecordKind::Products,
                data.products.iter().map(|p| (&p.sku, p)),
                u,
                progress,
            )?,
            guides: self.stage(GUIDE, RecordKind::Guides, data.guides.iter().map(|g| (&g.id, g)), u, progress)?,
        };
        self.db.flush().context("flushing the import to disk")?;
        self.records.remove(IMPORT_MARKER)?;
        self.db.flush().context("flushing the import to disk")?;
        self.undo.clear().context("clearing the import undo log")?;
        Ok(report)
    }

    /// An import of at most [`IMPORT_BATCH`] rows (an API ingest, say) as
    /// one sled batch, which sled applies atomically: all or nothing without
    /// the marker and the undo log, and one flush instead of three.
    fn import_at_once(
        &self,
        data: &DataSet,
        progress: &mut dyn FnMut(RecordKind, u64, u64),
    ) -> anyhow::Result<ImportReport> {
        let mut batch = sled::Batch::default();
        let mut count = |prefix: &[u8], records: &mut dyn Iterator<Item = (&String, Vec<u8>)>| {
            let mut counts = ImportCounts::default();
            for (id, value) in records {
                counts.read += 1;
                let key = key(prefix, id);
                match self.records.get(&key)? {
                    Some(now) if now == value.as_slice() => counts.unchanged += 1,
                    before => {
                        *(if before.is_some() { &mut counts.changed } else { &mut counts.new }) += 1;
                        batch.insert(key, value);
                    }
                }
            }
            anyhow::Ok(counts)
        };
        let report = ImportReport {
            members: count(
                MEMBER,
                &mut data.members.iter().map(|m| (&m.id, postcard::to_stdvec(m).expect("encodes"))),
            )?,
            orders: count(ORDER, &mut data.orders.iter().map(|o| (&o.id, postcard::to_stdvec(o).expect("encodes"))))?,
            events: count(EVENT, &mut data.events.iter().map(|e| (&e.id, postcard::to_stdvec(e).expect("encodes"))))?,
            products: count(
                PRODUCT,
                &mut data.products.iter().map(|p| (&p.sku, postcard::to_stdvec(p).expect("encodes"))),
            )?,
            guides: count(GUIDE, &mut data.guides.iter().map(|g| (&g.id, postcard::to_stdvec(g).expect("encodes"))))?,
        };
        let all = [report.members, report.orders, report.events, report.products, report.guides];
        if all.iter().any(|counts| counts.new + counts.changed > 0) {
            batch.insert(RECORDS_STAMP, self.db.generate_id()?.to_be_bytes().to_vec());
        }
        self.records.apply_batch(batch).context("writing the import")?;
        self.db.flush().context("flushing the import to disk")?;
        for (kind, counts) in [
            (RecordKind::Members, report.members),
            (RecordKind::Orders, report.orders),
            (RecordKind::Events, report.events),
            (RecordKind::Products, report.products),
            (RecordKind::Guides, report.guides),
        ] {
            if counts.read > 0 {
                progress(kind, counts.read, counts.read);
            }
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

    /// Rolls back an interrupted import: every record it wrote gets the
    /// value it had before (one it added is removed), then the guard goes.
    /// `None` when no import stands interrupted. Safe to run again if it is
    /// itself interrupted: the undo log and the marker go last.
    pub fn discard_interrupted_import(&self) -> anyhow::Result<Option<Discarded>> {
        let _one_at_a_time = self.import_lock.lock().expect("no import panicked holding the lock");
        let Some(import) = self.interrupted_import()? else { return Ok(None) };
        let mut discarded = Discarded { import, restored: 0, removed: 0, untouched: 0 };
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        for (key, before) in self.undo_entries()? {
            let now = self.records.get(&key)?;
            match (before.as_deref(), now) {
                (before, now) if before == now.as_deref() => discarded.untouched += 1,
                (None, Some(_)) => {
                    batch.remove(key);
                    discarded.removed += 1;
                    pending += 1;
                }
                (Some(before), _) => {
                    batch.insert(key, before);
                    discarded.restored += 1;
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
        Ok(Some(discarded))
    }

    /// What [`Store::import`] followed by [`Store::dataset`] gives on an empty
    /// store, without writing it: the same checks, then each kind of record
    /// in key order with the last row of an id kept. For the simulation, which
    /// reads its data once and keeps nothing.
    pub fn dataset_of_import(parsed: ParsedImport) -> anyhow::Result<DataSet> {
        check_members_known(&parsed, |_| Ok(false))?;
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
    fn undo_entries(&self) -> anyhow::Result<UndoBatch> {
        let mut entries = Vec::new();
        for batch in self.undo.iter().values() {
            let batch: UndoBatch = postcard::from_bytes(&batch?).context("the import undo log is unreadable")?;
            entries.extend(batch);
        }
        Ok(entries)
    }

    /// The undo log as a map, for completing the import that wrote it.
    fn priors(&self) -> anyhow::Result<Priors> {
        Ok(self.undo_entries()?.into_iter().collect())
    }

    /// Counts and writes one kind of record, a batch at a time, each batch's
    /// undo entries on disk before it. Counts are against the store as it
    /// was before this import (before its interrupted attempt, when this
    /// completes one).
    fn stage<'a, T: Serialize + 'a>(
        &self,
        prefix: &[u8],
        kind: RecordKind,
        records: impl ExactSizeIterator<Item = (&'a String, &'a T)>,
        undo: &mut Undo,
        progress: &mut dyn FnMut(RecordKind, u64, u64),
    ) -> anyhow::Result<ImportCounts> {
        let total = records.len() as u64;
        let mut counts = ImportCounts::default();
        let (mut batch, mut saved) = (sled::Batch::default(), UndoBatch::new());
        let mut pending = 0;
        for (id, record) in records {
            counts.read += 1;
            let key = key(prefix, id);
            let value = postcard::to_stdvec(record)?;
            let now = self.records.get(&key)?;
            let earlier = undo.priors.get(&key);
            let before = earlier.map_or(now.as_deref(), Option::as_deref);
            match before {
                Some(before) if before == value.as_slice() => counts.unchanged += 1,
                Some(_) => counts.changed += 1,
                None => counts.new += 1,
            }
            if now.as_deref() == Some(value.as_slice()) {
                continue;
            }
            if earlier.is_none() {
                saved.push((key.clone(), now.map(|v| v.to_vec())));
            }
            batch.insert(key, value);
            pending += 1;
            if pending == IMPORT_BATCH {
                self.write_batch(undo, std::mem::take(&mut saved), std::mem::take(&mut batch))?;
                pending = 0;
                progress(kind, counts.read, total);
            }
        }
        self.write_batch(undo, saved, batch)?;
        if pending > 0 {
            progress(kind, total, total);
        }
        Ok(counts)
    }

    /// The undo entries, on disk, then the records they save the old
    /// values of (on disk with the next batch's undo entries, or at the end).
    fn write_batch(&self, undo: &mut Undo, saved: UndoBatch, batch: sled::Batch) -> anyhow::Result<()> {
        if !saved.is_empty() {
            self.undo.insert(undo.next.to_be_bytes(), postcard::to_stdvec(&saved)?).context("writing the undo log")?;
            undo.next += 1;
            self.db.flush().context("flushing the import undo log")?;
        }
        self.records.apply_batch(batch).context("writing the import")?;
        Ok(())
    }
}

/// The undo log as an import writes it.
struct Undo {
    /// What the interrupted import this one completes had saved.
    priors: Priors,
    /// The next batch's number.
    next: u64,
}

fn batch_number(key: &[u8]) -> anyhow::Result<u64> {
    Ok(u64::from_be_bytes(key.try_into().context("an undo log entry with a malformed key")?))
}

/// Refuses orders and events of a member neither in the import nor `in_store`.
fn check_members_known(parsed: &ParsedImport, in_store: impl Fn(&str) -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let incoming: std::collections::HashSet<&str> = parsed.data.members.iter().map(|m| m.id.as_str()).collect();
    let unknown = |member_id: &str| -> String {
        match parsed.source {
            ImportSource::Folder(_) => format!("member `{member_id}` is neither in {MEMBERS_CSV} nor in the store"),
            ImportSource::Request(_) => format!("member `{member_id}` is not in the store (send the member first)"),
        }
    };
    let mut errors = Vec::new();
    let d = &parsed.data;
    let member_ids = [
        (RecordKind::Orders, d.orders.iter().map(|o| o.member_id.as_str()).collect::<Vec<_>>()),
        (RecordKind::Events, d.events.iter().map(|e| e.member_id.as_str()).collect()),
    ];
    for (kind, ids) in member_ids {
        for (index, member_id) in ids.into_iter().enumerate() {
            if !incoming.contains(member_id) && !in_store(member_id)? {
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
