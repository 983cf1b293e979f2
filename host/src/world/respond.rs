//! The world's state and its reactions: the touches it received, the
//! orders and deletions they cause, and each day's background orders, as the
//! JSON records the ingest API takes (amounts in yuan with two decimals,
//! instants RFC 3339 in the brand's zone, ids unique by construction:
//! `W-B-…` background, `W-L-…` lift, `W-H-…` harm).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::draw::{id_of, uniform};
use super::{Plan, HARM_COUNT_DAYS};
use crate::calendar::{date_of_day, BrandCalendar};
use crate::model::{Day, Fen, Millis, Product, MILLIS_PER_DAY};

const SECOND: Millis = 1_000;

/// A touch as the world received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Touch {
    /// The decision key (`Idempotency-Key`).
    pub key: String,
    /// The strategy that decided it.
    pub strategy: String,
    /// Whom it reached.
    pub member_id: String,
    /// When it was sent: its `send_at`, else its run instant.
    pub at: Millis,
}

/// What the world did, per strategy where it applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorldCounts {
    /// Touches received, each key once.
    pub touches: BTreeMap<String, u64>,
    /// Redeliveries of a key already received (nothing drawn for them).
    pub redeliveries: u64,
    /// Orders the lift made.
    pub lift_orders: BTreeMap<String, u64>,
    /// Deletions a touch of the strategy made.
    pub deletions: BTreeMap<String, u64>,
    /// Background orders, all members.
    pub background_orders: u64,
}

/// Records to send back: orders and events, as the ingest API's JSON.
#[derive(Debug, Default)]
pub struct Reactions {
    /// `POST /api/v1/orders` records.
    pub orders: Vec<Value>,
    /// `POST /api/v1/events` records.
    pub events: Vec<Value>,
}

/// A seeded population over a brand's members (see the module doc of [`crate::world`]).
pub struct World {
    plan: Plan,
    calendar: BrandCalendar,
    members: Vec<String>,
    /// The catalogue orders are drawn from: (sku, category, list price).
    products: Vec<(String, String, Fen)>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    received: HashSet<String>,
    unsettled: Vec<Touch>,
    /// Each member's settled touch instants, for the harm count.
    touched_at: HashMap<String, Vec<Millis>>,
    deleted: HashSet<String>,
    counts: WorldCounts,
}

impl World {
    /// A world over `members` (ids), ordering from `products`; refuses an
    /// empty catalogue, as every order names a product.
    pub fn new(
        plan: Plan,
        calendar: BrandCalendar,
        members: Vec<String>,
        products: &[Product],
    ) -> anyhow::Result<Self> {
        let mut products: Vec<_> = products.iter().map(|p| (p.sku.clone(), p.category.clone(), p.price)).collect();
        anyhow::ensure!(
            !products.is_empty(),
            "the world needs a product catalogue to draw orders from; the store has none"
        );
        products.sort();
        Ok(World { plan, calendar, members, products, state: Mutex::default() })
    }

    /// The plan it stands by.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Records a delivered touch; `false` for a key already received (a
    /// redelivery), which draws nothing.
    pub fn receive(&self, touch: Touch) -> bool {
        let mut state = self.state.lock().expect("the world's lock is never held across a panic");
        if !state.received.insert(touch.key.clone()) {
            state.counts.redeliveries += 1;
            return false;
        }
        *state.counts.touches.entry(touch.strategy.clone()).or_default() += 1;
        state.unsettled.push(touch);
        true
    }

    /// What it did so far.
    pub fn counts(&self) -> WorldCounts {
        self.state.lock().expect("the world's lock is never held across a panic").counts.clone()
    }

    /// The background orders of brand-local `day`: each member with the
    /// plan's probability, keyed by (member, day).
    pub fn background(&self, day: Day) -> Reactions {
        let seed = self.plan.seed;
        let start = self.calendar.start_of(date_of_day(day));
        let length = self.calendar.start_of(date_of_day(day + 1)) - start;
        let day_text = day.to_string();
        let mut orders = Vec::new();
        for member in &self.members {
            if uniform(seed, &["background", member, &day_text]) >= self.plan.background {
                continue;
            }
            let at = start + whole_seconds(uniform(seed, &["background-at", member, &day_text]) * length as f64);
            let id = format!("W-B-{}", id_of(&[member, &day_text]));
            orders.push(self.order(id, member, at, &["background-product", member, &day_text]));
        }
        self.state.lock().expect("the world's lock is never held across a panic").counts.background_orders +=
            orders.len() as u64;
        Reactions { orders, events: Vec::new() }
    }

