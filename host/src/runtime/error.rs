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
    /// The plugin's audience reads event kinds the member base was read
    /// without: it named others when it was set up (the base keeps only the
    /// kinds its strategies read). Its next run reads the base with them.
    #[error(
        "plugin {plugin} asked for event kinds the member base was read without ({kinds}): it named others when it was set up; its next run reads them"
    )]
    EventKindsNotKept {
        /// `id version`.
        plugin: String,
        /// The kinds, comma-separated.
        kinds: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    const PLUGIN: &str = "dormant-recall 1.2.0";

    fn plugin() -> String {
        PLUGIN.to_string()
    }

    #[test]
    fn every_limit_a_call_can_blow_is_named_with_its_setting() {
        let cases = [
            (
                PluginError::OutOfFuel { plugin: plugin(), limit: 7 },
                "ran out of fuel: it used all 7 units a call may use (sandbox.fuel)",
            ),
            (
                PluginError::MemoryCap { plugin: plugin(), cap_mib: 1, wanted_mib: 1.0625 },
                "exceeded its memory cap of 1 MiB: it asked for 1.1 MiB (sandbox.memory_mib)",
            ),
            (
                PluginError::Deadline { plugin: plugin(), deadline_ms: 250 },
                "exceeded its deadline of 250 ms (sandbox.deadline_ms)",
            ),
            (
                PluginError::OutputCap { plugin: plugin(), size_kib: 5, cap_kib: 4 },
                "returned 5 KiB, over the output cap of 4 KiB (sandbox.output_kib)",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), format!("plugin {PLUGIN} {message}"));
        }
    }

    #[test]
    fn too_many_failed_members_names_the_setting_and_quotes_the_last_failure() {
        let last = PluginError::Trap { plugin: plugin(), trap: "boom".into(), stderr: "panicked at M3".into() };
        let error = PluginError::TooManyFailedMembers { plugin: plugin(), limit: 10, last: Box::new(last) };
        assert_eq!(
            error.to_string(),
            format!(
                "plugin {PLUGIN} failed on more than 10 members of this run (sandbox.failed_members); \
                 the last: plugin {PLUGIN} trapped: boom (it wrote: panicked at M3)"
            )
        );
    }

    #[test]
    fn a_trap_says_what_the_plugin_wrote_only_when_it_wrote_something() {
        let trap = PluginError::Trap { plugin: plugin(), trap: "unreachable".into(), stderr: String::new() };
        assert_eq!(trap.to_string(), format!("plugin {PLUGIN} trapped: unreachable"));
    }

    #[test]
    fn a_plugins_own_words_are_quoted_escaped_and_clipped() {
        let message = format!("\u{1b}[2J{}", "x".repeat(2_000));
        let quoted = PluginError::quoted(&message);
        // Clipped to QUOTED bytes first (the escape is one byte of them), then escaped.
        let kept = QUOTED - "\u{1b}[2J".len();
        let left_out = message.len() - QUOTED;
        assert_eq!(quoted, format!("\\u{{1b}}[2J{}… ({left_out} more bytes)", "x".repeat(kept)));
        assert_eq!(PluginError::quoted("a\nb"), "a\\u{a}b", "on one line");
    }

    #[test]
    fn a_refused_component_names_its_file_and_the_reason() {
        let rejected = PluginRejected { file: "x.wasm".into(), reason: "is not a WebAssembly file".into() };
        assert_eq!(rejected.to_string(), "plugin x.wasm refused: is not a WebAssembly file");
    }
}
