//! Totals per strategy, fed run by run and decision by decision, and the
//! summary table printed after a run or a simulation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::guide_tasks::GuideDays;
use super::lines::yuan;
use crate::calendar::BrandCalendar;
use crate::model::{ActionKind, Day, Decision, DecisionStatus, Fen, RunOutcome, RunRecord};

/// Per-strategy totals over many runs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StrategyTotals {
    /// Runs recorded, failed ones included.
    pub runs: u64,
    /// Runs the plugin failed (a trap, a limit, an error of its own).
    pub failed_runs: u64,
    /// Members selected by the audience, summed over runs.
    pub audience: u64,
    /// Decisions recorded, whatever their status.
    pub decisions: u64,
    /// Decisions by status; a status never seen is absent (see [`StrategyTotals::count`]).
    pub by_status: BTreeMap<DecisionStatus, u64>,
    /// Why touches were not sent now: reason (without its particulars) → count.
    pub reasons: BTreeMap<String, u64>,
    /// Distinct members sent a touch (dispatched or deferred).
    pub members_touched: u64,
    /// Benefits in touches sent (dispatched or deferred), fen: coupon face
    /// values and gift costs (group-buy discounts are in the report's `cost`).
    pub benefit_fen: Fen,
    /// Fuel the plugin burned, summed over runs.
    pub fuel_used: u64,
    /// Members selected but not asked again: the caps held them back at the
    /// strategy's last decision and still did (summed over runs).
    pub held_back: u64,
    /// Members the plugin failed on alone (each a `failed` decision), summed over runs.
    pub failed_members: u64,
    /// Touches suppressed because no channel reached the member (deleted the
    /// brand on WeCom, unsubscribed, do not contact): part of `suppressed`.
    pub unreachable: u64,
    /// Those by the touch's channel.
    pub unreachable_by_channel: BTreeMap<String, u64>,
    /// The first failure's message, if any run failed.
    pub first_error: Option<String>,
    /// Members selected, summed per local day (dated in the report).
    #[serde(skip)]
    pub audience_by_day: BTreeMap<Day, u64>,
    /// Touches sent (dispatched or deferred), per local day of the run.
    #[serde(skip)]
    pub sent_by_day: BTreeMap<Day, u64>,
    #[serde(skip)]
    members: BTreeSet<String>,
}

impl StrategyTotals {
    /// Decisions of one status, 0 if none.
    pub fn count(&self, status: DecisionStatus) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

/// Totals by strategy, fed run by run and decision by decision.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// By strategy id, in id order (the table's order).
    pub strategies: BTreeMap<String, StrategyTotals>,
    /// Touches sent to each member, over all strategies.
    pub touches_per_member: HashMap<String, u32>,
    /// Staff tasks sent to each guide on each day they are sent.
    pub guide_days: GuideDays,
    /// The brand's calendar, which those days are in.
    calendar: BrandCalendar,
}

/// A reason without its particulars ("…; sends at …", the day a member
/// deleted the brand or unsubscribed), for counting.
fn reason_kind(reason: &str) -> &str {
    let kind = reason.split("; ").next().unwrap_or(reason);
    // "unreachable: deleted the brand on WeCom on 2026-05-03",
    // "by sms: wecom cannot reach the member (…)": counted without the day or why.
    if let Some(about_guide) = crate::governance::guide_reason_kind(kind) {
        return about_guide;
    }
    if !kind.starts_with("unreachable:") && !kind.starts_with("by ") {
        return kind;
    }
    [" on 2", " (set on ", " ("].iter().filter_map(|cut| kind.find(cut)).min().map_or(kind, |end| &kind[..end])
}

impl Summary {
    /// An empty summary whose days are `calendar`'s (the default: the
    /// default time zone's).
    pub fn new(calendar: BrandCalendar) -> Self {
        Summary { calendar, ..Default::default() }
    }

