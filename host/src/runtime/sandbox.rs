//! The sandbox around every plugin call: a fresh store with fuel, a memory
//! cap, an epoch deadline and an output cap. Whatever the plugin does, the
//! call ends in a value or a [`PluginError`] that names the plugin and the
//! limit; the host goes on.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::engine::PluginEngine;
use super::wasi::{self, PluginLog};
use crate::printable::{clipped, printable_line};

/// What a plugin may use and hand back (`[sandbox]` in the canvas config).
/// The first four bound every call — `describe`, `audience-for` (the config
/// check), `decide` — at install, at load and in runs; the rest bound what a
/// plugin may ask of the host (its audience) and hand back (its touches).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxLimits {
    /// Fuel units (about one per WebAssembly instruction).
    pub fuel: u64,
    /// Linear memory across all of the component's memories, in MiB.
    pub memory_mib: u64,
    /// Wall-clock backstop per call, in milliseconds.
    pub deadline_ms: u64,
    /// The most a call may return, in KiB: every string of every touch (or
    /// of the audience, or the manifest) plus a fixed cost per record.
    pub output_kib: u64,
    /// Members of one run a plugin may fail on (each found by splitting the
    /// failing batch) before the run itself is failed.
    pub failed_members: u64,
    /// Clauses in an audience.
    pub audience_clauses: u64,
    /// Conditions in an audience, over all its clauses.
    pub audience_conditions: u64,
    /// Order windows an audience asks facts for.
    pub order_windows: u64,
    /// Event kinds an audience asks to be given.
    pub event_kinds: u64,
    /// How far back any lookback of an audience may reach, in days.
    pub lookback_days: u64,
    /// The largest benefit a touch may carry, in yuan.
    pub benefit_max_yuan: u64,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            fuel: 2_000_000_000,
            memory_mib: 256,
            deadline_ms: 10_000,
            output_kib: 4_096,
            failed_members: 10,
            audience_clauses: 128,
            audience_conditions: 1_024,
            order_windows: 16,
            event_kinds: 32,
            lookback_days: 36_600,
            benefit_max_yuan: 10_000,
        }
    }
}

/// How much of its limits a call used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    pub fuel_used: u64,
    pub peak_memory_bytes: u64,
    pub duration: Duration,
}

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
const QUOTED: usize = 1024;

pub(crate) struct SandboxState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    /// Why the epoch callback stopped the call, if it did.
    stopped: Option<Stop>,
}

impl WasiView for SandboxState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Why a call in flight was interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Deadline,
    Cancelled,
}

/// Caps the total size of the component's memories and remembers the peak.
struct MemoryLimiter {
    cap: usize,
    total: usize,
    peak: usize,
    refused: Option<usize>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        let total = self.total - current.min(self.total) + desired;
        if total > self.cap {
            self.refused = Some(total);
            return Ok(false);
        }
        self.total = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

impl PluginEngine {
    /// Runs `call` in a fresh sandbox. `clock` is what WASI clocks answer;
    /// `output_size` is what the answer costs against the output cap.
    pub(crate) fn call<T>(
        &self,
        plugin: &str,
        clock: i64,
        call: impl FnOnce(&mut Store<SandboxState>) -> wasmtime::Result<T>,
        output_size: impl FnOnce(&T) -> usize,
    ) -> Result<(T, CallStats), PluginError> {
        let limits = &self.limits;
        if self.calls_cancelled() {
            return Err(PluginError::Cancelled { plugin: plugin.to_string() });
        }
        let (stdout, stderr) = (PluginLog::default(), PluginLog::default());
        let wasi = wasi::context(clock, stdout, stderr.clone());
        let cap = usize::try_from(limits.memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let limiter = MemoryLimiter { cap, total: 0, peak: 0, refused: None };
        let state = SandboxState { wasi, table: ResourceTable::new(), limiter, stopped: None };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        let started = Instant::now();
        if self.metered() {
            store.set_fuel(limits.fuel).expect("fuel is enabled on a metered engine");
            // Every tick, the call in flight is asked whether it has run out
            // of time or the host is shutting down.
            let deadline = Duration::from_millis(limits.deadline_ms);
            let cancelled = self.cancelled.clone();
            store.set_epoch_deadline(1);
            store.epoch_deadline_callback(move |mut store| {
                let stop = if cancelled.load(Ordering::Relaxed) {
                    Stop::Cancelled
                } else if started.elapsed() >= deadline {
                    Stop::Deadline
                } else {
                    return Ok(UpdateDeadline::Continue(1));
                };
                store.data_mut().stopped = Some(stop);
                Ok(UpdateDeadline::Interrupt)
            });
        }

        let result = call(&mut store);
        let stats = CallStats {
            fuel_used: store.get_fuel().map_or(0, |left| limits.fuel - left),
            peak_memory_bytes: store.data().limiter.peak as u64,
            duration: started.elapsed(),
        };
        let plugin = plugin.to_string();
        let value = match result {
            Ok(value) => value,
            Err(error) => return Err(self.classify(plugin, error, store.data(), &stderr)),
        };
        let size = output_size(&value) as u64;
        if size > limits.output_kib.saturating_mul(1024) {
            return Err(PluginError::OutputCap { plugin, size_kib: size.div_ceil(1024), cap_kib: limits.output_kib });
        }
        Ok((value, stats))
    }

    fn classify(
        &self,
        plugin: String,
        error: wasmtime::Error,
        state: &SandboxState,
        stderr: &PluginLog,
    ) -> PluginError {
        if let Some(wanted) = state.limiter.refused {
            let wanted_mib = wanted as f64 / (1 << 20) as f64;
            return PluginError::MemoryCap { plugin, cap_mib: self.limits.memory_mib, wanted_mib };
        }
        match (state.stopped, error.downcast_ref::<Trap>()) {
            (Some(Stop::Cancelled), _) => return PluginError::Cancelled { plugin },
            (Some(Stop::Deadline), _) | (None, Some(Trap::Interrupt)) => {
                return PluginError::Deadline { plugin, deadline_ms: self.limits.deadline_ms }
            }
            (None, Some(Trap::OutOfFuel)) => return PluginError::OutOfFuel { plugin, limit: self.limits.fuel },
            _ => {}
        }
        let (written, cut) = stderr.contents();
        let written = String::from_utf8_lossy(&written);
        let mut stderr = printable_line(&tail(written.trim(), QUOTED).trim().replace('\n', " | ")).into_owned();
        if cut > 0 {
            stderr.push_str(&format!(" | … {cut} bytes more were cut"));
        }
        PluginError::Trap { plugin, trap: PluginError::quoted(&error.root_cause().to_string()), stderr }
    }
}

/// The last `max` bytes of `text`, on a character boundary.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
