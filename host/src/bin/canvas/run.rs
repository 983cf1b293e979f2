//! `canvas run`: one real run at an instant against the operator's store —
//! the strategies due then (or those named, whatever their schedule), from
//! the installed plugins or a folder — recorded and queued, then, unless
//! `--no-dispatch`, the outbox delivered. Prints who ran and the summary
//! table, or that nothing was due and the schedules.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use canvas::app::{select, App, PluginSource, Selection};
use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::model::{Millis, RunTrigger};
use canvas::report::Summary;
use canvas::store::Store;
use canvas::strategy::{Loaded, Strategy};

use crate::common::{default_plugin_dir, FINISHED_WITH_FAILURES};
use crate::dispatch;

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn execute(args: Args, config: CanvasConfig) -> anyhow::Result<ExitCode> {
    let at = parse_instant(&args.at).map_err(|e| anyhow::anyhow!("--at: {e}"))?;
    let store = Arc::new(Store::open(&args.store.unwrap_or(config.store.clone()))?);
    // Installed plugins when there are any and no folder is named; else a folder.
    let plugins = match args.plugins.or(config.plugins.clone()) {
        Some(dir) => Some(dir),
        None if store.has_installed_plugins()? => None,
        None => Some(default_plugin_dir()?),
    };
    let app = App::new(config)?;
    let outcome = run_once(&app, &store, plugins.as_deref(), at, args.strategies.as_deref())?;
    if !args.no_dispatch {
        dispatch::deliver(&app, store)?;
    }
    Ok(outcome)
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
