//! An operator's do-not-contact mark on a member: set and cleared through
//! the admin API (`POST`/`DELETE /api/v1/members/{id}/do-not-contact`) or
//! `canvas member do-not-contact`, and kept as an event of the member's
//! (`do_not_contact` / `do_not_contact_cleared`, with who and why), so the
//! governor reads it as of each run instant like every other event — a
//! simulation over the store's history sees the mark from when it was set,
//! not before. While it stands, no touch reaches the member on any channel
//! (`member_base::reachability`).

use serde_json::json;

use crate::member_base::reachability::{DO_NOT_CONTACT, DO_NOT_CONTACT_CLEARED};
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
    Ok(event)
}
