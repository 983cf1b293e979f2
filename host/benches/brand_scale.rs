//! Brand scale, measured in one run (BENCHMARKS.md has the figures):
//!
//! 1. import throughput and store size, on generated data (`--members`, default 1,000,000);
//! 2. full daily runs of every shipped strategy (wall time, peak RSS), split
//!    into audience evaluation, member facts, plugin calls, governance and
//!    recording: `--days` (default 7) days in a row on one runner, as `canvas
//!    serve` runs them, then what a fresh runner reads before its first run;
//! 3. plugin instantiation (Rust, Python, JavaScript components);
//! 4. each Rust strategy as a plugin vs the same code compiled natively, on the day's audience,
//!    and as a plugin without fuel or deadline (what metering costs);
//! 5. the day's audiences computed by the host vs by DuckDB SQL over the same CSV files;
//! 6. a daily run over the same audiences with 10× the members (inert ones added);
//! 7. simulation speed (days per second) at `--sim-members` (default 100,000);
//! 8. live results over the store after the days of 2 (a year's range, by strategy, channel and week);
//! 9. event triggers in `canvas serve`: ingest to a delivered touch at `--trigger-rate` events a
//!    second (default 1,000) over the `--sim-members` data (`trigger_latency.rs`;
//!    `--triggers-only` measures just this).
//!
//! Run: `make bench` (or `cargo bench --bench brand_scale -- [--members N] [--months N] [--days N] [--smoke]`
//! after `make plugins polyglot`). `--smoke` is the small version CI runs.
//!
//! One file over 400 lines: the measurements run in one process, one after
//! the other, so their figures are side by side; each is a function here, and the
//! native twins of the strategies are in `native.rs`.

mod native;
mod trigger_latency;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use serde_json::{json, Value};

use canvas::app::{select, App, KindsWanted, PluginSource, Selection, SNAPSHOT_FILE};
use canvas::audience;
use canvas::calendar::parse_instant;
use canvas::calendar::RunClock;
use canvas::config::CanvasConfig;
use canvas::decision_log::StrategyLog;
use canvas::import::read_dir;
use canvas::member_base::{snapshot, MemberBase};
use canvas::model::{Millis, RunTrigger};
use canvas::results::{Results, ResultsQuery};
use canvas::runner::Runner;
use canvas::runtime::{api, LoadedPlugin, PluginEngine};
use canvas::simulate::{simulate, SimulateOptions};
use canvas::store::Store;
use canvas::strategy::{kept_kinds, Strategy};
use canvas_generate::{generate, GenerateOptions};

// As the `canvas` binary does (host/src/bin/canvas/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    members: u32,
    /// Months of history: 60 gives ~5.9 orders a member (~6M orders at 1M members).
    months: u32,
    sim_members: u32,
    sim_days: u32,
    /// Daily runs in a row on one runner.
    days: u32,
    work: PathBuf,
    duckdb: bool,
    cold_compile: bool,
    /// Events a second posted to the service (9).
    trigger_rate: u32,
    trigger_seconds: u32,
    triggers_only: bool,
}

