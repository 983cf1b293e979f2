//! `canvas audit`: what operators changed, newest first — when, who (an API
//! token's name, or `cli:<user>`), what, on what, and the state before and
//! after — from the store's audit log.

use std::path::PathBuf;
use std::process::ExitCode;

use canvas::config::CanvasConfig;
use canvas::store::Store;

use crate::common::OutputFormat;

#[derive(clap::Args)]
pub struct Args {
    /// How many of the latest changes.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// `table` for people, `json` for scripts.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

pub fn execute(args: Args, config: &CanvasConfig) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(&args.store.unwrap_or(config.store.clone()))?;
    let entries = store.audit(args.limit)?;
    let calendar = config.calendar();
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string(&entries)?),
        OutputFormat::Table => {
            println!("{:<25}  {:<14}  {:<9}  {:<24}  before → after", "at", "who", "what", "on");
            for e in &entries {
                let at = calendar.format(e.at);
                println!("{at:<25}  {:<14}  {:<9}  {:<24}  {} → {}", e.actor, e.action, e.target, e.before, e.after);
            }
            println!("{} changes", entries.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
