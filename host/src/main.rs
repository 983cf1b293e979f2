//! The `canvas` command: parses arguments and calls the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use canvas::config::CanvasConfig;
use canvas::generate::{generate, GenerateOptions};
use canvas::simulate::{simulate, SimulateOptions};
use canvas::store::{ImportCounts, Store};

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
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The store folder (default: `store` in the config, else ./canvas-store).
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
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
    let config = match &cli.config {
        Some(path) => CanvasConfig::load(path)?,
        None => CanvasConfig::default(),
    };
    match cli.command {
        Command::Import { data, store } => {
            let parsed = canvas::import::read_dir(&data)?;
            let store_path = store.unwrap_or(config.store.clone());
            let report = Store::open(&store_path)?.import(&parsed)?;
            let line = |name: &str, c: ImportCounts| {
                println!(
                    "{name:<13} {:>8} rows: {} new, {} changed, {} unchanged",
                    c.read, c.new, c.changed, c.unchanged
                )
            };
            line("members.csv", report.members);
            line("orders.csv", report.orders);
            line("events.csv", report.events);
            line("products.csv", report.products);
            let verdict = if report.changed_anything() { "imported into" } else { "nothing new for" };
            println!("{verdict} {}", store_path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate { data, from, to, out, plugins, strategies } => {
            let plugins = match plugins {
                Some(dir) => dir,
                None => default_plugin_dir()?,
            };
            let options = SimulateOptions { data, from, to, out, plugins, strategies, config };
            let result = simulate(&options)?;
            println!("simulated {from} to {to}: {} runs", result.runs);
            print!("{}", result.summary.table());
            for refusal in &result.refused {
                println!("refused: {refusal}");
            }
            println!("{}", result.referrals.line());
            println!("decisions: {}", result.decisions_file.display());
            println!("runs:      {}", result.runs_file.display());
            println!("referrals: {}", result.referrals_file.display());
            if result.summary.any_failed() || !result.refused.is_empty() {
                return Ok(ExitCode::from(FINISHED_WITH_FAILURES));
            }
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
