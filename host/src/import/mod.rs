//! Reads the CSV contract (`members.csv`, `orders.csv`, `events.csv`,
//! `products.csv`, `guides.csv`) into a [`ParsedImport`] — or, per kind,
//! the same table exported as Parquet (`members.parquet`, …, read by column
//! name in `parquet_file`); [`parse_json`] reads the same records sent as JSON.
//!
//! Policy: an import is all or nothing. Every row of every file is checked
//! first; if any row is bad, the whole import is refused with an error for
//! each bad row (file, line, column) and nothing is written. Extra columns are
//! ignored; a missing file means no rows of that kind. The columns, what they
//! hold and their limits are in [`columns`]; reading a file strictly (field
//! counts, quotes, lines, row size) in `csv_file` and `raw`.

pub mod columns;
mod csv_file;
mod errors;
mod json;
mod parquet_file;
mod raw;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::model::DataSet;
pub use columns::parse_yuan;
use columns::Column;
pub use errors::{ImportRefused, Location, RowError, MAX_REPORTED_ERRORS};
pub use json::parse_json;
pub use raw::MAX_ROW_BYTES;

/// The members file of an import folder (columns: [`columns::MEMBER_COLUMNS`]).
pub const MEMBERS_CSV: &str = "members.csv";
/// The orders file (columns: [`columns::ORDER_COLUMNS`]).
pub const ORDERS_CSV: &str = "orders.csv";
/// The events file (columns: [`columns::EVENT_COLUMNS`]).
pub const EVENTS_CSV: &str = "events.csv";
/// The products file (columns: [`columns::PRODUCT_COLUMNS`]).
pub const PRODUCTS_CSV: &str = "products.csv";
/// The guides file (columns: [`columns::GUIDE_COLUMNS`]); optional, like every file.
pub const GUIDES_CSV: &str = "guides.csv";

/// The kinds of record: a CSV file each, an ingest route each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// `members.csv`: who the brand's members are.
    Members,
    /// `orders.csv`: what they bought.
    Orders,
    /// `events.csv`: what else they did (coupons, visits, group-buy joins).
    Events,
    /// `products.csv`: what the brand sells, and when each launched.
    Products,
    /// `guides.csv`: the store guides staff tasks go to, who left, and how
    /// many tasks a day each can take.
    Guides,
}

impl RecordKind {
    /// Every kind, in the order an import reads them (members first: the
    /// others refer to them).
    pub const ALL: [RecordKind; 5] =
        [RecordKind::Members, RecordKind::Orders, RecordKind::Events, RecordKind::Products, RecordKind::Guides];

    /// `members`, `orders`…: the kind as the ingest API's routes and JSON errors name it.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Members => "members",
            RecordKind::Orders => "orders",
            RecordKind::Events => "events",
            RecordKind::Products => "products",
            RecordKind::Guides => "guides",
        }
    }

    /// The same table exported as Parquet: `members.parquet`, ….
    pub fn parquet_name(self) -> &'static str {
        match self {
            RecordKind::Members => "members.parquet",
            RecordKind::Orders => "orders.parquet",
            RecordKind::Events => "events.parquet",
            RecordKind::Products => "products.parquet",
            RecordKind::Guides => "guides.parquet",
        }
    }

    /// The kind's CSV file in an import folder, `members.csv`…
    pub fn file_name(self) -> &'static str {
        match self {
            RecordKind::Members => MEMBERS_CSV,
            RecordKind::Orders => ORDERS_CSV,
            RecordKind::Events => EVENTS_CSV,
            RecordKind::Products => PRODUCTS_CSV,
            RecordKind::Guides => GUIDES_CSV,
        }
    }

    /// The contract's columns for this kind.
    pub fn columns(self) -> &'static [Column] {
        match self {
            RecordKind::Members => columns::MEMBER_COLUMNS,
            RecordKind::Orders => columns::ORDER_COLUMNS,
            RecordKind::Events => columns::EVENT_COLUMNS,
            RecordKind::Products => columns::PRODUCT_COLUMNS,
            RecordKind::Guides => columns::GUIDE_COLUMNS,
        }
    }

    /// The column holding the record's id.
    pub fn id_column(self) -> &'static str {
        self.columns()[0].name
    }
}

