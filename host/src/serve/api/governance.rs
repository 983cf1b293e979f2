//! `GET /api/v1/governance`: the touch policy in force — canvas.toml's
//! `[governance]` section with every default, and each strategy's own
//! overrides — and "today": what governance would do to every strategy that
//! runs, at each of today's run instants, as a preview with no side effect
//! ([`super::preview`]). Instants already run show what they decided as
//! `already_decided` (a run never decides a key twice).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::preview::{day_bounds, outcome, tally};
use super::ApiResult;
use crate::app::{select, PluginSource, Selection};
use crate::serve::Canvas;
use crate::simulate::run_instants;
use crate::strategy::kept_kinds;

pub(super) async fn governance(State(canvas): State<Arc<Canvas>>) -> ApiResult {
    let config = &canvas.app.config;
    let overrides: BTreeMap<&String, Value> = config
        .strategies
        .iter()
        .map(|(id, s)| {
            let shown = json!({
                "holdout_percent": s.holdout_percent, "on_cap": s.on_cap, "max_defer_hours": s.max_defer_hours,
                "coupon_budget_per_day": s.coupon_budget_per_day, "fallback_channels": s.fallback_channels,
                "on_guide_full": s.on_guide_full,
            });
            (id, shown)
        })
        .collect();
    let mut policy = serde_json::to_value(&config.governance).map_err(anyhow::Error::from)?;
    policy["strategies"] = json!(overrides);
    let now = canvas.clock.now();
    let c = canvas.clone();
    let loaded =
        tokio::task::spawn_blocking(move || c.app.strategies(PluginSource::Installed(&c.store), None)).await??;
    let today = canvas
        .with_throwaway_state(kept_kinds(&loaded.strategies), move |c, state| {
            let calendar = c.app.calendar();
            let (start, end) = day_bounds(&calendar, now);
            let instants = run_instants(&loaded.strategies, &calendar, start, end);
            let mut runner = c.app.runner(state, &c.store, false);
            let mut by_strategy: BTreeMap<String, Value> = BTreeMap::new();
            let mut previewed = Ok(());
            for at in instants {
                let due = select(&loaded.strategies, &calendar, at, Selection::Due);
                let (records, decisions) = match runner.preview_instant(at, &due) {
                    Ok(done) => done,
                    Err(e) => {
                        previewed = Err(e);
                        break;
                    }
                };
                for record in &records {
                    let own: Vec<_> = decisions.iter().filter(|d| d.strategy == record.strategy).cloned().collect();
                    let (by_status, by_reason) = tally(&own);
                    let shown = by_strategy.entry(record.strategy.clone()).or_insert_with(|| {
                        json!({ "runs": [], "audience": 0, "held_back": 0, "already_decided": 0, "decisions": 0,
                                "failed": [], "by_status": {}, "by_reason": {} })
                    });
                    shown["runs"].as_array_mut().expect("an array").push(json!(calendar.format_minute(at)));
                    for (field, n) in [
                        ("audience", record.audience),
                        ("held_back", record.held_back),
                        ("already_decided", record.already_decided),
                        ("decisions", own.len() as u64),
                    ] {
                        shown[field] = json!(shown[field].as_u64().unwrap_or(0).saturating_add(n));
                    }
                    if let Value::String(error) = outcome(record) {
                        shown["failed"].as_array_mut().expect("an array").push(json!(error));
                    }
                    add_counts(&mut shown["by_status"], by_status);
                    add_counts(&mut shown["by_reason"], by_reason);
                }
            }
            runner.into_state().drop_in_background();
            previewed?;
            Ok(json!({ "at": calendar.format_minute(now), "date": calendar.date_of(now).to_string(),
                       "by_strategy": by_strategy }))
        })
        .await?;
    Ok(Json(json!({ "policy": policy, "today": today })).into_response())
}

fn add_counts(into: &mut Value, counts: BTreeMap<String, u64>) {
    for (key, n) in counts {
        let total = into[&key].as_u64().unwrap_or(0).saturating_add(n);
        into[&key] = json!(total);
    }
}
