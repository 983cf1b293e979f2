//! Reads the CSV contract (`members.csv`, `orders.csv`, `events.csv`,
//! `products.csv`, `guides.csv`) into a [`ParsedImport`]; [`parse_json`]
//! reads the same records sent as JSON.
//!
//! Policy: an import is all or nothing. Every row of every file is checked
//! first; if any row is bad, the whole import is refused with an error for
//! each bad row (file, line, column) and nothing is written. Extra columns are
//! ignored; a missing file means no rows of that kind. The columns, what they
//! hold and their limits are in [`columns`]; reading a file strictly (field
//! counts, quotes, lines, row size) in `csv_file` and `raw`.

pub mod columns;
mod csv_file;
mod json;
mod raw;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::DataSet;
pub use columns::parse_yuan;
use columns::Column;
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

/// How many row errors an import reports before summarising the rest.
pub const MAX_REPORTED_ERRORS: usize = 50;

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

/// Where a fault is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A CSV file (or the folder); the 1-based line (the header is line 1;
    /// 0 when the file itself is at fault) and, when one column is at
    /// fault, its 1-based index and header name.
    Csv {
        /// The file's name (`orders.csv`), or the folder's path.
        file: String,
        /// 1-based; the header is line 1, 0 for the file as a whole.
        line: u64,
        /// The column at fault, 1-based, with its header name; None for the whole row.
        column: Option<(usize, String)>,
    },
    /// Records sent as JSON: the 1-based record (0 when the body itself is
    /// at fault) and the field at fault.
    Json {
        /// The kind of records the request sent.
        kind: RecordKind,
        /// 1-based; 0 for the body as a whole.
        record: u64,
        /// The field at fault; None for the whole record.
        field: Option<String>,
    },
}

/// One bad row, record or file, located for a person to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// Where the fault is.
    pub at: Location,
    /// What is wrong, without the location (`Display` puts that first).
    pub message: String,
}

impl RowError {
    /// The line (CSV) or record number (JSON); 0 for the whole file or body.
    pub fn line(&self) -> u64 {
        match &self.at {
            Location::Csv { line, .. } => *line,
            Location::Json { record, .. } => *record,
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Location::Csv { file, line, column } => {
                write!(f, "{file}")?;
                if *line > 0 {
                    write!(f, ":{line}")?;
                }
                if let Some((index, name)) = column {
                    write!(f, ": column {index} `{name}`")?;
                }
            }
            Location::Json { kind, record, field } => {
                write!(f, "{}", kind.name())?;
                if *record > 0 {
                    write!(f, " record {record}")?;
                }
                if let Some(field) = field {
                    write!(f, ": field `{field}`")?;
                }
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// The import was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub struct ImportRefused {
    /// Every fault found, not only the first; at least one.
    pub errors: Vec<RowError>,
}

impl ImportRefused {
    /// The errors as people read them: the first [`MAX_REPORTED_ERRORS`],
    /// then how many more there are.
    pub fn reported(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.errors.iter().take(MAX_REPORTED_ERRORS).map(ToString::to_string).collect();
        if self.errors.len() > MAX_REPORTED_ERRORS {
            lines.push(format!("… and {} more", self.errors.len() - MAX_REPORTED_ERRORS));
        }
        lines
    }
}

impl fmt::Display for ImportRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        writeln!(f, "import refused, nothing was changed: {n} bad row{}", if n == 1 { "" } else { "s" })?;
        for line in self.reported() {
            writeln!(f, "  {line}")?;
        }
        Ok(())
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
    /// CSV files in this folder.
    Folder(PathBuf),
    /// Records of one kind sent as JSON (the ingest API, a fixture).
    Request(RecordKind),
}

impl fmt::Display for ImportSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportSource::Folder(dir) => write!(f, "the CSV files in {}", dir.display()),
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
}

impl ParsedImport {
    fn new(source: ImportSource) -> Self {
        ParsedImport {
            data: DataSet::default(),
            lines: SourceLines::default(),
            files: Vec::new(),
            source,
            columns: HashMap::new(),
        }
    }

    /// An error about `column` of the `index`-th record of `kind` (0-based,
    /// in the order parsed), located as its source counts.
    pub fn error_at(&self, kind: RecordKind, index: usize, column: &str, message: String) -> RowError {
        let line = self.lines.of(kind)[index];
        let at = match &self.source {
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
    fn another(&self, line: u64) -> String {
        match self.source {
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
    let files = &mut parsed.files;
    let read = csv_file::read_file(dir, RecordKind::Members, columns::member, files, &mut errors);
    (parsed.lines.members, parsed.data.members) = (read.lines, read.records);
    parsed.columns.insert(RecordKind::Members, read.columns);
    let read = csv_file::read_file(dir, RecordKind::Orders, columns::order, files, &mut errors);
    (parsed.lines.orders, parsed.data.orders) = (read.lines, read.records);
    parsed.columns.insert(RecordKind::Orders, read.columns);
    let read = csv_file::read_file(dir, RecordKind::Events, columns::event, files, &mut errors);
    (parsed.lines.events, parsed.data.events) = (read.lines, read.records);
    parsed.columns.insert(RecordKind::Events, read.columns);
    let read = csv_file::read_file(dir, RecordKind::Products, columns::product, files, &mut errors);
    (parsed.lines.products, parsed.data.products) = (read.lines, read.records);
    parsed.columns.insert(RecordKind::Products, read.columns);
    let read = csv_file::read_file(dir, RecordKind::Guides, columns::guide, files, &mut errors);
    (parsed.lines.guides, parsed.data.guides) = (read.lines, read.records);
    parsed.columns.insert(RecordKind::Guides, read.columns);
    if parsed.files.is_empty() && errors.is_empty() {
        return Err(whole_folder(format!(
            "no {MEMBERS_CSV}, {ORDERS_CSV}, {EVENTS_CSV}, {PRODUCTS_CSV} or {GUIDES_CSV} in this folder"
        )));
    }
    check_unique_ids(&parsed, &mut errors);
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(ImportRefused { errors })
    }
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
        let mut first_line: HashMap<&str, u64> = HashMap::with_capacity(ids.len());
        for (index, id) in ids.into_iter().enumerate() {
            if let Some(&first) = first_line.get(id) {
                let message = format!("`{id}` already appears {}", parsed.another(first));
                errors.push(parsed.error_at(kind, index, kind.id_column(), message));
            } else {
                first_line.insert(id, lines[index]);
            }
        }
    }
}
