//! The `runs` tree: one record per run of a strategy, oldest first.
//!
//! Key: the run instant made sortable ([`sortable`], 8 bytes), a generated
//! id (u64, big-endian) and the strategy id — so a scan reads runs in time
//! order and a second run of the same instant is kept beside the first.
//! Value: the [`RunRecord`], postcard-encoded; records written before its
//! last fields existed are still read ([`decode_run`]).

use anyhow::Context;

use super::{decode, Store};
use crate::model::RunRecord;

impl Store {
    /// Records a run; a second run of the same instant is kept beside the first.
    pub fn record_run(&self, run: &RunRecord) -> anyhow::Result<()> {
        let mut key = sortable(run.run_at).to_vec();
        key.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
        key.extend_from_slice(run.strategy.as_bytes());
        self.runs.insert(key, postcard::to_stdvec(run)?).context("recording a run")?;
        Ok(())
    }

    /// All runs, oldest first, each day's tally of triggered firings among
    /// them (at its first firing: see `triggers`).
    pub fn runs(&self) -> anyhow::Result<Vec<RunRecord>> {
        let mut runs = self.runs.iter().values().map(|v| decode_run(&v?)).collect::<anyhow::Result<Vec<_>>>()?;
        let tallies = self.firing_tallies()?;
        if !tallies.is_empty() {
            runs.extend(tallies);
            runs.sort_by_key(|r| r.run_at);
        }
        Ok(runs)
    }
}

/// Big-endian with the sign bit flipped, so byte order is numeric order.
fn sortable(at: i64) -> [u8; 8] {
    ((at as u64) ^ (1 << 63)).to_be_bytes()
}

/// A run record; one recorded before `held_back`, `failed_members` or
/// `plugin_sha256` (its last fields) were kept lacks their bytes, and reads
/// them as 0 and "" (a 0 byte is either in postcard).
fn decode_run(bytes: &[u8]) -> anyhow::Result<RunRecord> {
    postcard::from_bytes(bytes)
        .or_else(|_| postcard::from_bytes(&[bytes, &[0]].concat()))
        .or_else(|_| postcard::from_bytes(&[bytes, &[0, 0]].concat()))
        .or_else(|_| decode(&[bytes, &[0, 0, 0]].concat()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RunOutcome, RunTrigger};

    #[test]
    fn a_run_recorded_before_held_back_was_counted_reads_as_none_held_back() {
        let run = RunRecord {
            strategy: "group-buy-referral".into(),
            trigger: RunTrigger::Schedule,
            plugin_version: "0.1.0".into(),
            run_at: 1_772_330_400_000,
            day: 20_513,
            audience: 9,
            batches: 1,
            decisions: 9,
            already_decided: 0,
            fuel_used: 1_000,
            duration_micros: 10,
            outcome: RunOutcome::Completed,
            held_back: 0,
            failed_members: 0,
            plugin_sha256: String::new(),
        };
        let bytes = postcard::to_stdvec(&run).unwrap();
        assert_eq!(decode_run(&bytes).unwrap(), run);
        for missing in 1..=3 {
            assert_eq!(decode_run(&bytes[..bytes.len() - missing]).unwrap(), run, "{missing} fields missing");
        }
        let built = RunRecord { plugin_sha256: "ab".repeat(32), ..run.clone() };
        assert_eq!(decode_run(&postcard::to_stdvec(&built).unwrap()).unwrap(), built);
        let held = RunRecord { held_back: 300, ..run };
        assert_eq!(decode_run(&postcard::to_stdvec(&held).unwrap()).unwrap(), held);
    }
}
