//! The member base as an in-memory, time-indexed view: each member's orders
//! and events sorted by time, so facts can be taken "as of" any instant, and
//! sorted indexes by day so an audience is found without scanning everyone.
//!
//! Built once from the store (or a data set) and then asked about many run
//! instants — a simulation of a year is one build and 365 evaluations.

use std::collections::HashMap;

use chrono_tz::Tz;
use rustc_hash::FxHashMap;

use crate::calendar::BrandCalendar;
use crate::keyed;
use crate::model::{DataSet, Day, Event, Fen, Member, Millis, Order, Product};

/// A member with their derived days.
#[derive(Clone, Debug)]
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
#[derive(Clone, Copy, Debug)]
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

/// An event of a member's, imported or produced by a run (a coupon issued).
#[derive(Clone, Debug)]
pub struct EventRow {
    /// The event's id: breaks ties between a member's events at one instant.
    pub id: String,
    /// What happened, e.g. `coupon_issued`, `mini_program_visit`.
    pub kind: String,
    /// When it happened.
    pub at: Millis,
    /// The brand-local day it happened on.
    pub day: Day,
    /// Its details, a compact JSON object.
    pub attrs: String,
}

/// A product, with its launch day and category resolved.
#[derive(Clone, Debug)]
pub struct ProductRow {
    /// The product as imported.
    pub product: Product,
    /// The brand-local day it launched on.
    pub launched_day: Day,
    /// Its category, an index into [`MemberBase::category_name`].
    pub category: u32,
}

/// Member indexes sorted by a key, for range lookups.
#[derive(Clone, Debug, Default)]
pub struct DayIndex(Vec<(Day, u32)>);

