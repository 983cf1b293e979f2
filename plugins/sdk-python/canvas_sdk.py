"""The canvas plugin SDK for Python: a strategy is one class.

    from canvas_sdk import *

    class Strategy(Plugin):           # componentize-py exports the class named `Strategy`
        ID = "dormant-recall"
        NAME = "90-day dormant recall"
        VERSION = "0.1.0"
        DESCRIPTION = "..."
        DEFAULT_CONFIG = {"after_days": 90}

        def audience(self, config):
            return Audience.when(last_order(exactly(config["after_days"])))

        def decide_member(self, run, member):
            return [message(member, "recall", "wecom", "recall")]

The WIT types come from `wit_world`, which componentize-py generates from
`wit/v0.1.0` at build time; this module only adds the plumbing (config
parsing, errors as `Err`) and builders that mirror the Rust SDK's, so a Python
twin of a Rust strategy reads the same.
"""

import datetime
import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import types as t
from wit_world.imports.types import *  # noqa: F401,F403  (the WIT types, for authors)

API_VERSION = "0.1.0"
DAILY_AT_10 = "0 10 * * *"
HOURLY = "0 * * * *"
MONTHLY_ON_THE_1ST_AT_10 = "0 10 1 * *"

_EPOCH = datetime.date(1970, 1, 1)


# ---- configuration ---------------------------------------------------------


class ConfigError(Exception):
    """A config the plugin rejects; the message is shown to the operator."""


def parse_config(plugin_id, raw, defaults):
    """The effective config (a JSON object) checked against the defaults: an
    unknown key is an error, a missing key takes its default, and a value must
    have the default's JSON type (an int is accepted where a float is)."""
    try:
        given = json.loads(raw)
    except ValueError as e:
        raise ConfigError(f"invalid config for {plugin_id}: not JSON: {e}")
    if not isinstance(given, dict):
        raise ConfigError(f"invalid config for {plugin_id}: expected a JSON object")
    config = dict(defaults)
    for key, value in given.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise ConfigError(f"invalid config for {plugin_id}: unknown field `{key}`, expected one of {known}")
        _check_type(plugin_id, key, value, defaults[key])
        config[key] = value
    return config


def _check_type(plugin_id, key, value, default):
    def kind(v):
        if isinstance(v, bool):
            return "a boolean"
        if isinstance(v, (int, float)):
            return "a number"
        if isinstance(v, str):
            return "a string"
        if isinstance(v, list):
            return "a list"
        if isinstance(v, dict):
            return "an object"
        return "null"

    if default is not None and kind(value) != kind(default):
        raise ConfigError(f"invalid config for {plugin_id}: `{key}` must be {kind(default)}, not {kind(value)}")
    if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, float):
        raise ConfigError(f"invalid config for {plugin_id}: `{key}` must be a whole number, not {value}")


# ---- the plugin base class -------------------------------------------------


class Run:
    """One run: the host's clock, the brand calendar's date, the effective
    config and the recent launches."""

    def __init__(self, context, config):
        self.run_at = context.run_at
        self.today = context.today
        self.date = context.date
        self.timezone = context.timezone
        self.config = config
        self.launches = context.launches

    def days_since(self, day):
        return self.today - day

    def minutes_since(self, at):
        return (self.run_at - at) // 60_000

    def is_anniversary_of(self, date):
        """Whether the run date is `date`'s anniversary (29 Feb → 28 Feb in common years)."""
        a = anniversary_in(date, self.date.year)
        return (a.month, a.day) == (self.date.month, self.date.day)


class Plugin(exports.Strategy):
    """Subclass it as `class Strategy(Plugin)` and set ID, NAME, VERSION,
    DESCRIPTION, DEFAULT_CONFIG (a dict) and optionally SCHEDULE; implement
    `audience(config)` and `decide_member(run, member)`, and optionally
    `decide_batch(run, members)`."""

    ID = ""
    NAME = ""
    VERSION = "0.1.0"
    DESCRIPTION = ""
    SCHEDULE = DAILY_AT_10
    DEFAULT_CONFIG = {}

    # -- what an author implements
    def audience(self, config):
        raise NotImplementedError

    def decide_member(self, run, member):
        raise NotImplementedError

    def decide_batch(self, run, members):
        """The touches for one batch: `decide_member` for each member, in order.
        Override it to work out once per batch what does not depend on the
        member (a catalogue of `run.launches`, a lookup table); keep
        `decide_member` giving each member the same touches."""
        touches = []
        for member in members:
            touches.extend(self.decide_member(run, member))
        return touches

    # -- the WIT exports
    def describe(self):
        return t.Manifest(
            id=self.ID,
            name=self.NAME,
            version=self.VERSION,
            api_version=API_VERSION,
            description=self.DESCRIPTION,
            default_config=json.dumps(self.DEFAULT_CONFIG),
            schedule=self.SCHEDULE,
        )

    def audience_for(self, config):
        try:
            return self.audience(parse_config(self.ID, config, self.DEFAULT_CONFIG))
        except ConfigError as e:
            raise Err(str(e))

    def decide(self, context, members):
        try:
            run = Run(context, parse_config(self.ID, context.config, self.DEFAULT_CONFIG))
            return self.decide_batch(run, members)
        except ConfigError as e:
            raise Err(str(e))


