"""The canvas plugin SDK for Python, on `canvas:strategy@0.4.0`: a strategy
is one class.

    from canvas_sdk import *

    class Strategy(Plugin):           # the build exports the class named `Strategy`
        ID = "dormant-recall"
        NAME = "90-day dormant recall"
        VERSION = "0.1.0"
        DESCRIPTION = "..."
        DEFAULT_CONFIG = {"after_days": 90}

        def check(self, config):
            check.at_least("after_days", config["after_days"], 1)

        def audience(self, config):
            return Audience.when(last_order(exactly(config["after_days"])))

        def decide_member(self, run, member):
            return [message(member, "recall", "wecom", "recall")]

Layout (everything but `component` is plain Python, unit-testable without a
component build):
- `types`: the WIT records as dataclasses, with read helpers (member.events_of, …);
- `audience`: audience and trigger builders; `touch`: touch builders;
- `check`: config parsing, checks naming the key, `BenefitSpec`;
- `run`: `Run` and the brand calendar; `steps`: `FirstThenFollowUp`;
- `strategy`: `Plugin`, the base class; `testing`: fixtures like the Rust SDK's;
- `component`: the adapter to componentize-py's generated types (build only).
"""

# The WIT records first: the builders below (Audience) shadow their plain records.
from .types import *  # noqa: F401,F403  (the WIT records, for authors)
from . import check
from .audience import (
    Audience, TriggerSpec, between, birthday_in_run_month, bought_launched_category, clause, decided, event,
    exactly, first_order, has_ordered, joined, last_order, level_in, on_event, orders_within, spend_within,
    untold_launch_in_bought_category, wecom_added, wecom_friend_now, within,
)
from .check import MAX_BENEFIT_YUAN, BenefitSpec, ConfigError, benefit
from .run import Run, anniversary_in, date_of, day_of, days_in_month, is_leap_year, whole_years
from .steps import FirstThenFollowUp
from .strategy import (
    API_VERSION, DAILY_AT_10, HOURLY, MONTHLY_ON_THE_1ST_AT_10, ONLY_ON_TRIGGERS, Config, Plugin,
)
from .touch import coupon, group_buy, group_buy_invite, message, staff_task
