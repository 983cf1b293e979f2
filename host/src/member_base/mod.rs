//! The member base as an in-memory, time-indexed view: each member's orders
//! and events sorted by time, so facts can be taken "as of" any instant, and
//! sorted indexes by day so an audience is found without scanning everyone.
//!
//! Built once from the store (or a data set) and then asked about many run
//! instants — a simulation of a year is one build and 365 evaluations.

use std::collections::HashMap;

use chrono_tz::Tz;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::calendar::BrandCalendar;
use crate::keyed;
use crate::model::{DataSet, Day, Event, Fen, Guide, Member, Millis, Order, Product};

mod added;
mod build;
mod events;
mod kept;
pub mod reachability;
mod size;
pub mod snapshot;

pub use added::NotInPlace;
pub use events::{EventIter, EventPart, EventReader, EventView, EventsOf};
use events::{EventRow, EventText};
pub use kept::KeptKinds;

pub use reachability::{ChannelState, Friendship, Unreachable};

/// A member with their derived days.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberRow {
    /// The member as imported.
    pub member: Member,
    /// The brand-local day they joined on.
    pub joined_day: Day,
    /// The brand-local day they added the brand on WeCom; None if they never did.
    pub wecom_added_day: Option<Day>,
}

/// An order as audiences read it: only what conditions and member facts use,
/// small, so a member's orders sit together in memory.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct OrderRow {
    /// When it was placed.
    pub at: Millis,
    /// The brand-local day it was placed on.
    pub day: Day,
    /// What was paid, in fen.
    pub amount: Fen,
    /// Index into [`MemberBase::category_name`].
    pub category: u32,
}

/// A product, with its launch day and category resolved.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProductRow {
    /// The product as imported.
    pub product: Product,
    /// The brand-local day it launched on.
    pub launched_day: Day,
    /// Its category, an index into [`MemberBase::category_name`].
    pub category: u32,
}

/// Member indexes sorted by a key, for range lookups.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DayIndex(#[serde(deserialize_with = "snapshot::exact::vec")] Vec<(Day, u32)>);

impl DayIndex {
    fn build(mut entries: Vec<(Day, u32)>) -> Self {
        entries.sort_unstable();
        entries.dedup();
        DayIndex(entries)
    }

    /// Adds `(day, m)` where a build would have it (once).
    fn insert(&mut self, day: Day, m: u32) {
        if let Err(at) = self.0.binary_search(&(day, m)) {
            self.0.insert(at, (day, m));
        }
    }

    /// Members with a key in `first..=last` (a member may appear more than once).
    pub fn range(&self, first: Day, last: Day) -> &[(Day, u32)] {
        let start = self.0.partition_point(|&(d, _)| d < first);
        let end = self.0.partition_point(|&(d, _)| d <= last);
        &self.0[start..end.max(start)]
    }
}

/// Per event kind, (instant, member) sorted by instant.
pub type EventsByKind = HashMap<String, Vec<(Millis, u32)>>;

/// The brand's members with their orders, events and the products, indexed
/// for audiences. Members are numbered (`u32`) in id order; every index and
/// method speaks of them by that number. Cloned only for a preview
/// (`runner::Runner::preview_instant`), which must leave the original as it was.
/// Saved whole by [`snapshot`], but for the calendar and the hash indexes.
#[derive(Clone, Serialize, Deserialize)]
pub struct MemberBase {
    /// The brand's calendar, which every `day` here was taken in.
    #[serde(skip)]
    pub calendar: BrandCalendar,
    #[serde(deserialize_with = "snapshot::exact::vec")]
    members: Vec<MemberRow>,
    /// Fx: looked up for each of millions of orders and events as the base
    /// is built, and for every decision recorded.
    #[serde(skip)]
    index: FxHashMap<String, u32>,
    /// The members with a valid time zone of their own (most have none),
    /// parsed once. The governor asks for every proposal: this map stays as
    /// small as the few members with a zone, where a lookup in the index of
    /// all members and then the member's row costs more the more members the
    /// brand has, however few are decided.
    #[serde(skip)]
    own_zones: FxHashMap<String, Tz>,
    /// Every member's orders, oldest first, one member after another. An
    /// audience reads hundreds of thousands of members' orders in member
    /// order: one array keeps those reads in sequence, where a vector per
    /// member scattered them over the heap (a cache miss each).
    #[serde(deserialize_with = "snapshot::exact::vec")]
    order_rows: Vec<OrderRow>,
    /// Member `m`'s orders are `order_rows[order_start[m]..order_start[m + 1]]`.
    #[serde(deserialize_with = "snapshot::exact::vec")]
    order_start: Vec<usize>,
    /// Each member's events, oldest first.
    #[serde(deserialize_with = "snapshot::exact::vec")]
    events: Vec<Vec<EventRow>>,
    /// The events' ids, kinds and attributes.
    event_text: EventText,
    /// The kinds of events held; the others are left out, in the store.
    /// A snapshot saves it beside the base, where it is read without the body.
    #[serde(skip)]
    kept: KeptKinds,
    /// Sorted by launch instant.
    products: Vec<ProductRow>,
    categories: Vec<String>,
    /// guides.csv's guides by id (Fx: looked up for every staff task decided).
    guides: FxHashMap<String, Guide>,
    /// (day joined, member).
    pub by_joined_day: DayIndex,
    /// (day they added the brand on WeCom, member), for those who did: the
    /// first add and every add again (a member may be there more than once).
    pub by_wecom_day: DayIndex,
    /// (day of an order, member), once per day a member ordered on.
    pub by_order_day: DayIndex,
    /// (day of the member's first order, member), for those who ordered.
    pub by_first_order_day: DayIndex,
    /// Per category id, (day of the member's first order in it, member).
    pub by_first_order_in_category: Vec<DayIndex>,
    /// Members by birthday month (1..=12; 0 unused).
    pub by_birth_month: [Vec<u32>; 13],
    /// Every event's instant and member, by kind; kept in order as runs add events.
    #[serde(deserialize_with = "snapshot::exact::map_of_vecs")]
    pub events_by_kind: EventsByKind,
}

