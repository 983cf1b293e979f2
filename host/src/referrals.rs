//! Group-buy referrals: which members each referrer brought (events
//! `group_buy_joined` with `attrs.referrer`), how many of them were new
//! customers — no order before they joined — and whether the referrer had
//! been invited by a strategy before.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use serde::Serialize;

use crate::calendar::BrandCalendar;
use crate::member_base::MemberBase;
use crate::model::{ActionKind, Decision, DecisionStatus, Fen, Millis};

pub use crate::model::GROUP_BUY_JOINED;

/// One referrer's joins in a period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Referrer {
    /// Members who joined through this referrer.
    pub joins: u64,
    /// Joiners with no order before they joined.
    pub new_customers: u64,
    /// When the first of those joins was.
    pub first_join_at: Millis,
    /// A group-buy invite was dispatched to the referrer before their first join.
    pub invited_before: bool,
}

/// Group-buy joins in a period, by referrer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Referrals {
    /// By the referrer's member id; only referrers someone joined through.
    pub by_referrer: BTreeMap<String, Referrer>,
}

impl Referrals {
    /// Joins in `from..until`, linked to the dispatched invites seen.
    pub fn count(base: &MemberBase, from: Millis, until: Millis, invites: &InviteLog) -> Self {
        let mut by_referrer: BTreeMap<String, Referrer> = BTreeMap::new();
        let joins = base.events_by_kind.get(GROUP_BUY_JOINED).map_or(&[][..], Vec::as_slice);
        for &(at, joiner) in joins.iter().filter(|(at, _)| (from..until).contains(at)) {
            let events = base.events_as_of(joiner, at);
            let Some(event) = events.iter().rev().find(|e| e.at == at && e.kind == GROUP_BUY_JOINED) else { continue };
            let Some(referrer) = referrer_of(event.attrs) else { continue };
            let new_customer = base.orders_as_of(joiner, at - 1).is_empty();
            let r = by_referrer.entry(referrer.clone()).or_insert_with(|| Referrer {
                first_join_at: at,
                invited_before: invites.first_invite(&referrer).is_some_and(|invited| invited <= at),
                ..Referrer::default()
            });
            r.joins += 1;
            r.new_customers += u64::from(new_customer);
        }
        Referrals { by_referrer }
    }

    /// Joins over all referrers.
    pub fn joins(&self) -> u64 {
        self.by_referrer.values().map(|r| r.joins).sum()
    }

    /// Joiners with no order before they joined, over all referrers.
    pub fn new_customers(&self) -> u64 {
        self.by_referrer.values().map(|r| r.new_customers).sum()
    }

    /// Joins brought by referrers a strategy had invited first.
    pub fn joins_after_invites(&self) -> u64 {
        self.by_referrer.values().filter(|r| r.invited_before).map(|r| r.joins).sum()
    }

    /// One line for the summary.
    pub fn line(&self) -> String {
        let (joins, new) = (self.joins(), self.new_customers());
        let share = if joins == 0 { 0.0 } else { 100.0 * new as f64 / joins as f64 };
        format!(
            "group-buy joins: {joins} from {} referrers, {new} new customers ({share:.0}%), {} after a strategy's invite",
            self.by_referrer.len(),
            self.joins_after_invites()
        )
    }

    /// referrals.csv: one row per referrer, most joins first.
    pub fn write_csv(&self, calendar: &BrandCalendar, out: impl Write) -> anyhow::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(["referrer_id", "joins", "new_customers", "first_join_at", "invited_before"])?;
        let mut rows: Vec<(&String, &Referrer)> = self.by_referrer.iter().collect();
        rows.sort_by(|a, b| b.1.joins.cmp(&a.1.joins).then_with(|| a.0.cmp(b.0)));
        for (id, r) in rows {
            writer.write_record([
                id.clone(),
                r.joins.to_string(),
                r.new_customers.to_string(),
                calendar.format(r.first_join_at),
                r.invited_before.to_string(),
            ])?;
        }
        writer.flush()?;
        Ok(())
    }
}

/// Who brought the joiner: `attrs.referrer` of a `group_buy_joined`.
pub(crate) fn referrer_of(attrs: &str) -> Option<String> {
    crate::model::text_attr(attrs, "referrer")
}

/// What a group-buy invite gives off the product's list price: nothing when
/// the group price is at or above it.
pub fn discount(list_price: Fen, group_price: Fen) -> Fen {
    list_price.saturating_sub(group_price).max(0)
}

/// When each member was first sent a group-buy invite.
#[derive(Clone, Debug, Default)]
pub struct InviteLog(HashMap<String, Millis>);

impl InviteLog {
    /// Notes a dispatched group-buy invite (any other decision is ignored);
    /// the first one per member counts, at its run instant.
    pub fn add(&mut self, d: &Decision) {
        if d.action == ActionKind::GroupBuyInvite && d.status == DecisionStatus::Dispatched {
            self.0.entry(d.member_id.clone()).or_insert(d.run_at);
        }
    }

    /// When `member` was first sent a group-buy invite; None if never.
    pub fn first_invite(&self, member: &str) -> Option<Millis> {
        self.0.get(member).copied()
    }
}
