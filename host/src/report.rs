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
    pub members_touched: u64,
    /// Yuan of benefits in dispatched decisions.
    pub benefit_value: f64,
    pub fuel_used: u64,
    /// The first failure's message, if any run failed.
    pub first_error: Option<String>,
    #[serde(skip)]
    members: BTreeSet<String>,
}

/// Totals by strategy, fed run by run and decision by decision.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub strategies: BTreeMap<String, StrategyTotals>,
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
        if d.status == DecisionStatus::Dispatched {
            t.benefit_value += d.benefit.as_ref().map_or(0.0, |b| yuan(b.value));
            if t.members.insert(d.member_id.clone()) {
                t.members_touched += 1;
            }
        }
    }

    pub fn any_failed(&self) -> bool {
        self.strategies.values().any(|t| t.failed_runs > 0)
    }

    /// A fixed-width table for a terminal.
    pub fn table(&self) -> String {
        let header = ["strategy", "runs", "failed", "audience", "decisions", "dispatched", "members", "benefits ¥"];
        let mut rows: Vec<[String; 8]> = self
            .strategies
            .iter()
            .map(|(id, t)| {
                [
                    id.clone(),
                    t.runs.to_string(),
                    t.failed_runs.to_string(),
                    t.audience.to_string(),
                    t.decisions.to_string(),
                    t.by_status.get(&DecisionStatus::Dispatched).copied().unwrap_or(0).to_string(),
                    t.members_touched.to_string(),
                    format!("{:.0}", t.benefit_value),
                ]
            })
            .collect();
        let total = |f: fn(&StrategyTotals) -> u64| self.strategies.values().map(f).sum::<u64>().to_string();
        rows.push([
            "total".into(),
            total(|t| t.runs),
            total(|t| t.failed_runs),
            total(|t| t.audience),
            total(|t| t.decisions),
            total(|t| t.by_status.get(&DecisionStatus::Dispatched).copied().unwrap_or(0)),
            total(|t| t.members_touched),
            format!("{:.0}", self.strategies.values().map(|t| t.benefit_value).sum::<f64>()),
        ]);
        let widths: Vec<usize> = (0..header.len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        let mut line = |cells: &[&str]| {
            for (i, cell) in cells.iter().enumerate() {
                let pad = widths[i] - cell.chars().count();
                if i == 0 {
                    let _ = write!(out, "{cell}{}", " ".repeat(pad));
                } else {
                    let _ = write!(out, "  {}{cell}", " ".repeat(pad));
                }
            }
            out.push('\n');
        };
        line(&header);
        let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
        line(&rule.iter().map(String::as_str).collect::<Vec<_>>());
        let last = rows.len() - 1;
        for (i, row) in rows.iter().enumerate() {
            if i == last {
                line(&rule.iter().map(String::as_str).collect::<Vec<_>>());
            }
            line(&row.iter().map(String::as_str).collect::<Vec<_>>());
        }
        for (id, t) in &self.strategies {
            if let Some(error) = &t.first_error {
                let _ = writeln!(out, "\n{id}: {} of {} runs failed; first error: {error}", t.failed_runs, t.runs);
            }
        }
        out
    }
}
