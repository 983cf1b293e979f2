//! Imported records in pages of a few hundred rows, in id order.
//!
//! `rows/m/`, `rows/o/`, `rows/e/`, `rows/p/`, `rows/g/` (members, orders,
//! events, products, guides) followed by the first id of a page → a page
//! ([`super::ledger::encode_bodies`], zstd) whose rows are each a record's
//! postcard, which starts with its id; ids ascending. A page holds the ids from its key up to
//! the next page's key; scanning the pages in key order reads the records in
//! id order, as one record per key did.
//!
//! Why pages: sled pays per key, in time and in space. A record per row made
//! a 1 M-member brand's 58 M rows an 11 GB store, written at 80 k rows/s and
//! slow to open; pages of 512 to 4,095 rows are one key per few hundred rows,
//! compressed (a kind's rows repeat its field names' values: channels,
//! stores, SKUs).
//!
//! Writing ([`Store::merge_rows`]): an import's rows of one kind, sorted by
//! id, are merged with the pages their ids fall in — each page read once, its
//! rows and the import's interleaved, written back in pages of
//! [`page_rows`] to twice that, and a page that no longer starts at its key
//! removed. Into an empty store that is one pass writing fresh pages. Only
//! pages with a new or changed row are written.
//!
//! Stores from before pages (a record per key under `m/`, `o/`, … in the
//! `records` tree) have their records moved into pages when opened
//! ([`Store::move_records_of_earlier_canvas`]).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Bound;

use anyhow::Context;
use serde::Serialize;
use sled::IVec;

use super::import::ImportCounts;
use super::ledger::{encode_bodies, Page, INGESTED_PAGE_ZSTD_LEVEL, RECORD_PAGE_ZSTD_LEVEL};
use super::records::key;
use super::Store;

pub(super) const MEMBER: &[u8] = b"rows/m/";
pub(super) const ORDER: &[u8] = b"rows/o/";
pub(super) const EVENT: &[u8] = b"rows/e/";
pub(super) const PRODUCT: &[u8] = b"rows/p/";
pub(super) const GUIDE: &[u8] = b"rows/g/";
/// Each kind's prefix before pages (one record per key, the record as the
/// value, in the `records` tree), and its pages' prefix now.
const ONE_RECORD_PER_KEY: [(&[u8], &[u8]); 5] =
    [(b"m/", MEMBER), (b"o/", ORDER), (b"e/", EVENT), (b"p/", PRODUCT), (b"g/", GUIDE)];
/// Rows a page of `prefix`'s kind is written with: a page holds from this
/// many up to twice as many less one (fewer when its kind has fewer).
/// Members are looked up one by one (an ingest's orders name theirs):
/// pages of ~40 KB. Orders and events are read whole; four times larger
/// pages compress a tenth smaller.
pub(super) fn page_rows(prefix: &[u8]) -> usize {
    if prefix == MEMBER {
        512
    } else {
        2048
    }
}
/// The tree an earlier canvas kept its records in, one per key.
pub(super) const EARLIER_RECORDS_TREE: &str = "records";
/// Records moved into pages per sled batch when opening an older store.
const MOVE_BATCH: usize = 200_000;

/// A sled key and its value.
type KeyValue = (IVec, IVec);

/// Each key an import changes, with its value before (`None`: it had none).
pub(super) type UndoBatch = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// A row as stored: the record's postcard, which starts with its id —
/// every kind's first field is its id (or SKU).
pub(super) fn row<T: Serialize>(id: &str, record: &T) -> Vec<u8> {
    let row = postcard::to_stdvec(record).expect("records encode");
    debug_assert!(split_row(&row).is_ok_and(|(first, _)| first == id), "a record's first field is its id");
    row
}

/// A stored row's id, and its record's bytes (the whole row).
pub(super) fn split_row(row: &[u8]) -> anyhow::Result<(&str, &[u8])> {
    let (id, _) =
        postcard::take_from_bytes::<&str>(row).context("the store holds a record this version cannot read")?;
    Ok((id, row))
}

