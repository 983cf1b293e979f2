//! Live results: how each strategy did against its holdout, over the
//! decisions a live store recorded (`canvas run`, `canvas serve`) and the
//! orders and events it holds — `GET /api/v1/results`, `canvas results`,
//! `canvas report`. (The uplift's statistics are [`crate::uplift`]'s; a
//! simulation, whose touches were never sent, reports [`crate::outlook`].)
//!
//! **What belongs to the range** `[from, to]` (brand-local days): a touch by
//! the day it was sent (a deferred one by its `send_at`), a holdout and a
//! suppressed decision by its run day. A touch taken back before delivery
//! (outbox `cancelled`) counts as not sent. Failed decisions count nowhere.
//!
//! **Groups** are any combination of strategy, step, level (the member's,
//! as now), store (the member's), guide (a staff task's guide, else the
//! member's), channel and one grain (day, week from Monday, month), keyed by
//! the decision. The unit is a member per group: a
//! member is *selected* in a group if any decision of the range in it was
//! for them, *touched* if one was sent, *held out* if one was withheld.
//!
//! **The numbers** (window = `[report] attribution_days`):
//! - touch conversion: touched members who ordered within the window after
//!   their first touch in the group; holdout conversion: the same after the
//!   first withheld touch's run instant. A later touch (a follow-up) does not
//!   open another window: a held-out member gets no follow-up, so counting
//!   one would credit the strategy with a second chance the holdout never
//!   had. Orders and revenue inside those windows are counted once per group.
//! - uplift: touch minus holdout conversion in percentage points, with
//!   Newcombe's 95% interval ([`crate::uplift::uplift`]).
//! - incremental orders and revenue: (touched orders per touched member −
//!   holdout orders per held-out member) × touched members; none without a holdout.
//! - **attributed revenue, every order once: last touch wins** — an order
//!   goes to the latest touch sent to its member before it, of any strategy,
//!   within the window; a touch sent after the range can win (then the
//!   order is not this range's). Summing a grouping's rows never counts an order twice.
//! - cost: coupons redeemed (`coupon_redeemed` whose `attrs.coupon_id` is a
//!   touch's coupon) at face value, each coupon once; group-buy discounts —
//!   list price − group price — per `group_buy_joined` through a member's
//!   invite (their latest invite before the join, within the window).
//!   ROI = (incremental revenue − cost) / cost; none when the cost is 0.
//! - harm: members who deleted the brand on WeCom (`wecom_deleted`) or
//!   unsubscribed within `[results] harm_days` after a touch, touched vs
//!   held out, with the same interval.
//! - staff tasks: sent in the range, and done — a `staff_task_done` event
//!   of the member within the window after the task; its `attrs.key` (the
//!   decision key) or `attrs.strategy` pick the task when given, else the
//!   member's latest task not done yet; each task done once.
//! - the sales split of the period over *all* orders ([`sales`]).
//! - sales recovered by guides: orders within the window after an
//!   `out-of-stock-recovery` staff task, credited to the task's guide
//!   ([`recovered`]); the guide's credit, beside attribution, never summed with it.
//!
//! Windows of the range's last days may still be open when asked: those
//! numbers grow until they close. Money is fen (`*_fen`, i64), counts u64,
//! every sum saturating.

mod compute;
pub mod html;
pub mod query;
pub mod recovered;
pub mod render;
pub mod sales;
mod touches;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use compute::{COUPON_REDEEMED, STAFF_TASK_DONE};
pub use query::{Dimension, Grain, QueryError, ResultsQuery, ResultsSettings};
pub use recovered::{GuideRecovery, RECOVERY_STRATEGY};
pub use sales::SalesSplit;

use crate::calendar::date_of_day;
use crate::member_base::MemberBase;
use crate::model::{Decision, Fen, Millis, MILLIS_PER_DAY};
use crate::store::{OutboxState, Store};
use crate::uplift::{uplift, GroupOutcome, ReportSettings};
use compute::{Acc, Windows};
use touches::{Gatherer, Touches};