/// Where each imported record came from — its CSV line, or its record
/// number in a request — for errors found after parsing (an order of an
/// unknown member is only known to be bad against the store).
#[derive(Clone, Debug, Default)]
struct SourceLines {
    members: Vec<u64>,
    orders: Vec<u64>,
    events: Vec<u64>,
    products: Vec<u64>,
    guides: Vec<u64>,
}

impl SourceLines {
    fn of(&self, kind: RecordKind) -> &[u64] {
        match kind {
            RecordKind::Members => &self.members,
            RecordKind::Orders => &self.orders,
            RecordKind::Events => &self.events,
            RecordKind::Products => &self.products,
            RecordKind::Guides => &self.guides,
        }
    }
}

/// Where an import's records came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportSource {
    /// CSV (or Parquet) files in this folder.
    Folder(PathBuf),
    /// Records of one kind sent as JSON (the ingest API, a fixture).
    Request(RecordKind),
}

impl fmt::Display for ImportSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportSource::Folder(dir) => write!(f, "the files in {}", dir.display()),
            ImportSource::Request(kind) => write!(f, "{} sent to the ingest API", kind.name()),
        }
    }
}

/// A parsed import: the records and where each came from.
#[derive(Clone, Debug)]
pub struct ParsedImport {
    /// The records, in the order their files (or the request) held them.
    pub data: DataSet,
    /// Each record's line or record number, parallel to `data`'s vectors.
    lines: SourceLines,
    /// Which files were found.
    pub files: Vec<PathBuf>,
    /// A folder, or a request: decides how errors locate a record.
    pub source: ImportSource,
    /// For CSV files: where each contract column sits in each file (0-based).
    columns: HashMap<RecordKind, HashMap<&'static str, usize>>,
    /// The kinds read from a Parquet file (their `lines` are rows).
    parquet: Vec<RecordKind>,
}

impl ParsedImport {
    fn new(source: ImportSource) -> Self {
        ParsedImport {
            data: DataSet::default(),
            lines: SourceLines::default(),
            files: Vec::new(),
            source,
            columns: HashMap::new(),
            parquet: Vec::new(),
        }
    }

    /// An error about `column` of the `index`-th record of `kind` (0-based,
    /// in the order parsed), located as its source counts.
    pub fn error_at(&self, kind: RecordKind, index: usize, column: &str, message: String) -> RowError {
        let line = self.lines.of(kind)[index];
        let at = match &self.source {
            ImportSource::Folder(_) if self.parquet.contains(&kind) => {
                return parquet_file::parquet_error(kind.parquet_name(), line, Some(column), message)
            }
            ImportSource::Folder(_) => {
                let position =
                    self.columns.get(&kind).and_then(|c| c.get(column)).map(|&i| (i + 1, column.to_string()));
                Location::Csv { file: kind.file_name().to_string(), line, column: position }
            }
            ImportSource::Request(kind) => {
                Location::Json { kind: *kind, record: line, field: Some(column.to_string()) }
            }
        };
        RowError { at, message }
    }

    /// How errors name another record of the same source: `line 2`, `record 2`.
    fn another(&self, kind: RecordKind, line: u64) -> String {
        match self.source {
            ImportSource::Folder(_) if self.parquet.contains(&kind) => format!("in row {line}"),
            ImportSource::Folder(_) => format!("on line {line}"),
            ImportSource::Request(_) => format!("in record {line}"),
        }
    }
}

