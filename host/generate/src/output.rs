//! The CSV files: their headers, rows and field formats.
//!
//! Rows are formatted straight into buffered files: every value is an id, a number, a fixed word
//! or a product name without commas or quotes, so only the events' JSON attributes may need
//! quoting ([`write_quoted`]). Instants are written in RFC 3339 with the `+08:00` offset, or for a
//! share of the rows (the UTC share in `docs/simulation.md`) as the same instant in UTC with `Z`,
//! so that a data set carries both forms an importer must read. Members' rows are written as each
//! member is drawn (`members.rs`), the other files once everything is drawn and sorted.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use chrono::Datelike;

use crate::calendar::{date_of_epoch_day, DAY};
use crate::events::{EventKind, GeneratedEvent};
use crate::orders::GeneratedOrder;
use crate::products::GeneratedProduct;
use crate::tables::{CATEGORIES, PAGES};
use crate::world::World;

/// Creates `name` in `dir` and writes its header line.
pub(crate) fn csv_file(dir: &Path, name: &str, header: &str) -> Result<BufWriter<File>> {
    let path = dir.join(name);
    let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    writeln!(w, "{header}")?;
    Ok(w)
}

pub(crate) fn write_products(world: &World, dir: &Path) -> Result<()> {
    let header = "sku,name,category,price,launched_at,tags";
    let mut w = csv_file(dir, "products.csv", header)?;
    for p in &world.products {
        let (category, price) = (CATEGORIES[p.category as usize].name, Money(p.cents));
        let launched = world.cal.rfc3339(p.launched, false);
        write!(w, "{},{},{category},{price},{launched},", Sku(p), p.name)?;
        let tags = [(p.hot, "hot"), (p.group_buy, "group_buy"), (p.launched >= world.cal.midnight(0), "new")];
        for (i, (_, tag)) in tags.iter().filter(|t| t.0).enumerate() {
            write!(w, "{}{tag}", if i > 0 { ";" } else { "" })?;
        }
        writeln!(w)?;
    }
    Ok(w.flush()?)
}

pub(crate) fn write_orders(world: &World, orders: &[GeneratedOrder], dir: &Path) -> Result<()> {
    let header = "order_id,member_id,placed_at,amount,channel,category,sku";
    let mut w = csv_file(dir, "orders.csv", header)?;
    for (i, o) in orders.iter().enumerate() {
        let p = world.product(o.product);
        let (id, member, amount) = (i + 1, o.member + 1, Money(o.cents));
        let (at, sku) = (world.cal.rfc3339(o.at, o.utc), Sku(p));
        let category = CATEGORIES[p.category as usize].name;
        let channel = if o.online { "online" } else { "store" };
        writeln!(w, "O{id:07},M{member:06},{at},{amount},{channel},{category},{sku}")?;
    }
    Ok(w.flush()?)
}

pub(crate) fn write_events(world: &World, events: &[GeneratedEvent], dir: &Path) -> Result<()> {
    let mut w = csv_file(dir, "events.csv", "event_id,member_id,kind,at,attrs")?;
    let mut attrs = String::new();
    for (i, e) in events.iter().enumerate() {
        let kind = match e.kind {
            EventKind::Visit => "mini_program_visit",
            EventKind::ProductView => "product_view",
            EventKind::OutOfStockRequest => "out_of_stock_request",
            EventKind::CouponIssued => "coupon_issued",
            EventKind::CouponRedeemed => "coupon_redeemed",
            EventKind::GroupBuyJoined => "group_buy_joined",
            EventKind::WecomDeleted => "wecom_deleted",
            EventKind::WecomAdded => "wecom_added",
            EventKind::Unsubscribed => "unsubscribed",
            EventKind::Resubscribed => "resubscribed",
        };
        let (id, member, at) = (i + 1, e.member + 1, world.cal.rfc3339(e.at, e.utc));
        write!(w, "E{id:07},M{member:06},{kind},{at},")?;
        attrs.clear();
        write_attrs(&mut attrs, world, e)?;
        write_quoted(&mut w, &attrs)?;
        writeln!(w)?;
    }
    Ok(w.flush()?)
}

