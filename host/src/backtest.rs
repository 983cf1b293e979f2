//! Did it work? For every touch a simulation sent, the orders the data holds
//! in the attribution window after it; the same for the holdout group, whose
//! touches were withheld; the difference is the uplift, with a 95%
//! confidence interval. Attributed sales are split into new, existing and
//! re-activated customers.
//!
//! The unit is a member per strategy: a member touched (or held out) by a
//! strategy converted if they ordered within the window after any of its
//! touches; revenue is the sum of the orders inside those windows (an order
//! counts once per strategy). Overall pools the strategies: each strategy's
//! holdout is a random share of its own selection, so pooling (member,
//! strategy) pairs keeps the comparison fair, where comparing "touched by
//! any" with "held out by some, touched by none" would not be. A member
//! touched by two strategies counts twice there, and an order in the windows
//! of two strategies is attributed to both. A touch whose window runs past
//! the end of the data is left out (and counted), since its outcome is unknown.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::member_base::MemberBase;
use crate::model::{Decision, DecisionStatus, Fen, Millis};

const MILLIS_PER_DAY: i64 = 86_400_000;
/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_964;

/// `[report]` in the canvas config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BacktestSettings {
    /// Days after a touch in which an order counts as its conversion.
    pub attribution_days: u32,
    /// An order after this many days without one re-activates a customer.
    pub reactivation_days: u32,
    /// The share of an extra order's value left to pay for benefits (0 to
    /// 1), which a simulation's break-even lift divides by. 0.6 by default:
    /// apparel sells at roughly 2.5× its cost of goods, so about 60% of an
    /// order's value is gross margin before the benefit.
    pub margin: f64,
}

impl Default for BacktestSettings {
    fn default() -> Self {
        BacktestSettings { attribution_days: 7, reactivation_days: 90, margin: 0.6 }
    }
}

/// One touch (or withheld touch) to score.
#[derive(Clone, Debug)]
struct ScoredTouch {
    member_id: String,
    at: Millis,
    holdout: bool,
}

/// Collects the touches of a simulation, per strategy.
#[derive(Clone, Debug, Default)]
pub struct TouchLog {
    by_strategy: BTreeMap<String, Vec<ScoredTouch>>,
}

impl TouchLog {
    /// Sent touches count at their send time; holdouts at the run instant
    /// they were withheld; suppressed ones not at all.
    pub fn add(&mut self, d: &Decision) {
        let (at, holdout) = match d.status {
            DecisionStatus::Holdout => (d.run_at, true),
            _ => match d.planned_send_at() {
                Some(at) => (at, false),
                None => return,
            },
        };
        let touch = ScoredTouch { member_id: d.member_id.clone(), at, holdout };
        self.by_strategy.entry(d.strategy.clone()).or_default().push(touch);
    }
}

/// How one group (the touched, or the held out) of a strategy did in the
/// windows after its touches.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GroupOutcome {
    /// Members in the group.
    pub members: u64,
    /// Of them, those who ordered within a window after a touch.
    pub converted: u64,
    /// Orders inside a window after one of the member's touches, each counted once.
    pub orders: u64,
    /// Fen.
    pub revenue: Fen,
}

impl GroupOutcome {
    /// The share of members who converted, 0 to 1; None for an empty group.
    pub fn conversion(&self) -> Option<f64> {
        (self.members > 0).then(|| self.converted as f64 / self.members as f64)
    }
}

/// Touched minus holdout conversion (fractions: 0.012 is 1.2 percentage
/// points), with its 95% interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Uplift {
    /// Touched conversion minus holdout conversion.
    pub difference: f64,
    /// The interval's lower end (Newcombe's, from two Wilson intervals).
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
    /// Difference over the holdout's rate, when that is not zero.
    pub relative: Option<f64>,
}

