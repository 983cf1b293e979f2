//! What an operator may ask to run, checked the same way for `canvas run`,
//! the admin API's run-now and `canvas simulate`: named strategies must be
//! there and running ([`Off`] says why one is not), a run-now honours the
//! schedules unless forced, and an instant further ahead of the clock than
//! `[run] max_ahead_hours` is refused unless forced — touches queued for a
//! far future are easy to ask for by a typo and hard to take back.

use super::{App, Selection};
use crate::model::Millis;
use crate::strategy::{Loaded, Off};

const HOUR: i64 = 3_600_000;

/// A request to run strategies at an instant.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunAsk<'a> {
    /// These strategies; `None`: those due at the instant.
    pub ids: Option<&'a [String]>,
    /// Run them whatever their schedule, and however far ahead the instant is.
    pub force: bool,
}

/// Why a request to run is refused; nothing ran. Each names what to change.
#[derive(Debug, thiserror::Error)]
pub enum AskRefused {
    /// Ids no plugin there has.
    #[error("no plugin has the id {}; there are: {}", quoted(ids), list_or_none(known))]
    Unknown {
        /// The ids asked for that are not there.
        ids: Vec<String>,
        /// Every id there is.
        known: Vec<String>,
    },
    /// Plugins that are there but do not run.
    #[error("{}", off.iter().map(|(id, why)| format!("`{id}` is {why}")).collect::<Vec<_>>().join("; "))]
    NotRunning {
        /// Each id asked for that does not run, and why.
        off: Vec<(String, Off)>,
    },
    /// Strategies asked for at an instant their schedule has no run at.
    #[error(
        "not due at {at}: {}; ask with force (`canvas run --force`, `\"force\": true`) to run anyway",
        not_due.iter().map(|(id, cron)| format!("`{id}` runs at `{cron}`")).collect::<Vec<_>>().join(", ")
    )]
    NotDue {
        /// The instant, RFC 3339 in the brand's time zone.
        at: String,
        /// Each id not due, with its schedule.
        not_due: Vec<(String, String)>,
    },
    /// An instant further ahead of the clock than the setting allows.
    #[error(
        "{at} is {hours} hours ahead of the clock ({now}); [run] max_ahead_hours = {max}: ask with force \
         (`canvas run --force`, `\"force\": true`) to run that far ahead"
    )]
    TooFarAhead {
        /// The instant asked for, RFC 3339 in the brand's time zone.
        at: String,
        /// The clock's now, likewise.
        now: String,
        /// How far ahead, in whole hours.
        hours: i64,
        /// The setting.
        max: u32,
    },
}

impl App {
    /// Checks `ask` at `at` against `loaded` (the clock reading `now`):
    /// the strategies to run, or why none may.
    pub fn selection<'a>(
        &self,
        loaded: &Loaded,
        at: Millis,
        now: Millis,
        ask: RunAsk<'a>,
    ) -> Result<Selection<'a>, AskRefused> {
        let max = self.config.run.max_ahead_hours;
        let ahead = at.saturating_sub(now);
        let calendar = self.calendar();
        if !ask.force && ahead > i64::from(max) * HOUR {
            return Err(AskRefused::TooFarAhead {
                at: calendar.format(at),
                now: calendar.format(now),
                hours: ahead / HOUR,
                max,
            });
        }
        let Some(ids) = ask.ids else {
            return Ok(if ask.force { Selection::Every } else { Selection::Due });
        };
        check_named(loaded, ids)?;
        if !ask.force {
            let not_due: Vec<(String, String)> = loaded
                .strategies
                .iter()
                .filter(|s| ids.iter().any(|id| id == s.id()))
                .filter(|s| !s.schedule.is_due(&calendar, at))
                .map(|s| (s.id().to_string(), s.schedule.expression().to_string()))
                .collect();
            if !not_due.is_empty() {
                return Err(AskRefused::NotDue { at: calendar.format(at), not_due });
            }
        }
        Ok(Selection::Named(ids))
    }
}

/// Every id in `ids` is a plugin of `loaded` that runs.
pub(super) fn check_named(loaded: &Loaded, ids: &[String]) -> Result<(), AskRefused> {
    let known = loaded.known_ids();
    let unknown: Vec<String> = ids.iter().filter(|id| !known.contains(&id.as_str())).cloned().collect();
    if !unknown.is_empty() {
        return Err(AskRefused::Unknown { ids: unknown, known: known.iter().map(|id| id.to_string()).collect() });
    }
    let off: Vec<(String, Off)> = loaded.off.iter().filter(|(id, _)| ids.contains(id)).cloned().collect();
    if !off.is_empty() {
        return Err(AskRefused::NotRunning { off });
    }
    Ok(())
}

fn quoted(ids: &[String]) -> String {
    ids.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
}

fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".to_string()
    } else {
        ids.join(", ")
    }
}
