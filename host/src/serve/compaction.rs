//! The service compacts old decisions itself (`[serve] compact_export_dir`):
//! after a scheduled run, once every `compact_every_days`, as `canvas
//! compact` would with the fewest days allowed, the export one file a
//! compaction. Its runner state then reads the decisions again, so what it
//! holds stays bounded however long it serves. A compaction that fails is
//! logged; the run it followed stands.

use std::sync::atomic::Ordering;

use super::Canvas;
use crate::calendar::date_of_day;
use crate::model::{Millis, MILLIS_PER_DAY};
use crate::runner::RunnerState;
use crate::strategy::Strategy;

/// Who the audit log says compacted.
const ACTOR: &str = "canvas serve";

impl Canvas {
    /// Compacts after the scheduled run at `at` if it is time (see the
    /// module doc): the state to go on from, its decisions read again if
    /// any left the store. `Err`: they could not be read again (the next
    /// run reads the store).
    pub(super) fn compact_if_due(
        &self,
        at: Millis,
        strategies: &[Strategy],
        state: RunnerState,
    ) -> anyhow::Result<RunnerState> {
        let settings = &self.app.config.serve;
        let Some(dir) = &settings.compact_export_dir else { return Ok(state) };
        let calendar = self.app.calendar();
        let (needed, _) = self.app.decision_days_needed(strategies);
        let keep = needed.saturating_add(settings.catch_up_days);
        let before = calendar.day_of(at.saturating_sub(i64::from(keep) * MILLIS_PER_DAY));
        let recorded = self.store.compaction().ok().flatten().map(|c| c.before);
        let tried = Some(self.compaction_tried.load(Ordering::SeqCst)).filter(|&day| day != i32::MIN);
        let since = recorded.max(tried);
        let every = i32::try_from(settings.compact_every_days).unwrap_or(i32::MAX);
        if since.is_some_and(|since| before.saturating_sub(since) < every)
            || state.earliest_decision_day().is_none_or(|earliest| earliest >= before)
        {
            return Ok(state);
        }
        self.compaction_tried.store(before, Ordering::SeqCst);
        let export = dir.join(format!("decisions-before-{}.jsonl", date_of_day(before)));
        let compacting = std::time::Instant::now();
        let done = std::fs::create_dir_all(dir)
            .map_err(anyhow::Error::from)
            .and_then(|()| self.app.compact(&self.store, strategies, at, Some(keep), &export));
        let done = match done {
            Ok(done) if done.removed > 0 => done,
            Ok(_) => return Ok(state),
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "compacting old decisions failed; the run stands");
                return Ok(state);
            }
        };
        let entry = done.audit_entry(ACTOR);
        if let Err(error) = self.store.record_audit(&entry) {
            tracing::warn!(error = %format!("{error:#}"), "the compaction is not in the audit log");
        }
        let reloaded = self.app.runner_state(state.into_base(), &self.store)?;
        tracing::info!(
            before = %date_of_day(done.before), removed = done.removed, kept = done.kept, export = %done.export,
            seconds = compacting.elapsed().as_secs_f64(), "old decisions compacted"
        );
        Ok(reloaded)
    }
}
