//! `canvas simulate`: what would these strategies have done over this data?
//!
//! Imports the data into a scratch store inside OUT, runs every scheduled run
//! of every selected strategy in the date range in time order, and fires
//! their triggers on the data's events (and the coupons the runs issue) in
//! the same time order, as the service would have — each run and firing sees
//! only what existed at its instant, and the full governance policy decides
//! each touch as it would for real — and writes decisions.jsonl,
//! runs.jsonl, referrals.csv, and the report (report.json, report.html):
//! what the strategies would have done, the baseline of the members they
//! selected and the lift each would need to pay for its benefits
//! ([`crate::outlook`]). Over history the touches were never sent, so it
//! claims no uplift. The scratch store is removed at the end: the only side
//! effect is the files in OUT.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::NaiveDate;

use std::collections::{BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use crate::app::{App, PluginSource, Selection};
use crate::calendar::BrandCalendar;
use crate::config::CanvasConfig;
use crate::decision_line::decision_json;
use crate::model::{DataSet, Decision, Fen, Millis, RunRecord, RunTrigger};
use crate::outlook::{Outlook, OutlookLog};
use crate::referrals::{InviteLog, Referrals};
use crate::report::{render_html, run_json, PluginBuild, Provenance, SimulationReport, Summary};
use crate::runner::{coupon_issued, Fired, Runner};
use crate::store::Store;
use crate::strategy::{Loaded, Strategy};
use crate::triggers::{Firing, Pending, TriggerTable};

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

/// A dry run of a service's own data and strategies (the console's dry
/// runs): what [`SimulateOptions`] reads from files, already in memory.
pub struct LiveSimulation {
    /// The records to simulate over (the live store's, read once).
    pub data: DataSet,
    /// The strategies, set up with the config they are to run with.
    pub strategies: Vec<Strategy>,
    /// The config: calendar, governance, reports (its strategy settings
    /// only name the config of the report's provenance).
    pub config: CanvasConfig,
    /// The plugin engine the strategies were loaded with.
    pub engine: std::sync::Arc<crate::runtime::PluginEngine>,
    /// The first day, in the brand's calendar.
    pub from: NaiveDate,
    /// The last day, inclusive.
    pub to: NaiveDate,
    /// Where the files go; the scratch store lives here while it runs.
    pub out: PathBuf,
    /// Set to stop the simulation between two run instants (the service stopping).
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Runs a [`LiveSimulation`] and writes its files into `live.out`, exactly
/// as [`simulate`] does; the scratch store is removed whether it succeeds or not.
pub fn simulate_live(live: LiveSimulation, progress: Progress<'_>) -> anyhow::Result<SimulationResult> {
    if live.to < live.from {
        bail!("to {} is before from {}", live.to, live.from);
    }
    std::fs::create_dir_all(&live.out).with_context(|| format!("cannot create {}", live.out.display()))?;
    let scratch = live.out.join(SCRATCH_STORE);
    remove_scratch(&scratch)?;
    let app = App::with_engine(live.config, live.engine);
    let inputs =
        Inputs { data: live.data, strategies: live.strategies, refused: Vec::new(), from: live.from, to: live.to };
    let result = simulate_with(&app, inputs, &live.out, &scratch, &live.stop, progress);
    remove_scratch(&scratch)?;
    result
}

/// What a simulation runs, once read and set up.
struct Inputs {
    data: DataSet,
    strategies: Vec<Strategy>,
    refused: Vec<String>,
    from: NaiveDate,
    to: NaiveDate,
}

fn simulate_in(options: &SimulateOptions, scratch: &Path, progress: Progress<'_>) -> anyhow::Result<SimulationResult> {
    let app = App::new(options.config.clone())?;
    // The data is checked as an import would be, but kept in memory: only
    // the decisions go into the scratch store.
    let data = Store::dataset_of_import(crate::import::read_dir(&options.data)?)?;
    let Loaded { strategies, refused, .. } =
        app.strategies(PluginSource::Folder(&options.plugins), options.strategies.as_deref())?;
    if strategies.is_empty() {
        bail!("no strategy to simulate{}", refusal_note(&refused));
    }
    let inputs = Inputs { data, strategies, refused, from: options.from, to: options.to };
    simulate_with(&app, inputs, &options.out, scratch, &Default::default(), progress)
}

fn simulate_with(
    app: &App,
    inputs: Inputs,
    out: &Path,
    scratch: &Path,
    stop: &std::sync::atomic::AtomicBool,
    progress: Progress<'_>,
) -> anyhow::Result<SimulationResult> {
    let Inputs { data, strategies, refused, from: first_day, to: last_day } = inputs;
    let config = &app.config;
    let calendar = app.calendar();
    let list_prices: HashMap<String, Fen> = data.products.iter().map(|p| (p.sku.clone(), p.price)).collect();
    let (data_first, data_last) = data_range(&data);
    let store = Store::open(scratch)?;

    let from = calendar.start_of(first_day);
    let until = calendar.start_of(last_day.succ_opt().context("--to is the last representable date")?);
    let instants = run_instants(&strategies, &calendar, from, until);
    // The data's events that fire a trigger inside the range (some came
    // before it, their delay reaching in).
    let table = TriggerTable::of(&strategies);
    let reaching_in = from.saturating_sub(table.longest_delay());
    let data_firings: Vec<Firing> =
        data.events.iter().filter(|e| (reaching_in..until).contains(&e.at)).flat_map(|e| table.firings(e)).collect();

    // The scratch store and no sinks are all that set a dry run apart.
    let mut runner = app.runner(app.runner_state(app.member_base(data), &store)?, &store, false);
    let decisions_file = out.join("decisions.jsonl");
    let runs_file = out.join("runs.jsonl");
    let mut decisions_out = create(&decisions_file)?;
    let mut runs_out = create(&runs_file)?;
    let mut summary = Summary::new(calendar);
    for id in strategies.iter().map(Strategy::id) {
        summary.strategies.entry(id.to_string()).or_default();
    }
    let mut invites = InviteLog::default();
    let mut outlook_log = OutlookLog::default();
    let mut write_error = None;
    let mut runs = 0;
    let mut pending = Pending::default();
    pending.add(data_firings.into_iter().filter(|f| (from..until).contains(&f.due)));
    // Triggered firings are tallied per strategy and day (as the service does).
    let mut tallies: Vec<RunRecord> = Vec::new();
    let mut instants = instants.into_iter().peekable();
    let mut done = 0;
    loop {
        // A scheduled run goes first at an instant a firing is also due at.
        let (at, scheduled) = match (instants.peek().copied(), pending.next_due()) {
            (Some(run), Some(fire)) if fire < run => (fire, false),
            (Some(run), _) => (run, true),
            (None, Some(fire)) => (fire, false),
            (None, None) => break,
        };
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            bail!("stopped at {} before its end: the service is stopping", calendar.format(at));
        }
        let mut issued = Vec::new();
        let mut on_decision = |decision: &Decision| {
            summary.add_decision(decision);
            invites.add(decision);
            outlook_log.add(decision);
            if decision.issues_coupon() {
                issued.push(coupon_issued(decision));
            }
            if let Err(e) = writeln!(decisions_out, "{}", decision_json(&calendar, decision)) {
                write_error.get_or_insert(e);
            }
        };
        let records = if scheduled {
            instants.next();
            app.run_at(&mut runner, &strategies, at, RunTrigger::Simulation, Selection::Due, &mut on_decision)?
        } else {
            let due = pending.take_due(at);
            let fired = fire(&mut runner, &strategies, at, &due, &mut on_decision)?;
            for record in fired.records {
                tally(&mut tallies, record);
            }
            Vec::new()
        };
        if let Some(e) = write_error.take() {
            return Err(e).with_context(|| format!("writing {}", decisions_file.display()));
        }
        pending.add(issued.iter().flat_map(|e| table.firings(e)).filter(|f| f.due < until));
        // A day's tallies are written once the timeline has left that day.
        let today = calendar.day_of(at);
        for record in drain_tallies(&mut tallies, |r| r.day < today).iter().chain(&records) {
            summary.add_run(record);
            writeln!(runs_out, "{}", run_json(&calendar, record))
                .with_context(|| format!("writing {}", runs_file.display()))?;
            runs += 1;
        }
        done += 1;
        progress(done, done + instants.len() + pending.len());
    }
    for record in &drain_tallies(&mut tallies, |_| true) {
        summary.add_run(record);
        writeln!(runs_out, "{}", run_json(&calendar, record))
            .with_context(|| format!("writing {}", runs_file.display()))?;
        runs += 1;
    }
    decisions_out.flush().with_context(|| format!("writing {}", decisions_file.display()))?;
    runs_out.flush().with_context(|| format!("writing {}", runs_file.display()))?;
    let referrals = Referrals::count(&runner.base, from, until, &invites);
    let referrals_file = out.join("referrals.csv");
    referrals
        .write_csv(&calendar, create(&referrals_file)?)
        .with_context(|| format!("writing {}", referrals_file.display()))?;
    let outlook = Outlook::score(&runner.base, &list_prices, &outlook_log, &config.report);
    let provenance = Provenance {
        config_sha256: config_sha256(config)?,
        plugins: strategies
            .iter()
            .map(|s| PluginBuild {
                id: s.id().to_string(),
                version: s.plugin.manifest.version.clone(),
                sha256: s.plugin.sha256.to_string(),
            })
            .collect(),
        data_first: data_first.map(|at| calendar.format(at)),
        data_last: data_last.map(|at| calendar.format(at)),
        generated_at: calendar.format(chrono::Utc::now().timestamp_millis()),
    };
    let report = SimulationReport::new(
        &calendar,
        first_day,
        last_day,
        runs as u64,
        &summary,
        &outlook,
        &referrals,
        &refused,
        provenance,
    );
    let report_json = out.join("report.json");
    let json = serde_json::to_string_pretty(&report).context("serializing the report")?;
    std::fs::write(&report_json, json).with_context(|| format!("writing {}", report_json.display()))?;
    let report_html = out.join("report.html");
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

/// SHA-256 of the effective config (defaults included) as compact JSON:
/// the TOML an operator wrote may differ in comments and order and still
/// mean the same settings; this names the settings themselves.
pub fn config_sha256(config: &CanvasConfig) -> anyhow::Result<String> {
    let json = serde_json::to_vec(config).context("serializing the config")?;
    Ok(format!("{:x}", Sha256::digest(json)))
}

/// The first and last instants of any record in the data: a member
/// joining, an order, an event.
fn data_range(data: &DataSet) -> (Option<Millis>, Option<Millis>) {
    let instants = || {
        data.members
            .iter()
            .map(|m| m.joined_at)
            .chain(data.orders.iter().map(|o| o.placed_at))
            .chain(data.events.iter().map(|e| e.at))
    };
    (instants().min(), instants().max())
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

/// Fires `due` (all due at `at`), each with its strategy.
fn fire(
    runner: &mut Runner<'_>,
    strategies: &[Strategy],
    at: Millis,
    due: &[Firing],
    on_decision: &mut dyn FnMut(&Decision),
) -> anyhow::Result<Fired> {
    let pairs: Vec<(&Strategy, &Firing)> =
        due.iter().filter_map(|f| strategies.iter().find(|s| s.id() == f.strategy).map(|s| (s, f))).collect();
    runner.fire_instant(at, &pairs, on_decision)
}

/// Adds a firing's record to its strategy's tally of the day.
fn tally(tallies: &mut Vec<RunRecord>, record: RunRecord) {
    match tallies.iter_mut().find(|t| t.strategy == record.strategy && t.day == record.day) {
        Some(t) => t.absorb(&record),
        None => tallies.push(record),
    }
}

/// Takes the tallies `done` picks, in day order.
fn drain_tallies(tallies: &mut Vec<RunRecord>, done: impl Fn(&RunRecord) -> bool) -> Vec<RunRecord> {
    let (mut taken, kept): (Vec<RunRecord>, Vec<RunRecord>) = tallies.drain(..).partition(|r| done(r));
    *tallies = kept;
    taken.sort_by_key(|r| r.day);
    taken
}

/// Every instant in `from..until` at which some strategy is due, in time
/// order.
pub fn run_instants(strategies: &[Strategy], calendar: &BrandCalendar, from: Millis, until: Millis) -> Vec<Millis> {
    let instants: BTreeSet<Millis> =
        strategies.iter().flat_map(|s| s.schedule.runs_between(calendar, from, until)).collect();
    instants.into_iter().collect()
}
