//! One run of one strategy: evaluate its audience as of the run instant, call
//! the plugin in batches, check what it returns, record every decision.
//!
//! A plugin that fails (trap, limit, error, invalid touch) fails its own run:
//! the run is recorded with the reason, decisions of earlier batches stand,
//! and the caller goes on with the other strategies.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::audience::{self, RunClock};
use crate::calendar::date_of_day;
use crate::config::{merge_config, StrategySettings};
use crate::decision_log::DecisionLog;
use crate::member_base::MemberBase;
use crate::model::{self, ActionKind, Decision, DecisionStatus, Event, GroupBuy, Millis, RunOutcome, RunRecord};
use crate::runtime::{api, LoadedPlugin, PluginEngine, PluginError, PluginRejected};
use crate::schedule::Schedule;
use crate::store::Store;

/// A strategy ready to run: a checked plugin, its effective config and schedule.
pub struct Strategy {
    pub plugin: LoadedPlugin,
    pub config: serde_json::Value,
    pub schedule: Schedule,
}

/// Why a strategy cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    #[error(transparent)]
    Rejected(#[from] PluginRejected),
    #[error("strategies.{id}.config is rejected by the plugin: {reason}")]
    BadConfig { id: String, reason: String },
    #[error("strategies.{id}.schedule: {reason}")]
    BadSchedule { id: String, reason: String },
}

impl Strategy {
    /// Lays the operator's settings over the plugin's defaults and has the
    /// plugin check the result.
    pub fn new(plugin: LoadedPlugin, settings: &StrategySettings) -> Result<Self, StrategyError> {
        let id = plugin.id().to_string();
        let config = merge_config(&plugin.manifest.default_config, &settings.config);
        if let Err(e) = plugin.audience(&config) {
            let reason = match e {
                PluginError::Returned { message, .. } => message,
                other => other.to_string(),
            };
            return Err(StrategyError::BadConfig { id, reason });
        }
        let schedule = match &settings.schedule {
            Some(expression) => {
                Schedule::parse(expression).map_err(|reason| StrategyError::BadSchedule { id, reason })?
            }
            None => plugin.manifest.schedule.clone(),
        };
        Ok(Strategy { plugin, config, schedule })
    }

    pub fn id(&self) -> &str {
        self.plugin.id()
    }
}

/// Loads every `.wasm` file in `dir`, in file-name order. Files the host
/// refuses are returned apart, so one bad file does not stop the others.
pub fn load_plugins(
    engine: &Arc<PluginEngine>,
    dir: &Path,
) -> anyhow::Result<(Vec<LoadedPlugin>, Vec<PluginRejected>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the plugin folder {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .collect();
    files.sort();
    let (mut loaded, mut rejected) = (Vec::<LoadedPlugin>::new(), Vec::new());
    for file in files {
        match engine.load(&file) {
            Ok(plugin) => match loaded.iter().find(|p| p.id() == plugin.id()) {
                Some(first) => rejected.push(PluginRejected {
                    file: file.display().to_string(),
                    reason: format!("its id `{}` is already taken by {}", plugin.id(), first.path.display()),
                }),
                None => loaded.push(plugin),
            },
            Err(e) => rejected.push(e),
        }
    }
    Ok((loaded, rejected))
}

/// Runs strategies against a member base, recording into a store.
pub struct Runner<'a> {
    pub base: MemberBase,
    pub log: DecisionLog,
    store: &'a Store,
    batch_size: usize,
}

impl<'a> Runner<'a> {
    pub fn new(base: MemberBase, store: &'a Store, batch_size: usize) -> anyhow::Result<Self> {
        let log = DecisionLog::load(&base, &store.decisions()?);
        Ok(Runner { base, log, store, batch_size: batch_size.max(1) })
    }

    /// Runs `strategy` at `at`. Plugin failures end up in the returned record;
    /// only a store failure is an `Err`.
    pub fn run(
        &mut self,
        strategy: &Strategy,
        at: Millis,
        on_decision: &mut dyn FnMut(&Decision),
    ) -> anyhow::Result<RunRecord> {
        let started = Instant::now();
        let clock = RunClock::new(&self.base.calendar, at);
        let mut record = RunRecord {
            strategy: strategy.id().to_string(),
            plugin_version: strategy.plugin.manifest.version.clone(),
            run_at: at,
            day: clock.today,
            audience: 0,
            batches: 0,
            decisions: 0,
            fuel_used: 0,
            duration_micros: 0,
            outcome: RunOutcome::Completed,
        };
        if let Err(error) = self.run_batches(strategy, clock, &mut record, on_decision)? {
            record.outcome = RunOutcome::Failed { error: error.to_string() };
        }
        record.duration_micros = started.elapsed().as_micros() as u64;
        self.store.record_run(&record)?;
        Ok(record)
    }

