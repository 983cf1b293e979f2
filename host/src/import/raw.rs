//! A CSV file's bytes, read beside the `csv` crate for what it does not
//! tell: the line a record starts on (it miscounts CRLF line ends and the
//! blank lines before a record), a quote never closed (it lets such a value
//! swallow the rest of the file without complaint), and how long a row is
//! (it reads a row whole into memory, however long: a gigabyte-long name
//! would be read before any limit could refuse it).
//!
//! Both readers follow the parser's quoting rules ([`Quoting`]): a quote
//! opens a quoted value only at the start of a field, `""` inside one is a
//! quote, and a line end outside quotes ends the row.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// The most bytes one row may take, extra columns included: far over any
/// row of the contract (its values are limited to a few KiB), and a bound on
/// what one row can make the importer hold.
pub const MAX_ROW_BYTES: u64 = 1 << 20;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// Where the parser stands in the bytes: in which field, in quotes or not.
struct Quoting {
    state: State,
    field: usize,
    /// The line being read, 1-based.
    line: u64,
    /// The line and field of the quote opened last.
    opened: (u64, usize),
}

impl Quoting {
    fn new(line: u64) -> Self {
        Quoting { state: State::FieldStart, field: 0, line, opened: (0, 0) }
    }

    /// Takes one byte; true when it ends a row.
    fn step(&mut self, b: u8) -> bool {
        let mut row_ends = false;
        self.state = match (self.state, b) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::FieldStart, b'"') => {
                self.opened = (self.line, self.field);
                State::Quoted
            }
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (_, b',') => {
                self.field += 1;
                State::FieldStart
            }
            (_, b'\n' | b'\r') => {
                row_ends = true;
                self.field = 0;
                State::FieldStart
            }
            _ => State::Unquoted,
        };
        self.line += u64::from(b == b'\n');
        row_ends
    }

    fn in_quotes(&self) -> bool {
        self.state == State::Quoted
    }
}

/// A second, forward-only reader of the file's bytes, for line numbers and
/// an unclosed quote at the end.
pub(super) struct Lines {
    reader: BufReader<io::Take<File>>,
    offset: u64,
    /// The line `offset` is on, 1-based.
    line: u64,
}

impl Lines {
    /// The lines of `len` bytes of the file from `start` (a line's start),
    /// counted from 1 there, offsets from 0 there.
    pub fn open_part(path: &Path, start: u64, len: u64) -> io::Result<Lines> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(start))?;
        Ok(Lines { reader: BufReader::with_capacity(1 << 16, file.take(len)), offset: 0, line: 1 })
    }

    /// The line the part ends on: 1 + the line ends in it.
    pub fn line_at_end(&mut self) -> io::Result<u64> {
        self.record_line(u64::MAX)
    }

    /// The line of the record whose read began at `byte`: the crate's
    /// position is where it started reading, before the rest of the last
    /// line's end and any blank lines. Calls must come in file order.
    pub fn record_line(&mut self, byte: u64) -> io::Result<u64> {
        while self.offset < byte {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min((byte - self.offset) as usize);
            self.line += buf[..take].iter().filter(|&&b| b == b'\n').count() as u64;
            self.offset += take as u64;
            self.reader.consume(take);
        }
        loop {
            let buf = self.reader.fill_buf()?;
            let blank = buf.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            self.line += buf[..blank].iter().filter(|&&b| b == b'\n').count() as u64;
            self.offset += blank as u64;
            let more = blank == buf.len() && blank > 0;
            self.reader.consume(blank);
            if !more {
                return Ok(self.line);
            }
        }
    }

    /// From the start of the last record to the end of the file: the line
    /// and field (0-based) of a quote still open at the end, if one is.
    pub fn open_quote(&mut self) -> io::Result<Option<(u64, usize)>> {
        let mut quoting = Quoting::new(self.line);
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                // The line the file (or part) ends on, for `line_at_end`.
                self.line = quoting.line;
                return Ok(quoting.in_quotes().then_some(quoting.opened));
            }
            for &b in buf {
                quoting.step(b);
            }
            let consumed = buf.len();
            self.reader.consume(consumed);
        }
    }
}

/// A row over [`MAX_ROW_BYTES`], found as the bytes were read.
#[derive(Debug)]
pub(super) struct RowTooLong {
    /// The line the row starts on.
    pub line: u64,
    /// Where the quote it is still inside opened, if it is.
    pub quote_opened_on: Option<u64>,
}

impl fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the row starting here is over 1 MiB, the most a row may take (extra columns included)")?;
        match self.quote_opened_on {
            Some(line) => write!(f, ": a quote opened on line {line} is never closed"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for RowTooLong {}

/// The file as the parser reads it, failing with [`RowTooLong`] once a row
/// passes [`MAX_ROW_BYTES`] — before the parser has more of it in memory.
pub(super) struct SizedRows<R> {
    inner: R,
    quoting: Quoting,
    row_started_on: u64,
    row_bytes: u64,
}

impl<R: Read> SizedRows<R> {
    pub fn new(inner: R) -> Self {
        SizedRows { inner, quoting: Quoting::new(1), row_started_on: 1, row_bytes: 0 }
    }
}

impl<R: Read> Read for SizedRows<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if self.quoting.step(b) {
                self.row_started_on = self.quoting.line;
                self.row_bytes = 0;
            } else {
                self.row_bytes += 1;
                if self.row_bytes > MAX_ROW_BYTES {
                    let quote_opened_on = self.quoting.in_quotes().then_some(self.quoting.opened.0);
                    let too_long = RowTooLong { line: self.row_started_on, quote_opened_on };
                    return Err(io::Error::new(io::ErrorKind::InvalidData, too_long));
                }
            }
        }
        Ok(n)
    }
}
