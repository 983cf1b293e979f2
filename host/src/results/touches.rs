//! The decisions of the store, read once and cut down to what results
//! need: per decision a small record (member, instant, what it was, its
//! group), and for the few that need more (coupons, staff tasks, group-buy
//! invites) what that is. Groups are numbered as they are first met; a
//! group's key is kept as interned numbers, worded only for the answer.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use super::query::{Dimension, ResultsQuery};
use crate::member_base::MemberBase;
use crate::model::{ActionKind, Decision, DecisionStatus, Fen, Millis};
use crate::store::OutboxState;

/// The total's group: every record in the range is in it as well as in its own.
pub(super) const TOTAL: u32 = 0;
/// No more dimensions than there are (six and a grain).
const MAX_DIMS: usize = 7;

/// What a decision was, for results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Sent (dispatched, or deferred to `send_at`), at its send instant.
    Sent,
    /// Withheld for the control group, at its run instant.
    Held,
    /// Decided but never sent: suppressed, or taken back before delivery.
    NotSent,
}

/// One decision, cut down.
#[derive(Clone, Debug)]
pub(super) struct Rec {
    pub member: u32,
    pub at: Millis,
    pub kind: Kind,
    /// Its own group when it is in the range; `None` for a touch outside
    /// it, kept only because it may be the last touch before an order.
    pub group: Option<u32>,
    pub action: ActionKind,
    /// The strategy, interned.
    pub strategy: u32,
    /// Index into [`Touches::extras`] for coupons, staff tasks and invites; else `u32::MAX`.
    pub extra: u32,
}

/// What a coupon, a staff task or a group-buy invite needs beyond [`Rec`].
#[derive(Clone, Debug)]
pub(super) struct Extra {
    /// The decision's key: a `staff_task_done` may name it.
    pub key: String,
    /// A coupon's id and face value.
    pub coupon: Option<(String, Fen)>,
    /// A group-buy invite's discount per join: list price minus group price.
    pub discount: Fen,
    /// A staff task's guide (the decision's, else the member's): recovered sales are credited to them.
    pub guide: String,
}

/// Strings numbered as first met.
#[derive(Default)]
pub(super) struct Interner {
    ids: FxHashMap<String, u32>,
    pub names: Vec<String>,
}

impl Interner {
    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }

    pub fn find(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }
}

/// The range's decisions, ready for the member pass.
pub(super) struct Touches {
    /// Sorted by member, then instant.
    pub recs: Vec<Rec>,
    pub extras: Vec<Extra>,
    /// Group keys by group number (the total's is empty), one number per dimension.
    pub keys: Vec<[u32; MAX_DIMS]>,
    /// Per dimension of the query, its values' names (levels and periods are their own numbers).
    pub names: Vec<Interner>,
    pub strategies: Interner,
}

/// Reads decisions into [`Touches`]: those of the range, and touches sent
/// up to `window` after it (they may be the last touch before an order).
pub(super) struct Gatherer<'a> {
    base: &'a MemberBase,
    query: &'a ResultsQuery,
    first: Millis,
    last: Millis,
    prices: HashMap<String, Fen>,
    groups: HashMap<[u32; MAX_DIMS], u32>,
    out: Touches,
}

impl<'a> Gatherer<'a> {
    pub fn new(base: &'a MemberBase, query: &'a ResultsQuery, window: Millis) -> Self {
        let first = base.calendar.start_of(crate::calendar::date_of_day(query.from));
        let last = base.calendar.start_of(crate::calendar::date_of_day(query.to.saturating_add(1))) - 1;
        let prices = base.launches(i32::MIN, Millis::MAX).map(|p| (p.product.sku.clone(), p.product.price)).collect();
        let names = query.by.iter().map(|_| Interner::default()).collect();
        let out = Touches {
            recs: Vec::new(),
            extras: Vec::new(),
            keys: vec![[0; MAX_DIMS]],
            names,
            strategies: Interner::default(),
        };
        Gatherer { base, query, first, last: last.saturating_add(window), prices, groups: HashMap::new(), out }
    }

    /// Takes one decision (with its outbox state now).
    pub fn add(&mut self, d: &Decision, outbox: Option<OutboxState>) {
        let Some(member) = self.base.index_of(&d.member_id) else { return };
        let sent = d.planned_send_at().filter(|_| outbox != Some(OutboxState::Cancelled));
        let (at, kind) = match (d.status, sent) {
            (DecisionStatus::Failed, _) => return,
            (DecisionStatus::Holdout, _) => (d.run_at, Kind::Held),
            (_, Some(at)) => (at, Kind::Sent),
            (_, None) => (d.run_at, Kind::NotSent),
        };
        if at < self.first || at > self.last {
            return;
        }
        let day = self.base.calendar.day_of(at);
        let in_range = day <= self.query.to;
        if !in_range && kind != Kind::Sent {
            return;
        }
        let group = in_range.then(|| self.group_of(d, member, day));
        let strategy = self.out.strategies.id(&d.strategy);
        let needs_extra =
            d.coupon_id.is_some() || matches!(d.action, ActionKind::StaffTask | ActionKind::GroupBuyInvite);
        let extra = if needs_extra && kind == Kind::Sent {
            let coupon = d.coupon_id.clone().map(|id| (id, d.benefit.as_ref().map_or(0, |b| b.value)));
            let discount = d.group_buy.as_ref().map_or(0, |g| {
                // A price the brand never listed leaves no discount to count (not a guess).
                self.prices.get(&g.sku).map_or(0, |&list| crate::referrals::discount(list, g.price))
            });
            let guide = d.guide_id.clone().unwrap_or_else(|| self.base.member(member).member.guide_id.clone());
            self.out.extras.push(Extra { key: d.key.clone(), coupon, discount, guide });
            (self.out.extras.len() - 1) as u32
        } else {
            u32::MAX
        };
        self.out.recs.push(Rec { member, at, kind, group, action: d.action, strategy, extra });
    }

    fn group_of(&mut self, d: &Decision, member: u32, day: i32) -> u32 {
        if self.query.by.is_empty() {
            return TOTAL;
        }
        let row = &self.base.member(member).member;
        let mut key = [0u32; MAX_DIMS];
        for (i, dim) in self.query.by.iter().enumerate() {
            let names = &mut self.out.names[i];
            key[i] = match dim {
                Dimension::Strategy => names.id(&d.strategy),
                Dimension::Step => names.id(&d.step),
                Dimension::Channel => names.id(&d.channel),
                Dimension::Store => names.id(&row.store_id),
                Dimension::Guide => names.id(d.guide_id.as_deref().unwrap_or(&row.guide_id)),
                Dimension::Level => u32::from(row.level),
                Dimension::Time(grain) => grain.period_of(day) as u32,
            };
        }
        let next = self.out.keys.len() as u32;
        *self.groups.entry(key).or_insert_with(|| {
            self.out.keys.push(key);
            next
        })
    }

    /// The records in member order, each member's by instant.
    pub fn finish(mut self) -> Touches {
        self.out.recs.sort_unstable_by_key(|r| (r.member, r.at, r.kind as u8, r.extra));
        self.out
    }
}
