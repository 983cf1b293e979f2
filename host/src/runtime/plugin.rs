//! Loading a plugin: is it a component, of our world, of a version this host
//! supports, importing nothing but WASI — and what does it say about itself.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex, Instance, InstancePre};
use wasmtime::Store;

use super::api::{self, ApiVersion};
use super::contract::{self, MAX_DEFAULT_CONFIG_BYTES, MAX_DESCRIPTION_BYTES, MAX_MANIFEST_NAME_BYTES};
use super::sandbox::{CallStats, PluginError, SandboxState};
use super::PluginEngine;
use crate::printable::{printable, printable_line};
use crate::schedule::Schedule;

/// What a plugin says about itself, checked.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: String,
    pub api_version: String,
    pub description: String,
    pub default_config: serde_json::Value,
    #[serde(serialize_with = "serialize_schedule")]
    pub schedule: Schedule,
}

fn serialize_schedule<S: serde::Serializer>(schedule: &Schedule, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(schedule.expression())
}

/// A component the host will not run, and why.
#[derive(Debug, thiserror::Error)]
pub struct PluginRejected {
    pub file: String,
    pub reason: String,
}

impl fmt::Display for PluginRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin {} refused: {}", self.file, self.reason)
    }
}

/// A checked, compiled plugin, ready to be instantiated per call.
pub struct LoadedPlugin {
    /// Where it came from: a file path, or `registry:<id>@<sha256 prefix>`.
    pub source: String,
    pub manifest: Manifest,
    engine: Arc<PluginEngine>,
    pre: InstancePre<SandboxState>,
    exports: StrategyExports,
    /// The last config's audience. `audience-for` sees nothing but the config
    /// (its clock stands at 0, its randomness is seeded), so its answer is
    /// the same every run: a Python plugin need not start up (~6 ms) for it
    /// each run, hourly ones included.
    last_audience: Mutex<Option<(String, api::Audience)>>,
}

/// The binary header of a component (as opposed to a core module).
const COMPONENT_LAYER: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
const WASM_MAGIC: &[u8] = b"\0asm";

impl PluginEngine {
    /// Loads and checks a plugin file.
    pub fn load(self: &Arc<Self>, path: &Path) -> Result<LoadedPlugin, PluginRejected> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| PluginRejected { file: file.clone(), reason: format!("cannot be read: {e}") })?;
        self.load_bytes(&file, &bytes)
    }

    /// Loads and checks a plugin from its bytes; `source` names it in errors.
    pub fn load_bytes(self: &Arc<Self>, source: &str, bytes: &[u8]) -> Result<LoadedPlugin, PluginRejected> {
        let reject = |reason: String| PluginRejected { file: source.to_string(), reason };
        if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
            return Err(reject("is not a WebAssembly file".into()));
        }
        if bytes[4..8] != COMPONENT_LAYER {
            return Err(reject(
                "is a core WebAssembly module, not a component; build it for wasm32-wasip2 (or with componentize-py / componentize-js)".into(),
            ));
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| reject(format!("does not compile: {e:#}")))?;
        self.finish(source, component)
    }

    /// Compiles a plugin to native code once, for [`PluginEngine::load_precompiled`].
    pub fn precompile(&self, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        self.engine.precompile_component(bytes).map_err(|e| anyhow::anyhow!("{e:#}"))
    }

    /// Loads a plugin compiled earlier by this engine — milliseconds, where
    /// compiling a 15 MB Python or JavaScript component takes seconds. An
    /// artifact from another wasmtime version or configuration is refused by
    /// wasmtime; then `wasm` is compiled afresh. The bool says whether the
    /// artifact was used.
    pub fn load_precompiled(
        self: &Arc<Self>,
        source: &str,
        wasm: &[u8],
        compiled: &[u8],
    ) -> Result<(LoadedPlugin, bool), PluginRejected> {
        // SAFETY: the artifact was produced by `precompile` of this program and
        // kept in the operator's own store; wasmtime checks that it matches
        // this engine's version and configuration before using it.
        match unsafe { Component::deserialize(&self.engine, compiled) } {
            Ok(component) => Ok((self.finish(source, component)?, true)),
            Err(_) => Ok((self.load_bytes(source, wasm)?, false)),
        }
    }

    /// Checks the world and version, links, and reads the manifest.
    fn finish(self: &Arc<Self>, source: &str, component: Component) -> Result<LoadedPlugin, PluginRejected> {
        let reject = |reason: String| PluginRejected { file: source.to_string(), reason };
        let version = self.check_world(&component).map_err(reject)?;
        let exports = StrategyExports::find(&component, version).map_err(reject)?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| reject(format!("cannot be linked: {e:#}")))?;
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
        let (described, _) = self.call(source, 0, describe, size).map_err(|e| reject(e.to_string()))?;
        let described = described.map_err(reject)?;
        let manifest = check_manifest(described, version.as_str()).map_err(reject)?;
        Ok(LoadedPlugin {
            source: source.to_string(),
            manifest,
            engine: self.clone(),
            pre,
            exports,
            last_audience: Mutex::default(),
        })
    }

    /// Reads the API version from the component's exports, before anything
    /// runs, and refuses imports the sandbox does not provide.
    fn check_world(&self, component: &Component) -> Result<ApiVersion, String> {
        let ty = component.component_type();
        let exports: Vec<String> = ty.exports(&self.engine).map(|(name, _)| name.to_string()).collect();
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
            .imports(&self.engine)
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
}

