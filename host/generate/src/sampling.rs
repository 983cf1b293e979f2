//! The random streams and the draws every part of the generator makes from them.
//!
//! Each stream is a ChaCha8 generator seeded with the seed and numbered: member `i` draws from
//! stream `i`, the world from `u64::MAX - 1`, the group-buy referrers from `u64::MAX`. ChaCha8's
//! output is fixed for a seed and stream on every platform, which is what makes the files
//! byte-identical for a seed. The order of the draws on a stream is part of the output too: one
//! draw more, fewer or moved changes every later value of that stream, and so the files.
//!
//! Rows of the distribution table in `docs/simulation.md` made here: time of day (the hourly
//! weights are in `tables.rs`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::calendar::HOUR;
use crate::tables::{ONLINE_HOURS, STORE_HOURS};

/// Stream `stream` of `seed`.
pub(crate) fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// An index into `weights`, drawn in proportion to them.
pub(crate) fn pick(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let mut x = rng.random::<f64>() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        x -= w;
        if x < 0.0 {
            return i;
        }
    }
    weights.len() - 1
}

/// An exponential draw: the gap between events of a Poisson process.
pub(crate) fn exp(rng: &mut impl Rng, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

/// Seconds after local midnight: within opening hours in a store, any hour online.
pub(crate) fn time_of_day(rng: &mut impl Rng, online: bool) -> i64 {
    let hour = if online { pick(rng, &ONLINE_HOURS) } else { 10 + pick(rng, &STORE_HOURS) };
    hour as i64 * HOUR + rng.random_range(0..HOUR)
}
