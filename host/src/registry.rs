//! Installed plugins — the operator's plugin lifecycle, kept in the store:
//! install (checked, pinned by SHA-256, compiled once so later loads take
//! milliseconds), enable and disable, config (checked by the plugin itself,
//! used from the next run on), upgrade by installing a newer build, and
//! rollback to the version active before.

use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::model::Millis;
use crate::runtime::{LoadedPlugin, PluginEngine, PluginError, PluginRejected};
use serde_json::{json, Value};

use crate::store::{AuditEntry, InstalledVersion, PluginEntry, Store};
use crate::strategy::{merge_config, Loaded, Off, Strategy, StrategyError, StrategySettings};

/// Why a registry operation failed; the admin API maps each to its status code.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The component is not one the host will run (or its stored build no longer loads).
    #[error(transparent)]
    Rejected(#[from] PluginRejected),
    /// No plugin of this id is installed.
    #[error("no plugin `{0}` is installed")]
    Unknown(String),
    /// The plugin refused the effective config the new keys make; nothing was changed.
    #[error("the config for {id} is rejected by the plugin: {reason}")]
    BadConfig {
        /// The plugin's id.
        id: String,
        /// The plugin's message, or how the call failed.
        reason: String,
    },
    /// Other bytes under a version already installed: a build is known by its
    /// version, so a changed plugin must carry a new one.
    #[error(
        "{id} {version} is installed already as another build (sha256 {installed}…, this one {offered}…): \
         give the changed plugin a new version"
    )]
    VersionTaken {
        /// The plugin's id.
        id: String,
        /// The version both builds claim.
        version: String,
        /// The first 16 hex digits of the installed build's SHA-256.
        installed: String,
        /// The first 16 hex digits of the refused build's.
        offered: String,
    },
    /// A rollback of a plugin (named) with no version active before the current one.
    #[error("{0} has no earlier version to roll back to")]
    NothingToRollBack(String),
    /// The store failed (or a build's bytes are missing from it).
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// What an install did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    /// The plugin's id, from its manifest.
    pub id: String,
    /// The plugin's own version, from its manifest.
    pub version: String,
    /// The build's SHA-256, lowercase hex: what it is pinned by.
    pub sha256: String,
    /// The version it replaced as active, if any.
    pub replaced: Option<String>,
}

/// The installed plugins of one store, and the engine that checks and loads
/// them; cheap, made for each operation.
pub struct Registry<'a> {
    store: &'a Store,
    engine: &'a Arc<PluginEngine>,
    /// Who makes the changes, for the audit log (see [`Registry::acting_as`]).
    actor: Option<String>,
}

/// A plugin's active build, as the audit log names it.
fn active_build(entry: &PluginEntry) -> Value {
    json!({ "version": entry.active_version().version, "sha256": entry.active })
}

impl<'a> Registry<'a> {
    /// The registry kept in `store`; `engine` compiles and runs its plugins.
    pub fn new(store: &'a Store, engine: &'a Arc<PluginEngine>) -> Self {
        Registry { store, engine, actor: None }
    }

    /// An operator's registry: each change it makes (install, enable,
    /// disable, config, rollback) lands in the store's audit log as made by
    /// `actor` (an API token's name, `cli:<user>`), with the state before
    /// and after. Without it (set-up code, tests) changes are not audited.
    pub fn acting_as(mut self, actor: &str) -> Self {
        self.actor = Some(actor.to_string());
        self
    }

    /// Records a change in the audit log, when an operator makes it.
    fn audit(&self, now: Millis, action: &str, id: &str, before: Value, after: Value) -> Result<(), RegistryError> {
        if let Some(actor) = &self.actor {
            self.store.record_audit(&AuditEntry::new(now, actor, action, id, before, after))?;
        }
        Ok(())
    }

