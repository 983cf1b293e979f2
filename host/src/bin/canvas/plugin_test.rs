//! `canvas plugin test`: runs one plugin file on a hand-written fixture (see
//! docs/plugins.md) and prints its audience, touches and what its calls used
//! of the sandbox limits — as a table, or as JSON that can serve as an
//! `--expect` file. Exit code 0 when the plugin ran (and met `--expect`), 1
//! when it failed, refused touches broke the contract, or the expectation was
//! missed (a diff on stderr).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use canvas::app::{user_compile_cache, App};
use canvas::config::CanvasConfig;
use canvas::fixture::{diff, read_expectation, render, run_fixture, Fixture};
use canvas::printable::printable_line;

use crate::common::OutputFormat;

#[derive(clap::Args)]
pub struct Args {
    #[arg(value_name = "PLUGIN.wasm")]
    plugin: PathBuf,
    /// The fixture: members, orders, events, products, history and the run instant (see docs/plugins.md).
    #[arg(long, value_name = "FIXTURE.json")]
    input: PathBuf,
    /// The touches expected; on a mismatch, a diff and exit code 1.
    #[arg(long, value_name = "FILE.json")]
    expect: Option<PathBuf>,
    /// `table` for people, `json` for scripts (and as an `--expect` file).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

/// `config_path`: a `.json` file is config keys for the plugin, anything
/// else a canvas config.
pub fn execute(config_path: Option<&Path>, args: Args) -> anyhow::Result<ExitCode> {
    let (mut config, keys) = match config_path {
        Some(path) if path.extension().is_some_and(|e| e == "json") => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let keys: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: expected a JSON object of config keys: {e}", path.display()))?;
            (CanvasConfig::default(), keys)
        }
        Some(path) => (CanvasConfig::load(path)?, serde_json::Map::new()),
        None => (CanvasConfig::default(), serde_json::Map::new()),
    };
    let fixture = Fixture::read(&args.input)?;
    let expected = args.expect.as_deref().map(read_expectation).transpose()?;
    // An author runs this again and again: keep the compiled plugin by default.
    if config.compile_cache.is_none() {
        config.compile_cache = user_compile_cache();
    }
    let app = App::new(config)?;
    let outcome = run_fixture(&app, &args.plugin, fixture, &keys)?;
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
        OutputFormat::Table => print!("{}", render(&outcome)),
    }
    if !outcome.refused.is_empty() {
        eprintln!("{} touches broke the contract and were refused (see `refused`)", outcome.refused.len());
        return Ok(ExitCode::FAILURE);
    }
    let Some(expected) = expected else { return Ok(ExitCode::SUCCESS) };
    let expect_path = args.expect.as_deref().expect("an expectation was read from --expect");
    let differences = diff(&expected, &outcome.touches);
    if differences.is_empty() {
        eprintln!("expectation met: {} touches as in {}", expected.len(), expect_path.display());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("expectation NOT met ({}):", expect_path.display());
        for line in &differences {
            eprintln!("  {}", printable_line(line));
        }
        Ok(ExitCode::FAILURE)
    }
}