/// The run measured: the 1st of a month, so the monthly birthday strategy runs too.
const RUN_AT: &str = "2026-10-01T10:00:00+08:00";
const DATA_END: &str = "2026-10-31";
const BATCH: usize = 500;
const DAY_MILLIS: Millis = 24 * 60 * 60 * 1000;

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ has a parent").to_path_buf();
    let plugins = root.join("target/plugins");
    anyhow::ensure!(plugins.is_dir(), "{} is missing: run `make plugins polyglot` first", plugins.display());
    std::fs::create_dir_all(&args.work)?;
    // The tests' cache: Python and JavaScript components compile once per tree.
    let config = CanvasConfig { compile_cache: Some(root.join("target/compile-cache")), ..CanvasConfig::default() };
    let mut report = Report::default();
    report.line(format!("machine: {} cores, {}", num_cpus(), cpu_model()));
    if args.triggers_only {
        return trigger_section(&root, &args, &config, &mut report);
    }

    // 1. data and import
    let data = dataset(&args.work, args.members, args.months)?;
    let store_dir = args.work.join(format!("store-{}", args.members));
    let _ = std::fs::remove_dir_all(&store_dir);
    let started = Instant::now();
    let parsed = read_dir(&data)?;
    let parse_time = started.elapsed();
    let store = Store::open(&store_dir)?;
    let importing = Instant::now();
    store.import(&parsed)?;
    store.flush()?;
    let import_time = importing.elapsed();
    let d = &parsed.data;
    let rows = (d.members.len() + d.orders.len() + d.events.len() + d.products.len()) as f64;
    let total = parse_time + import_time;
    report.section("import");
    report.figure("members", d.members.len() as f64, "");
    report.figure("orders", d.orders.len() as f64, "");
    report.figure("events", d.events.len() as f64, "");
    report.figure("parse CSV", ms(parse_time), "ms");
    report.figure("write store", ms(import_time), "ms");
    report.figure("import throughput", rows / total.as_secs_f64(), "rows/s");
    report.figure("store on disk", dir_size(&store_dir) as f64 / 1e6, "MB");
    drop(parsed);

    // The strategies, at the run instant.
    let app = App::new(config.clone())?;
    let engine = app.engine.clone();
    let loaded = app.strategies(PluginSource::Folder(&plugins), None)?;
    anyhow::ensure!(loaded.refused.is_empty(), "plugins refused: {:?}", loaded.refused);
    let strategies = loaded.strategies;
    let at = parse_instant(RUN_AT).map_err(anyhow::Error::msg)?;

    // As a run after an import reads it: streamed from the store, keeping
    // the event kinds the host and these strategies read, then saved.
    let kinds = kept_kinds(&strategies);
    let loading = Instant::now();
    let base = app.stored_member_base(&store, KindsWanted::Run(&kinds))?;
    report.figure("read the member base from the store and save its snapshot", ms(loading.elapsed()), "ms");
    let kept_events: usize = (0..base.len() as u32).map(|m| base.events_as_of(m, Millis::MAX).len()).sum();
    report.line(format!("event kinds kept: {kinds}"));
    report.figure("events kept in memory", kept_events as f64, "");
    report.figure("member base in memory (its vectors and strings)", base.heap_bytes() as f64 / 1e6, "MB");
    report.figure("RSS after the load", rss_kib("VmRSS") as f64 / 1024.0, "MiB");

    // 3. instantiation
    report.section("plugin instantiation (fresh instance + one audience-for call, mean of 20)");
    let polyglot = root.join("target/polyglot");
    for (label, file) in [
        ("Rust (dormant-recall)", plugins.join("dormant-recall.wasm")),
        ("Python (vip-anniversary)", plugins.join("vip-anniversary.wasm")),
        ("JavaScript (birthday-tiered)", polyglot.join("js/birthday-tiered.wasm")),
    ] {
        if !file.exists() {
            report.line(format!("{label}: {} missing (make polyglot)", file.display()));
            continue;
        }
        let size = std::fs::metadata(&file)?.len() as f64 / 1e6;
        if args.cold_compile {
            let uncached = Arc::new(PluginEngine::new(config.sandbox.clone())?);
            let compiling = Instant::now();
            LoadedPlugin::load(&uncached, &file)?;
            report.figure(&format!("{label}: {size:.1} MB, compile (no cache)"), ms(compiling.elapsed()), "ms");
        }
        LoadedPlugin::load(&engine, &file)?; // fills the compile cache
        let loading = Instant::now();
        let plugin = LoadedPlugin::load(&engine, &file)?;
        let load = loading.elapsed();
        let config = plugin.manifest.default_config.clone();
        // A fresh call each time: `audience` would answer from the kept result.
        plugin.audience_with_stats(&config)?;
        let calls = Instant::now();
        for _ in 0..20 {
            plugin.audience_with_stats(&config)?;
        }
        report.figure(&format!("{label}: load from the compile cache"), ms(load), "ms");
        report.figure(&format!("{label}: instantiate + call"), ms(calls.elapsed()) / 20.0, "ms");
    }

    // 4. plugin vs native, and 5. host vs DuckDB audiences
    let clock = RunClock::new(&base.calendar, at);
    let empty = StrategyLog::default();
    report.section("plugin vs native (the day's audience, batches of 500; ratio = plugin / native)");
    // The same components without fuel or deadline: what metering costs.
    let unmetered = Arc::new(PluginEngine::unmetered_for_benchmarks(config.sandbox.clone())?);
    let mut host_audiences: BTreeMap<String, (Duration, Vec<String>)> = BTreeMap::new();
    for strategy in &strategies {
        let plugin = &strategy.plugin;
        let evaluating = Instant::now();
        let wanted = plugin.audience(&strategy.config)?;
        let selected = audience::select(&base, &empty, &wanted, clock);
        let audience_time = evaluating.elapsed();
        let ids = selected.iter().map(|&m| base.member(m).member.id.clone()).collect();
        host_audiences.insert(strategy.id().to_string(), (audience_time, ids));
        let Some(native) = native::native(strategy.id()) else { continue };
        let context = context_for(&base, strategy, &wanted, clock);
        let members: Vec<api::Member> =
            selected.iter().map(|&m| audience::member_facts(&base, &empty, m, &wanted, clock)).collect();
        // Best of three, each way, against a noisy shared machine.
        let unmetered_plugin = LoadedPlugin::load(&unmetered, Path::new(&plugin.source))?;
        let decide_all = |plugin: &canvas::runtime::LoadedPlugin| -> anyhow::Result<(usize, Duration)> {
            let t = Instant::now();
            let mut touches = 0;
            for batch in members.chunks(BATCH) {
                touches += plugin.decide(&context, batch)?.0.len();
            }
            Ok((touches, t.elapsed()))
        };
        let (mut plugin_best, mut unmetered_best, mut native_best) = (Duration::MAX, Duration::MAX, Duration::MAX);
        let (mut plugin_touches, mut unmetered_touches, mut native_touches) = (0, 0, 0);
        for _ in 0..3 {
            let (touches, took) = decide_all(plugin)?;
            (plugin_touches, plugin_best) = (touches, plugin_best.min(took));
            let (touches, took) = decide_all(&unmetered_plugin)?;
            (unmetered_touches, unmetered_best) = (touches, unmetered_best.min(took));
            let t = Instant::now();
            native_touches = members.chunks(BATCH).map(|batch| native(&context, batch)).sum();
            native_best = native_best.min(t.elapsed());
        }
        anyhow::ensure!(
            plugin_touches == native_touches && unmetered_touches == native_touches,
            "{}: plugin and native disagree",
            strategy.id()
        );
        report.ratio(strategy.id(), members.len(), plugin_best, native_best, "plugin", "native");
        let name = format!("{} unmetered", strategy.id());
        report.ratio(&name, members.len(), unmetered_best, native_best, "plugin without fuel or deadline", "native");
    }

    if args.duckdb {
        duckdb_comparison(&root, &data, &args.work, &host_audiences, &mut report)?;
    }

    // 2. full daily runs (after 4 and 5, whose audiences must not see its coupons),
    // as `canvas serve` makes them: one runner kept from day to day. The first
    // day on a fresh store catches up (every member due at once); the days
    // after it show what a brand runs from then on.
    days_in_service(base, &store, &app, &strategies, at, args.days, &mut report)?;

    // 6. the same audiences among 10x the members
    report.section("cost follows the audience: the same members, then with 9x as many inert ones added");
    let sim_data = dataset(&args.work, args.sim_members, args.months)?;
    for (label, dir) in [
        ("as generated", sim_data.clone()),
        ("plus 9x inert members", with_inert_members(&args.work, &sim_data, args.sim_members)?),
    ] {
        let parsed = read_dir(&dir)?;
        let base = app.member_base(parsed.data);
        let scratch = args.work.join("store-scratch");
        let _ = std::fs::remove_dir_all(&scratch);
        let scratch_store = Store::open(&scratch)?;
        daily_run(label, base, &scratch_store, &app, &strategies, at, &mut report)?;
    }

    // 7. simulation speed
    report.section(&format!("simulation ({} members, {} days, every strategy)", args.sim_members, args.sim_days));
    let from = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let out = args.work.join("simulation");
    let options = SimulateOptions {
        data: sim_data,
        from,
        to: from + chrono::Days::new(args.sim_days as u64 - 1),
        out,
        plugins,
        strategies: None,
        config: config.clone(),
    };
    let simulating = Instant::now();
    let result = simulate(&options, &mut |_, _| {})?;
    let took = simulating.elapsed();
    report.figure("wall time (import and report included)", ms(took), "ms");
    report.figure("simulated days per second", args.sim_days as f64 / took.as_secs_f64(), "days/s");
    report.figure("runs", result.runs as f64, "");

    trigger_section(&root, &args, &config, &mut report)
}