/// Reads and checks every file of the contract in `dir`.
pub fn read_dir(dir: &Path) -> Result<ParsedImport, ImportRefused> {
    let whole_folder = |message: String| ImportRefused {
        errors: vec![csv_file::csv_error(&dir.display().to_string(), 0, None, message)],
    };
    if !dir.is_dir() {
        return Err(whole_folder(format!("{} is not a folder", dir.display())));
    }
    let mut errors = Vec::new();
    let mut parsed = ParsedImport::new(ImportSource::Folder(dir.to_path_buf()));
    read_kind(dir, &mut parsed, RecordKind::Members, columns::member, &mut errors, |p, (lines, records)| {
        (p.lines.members, p.data.members) = (lines, records)
    });
    read_kind(dir, &mut parsed, RecordKind::Orders, columns::order, &mut errors, |p, (lines, records)| {
        (p.lines.orders, p.data.orders) = (lines, records)
    });
    read_kind(dir, &mut parsed, RecordKind::Events, columns::event, &mut errors, |p, (lines, records)| {
        (p.lines.events, p.data.events) = (lines, records)
    });
    read_kind(dir, &mut parsed, RecordKind::Products, columns::product, &mut errors, |p, (lines, records)| {
        (p.lines.products, p.data.products) = (lines, records)
    });
    read_kind(dir, &mut parsed, RecordKind::Guides, columns::guide, &mut errors, |p, (lines, records)| {
        (p.lines.guides, p.data.guides) = (lines, records)
    });
    if parsed.files.is_empty() && errors.is_empty() {
        return Err(whole_folder(format!(
            "no {MEMBERS_CSV}, {ORDERS_CSV}, {EVENTS_CSV}, {PRODUCTS_CSV} or {GUIDES_CSV} in this folder \
             (nor the same names as .parquet)"
        )));
    }
    check_unique_ids(&parsed, &mut errors);
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(ImportRefused { errors })
    }
}

/// Reads `kind`'s file in `dir`, CSV or Parquet (not both), into `parsed` by `put`.
fn read_kind<T: Send + Sync>(
    dir: &Path,
    parsed: &mut ParsedImport,
    kind: RecordKind,
    parse: impl Fn(&columns::Record<'_>) -> Result<T, RowError> + Sync,
    errors: &mut Vec<RowError>,
    put: impl FnOnce(&mut ParsedImport, (Vec<u64>, Vec<T>)),
) {
    let (csv, parquet) = (dir.join(kind.file_name()), dir.join(kind.parquet_name()));
    let read = match (csv.exists(), parquet.exists()) {
        (true, true) => {
            let message = format!("and {} are both here: keep one of them", kind.parquet_name());
            errors.push(csv_file::csv_error(kind.file_name(), 0, None, message));
            return;
        }
        (false, true) => {
            parsed.parquet.push(kind);
            parquet_file::read_file(dir, kind, parse, &mut parsed.files, errors)
        }
        _ => csv_file::read_file(dir, kind, parse, &mut parsed.files, errors),
    };
    parsed.columns.insert(kind, read.columns);
    put(parsed, (read.lines, read.records));
}

/// An id may appear once per file (or request); a second record with it is
/// an error naming both.
fn check_unique_ids(parsed: &ParsedImport, errors: &mut Vec<RowError>) {
    let d = &parsed.data;
    let ids: [(RecordKind, Vec<&str>); 5] = [
        (RecordKind::Members, d.members.iter().map(|m| m.id.as_str()).collect()),
        (RecordKind::Orders, d.orders.iter().map(|o| o.id.as_str()).collect()),
        (RecordKind::Events, d.events.iter().map(|e| e.id.as_str()).collect()),
        (RecordKind::Products, d.products.iter().map(|p| p.sku.as_str()).collect()),
        (RecordKind::Guides, d.guides.iter().map(|g| g.id.as_str()).collect()),
    ];
    for (kind, ids) in ids {
        let lines = parsed.lines.of(kind);
        let mut first_line: FxHashMap<&str, u64> = FxHashMap::with_capacity_and_hasher(ids.len(), Default::default());
        for (index, id) in ids.into_iter().enumerate() {
            if let Some(&first) = first_line.get(id) {
                let message = format!("`{id}` already appears {}", parsed.another(kind, first));
                errors.push(parsed.error_at(kind, index, kind.id_column(), message));
            } else {
                first_line.insert(id, lines[index]);
            }
        }
    }
}
