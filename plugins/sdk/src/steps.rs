//! Common step shapes of lifecycle strategies.

use crate::{Clause, Condition, DecisionStatus, EarlierDecision, Member, Run};

/// A `first` touch when the strategy's own rule says so, then one `followup`
/// exactly `after_days` days after a *dispatched* `first`; never more. The
/// strategy checks "still no purchase" itself.
#[derive(Clone, Copy, Debug)]
pub struct FirstThenFollowUp {
    pub after_days: u32,
}

impl FirstThenFollowUp {
    pub const FIRST: &'static str = "first";
    pub const FOLLOWUP: &'static str = "followup";

    /// The audience clause for members due a follow-up.
    pub fn followup_clause(&self) -> Clause {
        Clause::all([Condition::Decided(EarlierDecision {
            step: Some(Self::FIRST.into()),
            status: Some(DecisionStatus::Dispatched),
            ago: crate::exactly(self.after_days),
        })])
    }

    /// The step due today, if any. `first_is_due` is the strategy's own rule
    /// for the first touch; it counts only if no `first` was ever decided.
    pub fn step_due<C>(&self, run: &Run<C>, member: &Member, first_is_due: bool) -> Option<&'static str> {
        if first_is_due && !member.was_decided(Self::FIRST) {
            return Some(Self::FIRST);
        }
        let first_sent_days_ago = member.last_dispatched(Self::FIRST).map(|d| run.days_since(d.day));
        (first_sent_days_ago == Some(self.after_days as i32) && !member.was_decided(Self::FOLLOWUP))
            .then_some(Self::FOLLOWUP)
    }
}