    /// The outer `Result` is the store's, the inner the plugin's.
    fn run_batches(
        &mut self,
        strategy: &Strategy,
        clock: RunClock,
        record: &mut RunRecord,
        on_decision: &mut dyn FnMut(&Decision),
    ) -> anyhow::Result<Result<(), PluginError>> {
        let plugin = &strategy.plugin;
        let audience = match plugin.audience(&strategy.config) {
            Ok(audience) => audience,
            Err(e) => return Ok(Err(e)),
        };
        let selected = audience::select(&self.base, self.log.strategy(strategy.id()), &audience, clock);
        record.audience = selected.len() as u64;
        let context = api::RunContext {
            run_at: clock.at,
            today: clock.today,
            date: date_of_day(clock.today).into(),
            timezone: self.base.calendar.tz().name().to_string(),
            config: strategy.config.to_string(),
            launches: audience::launches(&self.base, &audience, clock),
        };
        for batch in selected.chunks(self.batch_size) {
            let log = self.log.strategy(strategy.id());
            let members: Vec<api::Member> =
                batch.iter().map(|&m| audience::member_facts(&self.base, log, m, &audience, clock)).collect();
            record.batches += 1;
            let (touches, stats) = match plugin.decide(&context, &members) {
                Ok(result) => result,
                Err(e) => return Ok(Err(e)),
            };
            record.fuel_used += stats.fuel_used;
            let decisions = match decisions_from(plugin, clock, &members, touches) {
                Ok(decisions) => decisions,
                Err(e) => return Ok(Err(e)),
            };
            self.store.record_decisions(&decisions)?;
            let coupons: Vec<Event> = decisions.iter().filter(|d| d.issues_coupon()).map(coupon_issued).collect();
            self.store.record_events(&coupons)?;
            for event in coupons {
                self.base.add_event(event);
            }
            for decision in &decisions {
                self.log.add(&self.base, decision);
                on_decision(decision);
            }
            record.decisions += decisions.len() as u64;
        }
        Ok(Ok(()))
    }
}

/// Checks a batch's touches and turns them into decisions. Any bad touch
/// fails the batch: a plugin that breaks the contract is not half-trusted.
fn decisions_from(
    plugin: &LoadedPlugin,
    clock: RunClock,
    members: &[api::Member],
    touches: Vec<api::Touch>,
) -> Result<Vec<Decision>, PluginError> {
    let invalid = |message: String| PluginError::InvalidOutput { plugin: plugin.label(), message };
    let in_batch: HashSet<&str> = members.iter().map(|m| m.profile.id.as_str()).collect();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut decisions = Vec::with_capacity(touches.len());
    for touch in touches {
        let who = format!("member `{}`", touch.member_id);
        if !in_batch.contains(touch.member_id.as_str()) {
            return Err(invalid(format!("{who} was not in the batch it was given")));
        }
        if touch.step.trim().is_empty() || touch.channel.trim().is_empty() || touch.template.trim().is_empty() {
            return Err(invalid(format!("the touch for {who} lacks a step, channel or template")));
        }
        if !seen.insert((touch.member_id.clone(), touch.step.clone())) {
            return Err(invalid(format!("{who} got two touches at step `{}` in one run", touch.step)));
        }
        let (action, benefit, guide_id, group_buy) = match &touch.action {
            api::Action::Message => (ActionKind::Message, None, None, None),
            api::Action::Coupon(b) => (ActionKind::Coupon, Some(b), None, None),
            api::Action::StaffTask(t) => {
                if t.guide_id.trim().is_empty() {
                    return Err(invalid(format!("the staff task for {who} names no guide")));
                }
                (ActionKind::StaffTask, t.benefit.as_ref(), Some(t.guide_id.clone()), None)
            }
            api::Action::GroupBuyInvite(g) => {
                let group = GroupBuy { sku: g.sku.clone(), group_size: g.group_size, price: g.price };
                (ActionKind::GroupBuyInvite, None, None, Some(group))
            }
        };
        if benefit.is_some_and(|b| b.value < 0) {
            return Err(invalid(format!("the benefit for {who} has a negative value")));
        }
        let coupon_id = benefit
            .filter(|b| b.kind == api::BenefitKind::Coupon)
            .map(|_| coupon_id(plugin.id(), &touch.step, &touch.member_id, clock.at));
        decisions.push(Decision {
            strategy: plugin.id().to_string(),
            plugin_version: plugin.manifest.version.clone(),
            run_at: clock.at,
            day: clock.today,
            member_id: touch.member_id,
            step: touch.step,
            action,
            channel: touch.channel,
            template: touch.template,
            variables: touch.variables,
            benefit: benefit.map(model::Benefit::from),
            coupon_id,
            guide_id,
            group_buy,
            status: DecisionStatus::Dispatched,
            reason: None,
        });
    }
    Ok(decisions)
}

/// A coupon's id: stable for (strategy, step, member, run instant), so the
/// same decision always names the same coupon.
fn coupon_id(strategy: &str, step: &str, member: &str, run_at: Millis) -> String {
    let digest = Sha256::digest(format!("{strategy}/{step}/{member}/{run_at}"));
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("C-{hex}")
}

/// The event a dispatched coupon decision leaves behind, at the run instant.
fn coupon_issued(d: &Decision) -> Event {
    let coupon_id = d.coupon_id.clone().expect("only coupon decisions issue coupons");
    let value = d.benefit.as_ref().map_or(0, |b| b.value) as f64 / 100.0;
    let attrs = serde_json::json!({ "coupon_id": coupon_id, "strategy": d.strategy, "step": d.step, "value": value });
    Event {
        id: format!("{}:{coupon_id}", model::COUPON_ISSUED),
        member_id: d.member_id.clone(),
        kind: model::COUPON_ISSUED.to_string(),
        at: d.run_at,
        attrs: attrs.to_string(),
    }
}
