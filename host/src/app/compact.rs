//! Compacting old decisions (`canvas compact`): the cutoff the operator
//! asks for, checked against what reads decisions back — each strategy's
//! audience, the caps' windows with deferral, the service's catch-up — and
//! the export written before the store changes (see `store::compaction`).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::Context;

use super::App;
use crate::model::{Millis, MILLIS_PER_DAY};
use crate::store::{Compaction, Store};
use crate::strategy::Strategy;

/// Why a compaction is refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum CompactRefused {
    /// Too few days kept for what reads them.
    #[error(
        "keeping {keep_days} days is too few: {why} needs {needed} days of every decision, and `canvas serve` \
         catches up {catch_up} days ([serve] catch_up_days): keep at least {} days",
        needed + catch_up
    )]
    TooFewDays {
        /// What the operator asked for.
        keep_days: u32,
        /// The reader that needs the most days, in words.
        why: String,
        /// Its days.
        needed: u32,
        /// `[serve] catch_up_days`.
        catch_up: u32,
    },
    /// The export file is there already: never overwritten.
    #[error("the export file {0} exists already: name a new one, so no earlier export is overwritten")]
    ExportExists(String),
}

impl App {
    /// The most days back anything reads every decision, and what: each of
    /// `strategies`' audiences, and the caps' longest window with the
    /// longest deferral (a touch decided then may be sent that much later).
    pub fn decision_days_needed(&self, strategies: &[Strategy]) -> (u32, String) {
        let governance = &self.config.governance;
        let (window, key) = governance.longest_window_hours();
        let deferral = self.config.strategies.values().filter_map(|s| s.max_defer_hours);
        let defer = deferral.chain([governance.max_defer_hours]).max().unwrap_or(0);
        // A day more for the calendar day a window starts in.
        let caps = (window.saturating_add(defer).div_ceil(24).saturating_add(1), format!("{key} with deferral"));
        let audiences = strategies.iter().map(|s| {
            (s.decision_days, format!("strategy `{}`'s audience (a `decided` or untold-launch window)", s.id()))
        });
        std::iter::once(caps).chain(audiences).max_by_key(|(days, _)| *days).expect("never empty")
    }

    /// Compacts the decisions of `store` older than `keep_days` before `at`'s
    /// day (by default the fewest allowed: what [`App::decision_days_needed`]
    /// says, plus the service's catch-up), writing them first to the new
    /// file `export` (JSON lines). Runs before the cutoff plus the days
    /// needed are refused from then on. When nothing is old enough, nothing
    /// changes and no export is left (`removed` 0).
    pub fn compact(
        &self,
        store: &Store,
        strategies: &[Strategy],
        at: Millis,
        keep_days: Option<u32>,
        export: &Path,
    ) -> anyhow::Result<Compaction> {
        let (needed, why) = self.decision_days_needed(strategies);
        let catch_up = self.config.serve.catch_up_days;
        let keep_days = keep_days.unwrap_or(needed.saturating_add(catch_up));
        if keep_days < needed.saturating_add(catch_up) {
            return Err(CompactRefused::TooFewDays { keep_days, why, needed, catch_up }.into());
        }
        let calendar = self.calendar();
        let before = calendar.day_of(at.saturating_sub(i64::from(keep_days) * MILLIS_PER_DAY));
        let file = File::create_new(export).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => CompactRefused::ExportExists(export.display().to_string()).into(),
            _ => anyhow::Error::new(e).context(format!("cannot create the export file {}", export.display())),
        })?;
        let mut writer = BufWriter::new(&file);
        let name = export.display().to_string();
        let sync = || file.sync_all().with_context(|| format!("writing the export file {name}"));
        let runs_from = before.saturating_add(i32::try_from(needed).unwrap_or(i32::MAX));
        let done = store.compact_decisions(before, runs_from, (&mut writer, &name), sync)?;
        drop(writer);
        if done.removed == 0 {
            std::fs::remove_file(export).with_context(|| format!("removing the empty export {name}"))?;
        }
        Ok(done)
    }
}