    /// Checks a component, pins it by hash, compiles it once, and makes it
    /// the active version of its id (an upgrade, when the id is installed)
    /// — once it accepts the config it will run with: the canvas config's
    /// settings for its id (`settings_of`) and the keys set before.
    pub fn install(
        &self,
        source: &str,
        wasm: &[u8],
        settings_of: &dyn Fn(&str) -> StrategySettings,
        now: Millis,
    ) -> Result<Installed, RegistryError> {
        let plugin = LoadedPlugin::from_bytes(self.engine, source, wasm)?;
        let sha256 = plugin.sha256.to_string();
        let existing = self.store.plugin_entry(&plugin.manifest.id)?;
        let taken = existing.iter().flat_map(|e| &e.versions).find(|v| v.version == plugin.manifest.version);
        if let Some(taken) = taken.filter(|v| v.sha256 != sha256) {
            return Err(RegistryError::VersionTaken {
                id: plugin.manifest.id.clone(),
                version: plugin.manifest.version.clone(),
                installed: taken.sha256[..16].to_string(),
                offered: sha256[..16].to_string(),
            });
        }
        let keys = existing.as_ref().map(|e| e.config.clone()).unwrap_or_default();
        self.accepted(&plugin, &settings_of(&plugin.manifest.id), &keys)?;
        let compiled = self.engine.precompile(wasm).with_context(|| format!("compiling {source}"))?;
        self.store.put_plugin_blobs(&sha256, wasm, &compiled)?;
        let m = &plugin.manifest;
        let version = InstalledVersion {
            sha256: sha256.clone(),
            version: m.version.clone(),
            api_version: m.api_version.clone(),
            name: m.name.clone(),
            description: m.description.clone(),
            default_config: m.default_config.clone(),
            schedule: m.schedule.expression().to_string(),
            size_bytes: wasm.len() as u64,
            installed_at: now,
        };
        let mut entry = match existing {
            Some(entry) => entry,
            None => PluginEntry {
                id: m.id.clone(),
                enabled: false,
                active: sha256.clone(),
                previously_active: Vec::new(),
                versions: Vec::new(),
                config: serde_json::Map::new(),
                updated_at: now,
            },
        };
        let replaced = (!entry.versions.is_empty() && entry.active != sha256).then(|| {
            let previous = entry.active_version().version.clone();
            entry.previously_active.push(entry.active.clone());
            previous
        });
        if !entry.versions.iter().any(|v| v.sha256 == sha256) {
            entry.versions.push(version);
        }
        entry.active = sha256.clone();
        entry.updated_at = now;
        self.store.put_plugin_entry(&entry)?;
        let before = replaced.as_ref().map_or(Value::Null, |version| json!({ "version": version }));
        self.audit(now, "install", &m.id, before, json!({ "version": m.version, "sha256": sha256 }))?;
        Ok(Installed { id: m.id.clone(), version: m.version.clone(), sha256, replaced })
    }

    /// Every installed plugin, in id order.
    pub fn list(&self) -> Result<Vec<PluginEntry>, RegistryError> {
        Ok(self.store.plugin_entries()?)
    }

    /// The installed plugin `id`; [`RegistryError::Unknown`] if there is none.
    pub fn get(&self, id: &str) -> Result<PluginEntry, RegistryError> {
        self.store.plugin_entry(id)?.ok_or_else(|| RegistryError::Unknown(id.to_string()))
    }

    /// Enables or disables a plugin, from the next run on; enabling checks
    /// that it accepts the config it will run with (`settings`, the keys set).
    /// Returns the entry as stored.
    pub fn set_enabled(
        &self,
        id: &str,
        enabled: bool,
        settings: &StrategySettings,
        now: Millis,
    ) -> Result<PluginEntry, RegistryError> {
        let mut entry = self.get(id)?;
        if enabled && !entry.enabled {
            // Its config may predate the plugin's checks (a store an earlier
            // canvas wrote): found now, not at its next run.
            self.accepted(&self.load(&entry)?, settings, &entry.config)?;
        }
        let before = entry.enabled;
        entry.enabled = enabled;
        entry.updated_at = now;
        self.store.put_plugin_entry(&entry)?;
        self.audit(now, if enabled { "enable" } else { "disable" }, id, json!(before), json!(enabled))?;
        Ok(entry)
    }

    /// Replaces the operator's config keys, after the plugin accepted the
    /// effective config they make. Returns the effective config.
    pub fn set_config(
        &self,
        id: &str,
        keys: serde_json::Map<String, serde_json::Value>,
        settings: &StrategySettings,
        now: Millis,
    ) -> Result<serde_json::Value, RegistryError> {
        let mut entry = self.get(id)?;
        let effective = self.accepted(&self.load(&entry)?, settings, &keys)?;
        let before = std::mem::replace(&mut entry.config, keys);
        entry.updated_at = now;
        self.store.put_plugin_entry(&entry)?;
        self.audit(now, "config", id, Value::Object(before), Value::Object(entry.config.clone()))?;
        Ok(effective)
    }

