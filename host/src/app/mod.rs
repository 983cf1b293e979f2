//! The composition root: the one place that turns the operator's config
//! into working parts — the plugin engine, the strategies, the runner, the
//! registry, the dispatcher — and decides which strategies run at an
//! instant. `canvas run`, `canvas serve`, `canvas simulate`, `canvas plugin
//! test` and the benchmark all go through it; they differ in where their
//! plugins come from ([`PluginSource`]), which strategies they ask for
//! ([`Selection`]), their store (the operator's, or a scratch one) and what
//! becomes of the decisions (queued for sinks, or only written out).
//!
//! Each subsystem owns its settings type (`[run]` the runner's, `[sandbox]`
//! the runtime's, `[serve]` the service's…); only [`CanvasConfig`] gathers
//! them, and only this module builds from it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::calendar::BrandCalendar;
use crate::config::CanvasConfig;
use crate::dispatch::Dispatcher;
use crate::member_base::MemberBase;
use crate::model::{DataSet, Decision, Millis, RunRecord, RunTrigger};
use crate::registry::Registry;
use crate::runner::{Runner, RunnerState};
use crate::runtime::{LoadedPlugin, PluginEngine, PluginRejected};
use crate::store::Store;
use crate::strategy::{Loaded, Off, Strategy, StrategySettings};

mod ask;
mod compact;
mod known_ids;
mod refused;
mod shown;
mod stored_base;
pub use ask::{AskRefused, RunAsk};
pub use compact::CompactRefused;
pub use known_ids::UnknownStrategyId;
pub use stored_base::{save_member_base, stored_member_base, KindsWanted, SNAPSHOT_FILE};

/// The operator's config and the plugin engine built from it.
pub struct App {
    /// The whole config, checked on load; every part below is built from it.
    pub config: CanvasConfig,
    /// Shared: every plugin loaded with it holds it; `canvas serve` cancels
    /// the call in flight through it at shutdown.
    pub engine: Arc<PluginEngine>,
}

