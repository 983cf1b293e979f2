//! The records the host keeps: what the brand imports (members, orders,
//! events, products) and what runs produce (proposals, decisions, run records).
//!
//! Units: instants are milliseconds since the Unix epoch (UTC), money is fen
//! (1 yuan = 100 fen), days are local dates in the brand's calendar counted
//! from 1970-01-01 — the same units as the WIT contract.
//!
//! One file, a little over 400 lines (480): every record is here so a reader finds
//! the whole vocabulary in one place, and most of its length is field docs.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;
/// A day of [`Millis`] (a UTC day: local days come from the calendar).
pub const MILLIS_PER_DAY: Millis = 86_400_000;

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

/// A member of the brand's programme: a row of members.csv (or the ingest API).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// `member_id`: unique, the key orders, events and decisions name the member by.
    pub id: String,
    /// `name`, possibly empty; handed to plugins in the member's profile.
    pub name: String,
    /// Membership level 1–4 (checked on import); audiences and benefits go by it.
    pub level: u8,
    /// `birthday`; `None` when the column is empty.
    pub birthday: Option<NaiveDate>,
    /// `joined_at`: runs before this instant do not see the member at all.
    pub joined_at: Millis,
    /// `wecom_added_at`: when the member became the brand's WeCom contact;
    /// `None`: not one. Plugins see it only from that instant on.
    pub wecom_added_at: Option<Millis>,
    /// `store_id`: the store the member belongs to; passed on to plugins.
    pub store_id: String,
    /// `guide_id`: the member's store guide, whom a staff task normally asks to act.
    pub guide_id: String,
    /// IANA time zone name, if the member has their own.
    pub tz: Option<String>,
}

/// A birthday message to `member_id` on 2026-03-01 at 10:00 (+08:00), sent
/// then, for unit tests: they change what they need with `..`.
#[cfg(test)]
pub(crate) fn sample_decision(member_id: &str) -> Decision {
    Decision {
        key: format!("birthday-tiered/birthday/2026-03-01/{member_id}"),
        strategy: "birthday-tiered".into(),
        plugin_version: "0.1.0".into(),
        plugin_sha256: "".into(),
        run_at: 1_772_330_400_000,
        day: 20_513,
        member_id: member_id.into(),
        step: "birthday".into(),
        action: ActionKind::Message,
        channel: "wecom".into(),
        template: "birthday".into(),
        variables: Vec::new(),
        benefit: None,
        coupon_id: None,
        guide_id: None,
        group_buy: None,
        status: DecisionStatus::Dispatched,
        reason: None,
        send_at: None,
    }
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

/// Where an order was placed: orders.csv's `channel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderChannel {
    /// `store`: in a physical store.
    Store,
    /// `online`: in the brand's online shop.
    Online,
}

/// A purchase: a row of orders.csv (or the ingest API).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// `order_id`: unique among orders.
    pub id: String,
    /// Who bought: a member of the same import or already in the store.
    pub member_id: String,
    /// When it was placed; its day in the brand's calendar follows, and runs
    /// before this instant do not see it.
    pub placed_at: Millis,
    /// What was paid, from `amount` in yuan; 0 to [`MAX_AMOUNT_FEN`].
    pub amount: Fen,
    /// `channel`: `store` or `online`.
    pub channel: OrderChannel,
    /// The category bought, compared by name with [`Product::category`].
    pub category: String,
    /// The product bought; not checked against products.csv.
    pub sku: String,
}

/// Something that happened to a member: a row of events.csv (or the ingest
/// API), or a `coupon_issued` the host itself leaves for a coupon sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `event_id`: unique among events.
    pub id: String,
    /// Whom it concerns: a member of the same import or already in the store.
    pub member_id: String,
    /// Free-form, e.g. `coupon_issued`, `coupon_redeemed`, `group_buy_joined`;
    /// plugins ask for the kinds they want.
    pub kind: String,
    /// When it happened; runs before this instant do not see it.
    pub at: Millis,
    /// A compact JSON object (`{}` when the column is empty).
    pub attrs: String,
}

/// An [`Event`] borrowed from where it is kept (a stored record's bytes):
/// the same fields in the same order, so a record decodes into it without
/// a string allocated — a large brand's start reads tens of millions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct EventRef<'a> {
    /// [`Event::id`].
    pub id: &'a str,
    /// [`Event::member_id`].
    pub member_id: &'a str,
    /// [`Event::kind`].
    pub kind: &'a str,
    /// [`Event::at`].
    pub at: Millis,
    /// [`Event::attrs`].
    pub attrs: &'a str,
}

impl EventRef<'_> {
    /// The event, owned.
    pub fn to_event(&self) -> Event {
        let (id, member_id, kind, attrs) = (self.id.into(), self.member_id.into(), self.kind.into(), self.attrs.into());
        Event { id, member_id, kind, at: self.at, attrs }
    }
}

