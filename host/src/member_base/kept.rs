//! Which event kinds the member base holds. At a million members nineteen
//! of twenty events are page views and mini-program visits that no shipped
//! strategy reads: kept in memory they were three quarters of the base. A
//! base for runs holds the kinds the host reads itself ([`KeptKinds::host`])
//! and those its strategies' audiences name; the others stay in the store,
//! the store of record, and a strategy that comes to name one has the base
//! read again with it (see `app::stored_base`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::reachability::{
    DO_NOT_CONTACT, DO_NOT_CONTACT_CLEARED, RESUBSCRIBED, UNSUBSCRIBED, WECOM_ADDED, WECOM_DELETED,
};
use crate::model::{COUPON_REDEEMED, GROUP_BUY_JOINED, STAFF_TASK_DONE};

/// The host's own readers' kinds: reachability and consent (every
/// touch's governance), referrals, and the results' conversions and harm.
const HOST_KINDS: [&str; 9] = [
    WECOM_ADDED,
    WECOM_DELETED,
    UNSUBSCRIBED,
    RESUBSCRIBED,
    DO_NOT_CONTACT,
    DO_NOT_CONTACT_CLEARED,
    GROUP_BUY_JOINED,
    COUPON_REDEEMED,
    STAFF_TASK_DONE,
];

/// The event kinds a member base holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeptKinds {
    /// Every kind (a dry run over files, a member's own page).
    #[default]
    Every,
    /// Only these.
    Only(BTreeSet<String>),
}

impl KeptKinds {
    /// The kinds the host reads whatever strategies run.
    pub fn host() -> Self {
        KeptKinds::Only(HOST_KINDS.iter().map(|k| k.to_string()).collect())
    }

    /// The host's kinds and `kinds`.
    pub fn host_and<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Self {
        KeptKinds::host().with(kinds)
    }

    /// These and `kinds`.
    pub fn with<'a>(mut self, kinds: impl IntoIterator<Item = &'a str>) -> Self {
        if let KeptKinds::Only(set) = &mut self {
            set.extend(kinds.into_iter().map(str::to_string));
        }
        self
    }

    /// These and `other`'s.
    pub fn union(self, other: &KeptKinds) -> Self {
        match other {
            KeptKinds::Every => KeptKinds::Every,
            KeptKinds::Only(set) => self.with(set.iter().map(String::as_str)),
        }
    }

    /// Whether events of `kind` are held.
    pub fn keeps(&self, kind: &str) -> bool {
        match self {
            KeptKinds::Every => true,
            KeptKinds::Only(set) => set.contains(kind),
        }
    }

    /// Whether every kind `other` holds is held here too.
    pub fn covers(&self, other: &KeptKinds) -> bool {
        match (self, other) {
            (KeptKinds::Every, _) => true,
            (KeptKinds::Only(_), KeptKinds::Every) => false,
            (KeptKinds::Only(mine), KeptKinds::Only(theirs)) => theirs.is_subset(mine),
        }
    }

    /// Those of `kinds` not held, each once, in order.
    pub fn missing<'a>(&self, kinds: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let mut missing: Vec<&str> = kinds.into_iter().filter(|k| !self.keeps(k)).collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }
}

impl std::fmt::Display for KeptKinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeptKinds::Every => f.write_str("every kind"),
            KeptKinds::Only(set) => write!(f, "{}", set.iter().map(String::as_str).collect::<Vec<_>>().join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_kinds_and_a_strategys_cover_what_they_name_and_no_more() {
        let kept = KeptKinds::host_and(["coupon_issued"]);
        assert!(kept.keeps("coupon_issued") && kept.keeps(WECOM_DELETED) && !kept.keeps("product_view"));
        assert!(kept.covers(&KeptKinds::host()) && !KeptKinds::host().covers(&kept));
        assert!(KeptKinds::Every.covers(&kept) && !kept.covers(&KeptKinds::Every));
        assert_eq!(kept.missing(["product_view", "coupon_issued", "product_view"]), ["product_view"]);
        assert_eq!(KeptKinds::host().union(&kept), kept);
    }
}
