//! Records sent as JSON — to the ingest API, or in a `canvas plugin test`
//! fixture — read with the CSV contract's columns, limits and rules, and
//! strict about types: a text column takes a JSON string only, a numeric
//! one (`level`, `amount`, `price`) a number or a string, `attrs` an object
//! (or a string holding one); null or an absent key is an empty value. A
//! key that is no column is refused: in JSON it is far more likely a typo
//! than the extra column a CSV export carries.
//!
//! Errors name the record, counted from 1 (the array's first element, or
//! the first non-blank line of NDJSON), and the field:
//! `orders record 3: field \`amount\`: …`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::columns::{shown, Column, Fields, Holds, Record};
use super::{check_unique_ids, columns, ImportRefused, ImportSource, Location, ParsedImport, RecordKind, RowError};

/// Parses records sent as JSON: an array of objects, or NDJSON (one object a
/// line), told apart by the body's first character.
pub fn parse_json(kind: RecordKind, body: &str) -> Result<ParsedImport, ImportRefused> {
    let objects = records(kind, body).map_err(|error| ImportRefused { errors: vec![error] })?;
    let mut parsed = ParsedImport::new(ImportSource::Request(kind));
    let mut errors = Vec::new();
    let (lines, data) = (&mut parsed.lines, &mut parsed.data);
    match kind {
        RecordKind::Members => (lines.members, data.members) = rows(kind, &objects, columns::member, &mut errors),
        RecordKind::Orders => (lines.orders, data.orders) = rows(kind, &objects, columns::order, &mut errors),
        RecordKind::Events => (lines.events, data.events) = rows(kind, &objects, columns::event, &mut errors),
        RecordKind::Products => (lines.products, data.products) = rows(kind, &objects, columns::product, &mut errors),
        RecordKind::Guides => (lines.guides, data.guides) = rows(kind, &objects, columns::guide, &mut errors),
    }
    check_unique_ids(&parsed, &mut errors);
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(ImportRefused { errors })
    }
}

fn json_error(kind: RecordKind, record: u64, field: Option<&str>, message: String) -> RowError {
    RowError { at: Location::Json { kind, record, field: field.map(str::to_string) }, message }
}

/// The body's records, numbered from 1.
fn records(kind: RecordKind, body: &str) -> Result<Vec<(u64, Value)>, RowError> {
    if body.trim_start().starts_with('[') {
        let values: Vec<Value> = serde_json::from_str(body)
            .map_err(|e| json_error(kind, 0, None, format!("the body is not a JSON array of objects: {e}")))?;
        return Ok((1..).zip(values).collect());
    }
    let mut values = Vec::new();
    for (index, line) in body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let number = values.len() as u64 + 1;
        let value = serde_json::from_str(line).map_err(|e| {
            json_error(kind, number, None, format!("is not JSON (line {} of the body): {e}", index + 1))
        })?;
        values.push((number, value));
    }
    Ok(values)
}

/// One JSON object as a record's fields.
pub(crate) struct JsonRecord<'a> {
    kind: RecordKind,
    number: u64,
    object: &'a Map<String, Value>,
}

impl Fields for JsonRecord<'_> {
    fn raw(&self, column: &Column) -> Result<Cow<'_, str>, String> {
        match (self.object.get(column.name), column.holds) {
            (None | Some(Value::Null), _) => Ok(Cow::Borrowed("")),
            (Some(Value::String(text)), _) => Ok(Cow::Borrowed(text.trim())),
            (Some(Value::Number(n)), Holds::Number) => Ok(Cow::Owned(n.to_string())),
            (Some(object @ Value::Object(_)), Holds::Object) => Ok(Cow::Owned(object.to_string())),
            (Some(other), holds) => {
                let expected = match holds {
                    Holds::Text => "a string",
                    Holds::Number => "a number or a string",
                    Holds::Object => "an object (or a string holding one)",
                };
                Err(format!("is {}, not {expected}", what_json(other)))
            }
        }
    }

    fn error(&self, column: &Column, message: String) -> RowError {
        json_error(self.kind, self.number, Some(column.name), message)
    }
}

/// A JSON value's type, for errors.
fn what_json(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("a number ({})", shown(&n.to_string())),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn rows<T>(
    kind: RecordKind,
    objects: &[(u64, Value)],
    parse: impl Fn(&Record<'_>) -> Result<T, RowError>,
    errors: &mut Vec<RowError>,
) -> (Vec<u64>, Vec<T>) {
    let columns = kind.columns();
    let mut rows = (Vec::new(), Vec::new());
    for &(number, ref value) in objects {
        let Some(object) = value.as_object() else {
            errors.push(json_error(kind, number, None, format!("is {}, not an object", what_json(value))));
            continue;
        };
        if let Some(unknown) = object.keys().find(|key| !columns.iter().any(|c| c.name == key.as_str())) {
            let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
            let message = format!("is not a field of {} records (they are: {})", kind.name(), names.join(", "));
            errors.push(json_error(kind, number, Some(&shown_key(unknown)), message));
            continue;
        }
        let record = JsonRecord { kind, number, object };
        match parse(&Record::new(&record, columns)) {
            Ok(value) => {
                rows.0.push(number);
                rows.1.push(value);
            }
            Err(error) => errors.push(error),
        }
    }
    rows
}

/// An unknown key as errors name it: cut short, as it can be any length.
fn shown_key(key: &str) -> String {
    let quoted = shown(key);
    quoted[1..quoted.len() - 1].to_string()
}
