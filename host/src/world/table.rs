//! Planted against measured, per strategy: what the world was told to do
//! beside what the live results measured, and whether each true value lies
//! inside its 95% interval — the uplift in Newcombe's interval of the
//! results, the background conversion in a Wilson interval of the holdout's
//! conversion, the harm as touched minus holdout deletion rates.

use serde::Serialize;

use super::Plan;
use crate::results::{Results, Row};

/// One strategy's line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlantedVsMeasured {
    /// The strategy.
    pub strategy: String,
    /// The planted extra probability of an order after a touch (0–1).
    pub lift: f64,
    /// The uplift that lift makes, in pp: lift × (1 − background conversion).
    pub planted_uplift_pp: f64,
    /// The results' uplift and its 95% interval, pp; `None` without touched and held-out members.
    pub measured_uplift_pp: Option<(f64, f64, f64)>,
    /// Whether the planted uplift lies in the measured interval.
    pub uplift_inside: Option<bool>,
    /// Members touched, held out.
    pub touched: u64,
    /// Members held out.
    pub held_out: u64,
    /// The background conversion within the attribution window (0–1).
    pub background_conversion: f64,
    /// The holdout's conversion and its 95% Wilson interval (0–1).
    pub holdout_conversion: Option<(f64, f64, f64)>,
    /// Whether the background conversion lies in the holdout's interval.
    pub holdout_inside: Option<bool>,
    /// The planted deletion probability of an over-touching touch.
    pub harm: f64,
    /// Touched and held-out deletion rates (0–1), and the difference's interval in pp.
    pub harm_rates: Option<(f64, f64, f64, f64)>,
}

/// One line per strategy that ran, in id order.
pub fn planted_vs_measured(plan: &Plan, strategies: &[String], results: &Results) -> Vec<PlantedVsMeasured> {
    let days = results.attribution_days;
    strategies
        .iter()
        .map(|id| {
            let empty = Row::default();
            let row = results.groups.iter().find(|r| r.key.get("strategy") == Some(id)).unwrap_or(&empty);
            let planted = plan.planted_uplift(id, days) * 100.0;
            let measured = match (row.uplift_pp, row.uplift_low_pp, row.uplift_high_pp) {
                (Some(u), Some(l), Some(h)) => Some((u, l, h)),
                _ => None,
            };
            let background = plan.background_conversion(days);
            let holdout = row.holdout_conversion.map(|c| {
                let (low, high) = wilson(row.holdout_converted, row.held_out);
                (c, low, high)
            });
            let harm_rates =
                match (row.touched_harm_rate, row.holdout_harm_rate, row.harm_uplift_low_pp, row.harm_uplift_high_pp) {
                    (Some(t), Some(h), Some(l), Some(u)) => Some((t, h, l, u)),
                    _ => None,
                };
            PlantedVsMeasured {
                strategy: id.clone(),
                lift: plan.lift.get(id).copied().unwrap_or(0.0),
                planted_uplift_pp: (planted * 100.0).round() / 100.0,
                uplift_inside: measured.map(|(_, l, h)| (l..=h).contains(&planted)),
                measured_uplift_pp: measured,
                touched: row.touched,
                held_out: row.held_out,
                background_conversion: background,
                holdout_inside: holdout.map(|(_, l, h)| (l..=h).contains(&background)),
                holdout_conversion: holdout,
                harm: plan.harm.map_or(0.0, |h| h.probability),
                harm_rates,
            }
        })
        .collect()
}

/// Wilson's 95% interval of `k` in `n` (0–1).
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (low, high) = crate::uplift::wilson(k as f64 / n as f64, n as f64);
    (low.max(0.0), high.min(1.0))
}

/// The lines as a table for a terminal.
pub fn render_table(rows: &[PlantedVsMeasured]) -> String {
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let yes = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    };
    let mut lines = vec![format!(
        "{:<24} {:>6} {:>9}  {:<26} {:>7}  {:>7} {:>8}  {:<25} {:>7}  {:>6}  {:<30}",
        "strategy",
        "lift",
        "planted",
        "measured uplift [95%]",
        "inside",
        "touched",
        "held out",
        "holdout conv. [95%]",
        "bg conv",
        "harm",
        "deleted: touched vs held out [diff 95%]"
    )];
    lines.push("─".repeat(lines[0].chars().count()));
    for r in rows {
        let measured =
            r.measured_uplift_pp.map_or("-".to_string(), |(u, l, h)| format!("{u:+.1} pp [{l:+.1}, {h:+.1}]"));
        let holdout =
            r.holdout_conversion.map_or("-".to_string(), |(c, l, h)| format!("{} [{}, {}]", pct(c), pct(l), pct(h)));
        let harm = r
            .harm_rates
            .map_or("-".to_string(), |(t, h, l, u)| format!("{} vs {} [{l:+.1}, {u:+.1}] pp", pct(t), pct(h)));
        lines.push(format!(
            "{:<24} {:>6} {:>6.1} pp  {:<26} {:>7}  {:>7} {:>8}  {:<25} {:>7}  {:>6}  {}",
            r.strategy,
            pct(r.lift),
            r.planted_uplift_pp,
            measured,
            yes(r.uplift_inside),
            r.touched,
            r.held_out,
            holdout,
            pct(r.background_conversion),
            pct(r.harm),
            harm
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilsons_interval_holds_the_rate_and_stays_within_0_and_1() {
        let (l, h) = wilson(10, 100);
        assert!(l < 0.1 && 0.1 < h && l > 0.04 && h < 0.18, "{l} {h}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
        let (l, h) = wilson(0, 50);
        assert_eq!(l, 0.0);
        assert!(h > 0.0 && h < 0.1);
    }
}
