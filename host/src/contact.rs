//! Changes in whether a member can be reached, as they come in.
//!
//! - An operator's **do-not-contact mark**: set and cleared through the
//!   admin API (`POST`/`DELETE /api/v1/members/{id}/do-not-contact`) or
//!   `canvas member do-not-contact`, and kept as an event of the member's
//!   (`do_not_contact` / `do_not_contact_cleared`, with who and why), so the
//!   governor reads it as of each run instant like every other event — a
//!   simulation over the store's history sees the mark from when it was
//!   set, not before. While it stands, no touch reaches the member on any
//!   channel (`member_base::reachability`).
//! - **Touches already queued** that such a change makes undeliverable — a
//!   deferred touch whose member deleted the brand on WeCom overnight — are
//!   taken back (`cancelled` in the outbox, the reason saying why) by
//!   [`withdraw_undeliverable`], as the events arrive: ingested, imported,
//!   or a mark set.

use std::collections::BTreeMap;

use serde_json::json;

use crate::calendar::BrandCalendar;
use crate::member_base::reachability::{
    channel_of, DO_NOT_CONTACT, DO_NOT_CONTACT_CLEARED, RESUBSCRIBED, UNSUBSCRIBED, WECOM_ADDED, WECOM_DELETED,
};
use crate::model::{Event, Millis};
use crate::store::Store;

/// The member id is not one the store has.
#[derive(Debug, thiserror::Error)]
#[error("no member `{0}` in the store")]
pub struct UnknownMember(pub String);

/// Sets (`on`) or clears the mark on `member` at `at`, recorded as the
/// event it returns; `by` is who did (a token's name, `cli:<user>`).
pub fn mark(store: &Store, member: &str, on: bool, at: Millis, by: &str, reason: &str) -> anyhow::Result<Event> {
    if !store.has_member(member)? {
        return Err(UnknownMember(member.to_string()).into());
    }
    let kind = if on { DO_NOT_CONTACT } else { DO_NOT_CONTACT_CLEARED };
    let event = Event {
        // Unique per member, kind and instant: a mark repeated at one
        // instant is the same event (read once).
        id: format!("{kind}/{member}/{at}"),
        member_id: member.to_string(),
        kind: kind.to_string(),
        at,
        attrs: json!({ "by": by, "reason": reason }).to_string(),
    };
    store.record_events(std::slice::from_ref(&event))?;
    if on {
        store.cancel_member(member, |_| true, &format!("cancelled: {member} is marked do-not-contact"))?;
    }
    Ok(event)
}

/// What a member's latest change in a batch of events says of their paths.
#[derive(Default)]
struct Latest<'e> {
    /// The latest WeCom event, if it is a deletion.
    wecom: Option<&'e Event>,
    /// The latest consent event per channel (None: every channel), if an unsubscribe.
    consent: BTreeMap<Option<String>, Option<&'e Event>>,
    /// The latest do-not-contact event, if a mark set.
    do_not_contact: Option<&'e Event>,
}

/// Cancels the queued touches `events` make undeliverable: for each member,
/// by the latest event of the batch of each kind (a deletion then a re-add
/// leaves their touches be) — a WeCom deletion for the channels WeCom
/// carries (`wecom_channels`), an unsubscribe for its channel (or every
/// one), a do-not-contact mark for every channel. Returns how many touches
/// were cancelled.
pub fn withdraw_undeliverable(
    store: &Store,
    events: &[Event],
    wecom_channels: &[String],
    calendar: &BrandCalendar,
) -> anyhow::Result<usize> {
    let mut latest: BTreeMap<&str, Latest<'_>> = BTreeMap::new();
    // A bulk import's tens of millions of events are nearly all of other kinds.
    let changes_contact = |e: &&Event| {
        [WECOM_DELETED, WECOM_ADDED, DO_NOT_CONTACT, DO_NOT_CONTACT_CLEARED, UNSUBSCRIBED, RESUBSCRIBED]
            .contains(&e.kind.as_str())
    };
    let mut sorted: Vec<&Event> = events.iter().filter(changes_contact).collect();
    sorted.sort_by_key(|e| e.at);
    for e in sorted {
        let member = latest.entry(e.member_id.as_str()).or_default();
        match e.kind.as_str() {
            WECOM_DELETED => member.wecom = Some(e),
            WECOM_ADDED => member.wecom = None,
            DO_NOT_CONTACT => member.do_not_contact = Some(e),
            DO_NOT_CONTACT_CLEARED => member.do_not_contact = None,
            UNSUBSCRIBED | RESUBSCRIBED => {
                let channel = channel_of(&e.attrs);
                if channel.is_none() {
                    member.consent.clear();
                }
                member.consent.insert(channel, (e.kind == UNSUBSCRIBED).then_some(e));
            }
            _ => {}
        }
    }
    let day = |e: &Event| calendar.day_of(e.at);
    let mut cancelled = 0;
    for (member, change) in latest {
        let reason = |what: String| format!("cancelled: {member} {what}");
        if let Some(e) = change.do_not_contact {
            let why = reason(format!("is marked do-not-contact ({})", crate::calendar::date_of_day(day(e))));
            cancelled += store.cancel_member(member, |_| true, &why)?;
            continue;
        }
        if let Some(e) = change.wecom {
            let why = reason(format!("deleted the brand on WeCom on {}", crate::calendar::date_of_day(day(e))));
            cancelled += store.cancel_member(member, |c| wecom_channels.iter().any(|w| w == c), &why)?;
        }
        for (channel, e) in change.consent {
            let Some(e) = e else { continue };
            let date = crate::calendar::date_of_day(day(e));
            let why = match &channel {
                Some(channel) => format!("unsubscribed from {channel} on {date}"),
                None => format!("unsubscribed from every channel on {date}"),
            };
            let affected = |c: &str| channel.as_deref().is_none_or(|channel| channel == c);
            cancelled += store.cancel_member(member, affected, &reason(why))?;
        }
    }
    Ok(cancelled)
}
