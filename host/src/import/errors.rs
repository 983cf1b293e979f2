//! How an import says what is wrong: each fault located for a person to fix
//! it — the CSV file, line and column; the Parquet file, row and column; the
//! JSON record and field — and the refusal that lists them.

use std::fmt;

use super::RecordKind;

/// How many row errors an import reports before summarising the rest.
pub const MAX_REPORTED_ERRORS: usize = 50;

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
    /// A Parquet file: the 1-based row (0 when the file itself is at fault)
    /// and the column at fault, by name.
    Parquet {
        /// The file's name (`orders.parquet`).
        file: String,
        /// 1-based; 0 for the file as a whole.
        row: u64,
        /// The column at fault; None for the whole row or file.
        column: Option<String>,
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
            Location::Parquet { row, .. } => *row,
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
            Location::Parquet { file, row, column } => {
                write!(f, "{file}")?;
                if *row > 0 {
                    write!(f, " row {row}")?;
                }
                if let Some(column) = column {
                    write!(f, ": column `{column}`")?;
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
