"""One run as a strategy sees it (`Run`), and day arithmetic in the brand's
calendar: a day is a local date as days since 1970-01-01, computed by the host
in the brand's time zone, so a plugin never needs a time-zone database."""

from __future__ import annotations

import datetime
from typing import Any, Generic, List, Optional, TypeVar

from .types import Date, Event, Product, RunContext

C = TypeVar("C")
_EPOCH = datetime.date(1970, 1, 1)


class Run(Generic[C]):
    """The host's clock, the brand calendar's date, the effective config, the
    recent launches and, for a triggered call, the event that triggered it."""

    def __init__(self, context: RunContext, config: C) -> None:
        self.run_at: int = context.run_at
        self.today: int = context.today
        self.date: Date = context.date
        self.timezone: str = context.timezone
        self.config: C = config
        self.launches: List[Product] = context.launches
        self.trigger: Optional[Event] = context.trigger

    def trigger_attr(self, key: str) -> Optional[str]:
        """The triggering event's attribute `key` as text; None in a scheduled run."""
        return self.trigger.attr(key) if self.trigger is not None else None

    def days_since(self, day: int) -> int:
        """Whole days from `day` to the run date (0 on the run date itself)."""
        return self.today - day

    def minutes_since(self, at: int) -> int:
        """Whole minutes from the instant `at` to the run instant (rounded down)."""
        return (self.run_at - at) // 60_000

    def is_anniversary_of(self, date: Date) -> bool:
        """Whether the run date is `date`'s anniversary (29 Feb → 28 Feb in common years)."""
        a = anniversary_in(date, self.date.year)
        return (a.month, a.day) == (self.date.month, self.date.day)

    def is_within(self, day: int, days: int) -> bool:
        """Whether `day` lies in the last `days` days (as `within(days)`)."""
        ago = self.days_since(day)
        return 0 <= ago < max(days, 1)


def date_of(day: int) -> Date:
    """The calendar date of a day number."""
    d = _EPOCH + datetime.timedelta(days=day)
    return Date(year=d.year, month=d.month, day=d.day)


def day_of(date: Any) -> int:
    """The day number of a date (a `Date`, or anything with year, month, day)."""
    return (datetime.date(date.year, date.month, date.day) - _EPOCH).days


def is_leap_year(year: int) -> bool:
    return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0


def days_in_month(year: int, month: int) -> int:
    if month in (4, 6, 9, 11):
        return 30
    if month == 2:
        return 29 if is_leap_year(year) else 28
    return 31


def anniversary_in(date: Date, year: int) -> Date:
    """The anniversary of `date` in `year`; a 29 February falls on 28 February in common years."""
    return Date(year=year, month=date.month, day=min(date.day, days_in_month(year, date.month)))


def whole_years(since: Date, on: Date) -> int:
    """Whole years from `since` to `on` (an age, or years of membership)."""
    a = anniversary_in(since, on.year)
    return on.year - since.year - (1 if (on.month, on.day) < (a.month, a.day) else 0)
