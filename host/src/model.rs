//! The records the host keeps: what the brand imports (members, orders,
//! events, products) and what runs produce (proposals, decisions, run records).
//!
//! Units: instants are milliseconds since the Unix epoch (UTC), money is fen
//! (1 yuan = 100 fen), days are local dates in the brand's calendar counted
//! from 1970-01-01 — the same units as the WIT contract.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

/// The wall clock, as [`Millis`] (0 for a clock set before 1970).
pub fn now_millis() -> Millis {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as Millis)
}
/// Fen (1 yuan = 100 fen).
pub type Fen = i64;
/// A local date in the brand's calendar, as days since 1970-01-01.
pub type Day = i32;

/// The largest amount of money the host takes anywhere — an order, a price,
/// a benefit, a group-buy price: 100,000,000 yuan. Bounding every amount
/// keeps every sum of them far from overflowing an `i64` of fen.
pub const MAX_AMOUNT_FEN: Fen = 10_000_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub level: u8,
    pub birthday: Option<NaiveDate>,
    pub joined_at: Millis,
    pub wecom_added_at: Option<Millis>,
    pub store_id: String,
    pub guide_id: String,
    /// IANA time zone name, if the member has their own.
    pub tz: Option<String>,
}

/// A member with an id and nothing else worth noting, for unit tests.
#[cfg(test)]
pub(crate) fn bare_member(id: &str) -> Member {
    Member {
        id: id.into(),
        name: id.into(),
        level: 1,
        birthday: None,
        joined_at: 0,
        wecom_added_at: None,
        store_id: "S".into(),
        guide_id: "G".into(),
        tz: None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderChannel {
    Store,
    Online,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub member_id: String,
    pub placed_at: Millis,
    pub amount: Fen,
    pub channel: OrderChannel,
    pub category: String,
    pub sku: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub member_id: String,
    pub kind: String,
    pub at: Millis,
    /// A compact JSON object.
    pub attrs: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub price: Fen,
    pub launched_at: Millis,
    pub tags: Vec<String>,
}

/// Everything one import brings in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataSet {
    pub members: Vec<Member>,
    pub orders: Vec<Order>,
    pub events: Vec<Event>,
    pub products: Vec<Product>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Message,
    Coupon,
    StaffTask,
    GroupBuyInvite,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    Dispatched,
    Suppressed,
    Holdout,
    Deferred,
    Failed,
}

impl DecisionStatus {
    pub const ALL: [DecisionStatus; 5] = [
        DecisionStatus::Dispatched,
        DecisionStatus::Suppressed,
        DecisionStatus::Holdout,
        DecisionStatus::Deferred,
        DecisionStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionStatus::Dispatched => "dispatched",
            DecisionStatus::Suppressed => "suppressed",
            DecisionStatus::Holdout => "holdout",
            DecisionStatus::Deferred => "deferred",
            DecisionStatus::Failed => "failed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenefitKind {
    Coupon,
    Gift,
    Lottery,
    Points,
    EarlyAccess,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefit {
    pub kind: BenefitKind,
    pub value: Fen,
    pub gift: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupBuy {
    pub sku: String,
    pub group_size: u8,
    pub price: Fen,
}

/// What a strategy decided for one member at one run, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The idempotency key, `strategy/step/period/member`: a strategy decides a
    /// step for a member at most once per period of its schedule.
    pub key: String,
    pub strategy: String,
    pub plugin_version: String,
    /// The run instant.
    pub run_at: Millis,
    /// The run's local date in the brand's calendar.
    pub day: Day,
    pub member_id: String,
    pub step: String,
    pub action: ActionKind,
    pub channel: String,
    pub template: String,
    pub variables: Vec<(String, String)>,
    pub benefit: Option<Benefit>,
    /// For a coupon benefit: the coupon's id, stable for this decision.
    pub coupon_id: Option<String>,
    /// For staff tasks: the guide asked to act.
    pub guide_id: Option<String>,
    pub group_buy: Option<GroupBuy>,
    pub status: DecisionStatus,
    pub reason: Option<String>,
    /// For a deferred touch: when it is to be sent.
    pub send_at: Option<Millis>,
}

impl Decision {
    /// When the touch leaves: now if dispatched, later if deferred, never otherwise.
    pub fn planned_send_at(&self) -> Option<Millis> {
        match self.status {
            DecisionStatus::Dispatched => Some(self.send_at.unwrap_or(self.run_at)),
            DecisionStatus::Deferred => self.send_at,
            _ => None,
        }
    }

    /// Whether this decision hands the member a coupon (now or when deferred).
    pub fn issues_coupon(&self) -> bool {
        self.planned_send_at().is_some() && self.coupon_id.is_some()
    }
}

/// A touch a strategy proposes for one member at one run: checked against
/// the plugin contract, not decided yet. Only the governor makes it a
/// [`Decision`], giving it a status; the fields are the decision's own (see
/// there), and the decision keeps them as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub key: String,
    pub strategy: String,
    pub plugin_version: String,
    pub run_at: Millis,
    pub day: Day,
    pub member_id: String,
    pub step: String,
    pub action: ActionKind,
    pub channel: String,
    pub template: String,
    pub variables: Vec<(String, String)>,
    pub benefit: Option<Benefit>,
    pub coupon_id: Option<String>,
    pub guide_id: Option<String>,
    pub group_buy: Option<GroupBuy>,
}

/// The event kind for a coupon handed to a member; strategies that react to
/// coupons see those issued by other strategies' decisions the same way as
/// imported ones.
pub const COUPON_ISSUED: &str = "coupon_issued";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunOutcome {
    Completed,
    /// The plugin failed this run (trap, limit, error); earlier batches' decisions stand.
    Failed {
        error: String,
    },
}

/// What started a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunTrigger {
    /// Its schedule, in `canvas serve`.
    Schedule,
    /// A scheduled run missed while the service was down, run on start.
    CatchUp,
    /// An operator: `canvas run` or the API's "run now".
    Manual,
    /// A dry run.
    Simulation,
}

/// One run of one strategy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub strategy: String,
    pub trigger: RunTrigger,
    pub plugin_version: String,
    pub run_at: Millis,
    pub day: Day,
    pub audience: u64,
    pub batches: u32,
    /// New decisions, whatever their status.
    pub decisions: u64,
    /// Touches the plugin proposed again for a (step, member, period) decided before: not decided twice.
    pub already_decided: u64,
    pub fuel_used: u64,
    pub duration_micros: u64,
    pub outcome: RunOutcome,
    /// Members selected whom the caps held back at this strategy's last
    /// decision and still hold back from any touch of it: not asked again,
    /// that suppressed decision stands. Last, so older records read as 0.
    pub held_back: u64,
    /// Members the plugin failed on alone (each has a `failed` decision
    /// naming why); the others were decided. Last, so older records read as 0.
    pub failed_members: u64,
}
