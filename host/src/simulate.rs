//! `canvas simulate`: what would these strategies have done over this data?
//!
//! Imports the data into a scratch store inside OUT, runs every scheduled run
//! of every selected strategy in the date range in time order — each run sees
//! only what existed at its instant, and the full governance policy decides
//! each touch as it would for real — and writes decisions.jsonl,
//! runs.jsonl, referrals.csv, and the report (report.json, report.html)
//! with the backtest of what the touches did against the holdout groups. The scratch store is removed at the end: the only side effect
//! is the files in OUT.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::NaiveDate;

use std::collections::BTreeSet;

use crate::app::{App, PluginSource, Selection};
use crate::backtest::{Backtest, TouchLog};
use crate::calendar::BrandCalendar;
use crate::config::CanvasConfig;
use crate::decision_line::decision_json;
use crate::model::{Millis, RunTrigger};
use crate::referrals::{InviteLog, Referrals};
use crate::report::{render_html, run_json, SimulationReport, Summary};
use crate::store::Store;
use crate::strategy::{Loaded, Strategy};

/// What `canvas simulate` was asked to do.
pub struct SimulateOptions {
    /// The folder of CSV files to simulate over (members.csv and the rest), checked as an import.
    pub data: PathBuf,
    /// The first day, in the brand's calendar.
    pub from: NaiveDate,
    /// The last day, inclusive.
    pub to: NaiveDate,
    /// Where the files go (created if missing); the scratch store lives here while it runs.
    pub out: PathBuf,
    /// The folder of plugin `.wasm` files to run.
    pub plugins: PathBuf,
    /// Only these strategy ids; all enabled ones when `None`.
    pub strategies: Option<Vec<String>>,
    /// The operator's config: calendar, governance, sandbox, strategy settings.
    pub config: CanvasConfig,
}

/// What a simulation produced: the totals, and where it wrote its files.
pub struct SimulationResult {
    /// The summary table's totals.
    pub summary: Summary,
    /// report.json's contents.
    pub report: SimulationReport,
    /// Plugin files that were not loaded, and strategies whose config was refused.
    pub refused: Vec<String>,
    /// Strategy runs simulated (a run instant runs every strategy due then).
    pub runs: usize,
    /// Group-buy joins in the period, by referrer.
    pub referrals: Referrals,
    /// `OUT/decisions.jsonl`.
    pub decisions_file: PathBuf,
    /// `OUT/runs.jsonl`.
    pub runs_file: PathBuf,
    /// `OUT/referrals.csv`.
    pub referrals_file: PathBuf,
    /// `OUT/report.json`.
    pub report_json: PathBuf,
    /// `OUT/report.html`.
    pub report_html: PathBuf,
}

/// Told after each run instant: (instants done, instants in all).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

const SCRATCH_STORE: &str = ".scratch-store";

/// Runs the simulation and writes its files into `options.out`; the
/// scratch store is removed whether it succeeds or not.
pub fn simulate(options: &SimulateOptions, progress: Progress<'_>) -> anyhow::Result<SimulationResult> {
    if options.to < options.from {
        bail!("--to {} is before --from {}", options.to, options.from);
    }
    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    let scratch = options.out.join(SCRATCH_STORE);
    remove_scratch(&scratch)?;
    let result = simulate_in(options, &scratch, progress);
    remove_scratch(&scratch)?;
    result
}

fn remove_scratch(scratch: &Path) -> anyhow::Result<()> {
    if scratch.exists() {
        std::fs::remove_dir_all(scratch).with_context(|| format!("cannot remove {}", scratch.display()))?;
    }
    Ok(())
}

