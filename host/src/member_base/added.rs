//! Orders that came in after the build (the ingest API), put into the base
//! in place: a member's rows, the flat order array and every day index they
//! move, as a build from the store with them would have them — so `serve`
//! need not read a million members again for a few orders.

use super::*;

/// Why orders could not be added in place; the base is as it was, and a
/// build from the store is the way to take them in.
#[derive(Debug, PartialEq, Eq)]
pub struct NotInPlace(pub String);

impl MemberBase {
    /// Adds orders placed after the build. One the base has already (the same
    /// member, instant, amount and category: an ingest sent again, or read
    /// from the store) is skipped. An order of a member the base does not
    /// know, or at the instant of another of the member's orders (which a
    /// build puts in order by order id, which rows do not keep), is refused
    /// before anything changes.
    pub fn add_orders(&mut self, orders: &[Order]) -> Result<(), NotInPlace> {
        let mut added: Vec<(u32, OrderRow)> = Vec::new();
        let mut new_categories: Vec<&str> = Vec::new();
        for order in orders {
            let m = self.index_of(&order.member_id).ok_or_else(|| {
                NotInPlace(format!("order {}: member {} is not in the base", order.id, order.member_id))
            })?;
            let category = match self.categories.iter().position(|c| *c == order.category) {
                Some(c) => c as u32,
                None => {
                    let new = new_categories.iter().position(|c| *c == order.category).unwrap_or_else(|| {
                        new_categories.push(&order.category);
                        new_categories.len() - 1
                    });
                    (self.categories.len() + new) as u32
                }
            };
            let row = OrderRow {
                at: order.placed_at,
                day: self.calendar.day_of(order.placed_at),
                amount: order.amount,
                category,
            };
            let known =
                self.orders_as_of(m, Millis::MAX).iter().chain(added.iter().filter(|(a, _)| *a == m).map(|(_, r)| r));
            match known.filter(|o| o.at == row.at).map(|o| (o.amount, o.category) == (row.amount, row.category)).max() {
                Some(true) => continue,
                Some(false) => {
                    return Err(NotInPlace(format!(
                        "order {}: member {} has another order at the same instant",
                        order.id, order.member_id
                    )))
                }
                None => added.push((m, row)),
            }
        }
        if added.is_empty() {
            return Ok(());
        }
        self.categories.extend(new_categories.iter().map(|c| c.to_string()));
        self.by_first_order_in_category.resize_with(self.categories.len(), DayIndex::default);
        added.sort_by_key(|&(m, row)| (m, row.at));

        // The first order, overall and per category, of each member it moves.
        let mut members: Vec<u32> = added.iter().map(|&(m, _)| m).collect();
        members.dedup();
        let firsts_before: Vec<Firsts> = members.iter().map(|&m| self.firsts(m)).collect();
        self.merge_rows(&added);

        let mut first_order = IndexChange::default();
        let mut by_category: Vec<(u32, IndexChange)> = Vec::new();
        for before in firsts_before {
            let (m, now) = (before.member, self.firsts(before.member));
            if before.overall != now.overall {
                first_order.removed.extend(before.overall.map(|d| (d, m)));
                first_order.inserted.extend(now.overall.map(|d| (d, m)));
            }
            for (category, day) in now.by_category {
                let was = before.by_category.iter().find(|(c, _)| *c == category).map(|&(_, d)| d);
                if was != Some(day) {
                    let slot = match by_category.iter().position(|(c, _)| *c == category) {
                        Some(i) => i,
                        None => {
                            by_category.push((category, IndexChange::default()));
                            by_category.len() - 1
                        }
                    };
                    by_category[slot].1.removed.extend(was.map(|d| (d, m)));
                    by_category[slot].1.inserted.push((day, m));
                }
            }
        }
        self.by_first_order_day.replace(first_order);
        for (category, change) in by_category {
            self.by_first_order_in_category[category as usize].replace(change);
        }
        let order_days = added.iter().map(|&(m, row)| (row.day, m)).collect();
        self.by_order_day.replace(IndexChange { removed: Vec::new(), inserted: order_days });
        Ok(())
    }

    /// Member `m`'s first order day, overall and in each category.
    fn firsts(&self, m: u32) -> Firsts {
        let orders = self.orders_as_of(m, Millis::MAX);
        let mut by_category: Vec<(u32, Day)> = Vec::new();
        for o in orders {
            if !by_category.iter().any(|(c, _)| *c == o.category) {
                by_category.push((o.category, o.day));
            }
        }
        Firsts { member: m, by_category, overall: orders.first().map(|o| o.day) }
    }

