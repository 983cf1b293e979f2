//! `canvas simulate`: a dry run — every scheduled run of the strategies over
//! a date range, on the data of a folder, in a scratch store — with a
//! progress bar; prints the summary table, the refusals, the group-buy line,
//! the backtest and where the report went (or, with `--format json`, the
//! report itself). Nothing is written outside `--out`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};

use canvas::backtest::GroupOutcome;
use canvas::config::CanvasConfig;
use canvas::report::SimulationReport;
use canvas::simulate::{simulate, SimulateOptions};

use crate::common::{default_plugin_dir, OutputFormat, FINISHED_WITH_FAILURES};

#[derive(clap::Args)]
pub struct Args {
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
    /// No progress bar and no summary (errors still go to stderr).
    #[arg(long)]
    quiet: bool,
    /// `table` for people, `json` (the report) for scripts.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

pub fn execute(args: Args, config: CanvasConfig) -> anyhow::Result<ExitCode> {
    let Args { data, from, to, out, plugins, strategies, quiet, format } = args;
    let plugins = match plugins {
        Some(dir) => dir,
        None => default_plugin_dir()?,
    };
    let options = SimulateOptions { data, from, to, out, plugins, strategies, config };
    let bar = if quiet || format == OutputFormat::Json {
        ProgressBar::hidden()
    } else {
        let style = ProgressStyle::with_template("{spinner} simulating {bar:40} {pos}/{len} run instants, {eta} left")
            .expect("a valid template");
        ProgressBar::new(0).with_style(style)
    };
    let result = simulate(&options, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    let finished_with_failures = result.summary.any_failed() || !result.refused.is_empty();
    // Exit code 2 always says why, on stderr when stdout is quiet or JSON.
    if quiet || format == OutputFormat::Json {
        for refusal in &result.refused {
            eprintln!("refused: {refusal}");
        }
        for failure in result.summary.failures() {
            eprintln!("{failure}");
        }
    }
    match format {
        OutputFormat::Json => {
            let files = serde_json::json!({
                "decisions": result.decisions_file, "runs": result.runs_file, "referrals": result.referrals_file,
                "report_json": result.report_json, "report_html": result.report_html,
            });
            println!("{}", serde_json::json!({ "files": files, "report": result.report }));
        }
        OutputFormat::Table if quiet => {}
        OutputFormat::Table => {
            println!("simulated {from} to {to}: {} runs", result.runs);
            print!("{}", result.summary.table());
            for refusal in &result.refused {
                println!("refused: {refusal}");
            }
            println!("{}", result.referrals.line());
            print!("{}", backtest_lines(&result.report));
            println!("report:    {}", result.report_html.display());
            println!("decisions: {}", result.decisions_file.display());
        }
    }
    if finished_with_failures {
        return Ok(ExitCode::from(FINISHED_WITH_FAILURES));
    }
    Ok(ExitCode::SUCCESS)
}

/// The backtest in a few lines: conversion touched vs holdout, per strategy.
fn backtest_lines(report: &SimulationReport) -> String {
    let mut out =
        format!("backtest, orders within {} days of a touch (touched vs holdout):\n", report.attribution_days);
    let sections = report.strategies.iter().map(|(id, s)| (id.as_str(), s)).chain([("overall", &report.overall)]);
    for (id, section) in sections {
        let b = &section.backtest;
        let rate = |g: &GroupOutcome| g.conversion().map_or("–".to_string(), |r| format!("{:.1}%", r * 100.0));
        let uplift = b.uplift.as_ref().map_or("no holdout".to_string(), |u| {
            format!("{:+.1} pp [{:+.1}, {:+.1}]", u.difference * 100.0, u.low * 100.0, u.high * 100.0)
        });
        out.push_str(&format!(
            "  {id:<24} {:>7} touched {:>6}   {:>6} held out {:>6}   uplift {uplift}\n",
            b.touched.members,
            rate(&b.touched),
            b.holdout.members,
            rate(&b.holdout)
        ));
    }
    out
}