impl Event {
    /// The event, borrowed.
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef { id: &self.id, member_id: &self.member_id, kind: &self.kind, at: self.at, attrs: &self.attrs }
    }
}

/// A string attribute of an event's `attrs` (a JSON object as text), e.g.
/// `coupon_id`, `referrer`, `channel`; None when absent, not a string, or
/// the attrs do not read.
pub fn text_attr(attrs: &str, name: &str) -> Option<String> {
    let attrs: serde_json::Value = serde_json::from_str(attrs).ok()?;
    attrs.get(name)?.as_str().map(str::to_string)
}

/// Something the brand sells: a row of products.csv.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// `sku`: unique among products, the product's id.
    pub sku: String,
    /// `name`, possibly empty.
    pub name: String,
    /// The category, which strategies match with the categories members bought.
    pub category: String,
    /// The list price, from `price` in yuan; 0 to [`MAX_AMOUNT_FEN`].
    pub price: Fen,
    /// When it was launched: runs before this instant do not see it, and
    /// plugins are told of launches within their look-back.
    pub launched_at: Millis,
    /// `tags`, split at `;` and trimmed, empty ones dropped (e.g.
    /// `group_buy` marks what a group buy may offer).
    pub tags: Vec<String>,
}

/// A store guide (导购), who confirms each staff task by hand: a row of
/// guides.csv (or the ingest API). A member's guide need not have one —
/// such a guide is taken as active, with the brand's default capacity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guide {
    /// `guide_id`: unique among guides; members name their guide by it.
    pub id: String,
    /// `store_id`: the store the guide works in.
    pub store_id: String,
    /// `name`, possibly empty.
    pub name: String,
    /// `left_at`, for status `left`: when the guide left; `None`: active.
    /// A run before this instant still sees the guide active.
    pub left_at: Option<Millis>,
    /// `daily_task_capacity`: at most this many staff tasks a brand-local
    /// day; `None` (empty): `[governance.guides] default_daily_capacity`.
    pub daily_task_capacity: Option<u32>,
}

impl Guide {
    /// When the guide left, if they had by `at`: a run never sees a
    /// departure after its instant.
    pub fn left_by(&self, at: Millis) -> Option<Millis> {
        self.left_at.filter(|&left| left <= at)
    }
}

/// Everything one import brings in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataSet {
    /// members.csv's rows (or, read from a store, every member it holds).
    pub members: Vec<Member>,
    /// orders.csv's rows; each names a member of the import or the store.
    pub orders: Vec<Order>,
    /// events.csv's rows; each names a member of the import or the store.
    pub events: Vec<Event>,
    /// products.csv's rows.
    pub products: Vec<Product>,
    /// guides.csv's rows (optional: a brand without it has every guide active).
    pub guides: Vec<Guide>,
}

/// What a touch does, as decisions.jsonl's `action` names it; the WIT
/// `action` without its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// A message on the touch's channel with its template.
    Message,
    /// A coupon, announced on the touch's channel.
    Coupon,
    /// A task for a store guide ([`Decision::guide_id`]) to contact the member.
    StaffTask,
    /// An invitation to open a group buy ([`Decision::group_buy`]).
    GroupBuyInvite,
}

/// What became of a proposed touch: the governor's verdict, or `Failed`,
/// which the plugin's side of the run sets and the governor never sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// Sent at the run instant.
    Dispatched,
    /// Never sent: lost arbitration, stopped by a cap (`on_cap = "drop"`, or
    /// no slot within `max_defer_hours`) or over budget; the reason says which.
    Suppressed,
    /// Not sent: the member is in the strategy's control group.
    Holdout,
    /// Sent later, at `send_at`: quiet hours or a cap.
    Deferred,
    /// Not sent: the plugin failed on this member, or its touch broke the contract.
    Failed,
}

impl DecisionStatus {
    /// Every status, in declaration order.
    pub const ALL: [DecisionStatus; 5] = [
        DecisionStatus::Dispatched,
        DecisionStatus::Suppressed,
        DecisionStatus::Holdout,
        DecisionStatus::Deferred,
        DecisionStatus::Failed,
    ];

    /// The status in snake_case, as decisions.jsonl, the summary and metrics labels spell it.
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

/// What sort of benefit a touch offers. Only coupons get a coupon id, count
/// against a strategy's coupon budget and leave a `coupon_issued` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenefitKind {
    /// A coupon worth its value off a purchase.
    Coupon,
    /// A gift, its value what it costs the brand.
    Gift,
    /// A draw in a lottery.
    Lottery,
    /// Loyalty points.
    Points,
    /// Early access to something, e.g. a sale or a launch.
    EarlyAccess,
}

