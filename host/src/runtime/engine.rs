//! One wasmtime engine and linker shared by every plugin, the thread that
//! advances the engine's epoch so deadlines fire, and what the host asks of
//! it: compile a plugin once, cut every call in flight. Everything
//! `PluginEngine` does is here; a call itself is the sandbox's
//! (`sandbox.rs`); loading a plugin and calling it is `plugin.rs`'s.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use wasmtime::component::Linker;
use wasmtime::{Cache, CacheConfig, Config, Engine};

use super::limits::SandboxLimits;
use super::sandbox::{Sandbox, SandboxState};

/// How often the epoch advances; deadlines are whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The plugins' wasmtime: compiles and links them, and makes the sandbox
/// each of their calls runs in.
pub struct PluginEngine {
    sandbox: Sandbox,
    linker: Linker<SandboxState>,
    /// Advances the epoch for call deadlines; `None` only in
    /// [`PluginEngine::unmetered_for_benchmarks`].
    _ticker: Option<EpochTicker>,
}

impl PluginEngine {
    /// An engine whose plugins' calls are held to `limits`.
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
        let sandbox = Sandbox { engine, limits, cancelled: Arc::default(), metered };
        Ok(PluginEngine { sandbox, linker, _ticker: ticker })
    }

    /// The limits every plugin call and answer is held to.
    pub fn limits(&self) -> &SandboxLimits {
        &self.sandbox.limits
    }

    /// Stops every plugin call in flight within one [`EPOCH_TICK`] and
    /// refuses new ones ([`PluginError::Cancelled`](super::PluginError)): for
    /// a service shutting down, which must not wait for a run to end.
    pub fn cancel_calls(&self) {
        self.sandbox.cancelled.store(true, Ordering::Relaxed);
    }

    /// Compiles a plugin to native code once, for [`LoadedPlugin::from_compiled`](super::LoadedPlugin::from_compiled).
    pub fn precompile(&self, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        self.wasmtime().precompile_component(bytes).map_err(|e| anyhow::anyhow!("{e:#}"))
    }

    pub(crate) fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    pub(crate) fn wasmtime(&self) -> &Engine {
        &self.sandbox.engine
    }

    pub(crate) fn linker(&self) -> &Linker<SandboxState> {
        &self.linker
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
