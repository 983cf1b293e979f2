//! The member pass: each member with a decision in the range is read once —
//! their orders, their events — and adds to every group one of their
//! decisions is in (its own and the total). No group rescans anything.

use rustc_hash::FxHashSet;

use super::touches::{Kind, Rec, Touches, TOTAL};
use crate::member_base::reachability::{UNSUBSCRIBED, WECOM_DELETED};
use crate::member_base::MemberBase;
use crate::model::{text_attr, ActionKind, Fen, Millis, GROUP_BUY_JOINED};
pub use crate::model::{COUPON_REDEEMED, STAFF_TASK_DONE};
use crate::referrals::referrer_of;

/// A group's sums, before rates and intervals are worked out.
#[derive(Clone, Debug, Default)]
pub(super) struct Acc {
    pub selected: u64,
    pub touched: u64,
    pub held_out: u64,
    pub not_sent: u64,
    pub touched_converted: u64,
    pub touched_orders: u64,
    pub touched_revenue: Fen,
    pub held_converted: u64,
    pub held_orders: u64,
    pub held_revenue: Fen,
    pub attributed_orders: u64,
    pub attributed_revenue: Fen,
    pub coupons_redeemed: u64,
    pub coupon_cost: Fen,
    pub group_buy_joins: u64,
    pub group_buy_cost: Fen,
    pub touched_harmed: u64,
    pub held_harmed: u64,
    pub staff_tasks: u64,
    pub staff_tasks_done: u64,
}

/// One member's part in one group.
#[derive(Clone, Copy, Default)]
struct Part {
    group: u32,
    touched: bool,
    held: bool,
    not_sent: bool,
    touched_converted: bool,
    held_converted: bool,
    touched_harmed: bool,
    held_harmed: bool,
    /// The member's first touch in the group, and first withheld one: the
    /// windows start there. A later touch (a follow-up) does not restart
    /// them, since a held-out member gets no follow-up to restart theirs.
    first_sent: Option<Millis>,
    first_held: Option<Millis>,
}

/// The windows: attribution (conversion, last touch, staff tasks, joins) and harm.
#[derive(Clone, Copy)]
pub(super) struct Windows {
    pub attribution: Millis,
    pub harm: Millis,
}

/// The groups a record of the range adds to.
fn groups_of(rec: &Rec) -> impl Iterator<Item = u32> {
    let own = rec.group;
    std::iter::once(TOTAL).chain(own.filter(|&g| g != TOTAL))
}

fn within(t: Millis, at: Millis, window: Millis) -> bool {
    at > t && at <= t.saturating_add(window)
}

/// Sums every group over the members with decisions; `joins` are the
/// group-buy joins as (referrer, instant), sorted.
pub(super) fn accumulate(base: &MemberBase, touches: &Touches, joins: &[(u32, Millis)], w: Windows) -> Vec<Acc> {
    let mut acc = vec![Acc::default(); touches.keys.len()];
    let recs = &touches.recs;
    let mut start = 0;
    while start < recs.len() {
        let member = recs[start].member;
        let end = start + recs[start..].partition_point(|r| r.member == member);
        let member_joins = {
            let from = joins.partition_point(|j| j.0 < member);
            let to = joins.partition_point(|j| j.0 <= member);
            &joins[from..to]
        };
        one_member(base, touches, &recs[start..end], member_joins, w, &mut acc);
        start = end;
    }
    acc
}

