//! The touch policy operators configure under `[governance]` (and per
//! strategy under `[strategies.<id>]`). Every default lives here.

use std::collections::BTreeMap;

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the host applies to every proposed touch before anything leaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GovernancePolicy {
    /// Strategy ids, highest priority first, for arbitration. Strategies not
    /// listed rank after these, by id.
    pub priority: Vec<String>,
    pub fatigue: FatiguePolicy,
    /// Service messages (e.g. a coupon the member already holds): fatigue caps
    /// do not hold them back, though they count toward the caps; the WeCom
    /// limit and quiet hours still apply.
    pub exempt_from_caps: Vec<String>,
    pub wecom_limit: WecomLimit,
    pub quiet_hours: QuietHours,
    /// Per-strategy defaults; `[strategies.<id>]` may override each.
    pub holdout_percent: f64,
    pub on_cap: OnCap,
    pub max_defer_hours: u32,
}

impl Default for GovernancePolicy {
    fn default() -> Self {
        GovernancePolicy {
            priority: [
                "birthday-tiered",
                "first-purchase-nudge",
                "second-purchase-nudge",
                "dormant-recall",
                "category-recommendation",
                "group-buy-referral",
            ]
            .map(String::from)
            .to_vec(),
            fatigue: FatiguePolicy::default(),
            exempt_from_caps: vec!["coupon-reminder".to_string()],
            wecom_limit: WecomLimit::default(),
            quiet_hours: QuietHours::default(),
            holdout_percent: 10.0,
            on_cap: OnCap::Defer,
            max_defer_hours: 48,
        }
    }
}

/// Caps per member across all strategies. Windows are rolling, in hours: a
/// touch counts against a window of W hours if it is sent less than W hours
/// before (or after) the one being checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FatiguePolicy {
    /// At most this many touches over all channels in any `window_hours`.
    pub max_touches: u32,
    pub window_hours: u32,
    /// At least this many hours between two touches to one member.
    pub min_gap_hours: u32,
    /// Per channel caps, AND-ed with the above.
    pub channels: BTreeMap<String, ChannelCap>,
}

impl Default for FatiguePolicy {
    fn default() -> Self {
        FatiguePolicy {
            max_touches: 2,
            window_hours: 7 * 24,
            min_gap_hours: 48,
            channels: BTreeMap::from([("wecom".to_string(), ChannelCap { max_touches: 4, window_hours: 30 * 24 })]),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelCap {
    pub max_touches: u32,
    pub window_hours: u32,
}

/// WeCom's own limit on bulk messages a customer receives. A touch the
/// platform would refuse is not sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WecomLimit {
    pub per: WecomPeriod,
    /// The channels that are WeCom bulk messages (staff tasks on them too).
    pub channels: Vec<String>,
}

impl Default for WecomLimit {
    fn default() -> Self {
        WecomLimit { per: WecomPeriod::Month, channels: vec!["wecom".to_string()] }
    }
}

/// `month`: as many per calendar month as the month has days (the platform's
/// default); `week`: 7 per calendar week (Monday to Sunday); `day`: 1 per
/// day — the two lower settings an administrator can choose. Calendar
/// periods are the brand's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WecomPeriod {
    Month,
    Week,
    Day,
}

/// No touches at night, in the member's own time zone (the brand's when
/// the member has none). A touch falling inside is deferred to the end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuietHours {
    pub enabled: bool,
    #[serde(serialize_with = "hhmm_out", deserialize_with = "hhmm_in")]
    pub start: NaiveTime,
    #[serde(serialize_with = "hhmm_out", deserialize_with = "hhmm_in")]
    pub end: NaiveTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours {
            enabled: true,
            start: NaiveTime::from_hms_opt(21, 0, 0).expect("valid"),
            end: NaiveTime::from_hms_opt(9, 0, 0).expect("valid"),
        }
    }
}

fn hhmm_in<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
    let text = String::deserialize(d)?;
    NaiveTime::parse_from_str(&text, "%H:%M")
        .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a time of day HH:MM")))
}

fn hhmm_out<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.format("%H:%M").to_string())
}

/// What happens to a touch a cap stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnCap {
    /// Suppressed.
    Drop,
    /// Sent at the first moment the caps allow, if within `max_defer_hours`; else suppressed.
    Defer,
}

/// One strategy's governance, the policy's defaults with its own overrides.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyRules {
    pub holdout_percent: f64,
    pub on_cap: OnCap,
    pub max_defer_hours: u32,
    /// Fen of coupon value a day, if capped.
    pub coupon_budget_per_day: Option<i64>,
}

impl GovernancePolicy {
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=100.0).contains(&self.holdout_percent) {
            return Err(format!("governance.holdout_percent {} is not within 0–100", self.holdout_percent));
        }
        if self.fatigue.window_hours == 0 || self.fatigue.channels.values().any(|c| c.window_hours == 0) {
            return Err("governance.fatigue windows must be at least 1 hour".to_string());
        }
        Ok(())
    }

    /// The rank of a strategy in arbitration: lower wins.
    pub fn rank<'s>(&self, strategy: &'s str) -> (usize, &'s str) {
        let listed = self.priority.iter().position(|id| id == strategy).unwrap_or(self.priority.len());
        (listed, strategy)
    }
}
