//! `canvas runs`: the run history, newest first — when, which strategy and
//! build, how it was asked for, how many members, touches, held back and
//! failed, and why a failed run failed — from the store, or the service
//! holding it (`reach`). Also how `canvas run` shows the runs the service
//! made for it.

use std::path::PathBuf;
use std::process::ExitCode;

use canvas::config::CanvasConfig;
use canvas::report::run_json;
use serde_json::Value;

use crate::common::OutputFormat;
use crate::reach::{store_or_service, Reach};

#[derive(clap::Args)]
pub struct Args {
    /// Only this strategy's runs.
    #[arg(long, value_name = "ID")]
    strategy: Option<String>,
    /// How many of the latest runs.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// `table` for people, `json` for scripts (one run per line, as runs.jsonl).
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

pub fn execute(args: Args, config: &CanvasConfig) -> anyhow::Result<ExitCode> {
    let runs: Vec<Value> = match store_or_service(&args.store.unwrap_or(config.store.clone()), config)? {
        Reach::Store(store) => {
            let calendar = config.calendar();
            let records = store.runs()?;
            let picked = records.iter().rev().filter(|r| args.strategy.as_ref().is_none_or(|s| *s == r.strategy));
            picked.take(args.limit).map(|r| serde_json::from_str(&run_json(&calendar, r))).collect::<Result<_, _>>()?
        }
        Reach::Service(service) => {
            let only = args.strategy.map(|s| format!("&strategy={s}")).unwrap_or_default();
            serde_json::from_value(service.get(&format!("/api/v1/runs?limit={}{only}", args.limit))?)?
        }
    };
    match args.format {
        OutputFormat::Json => runs.iter().for_each(|run| println!("{run}")),
        OutputFormat::Table => print_runs(&runs),
    }
    Ok(ExitCode::SUCCESS)
}

/// A count as JSON, as a number (serde_json's `Display` ignores widths).
fn count(value: &Value) -> u64 {
    value.as_u64().unwrap_or(0)
}

/// Runs as runs.jsonl spells them, one row each, a failed run's reason under it.
pub fn print_runs(runs: &[Value]) {
    println!(
        "{:<25}  {:<22}  {:<9}  {:<9}  {:>8}  {:>9}  {:>9}  {:>6}  build",
        "run at", "strategy", "trigger", "status", "audience", "decisions", "held back", "failed"
    );
    for run in runs {
        let [at, strategy, trigger, status, version] =
            ["run_at", "strategy", "trigger", "status", "plugin_version"].map(|k| run[k].as_str().unwrap_or(""));
        let sha = run["plugin_sha256"].as_str().and_then(|s| s.get(..12)).unwrap_or("");
        println!(
            "{at:<25}  {strategy:<22}  {trigger:<9}  {status:<9}  {:>8}  {:>9}  {:>9}  {:>6}  {version} {sha}",
            count(&run["audience"]),
            count(&run["decisions"]),
            count(&run["held_back"]),
            count(&run["failed_members"])
        );
        if let Some(error) = run["error"].as_str() {
            println!("{:>27}{error}", "");
        }
    }
    println!("{} runs", runs.len());
}
