//! `GET /api/v1/canvas`: every installed strategy as a card of the
//! console's canvas, in life-cycle order (`[strategies.<id>] stage`, those
//! without one last) — what it is, whether and when it runs, its audience
//! in words (from the audience its plugin declares for the effective
//! config: [`crate::audience::in_words`]), the steps its decisions used, its
//! benefit in short words, its priority in arbitration, its last run and
//! the triggered firings it has waiting.
//!
//! Steps and the last run's counts come from one pass over the recorded
//! decisions: fine for a page an operator opens, not for a hot path.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::{blocking, ApiResult};
use crate::audience::{in_words, Language};
use crate::model::{RunRecord, MILLIS_PER_DAY};
use crate::registry::effective_config;
use crate::schedule::Schedule;
use crate::serve::Canvas;
use crate::store::PluginEntry;
use crate::strategy::Stage;

pub(super) async fn canvas(State(canvas): State<Arc<Canvas>>) -> ApiResult {
    let shown = blocking(&canvas, |c| Ok(c.canvas_cards()?)).await?;
    Ok(Json(shown).into_response())
}

impl Canvas {
    fn canvas_cards(&self) -> anyhow::Result<Value> {
        let calendar = self.app.calendar();
        let now = self.clock.now();
        let entries = self.registry().list()?;
        let runs = self.store.runs()?;
        let last_runs: HashMap<&str, &RunRecord> = runs.iter().map(|r| (r.strategy.as_str(), r)).collect();
        // One pass over the decisions: each strategy's steps, and its last run's counts by status.
        let mut steps: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut last_counts: HashMap<String, BTreeMap<&'static str, u64>> = HashMap::new();
        self.store.each_decision(|d, _| {
            if d.step != crate::runtime::proposals::NO_STEP {
                crate::keyed::value_for(&mut steps, &d.strategy).insert(d.step.clone());
            }
            if last_runs.get(d.strategy.as_str()).is_some_and(|r| r.run_at == d.run_at) {
                *crate::keyed::value_for(&mut last_counts, &d.strategy).entry(d.status.as_str()).or_default() += 1;
            }
        })?;
        // Delayed firings not yet due (a reminder an hour after a coupon), per strategy.
        let waiting = self.store.firings_waiting()?;
        let policy = &self.app.config.governance;
        let mut cards: Vec<(Option<Stage>, String, Value)> = Vec::new();
        for entry in &entries {
            let summary = self.app.plugin_summary(entry);
            let settings = self.app.settings(&entry.id);
            let active = entry.active_version();
            let effective = effective_config(&active.default_config, &settings, &entry.config);
            let schedule = self.app.schedule_of(entry);
            let next_run = (summary["enabled"] == true)
                .then(|| Schedule::parse(&schedule).ok())
                .flatten()
                .and_then(|s| s.runs_between(&calendar, now + 1, now + 400 * MILLIS_PER_DAY).first().copied())
                .map(|at| calendar.format_minute(at));
            let (audience, audience_error) = match self.audience_words(entry, &effective) {
                Ok(words) => (words, Value::Null),
                Err(e) => (Value::Null, Value::String(e)),
            };
            let last_run = last_runs.get(entry.id.as_str()).map(|r| {
                let (outcome, error) = match &r.outcome {
                    crate::model::RunOutcome::Completed => ("completed", None),
                    crate::model::RunOutcome::Failed { error } => ("failed", Some(error.clone())),
                };
                json!({
                    "at": calendar.format_minute(r.run_at), "trigger": r.trigger, "outcome": outcome, "error": error,
                    "selected": r.audience, "decisions": r.decisions,
                    "by_status": last_counts.get(&entry.id).cloned().unwrap_or_default(),
                })
            });
            let waiting_firings = waiting
                .iter()
                .find(|(id, _, _)| *id == entry.id)
                .map(|(_, count, next_due)| json!({ "count": count, "next_due": calendar.format_minute(*next_due) }));
            let card = json!({
                "id": entry.id, "name": active.name, "description": active.description, "version": active.version,
                "enabled": summary["enabled"], "off": summary["off"],
                "stage": settings.stage.map(Stage::as_str),
                "priority": policy.priority.iter().position(|id| *id == entry.id).map(|i| i + 1),
                "schedule": schedule, "next_run": next_run, "waiting_firings": waiting_firings,
                "audience": audience, "audience_error": audience_error,
                "steps": steps.remove(&entry.id).unwrap_or_default(),
                "benefit": benefit_words(&effective),
                "effective_config": effective, "last_run": last_run,
            });
            cards.push((settings.stage, entry.id.clone(), card));
        }
        // Life-cycle order; no stage last (None sorts first, so it is flipped); then by id.
        cards.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
        Ok(json!({
            "time_zone": self.app.config.timezone,
            "now": calendar.format_minute(now),
            "stages": Stage::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "strategies": cards.into_iter().map(|(_, _, card)| card).collect::<Vec<_>>(),
        }))
    }

    /// The audience the plugin declares for `config`, in words; why not, if it will not say.
    fn audience_words(&self, entry: &PluginEntry, config: &Value) -> Result<Value, String> {
        let plugin = self.registry().load(entry).map_err(|e| e.to_string())?;
        let audience = plugin.audience(config).map_err(|e| e.to_string())?;
        Ok(json!({ "en": in_words(&audience, Language::En), "zh": in_words(&audience, Language::Zh) }))
    }
}

