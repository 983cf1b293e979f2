//! Loading a plugin: is it a component, of our world, of a version this host
//! supports, importing nothing but WASI — and what does it say about itself.

use std::path::Path;

use anyhow::Context;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre};
use wasmtime::{Engine, Store};

use super::api::{self, ApiVersion};
use super::contract::{self, MAX_DEFAULT_CONFIG_BYTES, MAX_DESCRIPTION_BYTES, MAX_MANIFEST_NAME_BYTES};
use super::error::{PluginError, PluginRejected};
use super::exports::StrategyExports;
use super::limits::SandboxLimits;
use super::sandbox::{CallStats, SandboxState};
use super::PluginEngine;
use crate::printable::{printable, printable_line};
use crate::schedule::Schedule;

/// What a plugin says about itself, checked.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// The strategy's stable id: 1–64 characters of a-z, 0-9 and `-`, e.g. `dormant-recall`.
    pub id: String,
    /// The name for people, on one line, control characters escaped.
    pub name: String,
    /// The plugin's own version (semver by convention): 1–64 characters, no spaces.
    pub version: String,
    /// The WIT package version it was built against, `0.3.0`; checked against what it exports.
    pub api_version: String,
    /// One or two sentences for operators, control characters escaped.
    pub description: String,
    /// The default config, a JSON object; operators' settings are laid over its keys.
    pub default_config: serde_json::Value,
    /// When the strategy runs: cron in the brand's time zone.
    #[serde(serialize_with = "serialize_schedule")]
    pub schedule: Schedule,
}

fn serialize_schedule<S: serde::Serializer>(schedule: &Schedule, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(schedule.expression())
}

/// The binary header of a component (as opposed to a core module).
const COMPONENT_LAYER: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
const WASM_MAGIC: &[u8] = b"\0asm";

/// A checked, compiled plugin, ready to be instantiated per call.
pub struct LoadedPlugin {
    /// Where it came from: a file path, or `registry:<id>@<sha256 prefix>`.
    pub source: String,
    /// What the plugin said about itself when loaded, checked.
    pub manifest: Manifest,
    /// The SHA-256 of its bytes, lowercase hex: the build, as every run and
    /// decision of it records, and as the registry pins it.
    pub sha256: Arc<str>,
    engine: Arc<PluginEngine>,
    pre: InstancePre<SandboxState>,
    exports: StrategyExports,
    /// The last config's audience. `audience-for` sees nothing but the config
    /// (its clock stands at 0, its randomness is seeded), so its answer is
    /// the same every run: a Python plugin need not start up (~6 ms) for it
    /// each run, hourly ones included.
    last_audience: Mutex<Option<(String, api::Audience)>>,
}

/// Reads the API version from the component's exports, before anything
/// runs, and refuses imports the sandbox does not provide.
fn check_world(engine: &Engine, component: &Component) -> Result<ApiVersion, String> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
    let prefix = format!("{}@", api::STRATEGY_INTERFACE);
    let Some(version) = exports.iter().find_map(|name| name.strip_prefix(&prefix)) else {
        return Err(format!(
            "it does not export `{}` — it is not a canvas strategy plugin (it exports: {})",
            api::STRATEGY_INTERFACE,
            if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
        ));
    };
    let Some(api_version) = ApiVersion::parse(version) else {
        return Err(format!(
            "it was built against {}@{version}, which this host does not support; supported: {}",
            api::PACKAGE,
            api::SUPPORTED_VERSIONS.iter().map(|v| format!("{}@{v}", api::PACKAGE)).collect::<Vec<_>>().join(", ")
        ));
    };
    let foreign: Vec<String> = ty
        .imports(engine)
        .filter(|(name, item)| !name.starts_with("wasi:") && !is_types_only(name, &item.ty))
        .map(|(name, _)| name.to_string())
        .collect();
    if !foreign.is_empty() {
        return Err(format!(
            "it imports {}; a plugin may import only WASI, which the sandbox answers without files, network or clocks",
            foreign.join(", ")
        ));
    }
    Ok(api_version)
}

/// The WIT `types` interface is imported for its types only; it has no functions.
fn is_types_only(name: &str, item: &ComponentItem) -> bool {
    name.starts_with(&format!("{}/types@", api::PACKAGE)) && matches!(item, ComponentItem::ComponentInstance(_))
}

