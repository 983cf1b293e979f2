//! The members: who each one is, their life, and their row in `members.csv`.
//!
//! A member is drawn first (life-cycle kind, join instant, store or online, WeCom, favourite
//! categories), then lives through the period in [`Life`]: its orders (`orders.rs`) and events
//! (`events.rs`) are appended to vectors all members share, and its row, whose level depends on
//! what it spent, is written last. Everything about one member comes from that member's own
//! random stream, in a fixed order, which is what keeps the output identical for a seed.
//!
//! Rows of the distribution table in `docs/simulation.md` made here: life-cycle mix, joining,
//! WeCom (the add; deletions are in `events.rs`), members.

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::calendar::{Calendar, DAY, HOUR};
use crate::events::{EventKind, GeneratedEvent};
use crate::orders::GeneratedOrder;
use crate::output::Maybe;
use crate::sampling::{exp, pick, stream_rng, time_of_day};
use crate::tables::{GIVEN, KINDS, OTHER_ZONES, POPULARITY, SURNAMES, SURNAME_WEIGHTS};
use crate::world::World;

/// A member's life-cycle kind, which sets how often (and whether) they buy and visit.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Follower,
    OneTime,
    Occasional,
    Loyal,
    Lapsed,
    GroupBuyNewcomer,
}

/// Who a member is before anything happens to them.
#[derive(Clone, Copy)]
pub(crate) struct GeneratedMember {
    pub(crate) index: u32,
    pub(crate) kind: Kind,
    pub(crate) joined: i64,
    pub(crate) in_store: bool,
    pub(crate) wecom: Option<i64>,
    pub(crate) online_share: f64,
    /// Lapsed members stop buying here; everyone else at the end of the data.
    pub(crate) stop: i64,
    pub(crate) favourites: [f64; 9],
}

/// One member's simulation: its own random stream, appending its rows to the shared vectors.
/// Its fields are the crate's because `orders.rs` and `events.rs` each add a part of the life.
pub(crate) struct Life<'a> {
    pub(crate) world: &'a World,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) m: GeneratedMember,
    pub(crate) orders: &'a mut Vec<GeneratedOrder>,
    pub(crate) events: &'a mut Vec<GeneratedEvent>,
    /// Where this member's orders start in `orders`.
    pub(crate) own_orders: usize,
    pub(crate) coupons: u32,
    /// The data set's seed: changes in how the member is reached draw from a stream of their own.
    pub(crate) seed: u64,
}

impl<'a> Life<'a> {
    pub(crate) fn new(
        world: &'a World,
        seed: u64,
        index: u32,
        orders: &'a mut Vec<GeneratedOrder>,
        events: &'a mut Vec<GeneratedEvent>,
    ) -> Self {
        let (cal, mut rng) = (&world.cal, stream_rng(seed, index as u64));
        let kind = KINDS[pick(&mut rng, &KINDS.map(|k| k.1))].0;
        let in_store = kind != Kind::GroupBuyNewcomer && rng.random_bool(if kind == Kind::Loyal { 0.7 } else { 0.4 });
        // Group buys need earlier customers to refer the newcomer.
        let earliest = if kind == Kind::GroupBuyNewcomer { 30.min(cal.days - 1) } else { 0 };
        let joined = cal.midnight(cal.sample_join_day(&mut rng, earliest)) + time_of_day(&mut rng, !in_store);
        let online_share = if kind == Kind::Loyal { 0.5 } else { [0.1, 0.4, 0.8][pick(&mut rng, &[5.0, 3.0, 2.0])] };
        let mut favourites = [1.0; 9];
        for _ in 0..rng.random_range(1..=3) {
            favourites[pick(&mut rng, &POPULARITY)] = 6.0;
        }
        let mut m =
            GeneratedMember { index, kind, joined, in_store, wecom: None, online_share, stop: cal.end, favourites };
        m.wecom = wecom_add(cal, &mut rng, &m);
        Life { world, rng, m, own_orders: orders.len(), orders, events, coupons: 0, seed }
    }

