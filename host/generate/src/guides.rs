//! The stores' guides, written as guides.csv: every guide members.csv names (`G` + store + guide
//! number), with a name, whether and when they left, and how many staff tasks a day they take.
//!
//! Guides draw from a stream of their own per store (the seed mixed with [`GUIDES_STREAM`], the
//! store's index), added after the rest: a seed's members, orders, events and products stay as
//! they were.
//!
//! Rows of the distribution table in `docs/simulation.md` made here: guides.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use rand::Rng;

use crate::calendar::HOUR;
use crate::output::{csv_file, Maybe};
use crate::sampling::{exp, pick, stream_rng};
use crate::tables::{GIVEN, SURNAMES, SURNAME_WEIGHTS};
use crate::world::World;

/// Mixed into the seed for the guides' streams.
const GUIDES_STREAM: u64 = 0x6D1D_E500;
/// Guides who leave a year: store staff stay years, but some go every season.
const LEAVING_A_YEAR: f64 = 0.05;
/// Staff tasks a day, and how often each: empty (the brand's default) for some.
const CAPACITIES: [Option<u32>; 5] = [Some(20), Some(30), Some(40), Some(50), None];
const CAPACITY_WEIGHTS: [f64; 5] = [15.0, 50.0, 20.0, 10.0, 5.0];

/// Writes guides.csv; how many guides there are.
pub(crate) fn write_guides(world: &World, seed: u64, dir: &Path) -> Result<u64> {
    let header = "guide_id,store_id,name,status,left_at,daily_task_capacity";
    let mut w = csv_file(dir, "guides.csv", header)?;
    let cal = &world.cal;
    let mut count = 0;
    for (store, &guides) in world.guides_per_store.iter().enumerate() {
        let mut rng = stream_rng(seed ^ GUIDES_STREAM, store as u64);
        for guide in 1..=guides {
            let surname = SURNAMES[pick(&mut rng, &SURNAME_WEIGHTS)];
            let given = GIVEN[rng.random_range(0..GIVEN.len())];
            // A leaving time from the period's start at the yearly rate, kept if within it; at
            // the end of a shift.
            let years = exp(&mut rng, 1.0 / LEAVING_A_YEAR);
            let day = (years * 365.0) as i64;
            let left = (day < cal.days).then(|| cal.midnight(day) + 18 * HOUR + rng.random_range(0..3 * HOUR));
            let capacity = CAPACITIES[pick(&mut rng, &CAPACITY_WEIGHTS)];
            let status = if left.is_some() { "left" } else { "active" };
            let left_at = Maybe(left.map(|at| cal.rfc3339(at, false)));
            let store = store + 1;
            writeln!(w, "G{store:02}{guide:02},S{store:02},{surname}{given},{status},{left_at},{}", Maybe(capacity))?;
            count += 1;
        }
    }
    w.flush()?;
    Ok(count)
}