fn check_manifest(m: api::Manifest, exported_version: &str) -> Result<Manifest, String> {
    let id_ok = !m.id.is_empty()
        && m.id.len() <= 64
        && m.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !m.id.starts_with('-');
    if !id_ok {
        return Err(format!("its id `{}` must be 1–64 characters of a-z, 0-9 and -", printable_line(&m.id)));
    }
    let name = format!("`{}`", m.id);
    let version_ok = m.version.len() <= 64 && !m.version.chars().any(|c| c.is_control() || c.is_whitespace());
    if m.version.is_empty() {
        return Err(format!("{name} has no version"));
    }
    if !version_ok {
        return Err(format!(
            "{name}'s version `{}` must be 1–64 characters without spaces",
            printable_line(&m.version)
        ));
    }
    let too_long = [
        ("name", m.name.len(), MAX_MANIFEST_NAME_BYTES),
        ("description", m.description.len(), MAX_DESCRIPTION_BYTES),
        ("default config", m.default_config.len(), MAX_DEFAULT_CONFIG_BYTES),
        ("schedule", m.schedule.len(), MAX_MANIFEST_NAME_BYTES),
    ];
    if let Some((field, len, max)) = too_long.into_iter().find(|(_, len, max)| len > max) {
        return Err(format!("{name}'s {field} is {len} bytes long, over the limit of {max} bytes"));
    }
    if m.api_version != exported_version {
        return Err(format!(
            "{name} says it targets API {} but exports {}@{exported_version}",
            printable_line(&m.api_version),
            api::PACKAGE
        ));
    }
    let default_config: serde_json::Value =
        serde_json::from_str(&m.default_config).map_err(|e| format!("{name}'s default config is not JSON: {e}"))?;
    if !default_config.is_object() {
        return Err(format!("{name}'s default config is not a JSON object"));
    }
    let schedule = Schedule::parse(&m.schedule).map_err(|e| format!("{name}'s schedule: {}", printable_line(&e)))?;
    // Shown to operators in terminals and the API: escapes written out.
    Ok(Manifest {
        name: printable_line(&m.name).into_owned(),
        description: printable(&m.description).into_owned(),
        id: m.id,
        version: m.version,
        api_version: m.api_version,
        default_config,
        schedule,
    })
}