    /// The effective config of `plugin` with the canvas config's `settings`
    /// and the operator's `keys`, once the plugin has accepted it.
    fn accepted(
        &self,
        plugin: &LoadedPlugin,
        settings: &StrategySettings,
        keys: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Value, RegistryError> {
        let effective = effective_config(&plugin.manifest.default_config, settings, keys);
        match plugin.audience(&effective) {
            Ok(_) => Ok(effective),
            Err(e) => {
                let reason = match e {
                    PluginError::Returned { message, .. } => message,
                    other => other.to_string(),
                };
                Err(RegistryError::BadConfig { id: plugin.id().to_string(), reason })
            }
        }
    }

    /// Makes the version active before the current one active again, once
    /// it accepts the config it will run with (`settings`, and the keys set).
    pub fn rollback(&self, id: &str, settings: &StrategySettings, now: Millis) -> Result<PluginEntry, RegistryError> {
        let mut entry = self.get(id)?;
        let before = active_build(&entry);
        let previous = entry.previously_active.pop().ok_or_else(|| RegistryError::NothingToRollBack(id.to_string()))?;
        entry.active = previous;
        self.accepted(&self.load(&entry)?, settings, &entry.config)?;
        entry.updated_at = now;
        self.store.put_plugin_entry(&entry)?;
        self.audit(now, "rollback", id, before, active_build(&entry))?;
        Ok(entry)
    }

    /// The active build, from its compiled artifact.
    pub fn load(&self, entry: &PluginEntry) -> Result<LoadedPlugin, RegistryError> {
        let source = format!("registry:{}@{}", entry.id, &entry.active[..12]);
        let (wasm, compiled) = self
            .store
            .plugin_blobs(&entry.active)?
            .with_context(|| format!("{source}: its bytes are missing from the store"))?;
        let (plugin, _) = LoadedPlugin::from_compiled(self.engine, &source, &wasm, &compiled)?;
        Ok(plugin)
    }

    /// An installed plugin as a strategy whether it runs or not, with the
    /// canvas config's `settings`, the registry's keys and then `trying`
    /// (keys not saved) laid over its defaults: what a preview runs. The
    /// plugin refusing that config is [`RegistryError::BadConfig`], its message in it.
    pub fn strategy_trying(
        &self,
        entry: &PluginEntry,
        settings: &StrategySettings,
        trying: &serde_json::Map<String, Value>,
    ) -> Result<Strategy, RegistryError> {
        let mut settings = settings.clone();
        settings.config = merge_maps(&settings.config, &merge_maps(&entry.config, trying));
        Strategy::new(self.load(entry)?, &settings).map_err(|e| match e {
            StrategyError::BadConfig { id, reason } => RegistryError::BadConfig { id, reason },
            StrategyError::Rejected(rejected) => RegistryError::Rejected(rejected),
            bad_schedule @ StrategyError::BadSchedule { .. } => RegistryError::Store(bad_schedule.into()),
        })
    }

    /// The installed plugins as strategies: those that run (enabled here,
    /// not switched off by the canvas config), with the canvas config's
    /// settings (by id, from `settings_of`) and the registry's config keys
    /// laid over them; the others in `off`, with why.
    pub fn strategies(&self, settings_of: &dyn Fn(&str) -> StrategySettings) -> Result<Loaded, RegistryError> {
        let mut loaded = Loaded { strategies: Vec::new(), off: Vec::new(), refused: Vec::new() };
        for entry in self.list()? {
            let mut settings = settings_of(&entry.id);
            if let Some(why) = Off::of_installed(entry.enabled, &settings) {
                loaded.off.push((entry.id, why));
                continue;
            }
            match self.load(&entry) {
                Ok(plugin) => {
                    settings.config = merge_maps(&settings.config, &entry.config);
                    loaded.add(plugin, &settings);
                }
                Err(e) => loaded.refuse(entry.id, e.to_string()),
            }
        }
        Ok(loaded)
    }
}

/// The default config, the canvas config's keys (`settings`), then the registry's keys.
pub fn effective_config(
    default_config: &serde_json::Value,
    settings: &StrategySettings,
    keys: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    merge_config(default_config, &merge_maps(&settings.config, keys))
}

fn merge_maps(
    base: &serde_json::Map<String, serde_json::Value>,
    over: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    match merge_config(&serde_json::Value::Object(base.clone()), over) {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("merging objects gives an object"),
    }
}