impl DayIndex {
    fn build(mut entries: Vec<(Day, u32)>) -> Self {
        entries.sort_unstable();
        entries.dedup();
        DayIndex(entries)
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
/// method speaks of them by that number.
pub struct MemberBase {
    /// The brand's calendar, which every `day` here was taken in.
    pub calendar: BrandCalendar,
    members: Vec<MemberRow>,
    /// Fx: looked up for each of millions of orders and events as the base
    /// is built, and for every decision recorded.
    index: FxHashMap<String, u32>,
    /// The members with a valid time zone of their own (most have none),
    /// parsed once. The governor asks for every proposal: this map stays as
    /// small as the few members with a zone, where a lookup in the index of
    /// all members and then the member's row costs more the more members the
    /// brand has, however few are decided.
    own_zones: FxHashMap<String, Tz>,
    /// Every member's orders, oldest first, one member after another. An
    /// audience reads hundreds of thousands of members' orders in member
    /// order: one array keeps those reads in sequence, where a vector per
    /// member scattered them over the heap (a cache miss each).
    order_rows: Vec<OrderRow>,
    /// Member `m`'s orders are `order_rows[order_start[m]..order_start[m + 1]]`.
    order_start: Vec<usize>,
    events: Vec<Vec<EventRow>>,
    /// Sorted by launch instant.
    products: Vec<ProductRow>,
    categories: Vec<String>,
    /// (day joined, member).
    pub by_joined_day: DayIndex,
    /// (day they added the brand on WeCom, member), for those who did.
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
    pub events_by_kind: EventsByKind,
}

impl MemberBase {
    /// Builds the view. Orders and events of unknown members are ignored (the
    /// store never holds any; imports refuse them).
    pub fn build(calendar: BrandCalendar, data: DataSet) -> Self {
        let mut members: Vec<Member> = data.members;
        members.sort_by(|a, b| a.id.cmp(&b.id));
        let index: FxHashMap<String, u32> = members.iter().enumerate().map(|(i, m)| (m.id.clone(), i as u32)).collect();

        // Orders and events are independent of each other: the events (the
        // most records by far) are sorted out on a thread of their own.
        let (mut categories, (order_rows, order_start), (events, events_by_kind)) = std::thread::scope(|scope| {
            let events = scope.spawn(|| events_by_member(&calendar, &index, data.events, members.len()));
            let mut categories = CategoryNames::default();
            let orders = orders_by_member(&calendar, &index, data.orders, members.len(), &mut categories);
            (categories, orders, events.join().expect("sorting events does not panic"))
        });

        let mut products: Vec<ProductRow> = data
            .products
            .into_iter()
            .map(|product| ProductRow {
                launched_day: calendar.day_of(product.launched_at),
                category: categories.intern(&product.category),
                product,
            })
            .collect();
        products.sort_by(|a, b| (a.product.launched_at, &a.product.sku).cmp(&(b.product.launched_at, &b.product.sku)));

        let members: Vec<MemberRow> = members
            .into_iter()
            .map(|member| MemberRow {
                joined_day: calendar.day_of(member.joined_at),
                wecom_added_day: member.wecom_added_at.map(|at| calendar.day_of(at)),
                member,
            })
            .collect();

        let own_zones = members
            .iter()
            .filter_map(|row| Some((row.member.id.clone(), row.member.tz.as_deref()?.parse().ok()?)))
            .collect();
        let mut by_birth_month: [Vec<u32>; 13] = Default::default();
        for (i, row) in members.iter().enumerate() {
            if let Some(birthday) = row.member.birthday {
                by_birth_month[crate::calendar::month_of(birthday) as usize].push(i as u32);
            }
        }
        let enumerate = || members.iter().enumerate().map(|(i, row)| (i as u32, row));
        let orders_of = || order_start.windows(2).enumerate().map(|(i, w)| (i as u32, &order_rows[w[0]..w[1]]));
        MemberBase {
            by_joined_day: DayIndex::build(enumerate().map(|(i, r)| (r.joined_day, i)).collect()),
            by_wecom_day: DayIndex::build(enumerate().filter_map(|(i, r)| Some((r.wecom_added_day?, i))).collect()),
            by_order_day: DayIndex::build(orders_of().flat_map(|(i, o)| o.iter().map(move |o| (o.day, i))).collect()),
            by_first_order_day: DayIndex::build(orders_of().filter_map(|(i, o)| Some((o.first()?.day, i))).collect()),
            by_first_order_in_category: first_order_in_category(orders_of(), categories.names.len()),
            by_birth_month,
            events_by_kind,
            calendar,
            members,
            index,
            own_zones,
            order_rows,
            order_start,
            events,
            products,
            categories: categories.names,
        }
    }

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
    pub fn events_as_of(&self, m: u32, at: Millis) -> &[EventRow] {
        let events = &self.events[m as usize];
        &events[..events.partition_point(|e| e.at <= at)]
    }

    /// Adds events that happened after the build (e.g. the coupons a run just
    /// issued), keeping every order: as if each were inserted after those at
    /// the same instant. Events of unknown members are ignored.
    pub fn add_events(&mut self, events: impl IntoIterator<Item = Event>) {
        // Each kind touched, with where its appended events begin.
        let mut touched_kinds: Vec<(String, usize)> = Vec::new();
        for event in events {
            let Some(m) = self.index_of(&event.member_id) else { continue };
            // Appended, and each kind put in order once below: a run issues
            // thousands of coupons, and a run at an instant before the data's
            // last event inserting each one mid-vector moved megabytes each.
            let by_kind = keyed::value_for(&mut self.events_by_kind, &event.kind);
            if !touched_kinds.iter().any(|(kind, _)| *kind == event.kind) {
                touched_kinds.push((event.kind.clone(), by_kind.len()));
            }
            by_kind.push((event.at, m));
            let events = &mut self.events[m as usize];
            let at = events.partition_point(|e| e.at <= event.at);
            let day = self.calendar.day_of(event.at);
            events.insert(at, EventRow { id: event.id, kind: event.kind, at: event.at, day, attrs: event.attrs });
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

    /// The name of a category, from its index in an order or product row.
    pub fn category_name(&self, category: u32) -> &str {
        &self.categories[category as usize]
    }
}

/// Every member's orders as rows, oldest first (ties: by order id), one
/// member after another, and where each member's begin (see
/// [`MemberBase::orders_as_of`]).
fn orders_by_member(
    calendar: &BrandCalendar,
    index: &FxHashMap<String, u32>,
    mut data: Vec<Order>,
    members: usize,
    categories: &mut CategoryNames,
) -> (Vec<OrderRow>, Vec<usize>) {
    data.sort_by(|a, b| (a.placed_at, &a.id).cmp(&(b.placed_at, &b.id)));
    let (owners, counts) = owners_of(index, data.iter().map(|o| o.member_id.as_str()), members);
    let mut start = Vec::with_capacity(members + 1);
    start.push(0);
    for count in counts {
        start.push(start.last().expect("starts at 0") + count);
    }
    let placeholder = OrderRow { at: 0, day: 0, amount: 0, category: 0 };
    let mut rows = vec![placeholder; start[members]];
    // Filled in time order, so each member's run of rows is oldest first.
    let mut next = start.clone();
    for (order, m) in data.into_iter().zip(owners) {
        let Some(m) = m else { continue };
        let category = categories.intern(&order.category);
        let day = calendar.day_of(order.placed_at);
        rows[next[m as usize]] = OrderRow { at: order.placed_at, day, amount: order.amount, category };
        next[m as usize] += 1;
    }
    (rows, start)
}

/// Every member's events, oldest first (ties: by event id), and per kind
/// each event's (instant, member), in time order. Each member's few events
/// are sorted on their own: a large brand has tens of millions, and one sort
/// of them all would need scratch memory for every one of them and compare
/// events of different members, whose order does not matter.
fn events_by_member(
    calendar: &BrandCalendar,
    index: &FxHashMap<String, u32>,
    data: Vec<Event>,
    members: usize,
) -> (Vec<Vec<EventRow>>, EventsByKind) {
    let (owners, counts) = owners_of(index, data.iter().map(|e| e.member_id.as_str()), members);
    let mut events: Vec<Vec<EventRow>> = counts.into_iter().map(Vec::with_capacity).collect();
    let mut by_kind = EventsByKind::new();
    for (event, m) in data.into_iter().zip(owners) {
        let Some(m) = m else { continue };
        keyed::value_for(&mut by_kind, &event.kind).push((event.at, m));
        let day = calendar.day_of(event.at);
        events[m as usize].push(EventRow { id: event.id, kind: event.kind, at: event.at, day, attrs: event.attrs });
    }
    for of_member in &mut events {
        of_member.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    }
    for entries in by_kind.values_mut() {
        entries.sort_unstable();
    }
    (events, by_kind)
}

/// Each record's member (`None`: unknown), from the records' member ids,
/// and how many records each member has.
fn owners_of<'a>(
    index: &FxHashMap<String, u32>,
    member_ids: impl Iterator<Item = &'a str>,
    members: usize,
) -> (Vec<Option<u32>>, Vec<usize>) {
    let owners: Vec<Option<u32>> = member_ids.map(|id| index.get(id).copied()).collect();
    let mut counts = vec![0usize; members];
    for &m in owners.iter().flatten() {
        counts[m as usize] += 1;
    }
    (owners, counts)
}

/// Per category, each member who ordered in it, on the day of their first
/// order there (orders are sorted by time, so the first seen is the first).
fn first_order_in_category<'a>(
    orders: impl Iterator<Item = (u32, &'a [OrderRow])>,
    categories: usize,
) -> Vec<DayIndex> {
    let mut entries: Vec<Vec<(Day, u32)>> = vec![Vec::new(); categories];
    let mut seen = Vec::new();
    for (m, orders) in orders {
        seen.clear();
        for o in orders {
            if !seen.contains(&o.category) {
                seen.push(o.category);
                entries[o.category as usize].push((o.day, m));
            }
        }
    }
    entries.into_iter().map(DayIndex::build).collect()
}

#[derive(Default)]
struct CategoryNames {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl CategoryNames {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
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
        let ids = |m: u32, at: Millis| base.events_as_of(m, at).iter().map(|e| e.id.as_str()).collect::<Vec<_>>();
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
        let ids = |m: u32| base.events_as_of(m, 100).iter().map(|e| e.id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids(a), ["e5", "e1", "e9"]);
        assert_eq!(ids(b), ["e2"]);
        assert_eq!(base.events_by_kind["coupon_issued"], [(10, a), (20, b), (30, a), (30, a)]);
    }
}
