//! The sandbox around every plugin call: a fresh store with fuel, a memory
//! cap, an epoch deadline and an output cap. Whatever the plugin does, the
//! call ends in a value or a [`PluginError`] that names the plugin and the
//! limit; the host goes on.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::engine::{PluginEngine, EPOCH_TICK};

/// Limits per plugin call (one `decide` batch, or one `describe`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxLimits {
    /// Fuel units (about one per WebAssembly instruction).
    pub fuel: u64,
    /// Linear memory across all of the component's memories, in MiB.
    pub memory_mib: u64,
    /// Wall-clock backstop per call, in milliseconds.
    pub deadline_ms: u64,
    /// The most a call may return, in KiB (strings plus a fixed cost per touch).
    pub output_kib: u64,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits { fuel: 2_000_000_000, memory_mib: 256, deadline_ms: 10_000, output_kib: 4_096 }
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
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(" (it wrote: {stderr})")
    }
}

/// What a plugin may write to stdout/stderr per call; the rest is cut.
const LOG_CAPACITY: usize = 16 * 1024;
/// How much of stderr an error message quotes.
const STDERR_QUOTE: usize = 1024;

pub(crate) struct SandboxState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
}

impl WasiView for SandboxState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
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

/// The only clock a plugin sees: the run instant, standing still.
struct FrozenClock {
    at_millis: i64,
}

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        Duration::from_millis(self.at_millis.max(0) as u64)
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Fixed bytes for any randomness a guest's runtime asks for (Python seeds its
/// hashing with it), so a plugin's output depends on its input only.
const FIXED_RANDOM: &[u8] = b"canvas plugins are pure functions";

impl PluginEngine {
    /// Runs `call` in a fresh sandbox. `clock` is what WASI clocks answer.
    pub(crate) fn call<T>(
        &self,
        plugin: &str,
        clock: i64,
        call: impl FnOnce(&mut Store<SandboxState>) -> wasmtime::Result<T>,
        output_size: impl FnOnce(&T) -> usize,
    ) -> Result<(T, CallStats), PluginError> {
        let limits = &self.limits;
        let stdout = MemoryOutputPipe::new(LOG_CAPACITY);
        let stderr = MemoryOutputPipe::new(LOG_CAPACITY);
        let wasi = WasiCtx::builder()
            .stdout(stdout)
            .stderr(stderr.clone())
            .wall_clock(FrozenClock { at_millis: clock })
            .monotonic_clock(FrozenClock { at_millis: clock })
            .secure_random(wasmtime_wasi::Deterministic::new(FIXED_RANDOM.to_vec()))
            .insecure_random(wasmtime_wasi::Deterministic::new(FIXED_RANDOM.to_vec()))
            .insecure_random_seed(0x5eed)
            .build();
        let cap = usize::try_from(limits.memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let limiter = MemoryLimiter { cap, total: 0, peak: 0, refused: None };
        let mut store = Store::new(&self.engine, SandboxState { wasi, table: ResourceTable::new(), limiter });
        store.limiter(|state| &mut state.limiter);
        if self.metered() {
            store.set_fuel(limits.fuel).expect("fuel is enabled on a metered engine");
            let ticks = limits.deadline_ms.div_ceil(EPOCH_TICK.as_millis() as u64).max(1);
            store.set_epoch_deadline(ticks);
            store.epoch_deadline_trap();
        }

        let started = Instant::now();
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
        if size > limits.output_kib * 1024 {
            return Err(PluginError::OutputCap { plugin, size_kib: size.div_ceil(1024), cap_kib: limits.output_kib });
        }
        Ok((value, stats))
    }

    fn classify(
        &self,
        plugin: String,
        error: wasmtime::Error,
        state: &SandboxState,
        stderr: &MemoryOutputPipe,
    ) -> PluginError {
        if let Some(wanted) = state.limiter.refused {
            let wanted_mib = wanted as f64 / (1 << 20) as f64;
            return PluginError::MemoryCap { plugin, cap_mib: self.limits.memory_mib, wanted_mib };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => return PluginError::OutOfFuel { plugin, limit: self.limits.fuel },
            Some(Trap::Interrupt) => return PluginError::Deadline { plugin, deadline_ms: self.limits.deadline_ms },
            _ => {}
        }
        let written = String::from_utf8_lossy(&stderr.contents()).trim().to_string();
        let stderr = tail(&written, STDERR_QUOTE).replace('\n', " | ");
        PluginError::Trap { plugin, trap: error.root_cause().to_string(), stderr }
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
