//! `/metrics` in the Prometheus (OpenMetrics) text format: runs (and whether
//! one is in flight), decisions by status, dispatch latency and outcomes,
//! plugin fuel and errors, trigger firings and how late they were decided.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::dispatch::DispatchReport;
use crate::model::{Decision, RunOutcome, RunRecord};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StrategyLabel {
    strategy: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    strategy: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    strategy: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    outcome: String,
}

pub struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    decisions: Family<DecisionLabels, Counter>,
    fuel: Family<StrategyLabel, Counter>,
    plugin_errors: Family<StrategyLabel, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
    dispatch_latency: Histogram,
    runs_in_flight: Gauge,
    runs_waiting: Gauge,
    firings: Family<FiringLabels, Counter>,
    firing_lag: Histogram,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FiringLabels {
    strategy: String,
    outcome: String,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("canvas");
        let runs = Family::<RunLabels, Counter>::default();
        registry.register("runs", "Strategy runs, by outcome", runs.clone());
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register("decisions", "Decisions, by final status", decisions.clone());
        let fuel = Family::<StrategyLabel, Counter>::default();
        registry.register("plugin_fuel", "Fuel the plugins used", fuel.clone());
        let plugin_errors = Family::<StrategyLabel, Counter>::default();
        registry.register("plugin_errors", "Runs a plugin failed (trap, limit, error)", plugin_errors.clone());
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "deliveries",
            "Deliveries, by outcome (rate_limited: turned away with a 429, not counted as an attempt)",
            deliveries.clone(),
        );
        let dispatch_latency = Histogram::new([0.05, 0.25, 1.0, 5.0, 30.0, 60.0, 300.0, 1_800.0, 3_600.0, 86_400.0]);
        registry.register(
            "dispatch_latency_seconds",
            "From when a touch was due to when it was delivered",
            dispatch_latency.clone(),
        );
        let runs_in_flight = Gauge::default();
        registry.register("runs_in_flight", "Runs deciding now (0 or 1: one run at a time)", runs_in_flight.clone());
        let runs_waiting = Gauge::default();
        registry.register("runs_waiting", "Runs waiting for the one in flight to end", runs_waiting.clone());
        let firings = Family::<FiringLabels, Counter>::default();
        registry.register(
            "trigger_firings",
            "Trigger firings, by outcome (decided, called_off, dropped: its strategy no longer runs)",
            firings.clone(),
        );
        let firing_lag = Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 30.0, 300.0]);
        registry.register(
            "trigger_lag_seconds",
            "From when a trigger firing was due to when its decisions were recorded",
            firing_lag.clone(),
        );
        Metrics {
            firings,
            firing_lag,
            registry,
            runs,
            decisions,
            fuel,
            plugin_errors,
            deliveries,
            dispatch_latency,
            runs_in_flight,
            runs_waiting,
        }
    }
}

/// A run counted in `canvas_runs_in_flight` while this lives.
pub struct RunInFlight<'m>(&'m Gauge);

impl Drop for RunInFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// Counts a run in flight until the returned guard is dropped (panics included).
    pub fn run_in_flight(&self) -> RunInFlight<'_> {
        self.runs_in_flight.inc();
        RunInFlight(&self.runs_in_flight)
    }

    /// One more (1) or one fewer (-1) run waiting for its turn.
    pub fn runs_waiting(&self, change: i64) {
        self.runs_waiting.inc_by(change);
    }

    pub fn record_run(&self, run: &RunRecord) {
        let outcome = match run.outcome {
            RunOutcome::Completed => "completed",
            RunOutcome::Failed { .. } => "failed",
        };
        self.runs.get_or_create(&RunLabels { strategy: run.strategy.clone(), outcome: outcome.into() }).inc();
        let strategy = StrategyLabel { strategy: run.strategy.clone() };
        self.fuel.get_or_create(&strategy).inc_by(run.fuel_used);
        if matches!(run.outcome, RunOutcome::Failed { .. }) {
            self.plugin_errors.get_or_create(&strategy).inc();
        }
    }

    /// `n` firings of `strategy` ended so (`decided`, `called_off`, `dropped`).
    pub fn record_firings(&self, strategy: &str, outcome: &str, n: u64) {
        if n > 0 {
            let labels = FiringLabels { strategy: strategy.to_string(), outcome: outcome.to_string() };
            self.firings.get_or_create(&labels).inc_by(n);
        }
    }

    /// A firing due at `due` was decided at `now`.
    pub fn record_firing_lag(&self, due: crate::model::Millis, now: crate::model::Millis) {
        self.firing_lag.observe((now - due).max(0) as f64 / 1000.0);
    }

    pub fn record_decision(&self, d: &Decision) {
        let labels = DecisionLabels { strategy: d.strategy.clone(), status: d.status.as_str().into() };
        self.decisions.get_or_create(&labels).inc();
    }

    pub fn record_dispatch(&self, report: &DispatchReport) {
        let outcomes = [
            ("delivered", report.delivered),
            ("retried", report.retried),
            ("dead", report.dead),
            ("rate_limited", report.rate_limited),
        ];
        for (outcome, n) in outcomes {
            self.deliveries.get_or_create(&DeliveryLabels { outcome: outcome.into() }).inc_by(n);
        }
        for &latency in &report.latencies {
            self.dispatch_latency.observe(latency.max(0) as f64 / 1000.0);
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
