//! `canvas simulate`: a dry run — every scheduled run of the strategies over
//! a date range, on the data of a folder, in a scratch store — with a
//! progress bar; prints the summary table, the refusals, the group-buy line,
//! what the strategies would have done (baseline, cost, break-even lift —
//! never what the touches caused: they were not sent), what made the report, and
//! where it went (or, with `--format json`, the report itself). Nothing is
//! written outside `--out`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};

use canvas::config::CanvasConfig;
use canvas::report::format;
use canvas::report::{Section, SimulationReport};
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
            print!("{}", outlook_lines(&result.report));
            let p = &result.report.provenance;
            println!(
                "made from: config sha256 {}, data {} to {}",
                &p.config_sha256[..16],
                p.data_first.as_deref().unwrap_or("–"),
                p.data_last.as_deref().unwrap_or("–")
            );
            println!("report:    {}", result.report_html.display());
            println!("decisions: {}", result.decisions_file.display());
        }
    }
    if finished_with_failures {
        return Ok(ExitCode::from(FINISHED_WITH_FAILURES));
    }
    Ok(ExitCode::SUCCESS)
}

/// What the strategies would have done, a line each: the baseline of the
/// members they selected, the cost, and the lift that would pay for it.
fn outlook_lines(report: &SimulationReport) -> String {
    let mut out = format!(
        "what the strategies would have done (selected members' orders within {} days of a decision, touched or not; margin {:.0}%):\n",
        report.attribution_days,
        report.margin * 100.0
    );
    out.push_str(&format!(
        "  {:<24} {:>8} {:>8} {:>11} {:>8} {:>9} {:>10} {:>11} {:>10}\n",
        "strategy", "selected", "ordered", "revenue", "touched", "cost", "per member", "order value", "break-even"
    ));
    let sections = report.strategies.iter().map(|(id, s)| (id.as_str(), s)).chain([("overall", &report.overall)]);
    for (id, section) in sections {
        let Section { baseline: b, cost: c, .. } = section;
        let none = || "–".to_string();
        out.push_str(&format!(
            "  {id:<24} {:>8} {:>8} {:>11} {:>8} {:>9} {:>10} {:>11} {:>10}\n",
            b.members,
            b.conversion.map_or_else(none, format::percent),
            format::yuan(b.revenue_fen),
            c.touched_members,
            format::yuan(c.total_fen),
            c.per_touched_member_fen.map_or_else(none, format::yuan),
            b.average_order_value_fen.map_or_else(none, format::yuan),
            c.break_even_pp.map_or_else(none, |pp| format!("{pp:.1} pp"))
        ));
    }
    out.push_str(
        "  break-even: the lift in conversion a strategy would need to pay for itself (cost per touched member ÷ (order value × margin)); group-buy cost is every invite's discount, as if all were taken up\n",
    );
    out.push_str(
        "  over history the touches were never sent: what they cause is measured only live, against the holdout (`canvas results`)\n",
    );
    out
}
