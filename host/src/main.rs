//! The `canvas` command: parses arguments and calls the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use std::sync::Arc;

use canvas::app::{select, App, PluginSource, Selection};
use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::dispatch::{now_millis, Dispatcher, OutboxState};
use canvas::import::RecordKind;
use canvas::model::{Millis, RunTrigger};
use canvas::printable::{printable, printable_line};
use canvas::registry::Registry;
use canvas::report::{SimulationReport, Summary};
use canvas::runtime::{LoadedPlugin, PluginEngine};
use canvas::serve;
use canvas::simulate::{simulate, SimulateOptions};
use canvas::store::{ImportCounts, Store};
use canvas::strategy::{Loaded, Strategy};
use canvas_generate::{generate, GenerateOptions};

// The member base is tens of millions of small allocations; glibc malloc
// spent a fifth of a 1 M-member simulation allocating and freeing them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "canvas", version, about = "Runs marketing canvas strategies as sandboxed WebAssembly plugins")]
struct Cli {
    /// The canvas config (TOML): time zone, sandbox limits, per-strategy settings.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import members.csv, orders.csv, events.csv and products.csv into the store (all or nothing).
    Import {
        /// The folder with the CSV files.
        #[arg(long, value_name = "DIR", required_unless_present = "discard_interrupted")]
        data: Option<PathBuf>,
        /// The store folder (default: `store` in the config, else ./canvas-store).
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
        /// Roll back an interrupted import instead: every record it wrote gets its earlier value back.
        #[arg(long, conflicts_with = "data")]
        discard_interrupted: bool,
    },
    /// Dry run: every scheduled run of the strategies from FROM to TO over the data; writes only into OUT.
    Simulate {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// First day (YYYY-MM-DD, brand calendar).
        #[arg(long, value_name = "DATE")]
        from: NaiveDate,
        /// Last day, included.
        #[arg(long, value_name = "DATE")]
        to: NaiveDate,
        /// Where decisions.jsonl and runs.jsonl go.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A folder of .wasm plugins (default: the ones `make demo` built, target/plugins).
        #[arg(long, value_name = "DIR")]
        plugins: Option<PathBuf>,
        /// Only these strategy ids, comma-separated.
        #[arg(long, value_name = "ID,ID", value_delimiter = ',')]
        strategies: Option<Vec<String>>,
        /// No progress bar and no summary (errors still go to stderr).
        #[arg(long)]
        quiet: bool,
        /// `table` for people, `json` (the report) for scripts.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// One real run at INSTANT against the store: every enabled strategy due then, then dispatch.
    Run {
        /// The run instant, RFC 3339 (e.g. 2026-03-01T10:00:00+08:00).
        #[arg(long, value_name = "INSTANT")]
        at: String,
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        plugins: Option<PathBuf>,
        /// Run these strategies whatever their schedule, comma-separated.
        #[arg(long, value_name = "ID,ID", value_delimiter = ',')]
        strategies: Option<Vec<String>>,
        /// Record decisions and queue them, but do not deliver now.
        #[arg(long)]
        no_dispatch: bool,
    },
    /// Deliver every queued touch that is due, with retries, until each is delivered or dead.
    Dispatch {
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
    /// Look into the outbox, and re-drive dead letters.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Install, list, configure, enable, disable, roll back plugins (kept in the store).
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
        #[arg(long, value_name = "DIR", global = true)]
        store: Option<PathBuf>,
    },
    /// The service: strategies on their schedules, continuous dispatch, the admin API.
    Serve {
        /// Address to listen on (default: `[serve] listen`, 127.0.0.1:8720).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
        /// Serve the admin API without a token (loopback addresses only; for local development).
        #[arg(long)]
        no_token: bool,
    },
    /// Generate a realistic, deterministic data set of an apparel brand.
    Gen {
        #[arg(long, default_value_t = 2_400)]
        members: u32,
        #[arg(long, default_value_t = 20)]
        months: u32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// The last day of the data (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", default_value = "2026-10-31")]
        end: NaiveDate,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Check, pin (SHA-256) and compile plugin files; a new version of an installed id becomes active.
    Install {
        #[arg(required = true, value_name = "FILE.wasm")]
        files: Vec<PathBuf>,
    },
    /// The installed plugins.
    List,
    /// A plugin's manifest, default and current config, versions.
    Show {
        id: String,
    },
    /// Let a plugin run on its schedule.
    Enable {
        id: String,
    },
    Disable {
        id: String,
    },
    /// Change a plugin's config keys (checked by the plugin; used from the next run).
    Config {
        id: String,
        /// KEY=VALUE, the value as JSON (a bare word is a string). Repeatable.
        #[arg(long, value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Remove a key (back to the default). Repeatable.
        #[arg(long, value_name = "KEY")]
        unset: Vec<String>,
        /// Replace all keys with this JSON object.
        #[arg(long, value_name = "JSON", conflicts_with_all = ["set", "unset"])]
        replace: Option<String>,
    },
    /// Make the previously active version active again.
    Rollback {
        id: String,
    },
    /// Run one plugin file on a hand-written fixture and show its touches, fuel, memory and time.
    /// `--config FILE.json` lays config keys over the plugin's defaults (a `.toml` file is a canvas config).
    Test(PluginTestArgs),
    /// Scaffold a new strategy plugin that builds and passes `canvas plugin test` out of the box.
    New {
        /// The plugin id, lowercase with dashes, e.g. `vip-winback`; also the folder's name.
        name: String,
        #[arg(long, value_enum)]
        lang: canvas::scaffold::Language,
        /// The folder to create the plugin folder in.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct PluginTestArgs {
    #[arg(value_name = "PLUGIN.wasm")]
    plugin: PathBuf,
    /// The fixture: members, orders, events, products, history and the run instant (see docs/plugins.md).
    #[arg(long, value_name = "FIXTURE.json")]
    input: PathBuf,
    /// The touches expected; on a mismatch, a diff and exit code 1.
    #[arg(long, value_name = "FILE.json")]
    expect: Option<PathBuf>,
    /// `table` for people, `json` for scripts (and as an `--expect` file).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List outbox entries (all, or of one state).
    List {
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
    /// Queue dead letters again: the keys given, or all of them.
    Redrive {
        keys: Vec<String>,
        /// Every dead letter.
        #[arg(long, conflicts_with = "keys")]
        all: bool,
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StateArg {
    Pending,
    Delivered,
    Dead,
}

impl From<StateArg> for OutboxState {
    fn from(s: StateArg) -> Self {
        match s {
            StateArg::Pending => OutboxState::Pending,
            StateArg::Delivered => OutboxState::Delivered,
            StateArg::Dead => OutboxState::Dead,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Exit code 2: finished, but a plugin was refused or a run failed.
const FINISHED_WITH_FAILURES: u8 = 2;

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Plugin authors' commands need no store, and `plugin test` reads
    // `--config` as the plugin's own config keys when it is JSON.
    let command = match cli.command {
        Command::Plugin { command: PluginCommand::Test(args), .. } => return plugin_test(cli.config.as_deref(), args),
        Command::Plugin { command: PluginCommand::New { name, lang, dir }, .. } => {
            let created = canvas::scaffold::create(&dir, &name, lang)?;
            println!(
                "created {} ({} files); next: see {}/README.md",
                created.dir.display(),
                created.files,
                created.dir.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        other => other,
    };
    let mut config = match &cli.config {
        Some(path) => CanvasConfig::load(path)?,
        None => CanvasConfig::default(),
    };
    // A Python or JavaScript plugin loaded from a file (`--plugins`) takes
    // 15–30 s to compile: once per machine, unless the config says where.
    if config.compile_cache.is_none() {
        config.compile_cache = user_compile_cache();
    }
    match command {
        Command::Import { data, store, discard_interrupted } => {
            let store_path = store.unwrap_or(config.store.clone());
            match data {
                Some(data) if !discard_interrupted => import(&data, &store_path),
                _ => discard_interrupted_import(&store_path),
            }
        }
        Command::Simulate { data, from, to, out, plugins, strategies, quiet, format } => {
            let plugins = match plugins {
                Some(dir) => dir,
                None => default_plugin_dir()?,
            };
            let options = SimulateOptions { data, from, to, out, plugins, strategies, config };
            let bar = if quiet || format == OutputFormat::Json {
                ProgressBar::hidden()
            } else {
                let style =
                    ProgressStyle::with_template("{spinner} simulating {bar:40} {pos}/{len} run instants, {eta} left")
                        .expect("a valid template");
                ProgressBar::new(0).with_style(style)
            };
            let result = simulate(&options, &mut |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish_and_clear();
            let finished_with_failures = result.summary.any_failed() || !result.refused.is_empty();
            match format {
                OutputFormat::Json => {
                    let files = serde_json::json!({
                        "decisions": result.decisions_file, "runs": result.runs_file, "referrals": result.referrals_file,
                        "report_json": result.report_json, "report_html": result.report_html,
                    });
                    println!("{}", serde_json::json!({ "files": files, "report": result.report }));
                }
                OutputFormat::Table if quiet => {}
                OutputFormat::Table => {
                    println!("simulated {from} to {to}: {} runs", result.runs);
                    print!("{}", result.summary.table());
                    for refusal in &result.refused {
                        println!("refused: {refusal}");
                    }
                    println!("{}", result.referrals.line());
                    print!("{}", backtest_lines(&result.report));
                    println!("report:    {}", result.report_html.display());
                    println!("decisions: {}", result.decisions_file.display());
                }
            }
            if finished_with_failures {
                return Ok(ExitCode::from(FINISHED_WITH_FAILURES));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { at, store, plugins, strategies, no_dispatch } => {
            let at = parse_instant(&at).map_err(|e| anyhow::anyhow!("--at: {e}"))?;
            let store = Arc::new(Store::open(&store.unwrap_or(config.store.clone()))?);
            // Installed plugins when there are any and no folder is named; else a folder.
            let plugins = match plugins.or(config.plugins.clone()) {
                Some(dir) => Some(dir),
                None if store.has_installed_plugins()? => None,
                None => Some(default_plugin_dir()?),
            };
            let app = App::new(config)?;
            let outcome = run_once(&app, &store, plugins.as_deref(), at, strategies.as_deref())?;
            if !no_dispatch {
                dispatch(&app.config, store)?;
            }
            Ok(outcome)
        }
        Command::Dispatch { store } => {
            let store = Arc::new(Store::open(&store.unwrap_or(config.store.clone()))?);
            dispatch(&config, store)
        }
        Command::Outbox { command } => outbox(&config, command),
        Command::Plugin { command, store } => {
            let store = Store::open(&store.unwrap_or(config.store.clone()))?;
            plugin(&config, &store, command)
        }
        Command::Serve { listen, store, no_token } => {
            // The store in use is where the generated token goes.
            config.store = store.unwrap_or(config.store.clone());
            config.serve.allow_no_token |= no_token;
            let store = Arc::new(Store::open(&config.store)?);
            let listen = listen.unwrap_or(config.serve.listen.clone());
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let service = serve::start(App::new(config)?, store, Arc::new(serve::SystemClock), listener).await?;
                println!("canvas serve: listening on http://{} (Ctrl-C or SIGTERM to stop)", service.addr);
                match &service.auth {
                    serve::Auth::Configured(_) => {}
                    serve::Auth::File { path, .. } => println!(
                        "canvas serve: no token configured: the admin API's token is in {} (readable by you only)",
                        path.display()
                    ),
                    serve::Auth::Open => {
                        println!("canvas serve: --no-token: the admin API is open to anyone on this machine")
                    }
                }
                service.run_until(termination()).await?;
                println!("canvas serve: stopped; the outbox is flushed");
                Ok::<_, anyhow::Error>(())
            })?;
            // A run the service stopped waiting for must not hold the
            // process: it is not recorded, and caught up at the next start.
            runtime.shutdown_background();
            Ok(ExitCode::SUCCESS)
        }
        Command::Gen { members, months, seed, end, out } => {
            let summary = generate(&GenerateOptions { members, months, seed, end }, &out)?;
            println!(
                "{} members, {} orders, {} events, {} products in {}",
                summary.members,
                summary.orders,
                summary.events,
                summary.products,
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `canvas import --data DIR`: counts per file on stdout; progress, and
/// whether this completes an interrupted import, on stderr.
fn import(data: &Path, store_path: &Path) -> anyhow::Result<ExitCode> {
    let parsed = canvas::import::read_dir(data)?;
    let store = Store::open(store_path)?;
    if let Some(Some(interrupted)) = store.interrupted_import()? {
        eprintln!("{interrupted} was interrupted; this import is checked against it");
    }
    let mut progress = |kind: RecordKind, done: u64, total: u64| {
        eprintln!("{}: {done} of {total} rows written", kind.file_name());
    };
    let report = store.import_with_progress(&parsed, &mut progress)?;
    let line = |name: &str, c: ImportCounts| {
        println!("{name:<13} {:>8} rows: {} new, {} changed, {} unchanged", c.read, c.new, c.changed, c.unchanged)
    };
    line("members.csv", report.members);
    line("orders.csv", report.orders);
    line("events.csv", report.events);
    line("products.csv", report.products);
    let verdict = if report.changed_anything() { "imported into" } else { "nothing new for" };
    println!("{verdict} {}", store_path.display());
    Ok(ExitCode::SUCCESS)
}

/// `canvas import --discard-interrupted`: says which import it rolls back,
/// and how many records went back to what they were.
fn discard_interrupted_import(store_path: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open(store_path)?;
    let Some(discarded) = store.discard_interrupted_import()? else {
        println!("no import into {} was interrupted: nothing to discard", store_path.display());
        return Ok(ExitCode::SUCCESS);
    };
    match &discarded.import {
        Some(import) => {
            println!("discarded {import}");
            println!(
                "rolled back: {} records it had changed got their earlier values back, {} records it had added \
                 were removed ({} it had not reached yet were as before)",
                discarded.restored, discarded.removed, discarded.untouched
            );
            println!(
                "{} holds the data it held before that import; runs and imports are allowed again",
                store_path.display()
            );
        }
        None => {
            println!("lifted the guard of an import interrupted under an earlier canvas, which kept no undo log:");
            println!("nothing could be rolled back; import your complete data set again before any run");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The backtest in a few lines: conversion touched vs holdout, per strategy.
fn backtest_lines(report: &SimulationReport) -> String {
    let mut out =
        format!("backtest, orders within {} days of a touch (touched vs holdout):\n", report.attribution_days);
    let sections = report.strategies.iter().map(|(id, s)| (id.as_str(), s)).chain([("overall", &report.overall)]);
    for (id, section) in sections {
        let b = &section.backtest;
        let rate = |g: &canvas::backtest::GroupOutcome| {
            g.conversion().map_or("–".to_string(), |r| format!("{:.1}%", r * 100.0))
        };
        let uplift = b.uplift.as_ref().map_or("no holdout".to_string(), |u| {
            format!("{:+.1} pp [{:+.1}, {:+.1}]", u.difference * 100.0, u.low * 100.0, u.high * 100.0)
        });
        out.push_str(&format!(
            "  {id:<24} {:>7} touched {:>6}   {:>6} held out {:>6}   uplift {uplift}\n",
            b.touched.members,
            rate(&b.touched),
            b.holdout.members,
            rate(&b.holdout)
        ));
    }
    out
}

/// Runs the strategies due at `at` (or those named) and records their decisions.
/// `plugins`: a folder of `.wasm` files, or `None` for the installed, enabled ones.
fn run_once(
    app: &App,
    store: &Store,
    plugins: Option<&Path>,
    at: Millis,
    only: Option<&[String]>,
) -> anyhow::Result<ExitCode> {
    let calendar = app.calendar();
    let source = match plugins {
        Some(dir) => PluginSource::Folder(dir),
        None => PluginSource::Installed(store),
    };
    let Loaded { strategies, refused } = app.strategies(source, only)?;
    let selection = match only {
        Some(ids) => Selection::Named(ids),
        None => Selection::Due,
    };
    let due = select(&strategies, &calendar, at, selection);
    for refusal in &refused {
        println!("refused: {refusal}");
    }
    if due.is_empty() {
        println!("no strategy is due at {} (schedules: {})", calendar.format(at), schedules(&strategies));
        return Ok(if refused.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(FINISHED_WITH_FAILURES) });
    }
    let mut runner = app.runner(app.stored_runner_state(store)?, store, true);
    let mut summary = Summary::default();
    let records =
        app.run_at(&mut runner, &strategies, at, RunTrigger::Manual, selection, &mut |d| summary.add_decision(d))?;
    let already: u64 = records.iter().map(|r| r.already_decided).sum();
    for record in &records {
        summary.add_run(record);
    }
    println!("ran {} at {}", due.iter().map(|s| s.id()).collect::<Vec<_>>().join(", "), calendar.format(at));
    print!("{}", summary.table());
    if already > 0 {
        println!("{already} touches were decided by an earlier run of this period and were not decided again");
    }
    runner.into_state().drop_in_background();
    let failed = summary.any_failed() || !refused.is_empty();
    Ok(if failed { ExitCode::from(FINISHED_WITH_FAILURES) } else { ExitCode::SUCCESS })
}

fn schedules(strategies: &[Strategy]) -> String {
    strategies.iter().map(|s| format!("{} `{}`", s.id(), s.schedule.expression())).collect::<Vec<_>>().join(", ")
}

/// Delivers what is due in the outbox and says how it went.
fn dispatch(config: &CanvasConfig, store: Arc<Store>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime
        .block_on(async { Dispatcher::new(store, config.dispatch.clone(), config.calendar())?.drain().await })?;
    println!(
        "dispatch: {} delivered, {} failed attempts retried, {} dead letters, {} waiting for their send time",
        report.delivered, report.retried, report.dead, report.waiting
    );
    if report.dead > 0 {
        println!("see them with `canvas outbox list --state dead`; re-drive with `canvas outbox redrive --all`");
        return Ok(ExitCode::from(FINISHED_WITH_FAILURES));
    }
    Ok(ExitCode::SUCCESS)
}

fn outbox(config: &CanvasConfig, command: OutboxCommand) -> anyhow::Result<ExitCode> {
    match command {
        OutboxCommand::List { state, store } => {
            let store = Store::open(&store.unwrap_or(config.store.clone()))?;
            let calendar = config.calendar();
            let items = store.outbox_items(&calendar, state.map(OutboxState::from))?;
            println!("{:<9}  {:>8}  {:<25}  {:<10}  key / last error", "state", "attempts", "due", "channel");
            for item in &items {
                println!(
                    "{:<9}  {:>8}  {:<25}  {:<10}  {}",
                    item.state.as_str(),
                    item.attempts,
                    calendar.format(item.due_at),
                    item.channel,
                    item.key
                );
                if let Some(error) = &item.last_error {
                    println!("{:>58}{error}", "");
                }
            }
            println!("{} entries", items.len());
            Ok(ExitCode::SUCCESS)
        }
        OutboxCommand::Redrive { keys, all, store } => {
            anyhow::ensure!(all || !keys.is_empty(), "name the keys to re-drive, or pass --all");
            let store = Store::open(&store.unwrap_or(config.store.clone()))?;
            let count = store.redrive(&keys, now_millis())?;
            println!("{count} dead letters queued again; `canvas dispatch` delivers them");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// SIGTERM or Ctrl-C.
async fn termination() {
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn plugin(config: &CanvasConfig, store: &Store, command: PluginCommand) -> anyhow::Result<ExitCode> {
    let engine = Arc::new(PluginEngine::with_compile_cache(config.sandbox.clone(), config.compile_cache.as_deref())?);
    let registry = Registry::new(store, &engine);
    let now = now_millis();
    match command {
        PluginCommand::Install { files } => {
            for file in files {
                let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
                let installed = registry.install(&file.display().to_string(), &bytes, now)?;
                let replaced = installed.replaced.map(|v| format!(", replacing {v}")).unwrap_or_default();
                println!(
                    "installed {} {} (sha256 {}){replaced}",
                    installed.id,
                    printable_line(&installed.version),
                    &installed.sha256[..16]
                );
            }
            println!("installed plugins start disabled: `canvas plugin enable ID`");
        }
        PluginCommand::List => {
            println!("{:<24} {:<9} {:<8} {:<18} {:<16} versions", "id", "version", "enabled", "schedule", "sha256");
            for entry in registry.list()? {
                let v = entry.active_version();
                println!(
                    "{:<24} {:<9} {:<8} {:<18} {:<16} {}",
                    entry.id,
                    printable_line(&v.version),
                    if entry.enabled { "yes" } else { "no" },
                    config.strategy(&entry.id).schedule.unwrap_or(v.schedule.clone()),
                    &v.sha256[..16],
                    entry.versions.len()
                );
            }
        }
        PluginCommand::Show { id } => {
            let entry = registry.get(&id)?;
            let v = entry.active_version();
            let effective = canvas::registry::effective_config(&v.default_config, &config.strategy(&id), &entry.config);
            println!("{} {} — {}", entry.id, printable_line(&v.version), printable_line(&v.name));
            println!("{}", printable(&v.description));
            println!("enabled:   {}", entry.enabled);
            println!("schedule:  {}", config.strategy(&id).schedule.unwrap_or(v.schedule.clone()));
            println!("api:       canvas:strategy@{}", v.api_version);
            println!("sha256:    {}", v.sha256);
            println!("default config:   {}", v.default_config);
            println!("operator config:  {}", serde_json::Value::Object(entry.config.clone()));
            println!("effective config: {effective}");
            println!("versions:");
            for version in &entry.versions {
                let active = if version.sha256 == entry.active { " (active)" } else { "" };
                println!("  {} sha256 {}{active}", printable_line(&version.version), &version.sha256[..16]);
            }
        }
        PluginCommand::Enable { id } => {
            registry.set_enabled(&id, true, now)?;
            println!("{id} enabled");
        }
        PluginCommand::Disable { id } => {
            registry.set_enabled(&id, false, now)?;
            println!("{id} disabled");
        }
        PluginCommand::Config { id, set, unset, replace } => {
            let mut keys = match replace {
                Some(json) => match serde_json::from_str(&json)? {
                    serde_json::Value::Object(map) => map,
                    _ => anyhow::bail!("--replace takes a JSON object"),
                },
                None => registry.get(&id)?.config,
            };
            for pair in set {
                let (key, value) = pair.split_once('=').with_context(|| format!("--set `{pair}`: use KEY=VALUE"))?;
                let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.into()));
                keys.insert(key.to_string(), value);
            }
            for key in unset {
                keys.remove(&key);
            }
            let effective = registry.set_config(&id, keys, &config.strategy(&id), now)?;
            println!("{id}: effective config from the next run: {effective}");
        }
        PluginCommand::Rollback { id } => {
            let entry = registry.rollback(&id, now)?;
            println!("{id}: {} is active again", entry.active_version().version);
        }
        PluginCommand::Test(_) | PluginCommand::New { .. } => unreachable!("handled before the store is opened"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `canvas plugin test`: exit code 0 when the plugin ran (and met `--expect`),
/// 1 when it failed or missed the expectation.
fn plugin_test(config_path: Option<&Path>, args: PluginTestArgs) -> anyhow::Result<ExitCode> {
    use canvas::fixture::{diff, read_expectation, run_fixture, Fixture};

    let (config, keys) = match config_path {
        Some(path) if path.extension().is_some_and(|e| e == "json") => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let keys: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: expected a JSON object of config keys: {e}", path.display()))?;
            (CanvasConfig::default(), keys)
        }
        Some(path) => (CanvasConfig::load(path)?, serde_json::Map::new()),
        None => (CanvasConfig::default(), serde_json::Map::new()),
    };
    let fixture = Fixture::read(&args.input)?;
    let expected = args.expect.as_deref().map(read_expectation).transpose()?;
    // An author runs this again and again: keep the compiled plugin by default.
    let cache = config.compile_cache.clone().or_else(user_compile_cache);
    let engine = Arc::new(PluginEngine::with_compile_cache(config.sandbox.clone(), cache.as_deref())?);
    let plugin = LoadedPlugin::load(&engine, &args.plugin)?;
    let mut keys_for_plugin = config.strategy(plugin.id()).config;
    keys_for_plugin.extend(keys);
    let outcome = run_fixture(plugin, fixture, &keys_for_plugin, &config.sandbox)?;
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
        OutputFormat::Table => print!("{}", canvas::fixture::render(&outcome)),
    }
    if !outcome.refused.is_empty() {
        eprintln!("{} touches broke the contract and were refused (see `refused`)", outcome.refused.len());
        return Ok(ExitCode::FAILURE);
    }
    let Some(expected) = expected else { return Ok(ExitCode::SUCCESS) };
    let differences = diff(&expected, &outcome.touches);
    if differences.is_empty() {
        eprintln!("expectation met: {} touches as in {}", expected.len(), args.expect.unwrap().display());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("expectation NOT met ({}):", args.expect.unwrap().display());
        for line in &differences {
            eprintln!("  {}", printable_line(line));
        }
        Ok(ExitCode::FAILURE)
    }
}

/// $XDG_CACHE_HOME/canvas/compiled, else ~/.cache/canvas/compiled; `None`
/// when it cannot be created (a service user without a home): plugins then
/// compile on every load, as they would with no cache, instead of failing.
fn user_compile_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    let dir = base.join("canvas").join("compiled");
    std::fs::create_dir_all(&dir).is_ok().then_some(dir)
}

/// The plugins `make demo` builds sit in target/plugins, beside target/release.
fn default_plugin_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the canvas binary's own path")?;
    let dir = exe.parent().and_then(Path::parent).map(|target| target.join("plugins"));
    match dir {
        Some(dir) if dir.is_dir() => Ok(dir),
        _ => anyhow::bail!(
            "no plugin folder next to {} (run `make demo` to build them, or pass --plugins DIR)",
            exe.display()
        ),
    }
}