    /// Counts a run record into its strategy's totals.
    pub fn add_run(&mut self, run: &RunRecord) {
        let t = self.strategies.entry(run.strategy.clone()).or_default();
        t.runs += 1;
        t.audience += run.audience;
        *t.audience_by_day.entry(run.day).or_default() += run.audience;
        t.fuel_used += run.fuel_used;
        t.held_back += run.held_back;
        t.failed_members += run.failed_members;
        if let RunOutcome::Failed { error } = &run.outcome {
            t.failed_runs += 1;
            t.first_error.get_or_insert_with(|| error.clone());
        }
    }

    /// Counts a decision into its strategy's totals: its status and reason,
    /// and, if it is to be sent, its member, benefit and day.
    pub fn add_decision(&mut self, d: &Decision) {
        let t = self.strategies.entry(d.strategy.clone()).or_default();
        t.decisions += 1;
        *t.by_status.entry(d.status).or_default() += 1;
        if crate::governance::unreachable(d.status, d.reason.as_deref()) {
            t.unreachable += 1;
            *t.unreachable_by_channel.entry(d.channel.clone()).or_default() += 1;
        }
        if let Some(reason) = &d.reason {
            // A failure's particulars name the member: counted by what failed.
            let kind = match d.status {
                DecisionStatus::Failed => reason.split(':').next().unwrap_or(reason),
                _ => reason_kind(reason),
            };
            *t.reasons.entry(format!("{}: {kind}", d.status.as_str())).or_default() += 1;
        }
        if d.planned_send_at().is_some() {
            t.benefit_fen = t.benefit_fen.saturating_add(d.benefit.as_ref().map_or(0, |b| b.value));
            if t.members.insert(d.member_id.clone()) {
                t.members_touched += 1;
            }
            *t.sent_by_day.entry(d.day).or_default() += 1;
            *self.touches_per_member.entry(d.member_id.clone()).or_default() += 1;
        }
        if let (Some(send_at), ActionKind::StaffTask, Some(guide)) = (d.planned_send_at(), d.action, &d.guide_id) {
            self.guide_days.add(guide, self.calendar.day_of(send_at));
        }
    }

    /// Totals over all strategies (members counted once).
    pub fn overall(&self) -> StrategyTotals {
        let mut total = StrategyTotals::default();
        for t in self.strategies.values() {
            total.runs += t.runs;
            total.failed_runs += t.failed_runs;
            total.audience += t.audience;
            total.decisions += t.decisions;
            total.benefit_fen = total.benefit_fen.saturating_add(t.benefit_fen);
            total.fuel_used += t.fuel_used;
            total.held_back += t.held_back;
            total.failed_members += t.failed_members;
            total.unreachable += t.unreachable;
            for (channel, n) in &t.unreachable_by_channel {
                *total.unreachable_by_channel.entry(channel.clone()).or_default() += n;
            }
            for (status, n) in &t.by_status {
                *total.by_status.entry(*status).or_default() += n;
            }
            for (reason, n) in &t.reasons {
                *total.reasons.entry(reason.clone()).or_default() += n;
            }
            for (day, n) in &t.audience_by_day {
                *total.audience_by_day.entry(*day).or_default() += n;
            }
            for (day, n) in &t.sent_by_day {
                *total.sent_by_day.entry(*day).or_default() += n;
            }
        }
        total.members_touched = self.touches_per_member.len() as u64;
        total
    }

