//! What more than one command shares: the `--format` choice, the exit code
//! of a command that finished with failures, who a command's changes are
//! recorded as, and the folder of plugins `make demo` builds (the default
//! of `simulate`).

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Exit code 2: finished, but a plugin was refused or a run failed.
pub const FINISHED_WITH_FAILURES: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// Who a command run on this machine is, as the audit log records it: `cli:<user>`.
pub fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into()))
}

/// The plugins `make demo` builds sit in target/plugins, beside target/release.
pub fn default_plugin_dir() -> anyhow::Result<PathBuf> {
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
