//! `canvas dispatch`: delivers every queued touch of the store's outbox that
//! is due, with retries, until each is delivered or dead, and says how it
//! went; dead letters make exit code 2. `canvas run` ends the same way.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use canvas::app::App;
use canvas::config::CanvasConfig;
use canvas::store::Store;

use crate::common::FINISHED_WITH_FAILURES;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
}

pub fn execute(args: Args, config: CanvasConfig) -> anyhow::Result<ExitCode> {
    let store = Arc::new(Store::open_existing(&args.store.unwrap_or(config.store.clone()))?);
    deliver(&App::new(config)?, store)
}

/// Delivers what is due in the outbox and says how it went.
pub fn deliver(app: &App, store: Arc<Store>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(async { app.dispatcher(store)?.drain().await })?;
    // Rate-limited deliveries are not attempts: said apart, and only when there were any.
    let rate_limited = match report.rate_limited {
        0 => String::new(),
        n => format!(", {n} turned away by a receiver's rate limit (429) and tried again after the wait it asked for"),
    };
    println!(
        "dispatch: {} delivered, {} failed attempts retried, {} dead letters, {} waiting for their send time{rate_limited}",
        report.delivered, report.retried, report.dead, report.waiting
    );
    if report.dead > 0 {
        println!("see them with `canvas outbox list --state dead`; re-drive with `canvas outbox redrive --all`");
        return Ok(ExitCode::from(FINISHED_WITH_FAILURES));
    }
    Ok(ExitCode::SUCCESS)
}
