//! Reads the CSV contract (`members.csv`, `orders.csv`, `events.csv`,
//! `products.csv`) into a [`DataSet`].
//!
//! Policy: an import is all or nothing. Every row of every file is checked
//! first; if any row is bad, the whole import is refused with an error for
//! each bad row (file, line, column) and nothing is written. Extra columns are
//! ignored; a missing file means no rows of that kind.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::calendar::{parse_date, parse_instant, BrandCalendar};
use crate::model::{DataSet, Event, Fen, Member, Order, OrderChannel, Product};

pub const MEMBERS_CSV: &str = "members.csv";
pub const ORDERS_CSV: &str = "orders.csv";
pub const EVENTS_CSV: &str = "events.csv";
pub const PRODUCTS_CSV: &str = "products.csv";

/// How many row errors an import reports before summarising the rest.
const MAX_REPORTED_ERRORS: usize = 50;

/// One bad row (or a bad file), located for a person to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// 1-based line in the file (the header is line 1); 0 when the file itself is at fault.
    pub line: u64,
    /// 1-based column index and header name, when one column is at fault.
    pub column: Option<(usize, String)>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            // `orders.csv:17`, but `orders record 2` for records sent to the API.
            let separator = if self.file.ends_with(" record") { " " } else { ":" };
            write!(f, "{separator}{}", self.line)?;
        }
        if let Some((index, name)) = &self.column {
            write!(f, ": column {index} `{name}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The import was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub struct ImportRefused {
    pub errors: Vec<RowError>,
}

impl fmt::Display for ImportRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        writeln!(f, "import refused, nothing was changed: {n} bad row{}", if n == 1 { "" } else { "s" })?;
        for error in self.errors.iter().take(MAX_REPORTED_ERRORS) {
            writeln!(f, "  {error}")?;
        }
        if n > MAX_REPORTED_ERRORS {
            writeln!(f, "  … and {} more", n - MAX_REPORTED_ERRORS)?;
        }
        Ok(())
    }
}

/// Where each imported record came from, for errors found after parsing
/// (an order of an unknown member is only known to be bad against the store).
#[derive(Clone, Debug, Default)]
pub struct SourceLines {
    pub members: Vec<u64>,
    pub orders: Vec<u64>,
    pub events: Vec<u64>,
    pub products: Vec<u64>,
}

/// A parsed import: the records and their source lines.
#[derive(Clone, Debug, Default)]
pub struct ParsedImport {
    pub data: DataSet,
    pub lines: SourceLines,
    /// Which files were found.
    pub files: Vec<PathBuf>,
}

/// Reads and checks all four files in `dir`.
pub fn read_dir(dir: &Path) -> Result<ParsedImport, ImportRefused> {
    let mut errors = Vec::new();
    let mut parsed = ParsedImport::default();
    if !dir.is_dir() {
        let message = format!("{} is not a folder", dir.display());
        return Err(ImportRefused { errors: vec![file_error(&dir.display().to_string(), message)] });
    }
    let (lines, data, files) = (&mut parsed.lines, &mut parsed.data, &mut parsed.files);
    (lines.members, data.members) = read_file::<_, MemberRows>(dir, MEMBERS_CSV, files, &mut errors);
    (lines.orders, data.orders) = read_file::<_, OrderRows>(dir, ORDERS_CSV, files, &mut errors);
    (lines.events, data.events) = read_file::<_, EventRows>(dir, EVENTS_CSV, files, &mut errors);
    (lines.products, data.products) = read_file::<_, ProductRows>(dir, PRODUCTS_CSV, files, &mut errors);
    if parsed.files.is_empty() && errors.is_empty() {
        let message = format!("no {MEMBERS_CSV}, {ORDERS_CSV}, {EVENTS_CSV} or {PRODUCTS_CSV} in this folder");
        errors.push(file_error(&dir.display().to_string(), message));
    }
    check_unique_ids(&parsed, &mut errors);
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(ImportRefused { errors })
    }
}

fn file_error(file: &str, message: String) -> RowError {
    RowError { file: file.to_string(), line: 0, column: None, message }
}

/// One data row with its header, for located field access.
struct Row<'a> {
    file: &'static str,
    line: u64,
    record: &'a csv::StringRecord,
    columns: &'a HashMap<&'static str, usize>,
}