    /// How many members got 1, 2, … touches; the last bucket is "that many or more".
    pub fn touches_histogram(&self, buckets: u32) -> Vec<(String, u64)> {
        let mut counts = vec![0u64; buckets as usize];
        for &n in self.touches_per_member.values() {
            counts[(n.min(buckets) - 1) as usize] += 1;
        }
        counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let n = i as u32 + 1;
                (if n == buckets { format!("{n}+") } else { n.to_string() }, c)
            })
            .collect()
    }

    /// Whether a run of any strategy failed: the command then exits non-zero.
    pub fn any_failed(&self) -> bool {
        self.strategies.values().any(|t| t.failed_runs > 0)
    }

    /// A fixed-width table for a terminal, then why touches were held back.
    pub fn table(&self) -> String {
        use DecisionStatus::*;
        let header = [
            "strategy",
            "runs",
            "failed",
            "audience",
            "decided",
            "dispatched",
            "deferred",
            "holdout",
            "suppressed",
            "unreachable",
            "members",
            "benefits ¥",
        ];
        let row = |name: &str, t: &StrategyTotals| -> Vec<String> {
            let mut cells = vec![name.to_string()];
            cells.extend([t.runs, t.failed_runs, t.audience, t.decisions].map(|n| n.to_string()));
            cells.extend([Dispatched, Deferred, Holdout, Suppressed].map(|s| t.count(s).to_string()));
            cells.push(t.unreachable.to_string());
            cells.push(t.members_touched.to_string());
            cells.push(format!("{:.0}", yuan(t.benefit_fen)));
            cells
        };
        let mut rows: Vec<Vec<String>> = self.strategies.iter().map(|(id, t)| row(id, t)).collect();
        let total = self.overall();
        rows.push(row("total", &total));
        let widths: Vec<usize> = (0..header.len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        let mut line = |cells: &[&str]| {
            for (i, cell) in cells.iter().enumerate() {
                let pad = " ".repeat(widths[i] - cell.chars().count());
                let _ = if i == 0 { write!(out, "{cell}{pad}") } else { write!(out, "  {pad}{cell}") };
            }
            out.push('\n');
        };
        let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
        let rule: Vec<&str> = rule.iter().map(String::as_str).collect();
        line(&header);
        line(&rule);
        let last = rows.len() - 1;
        for (i, row) in rows.iter().enumerate() {
            if i == last {
                line(&rule);
            }
            line(&row.iter().map(String::as_str).collect::<Vec<_>>());
        }
        let mut reasons: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
        for (id, t) in &self.strategies {
            for (reason, n) in &t.reasons {
                reasons.entry(reason.as_str()).or_default().push((id.as_str(), *n));
            }
        }
        let held: Vec<(&str, u64)> =
            self.strategies.iter().filter(|(_, t)| t.held_back > 0).map(|(id, t)| (id.as_str(), t.held_back)).collect();
        if !held.is_empty() {
            reasons.insert("not asked: still held back (caps, or unreachable), as at their last decision", held);
        }
        let overall_unreachable = self.overall().unreachable_by_channel;
        if !overall_unreachable.is_empty() {
            let by: Vec<String> = overall_unreachable.iter().map(|(c, n)| format!("{c} {n}")).collect();
            let _ = writeln!(out, "\nunreachable by channel (no fallback reached them): {}", by.join(", "));
        }
        let guide_lines = self.guide_days.totals().lines();
        if !guide_lines.is_empty() {
            let _ = write!(out, "\n{guide_lines}");
        }
        if !reasons.is_empty() {
            out.push_str("\nnot sent now (or not on their own channel), and why:\n");
            for (reason, by) in reasons {
                let total: u64 = by.iter().map(|(_, n)| n).sum();
                let who: Vec<String> = by.iter().map(|(id, n)| format!("{id} {n}")).collect();
                let _ = writeln!(out, "  {total:>6}  {reason}  ({})", who.join(", "));
            }
        }
        for (id, t) in &self.strategies {
            if t.failed_members > 0 {
                let _ = writeln!(
                    out,
                    "\n{id}: the plugin failed on {} members alone; they have `failed` decisions naming why, the others were decided",
                    t.failed_members
                );
            }
        }
        for failure in self.failures() {
            let _ = writeln!(out, "\n{failure}");
        }
        out
    }

    /// One line per strategy with failed runs: how many, and the first error.
    pub fn failures(&self) -> Vec<String> {
        let failed = self.strategies.iter().filter_map(|(id, t)| Some((id, t, t.first_error.as_ref()?)));
        failed
            .map(|(id, t, error)| format!("{id}: {} of {} runs failed; first error: {error}", t.failed_runs, t.runs))
            .collect()
    }
}
