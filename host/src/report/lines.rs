//! One JSON object per run (runs.jsonl). A decision's line
//! (decisions.jsonl) is [`crate::decision_line`]'s, shared with dispatch.

use serde::Serialize;

use crate::calendar::{date_of_day, BrandCalendar};
/// Fen as yuan, as the lines give it (the summary's sums use it too).
pub(crate) use crate::decision_line::yuan;
use crate::model::{RunOutcome, RunRecord, RunTrigger};

#[derive(Serialize)]
struct RunLine<'a> {
    date: String,
    run_at: String,
    strategy: &'a str,
    trigger: RunTrigger,
    plugin_version: &'a str,
    /// The build that ran; "" for runs recorded before builds were kept.
    plugin_sha256: &'a str,
    audience: u64,
    batches: u32,
    decisions: u64,
    already_decided: u64,
    held_back: u64,
    failed_members: u64,
    fuel_used: u64,
    duration_ms: f64,
    status: &'static str,
    error: Option<&'a str>,
}

/// A run record as one line of JSON (no newline).
pub fn run_json(calendar: &BrandCalendar, r: &RunRecord) -> String {
    let (status, error) = match &r.outcome {
        RunOutcome::Completed => ("completed", None),
        RunOutcome::Failed { error } => ("failed", Some(error.as_str())),
    };
    let line = RunLine {
        date: date_of_day(r.day).to_string(),
        run_at: calendar.format(r.run_at),
        strategy: &r.strategy,
        trigger: r.trigger,
        plugin_version: &r.plugin_version,
        plugin_sha256: &r.plugin_sha256,
        audience: r.audience,
        batches: r.batches,
        decisions: r.decisions,
        already_decided: r.already_decided,
        held_back: r.held_back,
        failed_members: r.failed_members,
        fuel_used: r.fuel_used,
        duration_ms: r.duration_micros as f64 / 1000.0,
        status,
        error,
    };
    serde_json::to_string(&line).expect("runs serialize")
}
