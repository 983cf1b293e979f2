//! The deterministic, seeded generator of realistic data sets behind `canvas gen`: the members,
//! orders, events and products of an apparel brand, and its stores' guides, written as the CSV
//! files `canvas import` reads, for trying strategies at any scale.
//!
//! [`generate`] writes `members.csv`, `orders.csv`, `events.csv`, `products.csv` and
//! `guides.csv` covering the `months` calendar months that end on `end` (Asia/Shanghai).
//!
//! # What it guarantees
//!
//! - **The same options always give byte-identical files.** Every member draws from its own
//!   ChaCha8 stream (seed, member index), so the member loop could be split across threads
//!   without changing the output; the catalogue and stores, and the group-buy referrers, draw from
//!   two streams of their own (`u64::MAX - 1` and `u64::MAX`); WeCom re-adds and consent
//!   changes, the guides, the browsing sessions and the out-of-stock requests, from streams of a
//!   seed of their own (the seed mixed with a constant), so adding them changed nothing else. `sample-data/` is this crate's
//!   output, and a host test regenerates it and compares the bytes: any change to what is drawn,
//!   or in what order, shows there.
//! - **The rows hold together:** an order is placed by a member who had joined, for a product
//!   launched by then, in its category; an event comes after its member joined; a coupon is
//!   redeemed only once issued; a group buy's referrer had ordered before it; orders are in time
//!   order (the tests in `tests.rs` check each of these).
//! - **The distributions** it draws from (life-cycle mix, demand by day, prices, hours, WeCom,
//!   visits, group buys, coupons, the catalogue) are described, one row each, in the table of
//!   `docs/simulation.md` ("Data at any scale"); each module's doc names the rows it makes.
//!
//! It uses nothing of the host: the CSV format `canvas import` reads is its only contract with
//! it. Its record types are named `Generated…` so that they are not taken for the host's model
//! (`canvas::model::Member` and the others), which they are not: they are the generator's own
//! compact rows, written straight to CSV.
//!
//! # How it is laid out
//!
//! One module per part, in about the order [`generate`] needs them:
//!
//! | module | what |
//! |---|---|
//! | `calendar` | the period's days: demand, promotions, sign-up weights; instants as local seconds |
//! | `tables` | the lists drawn from: categories and their seasons, names, opening hours, Chinese New Year |
//! | `products` | the catalogue: a base launched before the period, then seasonal drops |
//! | `world` | what all members share: the calendar, the catalogue, the stores; picking a product |
//! | `members` | who each member is, their life simulated on their own stream, and their CSV row |
//! | `orders` | a member's orders: the first purchase, the purchases after it, the prices paid |
//! | `events` | a member's visits, coupons, group buys and WeCom deletion; the group-buy referrers |
//! | `browsing` | what strategies react to: product views in browsing sessions, out-of-stock requests |
//! | `guides` | the stores' guides: who left and when, and how many staff tasks a day each takes |
//! | `sampling` | the random streams, weighted picks, exponential gaps, times of day |
//! | `output` | the CSV files: RFC 3339 instants, amounts, SKUs, quoting |

#![warn(missing_docs)]

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDate;

mod browsing;
mod calendar;
mod events;
mod guides;
mod members;
mod orders;
mod output;
mod products;
mod sampling;
// The lists read as tables only if rustfmt leaves their long lines alone.
#[rustfmt::skip]
mod tables;
#[cfg(test)]
mod tests;
mod world;

use events::resolve_referrers;
use members::Life;
use output::{csv_file, write_events, write_orders, write_products};
use sampling::stream_rng;
use world::World;

/// What `canvas gen` asks for.
pub struct GenerateOptions {
    /// How many members; they are numbered `M000001` on.
    pub members: u32,
    /// How many calendar months of data, ending with `end`'s month.
    pub months: u32,
    /// The seed every random stream derives from.
    pub seed: u64,
    /// The last day of the data, in Asia/Shanghai.
    pub end: NaiveDate,
}

/// How many rows each file got.
pub struct GenerateSummary {
    /// Rows of members.csv.
    pub members: u64,
    /// Rows of orders.csv.
    pub orders: u64,
    /// Rows of events.csv.
    pub events: u64,
    /// Rows of products.csv.
    pub products: u64,
    /// Rows of guides.csv.
    pub guides: u64,
}

/// Writes the five CSV files into `out` (created if need be), replacing any already there.
pub fn generate(options: &GenerateOptions, out: &Path) -> Result<GenerateSummary> {
    let world = World::new(options)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let header = "member_id,name,level,birthday,joined_at,wecom_added_at,store_id,guide_id,tz";
    let mut members_csv = csv_file(out, "members.csv", header)?;
    let (mut orders, mut events) = (Vec::new(), Vec::new());
    for index in 0..options.members {
        let mut life = Life::new(&world, options.seed, index, &mut orders, &mut events);
        life.simulate();
        let store = life.write_member(&mut members_csv)?;
        life.add_out_of_stock(store);
    }
    members_csv.flush()?;

    orders.sort_unstable_by_key(|o| (o.at, o.member, o.product));
    let mut referrer_rng = stream_rng(options.seed, u64::MAX);
    resolve_referrers(&mut events, &orders, &mut referrer_rng);
    events.sort_unstable_by_key(|e| (e.at, e.member, e.kind, e.a));
    write_products(&world, out)?;
    write_orders(&world, &orders, out)?;
    write_events(&world, &events, out)?;
    let guides = guides::write_guides(&world, options.seed, out)?;
    let count = |n: usize| n as u64;
    Ok(GenerateSummary {
        members: options.members as u64,
        orders: count(orders.len()),
        events: count(events.len()),
        products: count(world.products.len()),
        guides,
    })
}
