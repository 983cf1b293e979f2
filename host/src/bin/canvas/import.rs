//! `canvas import`: reads members.csv, orders.csv, events.csv,
//! products.csv and guides.csv from a folder into the store, all or nothing, and prints the
//! counts per file; `--discard-interrupted` rolls an interrupted import back
//! instead and says what went back to what it was. `canvas init` creates an
//! empty store (for a service fed by the ingest API): these two are the only
//! commands that create one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use canvas::config::CanvasConfig;
use canvas::import::RecordKind;
use canvas::store::{ImportCounts, Store};

#[derive(clap::Args)]
pub struct Args {
    /// The folder with the CSV files (or Parquet: members.parquet, orders.parquet, …).
    #[arg(long, value_name = "DIR", required_unless_present = "discard_interrupted")]
    data: Option<PathBuf>,
    /// The store folder (default: `store` in the config, else ./canvas-store).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Roll back an interrupted import instead: every record it wrote gets its earlier value back.
    #[arg(long, conflicts_with = "data")]
    discard_interrupted: bool,
}

#[derive(clap::Args)]
pub struct InitArgs {
    /// The store folder (default: `store` in the config, else ./canvas-store).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
}

/// `canvas init`: an empty store, or the one there left as it is.
pub fn init(args: InitArgs, config: &CanvasConfig) -> anyhow::Result<ExitCode> {
    let path = args.store.unwrap_or(config.store.clone());
    match Store::open_existing(&path) {
        Ok(_) => println!("a store exists at {} already; left as it is", path.display()),
        Err(_) => {
            Store::open(&path)?;
            println!("created an empty store at {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn execute(args: Args, config: &CanvasConfig) -> anyhow::Result<ExitCode> {
    let store_path = args.store.unwrap_or(config.store.clone());
    match args.data {
        Some(data) if !args.discard_interrupted => import(&data, &store_path, config),
        _ => discard_interrupted_import(&store_path),
    }
}

/// `canvas import --data DIR`: counts per file on stdout; progress, and
/// whether this completes an interrupted import, on stderr.
fn import(data: &Path, store_path: &Path, config: &CanvasConfig) -> anyhow::Result<ExitCode> {
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
    // Optional: a brand without guides.csv is not told of a file it has no use for.
    if report.guides.read > 0 {
        line("guides.csv", report.guides);
    }
    let channels = &config.governance.wecom_limit.channels;
    let withdrawn = canvas::contact::withdraw_undeliverable(&store, &parsed.data.events, channels, &config.calendar())?;
    if withdrawn > 0 {
        println!("{withdrawn} queued touches cancelled: their members can no longer be reached on their channel");
    }
    let verdict = if report.changed_anything() { "imported into" } else { "nothing new for" };
    println!("{verdict} {}", store_path.display());
    Ok(ExitCode::SUCCESS)
}

/// `canvas import --discard-interrupted`: says which import it rolls back,
/// and how many records went back to what they were.
fn discard_interrupted_import(store_path: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(store_path)?;
    let Some(discarded) = store.discard_interrupted_import()? else {
        println!("no import into {} was interrupted: nothing to discard", store_path.display());
        return Ok(ExitCode::SUCCESS);
    };
    match &discarded.import {
        Some(import) => {
            println!("discarded {import}");
            println!(
                "rolled back: {} pages of records it had changed got their earlier values back, {} pages it had \
                 added were removed ({} it had not reached yet were as before)",
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