/// One group's results (or the total's). Rates are fractions (0.05 is 5%),
/// uplifts percentage points; `None` where a group is empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The group: dimension name → value, for the dimensions asked; empty for the total.
    pub key: BTreeMap<String, String>,
    /// Members decided for: touched, held out or not sent.
    pub selected: u64,
    /// Members sent a touch.
    pub touched: u64,
    /// Members whose touch was withheld for the control group.
    pub held_out: u64,
    /// Members decided for but neither touched nor held out (suppressed, or taken back).
    pub suppressed: u64,
    /// Touched members who ordered within the window after a touch.
    pub touched_converted: u64,
    /// `touched_converted / touched`.
    pub touch_conversion: Option<f64>,
    /// Held-out members who ordered within the window after the withheld touch.
    pub holdout_converted: u64,
    /// `holdout_converted / held_out`.
    pub holdout_conversion: Option<f64>,
    /// Orders in the touched members' windows, each once.
    pub touched_orders: u64,
    /// Their revenue.
    pub touched_revenue_fen: Fen,
    /// Orders in the held-out members' windows, each once.
    pub holdout_orders: u64,
    /// Their revenue.
    pub holdout_revenue_fen: Fen,
    /// Touch minus holdout conversion, percentage points.
    pub uplift_pp: Option<f64>,
    /// The 95% interval's lower end, pp.
    pub uplift_low_pp: Option<f64>,
    /// The 95% interval's upper end, pp.
    pub uplift_high_pp: Option<f64>,
    /// (Touched orders per member − holdout orders per member) × touched.
    pub incremental_orders: Option<f64>,
    /// (Touched revenue per member − holdout revenue per member) × touched.
    pub incremental_revenue_fen: Option<Fen>,
    /// Orders whose last touch (within the window) is this group's.
    pub attributed_orders: u64,
    /// Their revenue: every order counted once over the rows.
    pub attributed_revenue_fen: Fen,
    /// The group's coupons redeemed.
    pub coupons_redeemed: u64,
    /// Their face value.
    pub coupon_cost_fen: Fen,
    /// Group-buy joins through the group's invites.
    pub group_buy_joins: u64,
    /// (List price − group price) per join.
    pub group_buy_cost_fen: Fen,
    /// Coupons plus group-buy discounts.
    pub cost_fen: Fen,
    /// (Incremental revenue − cost) / cost; none when the cost is 0 or there is no holdout.
    pub roi: Option<f64>,
    /// Touched members who deleted the brand on WeCom or unsubscribed within `harm_days`.
    pub touched_harmed: u64,
    /// `touched_harmed / touched`.
    pub touched_harm_rate: Option<f64>,
    /// Held-out members who did, after the withheld touch.
    pub holdout_harmed: u64,
    /// `holdout_harmed / held_out`.
    pub holdout_harm_rate: Option<f64>,
    /// Touched minus holdout harm rate, pp.
    pub harm_uplift_pp: Option<f64>,
    /// Its 95% interval's lower end, pp.
    pub harm_uplift_low_pp: Option<f64>,
    /// Its upper end, pp.
    pub harm_uplift_high_pp: Option<f64>,
    /// Staff tasks sent.
    pub staff_tasks: u64,
    /// Of them, done (a `staff_task_done` within the window).
    pub staff_tasks_done: u64,
    /// `staff_tasks_done / staff_tasks`.
    pub staff_task_done_share: Option<f64>,
}

/// The results of a range: per group, the total, and the period's sales split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day, included.
    pub to: String,
    /// The grouping, as asked.
    pub by: Vec<String>,
    /// `[report] attribution_days`.
    pub attribution_days: u32,
    /// `[results] harm_days`.
    pub harm_days: u32,
    /// One row per group met, in key order; empty when no grouping was asked.
    pub groups: Vec<Row>,
    /// Every group pooled (a member once, however many groups they are in).
    pub total: Row,
    /// The period's sales over all orders, by kind of customer.
    pub sales_split: SalesSplit,
    /// Per guide, the sales recovered after `out-of-stock-recovery` tasks
    /// sent in the range, most revenue first; empty when there were none.
    #[serde(default)]
    pub recovered_by_guides: Vec<GuideRecovery>,
}

impl Results {
    /// The results of `query` over `base` and the store's decisions.
    pub fn of_store(
        base: &MemberBase,
        store: &Store,
        query: &ResultsQuery,
        report: &ReportSettings,
        settings: &ResultsSettings,
    ) -> anyhow::Result<Self> {
        store.check_results_from(query.from)?;
        let mut gatherer = Gatherer::new(base, query, window(report.attribution_days));
        store.each_decision(|d, outbox| gatherer.add(d, outbox))?;
        Ok(Self::of(base, gatherer.finish(), query, report, settings))
    }

    /// The same over decisions held in memory (the benchmark's, a test's), none cancelled.
    pub fn of_decisions<'d>(
        base: &MemberBase,
        decisions: impl IntoIterator<Item = &'d Decision>,
        query: &ResultsQuery,
        report: &ReportSettings,
        settings: &ResultsSettings,
    ) -> Self {
        let mut gatherer = Gatherer::new(base, query, window(report.attribution_days));
        decisions.into_iter().for_each(|d| gatherer.add(d, None::<OutboxState>));
        Self::of(base, gatherer.finish(), query, report, settings)
    }

    fn of(
        base: &MemberBase,
        touches: Touches,
        query: &ResultsQuery,
        report: &ReportSettings,
        settings: &ResultsSettings,
    ) -> Self {
        let windows = Windows { attribution: window(report.attribution_days), harm: window(settings.harm_days) };
        let joins = compute::joins(base);
        let acc = compute::accumulate(base, &touches, &joins, windows);
        let recovered_by_guides = recovered::by_guide(base, &touches, windows.attribution);
        let mut rows: Vec<Row> = acc.iter().map(row_of).collect();
        for (row, key) in rows.iter_mut().zip(&touches.keys).skip(1) {
            for (i, dim) in query.by.iter().enumerate() {
                let value = match dim {
                    Dimension::Level => key[i].to_string(),
                    Dimension::Time(grain) => grain.label(key[i] as i32),
                    _ => touches.names[i].names[key[i] as usize].clone(),
                };
                row.key.insert(dim.name().to_string(), value);
            }
        }
        let total = rows.remove(0);
        // In the order asked: by the first dimension's value, then the next …
        let order = |row: &Row| query.by.iter().map(|d| sort_key(row, *d)).collect::<Vec<_>>();
        rows.sort_by_cached_key(order);
        let first = base.calendar.start_of(date_of_day(query.from));
        let last = base.calendar.start_of(date_of_day(query.to.saturating_add(1))) - 1;
        Results {
            from: date_of_day(query.from).to_string(),
            to: date_of_day(query.to).to_string(),
            by: query.by.iter().map(|d| d.name().to_string()).collect(),
            attribution_days: report.attribution_days,
            harm_days: settings.harm_days,
            groups: rows,
            total,
            sales_split: SalesSplit::of_period(base, first, last),
            recovered_by_guides,
        }
    }
}

