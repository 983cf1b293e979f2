//! A strategy: a checked plugin with the operator's settings laid over its
//! defaults — the config it runs with (checked by the plugin itself) and its
//! schedule — and the settings as the canvas config states them.

use serde::{Deserialize, Serialize};

use crate::audience::{decision_days_read, event_kinds_read};
use crate::governance::OnCap;
use crate::member_base::KeptKinds;
use crate::runtime::{LoadedPlugin, PluginError, PluginRejected};
use crate::schedule::Schedule;

/// A strategy's section of the canvas config, `[strategies.<id>]`; every
/// key optional, so an absent section means the plugin as it ships.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrategySettings {
    /// `false` switches the strategy off whatever the store says (see
    /// [`Off::SwitchedOff`]); `true`, the default, leaves it to the store:
    /// an installed plugin runs once enabled there, a folder's always.
    pub enabled: bool,
    /// A cron expression replacing the plugin's own schedule.
    pub schedule: Option<String>,
    /// Keys laid over the plugin's default config.
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Governance for this strategy; `[governance]` gives the defaults.
    pub holdout_percent: Option<f64>,
    /// Whether a touch a cap stops is dropped or deferred; `[governance]` gives the default.
    pub on_cap: Option<OnCap>,
    /// How long a deferred touch may wait, in hours; `[governance]` gives the default.
    pub max_defer_hours: Option<u32>,
    /// Yuan of coupons a day; no cap when absent.
    pub coupon_budget_per_day: Option<f64>,
    /// Channels to use, in order, when the member cannot be reached on the
    /// touch's own (deleted the brand on WeCom, unsubscribed): the first
    /// reachable one carries it. None: such a touch is suppressed.
    pub fallback_channels: Vec<String>,
    /// Whether a staff task for a guide whose day is full is deferred to a
    /// day with room or dropped; `[governance]` gives the default.
    pub on_guide_full: Option<OnCap>,
    /// Where in the member's life cycle the strategy works, which orders
    /// the console's canvas; none: it comes after those with one.
    pub stage: Option<Stage>,
}

/// A stage of the member's life cycle, in the canvas's order
/// (`[strategies.<id>] stage = "retention"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Winning a first purchase (拉新促活).
    Activation,
    /// Keeping members from lapsing, and winning them back.
    Retention,
    /// A purchase again (复购).
    Repurchase,
    /// A bigger basket or a higher level.
    Upsell,
    /// Members bringing others (裂变).
    Referral,
    /// Service messages (a coupon about to lapse).
    Service,
}

impl Stage {
    /// Every stage, in the canvas's order.
    pub const ALL: [Stage; 6] =
        [Stage::Activation, Stage::Retention, Stage::Repurchase, Stage::Upsell, Stage::Referral, Stage::Service];

    /// The stage as canvas.toml and the API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Activation => "activation",
            Stage::Retention => "retention",
            Stage::Repurchase => "repurchase",
            Stage::Upsell => "upsell",
            Stage::Referral => "referral",
            Stage::Service => "service",
        }
    }
}

impl Default for StrategySettings {
    fn default() -> Self {
        StrategySettings {
            enabled: true,
            schedule: None,
            config: serde_json::Map::new(),
            holdout_percent: None,
            on_cap: None,
            max_defer_hours: None,
            coupon_budget_per_day: None,
            fallback_channels: Vec::new(),
            on_guide_full: None,
            stage: None,
        }
    }
}

/// A strategy ready to run: a checked plugin, its effective config and schedule.
pub struct Strategy {
    /// The checked, compiled plugin.
    pub plugin: LoadedPlugin,
    /// The effective config (the plugin's defaults with the operator's keys
    /// laid over them), which the plugin has accepted.
    pub config: serde_json::Value,
    /// When it runs: the operator's cron if set, else the plugin's own.
    pub schedule: Schedule,
    /// The event kinds its audience reads from the member base, as the
    /// plugin asked when it was set up ([`crate::audience::event_kinds_read`]).
    pub event_kinds: Vec<String>,
    /// How many days back its audience needs every decision
    /// ([`crate::audience::decision_days_read`]): compaction keeps them.
    pub decision_days: u32,
}

/// Why a strategy cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    /// The component itself was refused.
    #[error(transparent)]
    Rejected(#[from] PluginRejected),
    /// The plugin refused the effective config (its `audience-for` failed on it).
    #[error("strategies.{id}.config is rejected by the plugin: {reason}")]
    BadConfig {
        /// The strategy, as `[strategies.<id>]` names it.
        id: String,
        /// The plugin's message, or how the call failed.
        reason: String,
    },
    /// The operator's `schedule` is not a cron expression the host reads.
    #[error("strategies.{id}.schedule: {reason}")]
    BadSchedule {
        /// The strategy, as `[strategies.<id>]` names it.
        id: String,
        /// What is wrong with the expression.
        reason: String,
    },
}