/// Where a component's three functions are, found once per component, and
/// how to call them for its API version.
struct StrategyExports {
    version: ApiVersion,
    describe: ComponentExportIndex,
    audience_for: ComponentExportIndex,
    decide: ComponentExportIndex,
}

type Describe = wasmtime::component::TypedFunc<(), (api::Manifest,)>;
type AudienceFor<A> = wasmtime::component::TypedFunc<(String,), (Result<A, String>,)>;
type Decide<'a> =
    wasmtime::component::TypedFunc<(&'a api::RunContext, &'a [api::Member]), (Result<Vec<api::Touch>, String>,)>;

impl StrategyExports {
    fn find(component: &Component, version: ApiVersion) -> Result<Self, String> {
        let interface = format!("{}@{}", api::STRATEGY_INTERFACE, version.as_str());
        let missing = |what: &str| format!("does not implement the strategy world: it has no {what}");
        let strategy =
            component.get_export_index(None, &interface).ok_or_else(|| missing(&format!("`{interface}`")))?;
        let function = |name: &str| {
            component
                .get_export_index(Some(&strategy), name)
                .ok_or_else(|| missing(&format!("function `{name}` in `{interface}`")))
        };
        Ok(StrategyExports {
            version,
            describe: function("describe")?,
            audience_for: function("audience-for")?,
            decide: function("decide")?,
        })
    }

    /// Checks every function's types against its version's, naming what differs.
    fn check_signatures(&self, store: &mut Store<SandboxState>, instance: &Instance) -> wasmtime::Result<()> {
        let _: Describe = instance.get_typed_func(&mut *store, self.describe)?;
        match self.version {
            ApiVersion::V0_1 => {
                let _: AudienceFor<api::v0_1::Audience> = instance.get_typed_func(&mut *store, self.audience_for)?;
            }
            ApiVersion::V0_2 => {
                let _: AudienceFor<api::Audience> = instance.get_typed_func(&mut *store, self.audience_for)?;
            }
        }
        let _: Decide<'_> = instance.get_typed_func(&mut *store, self.decide)?;
        Ok(())
    }

    fn describe(&self, store: &mut Store<SandboxState>, instance: &Instance) -> wasmtime::Result<api::Manifest> {
        let describe: Describe = instance.get_typed_func(&mut *store, self.describe)?;
        Ok(describe.call(store, ())?.0)
    }

    fn audience_for(
        &self,
        store: &mut Store<SandboxState>,
        instance: &Instance,
        config: String,
    ) -> wasmtime::Result<Result<api::Audience, String>> {
        Ok(match self.version {
            ApiVersion::V0_1 => {
                let audience_for: AudienceFor<api::v0_1::Audience> =
                    instance.get_typed_func(&mut *store, self.audience_for)?;
                audience_for.call(store, (config,))?.0.map(api::Audience::from)
            }
            ApiVersion::V0_2 => {
                let audience_for: AudienceFor<api::Audience> =
                    instance.get_typed_func(&mut *store, self.audience_for)?;
                audience_for.call(store, (config,))?.0
            }
        })
    }

    fn decide(
        &self,
        store: &mut Store<SandboxState>,
        instance: &Instance,
        context: &api::RunContext,
        members: &[api::Member],
    ) -> wasmtime::Result<Result<Vec<api::Touch>, String>> {
        let decide: Decide<'_> = instance.get_typed_func(&mut *store, self.decide)?;
        Ok(decide.call(store, (context, members))?.0)
    }
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

impl LoadedPlugin {
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    /// The sandbox limits its calls and answers are held to.
    pub fn limits(&self) -> &super::SandboxLimits {
        &self.engine.limits
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
        let (result, stats) = self.engine.call(
            &self.label(),
            0,
            |store| {
                let instance = self.pre.instantiate(&mut *store)?;
                self.exports.audience_for(store, &instance, config)
            },
            |r| r.as_ref().map_or_else(String::len, contract::audience_size),
        )?;
        let audience = result.map_err(|message| self.returned(&message))?;
        contract::check_audience(&audience, &self.engine.limits)
            .map_err(|message| PluginError::AudienceLimit { plugin: self.label(), message })?;
        Ok((audience, stats))
    }

    /// Decides one batch. The run instant is also what WASI clocks answer.
    pub fn decide(
        &self,
        context: &api::RunContext,
        members: &[api::Member],
    ) -> Result<(Vec<api::Touch>, CallStats), PluginError> {
        let (result, stats) = self.engine.call(
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
