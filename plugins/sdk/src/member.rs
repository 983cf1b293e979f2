//! Read helpers on the member facts the host passes in.

use crate::{
    CategoryStats, Day, DecisionStatus, Event, Member, OrderFacts, PastDecision, Reach, WecomFriendship, WindowStats,
};

impl Member {
    /// The member's id, as in the brand's members table.
    pub fn id(&self) -> &str {
        &self.profile.id
    }

    /// This strategy's earlier decisions for the member at `step`, oldest first.
    pub fn decisions_at<'a>(&'a self, step: &'a str) -> impl Iterator<Item = &'a PastDecision> + 'a {
        self.history.iter().filter(move |d| d.step == step)
    }

    /// The latest earlier decision at `step` that was sent (or is to be, if deferred).
    pub fn last_sent(&self, step: &str) -> Option<&PastDecision> {
        self.history.iter().rfind(|d| d.step == step && d.was_sent())
    }

    /// Whether the strategy ever decided anything for this member at `step`.
    pub fn was_decided(&self, step: &str) -> bool {
        self.decisions_at(step).next().is_some()
    }

    /// The day the member's current WeCom friendship began; None when they
    /// are not a friend now (never added the brand, or deleted it).
    pub fn wecom_friend_since(&self) -> Option<Day> {
        match &self.reach.wecom {
            WecomFriendship::Friend(since) => Some(since.day),
            _ => None,
        }
    }

    /// The member's events of `kind`, oldest first.
    pub fn events_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |e| e.kind == kind)
    }
}

impl PastDecision {
    /// Dispatched, or deferred and so still to be sent.
    pub fn was_sent(&self) -> bool {
        matches!(self.status, DecisionStatus::Dispatched | DecisionStatus::Deferred)
    }

    /// Sent, or deliberately withheld from a control-group member: either way
    /// the member had their turn (a suppressed touch never reached them).
    pub fn had_turn(&self) -> bool {
        self.was_sent() || self.status == DecisionStatus::Holdout
    }

    /// A template variable the decision carried.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.variables.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

impl Event {
    /// A string attribute, e.g. `coupon_id` or `referrer`.
    pub fn attr(&self, key: &str) -> Option<String> {
        let attrs: serde_json::Value = serde_json::from_str(&self.attrs).ok()?;
        match attrs.get(key)? {
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

impl OrderFacts {
    /// The stats of a window the audience asked for.
    pub fn window(&self, days: u32) -> Option<&WindowStats> {
        self.windows.iter().find(|w| w.days == days)
    }

    /// The category bought most often (ties: the most recent, then by name).
    pub fn favourite_category(&self) -> Option<&CategoryStats> {
        self.categories.first()
    }

    /// Whether any order of the member's had a line in `category`.
    pub fn has_bought(&self, category: &str) -> bool {
        self.categories.iter().any(|c| c.category == category)
    }
}

impl Reach {
    /// Whether the member may be sent anything on `channel`, as far as their
    /// own say goes: not marked do-not-contact, not unsubscribed from it (or
    /// from every channel without subscribing to it again). WeCom channels
    /// also need a current friendship ([`Member::wecom_friend_since`]); which
    /// channels WeCom carries is the host's setting.
    pub fn consents_to(&self, channel: &str) -> bool {
        if self.do_not_contact.is_some() {
            return false;
        }
        match self.channels.iter().find(|c| c.channel == channel) {
            Some(own) => own.consents,
            None => self.unsubscribed_everywhere.is_none(),
        }
    }
}
