//! A member's events — mini-program visits, coupons issued and redeemed, group buys joined, a
//! WeCom contact deleted (and added again), unsubscribes and resubscribes — and, once every member has lived, who referred each group buy.
//!
//! Events are drawn after the member's orders, because most follow from them: a product page
//! viewed before an online order, a coupon redeemed on an order, a group buy behind an online
//! order of a `group_buy` SKU. A group buy's referrer is another member, so it can only be chosen
//! once all orders exist ([`resolve_referrers`], on a stream of its own).
//!
//! Rows of the distribution table in `docs/simulation.md` made here: mini-program visits, group
//! buys, coupons (and the redeemed coupon in price paid), WeCom (the deletions), UTC share (of
//! events).

use rand::Rng;

use crate::calendar::{DAY, HOUR};
use crate::members::{Kind, Life};
use crate::orders::GeneratedOrder;
use crate::sampling::{exp, pick, time_of_day};
use crate::tables::{PAGES, PAGE_WEIGHTS};

/// The referrer of a group buy until [`resolve_referrers`] finds one.
pub(crate) const UNRESOLVED: u32 = u32::MAX;
pub(crate) const UTC_SHARE_EVENTS: f64 = 0.18;

/// Ordered: a member's events at one instant are written in this order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EventKind {
    Visit,
    /// A product page (`browsing.rs`); `a` is the product.
    ProductView,
    CouponIssued,
    CouponRedeemed,
    GroupBuyJoined,
    WecomDeleted,
    WecomAdded,
    Unsubscribed,
    Resubscribed,
    /// A size a store lacked (`browsing.rs`); `a` the product, `b` packed store, size, price-sensitivity.
    OutOfStockRequest,
}

/// `a` of a consent event: the channel, or every channel.
pub(crate) const EVERY_CHANNEL: u32 = 0;
pub(crate) const SMS: u32 = 1;
/// Mixed into the seed for the stream of changes in how members are reached,
/// added after the rest: a seed's other rows stay as they were.
const CONTACT_STREAM: u64 = 0xC0A7_AC75;

/// `a` and `b`: the page (index into PAGES, or PAGES.len() + product); the coupon's number and
/// value; the group buy's referrer and product.
#[derive(Clone, Copy)]
pub(crate) struct GeneratedEvent {
    pub(crate) at: i64,
    pub(crate) member: u32,
    pub(crate) kind: EventKind,
    pub(crate) utc: bool,
    pub(crate) a: u32,
    pub(crate) b: u32,
}