# ---- audience builders -----------------------------------------------------


def exactly(days):
    """The day exactly `days` days before the run date."""
    return t.DaysAgo(min=days, max=days)


def within(days):
    """The last `days` days: the run date and the `days - 1` days before it."""
    return t.DaysAgo(min=0, max=max(days - 1, 0))


def between(min_days, max_days):
    return t.DaysAgo(min=min_days, max=max_days)


def joined(ago):
    return t.Condition_Joined(ago)


def wecom_added(ago):
    return t.Condition_WecomAdded(ago)


def first_order(ago):
    return t.Condition_FirstOrder(ago)


def last_order(ago):
    return t.Condition_LastOrder(ago)


def has_ordered():
    return t.Condition_HasOrdered()


def orders_within(days, at_least):
    return t.Condition_OrdersWithin(t.OrderCount(within_days=days, at_least=at_least))


def level_in(*levels):
    return t.Condition_LevelIn(bytes(levels))  # list<u8> is `bytes` in componentize-py


def birthday_in_run_month():
    return t.Condition_BirthdayInRunMonth()


def event(kind, within_hours):
    return t.Condition_Event(t.RecentEvent(kind=kind, within_hours=within_hours))


def decided(ago, step=None, status=None):
    return t.Condition_Decided(t.EarlierDecision(step=step, status=status, ago=ago))


class Audience:
    """Builders for `types.Audience`."""

    @staticmethod
    def nobody():
        return Audience.any()

    @staticmethod
    def any(*clauses):
        return t.Audience(
            any_of=list(clauses), order_windows=[], event_kinds=[], event_lookback_hours=0, launch_lookback_days=0
        )

    @staticmethod
    def when(*conditions, none_of=()):
        return Audience.any(clause(*conditions, none_of=none_of))


def clause(*conditions, none_of=()):
    return t.Clause(all_of=list(conditions), none_of=list(none_of))


# ---- touches -----------------------------------------------------------------

_BENEFIT_KINDS = {
    "coupon": t.BenefitKind.COUPON,
    "gift": t.BenefitKind.GIFT,
    "lottery": t.BenefitKind.LOTTERY,
    "points": t.BenefitKind.POINTS,
    "early_access": t.BenefitKind.EARLY_ACCESS,
}


def benefit(spec):
    """A benefit from its config shape: {"kind": "coupon", "value": 20.0 (yuan), "gift": "..."}."""
    kind = _BENEFIT_KINDS.get(spec.get("kind"))
    if kind is None:
        raise ConfigError(f"unknown benefit kind {spec.get('kind')!r}, expected one of {', '.join(_BENEFIT_KINDS)}")
    # Yuan to fen, rounding half away from zero as Rust's f64::round does.
    fen = int(abs(spec.get("value", 0)) * 100 + 0.5) * (1 if spec.get("value", 0) >= 0 else -1)
    return t.Benefit(kind=kind, value=fen, gift=spec.get("gift"))


def _touch(member, step, channel, template, action, variables):
    return t.Touch(
        member_id=member.profile.id,
        step=step,
        channel=channel,
        template=template,
        variables=[(k, str(v)) for k, v in variables],
        action=action,
    )


def message(member, step, channel, template, variables=()):
    return _touch(member, step, channel, template, t.Action_Message(), variables)


def coupon(member, step, channel, template, benefit_, variables=()):
    return _touch(member, step, channel, template, t.Action_Coupon(benefit_), variables)


def staff_task(member, step, template, benefit_=None, variables=()):
    """A task for the member's own guide, who contacts them over WeCom."""
    task = t.StaffTask(guide_id=member.profile.guide_id, benefit=benefit_)
    return _touch(member, step, "wecom", template, t.Action_StaffTask(task), variables)


# ---- the brand calendar ------------------------------------------------------


def date_of(day):
    """The calendar date of a day number (days since 1970-01-01 in the brand's calendar)."""
    d = _EPOCH + datetime.timedelta(days=day)
    return t.Date(year=d.year, month=d.month, day=d.day)


def day_of(date):
    return (datetime.date(date.year, date.month, date.day) - _EPOCH).days


def is_leap_year(year):
    return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0


def anniversary_in(date, year):
    """The anniversary of `date` in `year`; a 29 February falls on 28 February in common years."""
    day = 28 if (date.month, date.day) == (2, 29) and not is_leap_year(year) else date.day
    return t.Date(year=year, month=date.month, day=day)


def whole_years(since, on):
    """Whole years from `since` to `on` (years of membership)."""
    a = anniversary_in(since, on.year)
    return on.year - since.year - (1 if (on.month, on.day) < (a.month, a.day) else 0)


def decisions_at(member, step):
    return [d for d in member.history if d.step == step]