impl Row<'_> {
    fn error(&self, column: &str, message: String) -> RowError {
        let index = self.columns[column];
        RowError {
            file: self.file.to_string(),
            line: self.line,
            column: Some((index + 1, column.to_string())),
            message,
        }
    }

    fn text(&self, column: &'static str) -> &str {
        self.record.get(self.columns[column]).unwrap_or("").trim()
    }

    fn required(&self, column: &'static str) -> Result<String, RowError> {
        let value = self.text(column);
        if value.is_empty() {
            return Err(self.error(column, "is empty".to_string()));
        }
        Ok(value.to_string())
    }

    fn optional(&self, column: &'static str) -> Option<String> {
        Some(self.text(column)).filter(|v| !v.is_empty()).map(str::to_string)
    }

    fn parsed<T>(&self, column: &'static str, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, RowError> {
        let value = self.required(column)?;
        parse(&value).map_err(|message| self.error(column, message))
    }

    fn parsed_optional<T>(
        &self,
        column: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, RowError> {
        self.optional(column).map(|v| parse(&v).map_err(|message| self.error(column, message))).transpose()
    }
}

/// A row parser: the columns it needs, and how to turn a row into a record.
trait RowParser<T> {
    const COLUMNS: &'static [&'static str];
    fn parse(row: &Row) -> Result<T, RowError>;
}

/// The good rows of one file with their lines; bad rows go to `errors`.
fn read_file<T, P: RowParser<T>>(
    dir: &Path,
    name: &'static str,
    found: &mut Vec<PathBuf>,
    errors: &mut Vec<RowError>,
) -> (Vec<u64>, Vec<T>) {
    let path = dir.join(name);
    if !path.exists() {
        return Default::default();
    }
    found.push(path.clone());
    let mut reader = match csv::ReaderBuilder::new().flexible(true).from_path(&path) {
        Ok(reader) => reader,
        Err(e) => {
            errors.push(file_error(name, format!("cannot be read: {e}")));
            return Default::default();
        }
    };
    let columns = match header_columns(reader.headers(), name, P::COLUMNS) {
        Ok(columns) => columns,
        Err(error) => {
            errors.push(error);
            return Default::default();
        }
    };
    let mut rows = (Vec::new(), Vec::new());
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let row = Row { file: name, line, record: &record, columns: &columns };
                match P::parse(&row) {
                    Ok(value) => {
                        rows.0.push(line);
                        rows.1.push(value);
                    }
                    Err(error) => errors.push(error),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError { file: name.to_string(), line, column: None, message: csv_message(&e) });
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    rows
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("is not valid UTF-8 (field {})", err.field() + 1),
        _ => e.to_string(),
    }
}

fn header_columns(
    headers: csv::Result<&csv::StringRecord>,
    file: &'static str,
    needed: &[&'static str],
) -> Result<HashMap<&'static str, usize>, RowError> {
    let headers =
        headers.map_err(|e| RowError { file: file.into(), line: 1, column: None, message: csv_message(&e) })?;
    let position = |name: &str| headers.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == name);
    let missing: Vec<&str> = needed.iter().copied().filter(|n| position(n).is_none()).collect();
    if !missing.is_empty() {
        let message = format!(
            "missing column{} {} (the header has: {})",
            if missing.len() == 1 { "" } else { "s" },
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
            headers.iter().collect::<Vec<_>>().join(",")
        );
        return Err(RowError { file: file.into(), line: 1, column: None, message });
    }
    Ok(needed.iter().map(|&n| (n, position(n).expect("checked above"))).collect())
}

struct MemberRows;
struct OrderRows;
struct EventRows;
struct ProductRows;

impl RowParser<Member> for MemberRows {
    const COLUMNS: &'static [&'static str] =
        &["member_id", "name", "level", "birthday", "joined_at", "wecom_added_at", "store_id", "guide_id", "tz"];

    fn parse(row: &Row) -> Result<Member, RowError> {
        Ok(Member {
            id: row.required("member_id")?,
            name: row.text("name").to_string(),
            level: row.parsed("level", parse_level)?,
            birthday: row.parsed_optional("birthday", parse_date)?,
            joined_at: row.parsed("joined_at", parse_instant)?,
            wecom_added_at: row.parsed_optional("wecom_added_at", parse_instant)?,
            store_id: row.required("store_id")?,
            guide_id: row.required("guide_id")?,
            tz: row.parsed_optional("tz", |name| BrandCalendar::named(name).map(|_| name.to_string()))?,
        })
    }
}

