//! The operator's canvas config (TOML): the brand's time zone, sandbox
//! limits, and per strategy whether it runs, when, and with which config.
//! Every default lives here; an unknown key is an error that names it.
//!
//! ```toml
//! timezone = "Asia/Shanghai"
//! compile_cache = "/var/cache/canvas"   # compiled plugins, kept across commands (default ~/.cache/canvas/compiled)
//!
//! [run]
//! batch_size = 500
//! workers = 0                      # batches decided at once; 0 = one per core
//! max_ahead_hours = 24             # runs asked for further ahead of the clock need force
//!
//! [sandbox]
//! fuel = 2_000_000_000
//! memory_mib = 256
//! deadline_ms = 10_000
//! output_kib = 4096
//! failed_members = 10              # and the audience and touch limits: runtime::SandboxLimits
//!
//! [report]                         # windows after a decision, and pricing a lift
//! attribution_days = 7
//! margin = 0.6                     # share of an order's value that pays for benefits
//!
//! [results]                        # live results (canvas results, GET /api/v1/results)
//! harm_days = 7                    # a deletion or unsubscribe this soon after a touch is its harm
//!
//! [governance]                     # see governance::policy for every key
//! holdout_percent = 10
//!
//! [dispatch.channels.wecom]
//! kind = "webhook"
//! url = "https://gateway.example/touches"
//! rate_per_minute = 10_000         # WeCom's limit, its default; other channels unlimited unless set
//!
//! [strategies.birthday-tiered]
//! enabled = true                   # false switches it off whatever the store says
//! schedule = "0 10 1 * *"          # optional; the plugin's own by default
//! config = { levels = { 1 = { kind = "coupon", value = 30 } } }
//! on_cap = "defer"                 # governance overrides for this strategy
//! coupon_budget_per_day = 20000    # yuan
//! fallback_channels = ["sms"]      # when WeCom cannot reach the member
//! on_guide_full = "defer"          # or "drop": a staff task for a guide whose day is full
//! stage = "retention"              # the console's canvas: activation, retention, repurchase, upsell, referral, service
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::calendar::{BrandCalendar, DEFAULT_TIMEZONE};
use crate::dispatch::DispatchConfig;
use crate::governance::{GovernancePolicy, Governor, StrategyRules};
use crate::results::ResultsSettings;
use crate::runner::RunSettings;
use crate::runtime::SandboxLimits;
use crate::schedule::Schedule;
use crate::serve::settings::ServeSettings;
use crate::strategy::StrategySettings;
use crate::uplift::ReportSettings;

/// The operator's canvas.toml: every key optional (the defaults are in
/// `Default`), an unknown key an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CanvasConfig {
    /// The brand's IANA time zone; it decides what a day is.
    pub timezone: String,
    /// Where the operator's store lives (`canvas import`, runs).
    pub store: PathBuf,
    /// The folder of `.wasm` plugins real runs load (default: the ones `make demo` built).
    pub plugins: Option<PathBuf>,
    /// Where plugins loaded from files are kept compiled, so a Python or
    /// JavaScript component compiles once, not at every command. Off when
    /// absent (`canvas plugin test` then uses ~/.cache/canvas/compiled).
    /// Installed plugins are always kept compiled in the store.
    pub compile_cache: Option<PathBuf>,
    /// `[run]`: how many members a plugin call gets, and how many calls run at once.
    pub run: RunSettings,
    /// `[sandbox]`: what a plugin call may use (fuel, memory, time, output).
    pub sandbox: SandboxLimits,
    /// `[governance]`: arbitration, holdouts, quiet hours, caps, and the per-strategy defaults.
    pub governance: GovernancePolicy,
    /// `[dispatch]`: where touches go by channel, and retries.
    pub dispatch: DispatchConfig,
    /// `[report]`: the attribution window and the margin reports price lifts with.
    pub report: ReportSettings,
    /// `[results]`: live results (the window is `[report] attribution_days`).
    pub results: ResultsSettings,
    /// `canvas serve`: listen address, token, catching up.
    pub serve: ServeSettings,
    /// Per strategy id.
    pub strategies: BTreeMap<String, StrategySettings>,
}

impl Default for CanvasConfig {
    fn default() -> Self {
        CanvasConfig {
            timezone: DEFAULT_TIMEZONE.to_string(),
            store: PathBuf::from("canvas-store"),
            plugins: None,
            compile_cache: None,
            run: RunSettings::default(),
            sandbox: SandboxLimits::default(),
            governance: GovernancePolicy::default(),
            dispatch: DispatchConfig::default(),
            report: ReportSettings::default(),
            results: ResultsSettings::default(),
            serve: ServeSettings::default(),
            strategies: BTreeMap::new(),
        }
    }
}

