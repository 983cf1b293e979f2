//! Reads one CSV file of the contract, strictly: a header that names each
//! column once, rows with exactly the header's fields, no value over lines,
//! UTF-8 — every fault at its file, line and (when one column is at fault)
//! column, in words that name the real cause.
//!
//! The `csv` crate does the parsing. What it does not give — the true line
//! a record starts on, a quote never closed, a bound on a row's size — comes
//! from the file's bytes (see `raw`).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::columns::{Column, Fields, Record};
use super::raw::{Lines, RowTooLong, SizedRows};
use super::{Location, RecordKind, RowError};

/// What one file gave: its good records, each with its line, and where
/// each contract column sits in it (0-based).
pub(super) struct FileRows<T> {
    pub lines: Vec<u64>,
    pub records: Vec<T>,
    pub columns: HashMap<&'static str, usize>,
}

impl<T> Default for FileRows<T> {
    fn default() -> Self {
        FileRows { lines: Vec::new(), records: Vec::new(), columns: HashMap::new() }
    }
}

/// One data row with its header, for located field access.
pub(crate) struct CsvRow<'a> {
    file: &'static str,
    line: u64,
    record: &'a csv::StringRecord,
    columns: &'a HashMap<&'static str, usize>,
}

impl Fields for CsvRow<'_> {
    fn raw(&self, column: &Column) -> Result<std::borrow::Cow<'_, str>, String> {
        Ok(self.record.get(self.columns[column.name]).unwrap_or("").trim().into())
    }

    fn error(&self, column: &Column, message: String) -> RowError {
        let index = self.columns[column.name];
        csv_error(self.file, self.line, Some((index + 1, column.name.to_string())), message)
    }
}

pub(super) fn csv_error(file: &str, line: u64, column: Option<(usize, String)>, message: String) -> RowError {
    RowError { at: Location::Csv { file: file.to_string(), line, column }, message }
}

/// The good rows of `kind`'s file in `dir`; every fault goes to `errors`.
pub(super) fn read_file<T>(
    dir: &Path,
    kind: RecordKind,
    parse: impl Fn(&Record<'_>) -> Result<T, RowError>,
    found: &mut Vec<PathBuf>,
    errors: &mut Vec<RowError>,
) -> FileRows<T> {
    let name = kind.file_name();
    let path = dir.join(name);
    if !path.exists() {
        return FileRows::default();
    }
    found.push(path.clone());
    // A FIFO or a device (a link to /dev/urandom) would never end.
    if !path.metadata().is_ok_and(|m| m.is_file()) {
        errors.push(csv_error(name, 0, None, "is not a regular file".to_string()));
        return FileRows::default();
    }
    let opened = File::open(&path).and_then(|file| Ok((file, Lines::open(&path)?)));
    let (file, mut lines) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            errors.push(csv_error(name, 0, None, format!("cannot be read: {e}")));
            return FileRows::default();
        }
    };
    // Flexible: a row of the wrong length is reported here, by its line,
    // and the rows after it are still checked.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(SizedRows::new(file));
    let mut rows = FileRows::default();
    match header(&mut reader, &mut lines, kind) {
        Ok(columns) => rows.columns = columns,
        Err(error) => {
            errors.push(error);
            return rows;
        }
    }
    let width = reader.headers().map_or(0, csv::StringRecord::len);
    let header_names: Vec<String> =
        reader.headers().map(|h| h.iter().map(|n| n.trim().to_string()).collect()).unwrap_or_default();
    let column_named = |index: usize| (index + 1, header_names.get(index).cloned().unwrap_or_default());
    let errors_before = errors.len();
    let mut last_line = None;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let byte = record.position().map_or(0, csv::Position::byte);
                let line = match lines.record_line(byte) {
                    Ok(line) => line,
                    Err(e) => {
                        errors.push(csv_error(name, 0, None, format!("cannot be read: {e}")));
                        return rows;
                    }
                };
                last_line = Some(line);
                if let Some(error) =
                    spans_lines(&record, line).map(|(i, m)| csv_error(name, line, Some(column_named(i)), m))
                {
                    errors.push(error);
                    continue;
                }
                if record.len() != width {
                    errors.push(csv_error(name, line, None, wrong_width(record.len(), width)));
                    continue;
                }
                let row = CsvRow { file: name, line, record: &record, columns: &rows.columns };
                match parse(&Record::new(&row, kind.columns())) {
                    Ok(value) => {
                        rows.lines.push(line);
                        rows.records.push(value);
                    }
                    Err(error) => errors.push(error),
                }
            }
            Err(e) => {
                let byte = e.position().map_or(0, csv::Position::byte);
                let line = lines.record_line(byte).unwrap_or(0);
                match e.kind() {
                    csv::ErrorKind::Utf8 { err, .. } => {
                        let message = "is not valid UTF-8 (the files are read as UTF-8)".to_string();
                        errors.push(csv_error(name, line, Some(column_named(err.field())), message));
                        last_line = Some(line);
                    }
                    csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<RowTooLong>()) => {
                        let too_long =
                            io.get_ref().and_then(|inner| inner.downcast_ref::<RowTooLong>()).expect("checked");
                        errors.push(csv_error(name, too_long.line, None, too_long.to_string()));
                        return rows;
                    }
                    _ => {
                        errors.push(csv_error(name, line, None, format!("cannot be read: {e}")));
                        return rows;
                    }
                }
            }
        }
    }
    // A quote never closed swallows the rest of the file into the last
    // record, which then looks short or holds a bad value: say so instead.
    if let (Some(line), Ok(Some((opened_on, field)))) = (last_line, lines.open_quote()) {
        let this_files = errors.split_off(errors_before);
        errors.extend(this_files.into_iter().filter(|e| e.line() != line));
        if rows.lines.last() == Some(&line) {
            rows.lines.pop();
            rows.records.pop();
        }
        let message = "opens a quote that is never closed: the value runs to the end of the file".to_string();
        errors.push(csv_error(name, opened_on, Some(column_named(field)), message));
    }
    rows
}

