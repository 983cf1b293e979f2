//! The period's sales split by kind of customer (seed 002), over every
//! order of the period, touched or not: **new** — the member's first order
//! ever is in the period; **existing** — they bought in the year before the
//! period (the 365 days before `from`) and again in it; **re-activated** —
//! they bought before that year, not in it, and again in the period.

use serde::{Deserialize, Serialize};

use crate::member_base::MemberBase;
use crate::model::{Fen, Millis, MILLIS_PER_DAY};

const YEAR_MILLIS: Millis = 365 * MILLIS_PER_DAY;

/// Members and their revenue in the period, by kind of customer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesSplit {
    /// Members whose first order ever is in the period.
    pub new_members: u64,
    /// Their orders in the period, fen.
    pub new_revenue_fen: Fen,
    /// Members who bought in the previous year and again in the period.
    pub existing_members: u64,
    /// Their orders in the period, fen.
    pub existing_revenue_fen: Fen,
    /// Members who bought before the previous year, not in it, and again in the period.
    pub reactivated_members: u64,
    /// Their orders in the period, fen.
    pub reactivated_revenue_fen: Fen,
}

impl SalesSplit {
    /// Every member's orders placed in `first..=last`, split by what the member was before `first`.
    pub fn of_period(base: &MemberBase, first: Millis, last: Millis) -> Self {
        let mut split = SalesSplit::default();
        for m in 0..base.len() as u32 {
            let orders = base.orders_as_of(m, last);
            let before = orders.partition_point(|o| o.at < first);
            if before == orders.len() {
                continue;
            }
            let revenue = orders[before..].iter().fold(0 as Fen, |sum, o| sum.saturating_add(o.amount));
            let (members, sum) = match orders[..before].last() {
                None => (&mut split.new_members, &mut split.new_revenue_fen),
                Some(o) if o.at >= first.saturating_sub(YEAR_MILLIS) => {
                    (&mut split.existing_members, &mut split.existing_revenue_fen)
                }
                Some(_) => (&mut split.reactivated_members, &mut split.reactivated_revenue_fen),
            };
            *members += 1;
            *sum = sum.saturating_add(revenue);
        }
        split
    }
}