    pub(crate) fn simulate(&mut self) {
        self.plan_orders();
        self.orders[self.own_orders..].sort_unstable_by_key(|o| o.at);
        self.add_group_buys();
        self.add_coupons();
        self.add_visits();
        let mut deleted = None;
        if let Some(added) = self.m.wecom.filter(|_| self.rng.random_bool(0.03)) {
            let at = added + (exp(&mut self.rng, 120.0) * DAY as f64) as i64 + HOUR;
            if at <= self.world.cal.end {
                self.event(at, EventKind::WecomDeleted, 0, 0);
                deleted = Some(at);
            }
        }
        self.add_contact_changes(deleted);
    }

    /// Writes the member's row; name, birthday, store and time zone are drawn only here. Returns
    /// the store (its index), where the member's out-of-stock requests are made.
    pub(crate) fn write_member(&mut self, w: &mut impl Write) -> Result<u32> {
        let (m, world, rng) = (self.m, self.world, &mut self.rng);
        let spend = self.orders[self.own_orders..].iter().map(|o| o.cents as u64);
        let level = level_for(spend.sum());
        let surname = SURNAMES[pick(rng, &SURNAME_WEIGHTS)];
        let given = GIVEN[rng.random_range(0..GIVEN.len())];
        let given2 = if rng.random_bool(0.7) { GIVEN[rng.random_range(0..GIVEN.len())] } else { "" };
        let birthday = Maybe(birthday(rng, m.index));
        let store = rng.random_range(0..world.guides_per_store.len());
        let guide = rng.random_range(1..=world.guides_per_store[store]);
        let tz = match pick(rng, &[92.0, 5.0, 3.0]) {
            0 => "",
            1 => "Asia/Shanghai",
            _ => OTHER_ZONES[rng.random_range(0..OTHER_ZONES.len())],
        };
        let (id, number) = (m.index + 1, store + 1);
        let joined = world.cal.rfc3339(m.joined, false);
        let wecom = Maybe(m.wecom.map(|at| world.cal.rfc3339(at, false)));
        let name = format_args!("{surname}{given}{given2}");
        write!(w, "M{id:06},{name},{level},{birthday},{joined},{wecom},")?;
        writeln!(w, "S{number:02},G{number:02}{guide:02},{tz}")?;
        Ok(store as u32)
    }
}

fn wecom_add(cal: &Calendar, rng: &mut impl Rng, m: &GeneratedMember) -> Option<i64> {
    // Guides add most members who registered online; at the till many decline.
    let p = match m.kind {
        Kind::Follower => 1.0,
        Kind::Loyal => 0.85,
        Kind::GroupBuyNewcomer => 0.4,
        _ if m.in_store => 0.4,
        _ => 0.85,
    };
    if !rng.random_bool(p) {
        return None;
    }
    let at = if rng.random_bool(0.5) {
        m.joined + rng.random_range(60..600) // scanned the guide's QR code while registering
    } else {
        cal.midnight(cal.day_of(m.joined) + rng.random_range(1..=60)) + time_of_day(rng, true)
    };
    (at <= cal.end).then_some(at)
}

fn level_for(spend_cents: u64) -> u8 {
    match spend_cents / 100 {
        0..600 => 1,
        600..2000 => 2,
        2000..5000 => 3,
        _ => 4,
    }
}

/// 85% have one, 80% of them born 1980–2004; 1 in 300 members on 29 February, a date tests need.
fn birthday(rng: &mut impl Rng, index: u32) -> Option<NaiveDate> {
    if index % 300 == 299 {
        return NaiveDate::from_ymd_opt(1960 + 4 * rng.random_range(0..12), 2, 29);
    }
    if !rng.random_bool(0.85) {
        return None;
    }
    let years = if rng.random_bool(0.8) { 1980..=2004 } else { 1960..=2006 };
    let year = rng.random_range(years);
    let leap = NaiveDate::from_ymd_opt(year, 2, 29).is_some();
    NaiveDate::from_yo_opt(year, rng.random_range(1..=365 + leap as u32))
}
