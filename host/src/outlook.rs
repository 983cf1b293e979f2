//! What the strategies would have done over history — and nothing it cannot
//! know. A simulation's touches were never sent, so the orders after them
//! are what members did untouched: their true effect is zero by
//! construction, and a "touched vs holdout" difference over history is
//! noise. Uplift is measured only live, against the holdout (the results of
//! real runs). What a dry run can say honestly, per strategy:
//!
//! - **baseline**: of the members the strategy selected (every decision the
//!   host made — sent, deferred, held out or suppressed: touched or not),
//!   the share who ordered within `attribution_days` after the decision, and
//!   the revenue of those orders. That is what they did without any touch:
//!   the bar a real touch has to beat.
//! - **cost**: the benefits in the touches it would have sent (coupon face
//!   values, gift costs) plus group-buy discounts: (list price − group
//!   price) once **per invite sent**. Not per invite joined: the joins in
//!   the data are of group buys members opened themselves, of other
//!   products, since the simulated invites never went out — no join can be
//!   attributed to one (over the demo's period, not one matches an invite's
//!   referrer, product and window). So, like a coupon counted at its face
//!   value per touch sent, each invite counts the invited member's discount
//!   once: the cost if every invite were taken up. The joiners' own
//!   discounts buy new customers, not the touched member, and are not
//!   counted.
//! - **break-even lift**: the extra conversion, in percentage points, the
//!   strategy would need for the margin on it to pay for the benefits:
//!   cost per touched member ÷ (average order value × margin). The average
//!   order value is the selected members' orders inside the windows
//!   (revenue ÷ orders); `margin` is `[report] margin`.
//!
//! **Counting once.** Per strategy, a member counts once and an order once,
//! whichever of the member's decisions' windows it falls in. Overall, a
//! member selected by two strategies counts once, and an order inside the
//! windows of two strategies counts once: the overall windows are the union
//! of every strategy's. Costs add up: each touch carries its own benefit.
//! A decision whose window runs past the
//! last order in the data is left out of the baseline (and counted), since
//! what followed it is unknown.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::member_base::MemberBase;
use crate::model::{ActionKind, Decision, DecisionStatus, Fen, Millis, MILLIS_PER_DAY};
use crate::uplift::ReportSettings;

/// A group-buy invite that would have been sent: its product and group price.
#[derive(Clone, Debug)]
struct Invite {
    sku: String,
    price: Fen,
}

#[derive(Clone, Debug, Default)]
struct StrategyLog {
    /// (member, decision instant) of every decision the host made.
    selected: Vec<(String, Millis)>,
    /// Members sent (or to be sent) a touch.
    touched: BTreeSet<String>,
    benefits: Fen,
    invites: Vec<Invite>,
}

/// Collects a simulation's decisions, per strategy.
#[derive(Clone, Debug, Default)]
pub struct OutlookLog {
    by_strategy: BTreeMap<String, StrategyLog>,
}

impl OutlookLog {
    /// Every decided member is selected (a failed decision was never
    /// decided); a touch to be sent adds its benefit, and a group-buy
    /// invite its offer.
    pub fn add(&mut self, d: &Decision) {
        if d.status == DecisionStatus::Failed {
            return;
        }
        let log = self.by_strategy.entry(d.strategy.clone()).or_default();
        log.selected.push((d.member_id.clone(), d.run_at));
        if d.planned_send_at().is_none() {
            return;
        }
        log.touched.insert(d.member_id.clone());
        if let Some(b) = &d.benefit {
            log.benefits = log.benefits.saturating_add(b.value);
        }
        if let (ActionKind::GroupBuyInvite, Some(g)) = (d.action, &d.group_buy) {
            log.invites.push(Invite { sku: g.sku.clone(), price: g.price });
        }
    }
}

/// What the selected members did in the windows after their decisions,
/// touched or not.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Baseline {
    /// Selected members with at least one complete window.
    pub members: u64,
    /// Of them, those who ordered within a window.
    pub converted: u64,
    /// `converted ÷ members`, 0 to 1; None for no member.
    pub conversion: Option<f64>,
    /// Orders inside the windows, each counted once.
    pub orders: u64,
    /// Their amounts, fen.
    pub revenue_fen: Fen,
    /// `revenue_fen ÷ orders`, fen; None without an order.
    pub average_order_value_fen: Option<Fen>,
    /// Decisions left out: their window runs past the last order in the data.
    pub incomplete: u64,
}

/// What the touches would have cost, and the lift that would pay for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cost {
    /// Benefits in the touches to be sent (coupon face value, gift cost), fen.
    pub benefits_fen: Fen,
    /// (list price − group price) per group-buy invite sent, fen.
    pub group_buy_discounts_fen: Fen,
    /// Group-buy invites sent (or to be sent).
    pub group_buy_invites: u64,
    /// Of them, those whose product is not in products.csv: no discount counted.
    pub group_buy_invites_unpriced: u64,
    /// `benefits_fen + group_buy_discounts_fen`.
    pub total_fen: Fen,
    /// Distinct members sent (or to be sent) a touch.
    pub touched_members: u64,
    /// `total_fen ÷ touched_members`, rounded; None with no one touched.
    pub per_touched_member_fen: Option<Fen>,
    /// The lift in conversion, in percentage points, at which the margin on
    /// the extra orders pays for the benefits; None without a touch or an
    /// order to price it.
    pub break_even_pp: Option<f64>,
}

/// One strategy's outlook (or, as [`Outlook::overall`], all of them, each
/// member and order counted once).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StrategyOutlook {
    /// What the selected members did untouched.
    pub baseline: Baseline,
    /// What the touches would have cost, and the break-even lift.
    pub cost: Cost,
}