/// Where a command's strategies come from.
#[derive(Clone, Copy)]
pub enum PluginSource<'a> {
    /// The plugins installed in this store and enabled there (the service,
    /// and `canvas run` on a store with plugins installed).
    Installed(&'a Store),
    /// Every `.wasm` file of a folder, enabled unless `[strategies.<id>]
    /// enabled = false` (dry runs, development).
    Folder(&'a Path),
}

/// Which of the loaded strategies run at an instant, once a request is
/// checked ([`App::selection`]).
#[derive(Clone, Copy, Debug)]
pub enum Selection<'a> {
    /// Those whose schedule has a run at the instant.
    Due,
    /// These ids, whatever their schedule.
    Named(&'a [String]),
    /// Every one loaded, whatever its schedule (a forced run-now without ids).
    Every,
}

impl App {
    /// The engine keeps compiled plugins in `compile_cache`, when the
    /// config names one.
    pub fn new(config: CanvasConfig) -> anyhow::Result<App> {
        let engine = PluginEngine::with_compile_cache(config.sandbox.clone(), config.compile_cache.as_deref())?;
        Ok(App { config, engine: Arc::new(engine) })
    }

    /// With an engine made elsewhere (the benchmark's unmetered one).
    pub fn with_engine(config: CanvasConfig, engine: Arc<PluginEngine>) -> App {
        App { config, engine }
    }

    /// The brand's calendar, in the config's `timezone`.
    pub fn calendar(&self) -> BrandCalendar {
        self.config.calendar()
    }

    /// The canvas config's settings for a strategy.
    pub fn settings(&self, id: &str) -> StrategySettings {
        self.config.strategy(id)
    }

    /// When an installed strategy runs: the canvas config's `schedule`,
    /// else its active plugin version's, as written (not yet parsed).
    pub fn schedule_of(&self, entry: &crate::store::PluginEntry) -> String {
        self.settings(&entry.id).schedule.unwrap_or_else(|| entry.active_version().schedule.clone())
    }

    /// The plugins installed in `store`, checked and compiled with this engine.
    pub fn registry<'s>(&'s self, store: &'s Store) -> Registry<'s> {
        Registry::new(store, &self.engine)
    }

    /// The strategies of `source` that run, and the plugins there that do
    /// not (see [`Off`] for the one rule). Every strategy id the config
    /// names must be there ([`UnknownStrategyId`]). `only`: just these ids,
    /// each of which must be there and run (else [`AskRefused`], naming them).
    pub fn strategies(&self, source: PluginSource<'_>, only: Option<&[String]>) -> anyhow::Result<Loaded> {
        let mut loaded = match source {
            PluginSource::Folder(dir) => self.folder_strategies(dir)?,
            PluginSource::Installed(store) => self.registry(store).strategies(&|id| self.settings(id))?,
        };
        self.check_strategy_ids(&loaded)?;
        if let Some(only) = only {
            ask::check_named(&loaded, only)?;
            loaded.strategies.retain(|s| only.iter().any(|id| id == s.id()));
        }
        Ok(loaded)
    }

    fn folder_strategies(&self, dir: &Path) -> anyhow::Result<Loaded> {
        let (plugins, rejected) = LoadedPlugin::load_folder(&self.engine, dir)?;
        let refused = rejected.iter().map(PluginRejected::to_string).collect();
        let mut loaded = Loaded { strategies: Vec::new(), off: Vec::new(), refused };
        for plugin in plugins {
            let settings = self.settings(plugin.id());
            if !settings.enabled {
                loaded.off.push((plugin.id().to_string(), Off::SwitchedOff));
                continue;
            }
            loaded.add(plugin, &settings);
        }
        Ok(loaded)
    }

    /// The member base of `data`, in the brand's calendar.
    pub fn member_base(&self, data: DataSet) -> MemberBase {
        MemberBase::build(self.calendar(), data)
    }

    /// What a runner knows: `base`, and every decision recorded in `store`
    /// (the log and the governor's memory).
    pub fn runner_state(&self, base: MemberBase, store: &Store) -> anyhow::Result<RunnerState> {
        RunnerState::load(base, store, self.config.governor())
    }

    /// [`App::runner_state`] with the member base of `store`'s own
    /// records, keeping the event kinds `strategies` read.
    pub fn stored_runner_state(&self, store: &Store, strategies: &[Strategy]) -> anyhow::Result<RunnerState> {
        let kinds = crate::strategy::kept_kinds(strategies);
        let reading = std::time::Instant::now();
        let base = self.stored_member_base(store, KindsWanted::Run(&kinds))?;
        let base_seconds = reading.elapsed().as_secs_f64();
        let state = self.runner_state(base, store)?;
        let seconds = reading.elapsed().as_secs_f64();
        let (members, base_mb) = (state.base.len(), state.base.heap_bytes() / 1_000_000);
        tracing::info!(members, base_mb, base_seconds, seconds, "member base and decisions read");
        Ok(state)
    }

    /// A runner going on from `state` over `store`. `enqueue`: real runs
    /// queue what is to be sent; dry runs only record.
    pub fn runner<'s>(&self, state: RunnerState, store: &'s Store, enqueue: bool) -> Runner<'s> {
        Runner::resume(state, store, self.config.run.batch_size, enqueue).with_workers(self.config.run.workers)
    }

    /// The dispatcher of `store`'s outbox, with the configured sinks.
    pub fn dispatcher(&self, store: Arc<Store>) -> anyhow::Result<Dispatcher> {
        Dispatcher::new(store, self.config.dispatch.clone(), self.calendar())
    }

    /// Runs, at `at`, the strategies `selection` picks among `strategies`:
    /// the one way every command runs strategies. Nothing picked: no run,
    /// an empty list.
    pub fn run_at(
        &self,
        runner: &mut Runner<'_>,
        strategies: &[Strategy],
        at: Millis,
        trigger: RunTrigger,
        selection: Selection<'_>,
        on_decision: &mut dyn FnMut(&Decision),
    ) -> anyhow::Result<Vec<RunRecord>> {
        let picked = select(strategies, &self.calendar(), at, selection);
        if picked.is_empty() {
            return Ok(Vec::new());
        }
        runner.run_instant(at, trigger, &picked, on_decision)
    }
}

/// The strategies `selection` picks at `at`, in the order given.
pub fn select<'a>(
    strategies: &'a [Strategy],
    calendar: &BrandCalendar,
    at: Millis,
    selection: Selection<'_>,
) -> Vec<&'a Strategy> {
    strategies
        .iter()
        .filter(|s| match selection {
            Selection::Due => s.schedule.is_due(calendar, at),
            Selection::Named(ids) => ids.iter().any(|id| id == s.id()),
            Selection::Every => true,
        })
        .collect()
}

/// `$XDG_CACHE_HOME/canvas/compiled`, else `~/.cache/canvas/compiled`;
/// `None` when it cannot be created (a service user without a home):
/// plugins then compile on every load, as with no cache, instead of failing.
pub fn user_compile_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    let dir = base.join("canvas").join("compiled");
    std::fs::create_dir_all(&dir).is_ok().then_some(dir)
}
