//! The columns of the CSV contract — what each holds and how long it may be —
//! and how a record is built from them, whether its fields come from a CSV
//! row or a JSON object (see [`Fields`]). One table per kind of record, so
//! the CSV reader, the ingest API and the README's limits table agree.
//!
//! Every column has a limit in bytes: an id or a name that is megabytes long
//! is not data but an attack (a huge name once made a strategy fail every run
//! on its memory cap), and the limits also bound the values error messages
//! quote. Amounts are bounded by [`MAX_AMOUNT_FEN`], so no sum of them can
//! come near overflowing.

use std::borrow::Cow;

use crate::calendar::{parse_date, parse_instant, BrandCalendar};
use crate::model::{Event, Fen, Guide, Member, Order, OrderChannel, Product, MAX_AMOUNT_FEN};

use super::RowError;

/// Ids: member, order, event, store, guide, sku. The sandbox holds a
/// touch's guide id and sku to the same 64 bytes.
pub const MAX_ID_BYTES: usize = 64;
/// A member's or a product's name.
pub const MAX_NAME_BYTES: usize = 256;
/// An event's kind, an order's or a product's category.
pub const MAX_LABEL_BYTES: usize = 64;
/// Dates, instants, amounts, levels, channels, time zones: longer than any valid one.
pub const MAX_VALUE_BYTES: usize = 64;
/// An event's attributes, a JSON object.
pub const MAX_ATTRS_BYTES: usize = 4_096;
/// A product's tags, all together.
pub const MAX_TAGS_BYTES: usize = 1_024;
/// One tag.
pub const MAX_TAG_BYTES: usize = 64;
/// The most staff tasks a guide's `daily_task_capacity` may allow: each is
/// confirmed by hand, so more than this is a typo, not a guide.
pub const MAX_DAILY_TASKS: u32 = 10_000;

/// What a column holds, which decides the JSON types the ingest API takes for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    /// Text: a JSON string only (an id sent as a number is refused, not guessed at).
    Text,
    /// A number: a JSON number or a string.
    Number,
    /// A JSON object: an object, or a string holding one.
    Object,
}

/// One column of the contract.
#[derive(Debug)]
pub struct Column {
    /// The header name in the CSV file, and the key in a JSON record.
    pub name: &'static str,
    /// What it holds: decides which JSON types are taken for it.
    pub holds: Holds,
    /// The most bytes (UTF-8, after trimming) a value may have.
    pub max_bytes: usize,
}

const fn column(name: &'static str, holds: Holds, max_bytes: usize) -> Column {
    Column { name, holds, max_bytes }
}

use Holds::{Number, Object, Text};

/// members.csv's columns, the id first.
pub const MEMBER_COLUMNS: &[Column] = &[
    column("member_id", Text, MAX_ID_BYTES),
    column("name", Text, MAX_NAME_BYTES),
    column("level", Number, MAX_VALUE_BYTES),
    column("birthday", Text, MAX_VALUE_BYTES),
    column("joined_at", Text, MAX_VALUE_BYTES),
    column("wecom_added_at", Text, MAX_VALUE_BYTES),
    column("store_id", Text, MAX_ID_BYTES),
    column("guide_id", Text, MAX_ID_BYTES),
    column("tz", Text, MAX_VALUE_BYTES),
];

/// orders.csv's columns, the id first.
pub const ORDER_COLUMNS: &[Column] = &[
    column("order_id", Text, MAX_ID_BYTES),
    column("member_id", Text, MAX_ID_BYTES),
    column("placed_at", Text, MAX_VALUE_BYTES),
    column("amount", Number, MAX_VALUE_BYTES),
    column("channel", Text, MAX_VALUE_BYTES),
    column("category", Text, MAX_LABEL_BYTES),
    column("sku", Text, MAX_ID_BYTES),
];

/// events.csv's columns, the id first.
pub const EVENT_COLUMNS: &[Column] = &[
    column("event_id", Text, MAX_ID_BYTES),
    column("member_id", Text, MAX_ID_BYTES),
    column("kind", Text, MAX_LABEL_BYTES),
    column("at", Text, MAX_VALUE_BYTES),
    column("attrs", Object, MAX_ATTRS_BYTES),
];