/// Attributed sales of touched members by the kind of customer at the order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SalesSplit {
    /// First order ever. Fen.
    pub new: Fen,
    /// The previous order within `reactivation_days`. Fen.
    pub existing: Fen,
    /// After more than `reactivation_days` without an order. Fen.
    pub reactivated: Fen,
}

/// One strategy's backtest (or, as [`Backtest::overall`], all of them pooled).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StrategyBacktest {
    /// Members sent (or to be sent) a touch.
    pub touched: GroupOutcome,
    /// Members whose touch was withheld for the control group.
    pub holdout: GroupOutcome,
    /// None while either group is empty.
    pub uplift: Option<Uplift>,
    /// The touched group's attributed sales by kind of customer.
    pub sales: SalesSplit,
    /// Touches left out because their window runs past the data.
    pub incomplete: u64,
}

/// A simulation's backtest: per strategy, and pooled over (member, strategy) pairs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Backtest {
    /// The windows it was scored with.
    pub settings: BacktestSettings,
    /// The last order in the data: windows must end by then.
    pub data_end: Millis,
    /// By strategy id; a strategy with no touch to score is absent.
    pub strategies: BTreeMap<String, StrategyBacktest>,
    /// The strategies pooled: their groups added up, and the uplift of the sums.
    pub overall: StrategyBacktest,
}

impl Backtest {
    /// Scores the touches against the orders in `base` (all of them, past
    /// the simulated period too: that is what the windows look at).
    pub fn score(base: &MemberBase, touches: &TouchLog, settings: &BacktestSettings) -> Self {
        let data_end = base.last_order_at().unwrap_or(Millis::MIN);
        let window = settings.attribution_days as i64 * MILLIS_PER_DAY;
        let mut strategies = BTreeMap::new();
        for (id, list) in &touches.by_strategy {
            let mut sent: HashMap<u32, Vec<Millis>> = HashMap::new();
            let mut held: HashMap<u32, Vec<Millis>> = HashMap::new();
            let mut incomplete = 0;
            for t in list {
                let Some(member) = base.index_of(&t.member_id) else { continue };
                if t.at + window > data_end {
                    incomplete += 1;
                    continue;
                }
                let group = if t.holdout { &mut held } else { &mut sent };
                group.entry(member).or_default().push(t.at);
            }
            strategies.insert(id.clone(), outcome_of(base, &sent, &held, window, settings, incomplete));
        }
        let overall = pooled(strategies.values());
        Backtest { settings: settings.clone(), data_end, strategies, overall }
    }
}

fn outcome_of(
    base: &MemberBase,
    sent: &HashMap<u32, Vec<Millis>>,
    held: &HashMap<u32, Vec<Millis>>,
    window: Millis,
    settings: &BacktestSettings,
    incomplete: u64,
) -> StrategyBacktest {
    let mut sales = SalesSplit::default();
    let touched = group(base, sent, window, Some((&mut sales, settings.reactivation_days)));
    let holdout = group(base, held, window, None);
    let uplift = uplift(&touched, &holdout);
    StrategyBacktest { touched, holdout, uplift, sales, incomplete }
}

/// The strategies' groups added up, and the uplift of the sums.
fn pooled<'a>(strategies: impl Iterator<Item = &'a StrategyBacktest>) -> StrategyBacktest {
    let mut total = StrategyBacktest::default();
    for s in strategies {
        for (sum, part) in [(&mut total.touched, &s.touched), (&mut total.holdout, &s.holdout)] {
            sum.members = sum.members.saturating_add(part.members);
            sum.converted = sum.converted.saturating_add(part.converted);
            sum.orders = sum.orders.saturating_add(part.orders);
            sum.revenue = sum.revenue.saturating_add(part.revenue);
        }
        for (sum, part) in [
            (&mut total.sales.new, s.sales.new),
            (&mut total.sales.existing, s.sales.existing),
            (&mut total.sales.reactivated, s.sales.reactivated),
        ] {
            *sum = sum.saturating_add(part);
        }
        total.incomplete = total.incomplete.saturating_add(s.incomplete);
    }
    total.uplift = uplift(&total.touched, &total.holdout);
    total
}

