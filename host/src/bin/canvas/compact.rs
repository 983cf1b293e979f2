//! `canvas compact --export FILE`: decisions older than the days kept are
//! written to FILE (JSON lines) and removed from the store, but each
//! member's latest of every strategy, step and status (see
//! `canvas::store::Compaction`): a runner's start then reads a bounded
//! history, however long the service has run. Refused while the service
//! holds the store, when too few days are kept for what reads them, or when
//! FILE exists. Recorded in the audit log.

use std::path::PathBuf;
use std::process::ExitCode;

use canvas::app::{App, PluginSource};
use canvas::calendar::{date_of_day, parse_instant};
use canvas::config::CanvasConfig;
use canvas::model::now_millis;
use canvas::store::Store;

use crate::common::cli_actor;

#[derive(clap::Args)]
pub struct Args {
    /// The new file every removed decision is written to first, one JSON object a line.
    #[arg(long, value_name = "FILE")]
    export: PathBuf,
    /// Days of decisions kept whole, counted back from INSTANT's day. By
    /// default the fewest allowed: the longest window that reads every
    /// decision (a strategy's audience, the caps with deferral) plus
    /// `[serve] catch_up_days`.
    #[arg(long, value_name = "DAYS")]
    keep_days: Option<u32>,
    /// Count the days back from this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "INSTANT")]
    at: Option<String>,
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// The plugins whose audiences say how far back they read decisions:
    /// this folder's, instead of those installed and enabled.
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
}

pub fn execute(args: Args, config: CanvasConfig) -> anyhow::Result<ExitCode> {
    let at = match &args.at {
        Some(text) => parse_instant(text).map_err(|e| anyhow::anyhow!("--at: {e}"))?,
        None => now_millis(),
    };
    let store = Store::open_existing(&args.store.clone().unwrap_or(config.store.clone()))?;
    let plugins = args.plugins.or(config.plugins.clone());
    let app = App::new(config)?;
    let source = match &plugins {
        Some(dir) => PluginSource::Folder(dir),
        None => PluginSource::Installed(&store),
    };
    let loaded = app.strategies(source, None)?;
    let done = app.compact(&store, &loaded.strategies, at, args.keep_days, &args.export)?;
    if done.removed == 0 {
        println!("nothing to compact: no decision before {} can leave the store", date_of_day(done.before));
        return Ok(ExitCode::SUCCESS);
    }
    store.record_audit(&done.audit_entry(&cli_actor()))?;
    store.flush()?;
    println!(
        "compacted the decisions before {}: {} written to {} and removed; {} kept (each member's latest of a \
         strategy, step and status, and touches still pending)",
        date_of_day(done.before),
        done.removed,
        done.export,
        done.kept
    );
    println!("runs at instants before {} are refused from now on", date_of_day(done.runs_from));
    Ok(ExitCode::SUCCESS)
}
