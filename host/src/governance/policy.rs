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
    /// `[governance.fatigue]`: the caps per member over all strategies.
    pub fatigue: FatiguePolicy,
    /// Service messages (e.g. a coupon the member already holds): fatigue caps
    /// do not hold them back, though they count toward the caps; the WeCom
    /// limit and quiet hours still apply.
    pub exempt_from_caps: Vec<String>,
    /// `[governance.wecom_limit]`: the platform's own limit, applied to every strategy.
    pub wecom_limit: WecomLimit,
    /// `[governance.quiet_hours]`: when no touch is sent, in the member's time zone.
    pub quiet_hours: QuietHours,
    /// Percent (0–100) of each strategy's members kept as its control group.
    /// This and the next two are per-strategy defaults; `[strategies.<id>]`
    /// may override each.
    pub holdout_percent: f64,
    /// What becomes of a touch a cap stops.
    pub on_cap: OnCap,
    /// How far past the run instant a deferred touch may be sent; beyond it,
    /// suppressed.
    pub max_defer_hours: u32,
    /// What becomes of a staff task for a guide who has a full day of tasks
    /// (a per-strategy default, like `on_cap`).
    pub on_guide_full: OnCap,
    /// `[governance.guides]`: who takes a left guide's tasks, and how many
    /// tasks a guide takes a day.
    pub guides: GuidesPolicy,
}

impl Default for GovernancePolicy {
    fn default() -> Self {
        GovernancePolicy {
            priority: [
                "birthday-tiered",
                // The member asked in the store for what it lacked.
                "out-of-stock-recovery",
                // A product the member just looked at says more than a
                // first-order reminder that names none.
                "browse-abandon",
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
            on_guide_full: OnCap::Defer,
            guides: GuidesPolicy::default(),
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
    /// The rolling window `max_touches` counts over; at least 1 (checked on load).
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

/// A cap on one channel's touches to a member (`fatigue.channels.<channel>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelCap {
    /// At most this many touches on the channel in any `window_hours`.
    pub max_touches: u32,
    /// The rolling window, in hours; at least 1 (checked on load).
    pub window_hours: u32,
}

/// WeCom's own limit on bulk messages a customer receives. A touch the
/// platform would refuse is not sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WecomLimit {
    /// The calendar period the limit counts over, and with it the limit.
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
    /// As many a calendar month as it has days.
    Month,
    /// 7 a calendar week, Monday to Sunday.
    Week,
    /// 1 a day.
    Day,
}

/// No touches at night, in the member's own time zone (the brand's when
/// the member has none). A touch falling inside is deferred to the end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuietHours {
    /// Off: touches are sent at any hour.
    pub enabled: bool,
    /// When the window opens (`HH:MM` in the config); an `end` earlier than
    /// `start` makes it span midnight, and an equal one makes it empty.
    #[serde(serialize_with = "hhmm_out", deserialize_with = "hhmm_in")]
    pub start: NaiveTime,
    /// When the window closes (`HH:MM`): the time a touch inside it is deferred to.
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

/// Store guides as people (`[governance.guides]`): a staff task for a
/// member whose guide has left goes to the member's store's fallback, else
/// to the brand's HQ account; a guide takes at most so many tasks a day.
/// Without guides.csv every guide is there and takes any number of tasks;
/// a left guide's task goes to the HQ account `HQ` unless one is named (the
/// brand's sink routes it), so no task is lost by default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuidesPolicy {
    /// Staff tasks a guide takes a brand-local day when guides.csv gives
    /// them no `daily_task_capacity` (or does not list them); none: no limit.
    pub default_daily_capacity: Option<u32>,
    /// The guide id of the brand's HQ account, which takes a left guide's
    /// tasks when the member's store has no fallback who is there.
    pub hq_account: Option<String>,
    /// Per store id, the guide who takes the tasks of the store's guides who left.
    pub store_fallback: BTreeMap<String, String>,
}

impl Default for GuidesPolicy {
    fn default() -> Self {
        GuidesPolicy {
            default_daily_capacity: None,
            hq_account: Some(HQ_ACCOUNT.into()),
            store_fallback: BTreeMap::new(),
        }
    }
}

/// The HQ account's guide id unless `[governance.guides] hq_account` names another.
pub const HQ_ACCOUNT: &str = "HQ";

/// What happens to a touch a cap stops (`on_cap`), or to a staff task for
/// a guide whose day is full (`on_guide_full`).
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
    /// Percent (0–100) of the strategy's members in its control group.
    pub holdout_percent: f64,
    /// What becomes of its touches a cap stops.
    pub on_cap: OnCap,
    /// How far past the run instant its touches may be deferred.
    pub max_defer_hours: u32,
    /// Fen (the config says yuan) of coupon value a brand-calendar day, if capped.
    pub coupon_budget_per_day: Option<i64>,
    /// Channels tried in order when the member cannot be reached on a touch's own.
    pub fallback_channels: Vec<String>,
    /// What becomes of its staff tasks for a guide whose day is full:
    /// deferred to the next day the guide has room (within
    /// `max_defer_hours`), or dropped.
    pub on_guide_full: OnCap,
}

impl GovernancePolicy {
    /// The longest window the caps count touches over, in hours, and the
    /// key that sets it: how far back a run needs every touch planned.
    pub fn longest_window_hours(&self) -> (u32, String) {
        let wecom = match self.wecom_limit.per {
            WecomPeriod::Month => 31 * 24,
            WecomPeriod::Week => 7 * 24,
            WecomPeriod::Day => 24,
        };
        let channels =
            self.fatigue.channels.iter().map(|(channel, cap)| {
                (cap.window_hours, format!("governance.fatigue.channels.{channel}.window_hours"))
            });
        [
            (self.fatigue.window_hours, "governance.fatigue.window_hours".to_string()),
            (wecom, "governance.wecom_limit.per".to_string()),
        ]
        .into_iter()
        .chain(channels)
        .max_by_key(|(hours, _)| *hours)
        .expect("never empty")
    }

    /// What the types cannot say, checked when the config loads: the holdout
    /// within 0–100, no fatigue window of 0 hours, and the guides' fallbacks
    /// guide ids. `Err` names the key.
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=100.0).contains(&self.holdout_percent) {
            return Err(format!("governance.holdout_percent {} is not within 0–100", self.holdout_percent));
        }
        if self.fatigue.window_hours == 0 || self.fatigue.channels.values().any(|c| c.window_hours == 0) {
            return Err("governance.fatigue windows must be at least 1 hour".to_string());
        }
        self.guides.check()
    }

    /// The rank of a strategy in arbitration: lower wins.
    pub fn rank<'s>(&self, strategy: &'s str) -> (usize, &'s str) {
        let listed = self.priority.iter().position(|id| id == strategy).unwrap_or(self.priority.len());
        (listed, strategy)
    }
}

impl GuidesPolicy {
    /// No guide id that is empty or over the import's id limit: such a
    /// fallback could never be a guide.
    fn check(&self) -> Result<(), String> {
        let max = crate::import::columns::MAX_ID_BYTES;
        let named = self.hq_account.iter().map(|id| ("governance.guides.hq_account".to_string(), id));
        let fallbacks =
            self.store_fallback.iter().map(|(store, id)| (format!("governance.guides.store_fallback.{store}"), id));
        for (key, id) in named.chain(fallbacks) {
            if id.trim().is_empty() {
                return Err(format!("{key} is empty: name a guide id"));
            }
            if id.len() > max {
                return Err(format!("{key} is {} bytes long; a guide id is at most {max} bytes", id.len()));
            }
        }
        Ok(())
    }
}
