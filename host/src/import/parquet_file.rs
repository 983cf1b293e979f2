//! Reads one Parquet file of the contract (`members.parquet`, …), as a
//! warehouse exports it: columns found by name (extra ones ignored, every
//! contract column required, as in CSV), each value turned into the text
//! the CSV contract holds and then checked by the same column rules — so a
//! Parquet import refuses what a CSV import refuses, in the same words, at
//! the file, row (1-based) and column.
//!
//! Types taken: text; integers; floating and decimal numbers (`amount`,
//! `price`: in yuan); dates (`birthday`); timestamps adjusted to UTC
//! (`TIMESTAMP WITH TIME ZONE`, Spark's default), read as the instant they
//! are. A timestamp without a time zone is refused for its column, as a CSV
//! instant without an offset is: which zone it meant is not in the file.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, SecondsFormat};
use parquet::basic::LogicalType;
use parquet::data_type::Decimal;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use super::columns::{Column, Fields, Record};
use super::csv_file::FileRows;
use super::{Location, RecordKind, RowError};

/// One row, its contract columns as text.
struct ParquetRow<'a> {
    file: &'a str,
    row: u64,
    /// By contract column name: the value as text, or why it cannot be one.
    values: HashMap<&'static str, Result<String, String>>,
}

impl Fields for ParquetRow<'_> {
    fn raw(&self, column: &Column) -> Result<Cow<'_, str>, String> {
        match self.values.get(column.name) {
            Some(Ok(text)) => Ok(text.trim().into()),
            Some(Err(why)) => Err(why.clone()),
            None => Ok("".into()),
        }
    }

    fn error(&self, column: &Column, message: String) -> RowError {
        parquet_error(self.file, self.row, Some(column.name), message)
    }
}

pub(super) fn parquet_error(file: &str, row: u64, column: Option<&str>, message: String) -> RowError {
    RowError { at: Location::Parquet { file: file.to_string(), row, column: column.map(str::to_string) }, message }
}

/// The good rows of `kind`'s Parquet file in `dir`; every fault goes to `errors`.
pub(super) fn read_file<T>(
    dir: &Path,
    kind: RecordKind,
    parse: impl Fn(&Record<'_>) -> Result<T, RowError>,
    found: &mut Vec<PathBuf>,
    errors: &mut Vec<RowError>,
) -> FileRows<T> {
    let name = kind.parquet_name();
    let path = dir.join(name);
    let mut rows = FileRows::default();
    found.push(path.clone());
    if !path.metadata().is_ok_and(|m| m.is_file()) {
        errors.push(parquet_error(name, 0, None, "is not a regular file".to_string()));
        return rows;
    }
    let reader = match File::open(&path).map_err(|e| e.to_string()).and_then(|file| {
        SerializedFileReader::new(file).map_err(|e| format!("is not a Parquet file this can read ({e})"))
    }) {
        Ok(reader) => reader,
        Err(e) => {
            errors.push(parquet_error(name, 0, None, e));
            return rows;
        }
    };
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let fields = schema.root_schema().get_fields();
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    let needed = kind.columns();
    let missing: Vec<String> =
        needed.iter().filter(|c| !names.contains(&c.name)).map(|c| format!("`{}`", c.name)).collect();
    if !missing.is_empty() {
        let plural = if missing.len() == 1 { "" } else { "s" };
        let message = format!("missing column{plural} {} (the file has: {})", missing.join(", "), names.join(","));
        errors.push(parquet_error(name, 0, None, message));
        return rows;
    }
    for field in fields.iter().filter(|f| needed.iter().any(|c| c.name == f.name())) {
        if let Some(LogicalType::Timestamp(t)) = field.get_basic_info().logical_type_ref() {
            if !t.is_adjusted_to_u_t_c {
                let message = "is a timestamp without a time zone: export it with one (TIMESTAMP WITH TIME ZONE), \
                               or as text with an offset"
                    .to_string();
                errors.push(parquet_error(name, 0, Some(field.name()), message));
                return rows;
            }
        }
    }
    rows.columns = needed.iter().map(|c| (c.name, names.iter().position(|n| *n == c.name).expect("checked"))).collect();
    let iter = match reader.get_row_iter(None) {
        Ok(iter) => iter,
        Err(e) => {
            errors.push(parquet_error(name, 0, None, format!("cannot be read: {e}")));
            return rows;
        }
    };
    for (row, read) in (1..).zip(iter) {
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                errors.push(parquet_error(name, row, None, format!("cannot be read: {e}")));
                return rows;
            }
        };
        let values = read
            .get_column_iter()
            .filter_map(|(column, value)| {
                let contract = needed.iter().find(|c| c.name == column.as_str())?;
                Some((contract.name, text_of(value)))
            })
            .collect();
        let fields = ParquetRow { file: name, row, values };
        match parse(&Record::new(&fields, needed)) {
            Ok(value) => {
                rows.lines.push(row);
                rows.records.push(value);
            }
            Err(error) => errors.push(error),
        }
    }
    rows
}