/// The benefits an effective config names, in short words: every object
/// shaped as the SDKs' benefit (`kind` and `value` in yuan, maybe `gift`),
/// labelled by where it sits (`levels.1` is level V1), and a group-buy
/// `price_ratio`. `null` when it names none.
pub(crate) fn benefit_words(config: &Value) -> Value {
    let mut found = Vec::new();
    collect_benefits(config, "", &mut found);
    let ratio = config.get("price_ratio").and_then(Value::as_f64);
    if found.is_empty() && ratio.is_none() {
        return Value::Null;
    }
    let mut en: Vec<String> = Vec::new();
    let mut zh: Vec<String> = Vec::new();
    for (label, kind, value, gift) in &found {
        let (kind_en, kind_zh) = match kind.as_str() {
            "coupon" => ("coupon", "优惠券"),
            "gift" => ("gift", "礼品"),
            "lottery" => ("lottery", "抽奖"),
            "points" => ("points", "积分"),
            "early_access" => ("early access", "优先购"),
            other => (other, other),
        };
        // Points are a count, not yuan; a gift is named first, its value after.
        let amount = if kind == "points" { number_words(*value) } else { yuan_words(*value) };
        let (e, z) = match (kind.as_str(), gift) {
            ("gift", Some(gift)) => (format!("{gift} ({amount} {kind_en})"), format!("{gift}（{amount}{kind_zh}）")),
            (_, Some(gift)) => (format!("{amount} {kind_en} + {gift}"), format!("{amount}{kind_zh}＋{gift}")),
            (_, None) => (format!("{amount} {kind_en}"), format!("{amount}{kind_zh}")),
        };
        match label {
            Some(label) => {
                en.push(format!("{label}: {e}"));
                zh.push(format!("{label}：{z}"));
            }
            None => {
                en.push(e);
                zh.push(z);
            }
        }
    }
    if let Some(ratio) = ratio {
        let percent = (ratio * 100.0 * 10.0).round() / 10.0;
        en.push(format!("group price {percent}% of list"));
        zh.push(format!("拼团价为原价的{percent}%"));
    }
    json!({ "en": en.join("; "), "zh": zh.join("；") })
}

/// (label, kind, yuan, gift) of each benefit-shaped object under `value`.
fn collect_benefits(value: &Value, path: &str, found: &mut Vec<(Option<String>, String, f64, Option<String>)>) {
    let Value::Object(map) = value else { return };
    if let (Some(Value::String(kind)), Some(amount)) = (map.get("kind"), map.get("value").and_then(Value::as_f64)) {
        let gift = map.get("gift").and_then(Value::as_str).map(str::to_string);
        found.push((label_of(path), kind.clone(), amount, gift));
        return;
    }
    for (key, inner) in map {
        let path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        collect_benefits(inner, &path, found);
    }
}

/// `levels.2` → `V2`; the config's one benefit (`benefit`, `coupon`) needs no label; else the path.
fn label_of(path: &str) -> Option<String> {
    match path.split_once('.') {
        Some(("levels", level)) => Some(format!("V{level}")),
        None if path == "benefit" || path == "coupon" => None,
        _ => Some(path.to_string()),
    }
}

fn yuan_words(value: f64) -> String {
    format!("¥{}", number_words(value))
}

fn number_words(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benefits_by_level_are_worded_in_both_languages_with_their_gift() {
        let config = json!({"channel": "wecom", "levels": {
            "1": {"kind": "coupon", "value": 30.0}, "4": {"kind": "coupon", "value": 100.0, "gift": "gift box"}}});
        assert_eq!(
            benefit_words(&config),
            json!({"en": "V1: ¥30 coupon; V4: ¥100 coupon + gift box", "zh": "V1：¥30优惠券；V4：¥100优惠券＋gift box"})
        );
    }

    #[test]
    fn a_single_benefit_needs_no_label_and_a_config_without_one_has_no_benefit() {
        assert_eq!(
            benefit_words(&json!({"after_days": 90, "benefit": {"kind": "coupon", "value": 29.9}})),
            json!({"en": "¥29.90 coupon", "zh": "¥29.90优惠券"})
        );
        assert_eq!(
            benefit_words(&json!({"price_ratio": 0.8})),
            json!({"en": "group price 80% of list", "zh": "拼团价为原价的80%"})
        );
        assert_eq!(benefit_words(&json!({"after_days": 90, "channel": "wecom"})), Value::Null);
    }

    #[test]
    fn points_are_a_count_a_gift_is_named_first_and_a_second_benefit_is_labelled_by_its_key() {
        let vip = json!({"benefit": {"kind": "points", "value": 20.0},
                         "milestone_benefit": {"kind": "coupon", "value": 50.0}});
        assert_eq!(
            benefit_words(&vip),
            json!({"en": "20 points; milestone_benefit: ¥50 coupon", "zh": "20积分；milestone_benefit：¥50优惠券"})
        );
        let recall = json!({"benefit": {"kind": "gift", "value": 30.0, "gift": "new-customer gift"}});
        assert_eq!(
            benefit_words(&recall),
            json!({"en": "new-customer gift (¥30 gift)", "zh": "new-customer gift（¥30礼品）"})
        );
    }
}