    /// The flat order array again with `added` (by member, then instant) in
    /// place: one pass, each member's rows still oldest first.
    fn merge_rows(&mut self, added: &[(u32, OrderRow)]) {
        let mut rows = Vec::with_capacity(self.order_rows.len() + added.len());
        let mut start = Vec::with_capacity(self.order_start.len());
        let mut next = added.iter().peekable();
        for m in 0..self.members.len() {
            start.push(rows.len());
            let own = &self.order_rows[self.order_start[m]..self.order_start[m + 1]];
            let mut own = own.iter().peekable();
            loop {
                let new = next.peek().filter(|(a, _)| *a as usize == m).map(|(_, r)| r);
                match (own.peek(), new) {
                    // Later than every order at its instant (there is none: see `add_orders`).
                    (Some(o), Some(n)) if o.at <= n.at => rows.push(*own.next().expect("peeked")),
                    (_, Some(n)) => {
                        rows.push(*n);
                        next.next();
                    }
                    (Some(_), None) => rows.push(*own.next().expect("peeked")),
                    (None, None) => break,
                }
            }
        }
        start.push(rows.len());
        self.order_rows = rows;
        self.order_start = start;
    }
}

/// A member's first order day, overall and per category (in the order first bought).
struct Firsts {
    member: u32,
    by_category: Vec<(u32, Day)>,
    overall: Option<Day>,
}

/// Entries to take out of a day index, and entries to put in.
#[derive(Default)]
struct IndexChange {
    removed: Vec<(Day, u32)>,
    inserted: Vec<(Day, u32)>,
}

impl DayIndex {
    /// Takes out `removed` entries and puts in `inserted`, keeping the index
    /// sorted and without repeats: one pass over it, not a sort.
    fn replace(&mut self, change: IndexChange) {
        let IndexChange { mut removed, mut inserted } = change;
        if removed.is_empty() && inserted.is_empty() {
            return;
        }
        inserted.sort_unstable();
        inserted.dedup();
        removed.sort_unstable();
        let old = std::mem::take(&mut self.0);
        let mut merged = Vec::with_capacity(old.len() + inserted.len());
        let mut new = inserted.into_iter().peekable();
        for entry in old {
            if removed.binary_search(&entry).is_ok() {
                continue;
            }
            while let Some(&n) = new.peek().filter(|&&n| n <= entry) {
                if n != entry {
                    merged.push(n);
                }
                new.next();
            }
            merged.push(entry);
        }
        merged.extend(new);
        self.0 = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{bare_member, OrderChannel};

    fn order(id: &str, member: &str, at: Millis, amount: Fen, category: &str) -> Order {
        Order {
            id: id.into(),
            member_id: member.into(),
            placed_at: at,
            amount,
            channel: OrderChannel::Online,
            category: category.into(),
            sku: "S".into(),
        }
    }

    const DAY: Millis = 86_400_000;

    fn base(orders: Vec<Order>) -> MemberBase {
        let members = ["A", "B", "C"].map(bare_member).to_vec();
        MemberBase::build(Default::default(), DataSet { members, orders, ..Default::default() })
    }

    /// What audiences read of a base: every member's rows and every index.
    fn shape(b: &MemberBase) -> String {
        let rows: Vec<Vec<(Millis, Fen, &str)>> = (0..b.len() as u32)
            .map(|m| {
                b.orders_as_of(m, Millis::MAX).iter().map(|o| (o.at, o.amount, b.category_name(o.category))).collect()
            })
            .collect();
        let mut by_category: Vec<(&str, &[(Day, u32)])> = (0..b.categories.len())
            .map(|c| (b.categories[c].as_str(), b.by_first_order_in_category[c].range(Day::MIN, Day::MAX)))
            .collect();
        by_category.sort();
        format!(
            "{rows:?}\n{:?}\n{:?}\n{by_category:?}",
            b.by_order_day.range(Day::MIN, Day::MAX),
            b.by_first_order_day.range(Day::MIN, Day::MAX)
        )
    }

    #[test]
    fn orders_added_in_place_read_as_a_build_with_them() {
        let earlier = vec![order("o1", "A", 10 * DAY, 100, "shoes"), order("o2", "B", 12 * DAY, 200, "bags")];
        let later = vec![
            // Before A's first order, in a new category; B's second; C's first, twice in one day.
            order("n1", "A", 5 * DAY, 50, "coats"),
            order("n2", "B", 20 * DAY, 70, "shoes"),
            order("n3", "C", 30 * DAY, 10, "bags"),
            order("n4", "C", 30 * DAY + 5, 20, "bags"),
        ];
        let mut grown = base(earlier.clone());
        grown.add_orders(&later).unwrap();
        let built = base(earlier.into_iter().chain(later.clone()).collect());
        assert_eq!(shape(&grown), shape(&built));

        // The same orders again (an ingest retried, or already read from the store): nothing changes.
        grown.add_orders(&later).unwrap();
        assert_eq!(shape(&grown), shape(&built));
    }

    #[test]
    fn an_order_it_cannot_place_exactly_is_refused_and_changes_nothing() {
        let mut b = base(vec![order("o1", "A", 10 * DAY, 100, "shoes")]);
        let before = shape(&b);
        let refused = b.add_orders(&[order("n1", "B", DAY, 1, "bags"), order("n2", "A", 10 * DAY, 5, "shoes")]);
        assert!(refused.unwrap_err().0.contains("order n2: member A has another order at the same instant"));
        let refused = b.add_orders(&[order("n3", "Z", DAY, 1, "bags")]);
        assert!(refused.unwrap_err().0.contains("member Z is not in the base"));
        assert_eq!(shape(&b), before);
    }
}