/// A build's SHA-256, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl LoadedPlugin {
    /// Loads and checks a plugin file.
    pub fn load(engine: &Arc<PluginEngine>, path: &Path) -> Result<LoadedPlugin, PluginRejected> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| PluginRejected { file: file.clone(), reason: format!("cannot be read: {e}") })?;
        Self::from_bytes(engine, &file, &bytes)
    }

    /// Loads and checks a plugin from its bytes; `source` names it in errors.
    pub fn from_bytes(engine: &Arc<PluginEngine>, source: &str, bytes: &[u8]) -> Result<LoadedPlugin, PluginRejected> {
        let reject = |reason: String| PluginRejected { file: source.to_string(), reason };
        if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
            return Err(reject("is not a WebAssembly file".into()));
        }
        if bytes[4..8] != COMPONENT_LAYER {
            return Err(reject(
                "is a core WebAssembly module, not a component; build it for wasm32-wasip2 (or with componentize-py / componentize-js)".into(),
            ));
        }
        let component =
            Component::new(engine.wasmtime(), bytes).map_err(|e| reject(format!("does not compile: {e:#}")))?;
        Self::from_component(engine, source, sha256_hex(bytes), component)
    }

    /// Loads a plugin compiled earlier by this engine — milliseconds, where
    /// compiling a 15 MB Python or JavaScript component takes seconds. An
    /// artifact from another wasmtime version or configuration is refused by
    /// wasmtime; then `wasm` is compiled afresh. The bool says whether the
    /// artifact was used.
    pub fn from_compiled(
        engine: &Arc<PluginEngine>,
        source: &str,
        wasm: &[u8],
        compiled: &[u8],
    ) -> Result<(LoadedPlugin, bool), PluginRejected> {
        // SAFETY: the artifact was produced by `precompile` of this program and
        // kept in the operator's own store; wasmtime checks that it matches
        // this engine's version and configuration before using it.
        match unsafe { Component::deserialize(engine.wasmtime(), compiled) } {
            Ok(component) => Ok((Self::from_component(engine, source, sha256_hex(wasm), component)?, true)),
            Err(_) => Ok((Self::from_bytes(engine, source, wasm)?, false)),
        }
    }

    /// Loads every `.wasm` file in `dir`, in file-name order. Files the host
    /// refuses are returned apart, so one bad file does not stop the others.
    /// Two files claiming one id are an error naming both: which one runs must
    /// not depend on how the files happen to sort.
    pub fn load_folder(
        engine: &Arc<PluginEngine>,
        dir: &Path,
    ) -> anyhow::Result<(Vec<LoadedPlugin>, Vec<PluginRejected>)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the plugin folder {}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
            .collect();
        files.sort();
        let (mut loaded, mut rejected) = (Vec::<LoadedPlugin>::new(), Vec::new());
        for file in files {
            match LoadedPlugin::load(engine, &file) {
                Ok(plugin) => {
                    if let Some(first) = loaded.iter().find(|p| p.id() == plugin.id()) {
                        anyhow::bail!(
                            "{} and {} both claim the plugin id `{}`; keep one of them in {}",
                            first.source,
                            file.display(),
                            plugin.id(),
                            dir.display()
                        );
                    }
                    loaded.push(plugin);
                }
                Err(e) => rejected.push(e),
            }
        }
        Ok((loaded, rejected))
    }

    /// Checks the world and version, links, and reads the manifest.
    fn from_component(
        engine: &Arc<PluginEngine>,
        source: &str,
        sha256: String,
        component: Component,
    ) -> Result<LoadedPlugin, PluginRejected> {
        let reject = |reason: String| PluginRejected { file: source.to_string(), reason };
        let version = check_world(engine.wasmtime(), &component).map_err(reject)?;
        let exports = StrategyExports::find(&component, version).map_err(reject)?;
        let pre =
            engine.linker().instantiate_pre(&component).map_err(|e| reject(format!("cannot be linked: {e:#}")))?;
        // One instance checks all three signatures, then describes the plugin.
        // A signature that differs is the inner error: it is not the plugin's trap.
        let describe = |store: &mut Store<SandboxState>| {
            let instance = pre.instantiate(&mut *store)?;
            if let Err(differs) = exports.check_signatures(store, &instance) {
                return Ok(Err(format!("does not implement the strategy world: {}", differs.root_cause())));
            }
            exports.describe(store, &instance).map(Ok)
        };
        let size = |r: &Result<api::Manifest, String>| r.as_ref().map_or(0, contract::manifest_size);
        let (described, _) = engine.sandbox().call(source, 0, describe, size).map_err(|e| reject(e.to_string()))?;
        let described = described.map_err(reject)?;
        let manifest = check_manifest(described, version.as_str()).map_err(reject)?;
        Ok(LoadedPlugin {
            source: source.to_string(),
            manifest,
            sha256: sha256.into(),
            engine: engine.clone(),
            pre,
            exports,
            last_audience: Mutex::default(),
        })
    }

    /// The strategy id from its manifest: what config, decisions and the registry key on.
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    /// The sandbox limits its calls and answers are held to.
    pub fn limits(&self) -> &SandboxLimits {
        self.engine.limits()
    }

    /// `id version`, as errors name the plugin.
    pub fn label(&self) -> String {
        format!("{} {}", self.manifest.id, self.manifest.version)
    }

    /// The audience for this effective config; a rejected config is
    /// [`PluginError::Returned`] with the plugin's message.
    pub fn audience(&self, config: &serde_json::Value) -> Result<api::Audience, PluginError> {
        let key = config.to_string();
        let mut last = self.last_audience.lock().expect("the audience memo lock is never poisoned");
        if let Some((_, audience)) = last.as_ref().filter(|(config, _)| *config == key) {
            return Ok(audience.clone());
        }
        // Only answers are kept: a failure (a timeout, say) is asked again.
        let (audience, _) = self.audience_with_stats(config)?;
        *last = Some((key, audience.clone()));
        Ok(audience)
    }

    /// [`LoadedPlugin::audience`], with what the call used of the sandbox:
    /// always a fresh call.
    pub fn audience_with_stats(&self, config: &serde_json::Value) -> Result<(api::Audience, CallStats), PluginError> {
        let config = config.to_string();
        let (result, stats) = self.engine.sandbox().call(
            &self.label(),
            0,
            |store| {
                let instance = self.pre.instantiate(&mut *store)?;
                self.exports.audience_for(store, &instance, config)
            },
            |r| r.as_ref().map_or_else(String::len, contract::audience_size),
        )?;
        let audience = result.map_err(|message| self.returned(&message))?;
        contract::check_audience(&audience, self.engine.limits())
            .map_err(|message| PluginError::AudienceLimit { plugin: self.label(), message })?;
        Ok((audience, stats))
    }

    /// Decides one batch. The run instant is also what WASI clocks answer.
    pub fn decide(
        &self,
        context: &api::RunContext,
        members: &[api::Member],
    ) -> Result<(Vec<api::Touch>, CallStats), PluginError> {
        let (result, stats) = self.engine.sandbox().call(
            &self.label(),
            context.run_at,
            |store| {
                let instance = self.pre.instantiate(&mut *store)?;
                self.exports.decide(store, &instance, context, members)
            },
            |r| r.as_ref().map_or_else(String::len, |touches| contract::touches_size(touches)),
        )?;
        let touches = result.map_err(|message| self.returned(&message))?;
        Ok((touches, stats))
    }

    /// The error a plugin returned, quoted safely.
    fn returned(&self, message: &str) -> PluginError {
        PluginError::Returned { plugin: self.label(), message: PluginError::quoted(message) }
    }
}

#[cfg(test)]
mod tests;