/// Compact JSON; every value is an id, a number or a fixed word, so nothing needs escaping.
fn write_attrs(json: &mut String, world: &World, e: &GeneratedEvent) -> fmt::Result {
    use fmt::Write;
    let coupon = format_args!("C{:07}{:02}", e.member + 1, e.a);
    match e.kind {
        EventKind::Visit => write!(json, r#"{{"page":"{}"}}"#, PAGES[e.a as usize]),
        EventKind::ProductView => {
            let p = world.product(e.a as u16);
            write!(json, r#"{{"sku":"{}","name":"{}"}}"#, Sku(p), p.name)
        }
        EventKind::OutOfStockRequest => {
            let (store, size, sensitive) = crate::browsing::unpack_request(e.b);
            let sku = Sku(world.product(e.a as u16));
            let store = store + 1;
            write!(json, r#"{{"sku":"{sku}","size":"{size}","store_id":"S{store:02}","price_sensitive":{sensitive}}}"#)
        }
        EventKind::CouponIssued => write!(json, r#"{{"coupon_id":"{coupon}","value":{}}}"#, e.b),
        EventKind::CouponRedeemed => write!(json, r#"{{"coupon_id":"{coupon}"}}"#),
        EventKind::GroupBuyJoined => {
            // One group per referrer and day: GB, the date as yymmdd, the referrer's number.
            let (yymmdd, referrer) = (date_of_epoch_day(e.at.div_euclid(DAY)).format("%y%m%d"), e.a + 1);
            let sku = Sku(world.product(e.b as u16));
            write!(json, r#"{{"referrer":"M{referrer:06}","group_id":"GB{yymmdd}{referrer:06}","sku":"{sku}"}}"#)
        }
        EventKind::WecomDeleted | EventKind::WecomAdded => Ok(()),
        EventKind::Unsubscribed | EventKind::Resubscribed => match e.a {
            crate::events::SMS => write!(json, r#"{{"channel":"sms"}}"#),
            _ => Ok(()),
        },
    }
}

/// Writes `text` as one CSV field: quoted, with its quotes doubled, when it needs to be.
fn write_quoted(w: &mut impl Write, text: &str) -> io::Result<()> {
    if !text.contains(['"', ',', '\n']) {
        return w.write_all(text.as_bytes());
    }
    w.write_all(b"\"")?;
    for (i, part) in text.split('"').enumerate() {
        w.write_all(if i > 0 { b"\"\"" } else { b"" })?;
        w.write_all(part.as_bytes())?;
    }
    w.write_all(b"\"")
}

/// An instant in RFC 3339: local time with the zone's offset, or the same instant in UTC (`Z`).
pub(crate) struct Rfc3339 {
    pub(crate) local: i64,
    pub(crate) offset: i64,
    pub(crate) utc: bool,
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.local - if self.utc { self.offset } else { 0 };
        let (date, s) = (date_of_epoch_day(t.div_euclid(DAY)), t.rem_euclid(DAY));
        let (y, mo, d) = (date.year(), date.month(), date.day());
        let (h, mi, sec) = (s / 3600, s / 60 % 60, s % 60);
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}")?;
        if self.utc {
            return f.write_str("Z");
        }
        let (sign, o) = (if self.offset < 0 { '-' } else { '+' }, self.offset.abs());
        write!(f, "{sign}{:02}:{:02}", o / 3600, o / 60 % 60)
    }
}

/// An amount in cents, written in yuan with two decimals.
struct Money(u32);

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A product's SKU: its category's prefix and its number in the category (`DR-0001`).
struct Sku<'a>(&'a GeneratedProduct);

impl fmt::Display for Sku<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = CATEGORIES[self.0.category as usize].prefix;
        write!(f, "{prefix}-{:04}", self.0.number)
    }
}

/// An optional CSV value: empty when absent.
pub(crate) struct Maybe<T>(pub(crate) Option<T>);

impl<T: fmt::Display> fmt::Display for Maybe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_ref().map_or(Ok(()), |value| value.fmt(f))
    }
}
