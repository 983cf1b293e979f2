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
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use super::columns::{Column, Fields, Record};
use super::raw::{Lines, RowTooLong, SizedRows, MAX_ROW_BYTES};
use super::{Location, RecordKind, RowError};
use crate::parallel::{self, all_cores};

/// What one file gave: its good records, each with its line, and where
/// each contract column sits in it (0-based).
pub(super) struct FileRows<T> {
    pub lines: Vec<u64>,
    pub records: Vec<T>,
    pub columns: HashMap<&'static str, usize>,
    /// The header's names, trimmed.
    names: Vec<String>,
}

impl<T> Default for FileRows<T> {
    fn default() -> Self {
        FileRows { lines: Vec::new(), records: Vec::new(), columns: HashMap::new(), names: Vec::new() }
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

/// Files from this size on are read in parts, one per core.
const READ_IN_PARTS_FROM_BYTES: u64 = 64 << 20;

/// The good rows of `kind`'s file in `dir`; every fault goes to `errors`.
///
/// A large file (a brand's tens of millions of events) is read in parts on
/// every core, split after a line end: no value may span lines, so in a
/// good file every line end ends a row. Should any part find a fault (a
/// split inside a quoted value among them), the file is read again whole,
/// so the errors are exactly those one reading gives.
pub(super) fn read_file<T: Send + Sync>(
    dir: &Path,
    kind: RecordKind,
    parse: impl Fn(&Record<'_>) -> Result<T, RowError> + Sync,
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
    let Some(size) = path.metadata().ok().filter(|m| m.is_file()).map(|m| m.len()) else {
        errors.push(csv_error(name, 0, None, "is not a regular file".to_string()));
        return FileRows::default();
    };
    read_sized(&path, kind, size, READ_IN_PARTS_FROM_BYTES, &parse, errors)
}

/// The file of `size` bytes at `path`, in parts from `in_parts_from` bytes on.
fn read_sized<T: Send + Sync>(
    path: &Path,
    kind: RecordKind,
    size: u64,
    in_parts_from: u64,
    parse: &(impl Fn(&Record<'_>) -> Result<T, RowError> + Sync),
    errors: &mut Vec<RowError>,
) -> FileRows<T> {
    if size >= in_parts_from {
        if let Some(rows) = read_in_parts(path, kind, size, parse) {
            return rows;
        }
    }
    read_part(path, kind, (0, size), None, parse, errors).0
}

/// The file read in parts side by side, when it is large enough and every
/// part reads without a fault.
fn read_in_parts<T: Send + Sync>(
    path: &Path,
    kind: RecordKind,
    size: u64,
    parse: &(impl Fn(&Record<'_>) -> Result<T, RowError> + Sync),
) -> Option<FileRows<T>> {
    // At least two parts, so a machine of one core reads them too (in turn).
    let cores = all_cores().max(2) as u64;
    let mut starts = vec![0];
    for k in 1..cores {
        let after = line_end_after(path, size * k / cores).ok()??;
        if after > *starts.last().expect("one") && after < size {
            starts.push(after);
        }
    }
    let ends = starts.iter().skip(1).copied().chain([size]);
    let parts: Vec<(u64, u64)> = starts.iter().copied().zip(ends).collect();
    // The header, for the parts after the first (which reads it too).
    let header = read_part(path, kind, (0, 0), None, parse, &mut Vec::new()).0;
    let read = |&part: &(u64, u64)| {
        let mut errors = Vec::new();
        let given = if part.0 == 0 { None } else { Some(&header) };
        let (rows, lines) = read_part(path, kind, part, given, parse, &mut errors);
        errors.is_empty().then_some((rows, lines?))
    };
    let read = parallel::in_order(parts.iter(), parts.len(), read, Option::is_none);
    let read: Vec<(FileRows<T>, u64)> = read.into_iter().collect::<Option<_>>()?;
    let mut whole = FileRows { columns: header.columns, ..FileRows::default() };
    whole.records.reserve_exact(read.iter().map(|(part, _)| part.records.len()).sum());
    whole.lines.reserve_exact(whole.records.capacity());
    let mut lines_before = 0;
    for (part, ends_on_line) in read {
        whole.lines.extend(part.lines.iter().map(|line| line + lines_before));
        whole.records.extend(part.records);
        lines_before += ends_on_line - 1;
    }
    Some(whole)
}

/// Where the line that `from` falls in ends: the offset just past its `\n`.
fn line_end_after(path: &Path, from: u64) -> io::Result<Option<u64>> {
    let mut file = File::open(path)?;
    file.seek(io::SeekFrom::Start(from))?;
    let mut buf = Vec::new();
    file.take(MAX_ROW_BYTES + 1).read_to_end(&mut buf)?;
    Ok(buf.iter().position(|&b| b == b'\n').map(|at| from + at as u64 + 1))
}

/// Reads the bytes `from..to` of the file: its rows, and the line it ends
/// on counted from 1 at `from` (`None` when a quote is left open). The
/// part from 0 reads the header; others take `header`'s columns.
fn read_part<T>(
    path: &Path,
    kind: RecordKind,
    (from, to): (u64, u64),
    header: Option<&FileRows<T>>,
    parse: &impl Fn(&Record<'_>) -> Result<T, RowError>,
    errors: &mut Vec<RowError>,
) -> (FileRows<T>, Option<u64>) {
    let name = kind.file_name();
    // The header's read (0..0) reads on to the header's end.
    let len = if to == 0 { u64::MAX } else { to - from };
    let opened = File::open(path)
        .and_then(|mut file| file.seek(io::SeekFrom::Start(from)).map(|_| file.take(len)))
        .and_then(|file| Ok((file, Lines::open_part(path, from, len)?)));
    let (file, mut lines) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            errors.push(csv_error(name, 0, None, format!("cannot be read: {e}")));
            return (FileRows::default(), None);
        }
    };
    // Flexible: a row of the wrong length is reported here, by its line,
    // and the rows after it are still checked.
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).has_headers(header.is_none()).from_reader(SizedRows::new(file));
    let mut rows = FileRows::default();
    let header_names: Vec<String> = match header {
        Some(header) => {
            rows.columns = header.columns.clone();
            header.names.clone()
        }
        None => match header_of(&mut reader, &mut lines, kind) {
            Ok(columns) => {
                rows.columns = columns;
                reader.headers().map(|h| h.iter().map(|n| n.trim().to_string()).collect()).unwrap_or_default()
            }
            Err(error) => {
                errors.push(error);
                return (rows, None);
            }
        },
    };
    rows.names = header_names.clone();
    if to == 0 {
        return (rows, None);
    }
    let width = header_names.len();
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
                        return (rows, None);
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
                        return (rows, None);
                    }
                    _ => {
                        errors.push(csv_error(name, line, None, format!("cannot be read: {e}")));
                        return (rows, None);
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
    let ends_on_line = lines.line_at_end().ok();
    (rows, ends_on_line)
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
fn header_of<R: io::Read>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::columns;

    /// Read in parts, a file gives what one reading gives: the same records
    /// on the same lines (CRLF, blank lines, quoted commas and quotes), or
    /// with a fault anywhere, the same errors.
    #[test]
    fn a_file_read_in_parts_reads_as_read_whole() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("events.csv");
        let mut text = String::from("event_id,member_id,kind,at,attrs\r\n");
        for n in 0..3000 {
            let attrs = r#""{""page"":""home, or sale"", ""n"":1}""#;
            let end = if n % 7 == 0 { "\r\n\r\n" } else { "\n" };
            text += &format!("E{n:05},M{:03},page_view,2026-01-02T03:04:05+08:00,{attrs}{end}", n % 50);
        }
        let read = |text: &str, in_parts_from: u64| {
            std::fs::write(&path, text).unwrap();
            let mut errors = Vec::new();
            let size = text.len() as u64;
            let rows = read_sized(&path, RecordKind::Events, size, in_parts_from, &columns::event, &mut errors);
            (rows.lines, rows.records, errors.iter().map(ToString::to_string).collect::<Vec<_>>())
        };
        let whole = read(&text, u64::MAX);
        assert!(whole.2.is_empty(), "{:?}", whole.2);
        assert_eq!(whole.1.len(), 3000);
        assert_eq!(read(&text, 0), whole);
        assert_eq!(*whole.0.last().unwrap(), 3000 + 1 + 429);

        // Faults in the second half: a bad time, and a quoted value over lines.
        let faulty = text.replacen("E02500,M000,page_view,2026-01-02", "E02500,M000,page_view,2026-13-02", 1);
        let faulty = faulty.replacen("\nE02800,", "\nE0280x,M1,page_view,2026-01-02T03:04:05+08:00,\"{\nE02800,", 1);
        let whole = read(&faulty, u64::MAX);
        assert_eq!(whole.2.len(), 2, "{:?}", whole.2);
        assert!(whole.2[1].contains("closing quote missing"), "{:?}", whole.2);
        assert_eq!(read(&faulty, 0), whole);
    }
}
