//! The product catalogue: a base launched in the year before the period, then seasonal drops
//! through it.
//!
//! The catalogue is made once, before any member, from the stream the stores use too (see
//! `world.rs`); members then only pick from it. Products are kept in launch order and numbered
//! within their category in that order, so a SKU (`DR-0001`) says which came first.
//!
//! Rows of the distribution table in `docs/simulation.md` made here: products, price bands (the
//! list price; the bands themselves are in `tables.rs`).

use rand::Rng;

use crate::calendar::{Calendar, HOUR};
use crate::sampling::pick;
use crate::tables::{
    ACCESSORIES, CATEGORIES, DOWN_JACKET, DRESS, KNITWEAR, OFF_SEASON, OUTERWEAR, PANTS, POPULARITY, SHOES, SKIRT,
    STYLES, TOPS,
};

/// A product as the generator launches it: `number` counts within its category (the SKU is the
/// category's prefix and it), `cents` is the list price, `launched` a local instant.
pub(crate) struct GeneratedProduct {
    pub(crate) category: u8,
    pub(crate) number: u32,
    pub(crate) name: String,
    pub(crate) cents: u32,
    pub(crate) launched: i64,
    pub(crate) hot: bool,
    pub(crate) group_buy: bool,
}

/// Categories of each month's launch wave; empty for off-season months.
fn wave_categories(month: u32) -> &'static [u8] {
    match month {
        3 => &[DRESS, TOPS, SKIRT, OUTERWEAR, SHOES],
        5 | 6 => &[DRESS, SKIRT, TOPS, ACCESSORIES],
        8 | 9 => &[KNITWEAR, OUTERWEAR, PANTS, DOWN_JACKET, SHOES],
        10 | 11 => &[DOWN_JACKET, OUTERWEAR, KNITWEAR, ACCESSORIES],
        _ => &[],
    }
}

/// A base catalogue launched in the year before the period, then seasonal drops through it.
pub(crate) fn catalogue(cal: &Calendar, rng: &mut impl Rng) -> Vec<GeneratedProduct> {
    let mut base_days: Vec<i64> = (0..40).map(|_| -rng.random_range(7..400)).collect();
    base_days.sort_unstable();
    let mut products = Vec::new();
    for day in base_days {
        let category = pick(rng, &POPULARITY) as u8;
        products.push(new_product(cal, rng, category, day));
    }
    let mut day = rng.random_range(0..7);
    while day < cal.days {
        let wave = wave_categories(cal.month[day as usize] as u32);
        // Weekly drops from a week before a wave starts, so no week of a wave goes without one.
        let next_week = cal.month[(day + 7).min(cal.days - 1) as usize] as u32;
        let in_wave = !wave.is_empty() || !wave_categories(next_week).is_empty();
        let (categories, count) = if wave.is_empty() { (&OFF_SEASON[..], 1) } else { (wave, rng.random_range(1..=2)) };
        for _ in 0..count {
            let category = categories[rng.random_range(0..categories.len())];
            products.push(new_product(cal, rng, category, day));
        }
        let gap = if in_wave { 5..=7 } else { 10..=14 };
        day += rng.random_range(gap);
    }
    // Group buys must be possible from the first day.
    let launched_before = |p: &GeneratedProduct| p.launched < cal.midnight(0);
    if !products.iter().any(|p| p.group_buy && launched_before(p)) {
        products[0].group_buy = true;
    }
    let mut next_number = [0u32; 9];
    for p in &mut products {
        next_number[p.category as usize] += 1;
        p.number = next_number[p.category as usize];
    }
    products
}

fn new_product(cal: &Calendar, rng: &mut impl Rng, category: u8, day: i64) -> GeneratedProduct {
    let c = &CATEGORIES[category as usize];
    let tens = rng.random_range(c.price.0 / 10..=c.price.1 / 10); // prices end in 9
    let style = STYLES[rng.random_range(0..STYLES.len())];
    let name = format!("{style}{}", c.nouns[rng.random_range(0..c.nouns.len())]);
    let (cents, launched) = ((tens * 10 + 9) * 100, cal.midnight(day) + 10 * HOUR);
    GeneratedProduct {
        category,
        number: 0,
        name,
        cents,
        launched,
        hot: rng.random_bool(0.2),
        group_buy: rng.random_bool(0.15),
    }
}
