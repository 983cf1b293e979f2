//! `canvas audit`: what operators changed, newest first — when, who (an API
//! token's name, or `cli:<user>`), what, on what, and the state before and
//! after — from the store's audit log (or the service holding the store).

use std::path::PathBuf;
use std::process::ExitCode;

use canvas::app::App;
use canvas::config::CanvasConfig;
use serde_json::Value;

use crate::common::OutputFormat;
use crate::reach::{store_or_service, Reach};

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
    let entries: Vec<Value> = match store_or_service(&args.store.unwrap_or(config.store.clone()), config)? {
        Reach::Store(store) => {
            let app = App::new(config.clone())?;
            store.audit(args.limit)?.iter().map(|e| app.audit_shown(e)).collect()
        }
        Reach::Service(service) => {
            serde_json::from_value(service.get(&format!("/api/v1/audit?limit={}", args.limit))?)?
        }
    };
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string(&entries)?),
        OutputFormat::Table => {
            println!("{:<29}  {:<14}  {:<11}  {:<24}  before → after", "at", "who", "what", "on");
            for e in &entries {
                let [at, actor, action, target] =
                    ["at", "actor", "action", "target"].map(|k| e[k].as_str().unwrap_or(""));
                println!("{at:<29}  {actor:<14}  {action:<11}  {target:<24}  {} → {}", e["before"], e["after"]);
            }
            println!("{} changes", entries.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
