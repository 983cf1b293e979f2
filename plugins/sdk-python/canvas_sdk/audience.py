"""Builders for the declarative audience a strategy hands to the host, and
for the triggers it reacts to; they mirror the Rust SDK's (`Audience::when`,
`.except_`, `.order_windows`, `.events`, `.launches`, `.on(on_event(...))`).

    Audience.when(last_order(exactly(90))).except_(has_ordered())
    Audience.nobody().on(on_event("coupon_issued").requires("coupon_id").after_hours(1)
                         .unless_event("coupon_redeemed", same_attr="coupon_id"))
"""

from __future__ import annotations

from typing import Iterable, Optional

from . import types as t
from .types import Clause, Condition, DaysAgo, DecisionStatus, Trigger


def exactly(days: int) -> DaysAgo:
    """The day exactly `days` days before the run date."""
    return DaysAgo(min=days, max=days)


def within(days: int) -> DaysAgo:
    """The last `days` days: the run date and the `days - 1` days before it."""
    return DaysAgo(min=0, max=max(days - 1, 0))


def between(min_days: int, max_days: int) -> DaysAgo:
    """From `min_days` to `max_days` days before the run date, both included."""
    return DaysAgo(min=min_days, max=max_days)


# ---- conditions (one function per case of the WIT `condition`) -----------------


def joined(ago: DaysAgo) -> Condition:
    return t.Condition_Joined(ago)


def wecom_added(ago: DaysAgo) -> Condition:
    return t.Condition_WecomAdded(ago)


def first_order(ago: DaysAgo) -> Condition:
    return t.Condition_FirstOrder(ago)


def last_order(ago: DaysAgo) -> Condition:
    return t.Condition_LastOrder(ago)


def has_ordered() -> Condition:
    return t.Condition_HasOrdered()


def orders_within(days: int, at_least: int) -> Condition:
    """At least `at_least` orders in the last `days` days."""
    return t.Condition_OrdersWithin(t.OrderCount(within_days=days, at_least=at_least))


def spend_within(days: int, at_least_fen: int) -> Condition:
    """At least `at_least_fen` spent in the last `days` days."""
    return t.Condition_SpendWithin(t.SpendAmount(within_days=days, at_least=at_least_fen))


def level_in(*levels: int) -> Condition:
    return t.Condition_LevelIn(list(levels))


def birthday_in_run_month() -> Condition:
    return t.Condition_BirthdayInRunMonth()


def event(kind: str, within_hours: int) -> Condition:
    """The member has an event of `kind` in the last `within_hours` hours."""
    return t.Condition_Event(t.RecentEvent(kind=kind, within_hours=within_hours))


def decided(ago: DaysAgo, step: Optional[str] = None, status: Optional[DecisionStatus] = None) -> Condition:
    """This strategy decided for the member on a day in `ago` (of `step`, of `status`)."""
    return t.Condition_Decided(t.EarlierDecision(step=step, status=status, ago=ago))


def bought_launched_category(within_days: int) -> Condition:
    """Bought a category in which a product launched in the last `within_days` days."""
    return t.Condition_BoughtLaunchedCategory(within_days)


def untold_launch_in_bought_category(within_days: int, step: str, sku_variable: str) -> Condition:
    """As `bought_launched_category`, counting only launches no decision of
    `step` has told the member of yet (by the sku in `sku_variable`)."""
    return t.Condition_UntoldLaunchInBoughtCategory(
        t.UntoldLaunch(within_days=within_days, step=step, sku_variable=sku_variable)
    )


def wecom_friend_now() -> Condition:
    return t.Condition_WecomFriendNow()


def clause(*conditions: Condition, none_of: Iterable[Condition] = ()) -> Clause:
    """Members for whom all `conditions` hold and none of `none_of` does."""
    return Clause(all_of=list(conditions), none_of=list(none_of))


# ---- the audience ----------------------------------------------------------------


class Audience(t.Audience):
    """`types.Audience` with the Rust SDK's builders; each returns the audience."""

    @staticmethod
    def nobody() -> "Audience":
        """Nobody on a schedule (the strategy sits the run out, or only reacts to triggers)."""
        return Audience()

    @staticmethod
    def any(*clauses: Clause) -> "Audience":
        return Audience(any_of=list(clauses))

    @staticmethod
    def when(*conditions: Condition, none_of: Iterable[Condition] = ()) -> "Audience":
        """Members for whom all the conditions hold (and none of `none_of`)."""
        return Audience.any(clause(*conditions, none_of=none_of))

    def or_(self, *clauses: Clause) -> "Audience":
        """Adds other ways in."""
        self.any_of.extend(clauses)
        return self

    def except_(self, *conditions: Condition) -> "Audience":
        """Leaves out, from every clause, members for whom any of these holds."""
        for c in self.any_of:
            c.none_of.extend(conditions)
        return self

    def with_order_windows(self, *days: int) -> "Audience":
        """Asks for order counts and spend over windows of these many days."""
        self.order_windows.extend(days)
        return self

    def with_events(self, kinds: Iterable[str], lookback_hours: int) -> "Audience":
        """Asks for the member's events of these kinds in the last `lookback_hours`."""
        self.event_kinds.extend(kinds)
        self.event_lookback_hours = max(self.event_lookback_hours, lookback_hours)
        return self

    def with_launches(self, days: int) -> "Audience":
        """Asks for the products launched in the last `days` days (`run.launches`)."""
        self.launch_lookback_days = days
        return self

    def on(self, trigger: "TriggerSpec | Trigger") -> "Audience":
        """Reacts to an event (see `on_event`): the host calls decide for the
        member alone, with the event as `run.trigger`."""
        self.triggers.append(trigger.trigger if isinstance(trigger, TriggerSpec) else trigger)
        return self


class TriggerSpec:
    """A `Trigger` being built by `on_event`."""

    def __init__(self, kind: str) -> None:
        self.trigger = Trigger(event_kind=kind, requires_attrs=[], delay_minutes=0, cancel_if=[])

    def after_minutes(self, minutes: int) -> "TriggerSpec":
        """Called this many minutes after the event."""
        self.trigger.delay_minutes = minutes
        return self

    def after_hours(self, hours: int) -> "TriggerSpec":
        """Called this many hours after the event (at most the WIT's u32 of minutes)."""
        return self.after_minutes(min(hours * 60, 2**32 - 1))

    def requires(self, *attrs: str) -> "TriggerSpec":
        """Only events with every one of these attributes."""
        self.trigger.requires_attrs.extend(attrs)
        return self

    def unless_event(self, kind: str, same_attr: Optional[str] = None) -> "TriggerSpec":
        """Called off by a later event of `kind` (with `same_attr`: only one whose
        attribute of that name equals the triggering event's)."""
        self.trigger.cancel_if.append(t.CancelCondition_Event(t.LaterEvent(kind=kind, same_attr=same_attr)))
        return self

    def unless_ordered(self) -> "TriggerSpec":
        """Called off by any later order of the member's."""
        self.trigger.cancel_if.append(t.CancelCondition_Ordered())
        return self


def on_event(kind: str) -> TriggerSpec:
    """A trigger on events of `kind`, at once; shape it with `.after_hours(1)`,
    `.requires("sku")`, `.unless_event(...)`, `.unless_ordered()`."""
    return TriggerSpec(kind)