impl Strategy {
    /// Lays the operator's settings over the plugin's defaults and has the
    /// plugin check the result.
    pub fn new(plugin: LoadedPlugin, settings: &StrategySettings) -> Result<Self, StrategyError> {
        let id = plugin.id().to_string();
        let config = merge_config(&plugin.manifest.default_config, &settings.config);
        let audience = plugin.audience(&config).map_err(|e| {
            let reason = match e {
                PluginError::Returned { message, .. } => message,
                other => other.to_string(),
            };
            StrategyError::BadConfig { id: id.clone(), reason }
        })?;
        let mut event_kinds: Vec<String> = event_kinds_read(&audience).map(str::to_string).collect();
        event_kinds.sort_unstable();
        event_kinds.dedup();
        let decision_days = decision_days_read(&audience);
        let schedule = match &settings.schedule {
            Some(expression) => {
                Schedule::parse(expression).map_err(|reason| StrategyError::BadSchedule { id, reason })?
            }
            None => plugin.manifest.schedule.clone(),
        };
        Ok(Strategy { plugin, config, schedule, event_kinds, decision_days })
    }

    /// The plugin's id, which names the strategy everywhere (config, decisions, reports).
    pub fn id(&self) -> &str {
        self.plugin.id()
    }
}

/// Strategies set up for a command, and what was refused on the way.
pub struct Loaded {
    /// The strategies ready to run, in the order their plugins were found.
    pub strategies: Vec<Strategy>,
    /// The plugins there that do not run, and why.
    pub off: Vec<(String, Off)>,
    /// Plugin files refused, and strategies whose config the plugin rejected.
    pub refused: Vec<String>,
}

/// The event kinds a member base for `strategies` keeps: the host's own
/// and those their audiences read.
pub fn kept_kinds<'a>(strategies: impl IntoIterator<Item = &'a Strategy>) -> KeptKinds {
    KeptKinds::host_and(strategies.into_iter().flat_map(|s| s.event_kinds.iter().map(String::as_str)))
}

impl Loaded {
    /// Sets `plugin` up with `settings` as a strategy that runs, or, if the
    /// plugin refuses its config, records it as refused.
    pub fn add(&mut self, plugin: LoadedPlugin, settings: &StrategySettings) {
        let id = plugin.id().to_string();
        match Strategy::new(plugin, settings) {
            Ok(strategy) => self.strategies.push(strategy),
            Err(e) => self.refuse(id, e.to_string()),
        }
    }

    /// A plugin `id` that is there but cannot run, and why.
    pub fn refuse(&mut self, id: String, reason: String) {
        self.refused.push(reason.clone());
        self.off.push((id, Off::Refused(reason)));
    }

    /// Every plugin id there, running or not.
    pub fn known_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> =
            self.strategies.iter().map(Strategy::id).chain(self.off.iter().map(|(id, _)| id.as_str())).collect();
        ids.sort_unstable();
        ids
    }
}

/// Why a plugin that is there does not run. The one rule: a strategy runs
/// when its plugin is installed and enabled in the store and canvas.toml
/// does not switch it off; from a plugins folder (development mode),
/// unless canvas.toml switches it off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Off {
    /// Installed plugins start disabled; the operator enables them.
    Disabled,
    /// `[strategies.<id>] enabled = false` in canvas.toml.
    SwitchedOff,
    /// The plugin refuses the effective config (or its schedule is not one).
    Refused(String),
}

impl Off {
    /// Why an installed plugin does not run, by the one rule; `None`: it runs
    /// (if the plugin accepts its config).
    pub fn of_installed(enabled_in_store: bool, settings: &StrategySettings) -> Option<Off> {
        match (enabled_in_store, settings.enabled) {
            (false, _) => Some(Off::Disabled),
            (true, false) => Some(Off::SwitchedOff),
            (true, true) => None,
        }
    }
}

impl std::fmt::Display for Off {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Off::Disabled => write!(f, "disabled (`canvas plugin enable` or POST /api/v1/plugins/<id>/enable)"),
            Off::SwitchedOff => write!(f, "switched off in canvas.toml (`enabled = false`)"),
            Off::Refused(reason) => write!(f, "cannot run: {reason}"),
        }
    }
}

/// The effective config: `overrides` laid over `defaults`, objects merged key
/// by key, anything else replaced.
pub fn merge_config(
    defaults: &serde_json::Value,
    overrides: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    let mut merged = defaults.clone();
    if let serde_json::Value::Object(target) = &mut merged {
        for (key, value) in overrides {
            match (target.get_mut(key), value) {
                (Some(existing @ serde_json::Value::Object(_)), serde_json::Value::Object(inner)) => {
                    *existing = merge_config(existing, inner);
                }
                _ => {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stage_is_one_of_the_six_and_a_wrong_one_is_refused_naming_them() {
        let read = |text: &str| toml::from_str::<StrategySettings>(text);
        assert_eq!(read("stage = \"retention\"").unwrap().stage, Some(Stage::Retention));
        assert_eq!(read("").unwrap().stage, None);
        let error = read("stage = \"loyalty\"").unwrap_err().to_string();
        assert!(error.contains("loyalty") && error.contains("activation") && error.contains("service"), "{error}");
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["activation", "retention", "repurchase", "upsell", "referral", "service"]);
    }

    #[test]
    fn operator_keys_are_laid_over_the_defaults() {
        let defaults = json!({"after_days": 90, "benefit": {"kind": "gift", "value": 30}, "channel": "wecom"});
        let overrides = json!({"after_days": 60, "benefit": {"value": 50}});
        let merged = merge_config(&defaults, overrides.as_object().unwrap());
        assert_eq!(merged, json!({"after_days": 60, "benefit": {"kind": "gift", "value": 50}, "channel": "wecom"}));
    }
}