impl CanvasConfig {
    /// Reads and checks a config file; errors name the file and the line.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config {}", path.display()))
    }

    /// Reads and checks a config from its TOML text (what [`CanvasConfig::load`] does after reading the file).
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let config: CanvasConfig = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        BrandCalendar::named(&self.timezone).map_err(|e| anyhow::anyhow!("timezone: {e}"))?;
        anyhow::ensure!(self.run.batch_size > 0, "run.batch_size must be at least 1");
        // A margin of 0 would make every break-even lift infinite; above 1 is not a margin.
        anyhow::ensure!(
            self.report.margin > 0.0 && self.report.margin <= 1.0,
            "report.margin is {}: it must be more than 0 and at most 1 (0.6 is 60% of an order's value)",
            self.report.margin
        );
        anyhow::ensure!(self.serve.compact_every_days > 0, "serve.compact_every_days must be at least 1");
        self.governance.check().map_err(anyhow::Error::msg)?;
        self.dispatch.check().map_err(anyhow::Error::msg)?;
        for (id, settings) in &self.strategies {
            if let Some(schedule) = &settings.schedule {
                Schedule::parse(schedule).map_err(|e| anyhow::anyhow!("strategies.{id}.schedule: {e}"))?;
            }
            if settings.holdout_percent.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
                anyhow::bail!("strategies.{id}.holdout_percent must be within 0–100");
            }
            if settings.coupon_budget_per_day.is_some_and(|b| b < 0.0) {
                anyhow::bail!("strategies.{id}.coupon_budget_per_day must not be negative");
            }
            if let Some(i) = settings.fallback_channels.iter().position(|c| c.trim().is_empty()) {
                anyhow::bail!("strategies.{id}.fallback_channels[{i}] is empty: name a channel");
            }
        }
        Ok(())
    }

    /// The governor this config describes.
    pub fn governor(&self) -> Governor {
        Governor::new(self.governance.clone(), self.strategy_rules(), self.calendar())
    }

    /// Each configured strategy's governance: its overrides over `[governance]`.
    pub fn strategy_rules(&self) -> HashMap<String, StrategyRules> {
        let g = &self.governance;
        self.strategies
            .iter()
            .map(|(id, s)| {
                let rules = StrategyRules {
                    holdout_percent: s.holdout_percent.unwrap_or(g.holdout_percent),
                    on_cap: s.on_cap.unwrap_or(g.on_cap),
                    max_defer_hours: s.max_defer_hours.unwrap_or(g.max_defer_hours),
                    coupon_budget_per_day: s.coupon_budget_per_day.map(|yuan| (yuan * 100.0).round() as i64),
                    fallback_channels: s.fallback_channels.clone(),
                    on_guide_full: s.on_guide_full.unwrap_or(g.on_guide_full),
                };
                (id.clone(), rules)
            })
            .collect()
    }

    /// The brand's calendar, in `timezone`.
    pub fn calendar(&self) -> BrandCalendar {
        BrandCalendar::named(&self.timezone).expect("checked on load")
    }

    /// The settings of strategy `id`: its `[strategies.<id>]`, or the defaults if there is none.
    pub fn strategy(&self, id: &str) -> StrategySettings {
        self.strategies.get(id).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_typo_is_an_error_naming_the_key() {
        let error = CanvasConfig::parse("timezone = \"Asia/Shanghai\"\n[sandbox]\nfuell = 3\n").unwrap_err();
        assert!(format!("{error:#}").contains("fuell"), "{error:#}");
        let error = CanvasConfig::parse("timezone = \"Asia/Shangai\"").unwrap_err();
        assert!(format!("{error:#}").contains("Asia/Shangai"), "{error:#}");
    }

    #[test]
    fn a_margin_outside_zero_to_one_is_refused_naming_the_key_and_the_limit() {
        assert_eq!(CanvasConfig::parse("[report]\nmargin = 0.45\n").unwrap().report.margin, 0.45);
        assert_eq!(CanvasConfig::default().report.margin, 0.6);
        for bad in ["0", "-0.2", "1.5"] {
            let error = CanvasConfig::parse(&format!("[report]\nmargin = {bad}\n")).unwrap_err();
            let text = format!("{error:#}");
            assert!(text.contains("report.margin") && text.contains("at most 1"), "{text}");
        }
    }

    #[test]
    fn guides_are_configured_under_governance_and_a_fallback_that_is_no_guide_id_is_refused_by_its_key() {
        let config = CanvasConfig::parse(
            "[governance.guides]\ndefault_daily_capacity = 30\nhq_account = \"HQ\"\nstore_fallback = { S01 = \"G0100\" }\n\
             [strategies.first-purchase-nudge]\non_guide_full = \"drop\"\n",
        )
        .unwrap();
        let guides = &config.governance.guides;
        assert_eq!((guides.default_daily_capacity, guides.hq_account.as_deref()), (Some(30), Some("HQ")));
        assert_eq!(guides.store_fallback["S01"], "G0100");
        let rules = config.strategy_rules();
        assert_eq!(rules["first-purchase-nudge"].on_guide_full, crate::governance::OnCap::Drop);
        assert_eq!(CanvasConfig::default().governance.guides, Default::default(), "nothing set by default");

        let refused = |toml: &str| format!("{:#}", CanvasConfig::parse(toml).unwrap_err());
        let empty = refused("[governance.guides]\nstore_fallback = { S01 = \" \" }\n");
        assert!(empty.contains("governance.guides.store_fallback.S01 is empty"), "{empty}");
        let long = refused(&format!("[governance.guides]\nhq_account = \"{}\"\n", "H".repeat(65)));
        assert!(long.contains("governance.guides.hq_account is 65 bytes long; a guide id is at most 64"), "{long}");
        assert!(refused("[governance.guides]\nhq = \"HQ\"\n").contains("hq"), "an unknown key");
    }

    #[test]
    fn strategy_config_is_read_from_toml() {
        let config = CanvasConfig::parse(
            "[strategies.birthday-tiered]\nschedule = \"0 9 1 * *\"\nconfig = { levels = { 1 = { kind = \"coupon\", value = 30 } } }\n",
        )
        .unwrap();
        let settings = config.strategy("birthday-tiered");
        assert!(settings.enabled);
        assert_eq!(settings.config["levels"]["1"]["value"], json!(30));
        assert!(config.strategy("dormant-recall").config.is_empty());
    }
}