/// Levels sort as numbers (a key's value is text); everything else as text.
fn sort_key(row: &Row, d: Dimension) -> (u64, String) {
    let value = row.key.get(d.name()).cloned().unwrap_or_default();
    (if d == Dimension::Level { value.parse().unwrap_or(0) } else { 0 }, value)
}

fn window(days: u32) -> Millis {
    i64::from(days).saturating_mul(MILLIS_PER_DAY)
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn pp(x: f64) -> f64 {
    // Two decimals of a point are all a reader can use; stable JSON across platforms.
    (x * 10_000.0).round() / 100.0
}

fn row_of(a: &Acc) -> Row {
    let outcome = |members, converted| GroupOutcome { members, converted, ..GroupOutcome::default() };
    let conv = uplift(&outcome(a.touched, a.touched_converted), &outcome(a.held_out, a.held_converted));
    let harm = uplift(&outcome(a.touched, a.touched_harmed), &outcome(a.held_out, a.held_harmed));
    let per_member = |n: f64, members: u64| n / members as f64;
    let incremental = (a.touched > 0 && a.held_out > 0).then(|| {
        let orders = (per_member(a.touched_orders as f64, a.touched) - per_member(a.held_orders as f64, a.held_out))
            * a.touched as f64;
        let revenue = (per_member(a.touched_revenue as f64, a.touched) - per_member(a.held_revenue as f64, a.held_out))
            * a.touched as f64;
        // `as` saturates at i64's ends: no data can wrap it.
        ((orders * 100.0).round() / 100.0, revenue.round() as Fen)
    });
    let cost = a.coupon_cost.saturating_add(a.group_buy_cost);
    let roi = incremental.filter(|_| cost > 0).map(|(_, revenue)| revenue.saturating_sub(cost) as f64 / cost as f64);
    Row {
        key: BTreeMap::new(),
        selected: a.selected,
        touched: a.touched,
        held_out: a.held_out,
        suppressed: a.not_sent,
        touched_converted: a.touched_converted,
        touch_conversion: ratio(a.touched_converted, a.touched),
        holdout_converted: a.held_converted,
        holdout_conversion: ratio(a.held_converted, a.held_out),
        touched_orders: a.touched_orders,
        touched_revenue_fen: a.touched_revenue,
        holdout_orders: a.held_orders,
        holdout_revenue_fen: a.held_revenue,
        uplift_pp: conv.as_ref().map(|u| pp(u.difference)),
        uplift_low_pp: conv.as_ref().map(|u| pp(u.low)),
        uplift_high_pp: conv.as_ref().map(|u| pp(u.high)),
        incremental_orders: incremental.map(|i| i.0),
        incremental_revenue_fen: incremental.map(|i| i.1),
        attributed_orders: a.attributed_orders,
        attributed_revenue_fen: a.attributed_revenue,
        coupons_redeemed: a.coupons_redeemed,
        coupon_cost_fen: a.coupon_cost,
        group_buy_joins: a.group_buy_joins,
        group_buy_cost_fen: a.group_buy_cost,
        cost_fen: cost,
        roi: roi.map(|r| (r * 10_000.0).round() / 10_000.0),
        touched_harmed: a.touched_harmed,
        touched_harm_rate: ratio(a.touched_harmed, a.touched),
        holdout_harmed: a.held_harmed,
        holdout_harm_rate: ratio(a.held_harmed, a.held_out),
        harm_uplift_pp: harm.as_ref().map(|u| pp(u.difference)),
        harm_uplift_low_pp: harm.as_ref().map(|u| pp(u.low)),
        harm_uplift_high_pp: harm.as_ref().map(|u| pp(u.high)),
        staff_tasks: a.staff_tasks,
        staff_tasks_done: a.staff_tasks_done,
        staff_task_done_share: ratio(a.staff_tasks_done, a.staff_tasks),
    }
}
