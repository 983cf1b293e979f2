//! `canvas run`: one real run at an instant against the operator's store —
//! the strategies due then, or those named (which must be due unless
//! `--force`), from the installed and enabled plugins, or from a folder when
//! one is named (development mode, said so) — recorded and queued, then,
//! unless `--no-dispatch`, the outbox delivered. Prints who ran and the
//! summary table, or that nothing was due and the schedules. A request the
//! rules refuse (`app::AskRefused`) exits 1 naming why, with nothing run.
//! While the service holds the store, the run is asked of it (`reach`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use canvas::app::{select, App, PluginSource, RunAsk};
use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::model::{now_millis, Millis, RunTrigger};
use canvas::report::Summary;
use canvas::store::Store;
use canvas::strategy::Strategy;

use crate::common::FINISHED_WITH_FAILURES;
use crate::dispatch;
use crate::reach::{store_or_service, Reach, ServiceClient};
use crate::runs::print_runs;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// The run instant, RFC 3339 (e.g. 2026-03-01T10:00:00+08:00).
    #[arg(long, value_name = "INSTANT")]
    at: String,
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Development mode: the plugins of this folder instead of the installed ones.
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// Only these strategies, comma-separated (each must be due at INSTANT unless --force).
    #[arg(long, value_name = "ID,ID", value_delimiter = ',')]
    strategies: Option<Vec<String>>,
    /// Run the strategies asked for whatever their schedule, and at an instant
    /// further ahead of the clock than `[run] max_ahead_hours`.
    #[arg(long)]
    force: bool,
    /// Record decisions and queue them, but do not deliver now.
    #[arg(long)]
    no_dispatch: bool,
}

pub fn execute(args: Args, config: CanvasConfig) -> anyhow::Result<ExitCode> {
    let at = parse_instant(&args.at).map_err(|e| anyhow::anyhow!("--at: {e}"))?;
    let store = match store_or_service(&args.store.clone().unwrap_or(config.store.clone()), &config)? {
        Reach::Store(store) => Arc::new(store),
        Reach::Service(service) => return ask_the_service(&service, &args),
    };
    // The installed plugins, unless a folder is asked for.
    let plugins = args.plugins.or(config.plugins.clone());
    if plugins.is_none() && !store.has_installed_plugins()? {
        anyhow::bail!(
            "no plugin is installed in this store: install them (`canvas plugin install FILE.wasm`, then \
             `canvas plugin enable ID`), or run a folder of plugins in development mode (--plugins DIR)"
        );
    }
    let app = App::new(config)?;
    let ask = RunAsk { ids: args.strategies.as_deref(), force: args.force };
    let outcome = run_once(&app, &store, plugins.as_deref(), at, ask)?;
    if !args.no_dispatch {
        dispatch::deliver(&app, store)?;
    }
    Ok(outcome)
}

/// Runs what `ask` asks for at `at` and records the decisions. `plugins`:
/// a folder of `.wasm` files, or `None` for the installed, enabled ones.
fn run_once(app: &App, store: &Store, plugins: Option<&Path>, at: Millis, ask: RunAsk<'_>) -> anyhow::Result<ExitCode> {
    let calendar = app.calendar();
    let source = match plugins {
        Some(dir) => {
            println!("development mode: the plugins of {}, not the ones installed in the store", dir.display());
            PluginSource::Folder(dir)
        }
        None => PluginSource::Installed(store),
    };
    let loaded = app.strategies(source, None)?;
    let selection = app.selection(&loaded, at, now_millis(), ask)?;
    let due = select(&loaded.strategies, &calendar, at, selection);
    for refusal in &loaded.refused {
        println!("refused: {refusal}");
    }
    let mut summary = Summary::new(calendar);
    for record in app.record_refused(store, &loaded, at, RunTrigger::Manual, selection)? {
        println!("{} did not run at {}: recorded as a failed run", record.strategy, calendar.format(at));
        summary.add_run(&record);
    }
    if due.is_empty() {
        println!("no strategy is due at {} (schedules: {})", calendar.format(at), schedules(&loaded.strategies));
        let failed = !loaded.refused.is_empty();
        return Ok(if failed { ExitCode::from(FINISHED_WITH_FAILURES) } else { ExitCode::SUCCESS });
    }
    // Said before the member base and the decisions are read (minutes at a million members).
    store.check_not_compacted(calendar.day_of(at))?;
    let mut runner = app.runner(app.stored_runner_state(store, &loaded.strategies)?, store, true);
    let records = app
        .run_at(&mut runner, &loaded.strategies, at, RunTrigger::Manual, selection, &mut |d| summary.add_decision(d))?;
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
    let failed = summary.any_failed() || !loaded.refused.is_empty();
    Ok(if failed { ExitCode::from(FINISHED_WITH_FAILURES) } else { ExitCode::SUCCESS })
}

/// Beside the service holding the store, the run is the service's to make
/// (`POST /api/v1/runs`, the same rules); it delivers continuously.
fn ask_the_service(service: &ServiceClient, args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.plugins.is_none(),
        "development mode (--plugins) runs a folder against the store itself: stop the service first"
    );
    let asked = json!({ "at": args.at, "strategies": args.strategies, "force": args.force });
    let answer = service.post("/api/v1/runs", Some(&asked))?;
    let runs = answer["runs"].as_array().cloned().unwrap_or_default();
    if runs.is_empty() {
        println!("no strategy is due at {} (`canvas plugin list` shows the schedules)", args.at);
        return Ok(ExitCode::SUCCESS);
    }
    print_runs(&runs);
    println!("the service delivers the touches as they are due");
    let failed = runs.iter().any(|r| r["status"] != "completed");
    Ok(if failed { ExitCode::from(FINISHED_WITH_FAILURES) } else { ExitCode::SUCCESS })
}

fn schedules(strategies: &[Strategy]) -> String {
    strategies.iter().map(|s| format!("{} `{}`", s.id(), s.schedule.expression())).collect::<Vec<_>>().join(", ")
}
