//! What the store says about an interrupted import: which import it was
//! (the marker's content, with the fingerprint that tells the same data
//! from other data), the refusal while it stands, and what a discard did.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::import::{ImportSource, ParsedImport};
use crate::model::{DataSet, Millis};

/// Which import is being written (the marker's content).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportInProgress {
    /// SHA-256 (hex) of the parsed records: the same data has the same one.
    pub fingerprint: String,
    /// Where the records came from, for people.
    pub source: String,
    /// When the import started, by the wall clock.
    pub started_at: Millis,
    /// Records of each kind: members, orders, events, products.
    pub records: [u64; 4],
    /// Guide records: a field of its own, so a marker written before
    /// guides.csv existed still reads (as 0).
    #[serde(default)]
    pub guides: u64,
}

impl ImportInProgress {
    pub(super) fn of(parsed: &ParsedImport, started_at: Millis) -> anyhow::Result<Self> {
        let d = &parsed.data;
        let records = [d.members.len(), d.orders.len(), d.events.len(), d.products.len()].map(|n| n as u64);
        let source = match &parsed.source {
            ImportSource::Folder(dir) => {
                let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
                ImportSource::Folder(dir).to_string()
            }
            request => request.to_string(),
        };
        let guides = d.guides.len() as u64;
        Ok(ImportInProgress { fingerprint: fingerprint(d)?, source, started_at, records, guides })
    }
}

impl fmt::Display for ImportInProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let started = chrono::DateTime::from_timestamp_millis(self.started_at)
            .map_or_else(|| self.started_at.to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let [m, o, e, p] = self.records;
        let guides = if self.guides > 0 { format!(", {} guides", self.guides) } else { String::new() };
        write!(
            f,
            "the import of {} started {started} ({m} members, {o} orders, {e} events, {p} products{guides}; sha256 {})",
            self.source,
            &self.fingerprint[..16.min(self.fingerprint.len())]
        )
    }
}

/// An interrupted import stands in the way. `None`: an earlier canvas left
/// a bare marker, with no record of which import it was.
#[derive(Debug, thiserror::Error)]
pub struct ImportInterrupted {
    /// The import that was interrupted, as its marker records it.
    pub interrupted: Option<ImportInProgress>,
    /// What was refused: another import (its source), or runs (`None`).
    pub refused_import: Option<String>,
}

impl fmt::Display for ImportInterrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.interrupted {
            Some(import) => write!(f, "{import} was interrupted and has not completed")?,
            None => write!(f, "an import into this store was interrupted (by a canvas that kept no record of which)")?,
        }
        match &self.refused_import {
            Some(source) => write!(f, "; this import, of {source}, is other data and is refused until then")?,
            None => write!(f, "; the data is half written, and runs are refused until then")?,
        }
        match &self.interrupted {
            Some(_) => write!(
                f,
                ". Complete it by running the same import again (the same files or the same ingest request), \
                 or roll it back with `canvas import --discard-interrupted`, which gives every record it \
                 wrote its earlier value back"
            ),
            None => write!(
                f,
                ". `canvas import --discard-interrupted` lifts this guard (it cannot roll back: no undo log \
                 was kept); then import the complete data set again"
            ),
        }
    }
}

/// What [`Store::discard_interrupted_import`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discarded {
    /// The import rolled back (`None`: an earlier canvas's bare marker).
    pub import: Option<ImportInProgress>,
    /// Pages of records it had changed, given their earlier value back.
    pub restored: u64,
    /// Pages it had added, removed.
    pub removed: u64,
    /// Pages it was about to write but had not.
    pub untouched: u64,
}

/// SHA-256 over every record, kind by kind, as the store encodes them.
fn fingerprint(data: &DataSet) -> anyhow::Result<String> {
    fn add<T: Serialize>(hash: &mut Sha256, tag: u8, records: &[T], buffer: &mut Vec<u8>) -> anyhow::Result<()> {
        hash.update([tag]);
        hash.update((records.len() as u64).to_le_bytes());
        for record in records {
            buffer.clear();
            let encoded = postcard::to_extend(record, std::mem::take(buffer))?;
            hash.update((encoded.len() as u64).to_le_bytes());
            hash.update(&encoded);
            *buffer = encoded;
        }
        Ok(())
    }
    let (mut hash, mut buffer) = (Sha256::new(), Vec::new());
    add(&mut hash, b'm', &data.members, &mut buffer)?;
    add(&mut hash, b'o', &data.orders, &mut buffer)?;
    add(&mut hash, b'e', &data.events, &mut buffer)?;
    add(&mut hash, b'p', &data.products, &mut buffer)?;
    // Only when there are guides: an import without any keeps the
    // fingerprint it had before guides.csv existed, so an import interrupted
    // under an earlier canvas is still known as the same one.
    if !data.guides.is_empty() {
        add(&mut hash, b'g', &data.guides, &mut buffer)?;
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
