//! Draws keyed by what they are about: `uniform(seed, ["lift", key])` is
//! the same number whenever and in whatever order it is asked, so the world
//! does not depend on the order deliveries arrive in. SHA-256 of the seed
//! and the parts (each length-prefixed, so `("ab","c")` and `("a","bc")`
//! differ); its first 53 bits make a uniform number in [0, 1).

use sha2::{Digest, Sha256};

/// A uniform number in [0, 1) for `about`, under `seed`.
pub(crate) fn uniform(seed: u64, about: &[&str]) -> f64 {
    let mut hash = Sha256::new();
    hash.update(seed.to_le_bytes());
    for part in about {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let bits = u64::from_le_bytes(digest[..8].try_into().expect("a digest has 32 bytes"));
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// A short stable name for `about` (16 hex digits), for record ids: a
/// decision key can be longer than an id may be.
pub(crate) fn id_of(about: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in about {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draw_depends_on_the_seed_and_what_it_is_about_only() {
        let a = uniform(7, &["lift", "k1"]);
        assert_eq!(a, uniform(7, &["lift", "k1"]));
        assert_ne!(a, uniform(8, &["lift", "k1"]));
        assert_ne!(uniform(7, &["ab", "c"]), uniform(7, &["a", "bc"]));
        assert!((0.0..1.0).contains(&a));
    }

    #[test]
    fn draws_are_uniform_enough_to_plant_a_rate() {
        let n = 20_000;
        let hits = (0..n).filter(|i| uniform(1, &["x", &i.to_string()]) < 0.25).count();
        let share = hits as f64 / n as f64;
        assert!((share - 0.25).abs() < 0.015, "{share}");
    }
}
