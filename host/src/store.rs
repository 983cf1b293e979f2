//! The operator's store, in sled: imported records, decisions and runs.
//!
//! Imported records share one tree, keyed by a kind prefix and their id, so an
//! import is a single atomic sled batch: it lands whole or not at all.
//! Values are postcard-encoded model records.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use serde::{de::DeserializeOwned, Serialize};

use sled::Transactional;

use crate::dispatch::OutboxItem;
use crate::import::{ImportRefused, ParsedImport, RowError, EVENTS_CSV, MEMBERS_CSV, ORDERS_CSV};
use crate::model::{DataSet, Decision, Event, Member, Order, Product, RunRecord};

const MEMBER: &[u8] = b"m/";
const ORDER: &[u8] = b"o/";
const EVENT: &[u8] = b"e/";
const PRODUCT: &[u8] = b"p/";
/// Present while an import is being written (see [`Store::import`]).
const IMPORT_MARKER: &[u8] = b"meta/import-in-progress";
/// Decisions per sled transaction when recording a run (whole members).
const RECORD_CHUNK: usize = 5_000;
/// Rows per sled batch when importing.
const IMPORT_BATCH: u64 = 20_000;

pub struct Store {
    db: sled::Db,
    records: sled::Tree,
    decisions: sled::Tree,
    runs: sled::Tree,
    /// `member \0 decision key` → (), to find a member's decisions.
    decisions_by_member: sled::Tree,
    /// Touches to deliver, by decision key (see dispatch::outbox).
    pub(crate) outbox: sled::Tree,
    /// Pending outbox keys by when they are next due.
    pub(crate) outbox_due: sled::Tree,
    /// Installed plugins (see registry): entries by id, wasm and compiled code by SHA-256.
    pub(crate) plugins: sled::Tree,
    pub(crate) plugin_wasm: sled::Tree,
    pub(crate) plugin_compiled: sled::Tree,
}

/// What an import did, per kind of record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub read: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub members: ImportCounts,
    pub orders: ImportCounts,
    pub events: ImportCounts,
    pub products: ImportCounts,
}

