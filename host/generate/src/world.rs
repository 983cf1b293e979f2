//! The world every member lives in: the period's calendar, the stores with their guides, and
//! the catalogue; and how a member picks a product from it.
//!
//! The world is made once, before any member is drawn, from a stream of its own (`u64::MAX - 1`),
//! and is only read afterwards; so each member's life depends on the seed, the world and its own
//! stream, and nothing on the members before it.
//!
//! Rows of the distribution table in `docs/simulation.md` made here: category (favourites times
//! the season); the stores are 24, with 3 to 6 guides each.

use anyhow::Result;
use rand::Rng;

use crate::calendar::{Calendar, DAY};
use crate::members::GeneratedMember;
use crate::products::{catalogue, GeneratedProduct};
use crate::sampling::{pick, stream_rng};
use crate::tables::CATEGORIES;
use crate::GenerateOptions;

/// What all members share.
pub(crate) struct World {
    pub(crate) cal: Calendar,
    /// In launch order, so each category's and the group-buy list are too.
    pub(crate) products: Vec<GeneratedProduct>,
    by_category: Vec<Vec<u16>>,
    group_buy: Vec<u16>,
    pub(crate) guides_per_store: Vec<u8>,
}

impl World {
    pub(crate) fn new(options: &GenerateOptions) -> Result<Self> {
        let cal = Calendar::new(options)?;
        let mut rng = stream_rng(options.seed, u64::MAX - 1);
        let guides_per_store = (0..24).map(|_| rng.random_range(3..=6)).collect();
        let products = catalogue(&cal, &mut rng);
        let mut by_category = vec![Vec::new(); CATEGORIES.len()];
        for (i, p) in products.iter().enumerate() {
            by_category[p.category as usize].push(i as u16);
        }
        let group_buy = (0..products.len() as u16).filter(|&i| products[i as usize].group_buy).collect();
        Ok(World { cal, products, by_category, group_buy, guides_per_store })
    }

    pub(crate) fn product(&self, index: u16) -> &GeneratedProduct {
        &self.products[index as usize]
    }

    /// A product of a category the member likes and the season favours, launched by `at`;
    /// hot and recent products are likelier.
    pub(crate) fn pick_product(&self, rng: &mut impl Rng, member: &GeneratedMember, at: i64) -> Option<u16> {
        let month = self.cal.month_of(at);
        let weights: [f64; 9] = std::array::from_fn(|c| member.favourites[c] * CATEGORIES[c].season[month - 1]);
        let category = &self.by_category[pick(rng, &weights)];
        let launched = &category[..category.partition_point(|&p| self.product(p).launched <= at)];
        let weight = |p: u16| {
            let p = self.product(p);
            1.0 + 2.0 * f64::from(p.hot as u8) + 2.0 * f64::from((at - p.launched < 60 * DAY) as u8)
        };
        let mut x = rng.random::<f64>() * launched.iter().map(|&p| weight(p)).sum::<f64>();
        for &p in launched {
            x -= weight(p);
            if x < 0.0 {
                return Some(p);
            }
        }
        launched.last().copied()
    }

    pub(crate) fn pick_group_buy(&self, rng: &mut impl Rng, at: i64) -> Option<u16> {
        let launched = self.group_buy.partition_point(|&p| self.product(p).launched <= at);
        (launched > 0).then(|| self.group_buy[rng.random_range(0..launched)])
    }
}