impl MemberBase {
    /// How many members there are; they are numbered `0..len`.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the brand has no members (yet).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Member number `m`; panics if there is none.
    pub fn member(&self, m: u32) -> &MemberRow {
        &self.members[m as usize]
    }

    /// The member's own time zone, if they have a valid one.
    pub fn time_zone(&self, m: u32) -> Option<Tz> {
        self.time_zone_of(&self.member(m).member.id)
    }

    /// [`MemberBase::time_zone`] by member id; `None` for unknown members.
    pub fn time_zone_of(&self, member_id: &str) -> Option<Tz> {
        self.own_zones.get(member_id).copied()
    }

    /// The number of the member with this id; None for an unknown id.
    pub fn index_of(&self, member_id: &str) -> Option<u32> {
        self.index.get(member_id).copied()
    }

    /// The member's orders placed at or before `at`, oldest first.
    pub fn orders_as_of(&self, m: u32, at: Millis) -> &[OrderRow] {
        let orders = &self.order_rows[self.order_start[m as usize]..self.order_start[m as usize + 1]];
        &orders[..orders.partition_point(|o| o.at <= at)]
    }

    /// The member's events at or before `at`, oldest first.
    pub fn events_as_of(&self, m: u32, at: Millis) -> EventsOf<'_> {
        let events = &self.events[m as usize];
        EventsOf { rows: &events[..events.partition_point(|e| e.at <= at)], text: &self.event_text }
    }

    /// The kinds of events held: those of other kinds are not in the base.
    pub fn kept(&self) -> &KeptKinds {
        &self.kept
    }

    /// Whether the base has this event (by its member and id).
    pub fn has_event(&self, event: &Event) -> bool {
        self.index_of(&event.member_id)
            .is_some_and(|m| self.events_as_of(m, Millis::MAX).iter().any(|e| e.id == event.id))
    }

    /// Adds events that happened after the build (e.g. the coupons a run just
    /// issued), keeping every order: as if each were inserted after those at
    /// the same instant; a WeCom add (again) goes into the WeCom day index
    /// as a build puts it. Events of unknown members, and of kinds the base
    /// does not keep, are left out.
    pub fn add_events(&mut self, events: impl IntoIterator<Item = Event>) {
        // Each kind touched, with where its appended events begin.
        let mut touched_kinds: Vec<(String, usize)> = Vec::new();
        for event in events {
            if !self.kept.keeps(&event.kind) {
                continue;
            }
            let Some(m) = self.index_of(&event.member_id) else { continue };
            // Appended, and each kind put in order once below: a run issues
            // thousands of coupons, and a run at an instant before the data's
            // last event inserting each one mid-vector moved megabytes each.
            let by_kind = keyed::value_for(&mut self.events_by_kind, &event.kind);
            if !touched_kinds.iter().any(|(kind, _)| *kind == event.kind) {
                touched_kinds.push((event.kind.clone(), by_kind.len()));
            }
            by_kind.push((event.at, m));
            let day = self.calendar.day_of(event.at);
            if event.kind == reachability::WECOM_ADDED {
                self.by_wecom_day.insert(day, m);
            }
            let events = &mut self.events[m as usize];
            let at = events.partition_point(|e| e.at <= event.at);
            let row = self.event_text.row(&event.id, &event.kind, event.at, day, &event.attrs);
            events.insert(at, row);
        }
        for (kind, first_added) in touched_kinds {
            let by_kind = self.events_by_kind.get_mut(&kind).expect("added above");
            // The events before the first added one were in order already.
            let from = first_added.saturating_sub(1);
            if !by_kind[from..].is_sorted_by_key(|&(t, _)| t) {
                // Stable: an added event goes after those at the same instant.
                by_kind.sort_by_key(|&(t, _)| t);
            }
        }
    }

    /// Products launched at or before `at` whose launch day is `first_day` or later, newest first.
    pub fn launches(&self, first_day: Day, at: Millis) -> impl Iterator<Item = &ProductRow> {
        let end = self.products.partition_point(|p| p.product.launched_at <= at);
        self.products[..end].iter().rev().take_while(move |p| p.launched_day >= first_day)
    }

    /// The latest order in the data, whoever placed it.
    pub fn last_order_at(&self) -> Option<Millis> {
        self.order_rows.iter().map(|o| o.at).max()
    }

    /// The guide with this id as guides.csv has them; `None` for a guide it
    /// does not list (such a guide is taken as active).
    pub fn guide(&self, id: &str) -> Option<&Guide> {
        self.guides.get(id)
    }

    /// The store of the member with this id; `None` for an unknown member.
    pub fn store_of(&self, member_id: &str) -> Option<&str> {
        Some(&self.member(self.index_of(member_id)?).member.store_id)
    }

    /// The name of a category, from its index in an order or product row.
    pub fn category_name(&self, category: u32) -> &str {
        &self.categories[category as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{bare_member, DataSet, Event};

    fn event(id: &str, member_id: &str, at: Millis) -> Event {
        let (id, member_id) = (id.into(), member_id.into());
        Event { id, member_id, kind: "coupon_issued".into(), at, attrs: "{}".into() }
    }

    /// A WeCom add ingested in place is in the WeCom day index, once, as a
    /// build from the store with it has it.
    #[test]
    fn a_wecom_add_added_in_place_is_indexed_as_a_build_indexes_it() {
        let day = 86_400_000;
        let mut a = bare_member("A");
        a.wecom_added_at = Some(10 * day);
        let added = |id: &str, member_id: &str, at: Millis| Event {
            kind: reachability::WECOM_ADDED.into(),
            ..event(id, member_id, at)
        };
        let data = DataSet { members: vec![a, bare_member("B")], ..Default::default() };
        let later = vec![added("w1", "B", 20 * day), added("w2", "A", 10 * day + 5), added("w3", "A", 30 * day)];
        let mut in_place = MemberBase::build(BrandCalendar::default(), data.clone());
        in_place.add_events(later.clone());
        let built = MemberBase::build(BrandCalendar::default(), DataSet { events: later, ..data });
        assert_eq!(in_place.by_wecom_day.0, built.by_wecom_day.0);
        assert_eq!(in_place.by_wecom_day.0.len(), 3, "A's second add on its first day is there once");
    }

    /// A run at an instant before the data's last event (a backfill) adds
    /// its coupons among the imported ones, not after them.
    #[test]
    fn events_added_before_the_last_ones_are_put_in_order_after_those_at_the_same_instant() {
        let data = DataSet {
            members: vec![bare_member("A"), bare_member("B")],
            events: vec![event("e1", "A", 10), event("e2", "B", 30), event("e3", "A", 50)],
            ..Default::default()
        };
        let mut base = MemberBase::build(Default::default(), data);
        base.add_events([event("n1", "B", 30), event("n2", "A", 20), event("n3", "nobody", 20), event("n4", "A", 50)]);

        let (a, b) = (base.index_of("A").unwrap(), base.index_of("B").unwrap());
        let by_kind = &base.events_by_kind["coupon_issued"];
        assert_eq!(by_kind, &[(10, a), (20, a), (30, b), (30, b), (50, a), (50, a)]);
        let ids = |m: u32, at: Millis| base.events_as_of(m, at).iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(a, 49), ["e1", "n2"]);
        assert_eq!(ids(a, 50), ["e1", "n2", "e3", "n4"]);
        assert_eq!(ids(b, 30), ["e2", "n1"]);
    }

    /// Each member's events are put in order on their own, not all at once.
    #[test]
    fn each_members_events_are_in_time_order_then_by_id_whatever_order_they_come_in() {
        let data = DataSet {
            members: vec![bare_member("A"), bare_member("B")],
            events: vec![
                event("e9", "A", 30),
                event("e2", "B", 20),
                event("e5", "A", 10),
                event("e3", "nobody", 5),
                event("e1", "A", 30),
            ],
            ..Default::default()
        };
        let base = MemberBase::build(Default::default(), data);

        let (a, b) = (base.index_of("A").unwrap(), base.index_of("B").unwrap());
        let ids = |m: u32| base.events_as_of(m, 100).iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(a), ["e5", "e1", "e9"]);
        assert_eq!(ids(b), ["e2"]);
        assert_eq!(base.events_by_kind["coupon_issued"], [(10, a), (20, b), (30, a), (30, a)]);
    }
}