/// What a touch offers the member, as the plugin returned it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefit {
    /// Coupon, gift, lottery, points or early access.
    pub kind: BenefitKind,
    /// Face value (coupon) or cost (gift) in fen: more than 0 and at most
    /// `[sandbox] benefit_max_yuan` (the contract checks). Yuan in decisions.jsonl.
    pub value: Fen,
    /// A named gift that comes with it, e.g. `birthday gift box`.
    pub gift: Option<String>,
}

/// A group-buy offer in an invite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupBuy {
    /// The product offered.
    pub sku: String,
    /// How many people make up a group; at least 2.
    pub group_size: u8,
    /// The price in the group buy, in fen: more than 0, at most [`MAX_AMOUNT_FEN`].
    pub price: Fen,
}

/// When a touch of this status leaves (see [`Decision::planned_send_at`]).
pub(crate) fn planned_send_at(status: DecisionStatus, send_at: Option<Millis>, run_at: Millis) -> Option<Millis> {
    match status {
        DecisionStatus::Dispatched => Some(send_at.unwrap_or(run_at)),
        DecisionStatus::Deferred => send_at,
        _ => None,
    }
}

/// What a strategy decided for one member at one run, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The idempotency key, `strategy/step/period/member`: a strategy decides a
    /// step for a member at most once per period of its schedule.
    pub key: String,
    /// The id of the strategy (its plugin) that proposed it.
    pub strategy: String,
    /// The plugin's version (from its manifest) at the run.
    pub plugin_version: String,
    /// The SHA-256 of the plugin build that decided it (lowercase hex): the
    /// version names a build, this is the build. One per run, shared. Not in
    /// this type's encoding: the store keeps it beside the decision, so
    /// decisions stored before it read as "" (see `store::ledger::Entry`).
    #[serde(skip)]
    pub plugin_sha256: Arc<str>,
    /// The run instant.
    pub run_at: Millis,
    /// The run's local date in the brand's calendar.
    pub day: Day,
    /// Whom the touch is for ([`Member::id`]).
    pub member_id: String,
    /// The stage inside the strategy (`recall`, `first`, `followup` …);
    /// `!call` on a failed decision that no touch named.
    pub step: String,
    /// What the touch does; its payload is in `benefit`, `guide_id` or `group_buy`.
    pub action: ActionKind,
    /// Where it goes (`wecom`, `sms` …): picks the sink, and the caps count
    /// per channel. Empty on a failed decision.
    pub channel: String,
    /// The message template's name; empty on a failed decision.
    pub template: String,
    /// Name and value pairs for the template, in the plugin's order.
    pub variables: Vec<(String, String)>,
    /// A coupon touch's coupon, or what a staff task hands over; else `None`.
    pub benefit: Option<Benefit>,
    /// For a coupon benefit: the coupon's id, stable for this decision.
    pub coupon_id: Option<String>,
    /// For staff tasks: the guide asked to act.
    pub guide_id: Option<String>,
    /// For group-buy invites: the offer.
    pub group_buy: Option<GroupBuy>,
    /// Set by the governor; `Failed` before it, by the run's plugin side.
    pub status: DecisionStatus,
    /// Why, in words, when not dispatched now (the rule, or the strategy
    /// that won arbitration); `None` for a touch dispatched now.
    pub reason: Option<String>,
    /// For a deferred touch: when it is to be sent.
    pub send_at: Option<Millis>,
}

