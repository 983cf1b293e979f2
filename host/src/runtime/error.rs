//! How a plugin fails, as the host reports it: every message names the
//! plugin (and its version), and the limit or setting concerned, and quotes
//! the plugin's own words only escaped and clipped.

use std::fmt;

use crate::printable::{clipped, printable_line};

/// Why a plugin call failed. The message names the plugin, its version and the limit.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("plugin {plugin} ran out of fuel: it used all {limit} units a call may use (sandbox.fuel)")]
    OutOfFuel { plugin: String, limit: u64 },
    #[error(
        "plugin {plugin} exceeded its memory cap of {cap_mib} MiB: it asked for {wanted_mib:.1} MiB (sandbox.memory_mib)"
    )]
    MemoryCap { plugin: String, cap_mib: u64, wanted_mib: f64 },
    #[error("plugin {plugin} exceeded its deadline of {deadline_ms} ms (sandbox.deadline_ms)")]
    Deadline { plugin: String, deadline_ms: u64 },
    #[error("plugin {plugin} returned {size_kib} KiB, over the output cap of {cap_kib} KiB (sandbox.output_kib)")]
    OutputCap { plugin: String, size_kib: u64, cap_kib: u64 },
    #[error("plugin {plugin} trapped: {trap}{}", stderr_suffix(.stderr))]
    Trap { plugin: String, trap: String, stderr: String },
    #[error("plugin {plugin} returned an error: {message}")]
    Returned { plugin: String, message: String },
    #[error("plugin {plugin} returned an invalid touch: {message}")]
    InvalidOutput { plugin: String, message: String },
    #[error("plugin {plugin} asked for {message}")]
    AudienceLimit { plugin: String, message: String },
    #[error(
        "plugin {plugin} failed on more than {limit} members of this run (sandbox.failed_members); the last: {last}"
    )]
    TooManyFailedMembers { plugin: String, limit: u64, last: Box<PluginError> },
    /// The host is shutting down (see [`PluginEngine::cancel_calls`]): not
    /// the plugin's failure, and nothing of its run is recorded.
    #[error("plugin {plugin} was stopped: the host is shutting down")]
    Cancelled { plugin: String },
}

impl PluginError {
    /// A plugin's message for the run history and a terminal: control
    /// characters escaped, at most [`QUOTED`] bytes.
    pub(crate) fn quoted(message: &str) -> String {
        printable_line(&clipped(message, QUOTED)).into_owned()
    }
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(" (it wrote: {stderr})")
    }
}

/// How much of a plugin's own words (stderr, an error it returns) a message quotes.
pub(crate) const QUOTED: usize = 1024;

/// A component the host will not run, and why.
#[derive(Debug, thiserror::Error)]
pub struct PluginRejected {
    pub file: String,
    pub reason: String,
}

impl fmt::Display for PluginRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin {} refused: {}", self.file, self.reason)
    }
}
