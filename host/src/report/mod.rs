//! What runs produce, for people and scripts: decisions.jsonl and
//! runs.jsonl lines, the summary table, and the simulation report
//! (report.json and a self-contained report.html with inline SVG charts).
//!
//! report.json's money is in fen, every such field named `*_fen`; the page
//! and the summary show yuan (¥). Its baseline counts each order once,
//! overall too (see [`crate::outlook`]); it reports no uplift, which only
//! live runs against their holdout can measure.

mod charts;
pub mod format;
mod guide_tasks;
mod html;
pub(crate) mod lines;
mod summary;

pub use guide_tasks::{BusiestDay, GuideDayBucket, GuideDays, GuideTasks};
pub use html::render_html;
pub use lines::run_json;
pub use summary::{StrategyTotals, Summary};

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::{date_of_day, day_number, BrandCalendar};
use crate::model::Day;
use crate::outlook::{Baseline, Cost, Outlook, StrategyOutlook};
use crate::referrals::Referrals;

/// What made a report: the config, each plugin build, the data, and when.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Provenance {
    /// SHA-256 (lowercase hex) of the effective config as compact JSON,
    /// defaults included: two reports with the same hash ran the same settings.
    pub config_sha256: String,
    /// The strategies that ran, by id.
    pub plugins: Vec<PluginBuild>,
    /// The first record in the data (a member joining, an order or an event), brand time.
    pub data_first: Option<String>,
    /// The last record in the data, brand time.
    pub data_last: Option<String>,
    /// When the report was made, brand time.
    pub generated_at: String,
}

/// One plugin build that ran.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PluginBuild {
    /// The strategy id.
    pub id: String,
    /// The plugin's own version.
    pub version: String,
    /// SHA-256 of the .wasm file, as each decision records it.
    pub sha256: String,
}

/// Everything a simulation learned, as report.json and report.html show it.
#[derive(Clone, Debug, Serialize)]
pub struct SimulationReport {
    /// The first day simulated, in the brand's calendar.
    pub from: NaiveDate,
    /// The last day simulated, inclusive.
    pub to: NaiveDate,
    /// The brand's IANA time zone, which the days and instants are in.
    pub timezone: String,
    /// Runs simulated, over all strategies.
    pub runs: u64,
    /// The config, the plugin builds, the data range, and when.
    pub provenance: Provenance,
    /// The last order in the data, which bounds the baseline's windows.
    pub data_end: Option<String>,
    /// The baseline's window after a decision, in days (`[report] attribution_days`).
    pub attribution_days: u32,
    /// The share of an order's value that pays for benefits (`[report] margin`), 0 to 1.
    pub margin: f64,
    /// All strategies together.
    pub overall: Section,
    /// By strategy id.
    pub strategies: BTreeMap<String, Section>,
    /// Members by the number of touches they were sent, over all strategies.
    pub touches_per_member: Vec<Bucket>,
    /// Staff tasks per guide per day: a histogram and the busiest guide-days.
    pub guide_tasks: GuideTasks,
    /// Group-buy joins in the simulated period, and who they brought.
    pub referrals: ReferralTotals,
    /// Plugins refused and configs rejected.
    pub refused: Vec<String>,
}

/// One strategy's part of the report (or all strategies', as `overall`).
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    /// The summary table's numbers, flattened into the section's JSON.
    #[serde(flatten)]
    pub totals: StrategyTotals,
    /// Members selected per day. Every day of the period, zeros included.
    pub audience_by_day: BTreeMap<NaiveDate, u64>,
    /// Touches sent (dispatched or deferred) per day of their run, zeros included.
    pub sent_by_day: BTreeMap<NaiveDate, u64>,
    /// What the selected members did untouched in the windows after the decisions.
    pub baseline: Baseline,
    /// The benefits and group-buy discounts, and the break-even lift.
    pub cost: Cost,
}

/// A bar of the touches-per-member histogram.
#[derive(Clone, Debug, Serialize)]
pub struct Bucket {
    /// Touches each member got: `1`, `2`, … and, for the last bar, `6+`.
    pub touches: String,
    /// Members who got that many.
    pub members: u64,
}

/// The referral numbers the report shows; the details are in referrals.csv.
#[derive(Clone, Debug, Serialize)]
pub struct ReferralTotals {
    /// Group-buy joins that name a referrer.
    pub joins: u64,
    /// Distinct referrers.
    pub referrers: u64,
    /// Joins by members with no order before they joined.
    pub new_customers: u64,
    /// Joins brought by referrers a strategy had invited before their first join.
    pub joins_after_invites: u64,
}

impl SimulationReport {
    /// Puts a finished simulation's totals, outlook and referrals together,
    /// with the daily series dated over `from..=to`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        calendar: &BrandCalendar,
        from: NaiveDate,
        to: NaiveDate,
        runs: u64,
        summary: &Summary,
        outlook: &Outlook,
        referrals: &Referrals,
        refused: &[String],
        provenance: Provenance,
    ) -> Self {
        let days: Vec<Day> = (day_number(from)..=day_number(to)).collect();
        let dated = |by_day: &BTreeMap<Day, u64>| -> BTreeMap<NaiveDate, u64> {
            days.iter().map(|&d| (date_of_day(d), by_day.get(&d).copied().unwrap_or(0))).collect()
        };
        let section = |totals: StrategyTotals, outlook: StrategyOutlook| Section {
            audience_by_day: dated(&totals.audience_by_day),
            sent_by_day: dated(&totals.sent_by_day),
            totals,
            baseline: outlook.baseline,
            cost: outlook.cost,
        };
        let strategies = summary
            .strategies
            .iter()
            .map(|(id, t)| (id.clone(), section(t.clone(), outlook.strategies.get(id).cloned().unwrap_or_default())))
            .collect();
        SimulationReport {
            from,
            to,
            timezone: calendar.tz().name().to_string(),
            runs,
            provenance,
            data_end: (outlook.data_end > i64::MIN).then(|| calendar.format(outlook.data_end)),
            attribution_days: outlook.settings.attribution_days,
            margin: outlook.settings.margin,
            overall: section(summary.overall(), outlook.overall.clone()),
            strategies,
            touches_per_member: summary
                .touches_histogram(6)
                .into_iter()
                .map(|(touches, members)| Bucket { touches, members })
                .collect(),
            guide_tasks: summary.guide_days.totals(),
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
