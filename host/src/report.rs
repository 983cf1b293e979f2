//! What runs produce, for people and scripts: one JSON object per decision
//! (decisions.jsonl), per run (runs.jsonl), and a summary table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::calendar::{date_of_day, BrandCalendar};
use crate::model::{ActionKind, Benefit, BenefitKind, Decision, DecisionStatus, Fen, GroupBuy, RunOutcome, RunRecord};

fn yuan(fen: Fen) -> f64 {
    fen as f64 / 100.0
}

#[derive(Serialize)]
struct BenefitLine<'a> {
    kind: BenefitKind,
    /// Yuan.
    value: f64,
    gift: &'a Option<String>,
}

#[derive(Serialize)]
struct GroupBuyLine<'a> {
    sku: &'a str,
    group_size: u8,
    /// Yuan.
    price: f64,
}

/// One line of decisions.jsonl.
#[derive(Serialize)]
struct DecisionLine<'a> {
    key: &'a str,
    date: String,
    run_at: String,
    strategy: &'a str,
    plugin_version: &'a str,
    step: &'a str,
    member_id: &'a str,
    action: ActionKind,
    channel: &'a str,
    template: &'a str,
    variables: BTreeMap<&'a str, &'a str>,
    benefit: Option<BenefitLine<'a>>,
    coupon_id: &'a Option<String>,
    guide_id: &'a Option<String>,
    group_buy: Option<GroupBuyLine<'a>>,
    status: DecisionStatus,
    reason: &'a Option<String>,
    send_at: Option<String>,
}

/// A decision as one line of JSON (no newline).
pub fn decision_json(calendar: &BrandCalendar, d: &Decision) -> String {
    let benefit =
        d.benefit.as_ref().map(|b: &Benefit| BenefitLine { kind: b.kind, value: yuan(b.value), gift: &b.gift });
    let group_buy = d.group_buy.as_ref().map(|g: &GroupBuy| GroupBuyLine {
        sku: &g.sku,
        group_size: g.group_size,
        price: yuan(g.price),
    });
    let line = DecisionLine {
        key: &d.key,
        date: date_of_day(d.day).to_string(),
        run_at: calendar.format(d.run_at),
        strategy: &d.strategy,
        plugin_version: &d.plugin_version,
        step: &d.step,
        member_id: &d.member_id,
        action: d.action,
        channel: &d.channel,
        template: &d.template,
        variables: d.variables.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        benefit,
        coupon_id: &d.coupon_id,
        guide_id: &d.guide_id,
        group_buy,
        status: d.status,
        reason: &d.reason,
        send_at: d.send_at.map(|at| calendar.format(at)),
    };
    serde_json::to_string(&line).expect("decisions serialize")
}

#[derive(Serialize)]
struct RunLine<'a> {
    date: String,
    run_at: String,
    strategy: &'a str,
    plugin_version: &'a str,
    audience: u64,
    batches: u32,
    decisions: u64,
    already_decided: u64,
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
        plugin_version: &r.plugin_version,
        audience: r.audience,
        batches: r.batches,
        decisions: r.decisions,
        already_decided: r.already_decided,
        fuel_used: r.fuel_used,
        duration_ms: r.duration_micros as f64 / 1000.0,
        status,
        error,
    };
    serde_json::to_string(&line).expect("runs serialize")
}

/// Per-strategy totals over many runs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StrategyTotals {
    pub runs: u64,
    pub failed_runs: u64,
    pub audience: u64,
    pub decisions: u64,
    pub by_status: BTreeMap<DecisionStatus, u64>,
    /// Why touches were not sent now: reason (without its particulars) → count.
    pub reasons: BTreeMap<String, u64>,
    /// Distinct members sent a touch (dispatched or deferred).
    pub members_touched: u64,
    /// Yuan of benefits in touches sent (dispatched or deferred).
    pub benefit_value: f64,
    pub fuel_used: u64,
    /// The first failure's message, if any run failed.
    pub first_error: Option<String>,
    #[serde(skip)]
    members: BTreeSet<String>,
}

impl StrategyTotals {
    pub fn count(&self, status: DecisionStatus) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

/// Totals by strategy, fed run by run and decision by decision.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub strategies: BTreeMap<String, StrategyTotals>,
    /// Distinct members touched by any strategy.
    members: BTreeSet<String>,
}

/// A reason without its particulars ("…; sends at …"), for counting.
fn reason_kind(reason: &str) -> &str {
    reason.split("; ").next().unwrap_or(reason)
}

impl Summary {
    pub fn add_run(&mut self, run: &RunRecord) {
        let t = self.strategies.entry(run.strategy.clone()).or_default();
        t.runs += 1;
        t.audience += run.audience;
        t.fuel_used += run.fuel_used;
        if let RunOutcome::Failed { error } = &run.outcome {
            t.failed_runs += 1;
            t.first_error.get_or_insert_with(|| error.clone());
        }
    }

    pub fn add_decision(&mut self, d: &Decision) {
        let t = self.strategies.entry(d.strategy.clone()).or_default();
        t.decisions += 1;
        *t.by_status.entry(d.status).or_default() += 1;
        if let Some(reason) = &d.reason {
            *t.reasons.entry(format!("{}: {}", d.status.as_str(), reason_kind(reason))).or_default() += 1;
        }
        if d.planned_send_at().is_some() {
            t.benefit_value += d.benefit.as_ref().map_or(0.0, |b| yuan(b.value));
            if t.members.insert(d.member_id.clone()) {
                t.members_touched += 1;
            }
            self.members.insert(d.member_id.clone());
        }
    }

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
            "members",
            "benefits ¥",
        ];
        let row = |name: &str, t: &StrategyTotals| -> Vec<String> {
            let mut cells = vec![name.to_string()];
            cells.extend([t.runs, t.failed_runs, t.audience, t.decisions].map(|n| n.to_string()));
            cells.extend([Dispatched, Deferred, Holdout, Suppressed].map(|s| t.count(s).to_string()));
            cells.push(t.members_touched.to_string());
            cells.push(format!("{:.0}", t.benefit_value));
            cells
        };
        let mut rows: Vec<Vec<String>> = self.strategies.iter().map(|(id, t)| row(id, t)).collect();
        let mut total = StrategyTotals::default();
        for t in self.strategies.values() {
            total.runs += t.runs;
            total.failed_runs += t.failed_runs;
            total.audience += t.audience;
            total.decisions += t.decisions;
            for (status, n) in &t.by_status {
                *total.by_status.entry(*status).or_default() += n;
            }
            total.benefit_value += t.benefit_value;
        }
        total.members_touched = self.members.len() as u64;
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
        if !reasons.is_empty() {
            out.push_str("\nnot sent now, and why:\n");
            for (reason, by) in reasons {
                let total: u64 = by.iter().map(|(_, n)| n).sum();
                let who: Vec<String> = by.iter().map(|(id, n)| format!("{id} {n}")).collect();
                let _ = writeln!(out, "  {total:>6}  {reason}  ({})", who.join(", "));
            }
        }
        for (id, t) in &self.strategies {
            if let Some(error) = &t.first_error {
                let _ = writeln!(out, "\n{id}: {} of {} runs failed; first error: {error}", t.failed_runs, t.runs);
            }
        }
        out
    }
}
