//! Compacting old decisions, so a runner's start stays bounded after a
//! year of daily service: every decision of a day before the cutoff is
//! written to an export file, then removed from the store — except, for
//! each strategy, member, step and status, the latest one before the
//! cutoff (the member's summary: audiences' `decided` conditions and a
//! plugin's `history` still see that the member was decided so, and when
//! last), and every decision of a page that holds a touch still pending
//! (the dispatcher may hold its place; a later compaction takes it).
//!
//! Kept in sled's default tree under [`COMPACTION_KEY`] (JSON, for people):
//! the latest compaction, which refuses runs at instants whose decisions or
//! lookbacks it removed ([`Store::check_not_compacted`]).

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::ledger::{encode_page, Entry, EntryRef, Page};
use super::outbox_entry::OutboxState;
use super::Store;
use crate::calendar::date_of_day;
use crate::model::{Day, DecisionStatus, Millis};

const COMPACTION_KEY: &[u8] = b"compaction";

/// What the latest compaction did, and what it leaves runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compaction {
    /// Decisions of days before this one were exported and removed (but the summaries).
    pub before: Day,
    /// Runs at an instant of a day before this one are refused: their
    /// decisions, or the days their lookbacks read, were removed.
    pub runs_from: Day,
    /// When it was done, by the wall clock.
    pub at: Millis,
    /// The export file, as the operator named it.
    pub export: String,
    /// Decisions written to the export and removed from the store.
    pub removed: u64,
    /// Decisions before the cutoff still in the store: the summaries and pending ones.
    pub kept: u64,
}

impl Compaction {
    /// The audit log's record of it, made by `actor`.
    pub fn audit_entry(&self, actor: &str) -> super::AuditEntry {
        let after = serde_json::json!({
            "before": date_of_day(self.before).to_string(),
            "runs_from": date_of_day(self.runs_from).to_string(),
            "export": self.export,
            "removed": self.removed,
            "kept": self.kept,
        });
        super::AuditEntry::new(self.at, actor, "compact", "decisions", serde_json::Value::Null, after)
    }
}

/// A removed decision as the export holds it: the decision, the build that
/// made it and its outbox entry's state (`null`: never queued).
#[derive(Serialize)]
struct Exported<'a> {
    #[serde(flatten)]
    decision: &'a crate::model::Decision,
    plugin_sha256: &'a str,
    outbox: Option<OutboxState>,
}

/// Why a run or a results query is refused: it reaches what a compaction removed.
#[derive(Debug, thiserror::Error)]
pub enum CompactedAway {
    /// A run at an instant of a day before [`Compaction::runs_from`].
    #[error(
        "decisions before {} were compacted (exported to {}): a run on {} would decide again or read \
         history no longer in the store; runs from {} on",
        date_of_day(.0.before), .0.export, date_of_day(*.1), date_of_day(.0.runs_from)
    )]
    Run(Compaction, Day),
    /// Results from a day before [`Compaction::before`].
    #[error(
        "decisions before {} were compacted (exported to {}): results from {} would miss them; read that \
         stretch from the export, or ask from {} on",
        date_of_day(.0.before), .0.export, date_of_day(*.1), date_of_day(.0.before)
    )]
    Results(Compaction, Day),
}

impl Store {
    /// The latest compaction, if the store was ever compacted.
    pub fn compaction(&self) -> anyhow::Result<Option<Compaction>> {
        let Some(bytes) = self.db.get(COMPACTION_KEY)? else { return Ok(None) };
        Ok(Some(serde_json::from_slice(&bytes).context("the store's compaction record is unreadable")?))
    }

    /// `Err` ([`CompactedAway::Run`]) if a run on `day` would reach what a compaction removed.
    pub fn check_not_compacted(&self, day: Day) -> anyhow::Result<()> {
        match self.compaction()? {
            Some(c) if day < c.runs_from => Err(CompactedAway::Run(c, day).into()),
            _ => Ok(()),
        }
    }

