//! The operator's store, in sled: one tree per kind of thing kept, one file
//! here per tree (the tree's key and value format, and why, are in its
//! file's docs).
//!
//! | tree | key → value | file |
//! |---|---|---|
//! | `record_pages` | `rows/m/`, `rows/o/`, `rows/e/`, `rows/p/`, `rows/g/` + first id → a page of members, orders, events, products, guides; `E/` + page id → a page of events the host produced; the interrupted-import marker | [`records`], [`import`] |
//! | `import_undo` | batch number → what the running import overwrote | [`import`] |
//! | `decision_pages` | page id → a page of decisions of whole members, each with its outbox entry as queued | [`decisions`], [`ledger`] |
//! | `outbox_updates` | decision key → its outbox entry's state since it was queued | [`outbox`] |
//! | `runs` | run instant, id, strategy → a run record (postcard) | [`runs`] |
//! | `plugins`, `plugin_wasm`, `plugin_compiled` | plugin id → its registry entry (JSON); SHA-256 → a build's bytes, its compiled code | [`plugins`] |
//! | `audit` | instant, id → an operator's change, who, before → after (JSON) | [`audit`] |
//! | `triggers`, `trigger_tallies` | due instant, strategy, event id → a firing waiting (postcard); day, strategy → the day's firings tallied as a run record | [`triggers`] |
//! | (default tree) | `compaction` → the latest compaction of old decisions (JSON) | [`compaction`] |
//! | (file `serve.json`) | where the service holding the store listens | [`holder`] |
//!
//! Values are postcard (JSON for the few small ones people may read: plugin
//! entries, the import marker, the audit log). Postcard is neither self-describing nor
//! versioned: a type kept here is its on-disk format, field for field, and
//! changes only in ways the readers here still decode (see [`runs`] for one
//! that grew). The types the store holds are defined with their tree (the
//! outbox entry, the plugin entry), so the store imports none of the
//! modules that use it: dispatch, the registry, the runner.

mod audit;
mod compaction;
mod decisions;
mod holder;
mod import;
mod ledger;
mod marker;
mod outbox;
mod outbox_entry;
mod plugins;
mod record_pages;
mod records;
mod runs;
mod triggers;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use serde::de::DeserializeOwned;

pub use audit::AuditEntry;
pub use compaction::{CompactedAway, Compaction};
pub use decisions::Queue;
pub use holder::{ServiceAddress, StoreInUse, SERVICE_FILE};
use import::UNDO_TREE;
pub use import::{Discarded, ImportCounts, ImportInProgress, ImportInterrupted, ImportReport};
use ledger::{Ledger, Page};
pub use outbox::{DueCursor, PendingCount};
pub use outbox_entry::{OutboxItem, OutboxState};
pub use plugins::{InstalledVersion, PluginEntry};
pub use records::{RecordsMark, RecordsRead};
pub use triggers::{Cancel, Firing};

/// How long opening a store waits for a lock that is being let go (see
/// [`Store::open`]), in this many tries.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);
const LOCK_PATIENCE_TRIES: u32 = 20;
/// sled's page cache. Its default, 1 GiB, was most of a `canvas run`'s
/// memory beside the member base: the store is read in full once (the
/// load), written in pages, and not read at random, so a cache the size of
/// the working pages serves as well.
const SLED_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// The operator's store: a sled database with a tree per kind of thing kept.
/// One process at a time; within it, shared by reference (or `Arc`).
pub struct Store {
    db: sled::Db,
    /// The store's folder (where the service leaves its address: [`holder`]).
    path: PathBuf,
    /// Imported records and the host's own events (see [`records`]).
    records: sled::Tree,
    /// The running or interrupted import's undo log (see [`import`]).
    undo: sled::Tree,
    /// One import at a time, and no read of the whole data set during one.
    import_lock: Mutex<()>,
    /// Decisions with their outbox entries, in pages by page id (see [`decisions`]).
    decision_pages: sled::Tree,
    /// Run records (see [`runs`]).
    runs: sled::Tree,
    /// An outbox entry's state since it was queued, by decision key (see [`outbox`]).
    outbox_updates: sled::Tree,
    /// Indexes over the pages, built on first use (see [`ledger`]).
    ledger: Mutex<Option<Ledger>>,
    /// The page read last, decoded (see [`Store::page`]).
    last_page: Mutex<Option<(u64, Arc<Page>)>>,
    /// Installed plugins (see [`plugins`]): entries by id, wasm and compiled code by SHA-256.
    plugins: sled::Tree,
    plugin_wasm: sled::Tree,
    plugin_compiled: sled::Tree,
    /// What operators changed (see [`audit`]).
    audit: sled::Tree,
    /// Trigger firings waiting for their instant, and the days' tallies (see [`triggers`]).
    triggers: sled::Tree,
    trigger_tallies: sled::Tree,
}