impl Life<'_> {
    /// Customers sometimes buy a group-buy item online through a friend's group.
    pub(crate) fn add_group_buys(&mut self) {
        let skip = (self.m.kind == Kind::GroupBuyNewcomer) as usize; // their first order has one
        for i in self.own_orders + skip..self.orders.len() {
            let o = self.orders[i];
            if o.online && self.world.product(o.product).group_buy && self.rng.random_bool(0.3) {
                let at = (o.at - self.rng.random_range(60..600)).max(self.m.joined);
                self.event(at, EventKind::GroupBuyJoined, UNRESOLVED, o.product as u32);
            }
        }
    }

    pub(crate) fn add_coupons(&mut self) {
        if let Some(added) = self.m.wecom.filter(|_| self.rng.random_bool(0.6)) {
            let at = added + self.rng.random_range(30..600);
            self.issue_coupon(at, 20);
        }
        let cal = &self.world.cal;
        for &(day, value) in &cal.campaigns {
            let at = cal.midnight(day) + 10 * HOUR + self.rng.random_range(0..7200);
            if at > self.m.joined && self.rng.random_bool(0.3) {
                self.issue_coupon(at, value);
            }
        }
    }

    /// Issues a coupon; 70% of the members who order within 30 days use it on that order.
    fn issue_coupon(&mut self, at: i64, value: u32) {
        if at > self.world.cal.end {
            return;
        }
        self.coupons += 1;
        self.event(at, EventKind::CouponIssued, self.coupons, value);
        let usable =
            |o: &&mut GeneratedOrder| o.at > at && o.at <= at + 30 * DAY && !o.coupon && o.cents >= value * 300;
        let Some(order) = self.orders[self.own_orders..].iter_mut().find(usable) else {
            return;
        };
        if self.rng.random_bool(0.7) {
            order.coupon = true;
            order.cents -= value * 100;
            let redeemed = order.at;
            self.event(redeemed, EventKind::CouponRedeemed, self.coupons, 0);
        }
    }

    /// Visits at a rate by life-cycle stage (a product page's is a `product_view`, and each starts
    /// a browsing session, `browsing.rs`), plus a product page before half the online orders.
    pub(crate) fn add_visits(&mut self) {
        let (m, world) = (self.m, self.world);
        let mean_gap = match m.kind {
            Kind::Loyal => 14.0,
            Kind::Occasional | Kind::Lapsed => 40.0,
            Kind::OneTime => 90.0,
            Kind::Follower | Kind::GroupBuyNewcomer => 60.0,
        };
        let mut t = world.cal.day_of(m.joined) as f64;
        let mut sessions = Vec::new();
        loop {
            let lapsed = world.cal.midnight(t as i64) > m.stop;
            t += exp(&mut self.rng, if lapsed { 120.0 } else { mean_gap });
            if t as i64 >= world.cal.days {
                break;
            }
            let at = world.cal.midnight(t as i64) + time_of_day(&mut self.rng, true);
            if at < m.joined {
                continue;
            }
            match pick(&mut self.rng, &PAGE_WEIGHTS) {
                p if p < PAGES.len() => self.event(at, EventKind::Visit, p as u32, 0),
                _ => match world.pick_product(&mut self.rng, &m, at) {
                    Some(product) => self.event(at, EventKind::ProductView, u32::from(product), 0),
                    None => self.event(at, EventKind::Visit, 0, 0),
                },
            }
            sessions.push(at);
        }
        for i in self.own_orders..self.orders.len() {
            let o = self.orders[i];
            if o.online && self.rng.random_bool(0.5) {
                let at = (o.at - self.rng.random_range(60..1200)).max(m.joined);
                self.event(at, EventKind::ProductView, u32::from(o.product), 0);
            }
        }
        self.add_browsing(&sessions);
    }

    /// Changes in how the member may be reached, each a few percent a year
    /// as operators report them: a quarter of those who deleted the brand on
    /// WeCom add it again (after about a month); 2% unsubscribe from SMS and
    /// 1% from everything, a quarter of them subscribing again (after about
    /// two months).
    pub(crate) fn add_contact_changes(&mut self, deleted: Option<i64>) {
        let mut rng = crate::sampling::stream_rng(self.seed ^ CONTACT_STREAM, self.m.index as u64);
        let end = self.world.cal.end;
        if let Some(deleted) = deleted.filter(|_| rng.random_bool(0.25)) {
            let at = deleted + (exp(&mut rng, 30.0) * DAY as f64) as i64 + HOUR;
            if at <= end {
                self.push_event(&mut rng, at, EventKind::WecomAdded, 0);
            }
        }
        let channel = match rng.random::<f64>() {
            x if x < 0.02 => SMS,
            x if x < 0.03 => EVERY_CHANNEL,
            _ => return,
        };
        let from = self.m.joined + DAY;
        if from >= end {
            return;
        }
        let at = rng.random_range(from..=end);
        self.push_event(&mut rng, at, EventKind::Unsubscribed, channel);
        if rng.random_bool(0.25) {
            let again = at + (exp(&mut rng, 60.0) * DAY as f64) as i64 + HOUR;
            if again <= end {
                self.push_event(&mut rng, again, EventKind::Resubscribed, channel);
            }
        }
    }

    /// [`Life::event`] drawing from `rng` instead of the member's main stream.
    fn push_event(&mut self, rng: &mut impl Rng, at: i64, kind: EventKind, a: u32) {
        let utc = rng.random_bool(UTC_SHARE_EVENTS);
        self.events.push(GeneratedEvent { at, member: self.m.index, kind, utc, a, b: 0 });
    }

    pub(crate) fn event(&mut self, at: i64, kind: EventKind, a: u32, b: u32) {
        let utc = self.rng.random_bool(UTC_SHARE_EVENTS);
        self.events.push(GeneratedEvent { at, member: self.m.index, kind, utc, a, b });
    }
}

/// Each group buy was opened by a customer who ordered in the 30 days before (the latest earlier
/// one if none did); a group buy nobody could have opened is dropped.
pub(crate) fn resolve_referrers(events: &mut Vec<GeneratedEvent>, orders: &[GeneratedOrder], rng: &mut impl Rng) {
    events.retain_mut(|e| {
        if e.kind != EventKind::GroupBuyJoined {
            return true;
        }
        let from = orders.partition_point(|o| o.at < e.at - 30 * DAY);
        let until = orders.partition_point(|o| o.at < e.at);
        let recent = (0..8).filter(|_| from < until).map(|_| orders[rng.random_range(from..until)]);
        let earlier = orders[..until].iter().rev().copied();
        let referrer = recent.chain(earlier).find(|o| o.member != e.member);
        referrer.map(|o| e.a = o.member).is_some()
    });
}