/// A value as the CSV contract writes it; why not, for a type no column holds.
fn text_of(value: &Field) -> Result<String, String> {
    Ok(match value {
        Field::Null => String::new(),
        Field::Str(text) => text.clone(),
        Field::Bytes(bytes) => {
            return bytes.as_utf8().map(str::to_string).map_err(|_| "is binary data that is not UTF-8 text".to_string())
        }
        Field::Bool(b) => b.to_string(),
        Field::Byte(n) => n.to_string(),
        Field::Short(n) => n.to_string(),
        Field::Int(n) => n.to_string(),
        Field::Long(n) => n.to_string(),
        Field::UByte(n) => n.to_string(),
        Field::UShort(n) => n.to_string(),
        Field::UInt(n) => n.to_string(),
        Field::ULong(n) => n.to_string(),
        // Display never writes an exponent; a non-finite value is refused by the column.
        Field::Float(x) => x.to_string(),
        Field::Double(x) => x.to_string(),
        Field::Decimal(d) => decimal_text(d)?,
        Field::Date(days) => NaiveDate::from_epoch_days(*days)
            .ok_or_else(|| format!("is a date {days} days from 1970, out of range"))?
            .format("%Y-%m-%d")
            .to_string(),
        Field::TimestampMillis(ms) => instant_text(DateTime::from_timestamp_millis(*ms))?,
        Field::TimestampMicros(us) => instant_text(DateTime::from_timestamp_micros(*us))?,
        other => return Err(format!("is a {}, which no column of the contract holds", kind_of(other))),
    })
}

fn instant_text(at: Option<DateTime<chrono::Utc>>) -> Result<String, String> {
    at.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)).ok_or_else(|| "is a timestamp out of range".to_string())
}

/// The decimal's digits with its scale, e.g. `12345` at scale 2 is `123.45`.
fn decimal_text(d: &Decimal) -> Result<String, String> {
    let bytes = d.data();
    if bytes.is_empty() || bytes.len() > 16 {
        return Err(format!("is a decimal of {} bytes, more than any amount", bytes.len()));
    }
    // Big-endian two's complement, sign-extended to 128 bits.
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut wide = [fill; 16];
    wide[16 - bytes.len()..].copy_from_slice(bytes);
    let unscaled = i128::from_be_bytes(wide);
    let scale = d.scale();
    if scale <= 0 {
        return Ok(format!("{unscaled}{}", "0".repeat(scale.unsigned_abs() as usize)));
    }
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    Ok(format!("{}{whole}.{fraction}", if unscaled < 0 { "-" } else { "" }))
}

fn kind_of(value: &Field) -> &'static str {
    match value {
        Field::TimeMillis(_) | Field::TimeMicros(_) => "time of day",
        Field::Group(_) => "struct",
        Field::ListInternal(_) => "list",
        Field::MapInternal(_) => "map",
        _ => "value of another type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_as_their_digits_at_their_scale() {
        let text = |unscaled: i64, scale: i32| decimal_text(&Decimal::from_i64(unscaled, 18, scale)).unwrap();
        assert_eq!(text(12345, 2), "123.45");
        assert_eq!(text(-5, 2), "-0.05");
        assert_eq!(text(7, 0), "7");
        assert_eq!(text(7, -2), "700");
        assert_eq!(decimal_text(&Decimal::from_i32(-1999, 9, 1)).unwrap(), "-199.9");
    }

    #[test]
    fn instants_read_in_utc_and_dates_as_the_contract_writes_them() {
        assert_eq!(text_of(&Field::TimestampMillis(1_772_337_600_000)).unwrap(), "2026-03-01T04:00:00Z");
        assert_eq!(text_of(&Field::TimestampMicros(1_772_337_600_123_000)).unwrap(), "2026-03-01T04:00:00.123Z");
        assert_eq!(text_of(&Field::Date(20_513)).unwrap(), "2026-03-01");
        assert!(text_of(&Field::TimeMillis(5)).unwrap_err().contains("time of day"));
    }
}
