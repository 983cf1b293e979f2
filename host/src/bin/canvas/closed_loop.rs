//! `canvas loop`: the closed loop for people — generated members, the
//! service run day after day over them with the named strategies, and a
//! seeded world behind the webhook that orders after the touches it gets
//! (the planted lift) and deletes the brand when over-touched (the planted
//! harm). Prints, per strategy, planted against measured
//! (`canvas::world::render_table`), or the results and the rows as JSON.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;

use canvas::config::CanvasConfig;
use canvas::world::{render_table, run_loop, Harm, LoopOptions, Plan};

use crate::common::{default_plugin_dir, OutputFormat as Format};

#[derive(clap::Args)]
pub struct Args {
    /// Members to generate.
    #[arg(long, default_value_t = 3_000)]
    members: u32,
    /// Days the service runs (results are measured over all but the last attribution window's).
    #[arg(long, default_value_t = 45)]
    days: u32,
    /// Seeds both the generated members and the world's draws.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// A strategy and its planted lift in percent: the extra chance a member it touched orders within
    /// --lift-days (repeat for more strategies; 0 runs it with nothing planted).
    #[arg(long, value_name = "STRATEGY=PCT", required = true)]
    plant: Vec<String>,
    /// The chance, in percent, that any member orders on any day.
    #[arg(long, value_name = "PCT", default_value_t = 1.0)]
    background: f64,
    /// The days after a touch in which a planted order falls (at most `[report] attribution_days`).
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    lift_days: u32,
    /// The chance, in percent, that a touch making a member over-touched makes them delete the brand on WeCom.
    #[arg(long, value_name = "PCT")]
    harm: Option<f64>,
    /// More touches than this in 7 days is over-touched.
    #[arg(long, value_name = "N", default_value_t = 1)]
    harm_over: u32,
    /// The holdout percent the loop runs with (larger: narrower intervals).
    #[arg(long, value_name = "PCT", default_value_t = 50.0)]
    holdout: f64,
    /// The first day the service runs; the loop's days must be past.
    #[arg(long, value_name = "DATE", default_value = "2026-03-01")]
    start: NaiveDate,
    /// Months of generated history before --start.
    #[arg(long, value_name = "MONTHS", default_value_t = 12)]
    history_months: u32,
    /// A folder of .wasm plugins, `<strategy>.wasm` (default: target/plugins).
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// Where the generated data and the store go, kept afterwards (default: a temporary folder, removed).
    #[arg(long, value_name = "DIR")]
    work: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// `STRATEGY=PCT` as (strategy, probability), naming what is wrong.
fn planted(text: &str) -> anyhow::Result<(String, f64)> {
    let (id, pct) = text
        .split_once('=')
        .with_context(|| format!("--plant `{text}`: write STRATEGY=PCT, e.g. dormant-recall=30"))?;
    let pct: f64 = pct.trim().parse().map_err(|_| anyhow::anyhow!("--plant `{text}`: `{pct}` is not a percentage"))?;
    Ok((id.trim().to_string(), pct / 100.0))
}

pub fn execute(args: Args, config: CanvasConfig) -> anyhow::Result<ExitCode> {
    let lift: BTreeMap<String, f64> = args.plant.iter().map(|p| planted(p)).collect::<anyhow::Result<_>>()?;
    let dir = match &args.plugins {
        Some(dir) => dir.clone(),
        None => default_plugin_dir()?,
    };
    let plugins: Vec<PathBuf> = lift.keys().map(|id| dir.join(format!("{id}.wasm"))).collect();
    if let Some(missing) = plugins.iter().find(|p| !p.is_file()) {
        anyhow::bail!(
            "no plugin {} for --plant (the strategies are the .wasm files in {})",
            missing.display(),
            dir.display()
        );
    }
    let plan = Plan {
        seed: args.seed,
        lift,
        lift_days: args.lift_days,
        background: args.background / 100.0,
        harm: args.harm.map(|pct| Harm { over: args.harm_over, probability: pct / 100.0 }),
    };
    let (work, temporary) = match &args.work {
        Some(dir) => (dir.clone(), false),
        None => (std::env::temp_dir().join(format!("canvas-loop-{}", std::process::id())), true),
    };
    anyhow::ensure!(
        !work.join("store").exists(),
        "{} already holds a store: give --work a new folder (the loop starts from generated data)",
        work.display()
    );
    let options = LoopOptions {
        members: args.members,
        history_months: args.history_months,
        data_seed: args.seed,
        start: args.start,
        days: args.days,
        plan,
        plugins,
        holdout_percent: args.holdout,
        work: work.clone(),
        config,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let table = matches!(args.format, Format::Table);
    let outcome = runtime.block_on(run_loop(options, &mut |line: &str| {
        if table {
            eprintln!("{line}");
        }
    }));
    runtime.shutdown_background();
    if temporary {
        let _ = std::fs::remove_dir_all(&work);
    }
    let outcome = outcome?;
    if table {
        let r = &outcome.results;
        println!(
            "closed loop: {} members, {} days from {}; measured touches {} to {} (attribution {} days, harm {} days)",
            args.members, args.days, args.start, r.from, r.to, r.attribution_days, r.harm_days
        );
        let c = &outcome.counts;
        println!(
            "world: {} background orders, {} lift orders, {} deletions, {} touches received ({} redelivered)",
            c.background_orders,
            c.lift_orders.values().sum::<u64>(),
            c.deletions.values().sum::<u64>(),
            c.touches.values().sum::<u64>(),
            c.redeliveries
        );
        println!("{}", render_table(&outcome.rows));
    } else {
        let json = serde_json::json!({ "planted_vs_measured": outcome.rows, "results": outcome.results });
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    Ok(ExitCode::SUCCESS)
}
