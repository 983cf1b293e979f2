//! What members do that strategies react to (the triggers of `canvas:strategy@0.4.0`): product
//! pages viewed (`product_view`) and sizes asked for in a store that it did not have
//! (`out_of_stock_request`).
//!
//! A visit to a product page is a `product_view` (`events.rs` draws the visits). On a stream of
//! its own, so that adding these changed no other draw, each visit is a browsing session: 0 to 3
//! more product pages a few minutes apart, of products the member likes. Most sessions are not
//! followed by an order within a day; the page viewed before half the online orders is.
//!
//! Out-of-stock requests are drawn once the member's store is known (it is drawn with the row,
//! `members.rs`): 6% of store purchases come with a request for another product in a size the
//! store lacked, made in the member's own store (`attrs.store_id`), shortly before paying; a
//! third of the askers are marked price-sensitive by the guide. Nothing is bought online after
//! them here: what the guide's link recovers is the strategy's to show, live.
//!
//! Rows of the distribution table in `docs/simulation.md` made here: product views, out-of-stock
//! requests.

use rand::Rng;

use crate::events::{EventKind, GeneratedEvent};
use crate::members::Life;
use crate::sampling::{pick, stream_rng};
use crate::tables::CATEGORIES;

const MINUTE: i64 = 60;
/// Mixed into the seed for the browsing sessions' stream.
const BROWSE_STREAM: u64 = 0xB2_0425;
/// Mixed into the seed for the out-of-stock requests' stream.
const OUT_OF_STOCK_STREAM: u64 = 0x0005_70C4;
/// The sizes asked for, and how often; accessories are one size.
pub(crate) const SIZES: [&str; 5] = ["S", "M", "L", "XL", "XXL"];
const SIZE_WEIGHTS: [f64; 5] = [2.0, 4.0, 4.0, 2.0, 1.0];
pub(crate) const ONE_SIZE: &str = "F";
/// Share of store purchases that come with an out-of-stock request.
const OUT_OF_STOCK_SHARE: f64 = 0.06;
const PRICE_SENSITIVE_SHARE: f64 = 0.35;

/// `b` of an out-of-stock request: the store (index), the size (index into [`SIZES`], or
/// `SIZES.len()` for one size) and whether the member is price-sensitive, packed.
pub(crate) fn pack_request(store: u32, size: u32, price_sensitive: bool) -> u32 {
    store | size << 8 | u32::from(price_sensitive) << 12
}

/// The store, size and price-sensitivity packed by [`pack_request`].
pub(crate) fn unpack_request(b: u32) -> (u32, &'static str, bool) {
    let size = (b >> 8 & 0xF) as usize;
    (b & 0xFF, SIZES.get(size).copied().unwrap_or(ONE_SIZE), b >> 12 & 1 == 1)
}

impl Life<'_> {
    /// A browsing session after each of `visits` (instants): more product pages, minutes apart.
    pub(crate) fn add_browsing(&mut self, visits: &[i64]) {
        let mut rng = stream_rng(self.seed ^ BROWSE_STREAM, self.m.index as u64);
        for &visit in visits {
            let mut at = visit;
            for _ in 0..rng.random_range(0..=3) {
                at += rng.random_range(1..=8) * MINUTE;
                if at > self.world.cal.end {
                    break;
                }
                if let Some(product) = self.world.pick_product(&mut rng, &self.m, at) {
                    self.push(&mut rng, at, EventKind::ProductView, u32::from(product), 0);
                }
            }
        }
    }

    /// Out-of-stock requests at a share of the member's store purchases, in `store` (index).
    pub(crate) fn add_out_of_stock(&mut self, store: u32) {
        let mut rng = stream_rng(self.seed ^ OUT_OF_STOCK_STREAM, self.m.index as u64);
        for i in self.own_orders..self.orders.len() {
            let o = self.orders[i];
            if o.online || !rng.random_bool(OUT_OF_STOCK_SHARE) {
                continue;
            }
            let at = (o.at - rng.random_range(2..30) * MINUTE).max(self.m.joined);
            let Some(product) = self.world.pick_product(&mut rng, &self.m, at) else { continue };
            let one_size = CATEGORIES[self.world.product(product).category as usize].name == "accessories";
            let size = if one_size { SIZES.len() } else { pick(&mut rng, &SIZE_WEIGHTS) };
            let sensitive = rng.random_bool(PRICE_SENSITIVE_SHARE);
            let b = pack_request(store, size as u32, sensitive);
            self.push(&mut rng, at, EventKind::OutOfStockRequest, u32::from(product), b);
        }
    }

    fn push(&mut self, rng: &mut impl Rng, at: i64, kind: EventKind, a: u32, b: u32) {
        let utc = rng.random_bool(crate::events::UTC_SHARE_EVENTS);
        self.events.push(GeneratedEvent { at, member: self.m.index, kind, utc, a, b });
    }
}