/// The rows of every page in `pages`, in order, each handed to `each`.
pub(super) fn each_row(
    pages: impl Iterator<Item = sled::Result<IVec>>,
    mut each: impl FnMut(&[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for page in pages {
        let page = Page::decode_records(&page?)?;
        for index in 0..page.len() {
            each(split_row(page.body(index)?)?.1)?;
        }
    }
    Ok(())
}

/// Where merged pages go: one sled batch, and, for an import that can be
/// interrupted, each key's value before it (written to the undo log before
/// the batch; see [`super::import`]).
pub(super) struct PageSink<'s> {
    store: &'s Store,
    batch: sled::Batch,
    undo: Option<(UndoBatch, HashSet<Vec<u8>>)>,
    /// zstd's level for the pages.
    level: i32,
}

impl<'s> PageSink<'s> {
    pub fn new(store: &'s Store, keep_undo: bool) -> Self {
        let undo = keep_undo.then(Default::default);
        PageSink { store, batch: sled::Batch::default(), undo, level: RECORD_PAGE_ZSTD_LEVEL }
    }

    /// Pages compressed quickly: an ingest's few, which its request waits on.
    pub fn quick(mut self) -> Self {
        self.level = INGESTED_PAGE_ZSTD_LEVEL;
        self
    }

    fn put(&mut self, key: Vec<u8>, page: Vec<u8>) -> anyhow::Result<()> {
        self.save_before(&key)?;
        self.batch.insert(key, page);
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> anyhow::Result<()> {
        self.save_before(key)?;
        self.batch.remove(key);
        Ok(())
    }

    /// The first time this writing touches `key`, before any batch of it
    /// changed it: its value then.
    fn save_before(&mut self, key: &[u8]) -> anyhow::Result<()> {
        if let Some((saved, seen)) = &mut self.undo {
            if seen.insert(key.to_vec()) {
                saved.push((key.to_vec(), self.store.records.get(key)?.map(|v| v.to_vec())));
            }
        }
        Ok(())
    }

    pub fn insert_raw(&mut self, key: &[u8], value: Vec<u8>) {
        self.batch.insert(key, value);
    }

    /// The undo entries and the batch gathered since the last take.
    pub fn take(&mut self) -> (UndoBatch, sled::Batch) {
        let saved = self.undo.as_mut().map(|(saved, _)| std::mem::take(saved)).unwrap_or_default();
        (saved, std::mem::take(&mut self.batch))
    }
}

/// Rows on their way into pages of one page's range.
struct Pager<'p> {
    prefix: &'p [u8],
    /// The key of the page merged into, if any.
    old_key: Option<&'p [u8]>,
    rows: Vec<Cow<'p, [u8]>>,
    /// Whether a page was written at `old_key`.
    kept_key: bool,
}

impl<'p> Pager<'p> {
    fn push(&mut self, row: Cow<'p, [u8]>, sink: &mut PageSink<'_>) -> anyhow::Result<()> {
        self.rows.push(row);
        let page_rows = page_rows(self.prefix);
        if self.rows.len() == 2 * page_rows {
            self.write(page_rows, sink)?;
        }
        Ok(())
    }

    /// Writes the first `rows` rows as a page.
    fn write(&mut self, rows: usize, sink: &mut PageSink<'_>) -> anyhow::Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let key = key(self.prefix, split_row(&self.rows[0])?.0);
        self.kept_key |= self.old_key == Some(key.as_slice());
        let rows: Vec<_> = self.rows.drain(..rows).collect();
        let page = encode_bodies(rows.iter().map(|r| r.as_ref()), sink.level)?;
        sink.put(key, page)
    }

    fn write_all(&mut self, sink: &mut PageSink<'_>) -> anyhow::Result<()> {
        self.write(self.rows.len(), sink)
    }

    /// Writes the rest, and removes the page merged into unless a page was
    /// written at its key (none is when rows came before its first).
    fn finish(mut self, sink: &mut PageSink<'_>) -> anyhow::Result<()> {
        self.write_all(sink)?;
        match self.old_key.filter(|_| !self.kept_key) {
            Some(old_key) => sink.remove(old_key),
            None => Ok(()),
        }
    }
}

impl Store {
    /// Merges `rows` (indexes into an import's records of one kind, with
    /// their ids, sorted by id then index: the last row of an id wins) into
    /// the kind's pages through `sink`, counting each row against the store
    /// as it was. `boundary(sink, rows merged)` is called each time the rows
    /// merged pass a multiple of `batch_rows`, with the pages before that
    /// point in the sink.
    pub(super) fn merge_rows(
        &self,
        prefix: &[u8],
        rows: &[(&str, usize)],
        body: &dyn Fn(usize) -> Vec<u8>,
        batch_rows: usize,
        sink: &mut PageSink<'_>,
        boundary: &mut dyn FnMut(&mut PageSink<'_>, u64) -> anyhow::Result<()>,
    ) -> anyhow::Result<ImportCounts> {
        let mut counts = ImportCounts::default();
        let mut at = 0;
        while at < rows.len() {
            let (page, next) = self.page_around(prefix, rows[at].0)?;
            let end = match &next {
                None => rows.len(),
                Some(next) => at + rows[at..].partition_point(|r| r.0.as_bytes() < &next[prefix.len()..]),
            };
            let old_key = page.as_ref().map(|(k, _)| k.as_ref());
            let old_page = page.as_ref().map(|(_, v)| Page::decode_records(v)).transpose()?;
            let old_rows = match &old_page {
                Some(page) => (0..page.len()).map(|i| page.body(i)).collect::<anyhow::Result<Vec<_>>>()?,
                None => Vec::new(),
            };
            let mut pager = Pager { prefix, old_key, rows: Vec::new(), kept_key: false };
            let (mut old, mut changed) = (old_rows.iter().peekable(), false);
            while at < end {
                let id = rows[at].0;
                while let Some(row) = old.next_if(|row| split_row(row).is_ok_and(|(old_id, _)| old_id < id)) {
                    pager.push(Cow::Borrowed(row), sink)?;
                }
                let before = old.next_if(|row| split_row(row).is_ok_and(|(old_id, _)| old_id == id));
                let run_end = at + rows[at..end].partition_point(|r| r.0 == id);
                let mut last = Vec::new();
                for &(_, index) in &rows[at..run_end] {
                    last = body(index);
                    counts.read += 1;
                    match before {
                        Some(before) if **before == *last => counts.unchanged += 1,
                        Some(_) => counts.changed += 1,
                        None => counts.new += 1,
                    }
                }
                changed |= before.is_none_or(|before| **before != *last);
                pager.push(Cow::Owned(last), sink)?;
                let passed_boundary = at / batch_rows != run_end / batch_rows;
                at = run_end;
                if passed_boundary {
                    if changed {
                        pager.write_all(sink)?;
                    }
                    boundary(sink, at as u64)?;
                }
            }
            if changed {
                for row in old {
                    pager.push(Cow::Borrowed(row), sink)?;
                }
                pager.finish(sink)?;
            }
        }
        Ok(counts)
    }

    /// The page `id` falls in — the last whose key is at most the id's, else
    /// the kind's first page (which then starts later than the id) — and
    /// the key of the page after it.
    fn page_around(&self, prefix: &[u8], id: &str) -> anyhow::Result<(Option<KeyValue>, Option<IVec>)> {
        let of_kind = |pair: Option<sled::Result<KeyValue>>| -> anyhow::Result<Option<KeyValue>> {
            Ok(pair.transpose()?.filter(|(k, _)| k.starts_with(prefix)))
        };
        let at = key(prefix, id);
        let page = match of_kind(self.records.range(..=at.clone()).next_back())? {
            Some(page) => Some(page),
            None => of_kind(self.records.range(at..).next())?,
        };
        let next = match &page {
            Some((k, _)) => {
                of_kind(self.records.range((Bound::Excluded(k.to_vec()), Bound::Unbounded)).next())?.map(|(k, _)| k)
            }
            None => None,
        };
        Ok((page, next))
    }

    /// The stored row (see [`row`]) of the record with this id, if any.
    pub(super) fn find_row(&self, prefix: &[u8], id: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let mut finder = RowFinder::default();
        finder.find(self, prefix, id)
    }

    /// Moves the records of a store from before pages — the `records`
    /// tree, one record per key — into pages in this tree, copies its other
    /// keys (the host's event pages, the records stamp, an import marker)
    /// as they are, and drops it: sled removes a tree's nodes at once, where
    /// removing its tens of millions of keys one by one took an hour. If the
    /// move is interrupted, the old tree stands and the next opening moves
    /// it again from the start. An import interrupted under the earlier
    /// canvas is moved as the store was before it (its undo log's values),
    /// its marker kept: completing it writes it whole, discarding it lifts
    /// the marker.
    pub(super) fn move_records_of_earlier_canvas(&self) -> anyhow::Result<()> {
        if !self.db.tree_names().iter().any(|name| name == EARLIER_RECORDS_TREE.as_bytes()) {
            return Ok(());
        }
        let earlier = self.db.open_tree(EARLIER_RECORDS_TREE)?;
        if !earlier.is_empty() {
            tracing::info!(store = %self.path.display(), "moving the records of an earlier canvas into pages");
            self.records.clear().context("clearing the pages of an interrupted move")?;
            let before_import: HashMap<Vec<u8>, Option<Vec<u8>>> = self.undo_entries()?.into_iter().collect();
            let (mut copied, mut kind, mut rows) = (sled::Batch::default(), None, Vec::new());
            for pair in earlier.iter() {
                let (key, value) = pair?;
                let Some(&(before, prefix)) = ONE_RECORD_PER_KEY.iter().find(|(before, _)| key.starts_with(before))
                else {
                    copied.insert(key, value);
                    continue;
                };
                if kind != Some(prefix) || rows.len() == MOVE_BATCH {
                    self.write_moved(kind, &mut rows)?;
                    kind = Some(prefix);
                }
                let value = match before_import.get(key.as_ref()) {
                    Some(None) => continue, // added by the interrupted import
                    Some(Some(before)) => before.clone(),
                    None => value.to_vec(),
                };
                let id = std::str::from_utf8(&key[before.len()..]).context("a record key that is not UTF-8")?;
                anyhow::ensure!(split_row(&value)?.0 == id, "the record at {id} holds another id");
                rows.push(value);
            }
            self.write_moved(kind, &mut rows)?;
            self.records.apply_batch(copied).context("moving records into pages")?;
            self.db.flush().context("flushing the records moved into pages")?;
        }
        drop(earlier);
        self.db.drop_tree(EARLIER_RECORDS_TREE).context("dropping the earlier canvas's records")?;
        self.undo.clear().context("clearing the import undo log")?;
        self.db.flush().context("flushing the records moved into pages")?;
        Ok(())
    }

    /// Writes records moved from an earlier canvas's store, in id order, as `prefix`'s pages.
    fn write_moved(&self, prefix: Option<&[u8]>, rows: &mut Vec<Vec<u8>>) -> anyhow::Result<()> {
        let Some(prefix) = prefix.filter(|_| !rows.is_empty()) else { return Ok(()) };
        let ids: Vec<(&str, usize)> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| split_row(row).map(|(id, _)| (id, i)))
            .collect::<anyhow::Result<_>>()?;
        let mut sink = PageSink::new(self, false);
        self.merge_rows(prefix, &ids, &|i| rows[i].clone(), usize::MAX, &mut sink, &mut |_, _| Ok(()))?;
        self.records.apply_batch(sink.take().1).context("moving records into pages")?;
        tracing::info!(kind = %String::from_utf8_lossy(prefix), rows = rows.len(), "moved records into pages");
        rows.clear();
        Ok(())
    }
}

/// Looks records up by id, keeping the page read last: ids looked up in
/// order mostly fall in the same page.
#[derive(Default)]
pub(super) struct RowFinder {
    last: Option<(IVec, Page)>,
}

impl RowFinder {
    pub fn find(&mut self, store: &Store, prefix: &[u8], id: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let Some((page_key, value)) = store.records.range(..=key(prefix, id)).next_back().transpose()? else {
            return Ok(None);
        };
        if !page_key.starts_with(prefix) {
            return Ok(None);
        }
        if self.last.as_ref().is_none_or(|(k, _)| *k != page_key) {
            self.last = Some((page_key, Page::decode_records(&value)?));
        }
        let page = &self.last.as_ref().expect("just set").1;
        let (mut low, mut high) = (0, page.len());
        while low < high {
            let middle = (low + high) / 2;
            let row = page.body(middle)?;
            match split_row(row)?.0.cmp(id) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Ok(Some(row.to_vec())),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
#[path = "record_pages_tests.rs"]
mod tests;