    /// `Err` ([`CompactedAway::Results`]) if results from `day` would miss compacted decisions.
    pub fn check_results_from(&self, day: Day) -> anyhow::Result<()> {
        match self.compaction()? {
            Some(c) if day < c.before => Err(CompactedAway::Results(c, day).into()),
            _ => Ok(()),
        }
    }

    /// Compacts the decisions of days before `before` (see the module doc):
    /// each removed one is written to `export` as a line of JSON, and the
    /// export flushed by `sync`, before the store changes; the pages then
    /// change in one atomic batch. `runs_from`: the first day runs may be at
    /// from now on (at least `before`). When nothing is old enough to leave,
    /// nothing is recorded (`removed` 0).
    pub fn compact_decisions(
        &self,
        before: Day,
        runs_from: Day,
        (export, export_name): (&mut dyn Write, &str),
        sync: impl FnOnce() -> anyhow::Result<()>,
    ) -> anyhow::Result<Compaction> {
        anyhow::ensure!(runs_from >= before, "runs must not be allowed before the cutoff");
        let mut ledger = self.ledger.lock().expect("the ledger lock is never poisoned");
        let states = self.outbox_states()?;
        let state_of =
            |entry: &Entry| states.get(&entry.decision.key).copied().or(entry.queued.as_ref().map(|q| q.state));
        // The summaries: the latest decision before the cutoff of each strategy, member, step and status.
        let mut latest: HashMap<(String, String, String, DecisionStatus), (Millis, String)> = HashMap::new();
        for page in self.decision_pages.iter().values() {
            for entry in Page::decode(&page?)?.all::<Entry>()? {
                let d = entry.decision;
                if d.day >= before {
                    continue;
                }
                let group = (d.strategy, d.member_id, d.step, d.status);
                let candidate = (d.run_at, d.key);
                match latest.get_mut(&group) {
                    Some(held) if *held >= candidate => {}
                    Some(held) => *held = candidate,
                    None => {
                        latest.insert(group, candidate);
                    }
                }
            }
        }
        let summaries: std::collections::HashSet<String> = latest.into_values().map(|(_, key)| key).collect();

        let mut batch = sled::Batch::default();
        let mut removed_keys = Vec::new();
        let mut kept_before = 0u64;
        for page in self.decision_pages.iter() {
            let (page_key, bytes) = page?;
            let entries = Page::decode(&bytes)?.all::<Entry>()?;
            let old = |entry: &Entry| entry.decision.day < before;
            // A page with a touch still pending stays as it is: the
            // dispatcher may hold its place (page and index) meanwhile.
            // The next compaction takes the page once it is delivered.
            if entries.iter().any(|e| state_of(e) == Some(OutboxState::Pending)) {
                kept_before += entries.iter().filter(|e| old(e)).count() as u64;
                continue;
            }
            let (mut keep, mut removed) = (Vec::with_capacity(entries.len()), 0usize);
            for entry in &entries {
                let d = &entry.decision;
                if !old(entry) || summaries.contains(&d.key) {
                    kept_before += u64::from(old(entry));
                    keep.push(EntryRef::new(d, entry.queued.clone()));
                    continue;
                }
                let line = Exported { decision: d, plugin_sha256: &d.plugin_sha256, outbox: state_of(entry) };
                serde_json::to_writer(&mut *export, &line).context("writing the export")?;
                export.write_all(b"\n").context("writing the export")?;
                removed_keys.push(d.key.clone());
                removed += 1;
            }
            if removed == 0 {
                continue;
            }
            // What stays goes to a page of a new id: a reader holding a place
            // in the old page (the member's decisions shown over the API)
            // finds it gone, never another decision at that place.
            batch.remove(page_key);
            if !keep.is_empty() {
                batch.insert(&self.db.generate_id()?.to_be_bytes(), encode_page(keep)?);
            }
        }
        if removed_keys.is_empty() {
            // Nothing leaves the store: recorded nowhere, so no run or result is refused for it.
            return Ok(Compaction { before, runs_from, removed: 0, kept: kept_before, ..Default::default() });
        }
        export.flush().context("writing the export")?;
        // Every removed decision is on disk in the export before any leaves the store.
        sync()?;
        self.decision_pages.apply_batch(batch).context("compacting the decision pages")?;
        let mut updates = sled::Batch::default();
        for key in &removed_keys {
            updates.remove(key.as_bytes());
        }
        self.outbox_updates.apply_batch(updates).context("compacting the outbox updates")?;
        let earlier = self.compaction()?;
        let compaction = Compaction {
            before: before.max(earlier.as_ref().map_or(before, |c| c.before)),
            runs_from: runs_from.max(earlier.as_ref().map_or(runs_from, |c| c.runs_from)),
            at: crate::model::now_millis(),
            export: export_name.to_string(),
            removed: removed_keys.len() as u64,
            kept: kept_before,
        };
        self.db.insert(COMPACTION_KEY, serde_json::to_vec(&compaction)?)?;
        self.flush()?;
        // The indexes point into the old pages: built again on next use.
        *ledger = None;
        *self.last_page.lock().expect("the page cache lock is never poisoned") = None;
        Ok(compaction)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Queue;
    use super::*;
    use crate::model::Decision;

    const CUTOFF: Day = 20_600;

    fn decision(member_id: &str, day: Day) -> Decision {
        Decision {
            key: format!("birthday-tiered/birthday/{day}/{member_id}"),
            plugin_sha256: "ab".repeat(32).into(),
            run_at: i64::from(day) * crate::model::MILLIS_PER_DAY + 7_200_000,
            day,
            ..crate::model::sample_decision(member_id)
        }
    }

    /// Of the decisions before the cutoff, only those with a later one of
    /// their kind before it and nothing pending leave — into the export first.
    #[test]
    fn the_latest_of_a_kind_and_pending_touches_stay_the_rest_go_to_the_export() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (older, latest, after) = (decision("M1", CUTOFF - 20), decision("M1", CUTOFF - 10), decision("M1", CUTOFF));
        store.record_decisions(&[older.clone(), latest.clone(), after.clone()], Queue::Nothing).unwrap();
        let (pending_old, pending_latest) = (decision("M2", CUTOFF - 40), decision("M2", CUTOFF - 30));
        store.record_decisions(&[pending_old.clone(), pending_latest.clone()], Queue::ToBeSent).unwrap();

        let mut export = Vec::new();
        let mut synced = false;
        let done = store
            .compact_decisions(CUTOFF, CUTOFF + 30, (&mut export, "old.jsonl"), || {
                synced = true;
                Ok(())
            })
            .unwrap();
        assert!(synced, "the export is on disk before the store changes");
        let lines: Vec<serde_json::Value> =
            String::from_utf8(export).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["key"], older.key.as_str());
        assert_eq!(lines[0]["plugin_sha256"], "ab".repeat(32).as_str());
        assert_eq!(lines[0]["outbox"], serde_json::Value::Null);
        let mut kept: Vec<String> = store.decisions().unwrap().into_iter().map(|d| d.key).collect();
        kept.sort();
        let mut expected = vec![latest.key, after.key, pending_old.key, pending_latest.key];
        expected.sort();
        assert_eq!(kept, expected);
        assert_eq!((done.removed, done.kept, done.before, done.runs_from), (1, 3, CUTOFF, CUTOFF + 30));
        assert_eq!(store.compaction().unwrap(), Some(done));

        let refused = store.check_not_compacted(CUTOFF + 29).unwrap_err();
        assert!(matches!(refused.downcast_ref(), Some(CompactedAway::Run(..))), "{refused}");
        store.check_not_compacted(CUTOFF + 30).unwrap();
        assert!(store.check_results_from(CUTOFF - 1).is_err());
        store.check_results_from(CUTOFF).unwrap();
    }
}