impl Decision {
    /// When the touch leaves: now if dispatched, later if deferred, never otherwise.
    pub fn planned_send_at(&self) -> Option<Millis> {
        planned_send_at(self.status, self.send_at, self.run_at)
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
    /// [`Decision::key`], `strategy/step/period/member`.
    pub key: String,
    /// [`Decision::strategy`].
    pub strategy: String,
    /// [`Decision::plugin_version`].
    pub plugin_version: String,
    /// [`Decision::plugin_sha256`].
    pub plugin_sha256: Arc<str>,
    /// [`Decision::run_at`]: the run instant.
    pub run_at: Millis,
    /// [`Decision::day`]: the run's local date.
    pub day: Day,
    /// [`Decision::member_id`]: one of the batch the plugin was given.
    pub member_id: String,
    /// [`Decision::step`].
    pub step: String,
    /// [`Decision::action`].
    pub action: ActionKind,
    /// [`Decision::channel`].
    pub channel: String,
    /// [`Decision::template`].
    pub template: String,
    /// [`Decision::variables`].
    pub variables: Vec<(String, String)>,
    /// [`Decision::benefit`].
    pub benefit: Option<Benefit>,
    /// [`Decision::coupon_id`]: derived from the key for a coupon benefit.
    pub coupon_id: Option<String>,
    /// [`Decision::guide_id`].
    pub guide_id: Option<String>,
    /// [`Decision::group_buy`].
    pub group_buy: Option<GroupBuy>,
}

/// The event kind for a coupon handed to a member; strategies that react to
/// coupons see those issued by other strategies' decisions the same way as
/// imported ones.
pub const COUPON_ISSUED: &str = "coupon_issued";
/// The event of a redeemed coupon; `attrs.coupon_id` names it.
pub const COUPON_REDEEMED: &str = "coupon_redeemed";
/// The event of a staff task done; `attrs.key` may name the decision, or
/// `attrs.strategy` the strategy, whose task it was.
pub const STAFF_TASK_DONE: &str = "staff_task_done";
/// The event kind of a member joining a group buy; `attrs.referrer` names who brought them.
pub const GROUP_BUY_JOINED: &str = "group_buy_joined";

/// How a strategy's run ended (runs.jsonl's `status` and `error`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunOutcome {
    /// The plugin decided every batch; members it failed on alone each have
    /// a `failed` decision.
    Completed,
    /// The plugin failed this run (trap, limit, error); earlier batches' decisions stand.
    Failed {
        /// What went wrong, in words naming the plugin and its version.
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
    /// A member's event, through a strategy's trigger (WIT 0.4.0). Last, so
    /// the records kept before it still read.
    Event,
}

/// One run of one strategy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The strategy's id.
    pub strategy: String,
    /// What started the run.
    pub trigger: RunTrigger,
    /// The plugin's version (from its manifest) at the run.
    pub plugin_version: String,
    /// The run instant.
    pub run_at: Millis,
    /// The run's local date in the brand's calendar.
    pub day: Day,
    /// Members the audience selected, those held back included.
    pub audience: u64,
    /// Batches (of up to `[run] batch_size` members) the plugin was asked
    /// to decide, up to and including one that failed the run.
    pub batches: u32,
    /// New decisions, whatever their status.
    pub decisions: u64,
    /// Touches the plugin proposed again for a (step, member, period) decided before: not decided twice.
    pub already_decided: u64,
    /// Fuel (~ WebAssembly instructions) over all of the plugin's calls in
    /// the run, the calls that split a failing batch included.
    pub fuel_used: u64,
    /// Wall-clock time of the strategy's part, from its audience to its last
    /// batch; the instant's governance and recording are not counted.
    pub duration_micros: u64,
    /// Whether the run completed or failed, and why.
    pub outcome: RunOutcome,
    /// Members selected whom the caps held back at this strategy's last
    /// decision and still hold back from any touch of it: not asked again,
    /// that suppressed decision stands. Last, so older records read as 0.
    pub held_back: u64,
    /// Members the plugin failed on alone (each has a `failed` decision
    /// naming why); the others were decided. Last, so older records read as 0.
    pub failed_members: u64,
    /// The SHA-256 of the plugin build that ran (lowercase hex). Last, so
    /// older records read as "".
    pub plugin_sha256: String,
}

impl RunRecord {
    /// Adds what `other`, a later firing of the same strategy's triggers,
    /// did: one record per strategy and day tallies its triggered firings.
    /// The first failure's reason is kept.
    pub fn absorb(&mut self, other: &RunRecord) {
        self.audience = self.audience.saturating_add(other.audience);
        self.batches = self.batches.saturating_add(other.batches);
        self.decisions = self.decisions.saturating_add(other.decisions);
        self.already_decided = self.already_decided.saturating_add(other.already_decided);
        self.fuel_used = self.fuel_used.saturating_add(other.fuel_used);
        self.duration_micros = self.duration_micros.saturating_add(other.duration_micros);
        self.held_back = self.held_back.saturating_add(other.held_back);
        self.failed_members = self.failed_members.saturating_add(other.failed_members);
        if self.outcome == RunOutcome::Completed {
            self.outcome = other.outcome.clone();
        }
        // The build that fired last is the one running now.
        self.plugin_version.clone_from(&other.plugin_version);
        self.plugin_sha256.clone_from(&other.plugin_sha256);
    }

    /// A run of `strategy`'s build (version, SHA-256) at `at` (on `day`)
    /// that has done nothing yet.
    pub fn starting(
        strategy: &str,
        trigger: RunTrigger,
        (plugin_version, plugin_sha256): (&str, &str),
        at: Millis,
        day: Day,
    ) -> RunRecord {
        RunRecord {
            strategy: strategy.to_string(),
            trigger,
            plugin_version: plugin_version.to_string(),
            plugin_sha256: plugin_sha256.to_string(),
            run_at: at,
            day,
            audience: 0,
            batches: 0,
            decisions: 0,
            already_decided: 0,
            fuel_used: 0,
            duration_micros: 0,
            outcome: RunOutcome::Completed,
            held_back: 0,
            failed_members: 0,
        }
    }
}
