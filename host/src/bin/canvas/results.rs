//! `canvas results` and `canvas report`: live results over the store (see
//! `canvas::results`) — from the store, or through the service's API while
//! the service holds it (`reach`); one JSON shape either way. `results`
//! prints a table, the JSON, or CSV; `report` writes report.html. A bad date
//! or `by` exits 2 (as a usage error does) with the same message the API gives.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use canvas::app::{stored_member_base, KindsWanted};
use canvas::config::CanvasConfig;
use canvas::member_base::KeptKinds;
use canvas::results::{html, render, Results, ResultsQuery};

use crate::reach::{store_or_service, Reach};

/// Exit code of a request that does not read (a usage error, as clap's own).
const BAD_REQUEST: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(clap::Args)]
pub struct Range {
    /// The first brand-local day, YYYY-MM-DD.
    #[arg(long)]
    from: String,
    /// The last brand-local day (included), YYYY-MM-DD.
    #[arg(long)]
    to: String,
    /// Group by: strategy, step, level, store, guide, channel and at most one of day, week, month (comma-separated).
    #[arg(long, default_value = "")]
    by: String,
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    range: Range,
    /// `table` for people, `json` (as the API answers), `csv` with a header.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    range: Range,
    /// Where report.html is written (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// The results, or the exit code of a request refused before any work.
fn results_of(range: Range, config: &CanvasConfig) -> anyhow::Result<Result<Results, ExitCode>> {
    let query = match ResultsQuery::parse(&range.from, &range.to, &range.by) {
        Ok(query) => query,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Err(ExitCode::from(BAD_REQUEST)));
        }
    };
    let path = range.store.unwrap_or(config.store.clone());
    Ok(Ok(match store_or_service(&path, config)? {
        Reach::Store(store) => {
            let base = stored_member_base(&store, config.calendar(), KindsWanted::AtLeast(&KeptKinds::host()))?;
            Results::of_store(&base, &store, &query, &config.report, &config.results)?
        }
        Reach::Service(service) => {
            // The query has been read: its dates and names need no escaping.
            let by: Vec<&str> = query.by.iter().map(|d| d.name()).collect();
            let (from, to) = (canvas::calendar::date_of_day(query.from), canvas::calendar::date_of_day(query.to));
            let answer = service.get(&format!("/api/v1/results?from={from}&to={to}&by={}", by.join(",")))?;
            serde_json::from_value(answer).context("the service's results do not read")?
        }
    }))
}

pub fn execute(args: Args, config: &CanvasConfig) -> anyhow::Result<ExitCode> {
    let results = match results_of(args.range, config)? {
        Ok(results) => results,
        Err(code) => return Ok(code),
    };
    match args.format {
        Format::Table => print!("{}", render::table(&results)),
        Format::Json => println!("{}", serde_json::to_string(&results)?),
        Format::Csv => render::csv(&results, std::io::stdout().lock())?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn report(args: ReportArgs, config: &CanvasConfig) -> anyhow::Result<ExitCode> {
    let results = match results_of(args.range, config)? {
        Ok(results) => results,
        Err(code) => return Ok(code),
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let path = args.out.join("report.html");
    std::fs::write(&path, html::report_html(&results)).with_context(|| format!("cannot write {}", path.display()))?;
    println!("report: {}", path.display());
    Ok(ExitCode::SUCCESS)
}
