//! The control groups: a stable share of each strategy's members is held
//! out — selected and recorded, never touched — so uplift can be measured
//! against them.

use sha2::{Digest, Sha256};

/// Whether a member is in a strategy's control group: a stable hash of
/// (strategy, member) in 10,000 buckets, so a member stays in or out.
pub fn in_holdout(strategy: &str, member: &str, percent: f64) -> bool {
    // The digest of "strategy/member", fed in parts (no string built per touch).
    let digest = Sha256::new().chain_update(strategy).chain_update("/").chain_update(member).finalize();
    let bucket = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % 10_000;
    (bucket as f64) < percent * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdouts_are_stable_and_near_the_percentage() {
        let held = (0..10_000).filter(|i| in_holdout("dormant-recall", &format!("M{i:06}"), 10.0)).count();
        assert!((900..1100).contains(&held), "{held}");
        assert_eq!(in_holdout("dormant-recall", "M000042", 10.0), in_holdout("dormant-recall", "M000042", 10.0));
        assert!(!in_holdout("dormant-recall", "M000042", 0.0));
        assert!(in_holdout("dormant-recall", "M000042", 100.0));
    }
}