/// A simulation's outlook: per strategy, and overall.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Outlook {
    /// The window and margin it was scored with.
    pub settings: ReportSettings,
    /// The last order in the data: windows must end by then.
    pub data_end: Millis,
    /// By strategy id; a strategy that decided nothing is absent.
    pub strategies: BTreeMap<String, StrategyOutlook>,
    /// All strategies: each member and each order once, costs summed.
    pub overall: StrategyOutlook,
}

/// The extra conversion (percentage points) at which the margin on the
/// extra orders pays for the benefits: `cost ÷ (order value × margin)`.
/// None without an order value (or a margin) to price it.
pub fn break_even_pp(cost_per_touched_member: f64, average_order_value: f64, margin: f64) -> Option<f64> {
    (average_order_value > 0.0 && margin > 0.0)
        .then(|| 100.0 * cost_per_touched_member / (average_order_value * margin))
}

impl Outlook {
    /// Scores the decisions against the orders in `base` (all of them: the
    /// windows look past the simulated period);
    /// `list_prices` are products.csv's, by SKU, in fen.
    pub fn score(
        base: &MemberBase,
        list_prices: &HashMap<String, Fen>,
        log: &OutlookLog,
        settings: &ReportSettings,
    ) -> Self {
        let data_end = base.last_order_at().unwrap_or(Millis::MIN);
        let window = settings.attribution_days as i64 * MILLIS_PER_DAY;
        let mut all_windows: HashMap<u32, Vec<Millis>> = HashMap::new();
        let mut all_touched: BTreeSet<&str> = BTreeSet::new();
        let mut overall = StrategyOutlook::default();
        let mut strategies = BTreeMap::new();
        for (id, s) in &log.by_strategy {
            let mut windows: HashMap<u32, Vec<Millis>> = HashMap::new();
            let mut incomplete = 0;
            for (member, at) in &s.selected {
                let Some(m) = base.index_of(member) else { continue };
                if at.saturating_add(window) > data_end {
                    incomplete += 1;
                    continue;
                }
                windows.entry(m).or_default().push(*at);
                all_windows.entry(m).or_default().push(*at);
            }
            let baseline = baseline(base, &windows, window, incomplete);
            let mut cost =
                Cost { benefits_fen: s.benefits, touched_members: s.touched.len() as u64, ..Cost::default() };
            discounts(&mut cost, &s.invites, list_prices);
            all_touched.extend(s.touched.iter().map(String::as_str));
            let c = &mut overall.cost;
            c.benefits_fen = c.benefits_fen.saturating_add(cost.benefits_fen);
            c.group_buy_discounts_fen = c.group_buy_discounts_fen.saturating_add(cost.group_buy_discounts_fen);
            c.group_buy_invites += cost.group_buy_invites;
            c.group_buy_invites_unpriced += cost.group_buy_invites_unpriced;
            overall.baseline.incomplete += incomplete;
            strategies.insert(id.clone(), StrategyOutlook { cost: priced(cost, &baseline, settings), baseline });
        }
        let incomplete = overall.baseline.incomplete;
        overall.baseline = baseline(base, &all_windows, window, incomplete);
        overall.cost.touched_members = all_touched.len() as u64;
        overall.cost = priced(overall.cost, &overall.baseline, settings);
        Outlook { settings: settings.clone(), data_end, strategies, overall }
    }
}

/// Fills in the total, the cost per touched member and the break-even lift.
fn priced(mut cost: Cost, baseline: &Baseline, settings: &ReportSettings) -> Cost {
    cost.total_fen = cost.benefits_fen.saturating_add(cost.group_buy_discounts_fen);
    let per_member = (cost.touched_members > 0).then(|| cost.total_fen as f64 / cost.touched_members as f64);
    cost.per_touched_member_fen = per_member.map(|f| f.round() as Fen);
    cost.break_even_pp = per_member
        .and_then(|per_member| break_even_pp(per_member, baseline.average_order_value_fen? as f64, settings.margin));
    cost
}

/// The members' orders inside any of their windows, each once.
fn baseline(base: &MemberBase, windows: &HashMap<u32, Vec<Millis>>, window: Millis, incomplete: u64) -> Baseline {
    let mut b = Baseline { members: windows.len() as u64, incomplete, ..Baseline::default() };
    for (&m, starts) in windows {
        let mut converted = false;
        for o in base.orders_as_of(m, Millis::MAX) {
            if starts.iter().any(|&t| o.at > t && o.at <= t.saturating_add(window)) {
                converted = true;
                b.orders += 1;
                // Saturating: amounts are bounded at import, and no data can wrap a sum.
                b.revenue_fen = b.revenue_fen.saturating_add(o.amount);
            }
        }
        b.converted += u64::from(converted);
    }
    b.conversion = (b.members > 0).then(|| b.converted as f64 / b.members as f64);
    b.average_order_value_fen = (b.orders > 0).then(|| (b.revenue_fen as f64 / b.orders as f64).round() as Fen);
    b
}

/// Adds each invite's discount off the product's list price (none for a
/// group price at or above it).
fn discounts(cost: &mut Cost, invites: &[Invite], list_prices: &HashMap<String, Fen>) {
    for invite in invites {
        cost.group_buy_invites += 1;
        match list_prices.get(&invite.sku) {
            Some(list) => {
                let discount = crate::referrals::discount(*list, invite.price);
                cost.group_buy_discounts_fen = cost.group_buy_discounts_fen.saturating_add(discount);
            }
            None => cost.group_buy_invites_unpriced += 1,
        }
    }
}

#[cfg(test)]
#[path = "outlook_tests.rs"]
mod tests;