/// The difference in conversion with Newcombe's 95% interval (built from
/// the two Wilson score intervals: sound for small groups and for rates of
/// 0 or 1, where the plain normal interval collapses); `None` while either
/// group is empty.
pub fn uplift(touched: &GroupOutcome, holdout: &GroupOutcome) -> Option<Uplift> {
    let (p1, p2) = (touched.conversion()?, holdout.conversion()?);
    let (l1, u1) = wilson(p1, touched.members as f64);
    let (l2, u2) = wilson(p2, holdout.members as f64);
    let difference = p1 - p2;
    Some(Uplift {
        difference,
        low: difference - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        high: difference + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
        relative: (p2 > 0.0).then(|| difference / p2),
    })
}

/// The Wilson score interval of a proportion `p` of `n`.
fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (centre - half, centre + half)
}

fn group(
    base: &MemberBase,
    members: &HashMap<u32, Vec<Millis>>,
    window: Millis,
    mut split: Option<(&mut SalesSplit, u32)>,
) -> GroupOutcome {
    let mut outcome = GroupOutcome { members: members.len() as u64, ..GroupOutcome::default() };
    for (&m, touch_times) in members {
        let orders = base.orders_as_of(m, Millis::MAX);
        let mut converted = false;
        for (i, o) in orders.iter().enumerate() {
            if !touch_times.iter().any(|&t| o.at > t && o.at <= t + window) {
                continue;
            }
            converted = true;
            // Saturating: amounts are bounded at import, and no data can wrap a sum.
            outcome.orders = outcome.orders.saturating_add(1);
            outcome.revenue = outcome.revenue.saturating_add(o.amount);
            if let Some((sales, reactivation_days)) = split.as_mut() {
                let gap = i.checked_sub(1).map(|p| o.at - orders[p].at);
                let part = match gap {
                    None => &mut sales.new,
                    Some(gap) if gap > *reactivation_days as i64 * MILLIS_PER_DAY => &mut sales.reactivated,
                    Some(_) => &mut sales.existing,
                };
                *part = part.saturating_add(o.amount);
            }
        }
        outcome.converted += u64::from(converted);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;
    use crate::model::{bare_member, DataSet, Order, OrderChannel};

    #[test]
    fn uplift_has_a_95_percent_interval_around_the_difference() {
        let touched = GroupOutcome { members: 1000, converted: 100, ..Default::default() };
        let holdout = GroupOutcome { members: 1000, converted: 50, ..Default::default() };
        let u = uplift(&touched, &holdout).unwrap();
        assert!((u.difference - 0.05).abs() < 1e-9);
        assert!((u.low - 0.0271).abs() < 5e-4 && (u.high - 0.0734).abs() < 5e-4, "{u:?}");
        assert_eq!(u.relative, Some(1.0));
        assert!(uplift(&touched, &GroupOutcome::default()).is_none());
        // A small holdout with no conversions does not make the difference look certain.
        let some = GroupOutcome { members: 235, converted: 12, ..Default::default() };
        let none = GroupOutcome { members: 24, converted: 0, ..Default::default() };
        let u = uplift(&some, &none).unwrap();
        assert!(u.low < 0.0 && u.high > 0.05, "{u:?}");
    }

    fn order(id: &str, member: &str, at: &str, yuan: i64) -> Order {
        Order {
            id: id.into(),
            member_id: member.into(),
            placed_at: parse_instant(at).unwrap(),
            amount: yuan * 100,
            channel: OrderChannel::Online,
            category: "tops".into(),
            sku: "T".into(),
        }
    }

    #[test]
    fn orders_inside_the_window_convert_and_split_by_kind_of_customer() {
        let data = DataSet {
            members: ["NEW", "BACK", "REG", "NONE", "HELD"].map(bare_member).to_vec(),
            orders: vec![
                order("1", "NEW", "2026-03-03T12:00:00+08:00", 100),
                order("2", "BACK", "2025-10-01T12:00:00+08:00", 50),
                order("3", "BACK", "2026-03-08T09:59:00+08:00", 200),
                order("4", "REG", "2026-02-20T12:00:00+08:00", 50),
                order("5", "REG", "2026-03-02T12:00:00+08:00", 300),
                order("6", "REG", "2026-03-09T12:00:00+08:00", 999),
                order("7", "HELD", "2026-03-04T12:00:00+08:00", 80),
                order("8", "NONE", "2026-06-01T12:00:00+08:00", 10),
            ],
            ..Default::default()
        };
        let base = MemberBase::build(Default::default(), data);
        let at = parse_instant("2026-03-01T10:00:00+08:00").unwrap();
        let mut log = TouchLog::default();
        let decision = |member: &str, status| Decision {
            key: format!("s/x/p/{member}"),
            strategy: "s".into(),
            plugin_version: "1".into(),
            plugin_sha256: "".into(),
            run_at: at,
            day: 0,
            member_id: member.into(),
            step: "x".into(),
            action: crate::model::ActionKind::Message,
            channel: "wecom".into(),
            template: "t".into(),
            variables: vec![],
            benefit: None,
            coupon_id: None,
            guide_id: None,
            group_buy: None,
            status,
            reason: None,
            send_at: None,
        };
        for m in ["NEW", "BACK", "REG", "NONE"] {
            log.add(&decision(m, DecisionStatus::Dispatched));
        }
        log.add(&decision("HELD", DecisionStatus::Holdout));
        log.add(&decision("NONE", DecisionStatus::Suppressed));
        let b = Backtest::score(&base, &log, &BacktestSettings::default());
        let s = &b.strategies["s"];
        assert_eq!(
            (s.touched.members, s.touched.converted, s.touched.orders),
            (4, 3, 3),
            "REG's 9 March order is past 7 days"
        );
        assert_eq!(s.touched.revenue, 60_000);
        assert_eq!(s.sales, SalesSplit { new: 10_000, existing: 30_000, reactivated: 20_000 });
        assert_eq!((s.holdout.members, s.holdout.converted), (1, 1));
        assert_eq!(b.overall.touched.members, 4);
        assert_eq!(b.overall.holdout.members, 1);
    }

    /// Amounts are bounded at import; even so, no data can make revenue
    /// wrap around to a negative sum: it stops at the largest one.
    #[test]
    fn revenue_and_sales_saturate_instead_of_wrapping() {
        let huge = i64::MAX / 2 + 1;
        let data = DataSet {
            members: vec![bare_member("A")],
            orders: [("1", "2026-03-02T12:00:00+08:00"), ("2", "2026-03-03T12:00:00+08:00")]
                .map(|(id, at)| Order { amount: huge, ..order(id, "A", at, 0) })
                .to_vec(),
            ..Default::default()
        };
        let base = MemberBase::build(Default::default(), data);
        let touched = HashMap::from([(0, vec![parse_instant("2026-03-01T10:00:00+08:00").unwrap()])]);
        let mut sales = SalesSplit::default();
        let outcome = group(&base, &touched, 30 * MILLIS_PER_DAY, Some((&mut sales, 90)));
        assert_eq!((outcome.orders, outcome.revenue), (2, i64::MAX));
        assert_eq!(sales.new.saturating_add(sales.existing), i64::MAX);
        let strategy = StrategyBacktest { touched: outcome, sales, ..Default::default() };
        let pooled = pooled([strategy.clone(), strategy].iter());
        assert_eq!(pooled.touched.revenue, i64::MAX);
        assert_eq!(pooled.sales.existing, i64::MAX);
    }
}