fn one_member(
    base: &MemberBase,
    touches: &Touches,
    recs: &[Rec],
    joins: &[(u32, Millis)],
    w: Windows,
    acc: &mut [Acc],
) {
    let member = recs[0].member;
    let mut parts: Vec<Part> = Vec::new();
    for rec in recs.iter().filter(|r| r.group.is_some()) {
        for g in groups_of(rec) {
            let i = match parts.iter().position(|p| p.group == g) {
                Some(i) => i,
                None => {
                    parts.push(Part { group: g, ..Part::default() });
                    parts.len() - 1
                }
            };
            let p = &mut parts[i];
            match rec.kind {
                Kind::Sent => {
                    p.touched = true;
                    p.first_sent = Some(p.first_sent.map_or(rec.at, |t| t.min(rec.at)));
                }
                Kind::Held => {
                    p.held = true;
                    p.first_held = Some(p.first_held.map_or(rec.at, |t| t.min(rec.at)));
                }
                Kind::NotSent => p.not_sent = true,
            }
        }
    }

    // Orders: conversion per group (each order once per group), and the
    // order's one last touch for attributed revenue.
    let first = recs[0].at;
    let orders = base.orders_as_of(member, Millis::MAX);
    let orders = &orders[orders.partition_point(|o| o.at <= first)..];
    for o in orders {
        for p in parts.iter_mut() {
            if p.first_sent.is_some_and(|t| within(t, o.at, w.attribution)) {
                p.touched_converted = true;
                let a = &mut acc[p.group as usize];
                a.touched_orders = a.touched_orders.saturating_add(1);
                a.touched_revenue = a.touched_revenue.saturating_add(o.amount);
            }
            if p.first_held.is_some_and(|t| within(t, o.at, w.attribution)) {
                p.held_converted = true;
                let a = &mut acc[p.group as usize];
                a.held_orders = a.held_orders.saturating_add(1);
                a.held_revenue = a.held_revenue.saturating_add(o.amount);
            }
        }
        // Last touch wins: the latest sent before the order, within the window, any strategy.
        let last = recs.iter().rev().find(|r| r.kind == Kind::Sent && within(r.at, o.at, w.attribution));
        if let Some(rec) = last {
            for g in groups_of(rec).filter(|_| rec.group.is_some()) {
                let a = &mut acc[g as usize];
                a.attributed_orders = a.attributed_orders.saturating_add(1);
                a.attributed_revenue = a.attributed_revenue.saturating_add(o.amount);
            }
        }
    }

    let mut redeemed: FxHashSet<u32> = FxHashSet::default();
    let mut done: FxHashSet<u32> = FxHashSet::default();
    for e in base.events_as_of(member, Millis::MAX).iter().filter(|e| e.at > first) {
        match e.kind {
            WECOM_DELETED | UNSUBSCRIBED => {
                for p in parts.iter_mut() {
                    p.touched_harmed |= p.first_sent.is_some_and(|t| within(t, e.at, w.harm));
                    p.held_harmed |= p.first_held.is_some_and(|t| within(t, e.at, w.harm));
                }
            }
            COUPON_REDEEMED => {
                let Some(coupon) = text_attr(e.attrs, "coupon_id") else { continue };
                let issued = recs.iter().find(|r| {
                    r.extra != u32::MAX
                        && r.at <= e.at
                        && touches.extras[r.extra as usize].coupon.as_ref().is_some_and(|(id, _)| *id == coupon)
                });
                if let Some(rec) = issued.filter(|r| redeemed.insert(r.extra)) {
                    let value = touches.extras[rec.extra as usize].coupon.as_ref().map_or(0, |c| c.1);
                    for g in groups_of(rec).filter(|_| rec.group.is_some()) {
                        let a = &mut acc[g as usize];
                        a.coupons_redeemed = a.coupons_redeemed.saturating_add(1);
                        a.coupon_cost = a.coupon_cost.saturating_add(value);
                    }
                }
            }
            STAFF_TASK_DONE => {
                let key = text_attr(e.attrs, "key");
                let strategy = text_attr(e.attrs, "strategy").map(|s| touches.strategies.find(&s));
                let task = recs.iter().rev().find(|r| {
                    r.kind == Kind::Sent
                        && r.action == ActionKind::StaffTask
                        && r.extra != u32::MAX
                        && !done.contains(&r.extra)
                        && within(r.at, e.at, w.attribution)
                        && key.as_ref().is_none_or(|k| touches.extras[r.extra as usize].key == *k)
                        && strategy.is_none_or(|s| s == Some(r.strategy))
                });
                if let Some(rec) = task {
                    done.insert(rec.extra);
                }
            }
            _ => {}
        }
    }

    // Group-buy joins through this member's invites: the latest invite before the join, within the window.
    for &(_, at) in joins {
        let invite = recs.iter().rev().find(|r| {
            r.kind == Kind::Sent && r.action == ActionKind::GroupBuyInvite && within(r.at, at, w.attribution)
        });
        if let Some(rec) = invite.filter(|r| r.group.is_some() && r.extra != u32::MAX) {
            let discount = touches.extras[rec.extra as usize].discount;
            for g in groups_of(rec) {
                let a = &mut acc[g as usize];
                a.group_buy_joins = a.group_buy_joins.saturating_add(1);
                a.group_buy_cost = a.group_buy_cost.saturating_add(discount);
            }
        }
    }

    for rec in recs.iter().filter(|r| r.group.is_some() && r.kind == Kind::Sent && r.action == ActionKind::StaffTask) {
        for g in groups_of(rec) {
            let a = &mut acc[g as usize];
            a.staff_tasks = a.staff_tasks.saturating_add(1);
            a.staff_tasks_done = a.staff_tasks_done.saturating_add(u64::from(done.contains(&rec.extra)));
        }
    }

    for p in &parts {
        let a = &mut acc[p.group as usize];
        a.selected += 1;
        a.touched += u64::from(p.touched);
        a.held_out += u64::from(p.held);
        a.not_sent += u64::from(p.not_sent && !p.touched && !p.held);
        a.touched_converted += u64::from(p.touched_converted);
        a.held_converted += u64::from(p.held_converted);
        a.touched_harmed += u64::from(p.touched_harmed);
        a.held_harmed += u64::from(p.held_harmed);
    }
}

/// The group-buy joins with a known referrer, as (referrer, instant), sorted.
pub(super) fn joins(base: &MemberBase) -> Vec<(u32, Millis)> {
    let mut joins = Vec::new();
    let Some(list) = base.events_by_kind.get(GROUP_BUY_JOINED) else { return joins };
    let mut seen: FxHashSet<(u32, Millis)> = FxHashSet::default();
    for &(at, joiner) in list {
        // A joiner's events at one instant are read once, however many share it.
        if !seen.insert((joiner, at)) {
            continue;
        }
        for e in base.events_as_of(joiner, at).iter().rev().take_while(|e| e.at == at) {
            if e.kind != GROUP_BUY_JOINED {
                continue;
            }
            if let Some(referrer) = referrer_of(e.attrs).and_then(|r| base.index_of(&r)) {
                joins.push((referrer, at));
            }
        }
    }
    joins.sort_unstable();
    joins
}
