//! A member's orders: the first purchase, the purchases after it, and what was paid.
//!
//! The first purchase comes at the till when registering, through a group buy, or online some
//! time later; the ones after it are a Poisson process at the member's yearly rate, thinned by
//! each day's demand, so that promotions and weekends get their share. Orders of one member are
//! appended to the vector all members share, where `events.rs` later finds them for coupons,
//! visits and group buys, and `output.rs` writes them once all are sorted.
//!
//! Rows of the distribution table in `docs/simulation.md` made here: first order,
//! inter-purchase time, price paid (the coupon part is in `events.rs`), UTC share (of orders),
//! and the group buys newcomers open with their first order.

use rand::Rng;

use crate::calendar::{DAY, HOUR};
use crate::events::{EventKind, UNRESOLVED};
use crate::members::{Kind, Life};
use crate::sampling::{exp, pick, time_of_day};

const UTC_SHARE_ONLINE_ORDERS: f64 = 0.40;

/// An order as the generator places it: `coupon` once a coupon was redeemed on it (its
/// `cents` already less the coupon); `utc` if written with `Z`.
#[derive(Clone, Copy)]
pub(crate) struct GeneratedOrder {
    pub(crate) at: i64,
    pub(crate) member: u32,
    pub(crate) cents: u32,
    pub(crate) product: u16,
    pub(crate) online: bool,
    pub(crate) utc: bool,
    pub(crate) coupon: bool,
}

impl Life<'_> {
    pub(crate) fn plan_orders(&mut self) {
        let cal = &self.world.cal;
        let Some(first) = self.first_purchase() else {
            return;
        };
        let rng = &mut self.rng;
        let per_year = match self.m.kind {
            Kind::Follower | Kind::OneTime => return,
            Kind::GroupBuyNewcomer if rng.random_bool(0.6) => return,
            Kind::Occasional | Kind::GroupBuyNewcomer => rng.random_range(2.0..4.0),
            Kind::Loyal => rng.random_range(6.0..12.0),
            Kind::Lapsed => rng.random_range(3.0..6.0),
        };
        if self.m.kind == Kind::Lapsed {
            self.m.stop = rng.random_range(first..=cal.end);
        }
        // Thinning: propose days at the peak rate, keep each with probability demand / peak.
        let peak_rate = per_year / 365.0 / cal.demand_mean * cal.demand_max;
        let mut t = (first - cal.midnight(0)) as f64 / DAY as f64;
        loop {
            t += exp(&mut self.rng, 1.0 / peak_rate);
            let day = t as i64;
            if cal.midnight(day) > self.m.stop {
                break;
            }
            if self.rng.random::<f64>() * cal.demand_max > cal.demand[day as usize] {
                continue;
            }
            let Some(at) = self.place_order(day, first + HOUR, None, None) else {
                continue;
            };
            if self.rng.random_bool(0.03) {
                // Back the same day for an add-on in the other channel.
                let online = !self.orders.last().unwrap().online;
                self.place_order(day, at + HOUR, Some(online), None);
            }
        }
    }

    /// Buys at the till when registering, through a group buy, or online some time later.
    fn first_purchase(&mut self) -> Option<i64> {
        let (m, cal) = (self.m, &self.world.cal);
        match m.kind {
            Kind::Follower => None,
            Kind::GroupBuyNewcomer if self.rng.random_bool(0.85) => {
                let joined_group = m.joined + self.rng.random_range(30..180);
                let product = self.world.pick_group_buy(&mut self.rng, joined_group)?;
                self.event(joined_group, EventKind::GroupBuyJoined, UNRESOLVED, product as u32);
                let paid = joined_group + self.rng.random_range(120..1800);
                self.place_order(cal.day_of(paid), paid, Some(true), Some(product))
            }
            _ if m.in_store => {
                let paid = m.joined + self.rng.random_range(300..2400);
                self.place_order(cal.day_of(m.joined), paid, Some(false), None)
            }
            _ => {
                let day = cal.day_of(m.joined) + exp(&mut self.rng, 75.0) as i64;
                self.place_order(day, m.joined, None, None)
            }
        }
    }

    /// Places an order on `day`, not before `not_before`, if the shop is still open then.
    /// `group_buy` forces that product at the group price.
    fn place_order(&mut self, day: i64, not_before: i64, online: Option<bool>, group_buy: Option<u16>) -> Option<i64> {
        let (cal, rng) = (&self.world.cal, &mut self.rng);
        if day >= cal.days {
            return None;
        }
        let promo = cal.promo[day as usize];
        let online_share = self.m.online_share + if promo { 0.25 } else { 0.0 };
        let online = online.unwrap_or_else(|| rng.random_bool(online_share.min(1.0)));
        let at = (cal.midnight(day) + time_of_day(rng, online)).max(not_before);
        let closing = cal.midnight(day) + if online { DAY } else { 22 * HOUR };
        if at >= closing || at > cal.end {
            return None;
        }
        let product = match group_buy {
            Some(p) => p,
            None => self.world.pick_product(rng, &self.m, at)?,
        };
        let factor = match (group_buy, promo) {
            (Some(_), _) => 0.8,
            (None, true) => [0.7, 0.75, 0.8, 0.85][rng.random_range(0..4)],
            (None, false) => [1.0, 0.9, 0.8][pick(rng, &[7.0, 2.0, 1.0])],
        };
        let cents = (self.world.product(product).cents as f64 * factor).round() as u32;
        let utc = online && rng.random_bool(UTC_SHARE_ONLINE_ORDERS);
        self.orders.push(GeneratedOrder { at, member: self.m.index, cents, product, online, utc, coupon: false });
        Some(at)
    }
}
