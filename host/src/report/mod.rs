//! What runs produce, for people and scripts: decisions.jsonl and
//! runs.jsonl lines, the summary table, and the simulation report
//! (report.json and a self-contained report.html with inline SVG charts).

mod charts;
pub mod format;
mod html;
pub(crate) mod lines;
mod summary;

/// decisions.jsonl's line: the decision's own (shared with dispatch), from its home.
pub use crate::decision_line::decision_json;
pub use html::render_html;
pub use lines::run_json;
pub use summary::{StrategyTotals, Summary};

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::backtest::{Backtest, StrategyBacktest};
use crate::calendar::{date_of_day, day_number, BrandCalendar};
use crate::model::Day;
use crate::referrals::Referrals;

/// Everything a simulation learned, as report.json and report.html show it.
#[derive(Clone, Debug, Serialize)]
pub struct SimulationReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub timezone: String,
    pub runs: u64,
    /// The last order in the data, which bounds the attribution windows.
    pub data_end: Option<String>,
    pub attribution_days: u32,
    pub reactivation_days: u32,
    pub overall: Section,
    pub strategies: BTreeMap<String, Section>,
    /// Members by the number of touches they were sent, over all strategies.
    pub touches_per_member: Vec<Bucket>,
    pub referrals: ReferralTotals,
    /// Plugins refused and configs rejected.
    pub refused: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Section {
    #[serde(flatten)]
    pub totals: StrategyTotals,
    /// Every day of the period, zeros included.
    pub audience_by_day: BTreeMap<NaiveDate, u64>,
    pub sent_by_day: BTreeMap<NaiveDate, u64>,
    pub backtest: StrategyBacktest,
}

#[derive(Clone, Debug, Serialize)]
pub struct Bucket {
    pub touches: String,
    pub members: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReferralTotals {
    pub joins: u64,
    pub referrers: u64,
    pub new_customers: u64,
    pub joins_after_invites: u64,
}

impl SimulationReport {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        calendar: &BrandCalendar,
        from: NaiveDate,
        to: NaiveDate,
        runs: u64,
        summary: &Summary,
        backtest: &Backtest,
        referrals: &Referrals,
        refused: &[String],
    ) -> Self {
        let days: Vec<Day> = (day_number(from)..=day_number(to)).collect();
        let dated = |by_day: &BTreeMap<Day, u64>| -> BTreeMap<NaiveDate, u64> {
            days.iter().map(|&d| (date_of_day(d), by_day.get(&d).copied().unwrap_or(0))).collect()
        };
        let section = |totals: StrategyTotals, backtest: StrategyBacktest| Section {
            audience_by_day: dated(&totals.audience_by_day),
            sent_by_day: dated(&totals.sent_by_day),
            totals,
            backtest,
        };
        let strategies = summary
            .strategies
            .iter()
            .map(|(id, t)| (id.clone(), section(t.clone(), backtest.strategies.get(id).cloned().unwrap_or_default())))
            .collect();
        SimulationReport {
            from,
            to,
            timezone: calendar.tz().name().to_string(),
            runs,
            data_end: (backtest.data_end > i64::MIN).then(|| calendar.format(backtest.data_end)),
            attribution_days: backtest.settings.attribution_days,
            reactivation_days: backtest.settings.reactivation_days,
            overall: section(summary.overall(), backtest.overall.clone()),
            strategies,
            touches_per_member: summary
                .touches_histogram(6)
                .into_iter()
                .map(|(touches, members)| Bucket { touches, members })
                .collect(),
            referrals: ReferralTotals {
                joins: referrals.joins(),
                referrers: referrals.by_referrer.len() as u64,
                new_customers: referrals.new_customers(),
                joins_after_invites: referrals.joins_after_invites(),
            },
            refused: refused.to_vec(),
        }
    }
}
