//! Builders for the declarative audience a strategy hands to the host, and
//! for the triggers it reacts to.

use crate::{Audience, CancelCondition, Clause, Condition, DaysAgo, LaterEvent, Trigger};

/// The day exactly `days` days before the run date.
pub fn exactly(days: u32) -> DaysAgo {
    DaysAgo { min: days, max: days }
}

/// The last `days` days: the run date and the `days - 1` days before it.
pub fn within(days: u32) -> DaysAgo {
    DaysAgo { min: 0, max: days.saturating_sub(1) }
}

/// From `min` to `max` days before the run date, both included.
pub fn between(min: u32, max: u32) -> DaysAgo {
    DaysAgo { min, max }
}

impl Audience {
    /// Nobody: the strategy sits this run out.
    pub fn nobody() -> Self {
        Audience::any([])
    }

    /// Members matching any of the clauses.
    pub fn any(clauses: impl IntoIterator<Item = Clause>) -> Self {
        Audience {
            any_of: clauses.into_iter().collect(),
            order_windows: Vec::new(),
            event_kinds: Vec::new(),
            event_lookback_hours: 0,
            launch_lookback_days: 0,
            triggers: Vec::new(),
        }
    }

    /// Members for whom all the conditions hold.
    pub fn when(conditions: impl IntoIterator<Item = Condition>) -> Self {
        Audience::any([Clause::all(conditions)])
    }

    /// Adds another way in.
    pub fn or(mut self, clause: Clause) -> Self {
        self.any_of.push(clause);
        self
    }

    /// Adds other ways in.
    pub fn or_any(mut self, clauses: impl IntoIterator<Item = Clause>) -> Self {
        self.any_of.extend(clauses);
        self
    }

    /// Leaves out, from every clause, members for whom any of these holds.
    pub fn except(mut self, conditions: impl IntoIterator<Item = Condition>) -> Self {
        let conditions: Vec<Condition> = conditions.into_iter().collect();
        for clause in &mut self.any_of {
            clause.none_of.extend(conditions.iter().cloned());
        }
        self
    }

    /// Asks for order counts and spend over windows of these many days.
    pub fn order_windows(mut self, days: impl IntoIterator<Item = u32>) -> Self {
        self.order_windows.extend(days);
        self
    }

    /// Asks for the member's events of these kinds in the last `lookback_hours`.
    pub fn events<'a>(mut self, kinds: impl IntoIterator<Item = &'a str>, lookback_hours: u32) -> Self {
        self.event_kinds.extend(kinds.into_iter().map(str::to_string));
        self.event_lookback_hours = self.event_lookback_hours.max(lookback_hours);
        self
    }

    /// Asks for the products launched in the last `days` days.
    pub fn launches(mut self, days: u32) -> Self {
        self.launch_lookback_days = days;
        self
    }

    /// Reacts to an event (see [`on_event`]): the host calls `decide` for the
    /// member alone, with the event as [`crate::Run::trigger`].
    pub fn on(mut self, trigger: impl Into<Trigger>) -> Self {
        self.triggers.push(trigger.into());
        self
    }
}

/// A trigger on events of `kind`, at once; `.after_minutes(60)`,
/// `.requires(["sku"])`, `.unless_event("coupon_redeemed", Some("coupon_id"))`
/// and `.unless_ordered()` shape it.
pub fn on_event(kind: &str) -> TriggerSpec {
    TriggerSpec(Trigger {
        event_kind: kind.to_string(),
        requires_attrs: Vec::new(),
        delay_minutes: 0,
        cancel_if: Vec::new(),
    })
}

/// A [`Trigger`] being built by [`on_event`].
#[derive(Clone, Debug)]
pub struct TriggerSpec(pub Trigger);

impl TriggerSpec {
    /// Called this many minutes after the event.
    pub fn after_minutes(mut self, minutes: u32) -> Self {
        self.0.delay_minutes = minutes;
        self
    }

    /// Called this many hours after the event.
    pub fn after_hours(self, hours: u32) -> Self {
        self.after_minutes(hours.saturating_mul(60))
    }

    /// Only events with every one of these attributes.
    pub fn requires<'a>(mut self, attrs: impl IntoIterator<Item = &'a str>) -> Self {
        self.0.requires_attrs.extend(attrs.into_iter().map(str::to_string));
        self
    }

    /// Called off by a later event of `kind` (with `same_attr`: only one whose
    /// attribute of that name equals the triggering event's).
    pub fn unless_event(mut self, kind: &str, same_attr: Option<&str>) -> Self {
        let later = LaterEvent { kind: kind.to_string(), same_attr: same_attr.map(str::to_string) };
        self.0.cancel_if.push(CancelCondition::Event(later));
        self
    }

    /// Called off by any later order of the member's.
    pub fn unless_ordered(mut self) -> Self {
        self.0.cancel_if.push(CancelCondition::Ordered);
        self
    }
}

impl From<TriggerSpec> for Trigger {
    fn from(spec: TriggerSpec) -> Self {
        spec.0
    }
}

impl Clause {
    /// Members for whom all the conditions hold.
    pub fn all(conditions: impl IntoIterator<Item = Condition>) -> Self {
        Clause { all_of: conditions.into_iter().collect(), none_of: Vec::new() }
    }

    /// ... and for whom none of these holds.
    pub fn except(mut self, conditions: impl IntoIterator<Item = Condition>) -> Self {
        self.none_of.extend(conditions);
        self
    }
}