/// 9, then bench.json.
fn trigger_section(root: &Path, args: &Args, config: &CanvasConfig, report: &mut Report) -> anyhow::Result<()> {
    let (rate, seconds) = (args.trigger_rate, args.trigger_seconds);
    report.section(&format!(
        "event triggers: ingest to delivered touch, {rate} events/s for {seconds} s ({} members)",
        args.sim_members
    ));
    let data = dataset(&args.work, args.sim_members, args.months)?;
    let latency = trigger_latency::measure(root, &args.work, &data, rate, seconds, config)?;
    report.figure("warm-up (first firing loads the member base)", ms(latency.warm_up), "ms");
    report.figure("events posted", latency.sent as f64, "");
    report.figure("posted rate", latency.rate, "events/s");
    report.figure("touches delivered", latency.delivered as f64, "");
    report.figure("not sent: suppressed by governance (unsubscribed…)", latency.not_sent as f64, "");
    report.figure("not sent yet: deferred to the member's morning", latency.deferred as f64, "");
    report.figure("latency p50", latency.p50_ms, "ms");
    report.figure("latency p99", latency.p99_ms, "ms");
    report.figure("latency max", latency.max_ms, "ms");
    report.figure("ingest request p50", latency.ingest_p50_ms, "ms");
    report.figure("ingest request p99", latency.ingest_p99_ms, "ms");

    let path = args.work.join("bench.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report.json)?)?;
    println!("\nfigures: {}", path.display());
    Ok(())
}

/// Live results (`canvas results`, `GET /api/v1/results`) over the year up
/// to the last day run, grouped by strategy, channel and week: every
/// decision in the store read once, the member pass, the year's sales split.
fn live_results(base: &MemberBase, store: &Store, app: &App, last: Millis, report: &mut Report) -> anyhow::Result<()> {
    let to = base.calendar.date_of(last);
    let from = to - chrono::Days::new(364);
    report.section(&format!("live results {from} to {to} by strategy,channel,week ({} members)", base.len()));
    let query = ResultsQuery::parse(&from.to_string(), &to.to_string(), "strategy,channel,week")?;
    let computing = Instant::now();
    let results = Results::of_store(base, store, &query, &app.config.report, &app.config.results)?;
    report.figure("results (decisions read once, one member pass, sales split)", ms(computing.elapsed()), "ms");
    report.figure("members selected", results.total.selected as f64, "");
    report.figure("groups", results.groups.len() as f64, "");
    Ok(())
}

/// A real daily run on a fresh runner (decisions and outbox recorded), with its time split and peak RSS.
fn daily_run(
    label: &str,
    base: MemberBase,
    store: &Store,
    app: &App,
    strategies: &[Strategy],
    at: Millis,
    report: &mut Report,
) -> anyhow::Result<()> {
    let members = base.len();
    report.section(&format!("one daily run over {members} members ({label})"));
    let mut runner = app.runner(app.runner_state(base, store)?, store, true);
    measured_run(app, &mut runner, strategies, at, report).map(|_| ())
}

/// `days` daily runs in a row on one runner, the way `canvas serve` keeps
/// it between runs; then what a fresh runner (`canvas run`) spends reading
/// the decisions they made.
fn days_in_service(
    base: MemberBase,
    store: &Store,
    app: &App,
    strategies: &[Strategy],
    at: Millis,
    days: u32,
    report: &mut Report,
) -> anyhow::Result<()> {
    let members = base.len();
    let mut runner = app.runner(app.runner_state(base, store)?, store, true);
    let mut decided = 0;
    for day in 0..days {
        let label = if day == 0 { "day 1, fresh store".to_string() } else { format!("day {}, same runner", day + 1) };
        report.section(&format!("one daily run over {members} members ({label})"));
        runner.timings = Default::default();
        decided += measured_run(app, &mut runner, strategies, at + day as Millis * DAY_MILLIS, report)?;
    }
    let base = runner.into_state().base;
    live_results(&base, store, app, at + (days.max(1) - 1) as Millis * DAY_MILLIS, report)?;
    report.section(&format!("a fresh runner after {days} days (what `canvas run` reads before its run)"));
    // The snapshot a run leaves behind (the week's runner knows what the store holds).
    let mark = store.records_mark()?.context("an imported store has a records mark")?;
    let path = store.path().join(SNAPSHOT_FILE);
    let saving = Instant::now();
    snapshot::save(&path, &mark, &base)?;
    report.figure("save the member base's snapshot", ms(saving.elapsed()), "ms");
    report.figure("snapshot on disk", std::fs::metadata(&path)?.len() as f64 / 1e6, "MB");
    drop(base);
    let starting = Instant::now();
    let base = app.stored_member_base(store, KindsWanted::Run(&kept_kinds(strategies)))?;
    report.figure("member base from its snapshot", ms(starting.elapsed()), "ms");
    let reading = Instant::now();
    let state = app.runner_state(base, store)?;
    report.figure("decisions read", decided as f64, "");
    report.figure("decision log and governor built from them", ms(reading.elapsed()), "ms");
    report.figure("start to the first plugin call (the two)", ms(starting.elapsed()), "ms");
    drop(state);
    Ok(())
}

/// One run instant of the strategies due then, reported (wall time, its
/// split, peak RSS); returns its number of decisions.
fn measured_run(
    app: &App,
    runner: &mut Runner<'_>,
    strategies: &[Strategy],
    at: Millis,
    report: &mut Report,
) -> anyhow::Result<u64> {
    let rss_before = rss_kib("VmRSS");
    reset_peak_rss();
    // What `canvas serve` starts at `at`: the strategies whose schedule runs then
    // (all of them on the 1st at 10:00; the monthly birthday-tiered not on other days).
    let due = select(strategies, &app.calendar(), at, Selection::Due);
    let resting: Vec<&str> =
        strategies.iter().map(Strategy::id).filter(|id| !due.iter().any(|s| s.id() == *id)).collect();
    if !resting.is_empty() {
        report.line(format!("not due at this instant by their schedule: {}", resting.join(", ")));
    }
    report.figure("strategies run", due.len() as f64, "");
    let started = Instant::now();
    let records = app.run_at(runner, strategies, at, RunTrigger::Manual, Selection::Due, &mut |_| {})?;
    let wall = started.elapsed();
    let failed: Vec<_> =
        records.iter().filter(|r| !matches!(r.outcome, canvas::model::RunOutcome::Completed)).collect();
    anyhow::ensure!(failed.is_empty(), "runs failed: {failed:?}");
    let audience: u64 = records.iter().map(|r| r.audience).sum();
    let decisions: u64 = records.iter().map(|r| r.decisions).sum();
    let held_back: u64 = records.iter().map(|r| r.held_back).sum();
    report.figure("audience (members selected, all strategies)", audience as f64, "");
    report.figure("  held back by the caps as at their last decision, not asked again", held_back as f64, "");
    report.figure("decisions", decisions as f64, "");
    report.figure("wall time", ms(wall), "ms");
    let t = runner.timings;
    report.figure("  audience evaluation", ms(t.audience), "ms");
    report.figure("  member facts", ms(t.facts), "ms");
    report.figure("  plugin calls", ms(t.plugin), "ms");
    report.figure("  governance", ms(t.governance), "ms");
    report.figure("  recording (decision pages, coupon events, runs, flush)", ms(t.record), "ms");
    for r in &records {
        report.line(format!(
            "    {:<26} audience {:>8}  held back {:>7}  decisions {:>7}  {:>9.1} ms",
            r.strategy,
            r.audience,
            r.held_back,
            r.decisions,
            r.duration_micros as f64 / 1000.0
        ));
    }
    report.figure("RSS before the run", rss_before as f64 / 1024.0, "MiB");
    report.figure("peak RSS during the run", rss_kib("VmHWM") as f64 / 1024.0, "MiB");
    Ok(decisions)
}

fn context_for(base: &MemberBase, strategy: &Strategy, wanted: &api::Audience, clock: RunClock) -> api::RunContext {
    audience::run_context(base, &strategy.config.to_string(), wanted, clock, None)
}

/// Runs host/benches/duckdb_audiences.py over the same CSV files and compares
/// its audiences, member by member, with the host's.
fn duckdb_comparison(
    root: &Path,
    data: &Path,
    work: &Path,
    host: &BTreeMap<String, (Duration, Vec<String>)>,
    report: &mut Report,
) -> anyhow::Result<()> {
    report.section("the day's audiences: host vs DuckDB SQL over the same CSV (ratio = host / DuckDB)");
    let python = root.join("target/tools/python/bin/python");
    let out = work.join("duckdb.json");
    let status = std::process::Command::new(&python)
        .arg(root.join("host/benches/duckdb_audiences.py"))
        .args(["--data", &data.display().to_string(), "--run-at", RUN_AT, "--out", &out.display().to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("running {}", python.display()))?;
    anyhow::ensure!(status.success(), "duckdb_audiences.py failed");
    let duck: Value = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    report.figure("DuckDB: load the CSV files", duck["load_ms"].as_f64().unwrap_or(0.0), "ms");
    let (mut host_total, mut duck_total) = (Duration::ZERO, Duration::ZERO);
    for (id, (took, members)) in host {
        let Some(theirs) = duck["strategies"].get(id) else {
            report.line(format!("{id}: not computed by the DuckDB script"));
            continue;
        };
        let their_members: Vec<String> = serde_json::from_value(theirs["members"].clone())?;
        let mut ours = members.clone();
        ours.sort();
        anyhow::ensure!(
            ours == their_members,
            "{id}: host selected {} members, DuckDB {}",
            ours.len(),
            their_members.len()
        );
        let duck_time = Duration::from_secs_f64(theirs["ms"].as_f64().unwrap_or(0.0) / 1000.0);
        host_total += *took;
        duck_total += duck_time;
        report.ratio(id, ours.len(), *took, duck_time, "host", "DuckDB");
    }
    report.ratio("all strategies", 0, host_total, duck_total, "host", "DuckDB");
    Ok(())
}

/// Generated data for `members`, made once and kept in WORK.
fn dataset(work: &Path, members: u32, months: u32) -> anyhow::Result<PathBuf> {
    let dir = work.join(format!("data-{members}-{months}m"));
    if !dir.join("products.csv").exists() {
        let end = NaiveDate::parse_from_str(DATA_END, "%Y-%m-%d")?;
        let started = Instant::now();
        generate(&GenerateOptions { members, months, seed: 7, end }, &dir)?;
        eprintln!("generated {members} members in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(dir)
}

/// The data set plus 9× its members who are in no audience: joined long ago,
/// no birthday, no WeCom add, no orders, no events, level 1.
fn with_inert_members(work: &Path, data: &Path, members: u32) -> anyhow::Result<PathBuf> {
    let name = data.file_name().context("a data folder")?.to_string_lossy();
    let dir = work.join(format!("{name}-plus-inert"));
    if dir.join("products.csv").exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir)?;
    for file in ["orders.csv", "events.csv", "products.csv"] {
        std::fs::copy(data.join(file), dir.join(file))?;
    }
    let mut text = std::fs::read_to_string(data.join("members.csv"))?;
    use std::fmt::Write;
    for i in 0..members as u64 * 9 {
        let _ = writeln!(text, "X{i:09},inert,1,,2020-01-01T10:00:00+08:00,,S01,G0101,");
    }
    std::fs::write(dir.join("members.csv"), text)?;
    Ok(dir)
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        members: 1_000_000,
        months: 60,
        sim_members: 100_000,
        sim_days: 14,
        days: 7,
        work: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench")),
        duckdb: true,
        cold_compile: true,
        trigger_rate: 1_000,
        trigger_seconds: 10,
        triggers_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().context("a value after the flag");
        match arg.as_str() {
            "--members" => args.members = value()?.parse()?,
            "--months" => args.months = value()?.parse()?,
            "--sim-members" => args.sim_members = value()?.parse()?,
            "--sim-days" => args.sim_days = value()?.parse()?,
            "--days" => args.days = value()?.parse()?,
            "--work" => args.work = PathBuf::from(value()?),
            "--no-duckdb" => args.duckdb = false,
            "--trigger-rate" => args.trigger_rate = value()?.parse()?,
            "--trigger-seconds" => args.trigger_seconds = value()?.parse()?,
            "--triggers-only" => args.triggers_only = true,
            "--smoke" => {
                args.members = 5_000;
                args.sim_members = 2_000;
                args.sim_days = 3;
                args.days = 2;
                args.cold_compile = false;
                args.trigger_rate = 500;
                args.trigger_seconds = 2;
                args.work = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-smoke"));
            }
            "--bench" => {} // cargo bench passes it
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    Ok(args)
}

/// Prints figures as they come and keeps them for bench.json.
#[derive(Default)]
struct Report {
    json: serde_json::Map<String, Value>,
    section: String,
}

impl Report {
    fn section(&mut self, title: &str) {
        println!("\n## {title}");
        self.section = title.to_string();
    }

    fn line(&mut self, text: String) {
        println!("{text}");
    }

    fn figure(&mut self, name: &str, value: f64, unit: &str) {
        println!("{:<58} {:>14} {unit}", name, human(value));
        self.json.insert(format!("{} / {}", self.section, name.trim()), json!({ "value": value, "unit": unit }));
    }

    fn ratio(&mut self, name: &str, members: usize, ours: Duration, theirs: Duration, a: &str, b: &str) {
        let ratio = ours.as_secs_f64() / theirs.as_secs_f64().max(1e-9);
        println!(
            "{:<26} {:>9} members  {a} {:>9.2} ms  {b} {:>9.2} ms  ratio {:>6.2}",
            name,
            members,
            ms(ours),
            ms(theirs),
            ratio
        );
        self.json.insert(
            format!("{} / {name}", self.section),
            json!({ "members": members, a: ms(ours), b: ms(theirs), "ratio": ratio }),
        );
    }
}

fn human(value: f64) -> String {
    if value.fract() == 0.0 && value >= 0.0 {
        canvas::report::format::count(value as u64)
    } else {
        format!("{value:.1}")
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A field of /proc/self/status in KiB (VmRSS now, VmHWM the peak).
fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.trim_start_matches(':').split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS, so the next peak is the run's own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}