/// products.csv's columns, the id (sku) first.
pub const PRODUCT_COLUMNS: &[Column] = &[
    column("sku", Text, MAX_ID_BYTES),
    column("name", Text, MAX_NAME_BYTES),
    column("category", Text, MAX_LABEL_BYTES),
    column("price", Number, MAX_VALUE_BYTES),
    column("launched_at", Text, MAX_VALUE_BYTES),
    column("tags", Text, MAX_TAGS_BYTES),
];

/// guides.csv's columns, the id first.
pub const GUIDE_COLUMNS: &[Column] = &[
    column("guide_id", Text, MAX_ID_BYTES),
    column("store_id", Text, MAX_ID_BYTES),
    column("name", Text, MAX_NAME_BYTES),
    column("status", Text, MAX_VALUE_BYTES),
    column("left_at", Text, MAX_VALUE_BYTES),
    column("daily_task_capacity", Number, MAX_VALUE_BYTES),
];

/// One record's fields, wherever they come from: a CSV row or a JSON object.
pub(crate) trait Fields {
    /// The value of `column`, trimmed; empty when the cell is empty or the
    /// key absent or null. `Err` (a message) for a value of the wrong JSON type.
    fn raw(&self, column: &Column) -> Result<Cow<'_, str>, String>;
    /// An error about `column` of this record.
    fn error(&self, column: &Column, message: String) -> RowError;
}

/// A record's fields, checked against its columns' limits as they are read.
pub(crate) struct Record<'a> {
    fields: &'a dyn Fields,
    columns: &'static [Column],
}

impl<'a> Record<'a> {
    pub fn new(fields: &'a dyn Fields, columns: &'static [Column]) -> Self {
        Record { fields, columns }
    }

    fn column(&self, name: &str) -> &'static Column {
        self.columns.iter().find(|c| c.name == name).expect("a parser reads only its own columns")
    }

    fn error(&self, column: &Column, message: String) -> RowError {
        self.fields.error(column, message)
    }

    /// The value, empty or not, within its column's limit.
    fn text(&self, name: &str) -> Result<String, RowError> {
        let column = self.column(name);
        let value = self.fields.raw(column).map_err(|message| self.error(column, message))?;
        if value.len() > column.max_bytes {
            let message = format!("is {} bytes long; the limit is {} bytes", value.len(), column.max_bytes);
            return Err(self.error(column, message));
        }
        // Tens of millions of values in a large import: one pass over the
        // bytes rules out both faults below for nearly all of them (a C1
        // control character's UTF-8 starts with 0xC2).
        let surely_clean = value.bytes().all(|b| b >= 0x20 && b != 0x7f && b != 0xc2);
        if !surely_clean && value.contains(['\n', '\r']) {
            return Err(self.error(column, "holds a line break; no value may span lines".to_string()));
        }
        // NUL, escape sequences and the like: no id, name or label holds one,
        // and they would travel on into messages and logs.
        let control = || value.chars().find(|&c| c.is_control() && c != '\t');
        if let Some(control) = (!surely_clean).then(control).flatten() {
            let message = format!("holds the control character U+{:04X}", u32::from(control));
            return Err(self.error(column, message));
        }
        Ok(value.into_owned())
    }

    fn required(&self, name: &str) -> Result<String, RowError> {
        let value = self.text(name)?;
        if value.is_empty() {
            return Err(self.error(self.column(name), "is empty".to_string()));
        }
        Ok(value)
    }

    fn optional(&self, name: &str) -> Result<Option<String>, RowError> {
        Ok(Some(self.text(name)?).filter(|v| !v.is_empty()))
    }

    fn parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, RowError> {
        let value = self.required(name)?;
        parse(&value).map_err(|message| self.error(self.column(name), message))
    }

    fn parsed_optional<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, RowError> {
        let value = self.optional(name)?;
        value.map(|v| parse(&v).map_err(|message| self.error(self.column(name), message))).transpose()
    }
}

pub(crate) fn member(r: &Record<'_>) -> Result<Member, RowError> {
    Ok(Member {
        id: r.required("member_id")?,
        name: r.text("name")?,
        level: r.parsed("level", parse_level)?,
        birthday: r.parsed_optional("birthday", parse_date)?,
        joined_at: r.parsed("joined_at", parse_instant)?,
        wecom_added_at: r.parsed_optional("wecom_added_at", parse_instant)?,
        store_id: r.required("store_id")?,
        guide_id: r.required("guide_id")?,
        tz: r.parsed_optional("tz", |name| BrandCalendar::named(name).map(|_| name.to_string()))?,
    })
}

