//! Whether one condition of a clause holds for one candidate, as of the run
//! instant: the candidate's orders and the strategy's decisions about them
//! are read once per candidate and shared by the clause's conditions.

use std::cell::OnceCell;

use super::index::{DecidedMembers, LaunchedCategories};
use super::{RunClock, MILLIS_PER_HOUR};
use crate::calendar::date_of_day;
use crate::decision_log::{LoggedDecision, StrategyLog};
use crate::member_base::{Friendship, MemberBase, OrderRow};
use crate::model::{self, Day, Millis};
use crate::runtime::api;

/// What a clause's conditions are checked against, beside the member.
pub(super) struct Checks<'a> {
    pub base: &'a MemberBase,
    pub clock: RunClock,
    pub launched: &'a LaunchedCategories,
    pub decided: DecidedMembers<'a>,
}

fn in_range(day: Day, (first, last): (Day, Day)) -> bool {
    first <= day && day <= last
}

/// One candidate as the conditions see them: their orders as of the run and
/// the strategy's decisions about them, each looked up once for the whole
/// clause (an audience reads them for hundreds of thousands of members).
pub(super) struct Subject<'a> {
    m: u32,
    base: &'a MemberBase,
    log: &'a StrategyLog,
    at: Millis,
    orders: OnceCell<&'a [OrderRow]>,
    decisions: OnceCell<&'a [LoggedDecision]>,
}

impl<'a> Subject<'a> {
    pub(super) fn new(base: &'a MemberBase, log: &'a StrategyLog, m: u32, clock: RunClock) -> Self {
        Subject { m, base, log, at: clock.at, orders: OnceCell::new(), decisions: OnceCell::new() }
    }

    fn orders(&self) -> &'a [OrderRow] {
        self.orders.get_or_init(|| self.base.orders_as_of(self.m, self.at))
    }

    /// Decisions made before the run, oldest first.
    fn decisions(&self) -> &'a [LoggedDecision] {
        self.decisions.get_or_init(|| {
            let all = self.log.of(self.m);
            &all[..all.partition_point(|d| d.run_at < self.at)]
        })
    }
}

pub(super) fn holds(checks: &Checks<'_>, condition: &api::Condition, subject: &Subject<'_>) -> bool {
    use api::Condition as C;
    let Checks { base, clock, launched, decided } = checks;
    let clock = *clock;
    let row = base.member(subject.m);
    let orders = || subject.orders();
    match condition {
        C::Joined(ago) => in_range(row.joined_day, clock.days(ago)),
        // The current friendship's first day: a member who deleted the brand
        // is not one who added it, until they add it again.
        C::WecomAdded(ago) => match base.friendship(subject.m, clock.at) {
            Friendship::Since(at) => in_range(base.calendar.day_of(at), clock.days(ago)),
            _ => false,
        },
        C::WecomFriendNow => matches!(base.friendship(subject.m, clock.at), Friendship::Since(_)),
        C::FirstOrder(ago) => orders().first().is_some_and(|o| in_range(o.day, clock.days(ago))),
        C::LastOrder(ago) => orders().last().is_some_and(|o| in_range(o.day, clock.days(ago))),
        C::HasOrdered => !orders().is_empty(),
        C::OrdersWithin(w) => {
            let window = clock.window(w.within_days);
            orders().iter().rev().take_while(|o| o.day >= window.0).count() as u32 >= w.at_least
        }
        C::SpendWithin(w) => {
            let window = clock.window(w.within_days);
            spend(orders().iter().rev().take_while(|o| o.day >= window.0)) >= w.at_least
        }
        C::LevelIn(levels) => levels.contains(&row.member.level),
        C::BirthdayInRunMonth => row
            .member
            .birthday
            .is_some_and(|b| crate::calendar::month_of(b) == crate::calendar::month_of(date_of_day(clock.today))),
        C::Event(e) => {
            let since = clock.at - e.within_hours as i64 * MILLIS_PER_HOUR;
            base.events_as_of(subject.m, clock.at)
                .iter()
                .rev()
                .take_while(|ev| ev.at >= since)
                .any(|ev| ev.kind == e.kind)
        }
        C::Decided(d) => match decided.get(d) {
            Some(members) => members.contains(subject.m as usize),
            // The fields held inline first: the step is a string elsewhere in memory.
            None => subject.decisions().iter().any(|past| {
                in_range(past.day, clock.days(&d.ago))
                    && d.status.is_none_or(|s| model::DecisionStatus::from(s) == past.status)
                    && d.step.as_ref().is_none_or(|s| **s == *past.step)
            }),
        },
        C::BoughtLaunchedCategory(days) => {
            let categories = launched.within(*days);
            !categories.is_empty() && orders().iter().any(|o| categories.contains_key(&o.category))
        }
        C::UntoldLaunchInBoughtCategory(u) => {
            let skus = launched.within(u.within_days);
            if skus.is_empty() {
                return false;
            }
            let told = |sku: &str| {
                subject.decisions().iter().any(|past| {
                    *past.step == *u.step && past.variables.iter().any(|(k, v)| **k == *u.sku_variable && v == sku)
                })
            };
            let mut checked = Vec::new();
            orders().iter().any(|o| match skus.get(&o.category) {
                Some(launched) if !checked.contains(&o.category) => {
                    checked.push(o.category);
                    launched.iter().any(|sku| !told(sku))
                }
                _ => false,
            })
        }
    }
}

/// What these orders add up to. Saturating: each amount is within
/// [`model::MAX_AMOUNT_FEN`], so a real sum never comes near the limit, and
/// no data can make a member's spend wrap around to a negative number.
pub(super) fn spend<'a>(orders: impl Iterator<Item = &'a OrderRow>) -> model::Fen {
    orders.fold(0, |sum, o| sum.saturating_add(o.amount))
}
