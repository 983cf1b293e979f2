//! Strategy ids in the canvas config must name plugins that are there: a
//! mistyped `[strategies.birthday-tierd]` would otherwise leave its budget
//! or holdout silently unapplied, and a mistyped `priority` entry would rank
//! nothing. Checked wherever strategies are loaded for a run (`canvas run`,
//! `canvas serve` at start, `canvas simulate`), against the plugins there.

use super::App;
use crate::governance::GovernancePolicy;
use crate::strategy::Loaded;

/// A strategy id in the canvas config that no plugin has.
#[derive(Debug, thiserror::Error)]
#[error("canvas config {key}: no plugin has the id `{id}`{hint}; there are: {known}")]
pub struct UnknownStrategyId {
    /// Where it is: `[strategies.<id>]`, `governance.priority` or `governance.exempt_from_caps`.
    pub key: String,
    /// The id as written.
    pub id: String,
    /// ", did you mean `…`?" when a known id is close.
    hint: String,
    /// The ids there are, comma-separated.
    known: String,
}

impl App {
    /// Every strategy id the operator wrote in the config names a plugin of
    /// `loaded` (running or not). The shipped defaults of `priority` and
    /// `exempt_from_caps` name every shipped strategy, installed or not, so
    /// they are checked only once the operator sets them.
    pub fn check_strategy_ids(&self, loaded: &Loaded) -> Result<(), UnknownStrategyId> {
        let known = loaded.known_ids();
        let defaults = GovernancePolicy::default();
        let governance = &self.config.governance;
        let mut written: Vec<(String, &str)> =
            self.config.strategies.keys().map(|id| (format!("[strategies.{id}]"), id.as_str())).collect();
        if governance.priority != defaults.priority {
            written.extend(governance.priority.iter().map(|id| ("governance.priority".to_string(), id.as_str())));
        }
        if governance.exempt_from_caps != defaults.exempt_from_caps {
            let exempt = governance.exempt_from_caps.iter();
            written.extend(exempt.map(|id| ("governance.exempt_from_caps".to_string(), id.as_str())));
        }
        match written.into_iter().find(|(_, id)| !known.contains(id)) {
            None => Ok(()),
            Some((key, id)) => {
                let closest = known.iter().min_by_key(|k| strsim::levenshtein(k, id));
                let hint = match closest {
                    Some(k) if strsim::levenshtein(k, id) <= 3 => format!(", did you mean `{k}`?"),
                    _ => String::new(),
                };
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                Err(UnknownStrategyId { key, id: id.to_string(), hint, known })
            }
        }
    }
}
