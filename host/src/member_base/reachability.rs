//! Whether a touch on a channel can reach a member at an instant, from what
//! the member base knows as of that instant (a simulation never sees the
//! future):
//!
//! - **do not contact**: an operator's flag, the events `do_not_contact` and
//!   `do_not_contact_cleared` (set through the API or `canvas member`), for
//!   every channel;
//! - **consent**: `unsubscribed` / `resubscribed` events, for the channel in
//!   `attrs.channel`, or for every channel when it has none; the latest one
//!   that concerns a channel decides it;
//! - **the WeCom friendship**, for the channels WeCom carries: a friend from
//!   `wecom_added_at` and each `wecom_added` event, no longer one from a
//!   `wecom_deleted` event (删粉) until the next add.
//!
//! Events at the instant itself count (a deletion at 10:00:00 stops the
//! 10:00 run's touch); the day named in a reason is the brand's local day.

use std::fmt;

use super::MemberBase;
use crate::calendar::date_of_day;
use crate::model::{Day, Millis};

/// The member added the brand on WeCom (again: the first add is `wecom_added_at`).
pub const WECOM_ADDED: &str = "wecom_added";
/// The member deleted the brand on WeCom (删粉).
pub const WECOM_DELETED: &str = "wecom_deleted";
/// The member unsubscribed from `attrs.channel`, or from every channel.
pub const UNSUBSCRIBED: &str = "unsubscribed";
/// The member subscribed again to `attrs.channel`, or to every channel.
pub const RESUBSCRIBED: &str = "resubscribed";
/// An operator marked the member do-not-contact.
pub const DO_NOT_CONTACT: &str = "do_not_contact";
/// An operator cleared the do-not-contact mark.
pub const DO_NOT_CONTACT_CLEARED: &str = "do_not_contact_cleared";

/// Why a member cannot be reached on a channel, and since which local day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// The operator marked the member do-not-contact.
    DoNotContact {
        /// The local day it was set.
        since: Day,
    },
    /// The member unsubscribed from the channel, or from every channel.
    Unsubscribed {
        /// From every channel, not only this one.
        every_channel: bool,
        /// The local day they did.
        since: Day,
    },
    /// The member deleted the brand on WeCom and has not added it again.
    DeletedOnWecom {
        /// The local day they did.
        since: Day,
    },
    /// The member never added the brand on WeCom (as of the instant).
    NotWecomFriend,
}

impl Unreachable {
    /// Why, in words, for a touch on `channel`: as decisions' reasons say it.
    pub fn on(&self, channel: &str) -> impl fmt::Display + '_ {
        let channel = channel.to_string();
        fmt::from_fn(move |f| match self {
            Unreachable::DoNotContact { since } => write!(f, "do not contact (set on {})", date_of_day(*since)),
            Unreachable::Unsubscribed { every_channel: false, since } => {
                write!(f, "unsubscribed from {channel} on {}", date_of_day(*since))
            }
            Unreachable::Unsubscribed { every_channel: true, since } => {
                write!(f, "unsubscribed from every channel on {}", date_of_day(*since))
            }
            Unreachable::DeletedOnWecom { since } => write!(f, "deleted the brand on WeCom on {}", date_of_day(*since)),
            Unreachable::NotWecomFriend => write!(f, "not a WeCom friend"),
        })
    }
}

/// A member's WeCom friendship at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Friendship {
    /// A friend since this instant (the current friendship's start).
    Since(Millis),
    /// Was one, deleted the brand at this instant.
    Deleted(Millis),
    /// Never added the brand.
    Never,
}

/// A member's WeCom friendship, followed event by event (oldest first).
struct FriendshipScan {
    state: Friendship,
    /// The first add (the member row's), until an event at or after it is seen.
    first_add: Option<Millis>,
}

impl FriendshipScan {
    fn new(first_add: Option<Millis>, at: Millis) -> Self {
        FriendshipScan { state: Friendship::Never, first_add: first_add.filter(|&t| t <= at) }
    }

    fn see(&mut self, kind: &str, at: Millis) {
        if let Some(t) = self.first_add.filter(|&t| t <= at) {
            self.state = Friendship::Since(t);
            self.first_add = None;
        }
        match kind {
            WECOM_ADDED if !matches!(self.state, Friendship::Since(_)) => self.state = Friendship::Since(at),
            WECOM_DELETED => self.state = Friendship::Deleted(at),
            _ => {}
        }
    }

    /// An add after every event seen: a friend from it, unless one already.
    fn end(self) -> Friendship {
        match self.first_add {
            Some(t) if !matches!(self.state, Friendship::Since(_)) => Friendship::Since(t),
            _ => self.state,
        }
    }
}

