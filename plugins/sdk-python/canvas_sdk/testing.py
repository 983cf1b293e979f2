"""Plain-Python fixtures for unit-testing a strategy (no component build),
as the Rust SDK's `canvas_sdk::testing`:

    from canvas_sdk.testing import *
    run = run_on(2026, 3, 1, Strategy().config_of("{}"))
    m = member("m1").level(3).ordered(day(2025, 12, 1), 299.0, "dress").build(run)
    assert len(Strategy().decide_member(run, m)) == 1

Instants are placed at 10:00 in Asia/Shanghai (02:00 UTC) of their day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .check import _round_half_away
from .run import Run, date_of, day_of
from .types import (
    ActionKind, Benefit, CategoryStats, ChannelConsent, Date, DecisionStatus, Event, Member, Moment, OrderFacts,
    PastDecision, Product, Profile, Reach, RunContext, WecomFriendship_Deleted, WecomFriendship_Friend,
    WecomFriendship_Never, WindowStats,
)

MILLIS_PER_DAY = 86_400_000
_TEN_O_CLOCK_IN_SHANGHAI = 2 * 3_600_000


def day(year: int, month: int, date: int) -> int:
    """The day number of a date."""
    return day_of(Date(year, month, date))


def instant_on(day_number: int) -> int:
    """10:00 in Shanghai on the day."""
    return day_number * MILLIS_PER_DAY + _TEN_O_CLOCK_IN_SHANGHAI


def local_day(at: int) -> int:
    """The Shanghai day (UTC+8, no daylight saving) of an instant."""
    return (at + 8 * 3_600_000) // MILLIS_PER_DAY


def context_at(run_at: int, config: str = "{}", trigger: Optional[Event] = None,
               launches: Sequence[Product] = ()) -> RunContext:
    """The run context the host would pass at `run_at` with this raw config."""
    today = local_day(run_at)
    return RunContext(run_at=run_at, today=today, date=date_of(today), timezone="Asia/Shanghai", config=config,
                      launches=list(launches), trigger=trigger)


def run_on(year: int, month: int, date: int, config: Any) -> Run[Any]:
    """A scheduled run at 10:00 on the given date with `config` (already parsed)."""
    return Run(context_at(instant_on(day(year, month, date))), config)


def triggered_by(config: Any, kind: str, at: int, attrs: str, delay_minutes: int) -> Run[Any]:
    """A triggered call: the run at the event's instant plus `delay_minutes`,
    told of the event (kind, instant, attributes as a JSON object)."""
    trigger = Event(id=f"{kind}-{at}", kind=kind, at=at, day=local_day(at), attrs=attrs)
    return Run(context_at(at + delay_minutes * 60_000, trigger=trigger), config)


def product(sku: str, category: str, launched: int, tags: Sequence[str] = ()) -> Product:
    """A product launched on the day `launched`, at 299 yuan."""
    return Product(sku=sku, name=f"{category} {sku}", category=category, price=29_900,
                   launched_at=instant_on(launched), launched_day=launched, tags=list(tags))


@dataclass
class _Order:
    day: int
    amount: int
    category: str


def _moment(day_number: int) -> Moment:
    return Moment(at=instant_on(day_number), day=day_number)


class MemberBuilder:
    """Builds a `Member` the way the host would hand it to a plugin."""

    def __init__(self, member_id: str) -> None:
        joined = day(2024, 1, 1)
        self.profile = Profile(id=member_id, name=f"Member {member_id}", level=1, birthday=None,
                               joined_at=instant_on(joined), joined_day=joined, wecom_added_at=None,
                               wecom_added_day=None, store_id="S001", guide_id="G001", timezone=None)
        self.orders: List[_Order] = []
        self.events: List[Event] = []
        self.history: List[PastDecision] = []
        self.reach = Reach(wecom=WecomFriendship_Never(), unsubscribed_everywhere=None, channels=[],
                           do_not_contact=None)

    def level(self, level: int) -> "MemberBuilder":
        self.profile.level = level
        return self

    def birthday(self, year: int, month: int, date: int) -> "MemberBuilder":
        self.profile.birthday = Date(year, month, date)
        return self

    def joined(self, day_number: int) -> "MemberBuilder":
        self.profile.joined_at, self.profile.joined_day = instant_on(day_number), day_number
        return self

    def guide(self, guide_id: str) -> "MemberBuilder":
        self.profile.guide_id = guide_id
        return self

    def wecom_added(self, day_number: int) -> "MemberBuilder":
        """Became a WeCom friend (again) on the day."""
        self.profile.wecom_added_at, self.profile.wecom_added_day = instant_on(day_number), day_number
        self.reach.wecom = WecomFriendship_Friend(_moment(day_number))
        return self

    def wecom_deleted(self, day_number: int) -> "MemberBuilder":
        """Deleted the brand on WeCom (删粉) on the day: no longer a friend."""
        self.profile.wecom_added_at = self.profile.wecom_added_day = None
        self.reach.wecom = WecomFriendship_Deleted(_moment(day_number))
        return self

    def unsubscribed(self, channel: Optional[str], day_number: int) -> "MemberBuilder":
        """Unsubscribed on the day from `channel`, or from every channel (None)."""
        if channel is None:
            self.reach.unsubscribed_everywhere, self.reach.channels = _moment(day_number), []
        else:
            self.reach.channels = [c for c in self.reach.channels if c.channel != channel]
            self.reach.channels.append(ChannelConsent(channel=channel, consents=False, since=_moment(day_number)))
        return self

    def do_not_contact(self, day_number: int) -> "MemberBuilder":
        self.reach.do_not_contact = _moment(day_number)
        return self

    def ordered(self, day_number: int, yuan: float, category: str) -> "MemberBuilder":
        """An order on the day of `yuan` in `category`."""
        self.orders.append(_Order(day_number, _round_half_away(yuan * 100.0), category))
        return self

    def event(self, kind: str, at: int, attrs: str = "{}") -> "MemberBuilder":
        """An event of `kind` at the instant `at` with JSON `attrs`."""
        event_id = f"{self.profile.id}-e{len(self.events) + 1}"
        self.events.append(Event(id=event_id, kind=kind, at=at, day=local_day(at), attrs=attrs))
        return self

    def decided(self, step: str, kind: ActionKind, status: DecisionStatus, day_number: int,
                benefit: Optional[Benefit] = None, variables: Dict[str, str] = {}) -> "MemberBuilder":
        """An earlier decision of the strategy under test, at 10:00 on the day."""
        self.history.append(PastDecision(step=step, kind=kind, status=status, run_at=instant_on(day_number),
                                         day=day_number, channel="wecom", template=step,
                                         variables=list(variables.items()), benefit=benefit))
        return self

    def build(self, run: Run[Any], windows: Sequence[int] = ()) -> Member:
        """The member as of `run`, with stats for the given order windows.
        Orders and events after the run are dropped, as the host would."""
        orders = sorted((o for o in self.orders if o.day <= run.today), key=lambda o: o.day)
        events = sorted((e for e in self.events if e.at <= run.run_at), key=lambda e: e.at)
        history = sorted(self.history, key=lambda d: d.run_at)
        return Member(profile=self.profile, orders=_order_facts(orders, run, windows), events=events,
                      history=history, reach=self.reach)


def member(member_id: str) -> MemberBuilder:
    """A level-1 member who joined on 1 January 2024 and has done nothing since."""
    return MemberBuilder(member_id)


def _order_facts(orders: List[_Order], run: Run[Any], windows: Sequence[int]) -> OrderFacts:
    categories: Dict[str, CategoryStats] = {}
    for o in orders:
        c = categories.setdefault(o.category, CategoryStats(o.category, 0, 0, o.day))
        c.orders, c.spend, c.last_day = c.orders + 1, c.spend + o.amount, max(c.last_day, o.day)
    ranked = sorted(categories.values(), key=lambda c: (-c.orders, -c.last_day, c.category))
    stats: List[WindowStats] = []
    for days in windows:
        inside: List[Tuple[int, int]] = [(1, o.amount) for o in orders if run.is_within(o.day, days)]
        stats.append(WindowStats(days=days, orders=len(inside), spend=sum(a for _, a in inside)))
    first, last = (orders[0], orders[-1]) if orders else (None, None)
    return OrderFacts(
        first_order_at=instant_on(first.day) if first else None, first_order_day=first.day if first else None,
        last_order_at=instant_on(last.day) if last else None, last_order_day=last.day if last else None,
        orders=len(orders), spend=sum(o.amount for o in orders), windows=stats, categories=ranked,
    )