    /// The reactions to the touches received since the last call, taken in
    /// the order of their instants (then keys), so the harm count of each is
    /// the same whatever order they arrived in.
    pub fn settle(&self) -> Reactions {
        let mut state = self.state.lock().expect("the world's lock is never held across a panic");
        let mut touches = std::mem::take(&mut state.unsettled);
        touches.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
        let seed = self.plan.seed;
        let mut out = Reactions::default();
        for t in touches {
            let lift = self.plan.lift.get(&t.strategy).copied().unwrap_or(0.0);
            if uniform(seed, &["lift", &t.key]) < lift {
                let span = i64::from(self.plan.lift_days) * MILLIS_PER_DAY;
                // At least a second after the touch: an order at its very instant is not "after" it.
                let at = t.at + whole_seconds(uniform(seed, &["lift-at", &t.key]) * span as f64).max(SECOND);
                let id = format!("W-L-{}", id_of(&[&t.key]));
                out.orders.push(self.order(id, &t.member_id, at, &["lift-product", &t.key]));
                *state.counts.lift_orders.entry(t.strategy.clone()).or_default() += 1;
            }
            let earlier = state.touched_at.entry(t.member_id.clone()).or_default();
            earlier.push(t.at);
            let recent =
                earlier.iter().filter(|&&at| at > t.at - HARM_COUNT_DAYS * MILLIS_PER_DAY && at <= t.at).count();
            let Some(harm) = self.plan.harm else { continue };
            if recent as u64 > u64::from(harm.over)
                && !state.deleted.contains(&t.member_id)
                && uniform(seed, &["harm", &t.key]) < harm.probability
            {
                let at = t.at + whole_seconds(uniform(seed, &["harm-at", &t.key]) * MILLIS_PER_DAY as f64).max(SECOND);
                out.events.push(json!({
                    "event_id": format!("W-H-{}", id_of(&[&t.key])),
                    "member_id": t.member_id,
                    "kind": "wecom_deleted",
                    "at": self.calendar.format(at),
                    "attrs": { "cause": "over-touched", "touches_in_7_days": recent, "touch": t.key },
                }));
                state.deleted.insert(t.member_id.clone());
                *state.counts.deletions.entry(t.strategy.clone()).or_default() += 1;
            }
        }
        out
    }

    fn order(&self, id: String, member: &str, at: Millis, product_draw: &[&str]) -> Value {
        let pick = (uniform(self.plan.seed, product_draw) * self.products.len() as f64) as usize;
        let (sku, category, price) = &self.products[pick.min(self.products.len() - 1)];
        json!({
            "order_id": id,
            "member_id": member,
            "placed_at": self.calendar.format(at),
            "amount": format!("{}.{:02}", price / 100, price % 100),
            "channel": "online",
            "category": category,
            "sku": sku,
        })
    }
}

/// Milliseconds to whole seconds: the instants the world writes read back exactly.
fn whole_seconds(millis: f64) -> Millis {
    (millis as Millis / SECOND) * SECOND
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Harm;

    fn world(harm: Option<Harm>) -> World {
        let plan = Plan { seed: 3, lift: BTreeMap::from([("s".into(), 1.0)]), lift_days: 7, background: 0.5, harm };
        let product = Product {
            sku: "SKU1".into(),
            name: String::new(),
            category: "dresses".into(),
            price: 29_900,
            launched_at: 0,
            tags: Vec::new(),
        };
        let members = (0..40).map(|i| format!("M{i}")).collect();
        World::new(plan, BrandCalendar::named("Asia/Shanghai").unwrap(), members, &[product]).unwrap()
    }

    fn touch(key: &str, member: &str, at: Millis) -> Touch {
        Touch { key: key.into(), strategy: "s".into(), member_id: member.into(), at }
    }

    #[test]
    fn a_redelivered_key_draws_nothing_twice() {
        let w = world(None);
        assert!(w.receive(touch("k1", "M1", 0)));
        assert!(!w.receive(touch("k1", "M1", 0)));
        assert_eq!(w.settle().orders.len(), 1, "lift 1.0: one order for the one touch");
        assert!(w.settle().orders.is_empty());
        assert_eq!(w.counts().redeliveries, 1);
    }

    #[test]
    fn the_same_touches_in_any_order_give_the_same_reactions() {
        let harm = Some(Harm { over: 1, probability: 1.0 });
        let touches = [
            touch("a", "M1", 5 * MILLIS_PER_DAY),
            touch("b", "M1", 6 * MILLIS_PER_DAY),
            touch("c", "M2", MILLIS_PER_DAY),
        ];
        let (one, two) = (world(harm), world(harm));
        touches.iter().for_each(|t| {
            one.receive(t.clone());
        });
        touches.iter().rev().for_each(|t| {
            two.receive(t.clone());
        });
        let (r1, r2) = (one.settle(), two.settle());
        assert_eq!(r1.orders, r2.orders);
        assert_eq!(r1.events, r2.events);
        assert_eq!(r1.events.len(), 1, "only M1's second touch in 7 days is one too many");
        assert_eq!(r1.events[0]["attrs"]["touch"], "b");
    }

    #[test]
    fn background_orders_fall_inside_their_day_and_amounts_read_as_yuan() {
        let w = world(None);
        let day = crate::calendar::day_number(chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
        let orders = w.background(day).orders;
        assert!((10..=30).contains(&orders.len()), "about half of 40: {}", orders.len());
        for o in &orders {
            assert!(o["placed_at"].as_str().unwrap().starts_with("2026-03-01T"), "{o}");
            assert_eq!(o["amount"], "299.00");
        }
        assert_eq!(w.background(day).orders, orders, "keyed by member and day");
    }
}