/// Everything that decides whether a member can be reached, at an instant:
/// the WeCom friendship, the member's consent per channel and the operator's
/// do-not-contact mark (instants; the calendar makes days of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelState {
    /// The WeCom friendship.
    pub friendship: Friendship,
    /// Unsubscribed from every channel at this instant (unless a channel's
    /// own later entry says otherwise).
    pub unsubscribed_everywhere: Option<Millis>,
    /// Per channel named by a consent event after the last every-channel one:
    /// (channel, consents, at), in the order first named.
    pub channels: Vec<(String, bool, Millis)>,
    /// Marked do-not-contact at this instant.
    pub do_not_contact: Option<Millis>,
}

impl ChannelState {
    /// The member's say on `channel`: unsubscribed since when, if so, and
    /// whether from every channel.
    fn unsubscribed(&self, channel: &str) -> Option<(bool, Millis)> {
        match self.channels.iter().find(|(named, ..)| named == channel) {
            Some(&(_, consents, at)) => (!consents).then_some((false, at)),
            None => self.unsubscribed_everywhere.map(|at| (true, at)),
        }
    }
}

impl MemberBase {
    /// Member `m`'s WeCom friendship as of `at`.
    pub fn friendship(&self, m: u32, at: Millis) -> Friendship {
        let mut scan = FriendshipScan::new(self.member(m).member.wecom_added_at, at);
        for e in self.events_as_of(m, at) {
            scan.see(e.kind, e.at);
        }
        scan.end()
    }

    /// Member `m`'s channel state as of `at`: one pass over its events (the
    /// governor asks for it with every proposal; most members have no
    /// consent events, so nothing is allocated for them).
    pub fn channel_state(&self, m: u32, at: Millis) -> ChannelState {
        let mut state = ChannelState {
            friendship: Friendship::Never,
            unsubscribed_everywhere: None,
            channels: Vec::new(),
            do_not_contact: None,
        };
        let mut friendship = FriendshipScan::new(self.member(m).member.wecom_added_at, at);
        for e in self.events_as_of(m, at) {
            friendship.see(e.kind, e.at);
            match e.kind {
                DO_NOT_CONTACT => state.do_not_contact = Some(e.at),
                DO_NOT_CONTACT_CLEARED => state.do_not_contact = None,
                UNSUBSCRIBED | RESUBSCRIBED => {
                    let consents = e.kind == RESUBSCRIBED;
                    match channel_of(e.attrs) {
                        // Every channel: what was said of one before no longer counts.
                        None => {
                            state.unsubscribed_everywhere = (!consents).then_some(e.at);
                            state.channels.clear();
                        }
                        Some(channel) => match state.channels.iter_mut().find(|(named, ..)| *named == channel) {
                            Some(entry) => *entry = (channel, consents, e.at),
                            None => state.channels.push((channel, consents, e.at)),
                        },
                    }
                }
                _ => {}
            }
        }
        state.friendship = friendship.end();
        state
    }

    /// Why a touch on `channel` cannot reach member `m` at `at`, if it
    /// cannot; `via_wecom`: the channel is one WeCom carries, which needs a
    /// current friendship.
    pub fn unreachable(&self, m: u32, channel: &str, via_wecom: bool, at: Millis) -> Option<Unreachable> {
        let state = self.channel_state(m, at);
        let day = |t: Millis| self.calendar.day_of(t);
        if let Some(t) = state.do_not_contact {
            return Some(Unreachable::DoNotContact { since: day(t) });
        }
        if let Some((every_channel, t)) = state.unsubscribed(channel) {
            return Some(Unreachable::Unsubscribed { every_channel, since: day(t) });
        }
        if !via_wecom {
            return None;
        }
        match state.friendship {
            Friendship::Since(_) => None,
            Friendship::Deleted(t) => Some(Unreachable::DeletedOnWecom { since: day(t) }),
            Friendship::Never => Some(Unreachable::NotWecomFriend),
        }
    }
}

