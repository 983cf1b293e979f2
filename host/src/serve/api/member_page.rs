//! `GET /api/v1/members/{id}`: everything the console's member page shows —
//! the member as imported, how they can be reached now (the WeCom
//! friendship, consent per channel, the do-not-contact mark, and why each
//! channel cannot reach them), their orders, their latest events, every
//! decision made for them and the deliveries of those decisions. An
//! unknown member is a 404 naming the id.
//!
//! Reachability is worked out as the governor does at a run
//! ([`MemberBase::channel_state`], [`MemberBase::unreachable`]), over a
//! member base of this one member, so the page and the next run agree.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::{blocking, ApiError, ApiResult};
use crate::decision_line::{decision_json, yuan};
use crate::member_base::{Friendship, MemberBase};
use crate::model::DataSet;
use crate::serve::Canvas;

/// Events shown, newest first: a member of years may have thousands.
const EVENTS_SHOWN: usize = 200;

pub(super) async fn member_page(State(canvas): State<Arc<Canvas>>, Path(id): Path<String>) -> ApiResult {
    let page = blocking(&canvas, move |c| {
        let Some((member, orders, events)) = c.store.member_records(&id)? else {
            return Err(ApiError::new(StatusCode::NOT_FOUND, format!("no member `{id}` in the store")));
        };
        let calendar = c.app.calendar();
        let minute = |at| calendar.format_minute(at);
        let now = c.clock.now();
        let mut decisions = c.store.decisions_of_member(&id)?;
        decisions.sort_by_key(|d| std::cmp::Reverse(d.run_at));
        let keys: BTreeSet<&str> = decisions.iter().map(|d| d.key.as_str()).collect();
        let deliveries: Vec<Value> = c
            .store
            .outbox_items(&calendar, None)?
            .iter()
            .filter(|i| keys.contains(i.key.as_str()))
            .map(|i| c.app.outbox_item_shown(i))
            .collect();
        let decisions = decisions
            .iter()
            .map(|d| serde_json::from_str::<Value>(&decision_json(&calendar, d)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(anyhow::Error::from)?;

        let member_json = json!({
            "id": member.id, "name": member.name, "level": member.level,
            "birthday": member.birthday.map(|d| d.to_string()),
            "joined_at": minute(member.joined_at), "wecom_added_at": member.wecom_added_at.map(minute),
            "store_id": member.store_id, "guide_id": member.guide_id, "timezone": member.tz,
        });
        let orders_json: Vec<Value> = orders
            .iter()
            .rev()
            .map(|o| {
                json!({ "id": o.id, "placed_at": minute(o.placed_at), "amount": yuan(o.amount),
                        "amount_fen": o.amount, "channel": o.channel, "category": o.category, "sku": o.sku })
            })
            .collect();
        let events_json: Vec<Value> = events
            .iter()
            .rev()
            .take(EVENTS_SHOWN)
            .map(|e| {
                let attrs: Value = serde_json::from_str(&e.attrs).unwrap_or(Value::String(e.attrs.clone()));
                json!({ "id": e.id, "kind": e.kind, "at": minute(e.at), "attrs": attrs })
            })
            .collect();
        let events_total = events.len();
        // Channels worth a word: the configured ones, WeCom's, and those the
        // member's decisions used.
        let mut channels: BTreeSet<String> = c.app.config.dispatch.channels.keys().cloned().collect();
        let wecom_channels = &c.app.config.governance.wecom_limit.channels;
        channels.extend(wecom_channels.iter().cloned());
        channels.extend(decisions_channels(&decisions));
        let base = MemberBase::build(calendar, DataSet { members: vec![member], events, ..Default::default() });
        let state = base.channel_state(0, now);
        let (wecom_state, since) = match state.friendship {
            Friendship::Since(at) => ("friend", Some(minute(at))),
            Friendship::Deleted(at) => ("deleted", Some(minute(at))),
            Friendship::Never => ("never", None),
        };
        let consent: BTreeMap<&str, &str> = state
            .channels
            .iter()
            .map(|(channel, consents, _)| (channel.as_str(), if *consents { "consents" } else { "unsubscribed" }))
            .collect();
        let unreachable: BTreeMap<&str, String> = channels
            .iter()
            .filter_map(|channel| {
                let via_wecom = wecom_channels.contains(channel);
                let why = base.unreachable(0, channel, via_wecom, now)?;
                let worded = why.on(channel).to_string();
                Some((channel.as_str(), worded))
            })
            .collect();
        let reach = json!({
            "at": minute(now),
            "wecom": { "state": wecom_state, "since": since },
            "channels": consent,
            "unsubscribed_everywhere": state.unsubscribed_everywhere.map(minute),
            "do_not_contact": state.do_not_contact.is_some(),
            "unreachable": unreachable,
        });
        Ok(json!({
            "member": member_json, "reach": reach, "orders": orders_json, "events": events_json,
            "events_total": events_total, "decisions": decisions, "deliveries": deliveries,
        }))
    })
    .await?;
    Ok(Json(page).into_response())
}

/// The channels of decisions shown as JSON (a failed decision has none).
fn decisions_channels(decisions: &[Value]) -> impl Iterator<Item = String> + '_ {
    decisions.iter().filter_map(|d| d["channel"].as_str().filter(|c| !c.is_empty()).map(str::to_string))
}
