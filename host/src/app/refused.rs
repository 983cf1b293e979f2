//! A strategy asked to run whose plugin refuses its config, or whose
//! installed build no longer loads, does not run: that is a failed run,
//! recorded with the reason like any other, so `canvas runs`, the metrics
//! and the log say so instead of a silence. The same for the service's
//! schedule and `canvas run`.

use super::{App, Selection};
use crate::model::{Millis, RunOutcome, RunRecord, RunTrigger};
use crate::schedule::Schedule;
use crate::store::Store;
use crate::strategy::{Loaded, Off};

impl App {
    /// Records a failed run for each installed strategy `loaded` refused
    /// that `selection` asks for at `at` (`Due`: by its schedule, the
    /// canvas config's or its manifest's); returns them.
    pub fn record_refused(
        &self,
        store: &Store,
        loaded: &Loaded,
        at: Millis,
        trigger: RunTrigger,
        selection: Selection<'_>,
    ) -> anyhow::Result<Vec<RunRecord>> {
        let calendar = self.calendar();
        let mut failed = Vec::new();
        let entries = self.registry(store).list()?;
        for (id, off) in &loaded.off {
            let Off::Refused(reason) = off else { continue };
            // From a folder (development mode) there is no entry: nothing to record against.
            let Some(entry) = entries.iter().find(|e| e.id == *id) else { continue };
            let asked = match selection {
                Selection::Named(ids) => ids.contains(id),
                Selection::Every => true,
                Selection::Due => Schedule::parse(&self.schedule_of(entry)).is_ok_and(|s| s.is_due(&calendar, at)),
            };
            if !asked {
                continue;
            }
            let build = (entry.active_version().version.as_str(), entry.active.as_str());
            let mut record = RunRecord::starting(id, trigger, build, at, calendar.day_of(at));
            record.outcome = RunOutcome::Failed { error: reason.clone() };
            store.record_run(&record)?;
            failed.push(record);
        }
        Ok(failed)
    }
}
