"""The records of the WIT package `canvas:strategy@0.4.0` as plain Python
dataclasses, with the read helpers the Rust SDK has on them.

They mirror the classes componentize-py generates (same class names, same
field names and order, enums with the same member names, variant cases as
`Variant_Case(value)`), so `canvas_sdk.component` converts between the two by
name. Only `Condition_LevelIn.value` differs: a list of ints here, `bytes`
there. Nothing in here imports componentize-py: a strategy is unit-tested in
plain Python. One file because it is one contract; the helpers are small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional, Tuple, Union


@dataclass
class Date:
    year: int
    month: int
    day: int


@dataclass
class Manifest:
    id: str
    name: str
    version: str
    api_version: str
    description: str
    default_config: str
    schedule: str


# ---- the audience ------------------------------------------------------------


@dataclass
class DaysAgo:
    min: int
    max: int


@dataclass
class OrderCount:
    within_days: int
    at_least: int


@dataclass
class SpendAmount:
    within_days: int
    at_least: int


@dataclass
class RecentEvent:
    kind: str
    within_hours: int


@dataclass
class UntoldLaunch:
    within_days: int
    step: str
    sku_variable: str


class ActionKind(Enum):
    MESSAGE = 0
    COUPON = 1
    STAFF_TASK = 2
    GROUP_BUY_INVITE = 3


class DecisionStatus(Enum):
    DISPATCHED = 0
    SUPPRESSED = 1
    HOLDOUT = 2
    DEFERRED = 3
    FAILED = 4


@dataclass
class EarlierDecision:
    step: Optional[str]
    status: Optional[DecisionStatus]
    ago: DaysAgo


@dataclass
class Condition_Joined:
    value: DaysAgo


@dataclass
class Condition_WecomAdded:
    value: DaysAgo


@dataclass
class Condition_FirstOrder:
    value: DaysAgo


@dataclass
class Condition_LastOrder:
    value: DaysAgo


@dataclass
class Condition_HasOrdered:
    pass


@dataclass
class Condition_OrdersWithin:
    value: OrderCount


@dataclass
class Condition_SpendWithin:
    value: SpendAmount


@dataclass
class Condition_LevelIn:
    value: List[int]


@dataclass
class Condition_BirthdayInRunMonth:
    pass


@dataclass
class Condition_Event:
    value: RecentEvent


@dataclass
class Condition_Decided:
    value: EarlierDecision


@dataclass
class Condition_BoughtLaunchedCategory:
    value: int


@dataclass
class Condition_UntoldLaunchInBoughtCategory:
    value: UntoldLaunch


@dataclass
class Condition_WecomFriendNow:
    pass


Condition = Union[
    Condition_Joined, Condition_WecomAdded, Condition_FirstOrder, Condition_LastOrder, Condition_HasOrdered,
    Condition_OrdersWithin, Condition_SpendWithin, Condition_LevelIn, Condition_BirthdayInRunMonth, Condition_Event,
    Condition_Decided, Condition_BoughtLaunchedCategory, Condition_UntoldLaunchInBoughtCategory,
    Condition_WecomFriendNow,
]


@dataclass
class Clause:
    all_of: List[Condition] = field(default_factory=list)
    none_of: List[Condition] = field(default_factory=list)


@dataclass
class LaterEvent:
    kind: str
    same_attr: Optional[str]


@dataclass
class CancelCondition_Event:
    value: LaterEvent


@dataclass
class CancelCondition_Ordered:
    pass


CancelCondition = Union[CancelCondition_Event, CancelCondition_Ordered]


@dataclass
class Trigger:
    event_kind: str
    requires_attrs: List[str]
    delay_minutes: int
    cancel_if: List[CancelCondition]


@dataclass
class Audience:
    any_of: List[Clause] = field(default_factory=list)
    order_windows: List[int] = field(default_factory=list)
    event_kinds: List[str] = field(default_factory=list)
    event_lookback_hours: int = 0
    launch_lookback_days: int = 0
    triggers: List[Trigger] = field(default_factory=list)


# ---- the member --------------------------------------------------------------


@dataclass
class Profile:
    id: str
    name: str
    level: int
    birthday: Optional[Date]
    joined_at: int
    joined_day: int
    wecom_added_at: Optional[int]
    wecom_added_day: Optional[int]
    store_id: str
    guide_id: str
    timezone: Optional[str]


@dataclass
class WindowStats:
    days: int
    orders: int
    spend: int


@dataclass
class CategoryStats:
    category: str
    orders: int
    spend: int
    last_day: int


@dataclass
class OrderFacts:
    first_order_at: Optional[int]
    first_order_day: Optional[int]
    last_order_at: Optional[int]
    last_order_day: Optional[int]
    orders: int
    spend: int
    windows: List[WindowStats]
    categories: List[CategoryStats]

    def window(self, days: int) -> Optional[WindowStats]:
        """The stats of a window the audience asked for (`order_windows`)."""
        return next((w for w in self.windows if w.days == days), None)

    def favourite_category(self) -> Optional[CategoryStats]:
        """The category bought most often (ties: the most recent, then by name)."""
        return self.categories[0] if self.categories else None

    def has_bought(self, category: str) -> bool:
        return any(c.category == category for c in self.categories)


@dataclass
class Event:
    id: str
    kind: str
    at: int
    day: int
    attrs: str

    def attr(self, key: str) -> Optional[str]:
        """A string attribute as is (`coupon_id`, `referrer`); any other JSON
        value as compact JSON, keys sorted, as the Rust SDK prints it."""
        try:
            attrs = json.loads(self.attrs)
        except ValueError:
            return None
        if not isinstance(attrs, dict) or key not in attrs:
            return None
        value = attrs[key]
        if isinstance(value, str):
            return value
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


class BenefitKind(Enum):
    COUPON = 0
    GIFT = 1
    LOTTERY = 2
    POINTS = 3
    EARLY_ACCESS = 4


@dataclass
class Benefit:
    kind: BenefitKind
    value: int
    gift: Optional[str]


@dataclass
class PastDecision:
    step: str
    kind: ActionKind
    status: DecisionStatus
    run_at: int
    day: int
    channel: str
    template: str
    variables: List[Tuple[str, str]]
    benefit: Optional[Benefit]

    def was_sent(self) -> bool:
        """Dispatched, or deferred and so still to be sent."""
        return self.status in (DecisionStatus.DISPATCHED, DecisionStatus.DEFERRED)

    def had_turn(self) -> bool:
        """Sent, or deliberately withheld from a control-group member."""
        return self.was_sent() or self.status == DecisionStatus.HOLDOUT

    def var(self, key: str) -> Optional[str]:
        return next((v for k, v in self.variables if k == key), None)


@dataclass
class Moment:
    at: int
    day: int


@dataclass
class WecomFriendship_Friend:
    value: Moment


@dataclass
class WecomFriendship_Deleted:
    value: Moment


@dataclass
class WecomFriendship_Never:
    pass


WecomFriendship = Union[WecomFriendship_Friend, WecomFriendship_Deleted, WecomFriendship_Never]


@dataclass
class ChannelConsent:
    channel: str
    consents: bool
    since: Moment


@dataclass
class Reach:
    wecom: WecomFriendship
    unsubscribed_everywhere: Optional[Moment]
    channels: List[ChannelConsent]
    do_not_contact: Optional[Moment]

    def consents_to(self, channel: str) -> bool:
        """Whether the member's own say lets `channel` reach them: not
        do-not-contact, not unsubscribed from it (or from everything)."""
        if self.do_not_contact is not None:
            return False
        own = next((c for c in self.channels if c.channel == channel), None)
        return own.consents if own is not None else self.unsubscribed_everywhere is None


@dataclass
class Member:
    profile: Profile
    orders: OrderFacts
    events: List[Event]
    history: List[PastDecision]
    reach: Reach

    @property
    def id(self) -> str:
        return self.profile.id

    def decisions_at(self, step: str) -> List[PastDecision]:
        """This strategy's earlier decisions for the member at `step`, oldest first."""
        return [d for d in self.history if d.step == step]

    def last_sent(self, step: str) -> Optional[PastDecision]:
        return next((d for d in reversed(self.history) if d.step == step and d.was_sent()), None)

    def was_decided(self, step: str) -> bool:
        return any(d.step == step for d in self.history)

    def wecom_friend_since(self) -> Optional[int]:
        """The day the current WeCom friendship began; None when not a friend now."""
        wecom = self.reach.wecom
        return wecom.value.day if isinstance(wecom, WecomFriendship_Friend) else None

    def events_of(self, kind: str) -> List[Event]:
        """The member's events of `kind` (asked for in the audience), oldest first."""
        return [e for e in self.events if e.kind == kind]


