//! One wasmtime engine and linker shared by every plugin, plus the thread
//! that advances the engine's epoch so deadlines fire.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use wasmtime::component::Linker;
use wasmtime::{Cache, CacheConfig, Config, Engine};

use super::sandbox::{SandboxLimits, SandboxState};

/// How often the epoch advances; deadlines are whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

pub struct PluginEngine {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<SandboxState>,
    pub limits: SandboxLimits,
    /// Set by [`PluginEngine::cancel_calls`]: every call in flight stops at
    /// the next epoch tick, and no new call starts.
    pub(crate) cancelled: Arc<AtomicBool>,
    /// Advances the epoch for call deadlines; `None` only in
    /// [`PluginEngine::unmetered_for_benchmarks`].
    ticker: Option<EpochTicker>,
}

impl PluginEngine {
    pub fn new(limits: SandboxLimits) -> anyhow::Result<Self> {
        Self::with_compile_cache(limits, None)
    }

    /// An engine that keeps compiled plugins in `cache` (wasmtime's cache,
    /// keyed by the component's bytes and the engine's settings), so a 15 MB
    /// Python or JavaScript component compiles once per machine, not once per
    /// command.
    pub fn with_compile_cache(limits: SandboxLimits, cache: Option<&Path>) -> anyhow::Result<Self> {
        Self::build(limits, cache, true)
    }

    /// An engine whose calls neither count fuel nor stop at a deadline (the
    /// memory and output caps still hold). Only for the benchmark, which
    /// measures what metering costs a plugin call: a plugin that loops
    /// forever here hangs the caller.
    #[doc(hidden)]
    pub fn unmetered_for_benchmarks(limits: SandboxLimits) -> anyhow::Result<Self> {
        Self::build(limits, None, false)
    }

    fn build(limits: SandboxLimits, cache: Option<&Path>, metered: bool) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true).consume_fuel(metered).epoch_interruption(metered);
        if let Some(dir) = cache {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the compile cache {}", dir.display()))?;
            let mut settings = CacheConfig::new();
            settings.with_directory(dir.canonicalize()?);
            config.cache(Some(Cache::new(settings)?));
        }
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        // Rust and Python guests import WASI for their standard library: it
        // grants nothing, and nothing in it waits (see wasi.rs).
        super::wasi::add_to_linker(&mut linker)?;
        let ticker = metered.then(|| EpochTicker::start(&engine));
        Ok(PluginEngine { engine, linker, limits, cancelled: Arc::default(), ticker })
    }

    /// Stops every plugin call in flight within one [`EPOCH_TICK`] and
    /// refuses new ones ([`PluginError::Cancelled`](super::PluginError)): for
    /// a service shutting down, which must not wait for a run to end.
    pub fn cancel_calls(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub(crate) fn calls_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Whether calls count fuel and stop at the deadline: always, except in
    /// [`PluginEngine::unmetered_for_benchmarks`].
    pub(crate) fn metered(&self) -> bool {
        self.ticker.is_some()
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.weak();
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("canvas-epoch".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => return,
                    }
                }
            })
            .expect("spawning the epoch thread");
        EpochTicker { stop, thread: Some(thread) }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