impl ImportReport {
    pub fn changed_anything(&self) -> bool {
        [self.members, self.orders, self.events, self.products].iter().any(|c| c.new + c.changed > 0)
    }
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
        Ok(Store {
            records: db.open_tree("records")?,
            decisions: db.open_tree("decisions")?,
            runs: db.open_tree("runs")?,
            decisions_by_member: db.open_tree("decisions_by_member")?,
            outbox: db.open_tree("outbox")?,
            outbox_due: db.open_tree("outbox_due")?,
            plugins: db.open_tree("plugins")?,
            plugin_wasm: db.open_tree("plugin_wasm")?,
            plugin_compiled: db.open_tree("plugin_compiled")?,
            db,
        })
    }

    /// Applies a parsed import atomically. Orders and events must belong to a
    /// member in this import or already in the store; otherwise the import is
    /// refused ([`ImportRefused`]) and nothing changes. Re-importing the same
    /// rows changes nothing.
    ///
    /// Every row is checked before anything is written. The rows are then
    /// written in batches of [`IMPORT_BATCH`] (one sled batch of millions of
    /// rows takes tens of GB), under a marker: if the process dies midway,
    /// the store refuses runs until the same import is run again, which
    /// completes it (records are keyed by id, so a re-import is idempotent).
    pub fn import(&self, parsed: &ParsedImport) -> anyhow::Result<ImportReport> {
        self.check_members_known(parsed)?;
        let data = &parsed.data;
        self.records.insert(IMPORT_MARKER, b"in progress".as_slice())?;
        self.db.flush().context("flushing the import marker")?;
        let report = ImportReport {
            members: self.stage(MEMBER, data.members.iter().map(|m| (&m.id, m)))?,
            orders: self.stage(ORDER, data.orders.iter().map(|o| (&o.id, o)))?,
            events: self.stage(EVENT, data.events.iter().map(|e| (&e.id, e)))?,
            products: self.stage(PRODUCT, data.products.iter().map(|p| (&p.sku, p)))?,
        };
        self.db.flush().context("flushing the import to disk")?;
        self.records.remove(IMPORT_MARKER)?;
        self.db.flush().context("flushing the import to disk")?;
        Ok(report)
    }

    /// Refuses a store whose last import was interrupted.
    fn check_import_complete(&self) -> anyhow::Result<()> {
        if self.records.contains_key(IMPORT_MARKER)? {
            anyhow::bail!(
                "an import into this store was interrupted; run the same `canvas import` again to complete it"
            );
        }
        Ok(())
    }

    fn check_members_known(&self, parsed: &ParsedImport) -> anyhow::Result<()> {
        let incoming: HashSet<&str> = parsed.data.members.iter().map(|m| m.id.as_str()).collect();
        let mut errors = Vec::new();
        let mut check = |file: &str, line: u64, member_id: &str| -> anyhow::Result<()> {
            if !incoming.contains(member_id) && !self.records.contains_key(key(MEMBER, member_id))? {
                let message = format!("member `{member_id}` is neither in {MEMBERS_CSV} nor in the store");
                let column = Some((2, "member_id".to_string()));
                errors.push(RowError { file: file.to_string(), line, column, message });
            }
            Ok(())
        };
        for (order, &line) in parsed.data.orders.iter().zip(&parsed.lines.orders) {
            check(ORDERS_CSV, line, &order.member_id)?;
        }
        for (event, &line) in parsed.data.events.iter().zip(&parsed.lines.events) {
            check(EVENTS_CSV, line, &event.member_id)?;
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ImportRefused { errors }.into())
        }
    }

    /// Counts and writes one kind of record, a batch at a time.
    fn stage<'a, T: Serialize + 'a>(
        &self,
        prefix: &[u8],
        records: impl Iterator<Item = (&'a String, &'a T)>,
    ) -> anyhow::Result<ImportCounts> {
        let mut counts = ImportCounts::default();
        let mut batch = sled::Batch::default();
        for (id, record) in records {
            counts.read += 1;
            let key = key(prefix, id);
            let value = postcard::to_stdvec(record)?;
            match self.records.get(&key)? {
                Some(existing) if existing == value.as_slice() => {
                    counts.unchanged += 1;
                    continue;
                }
                Some(_) => counts.changed += 1,
                None => counts.new += 1,
            }
            batch.insert(key, value);
            if (counts.new + counts.changed) % IMPORT_BATCH == 0 {
                self.records.apply_batch(std::mem::take(&mut batch)).context("writing the import")?;
            }
        }
        self.records.apply_batch(batch).context("writing the import")?;
        Ok(counts)
    }

    /// Everything imported so far.
    pub fn dataset(&self) -> anyhow::Result<DataSet> {
        self.check_import_complete()?;
        Ok(DataSet {
            members: self.scan::<Member>(MEMBER)?,
            orders: self.scan::<Order>(ORDER)?,
            events: self.scan::<Event>(EVENT)?,
            products: self.scan::<Product>(PRODUCT)?,
        })
    }

    fn scan<T: DeserializeOwned>(&self, prefix: &[u8]) -> anyhow::Result<Vec<T>> {
        self.records.scan_prefix(prefix).values().map(|v| decode(&v?)).collect()
    }

    /// Whether a decision with this idempotency key exists.
    pub fn has_decision(&self, key: &str) -> anyhow::Result<bool> {
        Ok(self.decisions.contains_key(key.as_bytes())?)
    }

    /// Records the decisions of a run instant and their outbox entries. A
    /// member's decisions and their outbox entries are written in one
    /// transaction — all of them or none — in transactions of about
    /// [`RECORD_CHUNK`] decisions (one sled transaction of a million decisions
    /// takes minutes and tens of GB). A crash between two of them leaves some
    /// members recorded: running the instant again decides the others, as the
    /// recorded keys are never decided twice. A key that exists already is
    /// kept as it was.
    pub fn record_decisions(&self, decisions: &[Decision], outbox: &[OutboxItem]) -> anyhow::Result<()> {
        let mut by_member: BTreeMap<&str, Vec<&Decision>> = BTreeMap::new();
        for d in decisions {
            by_member.entry(d.member_id.as_str()).or_default().push(d);
        }
        let queued: HashMap<&str, &OutboxItem> = outbox.iter().map(|item| (item.key.as_str(), item)).collect();
        let mut chunk: Vec<&Decision> = Vec::with_capacity(RECORD_CHUNK);
        for (_, members_decisions) in by_member {
            chunk.extend(members_decisions);
            if chunk.len() >= RECORD_CHUNK {
                self.record_chunk(&chunk, &queued)?;
                chunk.clear();
            }
        }
        self.record_chunk(&chunk, &queued)
    }

    fn record_chunk(&self, decisions: &[&Decision], outbox: &HashMap<&str, &OutboxItem>) -> anyhow::Result<()> {
        let encoded: Vec<(&str, Vec<u8>)> =
            decisions.iter().map(|d| Ok((d.key.as_str(), postcard::to_stdvec(d)?))).collect::<anyhow::Result<_>>()?;
        let queued: Vec<(&str, Vec<u8>, Vec<u8>)> = decisions
            .iter()
            .filter_map(|d| outbox.get(d.key.as_str()))
            .map(|item| Ok((item.key.as_str(), postcard::to_stdvec(item)?, due_key(item.next_attempt_at, &item.key))))
            .collect::<anyhow::Result<_>>()?;
        let by_member: Vec<Vec<u8>> = decisions.iter().map(|d| member_key(&d.member_id, &d.key)).collect();
        (&self.decisions, &self.decisions_by_member, &self.outbox, &self.outbox_due)
            .transaction(|(decisions, members, outbox, due)| {
                let mut fresh = HashSet::new();
                for ((key, value), member_key) in encoded.iter().zip(&by_member) {
                    if decisions.get(key.as_bytes())?.is_none() {
                        decisions.insert(key.as_bytes(), value.as_slice())?;
                        members.insert(member_key.as_slice(), &[])?;
                        fresh.insert(*key);
                    }
                }
                for (key, value, due_at) in &queued {
                    if fresh.contains(key) {
                        outbox.insert(key.as_bytes(), value.as_slice())?;
                        due.insert(due_at.as_slice(), key.as_bytes())?;
                    }
                }
                Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| anyhow::anyhow!("recording decisions: {e:?}"))?;
        Ok(())
    }

    /// A member's decisions, by every strategy, in key order.
    pub fn decisions_of_member(&self, member_id: &str) -> anyhow::Result<Vec<Decision>> {
        let prefix = member_key(member_id, "");
        let mut found = Vec::new();
        for entry in self.decisions_by_member.scan_prefix(&prefix) {
            let (k, _) = entry?;
            let key = std::str::from_utf8(&k[prefix.len()..])?;
            if let Some(d) = self.decision(key)? {
                found.push(d);
            }
        }
        Ok(found)
    }

    pub fn decision(&self, key: &str) -> anyhow::Result<Option<Decision>> {
        self.decisions.get(key.as_bytes())?.map(|v| decode(&v)).transpose()
    }

    /// Records events the host itself produced (coupons issued by decisions).
    pub fn record_events(&self, events: &[Event]) -> anyhow::Result<()> {
        let mut batch = sled::Batch::default();
        for e in events {
            batch.insert(key(EVENT, &e.id), postcard::to_stdvec(e)?);
        }
        self.records.apply_batch(batch).context("recording events")?;
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
        self.decisions.iter().values().map(|v| decode(&v?)).collect()
    }

    /// All runs, oldest first.
    pub fn runs(&self) -> anyhow::Result<Vec<RunRecord>> {
        self.runs.iter().values().map(|v| decode(&v?)).collect()
    }

    pub fn flush(&self) -> anyhow::Result<()> {
        self.db.flush().context("flushing the store")?;
        Ok(())
    }
}

fn key(prefix: &[u8], id: &str) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

fn member_key(member_id: &str, key: &str) -> Vec<u8> {
    let mut k = member_id.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

/// An outbox entry's place in the due index: when, then which.
pub(crate) fn due_key(at: i64, key: &str) -> Vec<u8> {
    let mut k = sortable(at).to_vec();
    k.extend_from_slice(key.as_bytes());
    k
}

/// Big-endian with the sign bit flipped, so byte order is numeric order.
pub(crate) fn sortable(at: i64) -> [u8; 8] {
    ((at as u64) ^ (1 << 63)).to_be_bytes()
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    postcard::from_bytes(bytes).context("the store holds a record this version cannot read")
}