fn simulate_in(options: &SimulateOptions, scratch: &Path, progress: Progress<'_>) -> anyhow::Result<SimulationResult> {
    let app = App::new(options.config.clone())?;
    let config = &app.config;
    let calendar = app.calendar();
    // The data is checked as an import would be, but kept in memory: only
    // the decisions go into the scratch store.
    let data = Store::dataset_of_import(crate::import::read_dir(&options.data)?)?;
    let store = Store::open(scratch)?;

    let Loaded { strategies, refused, .. } =
        app.strategies(PluginSource::Folder(&options.plugins), options.strategies.as_deref())?;
    if strategies.is_empty() {
        bail!("no strategy to simulate{}", refusal_note(&refused));
    }

    let from = calendar.start_of(options.from);
    let until = calendar.start_of(options.to.succ_opt().context("--to is the last representable date")?);
    let instants = run_instants(&strategies, &calendar, from, until);

    // The scratch store and no sinks are all that set a dry run apart.
    let mut runner = app.runner(app.runner_state(app.member_base(data), &store)?, &store, false);
    let decisions_file = options.out.join("decisions.jsonl");
    let runs_file = options.out.join("runs.jsonl");
    let mut decisions_out = create(&decisions_file)?;
    let mut runs_out = create(&runs_file)?;
    let mut summary = Summary::new(calendar);
    for id in strategies.iter().map(Strategy::id) {
        summary.strategies.entry(id.to_string()).or_default();
    }
    let mut invites = InviteLog::default();
    let mut touches = TouchLog::default();
    let mut write_error = None;
    let mut runs = 0;
    for (done, &at) in instants.iter().enumerate() {
        let records =
            app.run_at(&mut runner, &strategies, at, RunTrigger::Simulation, Selection::Due, &mut |decision| {
                summary.add_decision(decision);
                invites.add(decision);
                touches.add(decision);
                if let Err(e) = writeln!(decisions_out, "{}", decision_json(&calendar, decision)) {
                    write_error.get_or_insert(e);
                }
            })?;
        if let Some(e) = write_error.take() {
            return Err(e).with_context(|| format!("writing {}", decisions_file.display()));
        }
        for record in &records {
            summary.add_run(record);
            writeln!(runs_out, "{}", run_json(&calendar, record))
                .with_context(|| format!("writing {}", runs_file.display()))?;
        }
        runs += records.len();
        progress(done + 1, instants.len());
    }
    decisions_out.flush().with_context(|| format!("writing {}", decisions_file.display()))?;
    runs_out.flush().with_context(|| format!("writing {}", runs_file.display()))?;
    let referrals = Referrals::count(&runner.base, from, until, &invites);
    let referrals_file = options.out.join("referrals.csv");
    referrals
        .write_csv(&calendar, create(&referrals_file)?)
        .with_context(|| format!("writing {}", referrals_file.display()))?;
    let backtest = Backtest::score(&runner.base, &touches, &config.report);
    let report = SimulationReport::new(
        &calendar,
        options.from,
        options.to,
        runs as u64,
        &summary,
        &backtest,
        &referrals,
        &refused,
    );
    let report_json = options.out.join("report.json");
    let json = serde_json::to_string_pretty(&report).context("serializing the report")?;
    std::fs::write(&report_json, json).with_context(|| format!("writing {}", report_json.display()))?;
    let report_html = options.out.join("report.html");
    std::fs::write(&report_html, render_html(&report)).with_context(|| format!("writing {}", report_html.display()))?;
    runner.into_state().drop_in_background();
    drop(store);
    Ok(SimulationResult {
        summary,
        report,
        refused,
        runs,
        referrals,
        decisions_file,
        runs_file,
        referrals_file,
        report_json,
        report_html,
    })
}

fn create(path: &Path) -> anyhow::Result<BufWriter<File>> {
    Ok(BufWriter::new(File::create(path).with_context(|| format!("cannot create {}", path.display()))?))
}

fn refusal_note(refused: &[String]) -> String {
    if refused.is_empty() {
        String::new()
    } else {
        format!(":\n  {}", refused.join("\n  "))
    }
}

/// Every instant in `from..until` at which some strategy is due, in time
/// order.
pub fn run_instants(strategies: &[Strategy], calendar: &BrandCalendar, from: Millis, until: Millis) -> Vec<Millis> {
    let instants: BTreeSet<Millis> =
        strategies.iter().flat_map(|s| s.schedule.runs_between(calendar, from, until)).collect();
    instants.into_iter().collect()
}
