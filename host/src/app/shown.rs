//! How plugins, the audit log and the outbox are shown to operators: one
//! JSON shape each, which the admin API answers with and the CLI prints
//! from, whether it read the store itself or asked the service holding it.

use serde_json::{json, Value};

use super::App;
use crate::registry::effective_config;
use crate::store::{AuditEntry, OutboxItem, PluginEntry};
use crate::strategy::Off;

impl App {
    /// An installed plugin in a list: `enabled` is whether it runs (the
    /// store's flag, unless canvas.toml switches it off), `off` why not;
    /// `schedule` is the one it runs on (canvas.toml's, else the manifest's).
    pub fn plugin_summary(&self, entry: &PluginEntry) -> Value {
        let active = entry.active_version();
        let settings = self.settings(&entry.id);
        let off = Off::of_installed(entry.enabled, &settings);
        json!({
            "id": entry.id,
            "name": active.name,
            "version": active.version,
            "api_version": active.api_version,
            "sha256": active.sha256,
            "enabled": off.is_none(),
            "off": off.map(|why| why.to_string()),
            "schedule": settings.schedule.unwrap_or_else(|| active.schedule.clone()),
            "versions": entry.versions.len(),
        })
    }

    /// An installed plugin in full: its summary, description, the config
    /// by layer (the manifest's defaults, the operator's keys, what runs) and
    /// every version kept.
    pub fn plugin_details(&self, entry: &PluginEntry) -> Value {
        let active = entry.active_version();
        let effective = effective_config(&active.default_config, &self.settings(&entry.id), &entry.config);
        let summary = self.plugin_summary(entry);
        json!({
            "schedule": summary["schedule"],
            "plugin": summary,
            "description": active.description,
            "default_config": active.default_config,
            "config": entry.config,
            "effective_config": effective,
            "versions": entry.versions,
            "active": entry.active,
            "previously_active": entry.previously_active,
        })
    }

    /// An operator's change, its instant in the brand's time zone.
    pub fn audit_shown(&self, e: &AuditEntry) -> Value {
        json!({ "at": self.calendar().format(e.at), "actor": e.actor, "action": e.action, "target": e.target,
                "before": e.before, "after": e.after })
    }

    /// An outbox entry: its key, state, attempts, when it is due, and why
    /// its last attempt failed.
    pub fn outbox_item_shown(&self, i: &OutboxItem) -> Value {
        json!({ "key": i.key, "state": i.state.as_str(), "channel": i.channel, "attempts": i.attempts,
                "due_at": self.calendar().format(i.due_at), "last_error": i.last_error })
    }
}
