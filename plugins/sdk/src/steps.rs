//! Common step shapes of lifecycle strategies.

use crate::{Clause, Condition, DecisionStatus, EarlierDecision, Member, Run};

/// A `first` touch when the strategy's own rule says so, then one `followup`
/// exactly `after_days` days after a `first` that was sent (dispatched, or
/// deferred and so on its way); never more. A held-out or suppressed `first`
/// gets no follow-up. The strategy checks "still no purchase" itself.
#[derive(Clone, Copy, Debug)]
pub struct FirstThenFollowUp {
    /// Days between a `first` and its `followup`.
    pub after_days: u32,
}

impl FirstThenFollowUp {
    /// The first touch's step name.
    pub const FIRST: &'static str = "first";
    /// The follow-up's step name.
    pub const FOLLOWUP: &'static str = "followup";

    /// The audience clauses for members due a follow-up.
    pub fn followup_clauses(&self) -> [Clause; 2] {
        [DecisionStatus::Dispatched, DecisionStatus::Deferred].map(|status| {
            Clause::all([Condition::Decided(EarlierDecision {
                step: Some(Self::FIRST.into()),
                status: Some(status),
                ago: crate::exactly(self.after_days),
            })])
        })
    }

    /// The step due today, if any. `first_is_due` is the strategy's own rule
    /// for the first touch; it counts only if no `first` was ever decided.
    pub fn step_due<C>(&self, run: &Run<C>, member: &Member, first_is_due: bool) -> Option<&'static str> {
        if first_is_due && !member.was_decided(Self::FIRST) {
            return Some(Self::FIRST);
        }
        let first_sent_days_ago = member.last_sent(Self::FIRST).map(|d| run.days_since(d.day));
        (first_sent_days_ago == Some(self.after_days as i32) && !member.was_decided(Self::FOLLOWUP))
            .then_some(Self::FOLLOWUP)
    }
}
