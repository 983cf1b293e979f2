//! The plugin lifecycle where it is kept: in the store this command opened,
//! or, while `canvas serve` holds the store, through the service's API
//! (`reach`). Each operation answers the same JSON either way (the shapes
//! of `canvas::app::shown`), so `plugin.rs` prints one way.

use serde_json::{Map, Value};

use canvas::app::App;
use canvas::model::now_millis;
use canvas::registry::Installed;
use canvas::store::Store;

use crate::common::cli_actor;
use crate::reach::{Reach, ServiceClient};

/// The installed plugins, in the store or through the service. One value
/// per command, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Plugins {
    Store { app: App, store: Store },
    Service(ServiceClient),
}

impl Plugins {
    pub fn new(reach: Reach, app: impl FnOnce() -> anyhow::Result<App>) -> anyhow::Result<Plugins> {
        Ok(match reach {
            Reach::Store(store) => Plugins::Store { app: app()?, store },
            Reach::Service(service) => Plugins::Service(service),
        })
    }

    /// Checks, pins and compiles a build; `file` names it in errors.
    pub fn install(&self, file: &str, bytes: Vec<u8>) -> anyhow::Result<Installed> {
        match self {
            Plugins::Store { app, store } => {
                let registry = app.registry(store).acting_as(&cli_actor());
                Ok(registry.install(file, &bytes, &|id| app.settings(id), now_millis())?)
            }
            Plugins::Service(service) => {
                let answer = service.upload("/api/v1/plugins", bytes).map_err(|e| e.context(file.to_string()))?;
                Ok(serde_json::from_value(answer)?)
            }
        }
    }

    /// Every installed plugin's summary.
    pub fn list(&self) -> anyhow::Result<Vec<Value>> {
        match self {
            Plugins::Store { app, store } => {
                Ok(app.registry(store).list()?.iter().map(|e| app.plugin_summary(e)).collect())
            }
            Plugins::Service(service) => Ok(serde_json::from_value(service.get("/api/v1/plugins")?)?),
        }
    }

    /// One plugin in full.
    pub fn show(&self, id: &str) -> anyhow::Result<Value> {
        match self {
            Plugins::Store { app, store } => Ok(app.plugin_details(&app.registry(store).get(id)?)),
            Plugins::Service(service) => service.get(&format!("/api/v1/plugins/{id}")),
        }
    }

    /// Enables or disables it; its summary after.
    pub fn set_enabled(&self, id: &str, enabled: bool) -> anyhow::Result<Value> {
        match self {
            Plugins::Store { app, store } => {
                let registry = app.registry(store).acting_as(&cli_actor());
                Ok(app.plugin_summary(&registry.set_enabled(id, enabled, &app.settings(id), now_millis())?))
            }
            Plugins::Service(service) => {
                let action = if enabled { "enable" } else { "disable" };
                service.post(&format!("/api/v1/plugins/{id}/{action}"), None)
            }
        }
    }

    /// The operator's config keys.
    pub fn config(&self, id: &str) -> anyhow::Result<Map<String, Value>> {
        match self.show(id)?.get("config") {
            Some(Value::Object(keys)) => Ok(keys.clone()),
            _ => anyhow::bail!("{id}: the service did not answer its config keys"),
        }
    }

    /// Replaces the operator's config keys, checked by the plugin; the effective config after.
    pub fn set_config(&self, id: &str, keys: Map<String, Value>) -> anyhow::Result<Value> {
        match self {
            Plugins::Store { app, store } => {
                let registry = app.registry(store).acting_as(&cli_actor());
                Ok(registry.set_config(id, keys, &app.settings(id), now_millis())?)
            }
            Plugins::Service(service) => {
                let answer = service.put(&format!("/api/v1/plugins/{id}/config"), &Value::Object(keys))?;
                Ok(answer["effective_config"].clone())
            }
        }
    }

    /// Makes the previously active build active again; the summary after.
    pub fn rollback(&self, id: &str) -> anyhow::Result<Value> {
        match self {
            Plugins::Store { app, store } => {
                let registry = app.registry(store).acting_as(&cli_actor());
                Ok(app.plugin_summary(&registry.rollback(id, &app.settings(id), now_millis())?))
            }
            Plugins::Service(service) => service.post(&format!("/api/v1/plugins/{id}/rollback"), None),
        }
    }
}
