//! A synthetic population that responds to the touches it actually
//! receives: the closed loop that proves live results right (issue 34).
//!
//! A [`World`] stands over a brand's members with a [`Plan`] of what is
//! planted in it, and nothing else:
//!
//! - **background orders**: every member — touched, held out or neither —
//!   orders on any day with the probability `background` (at a time drawn
//!   uniformly in the brand-local day, a product drawn from the catalogue at
//!   its list price). A day's orders are sent at the start of that day: a
//!   run sees only orders placed by its instant, so sending them early
//!   changes nothing a run sees, and keeps a seeded loop deterministic.
//! - **lift**: a member touched by strategy S orders, on top of that, with
//!   the probability `lift[S]`, at a time drawn uniformly in the `lift_days`
//!   after the touch (its `send_at`, else its run instant). The holdout is
//!   never touched, so it converts at the background rate.
//! - **harm**: a touch that makes a member's touches in the last 7 days more
//!   than `harm.over` makes them delete the brand on WeCom (`wecom_deleted`)
//!   with the probability `harm.probability`, within a day of the touch.
//!
//! The world is the webhook sink (`receiver.rs`): it records each touch
//! once by its `Idempotency-Key` (a redelivery draws nothing). Its reactions
//! go back through the service's ingest API (`ingest.rs`) when the loop
//! settles it — after the service has run and delivered everything due at
//! an instant — so what it sends never races a delivery or a run.
//!
//! Every draw is keyed by what it is about (member and day, touch key), not
//! by the order things arrive in (`draw.rs`), so one seed gives one world
//! however the service's threads interleave. `respond.rs` makes the orders
//! and events; `run.rs` drives `serve` day after day over generated data;
//! `table.rs` sets planted against measured.

mod draw;
pub mod ingest;
pub mod receiver;
mod respond;
pub mod run;
pub mod table;

use std::collections::BTreeMap;

pub use respond::{Reactions, Touch, World, WorldCounts};
pub use run::{run_loop, LoopOptions, LoopOutcome};
pub use table::{render_table, PlantedVsMeasured};

/// What is planted in the world.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Keys every draw.
    pub seed: u64,
    /// Strategy id → the extra probability that a member it touched orders
    /// within `lift_days` (0–1). A strategy not named here has none.
    pub lift: BTreeMap<String, f64>,
    /// The days after a touch the lift's order falls in (at most the
    /// results' attribution window, or the lift would not be measured whole).
    pub lift_days: u32,
    /// The daily probability (0–1) that any member orders.
    pub background: f64,
    /// Deletions by over-touched members, if planted.
    pub harm: Option<Harm>,
}

/// Over-touched members delete the brand on WeCom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Harm {
    /// More touches than this in 7 days is over-touched.
    pub over: u32,
    /// The probability (0–1) that the touch that makes a member over-touched makes them delete.
    pub probability: f64,
}

/// The days a member's touches are counted over for harm.
pub const HARM_COUNT_DAYS: i64 = 7;

/// A plan the world cannot stand over, naming the setting and its limit.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    /// A probability outside 0–1 (or not a number).
    #[error("{what} is {value}: a probability must be between 0 and 1")]
    Probability {
        /// Which one (`lift of dormant-recall`, `background`, `harm`).
        what: String,
        /// What was given.
        value: f64,
    },
    /// `lift_days` of 0, or longer than the attribution window.
    #[error("lift days is {days}: must be 1 to the attribution window ({attribution_days} days), or the lift is not measured whole")]
    LiftDays {
        /// What was given.
        days: u32,
        /// `[report] attribution_days`.
        attribution_days: u32,
    },
}

impl Plan {
    /// Refuses probabilities outside 0–1 and a lift window the results would cut.
    pub fn check(&self, attribution_days: u32) -> Result<(), PlanError> {
        let probability = |what: String, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(PlanError::Probability { what, value })
            }
        };
        for (strategy, lift) in &self.lift {
            probability(format!("the lift of {strategy}"), *lift)?;
        }
        probability("the background rate".into(), self.background)?;
        if let Some(harm) = &self.harm {
            probability("the harm probability".into(), harm.probability)?;
        }
        if self.lift_days == 0 || self.lift_days > attribution_days {
            return Err(PlanError::LiftDays { days: self.lift_days, attribution_days });
        }
        Ok(())
    }

    /// The background conversion of a member within `days` of an instant:
    /// 1 − (1 − background)^days. (Exact for a window that starts at
    /// midnight; one starting inside a day differs by less than
    /// background²/4, far below any interval's width.)
    pub fn background_conversion(&self, days: u32) -> f64 {
        1.0 - (1.0 - self.background).powi(days as i32)
    }

    /// The uplift planted for `strategy`, as a fraction: a touched member
    /// converts unless neither the lift nor the background makes them, so
    /// touched − holdout = lift × (1 − background conversion).
    pub fn planted_uplift(&self, strategy: &str, days: u32) -> f64 {
        self.lift.get(strategy).copied().unwrap_or(0.0) * (1.0 - self.background_conversion(days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan { seed: 1, lift: BTreeMap::from([("s".into(), 0.3)]), lift_days: 7, background: 0.01, harm: None }
    }

    #[test]
    fn a_plan_refuses_probabilities_outside_0_to_1_and_a_lift_longer_than_the_window() {
        assert_eq!(plan().check(7), Ok(()));
        let mut p = plan();
        p.lift.insert("t".into(), 1.5);
        assert!(p.check(7).unwrap_err().to_string().contains("the lift of t is 1.5"));
        let p = Plan { background: f64::NAN, ..plan() };
        assert!(matches!(p.check(7), Err(PlanError::Probability { .. })));
        let p = Plan { lift_days: 8, ..plan() };
        assert_eq!(p.check(7), Err(PlanError::LiftDays { days: 8, attribution_days: 7 }));
    }

    #[test]
    fn the_planted_uplift_is_the_lift_of_those_the_background_would_not_have_made_buy() {
        let p = plan();
        let base = 1.0 - 0.99f64.powi(7);
        assert!((p.background_conversion(7) - base).abs() < 1e-12);
        assert!((p.planted_uplift("s", 7) - 0.3 * (1.0 - base)).abs() < 1e-12);
        assert_eq!(p.planted_uplift("other", 7), 0.0);
    }
}
