//! Installed plugins (the registry's, see [`crate::registry`]), in three trees:
//!
//! - `plugins`: plugin id (UTF-8) → its [`PluginEntry`] as JSON — the
//!   operator's decisions about it (enabled, config keys, the active build,
//!   the builds before) and each installed build's manifest. JSON, not
//!   postcard: entries are few and small, and the config is JSON already.
//! - `plugin_wasm`: a build's SHA-256 (hex) → its component's bytes, as
//!   installed: what the pin is checked against.
//! - `plugin_compiled`: the same SHA-256 → the build compiled for this host
//!   (wasmtime's serialized code), so a run loads it in milliseconds instead
//!   of compiling it again.

use serde::{Deserialize, Serialize};

use super::Store;
use crate::model::Millis;

/// One installed build of a plugin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstalledVersion {
    /// The SHA-256 of the component's bytes, lowercase hex: the pin, and the
    /// key of its blobs in `plugin_wasm` and `plugin_compiled`.
    pub sha256: String,
    /// The plugin's own version, from its manifest.
    pub version: String,
    /// The WIT package version it targets, `0.3.0`.
    pub api_version: String,
    /// Its manifest's name, escaped for a terminal.
    pub name: String,
    /// Its manifest's description, escaped for a terminal.
    pub description: String,
    /// The build's default config, a JSON object.
    pub default_config: serde_json::Value,
    /// The build's own cron schedule, as its manifest states it.
    pub schedule: String,
    /// The component's size as installed.
    pub size_bytes: u64,
    /// When it was installed.
    pub installed_at: Millis,
}

/// A plugin id and everything the operator decided about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PluginEntry {
    /// The plugin's id, which is also the entry's key.
    pub id: String,
    /// Installed plugins start disabled.
    pub enabled: bool,
    /// The SHA-256 of the active build.
    pub active: String,
    /// Builds active before, oldest first: rollback pops the last.
    pub previously_active: Vec<String>,
    /// Every build installed under this id, in install order; one per SHA-256.
    pub versions: Vec<InstalledVersion>,
    /// The operator's keys over the default config (and over `[strategies.<id>] config`).
    pub config: serde_json::Map<String, serde_json::Value>,
    /// When the operator last changed it (install, enable, config, rollback).
    pub updated_at: Millis,
}

impl PluginEntry {
    /// The build that runs: `versions`' entry for `active`, which is always there.
    pub fn active_version(&self) -> &InstalledVersion {
        self.versions.iter().find(|v| v.sha256 == self.active).expect("the active build is installed")
    }
}

impl Store {
    pub(crate) fn put_plugin_blobs(&self, sha256: &str, wasm: &[u8], compiled: &[u8]) -> anyhow::Result<()> {
        self.plugin_wasm.insert(sha256, wasm)?;
        self.plugin_compiled.insert(sha256, compiled)?;
        Ok(())
    }

    pub(crate) fn plugin_blobs(&self, sha256: &str) -> anyhow::Result<Option<(Vec<u8>, Vec<u8>)>> {
        let wasm = self.plugin_wasm.get(sha256)?;
        let compiled = self.plugin_compiled.get(sha256)?;
        Ok(wasm.zip(compiled).map(|(w, c)| (w.to_vec(), c.to_vec())))
    }

    pub(crate) fn put_plugin_entry(&self, entry: &PluginEntry) -> anyhow::Result<()> {
        self.plugins.insert(entry.id.as_bytes(), serde_json::to_vec(entry)?)?;
        self.flush()
    }

    pub(crate) fn plugin_entry(&self, id: &str) -> anyhow::Result<Option<PluginEntry>> {
        self.plugins.get(id.as_bytes())?.map(|v| Ok(serde_json::from_slice(&v)?)).transpose()
    }

    pub(crate) fn plugin_entries(&self) -> anyhow::Result<Vec<PluginEntry>> {
        self.plugins.iter().values().map(|v| Ok(serde_json::from_slice(&v?)?)).collect()
    }

    /// Whether any plugin is installed (runs then use the registry).
    pub fn has_installed_plugins(&self) -> anyhow::Result<bool> {
        Ok(!self.plugins.is_empty())
    }
}