impl RowParser<Order> for OrderRows {
    const COLUMNS: &'static [&'static str] =
        &["order_id", "member_id", "placed_at", "amount", "channel", "category", "sku"];

    fn parse(row: &Row) -> Result<Order, RowError> {
        Ok(Order {
            id: row.required("order_id")?,
            member_id: row.required("member_id")?,
            placed_at: row.parsed("placed_at", parse_instant)?,
            amount: row.parsed("amount", parse_yuan)?,
            channel: row.parsed("channel", parse_channel)?,
            category: row.required("category")?,
            sku: row.required("sku")?,
        })
    }
}

impl RowParser<Event> for EventRows {
    const COLUMNS: &'static [&'static str] = &["event_id", "member_id", "kind", "at", "attrs"];

    fn parse(row: &Row) -> Result<Event, RowError> {
        Ok(Event {
            id: row.required("event_id")?,
            member_id: row.required("member_id")?,
            kind: row.required("kind")?,
            at: row.parsed("at", parse_instant)?,
            attrs: row.parsed_optional("attrs", parse_attrs)?.unwrap_or_else(|| "{}".to_string()),
        })
    }
}

impl RowParser<Product> for ProductRows {
    const COLUMNS: &'static [&'static str] = &["sku", "name", "category", "price", "launched_at", "tags"];

    fn parse(row: &Row) -> Result<Product, RowError> {
        Ok(Product {
            sku: row.required("sku")?,
            name: row.text("name").to_string(),
            category: row.required("category")?,
            price: row.parsed("price", parse_yuan)?,
            launched_at: row.parsed("launched_at", parse_instant)?,
            tags: row.text("tags").split(';').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect(),
        })
    }
}

fn parse_level(text: &str) -> Result<u8, String> {
    match text.parse::<u8>() {
        Ok(level @ 1..=4) => Ok(level),
        _ => Err(format!("`{text}` is not a member level 1–4")),
    }
}

fn parse_channel(text: &str) -> Result<OrderChannel, String> {
    match text {
        "store" => Ok(OrderChannel::Store),
        "online" => Ok(OrderChannel::Online),
        _ => Err(format!("`{text}` is not `store` or `online`")),
    }
}

/// A non-negative decimal amount in yuan, to whole fen (`12.5` → 1250).
pub fn parse_yuan(text: &str) -> Result<Fen, String> {
    let not_an_amount = || format!("`{text}` is not an amount in yuan (e.g. 299.00)");
    let yuan: Decimal = text.parse().map_err(|_| not_an_amount())?;
    if yuan.is_sign_negative() {
        return Err(format!("`{text}` is negative"));
    }
    let fen = yuan * Decimal::ONE_HUNDRED;
    if !fen.fract().is_zero() {
        return Err(format!("`{text}` has fractions of a fen"));
    }
    i64::try_from(fen).map_err(|_| not_an_amount())
}

fn parse_attrs(text: &str) -> Result<String, String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value.to_string()),
        Ok(_) => Err(format!("`{text}` is not a JSON object")),
        Err(e) => Err(format!("is not valid JSON ({e})")),
    }
}

/// The kinds of record the ingest API takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    Members,
    Orders,
    Events,
    Products,
}

impl RecordKind {
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Members => "members",
            RecordKind::Orders => "orders",
            RecordKind::Events => "events",
            RecordKind::Products => "products",
        }
    }

    /// How errors name one record of this kind.
    fn record_name(self) -> &'static str {
        match self {
            RecordKind::Members => "members record",
            RecordKind::Orders => "orders record",
            RecordKind::Events => "events record",
            RecordKind::Products => "products record",
        }
    }
}