/// `attrs.channel` of a consent event; None (every channel) when it has none
/// or it is `*`.
pub(crate) fn channel_of(attrs: &str) -> Option<String> {
    crate::model::text_attr(attrs, "channel").filter(|c| !c.is_empty() && c != "*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;
    use crate::model::{bare_member, DataSet, Event};

    fn at(text: &str) -> Millis {
        parse_instant(text).unwrap()
    }

    fn base(wecom_added_at: Option<&str>, events: &[(&str, &str, &str)]) -> MemberBase {
        let mut member = bare_member("M1");
        member.wecom_added_at = wecom_added_at.map(at);
        let events = events
            .iter()
            .enumerate()
            .map(|(i, (kind, when, attrs))| Event {
                id: format!("E{i}"),
                member_id: "M1".into(),
                kind: kind.to_string(),
                at: at(when),
                attrs: attrs.to_string(),
            })
            .collect();
        MemberBase::build(Default::default(), DataSet { members: vec![member], events, ..Default::default() })
    }

    fn why(base: &MemberBase, channel: &str, when: &str) -> Option<String> {
        base.unreachable(0, channel, channel == "wecom", at(when)).map(|u| u.on(channel).to_string())
    }

    const RUN: &str = "2026-05-03T10:00:00+08:00";

    #[test]
    fn a_deletion_just_before_the_run_stops_its_wecom_touch_and_one_just_after_does_not() {
        let before = base(Some("2026-01-01T12:00:00+08:00"), &[(WECOM_DELETED, "2026-05-03T09:59:00+08:00", "{}")]);
        assert_eq!(why(&before, "wecom", RUN).as_deref(), Some("deleted the brand on WeCom on 2026-05-03"));
        assert_eq!(why(&before, "sms", RUN), None, "SMS does not go through WeCom");
        let after = base(Some("2026-01-01T12:00:00+08:00"), &[(WECOM_DELETED, "2026-05-03T10:00:01+08:00", "{}")]);
        assert_eq!(why(&after, "wecom", RUN), None, "a run never sees the future");
    }

    #[test]
    fn a_deletion_stamped_in_utc_is_named_by_the_brands_local_day() {
        let base = base(Some("2026-01-01T12:00:00+08:00"), &[(WECOM_DELETED, "2026-05-02T17:30:00Z", "{}")]);
        assert_eq!(why(&base, "wecom", RUN).as_deref(), Some("deleted the brand on WeCom on 2026-05-03"));
    }

    #[test]
    fn a_member_who_adds_the_brand_again_is_a_friend_from_the_new_add() {
        let events =
            [(WECOM_DELETED, "2026-04-01T09:00:00+08:00", "{}"), (WECOM_ADDED, "2026-04-02T09:00:00+08:00", "{}")];
        let base = base(Some("2026-01-01T12:00:00+08:00"), &events);
        assert_eq!(base.friendship(0, at(RUN)), Friendship::Since(at("2026-04-02T09:00:00+08:00")));
        assert_eq!(why(&base, "wecom", RUN), None);
        assert_eq!(
            why(&base, "wecom", "2026-04-01T12:00:00+08:00").as_deref(),
            Some("deleted the brand on WeCom on 2026-04-01")
        );
        assert_eq!(base.friendship(0, at("2025-12-31T12:00:00+08:00")), Friendship::Never);
        assert_eq!(why(&base, "wecom", "2025-12-31T12:00:00+08:00").as_deref(), Some("not a WeCom friend"));
    }

    #[test]
    fn consent_goes_by_channel_and_the_latest_event_that_concerns_it() {
        let events = [
            (UNSUBSCRIBED, "2026-04-01T09:00:00+08:00", r#"{"channel":"sms"}"#),
            (UNSUBSCRIBED, "2026-04-10T09:00:00+08:00", "{}"),
            (RESUBSCRIBED, "2026-04-20T09:00:00+08:00", r#"{"channel":"wecom"}"#),
        ];
        let base = base(Some("2026-01-01T12:00:00+08:00"), &events);
        assert_eq!(
            why(&base, "sms", "2026-04-05T10:00:00+08:00").as_deref(),
            Some("unsubscribed from sms on 2026-04-01")
        );
        assert_eq!(why(&base, "wecom", "2026-04-05T10:00:00+08:00"), None);
        assert_eq!(
            why(&base, "wecom", "2026-04-15T10:00:00+08:00").as_deref(),
            Some("unsubscribed from every channel on 2026-04-10")
        );
        assert_eq!(why(&base, "wecom", RUN), None, "resubscribed to WeCom");
        assert_eq!(why(&base, "sms", RUN).as_deref(), Some("unsubscribed from every channel on 2026-04-10"));
    }

    #[test]
    fn do_not_contact_holds_every_channel_until_cleared() {
        let events = [
            (DO_NOT_CONTACT, "2026-04-01T09:00:00+08:00", "{}"),
            (DO_NOT_CONTACT_CLEARED, "2026-05-01T09:00:00+08:00", "{}"),
        ];
        let base = base(Some("2026-01-01T12:00:00+08:00"), &events);
        assert_eq!(
            why(&base, "sms", "2026-04-05T10:00:00+08:00").as_deref(),
            Some("do not contact (set on 2026-04-01)")
        );
        assert_eq!(why(&base, "wecom", RUN), None);
    }
}