pub(crate) fn order(r: &Record<'_>) -> Result<Order, RowError> {
    Ok(Order {
        id: r.required("order_id")?,
        member_id: r.required("member_id")?,
        placed_at: r.parsed("placed_at", parse_instant)?,
        amount: r.parsed("amount", parse_yuan)?,
        channel: r.parsed("channel", parse_channel)?,
        category: r.required("category")?,
        sku: r.required("sku")?,
    })
}

pub(crate) fn event(r: &Record<'_>) -> Result<Event, RowError> {
    Ok(Event {
        id: r.required("event_id")?,
        member_id: r.required("member_id")?,
        kind: r.required("kind")?,
        at: r.parsed("at", parse_instant)?,
        attrs: r.parsed_optional("attrs", parse_attrs)?.unwrap_or_else(|| "{}".to_string()),
    })
}

pub(crate) fn product(r: &Record<'_>) -> Result<Product, RowError> {
    Ok(Product {
        sku: r.required("sku")?,
        name: r.text("name")?,
        category: r.required("category")?,
        price: r.parsed("price", parse_yuan)?,
        launched_at: r.parsed("launched_at", parse_instant)?,
        tags: r.parsed_optional("tags", parse_tags)?.unwrap_or_default(),
    })
}

/// A guide: `status` is `active` or `left`, and `left_at` is set exactly
/// when the guide left — a row saying both, or neither, is refused rather
/// than guessed at.
pub(crate) fn guide(r: &Record<'_>) -> Result<Guide, RowError> {
    let (id, store_id, name) = (r.required("guide_id")?, r.required("store_id")?, r.text("name")?);
    let left = r.parsed("status", parse_status)?;
    let left_at = r.parsed_optional("left_at", parse_instant)?;
    let mismatch = match (left, left_at) {
        (true, None) => Some("is empty: a guide whose status is `left` needs the instant they left"),
        (false, Some(_)) => Some("is set, but the status is `active` (a guide who left has status `left`)"),
        _ => None,
    };
    if let Some(message) = mismatch {
        return Err(r.error(r.column("left_at"), message.to_string()));
    }
    let daily_task_capacity = r.parsed_optional("daily_task_capacity", parse_capacity)?;
    Ok(Guide { id, store_id, name, left_at, daily_task_capacity })
}

/// A value as error messages quote it: in backticks, cut short when long.
pub(crate) fn shown(text: &str) -> String {
    const SHOWN_CHARS: usize = 64;
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("`{}…`", &text[..end]),
        None => format!("`{text}`"),
    }
}

fn parse_level(text: &str) -> Result<u8, String> {
    match text.parse::<u8>() {
        Ok(level @ 1..=4) => Ok(level),
        _ => Err(format!("{} is not a member level 1–4", shown(text))),
    }
}

fn parse_channel(text: &str) -> Result<OrderChannel, String> {
    match text {
        "store" => Ok(OrderChannel::Store),
        "online" => Ok(OrderChannel::Online),
        _ => Err(format!("{} is not `store` or `online`", shown(text))),
    }
}

/// An amount in yuan to whole fen (`12.5` → 1250): digits, optionally a
/// point and up to two decimals (more only if they are zeros), from 0 to
/// [`MAX_AMOUNT_FEN`]. Written out by hand rather than with a decimal type:
/// those take `1e3`, `1_000`, `+5` and `.5`, and overflow (or panic) on
/// amounts with thirty digits, where this says what is wrong.
pub fn parse_yuan(text: &str) -> Result<Fen, String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !digits(whole) || (text.contains('.') && !digits(fraction)) {
        let why = if text.starts_with('-') {
            "is negative"
        } else if text.contains(['e', 'E']) {
            "has an exponent; write the amount out (e.g. 1000.00)"
        } else {
            "is not an amount in yuan (digits with up to two decimals, e.g. 299.00)"
        };
        return Err(format!("{} {why}", shown(text)));
    }
    let (fen_digits, beyond) = fraction.split_at(fraction.len().min(2));
    if beyond.bytes().any(|b| b != b'0') {
        return Err(format!("{} has fractions of a fen", shown(text)));
    }
    let too_large = || format!("{} is over the largest amount, {} yuan", shown(text), MAX_AMOUNT_FEN / 100);
    let whole = whole.trim_start_matches('0');
    // Twelve digits fit an i64 with room for the fen; more are over the bound anyway.
    if whole.len() > 12 {
        return Err(too_large());
    }
    let yuan: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_large())? };
    let fen: i64 = format!("{fen_digits:0<2}").parse().expect("two digits");
    let amount = yuan.checked_mul(100).and_then(|y| y.checked_add(fen)).ok_or_else(too_large)?;
    if amount > MAX_AMOUNT_FEN {
        return Err(too_large());
    }
    Ok(amount)
}