impl Store {
    /// Opens a store that exists: every command but `canvas import` and
    /// `canvas init`, so one run in the wrong folder says so instead of
    /// working on a new, empty store.
    pub fn open_existing(path: &Path) -> anyhow::Result<Store> {
        // sled keeps its settings in `conf`: a folder without it is no store.
        if !path.join("conf").is_file() {
            anyhow::bail!(
                "there is no store at {}: `canvas import --data DIR` or `canvas init` creates one; \
                 name another with --store DIR or `store =` in the canvas config",
                path.display()
            );
        }
        Store::open(path)
    }

    /// Opens (or creates) the store. Only one process may have it open: a
    /// second one is refused, so two runs can never interleave their writes.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        // sled says so in its message only (an `Other` I/O error).
        let locked =
            |e: &sled::Error| matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"));
        let open = || sled::Config::new().path(path).cache_capacity(SLED_CACHE_BYTES).open();
        let mut opened = open();
        // A store closed a moment ago in this process (a restart, a command
        // run after an import) is let go by sled's background threads a
        // little after the handle drops: wait that out before saying "in use".
        for _ in 0..LOCK_PATIENCE_TRIES {
            match &opened {
                Err(e) if locked(e) => std::thread::sleep(LOCK_PATIENCE / LOCK_PATIENCE_TRIES),
                _ => break,
            }
            opened = open();
        }
        let db = opened.map_err(|e| match e {
            e if locked(&e) => {
                anyhow::Error::new(StoreInUse { path: path.to_path_buf(), service: holder::service_holding(path) })
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
        let store = Store {
            records: db.open_tree("record_pages")?,
            undo: db.open_tree(UNDO_TREE)?,
            import_lock: Mutex::new(()),
            decision_pages: db.open_tree("decision_pages")?,
            runs: db.open_tree("runs")?,
            outbox_updates: db.open_tree("outbox_updates")?,
            ledger: Mutex::new(None),
            last_page: Mutex::new(None),
            audit: db.open_tree("audit")?,
            plugins: db.open_tree("plugins")?,
            plugin_wasm: db.open_tree("plugin_wasm")?,
            plugin_compiled: db.open_tree("plugin_compiled")?,
            triggers: db.open_tree("triggers")?,
            trigger_tallies: db.open_tree("trigger_tallies")?,
            db,
            path: path.to_path_buf(),
        };
        store.move_records_of_earlier_canvas()?;
        Ok(store)
    }

    /// The store's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SHA-256 over everything the store holds — every tree's name, and
    /// every key and value in it, in order: equal digests, the same bytes.
    /// What proves a preview or a dry run left the store as it was.
    pub fn digest(&self) -> anyhow::Result<String> {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        let mut names = self.db.tree_names();
        names.sort();
        for name in names {
            let tree = self.db.open_tree(&name)?;
            hash.update((name.len() as u64).to_be_bytes());
            hash.update(&name);
            for pair in tree.iter() {
                let (key, value) = pair?;
                for part in [&key, &value] {
                    hash.update((part.len() as u64).to_be_bytes());
                    hash.update(part);
                }
            }
        }
        Ok(format!("{:x}", hash.finalize()))
    }

    /// Waits until everything written so far is on disk: sled otherwise
    /// flushes in the background, and a crash can lose its last writes.
    pub fn flush(&self) -> anyhow::Result<()> {
        self.db.flush().context("flushing the store")?;
        Ok(())
    }
}

/// A postcard record, or an error saying the store is newer than this canvas.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    postcard::from_bytes(bytes).context("the store holds a record this version cannot read")
}
