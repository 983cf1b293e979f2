//! `canvas gen`: writes a realistic, deterministic data set of an apparel
//! brand (the four CSV files `canvas import` reads) with the seeded generator
//! of the `canvas-generate` crate, and prints how many records of each kind.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;

use canvas_generate::{generate, GenerateOptions};

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let Args { members, months, seed, end, out } = args;
    let summary = generate(&GenerateOptions { members, months, seed, end }, &out)?;
    println!(
        "{} members, {} orders, {} events, {} products, {} guides in {}",
        summary.members,
        summary.orders,
        summary.events,
        summary.products,
        summary.guides,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