/// Parses records sent as JSON (an array of objects, or NDJSON: one object a
/// line) with the same fields, rules and errors as the CSV columns. Errors
/// name the record (`members record 3: column 3 \`level\`: …`).
pub fn parse_json(kind: RecordKind, body: &str) -> Result<ParsedImport, ImportRefused> {
    let name = kind.record_name();
    let bad = |line: u64, message: String| RowError { file: name.to_string(), line, column: None, message };
    let objects: Vec<(u64, serde_json::Value)> = if body.trim_start().starts_with('[') {
        match serde_json::from_str::<Vec<serde_json::Value>>(body) {
            Ok(values) => values.into_iter().enumerate().map(|(i, v)| (i as u64 + 1, v)).collect(),
            Err(e) => return Err(ImportRefused { errors: vec![bad(0, format!("the body is not a JSON array: {e}"))] }),
        }
    } else {
        let mut values = Vec::new();
        for (i, line) in body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            match serde_json::from_str(line) {
                Ok(v) => values.push((i as u64 + 1, v)),
                Err(e) => return Err(ImportRefused { errors: vec![bad(i as u64 + 1, format!("is not JSON: {e}"))] }),
            }
        }
        values
    };
    let mut parsed = ParsedImport::default();
    let mut errors = Vec::new();
    let (lines, data) = (&mut parsed.lines, &mut parsed.data);
    match kind {
        RecordKind::Members => (lines.members, data.members) = json_rows::<_, MemberRows>(name, &objects, &mut errors),
        RecordKind::Orders => (lines.orders, data.orders) = json_rows::<_, OrderRows>(name, &objects, &mut errors),
        RecordKind::Events => (lines.events, data.events) = json_rows::<_, EventRows>(name, &objects, &mut errors),
        RecordKind::Products => {
            (lines.products, data.products) = json_rows::<_, ProductRows>(name, &objects, &mut errors)
        }
    }
    check_unique_ids(&parsed, &mut errors);
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(ImportRefused { errors })
    }
}

fn json_rows<T, P: RowParser<T>>(
    file: &'static str,
    objects: &[(u64, serde_json::Value)],
    errors: &mut Vec<RowError>,
) -> (Vec<u64>, Vec<T>) {
    let columns: HashMap<&'static str, usize> = P::COLUMNS.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let mut rows = (Vec::new(), Vec::new());
    for (line, value) in objects {
        let Some(object) = value.as_object() else {
            errors.push(RowError {
                file: file.into(),
                line: *line,
                column: None,
                message: "is not a JSON object".into(),
            });
            continue;
        };
        let fields = P::COLUMNS.iter().map(|c| match object.get(*c) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        });
        let record = csv::StringRecord::from_iter(fields);
        let row = Row { file, line: *line, record: &record, columns: &columns };
        match P::parse(&row) {
            Ok(value) => {
                rows.0.push(*line);
                rows.1.push(value);
            }
            Err(error) => errors.push(error),
        }
    }
    rows
}

/// An id may appear once per file; a second row with it is an error naming both lines.
fn check_unique_ids(parsed: &ParsedImport, errors: &mut Vec<RowError>) {
    fn check<'a>(file: &str, lines: &[u64], ids: impl Iterator<Item = &'a str>, errors: &mut Vec<RowError>) {
        let mut first_line: HashMap<&str, u64> = HashMap::new();
        for (&line, id) in lines.iter().zip(ids) {
            if let Some(&first) = first_line.get(id) {
                let message = format!("`{id}` already appears on line {first}");
                errors.push(RowError { file: file.to_string(), line, column: None, message });
            } else {
                first_line.insert(id, line);
            }
        }
    }
    let (d, lines) = (&parsed.data, &parsed.lines);
    check(MEMBERS_CSV, &lines.members, d.members.iter().map(|m| m.id.as_str()), errors);
    check(ORDERS_CSV, &lines.orders, d.orders.iter().map(|o| o.id.as_str()), errors);
    check(EVENTS_CSV, &lines.events, d.events.iter().map(|e| e.id.as_str()), errors);
    check(PRODUCTS_CSV, &lines.products, d.products.iter().map(|p| p.sku.as_str()), errors);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_amounts_become_whole_fen() {
        assert_eq!(parse_yuan("299.00"), Ok(29_900));
        assert_eq!(parse_yuan("12.5"), Ok(1_250));
        assert_eq!(parse_yuan("0"), Ok(0));
        assert!(parse_yuan("12.345").unwrap_err().contains("fractions of a fen"));
        assert!(parse_yuan("-3").unwrap_err().contains("negative"));
        assert!(parse_yuan("12,5").unwrap_err().contains("not an amount"));
    }

    #[test]
    fn attrs_must_be_a_json_object() {
        assert_eq!(parse_attrs(r#"{ "referrer": "M1" }"#), Ok(r#"{"referrer":"M1"}"#.to_string()));
        assert!(parse_attrs("[1]").is_err());
        assert!(parse_attrs("{oops").is_err());
    }
}
