//! Building the member base from a data set: members numbered in id order,
//! each member's orders and events as rows in time order, the day indexes,
//! and category names interned.

use super::events::{self, EventPart, EventReader};
use super::*;

impl MemberBase {
    /// Builds the view, with events of every kind. Orders and events of
    /// unknown members are ignored (the store never holds any; imports
    /// refuse them).
    pub fn build(calendar: BrandCalendar, mut data: DataSet) -> Self {
        let events = std::mem::take(&mut data.events);
        let read = |reader: &EventReader<'_>| {
            let mut part = EventPart::default();
            // Each one dropped once it is a row.
            for event in events {
                reader.add(&mut part, event.as_ref());
            }
            Ok(vec![part])
        };
        Self::build_with(calendar, data, KeptKinds::Every, read).expect("reading events from memory does not fail")
    }

    /// [`MemberBase::build`] of `data`'s members, orders, products and
    /// guides, and the events of the `kept` kinds `read_events` gives (its
    /// own from `data` are not read): a store hands over its events as parts
    /// read on all cores, never as one vector of them all.
    pub fn build_with(
        calendar: BrandCalendar,
        data: DataSet,
        kept: KeptKinds,
        read_events: impl FnOnce(&EventReader<'_>) -> anyhow::Result<Vec<EventPart>> + Send,
    ) -> anyhow::Result<Self> {
        let mut members: Vec<Member> = data.members;
        members.sort_by(|a, b| a.id.cmp(&b.id));
        let index = numbers(members.iter().map(|m| &m.id));

        // Orders and events are independent of each other: the events (the
        // most records by far) are read and sorted out on a thread of their own.
        let (mut categories, (order_rows, order_start), events) = std::thread::scope(|scope| {
            let events = scope.spawn(|| {
                let parts = read_events(&EventReader { index: &index, calendar: &calendar, kept: &kept })?;
                anyhow::Ok(events::join(parts, members.len()))
            });
            let mut categories = CategoryNames::default();
            let orders = orders_by_member(&calendar, &index, data.orders, members.len(), &mut categories);
            (categories, orders, events.join().expect("sorting events does not panic"))
        });
        let (events, event_text, events_by_kind) = events?;

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

        let own_zones = own_zones(&members);
        let mut by_birth_month: [Vec<u32>; 13] = Default::default();
        for (i, row) in members.iter().enumerate() {
            if let Some(birthday) = row.member.birthday {
                by_birth_month[crate::calendar::month_of(birthday) as usize].push(i as u32);
            }
        }
        let enumerate = || members.iter().enumerate().map(|(i, row)| (i as u32, row));
        let orders_of = || order_start.windows(2).enumerate().map(|(i, w)| (i as u32, &order_rows[w[0]..w[1]]));
        // Every day a member added the brand on WeCom: the first (their row's),
        // and each time again after deleting it (`wecom_added` events).
        let first_adds = enumerate().filter_map(|(i, r)| Some((r.wecom_added_day?, i)));
        let re_adds = events_by_kind.get(super::reachability::WECOM_ADDED).into_iter().flatten();
        let wecom_days = first_adds.chain(re_adds.map(|&(at, i)| (calendar.day_of(at), i))).collect();
        Ok(MemberBase {
            by_joined_day: DayIndex::build(enumerate().map(|(i, r)| (r.joined_day, i)).collect()),
            by_wecom_day: DayIndex::build(wecom_days),
            by_order_day: DayIndex::build(orders_of().flat_map(|(i, o)| o.iter().map(move |o| (o.day, i))).collect()),
            by_first_order_day: DayIndex::build(orders_of().filter_map(|(i, o)| Some((o.first()?.day, i))).collect()),
            by_first_order_in_category: first_order_in_category(orders_of(), categories.names.len()),
            by_birth_month,
            events_by_kind,
            kept,
            calendar,
            members,
            index,
            own_zones,
            order_rows,
            order_start,
            events,
            event_text,
            products,
            categories: categories.names,
            guides: data.guides.into_iter().map(|g| (g.id.clone(), g)).collect(),
        })
    }

    /// The hash indexes, from the rows: a snapshot does not save them.
    pub(super) fn reindex(&mut self) {
        self.index = numbers(self.members.iter().map(|row| &row.member.id));
        self.own_zones = own_zones(&self.members);
        self.event_text.reindex();
    }
}

/// Each member's number by id.
fn numbers<'a>(ids: impl Iterator<Item = &'a String>) -> FxHashMap<String, u32> {
    ids.enumerate().map(|(i, id)| (id.clone(), i as u32)).collect()
}

/// The members with a valid time zone of their own.
fn own_zones(members: &[MemberRow]) -> FxHashMap<String, Tz> {
    members.iter().filter_map(|row| Some((row.member.id.clone(), row.member.tz.as_deref()?.parse().ok()?))).collect()
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
