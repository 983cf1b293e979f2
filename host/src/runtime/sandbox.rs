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

#[cfg(test)]
mod tests {
    use wasmtime::{Memory, MemoryType};
    use wasmtime_wasi::p2::OutputStream;

    use super::*;
    use crate::runtime::PluginEngine;

    const PAGE: u64 = 64 * 1024;

    fn engine(limits: SandboxLimits) -> PluginEngine {
        PluginEngine::new(limits).expect("an engine")
    }

    /// What the sandbox makes of a call that fails with `error`.
    fn failed_with(engine: &PluginEngine, error: wasmtime::Error) -> String {
        let call = engine.sandbox().call("p 1.0.0", 0, move |_| Err::<(), _>(error), |_| 0);
        call.expect_err("the call failed").to_string()
    }

    #[test]
    fn an_answer_at_the_output_cap_passes_and_a_byte_more_is_refused_in_whole_kib() {
        let engine = engine(SandboxLimits { output_kib: 2, ..SandboxLimits::default() });
        let answer = |size: usize| engine.sandbox().call("p 1.0.0", 0, |_| Ok(size), |&size| size);
        let (value, stats) = answer(2 * 1024).expect("at the cap");
        assert_eq!((value, stats.fuel_used), (2 * 1024, 0));
        let over = answer(2 * 1024 + 1).expect_err("over the cap");
        assert!(matches!(over, PluginError::OutputCap { size_kib: 3, cap_kib: 2, .. }), "{over}");

        let unbounded = self::engine(SandboxLimits { output_kib: u64::MAX, ..SandboxLimits::default() });
        let huge = unbounded.sandbox().call("p 1.0.0", 0, |_| Ok(()), |_| usize::MAX);
        assert!(huge.is_ok(), "a cap too large to count in bytes does not wrap around to refuse everything");
    }

    #[test]
    fn the_memory_cap_counts_every_memory_together_and_says_what_was_asked_for() {
        let engine = engine(SandboxLimits { memory_mib: 1, ..SandboxLimits::default() });
        let half = MemoryType::new(8, None);
        let two_halves = |store: &mut Store<SandboxState>| {
            let first = Memory::new(&mut *store, half.clone())?;
            Memory::new(&mut *store, half.clone())?;
            Ok(first)
        };
        let (_, stats) = engine.sandbox().call("p 1.0.0", 0, two_halves, |_| 0).expect("two halves fit");
        assert_eq!(stats.peak_memory_bytes, 16 * PAGE);
        let a_page_more = |store: &mut Store<SandboxState>| {
            let first = two_halves(&mut *store)?;
            first.grow(&mut *store, 1)
        };
        let error = engine.sandbox().call("p 1.0.0", 0, a_page_more, |_| 0).expect_err("a page over the cap");
        assert_eq!(
            error.to_string(),
            "plugin p 1.0.0 exceeded its memory cap of 1 MiB: it asked for 1.1 MiB (sandbox.memory_mib)"
        );
    }

    #[test]
    fn a_failed_call_is_told_apart_by_what_stopped_it() {
        let engine = engine(SandboxLimits { fuel: 1_000, deadline_ms: 250, ..SandboxLimits::default() });
        let fuel = failed_with(&engine, Trap::OutOfFuel.into());
        assert_eq!(fuel, "plugin p 1.0.0 ran out of fuel: it used all 1000 units a call may use (sandbox.fuel)");
        // An interrupt the host did not ask for comes from the epoch deadline.
        let interrupted = failed_with(&engine, Trap::Interrupt.into());
        assert_eq!(interrupted, "plugin p 1.0.0 exceeded its deadline of 250 ms (sandbox.deadline_ms)");
        let unreachable = failed_with(&engine, Trap::UnreachableCodeReached.into());
        assert!(unreachable.starts_with("plugin p 1.0.0 trapped: ") && unreachable.contains("unreachable"));
        assert_eq!(
            failed_with(&engine, wasmtime::Error::msg("boom \u{1b}[2J")),
            "plugin p 1.0.0 trapped: boom \\u{1b}[2J"
        );
    }

    #[test]
    fn once_the_host_is_shutting_down_no_call_starts() {
        let engine = engine(SandboxLimits::default());
        engine.cancel_calls();
        let mut ran = false;
        let call = |_: &mut Store<SandboxState>| {
            ran = true;
            Ok(())
        };
        let error = engine.sandbox().call("p 1.0.0", 0, call, |_| 0).expect_err("cancelled");
        assert!(matches!(error, PluginError::Cancelled { .. }), "{error}");
        assert!(!ran, "the call never started");
    }

    #[test]
    fn a_trap_quotes_the_end_of_what_the_plugin_wrote_on_one_line_and_how_much_was_cut() {
        let engine = engine(SandboxLimits::default());
        let mut stderr = PluginLog::default();
        let noise = "x".repeat(wasi::LOG_CAPACITY + 10);
        let last_words = "\nthread 'main' panicked at \u{1b}[31mM3\n";
        stderr.write(noise.clone().into()).unwrap();
        stderr.write(last_words.into()).unwrap();
        let limiter = MemoryLimiter { cap: 0, total: 0, peak: 0, refused: None };
        let wasi = wasi::context(0, PluginLog::default(), stderr.clone());
        let state = SandboxState { wasi, table: ResourceTable::new(), limiter, stopped: None };

        let error = engine.sandbox().classify("p 1.0.0".into(), wasmtime::Error::msg("boom"), &state, &stderr);
        let PluginError::Trap { trap, stderr: quoted, .. } = error else { panic!("a trap: {error}") };
        assert_eq!(trap, "boom");
        let cut = noise.len() + last_words.len() - wasi::LOG_CAPACITY;
        let end = format!(" | thread 'main' panicked at \\u{{1b}}[31mM3 | … {cut} bytes more were cut");
        assert!(quoted.ends_with(&end), "{quoted}");
        assert_eq!(quoted.len(), QUOTED - last_words.trim().len() - 1 + end.len(), "the last {QUOTED} bytes");
    }

    #[test]
    fn the_tail_of_a_text_starts_on_a_character_boundary() {
        assert_eq!(tail("héllo", 4), "llo");
        assert_eq!(tail("abc", 10), "abc");
    }
}