/// `left`: true; `active`: false.
fn parse_status(text: &str) -> Result<bool, String> {
    match text {
        "active" => Ok(false),
        "left" => Ok(true),
        _ => Err(format!("{} is not `active` or `left`", shown(text))),
    }
}

fn parse_capacity(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n <= MAX_DAILY_TASKS => Ok(n),
        _ => Err(format!("{} is not a number of tasks a day from 0 to {MAX_DAILY_TASKS}", shown(text))),
    }
}

fn parse_attrs(text: &str) -> Result<String, String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value.to_string()),
        Ok(_) => Err(format!("{} is not a JSON object", shown(text))),
        Err(e) => Err(format!("is not valid JSON ({e})")),
    }
}

/// `;`-separated tags, each within [`MAX_TAG_BYTES`].
fn parse_tags(text: &str) -> Result<Vec<String>, String> {
    let tags: Vec<String> = text.split(';').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
    match tags.iter().find(|t| t.len() > MAX_TAG_BYTES) {
        Some(long) => {
            Err(format!("the tag {} is {} bytes long; the limit is {MAX_TAG_BYTES} bytes", shown(long), long.len()))
        }
        None => Ok(tags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_amounts_become_whole_fen() {
        assert_eq!(parse_yuan("299.00"), Ok(29_900));
        assert_eq!(parse_yuan("12.5"), Ok(1_250));
        assert_eq!(parse_yuan("0"), Ok(0));
        assert_eq!(parse_yuan("007.10"), Ok(710));
        assert_eq!(parse_yuan("12.500"), Ok(1_250), "zeros past the fen are fen precision still");
        assert_eq!(parse_yuan("100000000"), Ok(MAX_AMOUNT_FEN));
        assert_eq!(parse_yuan("100000000.00"), Ok(MAX_AMOUNT_FEN));
    }

    #[test]
    fn amounts_that_are_not_plain_yuan_within_the_bound_are_refused_with_the_reason() {
        let refused = |text: &str, why: &str| {
            let message = parse_yuan(text).expect_err(text);
            assert!(message.contains(why), "{text}: {message}");
        };
        refused("12.345", "fractions of a fen");
        refused("-3", "negative");
        refused("-0", "negative");
        refused("1e3", "exponent");
        refused("1E3", "exponent");
        refused("1e+21", "exponent");
        refused("12,5", "not an amount");
        refused("1_000", "not an amount");
        refused("+5", "not an amount");
        refused(".5", "not an amount");
        refused("12.", "not an amount");
        refused("", "not an amount");
        refused("100000000.01", "over the largest amount, 100000000 yuan");
        refused("92233720368547758", "over the largest amount");
        // Past any decimal type's range: once a panic (exit 101, HTTP 500).
        refused("79228162514264337593543950336000", "over the largest amount");
        refused(&"9".repeat(60), "over the largest amount");
    }

    #[test]
    fn attrs_must_be_a_json_object() {
        assert_eq!(parse_attrs(r#"{ "referrer": "M1" }"#), Ok(r#"{"referrer":"M1"}"#.to_string()));
        assert!(parse_attrs("[1]").is_err());
        assert!(parse_attrs("{oops").is_err());
    }

    #[test]
    fn long_values_are_quoted_cut_short() {
        assert_eq!(shown("abc"), "`abc`");
        let long = "名".repeat(100);
        assert_eq!(shown(&long), format!("`{}…`", "名".repeat(64)));
    }

    #[test]
    fn a_tag_over_its_limit_is_refused_by_name() {
        assert_eq!(parse_tags(" hot ; ;new"), Ok(vec!["hot".to_string(), "new".to_string()]));
        let long = "x".repeat(MAX_TAG_BYTES + 1);
        assert!(parse_tags(&format!("hot;{long}")).unwrap_err().contains("65 bytes long; the limit is 64"));
    }
}
