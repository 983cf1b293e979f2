//! How a plugin fails, as the host reports it: every message names the
//! plugin (and its version), and the limit or setting concerned, and quotes
//! the plugin's own words only escaped and clipped.

use std::fmt;

use crate::printable::{clipped, printable_line};

/// Why a plugin call failed. The message names the plugin, its version and the limit.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The call used up its fuel: most likely a loop that never ends.
    #[error("plugin {plugin} ran out of fuel: it used all {limit} units a call may use (sandbox.fuel)")]
    OutOfFuel {
        /// `id version`, as [`LoadedPlugin::label`](super::LoadedPlugin::label) gives it.
        plugin: String,
        /// The fuel a call may use (`sandbox.fuel`).
        limit: u64,
    },
    /// The plugin tried to grow its memory past the cap; the growth was refused.
    #[error(
        "plugin {plugin} exceeded its memory cap of {cap_mib} MiB: it asked for {wanted_mib:.1} MiB (sandbox.memory_mib)"
    )]
    MemoryCap {
        /// `id version`.
        plugin: String,
        /// The cap, in MiB (`sandbox.memory_mib`).
        cap_mib: u64,
        /// The total size, in MiB, of all its memories had the growth been allowed.
        wanted_mib: f64,
    },
    /// The call ran longer, in wall-clock time, than a call may.
    #[error("plugin {plugin} exceeded its deadline of {deadline_ms} ms (sandbox.deadline_ms)")]
    Deadline {
        /// `id version`.
        plugin: String,
        /// The deadline, in milliseconds (`sandbox.deadline_ms`).
        deadline_ms: u64,
    },
    /// The call's answer was bigger than the output cap; it is thrown away.
    #[error("plugin {plugin} returned {size_kib} KiB, over the output cap of {cap_kib} KiB (sandbox.output_kib)")]
    OutputCap {
        /// `id version`.
        plugin: String,
        /// The answer's size, in KiB, rounded up.
        size_kib: u64,
        /// The cap, in KiB (`sandbox.output_kib`).
        cap_kib: u64,
    },
    /// The plugin trapped (a panic, an unreachable, a bad memory access), or
    /// the call failed some other way no limit explains.
    #[error("plugin {plugin} trapped: {trap}{}", stderr_suffix(.stderr))]
    Trap {
        /// `id version`.
        plugin: String,
        /// The trap's root cause, quoted: control characters escaped, clipped to 1 KiB.
        trap: String,
        /// The end of what the plugin wrote to stderr, on one printable line;
        /// empty if it wrote nothing.
        stderr: String,
    },
    /// The plugin answered with an error of its own (a config it refuses, say).
    #[error("plugin {plugin} returned an error: {message}")]
    Returned {
        /// `id version`.
        plugin: String,
        /// The plugin's own message, quoted: control characters escaped, clipped to 1 KiB.
        message: String,
    },
    /// The plugin's touches break the contract (a member not in its batch,
    /// say): the whole batch's answer is refused.
    #[error("plugin {plugin} returned an invalid touch: {message}")]
    InvalidOutput {
        /// `id version`.
        plugin: String,
        /// What is wrong, in the host's words.
        message: String,
    },
    /// The plugin's audience asks for more than the sandbox allows (too many
    /// clauses, too long a lookback).
    #[error("plugin {plugin} asked for {message}")]
    AudienceLimit {
        /// `id version`.
        plugin: String,
        /// What it asked for and the limit it is over (with its `sandbox.*` setting, if it has one).
        message: String,
    },
    /// Members one at a time kept failing: past the limit, the host gives up
    /// on the plugin's whole run rather than isolate every member.
    #[error(
        "plugin {plugin} failed on more than {limit} members of this run (sandbox.failed_members); the last: {last}"
    )]
    TooManyFailedMembers {
        /// `id version`.
        plugin: String,
        /// How many members' failures a run tolerates (`sandbox.failed_members`).
        limit: u64,
        /// The failure that went over the limit.
        last: Box<PluginError>,
    },
    /// The host is shutting down (see [`PluginEngine::cancel_calls`]): not
    /// the plugin's failure, and nothing of its run is recorded.
    #[error("plugin {plugin} was stopped: the host is shutting down")]
    Cancelled {
        /// `id version`.
        plugin: String,
    },
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
    /// Where the component came from: a file path, or `registry:<id>@<sha256 prefix>`.
    pub file: String,
    /// Why it was refused, in the host's words (not a component, a version
    /// this host does not support, a forbidden import, a bad manifest...).
    pub reason: String,
}

impl fmt::Display for PluginRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin {} refused: {}", self.file, self.reason)
    }
}