fn wrong_width(fields: usize, width: usize) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let hint = if fields > width { ": is a value with a comma in it not quoted?" } else { "" };
    format!("has {fields} field{}, the header has {width}{hint}", plural(fields))
}

/// The first value of `record` (which starts on `line`) that spans lines,
/// with a message saying where the quote that made it opened and closed.
fn spans_lines(record: &csv::StringRecord, line: u64) -> Option<(usize, String)> {
    let mut starts_on = line;
    for (index, value) in record.iter().enumerate() {
        let breaks = value.matches('\n').count() as u64;
        if breaks > 0 || value.contains('\r') {
            let message = format!(
                "a quoted value runs from line {starts_on} to line {}: is a closing quote missing? \
                 (no value may span lines)",
                starts_on + breaks
            );
            return Some((index, message));
        }
        starts_on += breaks;
    }
    None
}

/// Checks the header: each name once, every column of the contract there.
/// Where each contract column sits, by name.
fn header<R: io::Read>(
    reader: &mut csv::Reader<R>,
    lines: &mut Lines,
    kind: RecordKind,
) -> Result<HashMap<&'static str, usize>, RowError> {
    let file = kind.file_name();
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(e) => {
            let message = match e.kind() {
                csv::ErrorKind::Utf8 { .. } => "the header is not valid UTF-8 (the files are read as UTF-8)".into(),
                _ => format!("cannot be read: {e}"),
            };
            return Err(csv_error(file, 1, None, message));
        }
    };
    let line = lines.record_line(headers.position().map_or(0, csv::Position::byte)).unwrap_or(1);
    // The csv crate drops a UTF-8 byte order mark; Excel writes one.
    let names: Vec<&str> = headers.iter().map(|h| h.trim().trim_start_matches('\u{feff}')).collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, name) in names.iter().enumerate().filter(|(_, n)| !n.is_empty()) {
        if let Some(first) = seen.insert(name, index) {
            let message = format!("repeats column {} `{name}`: a header names each column once", first + 1);
            return Err(csv_error(file, line, Some((index + 1, name.to_string())), message));
        }
    }
    let needed = kind.columns();
    let missing: Vec<&str> = needed.iter().map(|c| c.name).filter(|n| !seen.contains_key(n)).collect();
    if !missing.is_empty() {
        let message = if names.iter().all(|n| n.is_empty()) {
            let all: Vec<&str> = needed.iter().map(|c| c.name).collect();
            format!("has no header row (it must name the columns: {})", all.join(","))
        } else {
            format!(
                "missing column{} {} (the header has: {})",
                if missing.len() == 1 { "" } else { "s" },
                missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
                names.join(",")
            )
        };
        return Err(csv_error(file, line, None, message));
    }
    Ok(needed.iter().map(|c| (c.name, seen[c.name])).collect())
}
