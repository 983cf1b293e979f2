//! The `canvas` command: parses the arguments, loads the config and hands
//! each command to its module, which calls the library and prints what it
//! did. One file per command:
//!
//! - `import.rs`: `canvas import`, discarding an interrupted one, and `canvas init`;
//! - `simulate.rs`: `canvas simulate`, the dry run with its summary and outlook;
//! - `run.rs`: `canvas run`, one real run at an instant;
//! - `runs.rs`: `canvas runs`, the run history;
//! - `results.rs`: `canvas results` and `canvas report`, live results against the holdout;
//! - `dispatch.rs`: `canvas dispatch`, delivering the outbox;
//! - `outbox.rs`: `canvas outbox list | redrive | cancel`;
//! - `member.rs`: `canvas member do-not-contact`;
//! - `plugin.rs`: `canvas plugin install | list | show | enable | disable | config | rollback | new`;
//! - `plugin_test.rs`: `canvas plugin test`, one plugin on a fixture;
//! - `serve.rs`: `canvas serve`, the service until SIGTERM;
//! - `gen.rs`: `canvas gen`, a generated data set;
//! - `audit.rs`: `canvas audit`, the operators' changes;
//! - `logs.rs`: where log events go (stderr, text or JSON);
//! - `reach.rs`: the store, or the service's API while the service holds it;
//! - `lifecycle.rs`: the plugin lifecycle, in the store or through the service;
//! - `common.rs`: what several of them share (the output format, exit code 2,
//!   the demo's plugin folder).

mod audit;
mod closed_loop;
mod common;
mod compact;
mod dispatch;
mod gen;
mod import;
mod lifecycle;
mod logs;
mod member;
mod outbox;
mod plugin;
mod plugin_test;
mod reach;
mod results;
mod run;
mod runs;
mod serve;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use canvas::app::user_compile_cache;
use canvas::config::CanvasConfig;
use canvas::serve::settings::LogFormat;
use tracing_subscriber::filter::LevelFilter;

// The member base is tens of millions of small allocations; glibc malloc
// spent a fifth of a 1 M-member simulation allocating and freeing them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "canvas", version, about = "Runs marketing canvas strategies as sandboxed WebAssembly plugins")]
struct Cli {
    /// The canvas config (TOML): time zone, sandbox limits, per-strategy settings.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

// Each variant's doc comment is its line in `canvas --help`; the argument
// structs carry none, so that it stays the one clap shows.
#[derive(Subcommand)]
enum Command {
    /// Import members.csv, orders.csv, events.csv and products.csv into the store (all or nothing).
    Import(import::Args),
    /// Create an empty store (only `import` and `init` create one).
    Init(import::InitArgs),
    /// Dry run: every scheduled run of the strategies from FROM to TO over the data; writes only into OUT.
    Simulate(simulate::Args),
    /// One real run at INSTANT against the store: every enabled strategy due then, then dispatch.
    Run(run::Args),
    /// The run history, newest first: strategy, build, trigger, audience, touches, failures.
    Runs(runs::Args),
    /// Live results FROM to TO: conversion vs holdout, uplift, revenue counted once, cost, ROI, harm, by group.
    Results(results::Args),
    /// The live results FROM to TO as a self-contained report.html in OUT.
    Report(results::ReportArgs),
    /// Deliver every queued touch that is due, with retries, until each is delivered or dead.
    Dispatch(dispatch::Args),
    /// Look into the outbox (its entries, each channel's backlog), and re-drive dead letters.
    Outbox {
        #[command(subcommand)]
        command: outbox::Command,
    },
    /// A member's do-not-contact mark: no touch reaches them on any channel while it stands.
    Member {
        #[command(subcommand)]
        command: member::Command,
    },
    /// Install, list, configure, enable, disable, roll back plugins (kept in the store).
    Plugin {
        #[command(subcommand)]
        command: plugin::Command,
        #[arg(long, value_name = "DIR", global = true)]
        store: Option<PathBuf>,
    },
    /// The service: strategies on their schedules, continuous dispatch, the admin API.
    Serve(serve::Args),
    /// Generate a realistic, deterministic data set of an apparel brand.
    Gen(gen::Args),
    /// What operators changed, newest first: when, who, what, before → after.
    Audit(audit::Args),
    /// Write decisions older than --keep-days to a file and remove them, but each member's latest of a kind.
    Compact(compact::Args),
    /// The closed loop: the service day after day over generated members and a world that answers its
    /// touches with planted lift and harm; prints planted vs measured per strategy.
    Loop(closed_loop::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        end_quietly_on_broken_pipe();
        logs::init(LogFormat::Text, LevelFilter::WARN);
    }
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`canvas outbox list
/// | head`) fails and `println!` panics; a command line tool should end
/// quietly instead, as `ls` does. Not for `canvas serve`, whose sockets must
/// survive a client that hangs up.
fn end_quietly_on_broken_pipe() {
    // SAFETY: called first thing in main, before any thread starts; it sets
    // the disposition of one signal back to the system's default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Plugin authors' commands need no store, and `plugin test` reads
    // `--config` as the plugin's own config keys when it is JSON.
    let command = match cli.command {
        Command::Plugin { command: plugin::Command::Test(args), .. } => {
            return plugin_test::execute(cli.config.as_deref(), args)
        }
        Command::Plugin { command: plugin::Command::New { name, lang, dir }, .. } => {
            return plugin::scaffold(&dir, &name, lang)
        }
        other => other,
    };
    let mut config = match &cli.config {
        Some(path) => CanvasConfig::load(path)?,
        None => CanvasConfig::default(),
    };
    // A Python or JavaScript plugin loaded from a file (`--plugins`) takes
    // 15–30 s to compile: once per machine, unless the config says where.
    if config.compile_cache.is_none() {
        config.compile_cache = user_compile_cache();
    }
    match command {
        Command::Import(args) => import::execute(args, &config),
        Command::Init(args) => import::init(args, &config),
        Command::Simulate(args) => simulate::execute(args, config),
        Command::Run(args) => run::execute(args, config),
        Command::Runs(args) => runs::execute(args, &config),
        Command::Results(args) => results::execute(args, &config),
        Command::Report(args) => results::report(args, &config),
        Command::Dispatch(args) => dispatch::execute(args, config),
        Command::Outbox { command } => outbox::execute(command, &config),
        Command::Member { command } => member::execute(command, &config),
        Command::Plugin { command, store } => plugin::execute(command, store, config),
        Command::Serve(args) => serve::execute(args, config),
        Command::Gen(args) => gen::execute(args),
        Command::Audit(args) => audit::execute(args, &config),
        Command::Compact(args) => compact::execute(args, config),
        Command::Loop(args) => closed_loop::execute(args, config),
    }
}
