//! The sandbox around every plugin call: a fresh store with fuel, a memory
//! cap, a wall-clock deadline and an output cap. Whatever the plugin does,
//! the call ends in a value or a [`PluginError`] that names the plugin and
//! the limit; the host goes on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::error::{PluginError, QUOTED};
use super::limits::SandboxLimits;
use super::wasi::{self, PluginLog};
use crate::printable::printable_line;

/// Makes the stores plugin calls run in, each with the limits applied.
pub(crate) struct Sandbox {
    pub engine: Engine,
    pub limits: SandboxLimits,
    /// Set once the host is shutting down: every call in flight stops at the
    /// next epoch tick, and no new call starts.
    pub cancelled: Arc<AtomicBool>,
    /// Whether calls count fuel and stop at the deadline: always, but in the
    /// benchmark's measurement of what metering costs.
    pub metered: bool,
}

/// How much of its limits a call used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Fuel units burned (0 on an unmetered engine): about one per wasm instruction.
    pub fuel_used: u64,
    /// The most the plugin's memories together reached, in bytes.
    pub peak_memory_bytes: u64,
    /// Wall-clock time of the call, instantiation included.
    pub duration: Duration,
}

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

impl Sandbox {
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
        if self.cancelled.load(Ordering::Relaxed) {
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
        if self.metered {
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