@dataclass
class Product:
    sku: str
    name: str
    category: str
    price: int
    launched_at: int
    launched_day: int
    tags: List[str]


@dataclass
class RunContext:
    run_at: int
    today: int
    date: Date
    timezone: str
    config: str
    launches: List[Product]
    trigger: Optional[Event]


# ---- what a plugin returns ---------------------------------------------------


@dataclass
class StaffTask:
    guide_id: str
    benefit: Optional[Benefit]


@dataclass
class GroupBuy:
    sku: str
    group_size: int
    price: int


@dataclass
class Action_Message:
    pass


@dataclass
class Action_Coupon:
    value: Benefit


@dataclass
class Action_StaffTask:
    value: StaffTask


@dataclass
class Action_GroupBuyInvite:
    value: GroupBuy


Action = Union[Action_Message, Action_Coupon, Action_StaffTask, Action_GroupBuyInvite]


@dataclass
class Touch:
    member_id: str
    step: str
    channel: str
    template: str
    variables: List[Tuple[str, str]]
    action: Action

    def var(self, key: str, value: object) -> "Touch":
        """Adds a template variable (as text) and returns the touch."""
        self.variables.append((key, str(value)))
        return self

    def benefit(self) -> Optional[Benefit]:
        """The benefit this touch carries, if any."""
        if isinstance(self.action, Action_Coupon):
            return self.action.value
        if isinstance(self.action, Action_StaffTask):
            return self.action.value.benefit
        return None
