//! `[sandbox]`: what a plugin may use in a call, ask of the host and hand
//! back — every limit with its default, in one place. docs/plugins.md lists
//! them for authors and operators.

use serde::{Deserialize, Serialize};

/// What a plugin may use and hand back (`[sandbox]` in the canvas config).
/// The first four bound every call — `describe`, `audience-for` (the config
/// check), `decide` — at install, at load and in runs; the rest bound what a
/// plugin may ask of the host (its audience) and hand back (its touches).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxLimits {
    /// Fuel units (about one per WebAssembly instruction).
    pub fuel: u64,
    /// Linear memory across all of the component's memories, in MiB.
    pub memory_mib: u64,
    /// Wall-clock backstop per call, in milliseconds.
    pub deadline_ms: u64,
    /// The most a call may return, in KiB: every string of every touch (or
    /// of the audience, or the manifest) plus a fixed cost per record.
    pub output_kib: u64,
    /// Members of one run a plugin may fail on (each found by splitting the
    /// failing batch) before the run itself is failed.
    pub failed_members: u64,
    /// Clauses in an audience.
    pub audience_clauses: u64,
    /// Conditions in an audience, over all its clauses.
    pub audience_conditions: u64,
    /// Order windows an audience asks facts for.
    pub order_windows: u64,
    /// Event kinds an audience asks to be given.
    pub event_kinds: u64,
    /// How far back any lookback of an audience may reach, in days.
    pub lookback_days: u64,
    /// The largest benefit a touch may carry, in yuan.
    pub benefit_max_yuan: u64,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            fuel: 2_000_000_000,
            memory_mib: 256,
            deadline_ms: 10_000,
            output_kib: 4_096,
            failed_members: 10,
            audience_clauses: 128,
            audience_conditions: 1_024,
            order_windows: 16,
            event_kinds: 32,
            lookback_days: 36_600,
            benefit_max_yuan: 10_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_table_replaces_the_defaults_it_names_and_keeps_the_others() {
        let limits: SandboxLimits = toml::from_str("fuel = 5\nfailed_members = 0\n").unwrap();
        assert_eq!(limits, SandboxLimits { fuel: 5, failed_members: 0, ..SandboxLimits::default() });
        assert_eq!(toml::from_str::<SandboxLimits>("").unwrap(), SandboxLimits::default());
    }

    #[test]
    fn a_misspelt_or_negative_limit_is_refused_naming_it() {
        let typo = toml::from_str::<SandboxLimits>("memory_mb = 512").unwrap_err().to_string();
        assert!(typo.contains("unknown field `memory_mb`"), "{typo}");
        let negative = toml::from_str::<SandboxLimits>("deadline_ms = -1").unwrap_err().to_string();
        assert!(negative.contains("deadline_ms = -1"), "{negative}");
    }

    /// The plugin guide is where authors and operators read the limits: a
    /// default changed here and not there fails this test.
    #[test]
    fn the_plugin_guide_gives_every_limit_with_its_default() {
        let guide = include_str!("../../../docs/plugins.md");
        let defaults = toml::Table::try_from(SandboxLimits::default()).unwrap();
        for (key, value) in &defaults {
            let row = guide.lines().find(|line| line.starts_with(&format!("| `{key}` |")));
            let row = row.unwrap_or_else(|| panic!("docs/plugins.md has no row for `{key}`"));
            let default = row.split('|').nth(2).expect("a default column").trim();
            let digits: String =
                default.chars().take_while(|c| c.is_ascii_digit() || *c == ',').filter(|&c| c != ',').collect();
            assert_eq!(digits, value.to_string(), "{row}");
        }
        assert_eq!(defaults.len(), 11, "every field of SandboxLimits");
    }
}
