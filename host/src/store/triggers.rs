//! The `triggers` tree: firings waiting for their instant (see
//! `crate::triggers`), so a delayed trigger survives a restart.
//!
//! Key: the due instant made sortable (8 bytes), the strategy id, a 0 byte
//! and the event id — so a scan reads them in the order they fall due, and
//! the same event scheduled twice for a strategy is one entry. Value: the
//! [`Firing`], postcard-encoded. A firing is removed in the same flush as
//! the decisions it made: a crash between the two fires it again, and the
//! decisions' keys (which name the event) keep it from deciding twice.
//!
//! The `trigger_tallies` tree: per local day and strategy, one run record
//! adding up that day's firings (a record per firing would be thousands a
//! minute). Key: the day (sortable, 4 bytes) and the strategy id.

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::{decode, Store};
use crate::model::{Event, Millis, RunRecord};

/// What calls a firing off: a later event of the member's, or any order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cancel {
    /// An event of `kind`; with `same_attr`, only one whose attribute of
    /// that name equals the triggering event's.
    Event {
        /// The event kind, e.g. `coupon_redeemed`.
        kind: String,
        /// The attribute both events must agree on, e.g. `coupon_id`.
        same_attr: Option<String>,
    },
    /// Any order.
    Ordered,
}

/// One strategy's reaction to one event, due at `due`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    /// The strategy that reacts.
    pub strategy: String,
    /// The event it reacts to (whose member it decides).
    pub event: Event,
    /// When `decide` is called: the event's instant plus the trigger's delay.
    pub due: Millis,
    /// What calls it off, as the trigger said when the event came in.
    pub cancel_if: Vec<Cancel>,
}

impl Store {
    /// Keeps `firings` until they fall due (one entry per strategy and event).
    pub fn schedule_firings(&self, firings: &[Firing]) -> anyhow::Result<()> {
        let mut batch = sled::Batch::default();
        for firing in firings {
            batch.insert(firing_key(firing), postcard::to_stdvec(firing)?);
        }
        self.triggers.apply_batch(batch).context("scheduling trigger firings")
    }

    /// Up to `limit` firings due at or before `at`, earliest first.
    pub fn firings_due(&self, at: Millis, limit: usize) -> anyhow::Result<Vec<Firing>> {
        let end = sortable(at.saturating_add(1));
        self.triggers.range(..end.as_slice()).values().take(limit).map(|v| decode(&v?)).collect()
    }

    /// When the next firing falls due.
    pub fn next_firing_due(&self) -> anyhow::Result<Option<Millis>> {
        Ok(self.triggers.first()?.map(|(key, _)| unsortable(&key)))
    }

    /// Firings waiting, per strategy (ids in order), and the earliest due.
    pub fn firings_waiting(&self) -> anyhow::Result<Vec<(String, u64, Millis)>> {
        let mut waiting: Vec<(String, u64, Millis)> = Vec::new();
        for value in self.triggers.iter().values() {
            let firing: Firing = decode(&value?)?;
            match waiting.iter_mut().find(|(id, _, _)| *id == firing.strategy) {
                Some((_, count, _)) => *count += 1,
                None => waiting.push((firing.strategy, 1, firing.due)),
            }
        }
        waiting.sort();
        Ok(waiting)
    }

    /// Forgets firings that fired (or whose strategy no longer runs).
    pub fn remove_firings<'f>(&self, firings: impl IntoIterator<Item = &'f Firing>) -> anyhow::Result<()> {
        let mut batch = sled::Batch::default();
        for firing in firings {
            batch.remove(firing_key(firing));
        }
        self.triggers.apply_batch(batch).context("removing fired triggers")
    }

    /// Adds a firing's run record to its strategy's tally of the day.
    pub fn tally_firing(&self, record: &RunRecord) -> anyhow::Result<()> {
        let mut key = ((record.day as u32) ^ (1 << 31)).to_be_bytes().to_vec();
        key.extend_from_slice(record.strategy.as_bytes());
        let tally = match self.trigger_tallies.get(&key)? {
            Some(bytes) => {
                let mut tally: RunRecord = decode(&bytes)?;
                tally.absorb(record);
                tally
            }
            None => record.clone(),
        };
        self.trigger_tallies.insert(key, postcard::to_stdvec(&tally)?).context("tallying a firing")?;
        Ok(())
    }

    /// Every day's tallies of triggered firings, oldest day first.
    pub fn firing_tallies(&self) -> anyhow::Result<Vec<RunRecord>> {
        self.trigger_tallies.iter().values().map(|v| decode(&v?)).collect()
    }
}

fn firing_key(firing: &Firing) -> Vec<u8> {
    let mut key = sortable(firing.due).to_vec();
    key.extend_from_slice(firing.strategy.as_bytes());
    key.push(0);
    key.extend_from_slice(firing.event.id.as_bytes());
    key
}

/// Big-endian with the sign bit flipped, so byte order is numeric order.
fn sortable(at: Millis) -> [u8; 8] {
    ((at as u64) ^ (1 << 63)).to_be_bytes()
}

fn unsortable(key: &[u8]) -> Millis {
    let bytes: [u8; 8] = key[..8].try_into().expect("a firing key starts with its instant");
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as Millis
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firing(strategy: &str, event: &str, due: Millis) -> Firing {
        let event = Event {
            id: event.into(),
            member_id: "M1".into(),
            kind: "coupon_issued".into(),
            at: due - 60_000,
            attrs: r#"{"coupon_id":"C1"}"#.into(),
        };
        Firing { strategy: strategy.into(), event, due, cancel_if: vec![Cancel::Ordered] }
    }

    #[test]
    fn firings_come_back_in_due_order_once_each_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let (late, early, before_1970) =
                (firing("b", "E1", 5_000), firing("a", "E2", 1_000), firing("a", "E0", -5));
            store.schedule_firings(&[late.clone(), early.clone(), late.clone(), before_1970.clone()]).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.next_firing_due().unwrap(), Some(-5));
        let due: Vec<(String, Millis)> =
            store.firings_due(5_000, 10).unwrap().into_iter().map(|f| (f.event.id, f.due)).collect();
        assert_eq!(due, [("E0".to_string(), -5), ("E2".into(), 1_000), ("E1".into(), 5_000)], "scheduled twice: once");
        assert_eq!(store.firings_due(999, 10).unwrap().len(), 1);
        store.remove_firings(&store.firings_due(1_000, 10).unwrap()).unwrap();
        assert_eq!(store.firings_waiting().unwrap(), [("b".to_string(), 1, 5_000)]);
    }
}
