//! The operator's store, in sled: imported records, decisions and runs.
//!
//! Imported records share one tree, keyed by a kind prefix and their id, so an
//! import is a single atomic sled batch: it lands whole or not at all.
//! Values are postcard-encoded model records.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;
use serde::{de::DeserializeOwned, Serialize};

use crate::import::{ImportRefused, ParsedImport, RowError, EVENTS_CSV, MEMBERS_CSV, ORDERS_CSV};
use crate::model::{DataSet, Decision, Event, Member, Order, Product, RunRecord};

const MEMBER: &[u8] = b"m/";
const ORDER: &[u8] = b"o/";
const EVENT: &[u8] = b"e/";
const PRODUCT: &[u8] = b"p/";

pub struct Store {
    db: sled::Db,
    records: sled::Tree,
    decisions: sled::Tree,
    runs: sled::Tree,
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
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        let db = sled::open(path).with_context(|| format!("cannot open the store at {}", path.display()))?;
        let records = db.open_tree("records")?;
        let decisions = db.open_tree("decisions")?;
        let runs = db.open_tree("runs")?;
        Ok(Store { db, records, decisions, runs })
    }

    /// Applies a parsed import atomically. Orders and events must belong to a
    /// member in this import or already in the store; otherwise the import is
    /// refused ([`ImportRefused`]) and nothing changes. Re-importing the same
    /// rows changes nothing.
    pub fn import(&self, parsed: &ParsedImport) -> anyhow::Result<ImportReport> {
        self.check_members_known(parsed)?;
        let mut batch = sled::Batch::default();
        let data = &parsed.data;
        let report = ImportReport {
            members: self.stage(&mut batch, MEMBER, data.members.iter().map(|m| (&m.id, m)))?,
            orders: self.stage(&mut batch, ORDER, data.orders.iter().map(|o| (&o.id, o)))?,
            events: self.stage(&mut batch, EVENT, data.events.iter().map(|e| (&e.id, e)))?,
            products: self.stage(&mut batch, PRODUCT, data.products.iter().map(|p| (&p.sku, p)))?,
        };
        self.records.apply_batch(batch).context("writing the import")?;
        self.db.flush().context("flushing the import to disk")?;
        Ok(report)
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

    fn stage<'a, T: Serialize + 'a>(
        &self,
        batch: &mut sled::Batch,
        prefix: &[u8],
        records: impl Iterator<Item = (&'a String, &'a T)>,
    ) -> anyhow::Result<ImportCounts> {
        let mut counts = ImportCounts::default();
        for (id, record) in records {
            counts.read += 1;
            let key = key(prefix, id);
            let value = postcard::to_stdvec(record)?;
            match self.records.get(&key)? {
                Some(existing) if existing == value.as_slice() => counts.unchanged += 1,
                Some(_) => counts.changed += 1,
                None => counts.new += 1,
            }
            batch.insert(key, value);
        }
        Ok(counts)
    }

    /// Everything imported so far.
    pub fn dataset(&self) -> anyhow::Result<DataSet> {
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

    /// Records decisions (one batch of one run) atomically.
    pub fn record_decisions(&self, decisions: &[Decision]) -> anyhow::Result<()> {
        let mut batch = sled::Batch::default();
        for d in decisions {
            batch.insert(decision_key(d), postcard::to_stdvec(d)?);
        }
        self.decisions.apply_batch(batch).context("recording decisions")?;
        Ok(())
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

    pub fn record_run(&self, run: &RunRecord) -> anyhow::Result<()> {
        let mut key = sortable(run.run_at).to_vec();
        key.extend_from_slice(run.strategy.as_bytes());
        self.runs.insert(key, postcard::to_stdvec(run)?).context("recording a run")?;
        Ok(())
    }

    /// All decisions, grouped by strategy and member, oldest first within each.
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

/// (strategy, member, run instant, step): one decision per step per run.
fn decision_key(d: &Decision) -> Vec<u8> {
    let mut key = Vec::with_capacity(d.strategy.len() + d.member_id.len() + d.step.len() + 10);
    key.extend_from_slice(d.strategy.as_bytes());
    key.push(0);
    key.extend_from_slice(d.member_id.as_bytes());
    key.push(0);
    key.extend_from_slice(&sortable(d.run_at));
    key.extend_from_slice(d.step.as_bytes());
    key
}

/// Big-endian with the sign bit flipped, so byte order is numeric order.
fn sortable(at: i64) -> [u8; 8] {
    ((at as u64) ^ (1 << 63)).to_be_bytes()
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    postcard::from_bytes(bytes).context("the store holds a record this version cannot read")
}
