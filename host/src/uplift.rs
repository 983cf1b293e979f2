//! Conversion against a holdout: the touched group's rate minus the held-out
//! group's, with a 95% interval — what live results ([`crate::results`])
//! and the closed loop ([`crate::world`]) report — and the `[report]`
//! settings both those and a simulation's outlook read.
//!
//! Only touches that were really sent can have an uplift: a simulation's
//! never were, so it reports [`crate::outlook`] (baseline and break-even) instead.

use serde::{Deserialize, Serialize};

use crate::model::Fen;

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_964;

/// `[report]` in the canvas config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// Days after a touch in which an order counts as its conversion.
    pub attribution_days: u32,
    /// The share of an extra order's value left to pay for benefits (0 to
    /// 1), which a simulation's break-even lift divides by. 0.6 by default:
    /// apparel sells at roughly 2.5× its cost of goods, so about 60% of an
    /// order's value is gross margin before the benefit.
    pub margin: f64,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings { attribution_days: 7, margin: 0.6 }
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
pub fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (centre - half, centre + half)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
