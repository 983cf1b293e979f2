"""What an author subclasses (`Plugin`), and the three calls the host makes
of a plugin, on the SDK's own types: `describe`, `audience_for`, `decide`.
`canvas_sdk.component` turns these into the WIT exports; a unit test calls
them (or `audience`, `decide_member`) directly, in plain Python."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Sequence

from .check import ConfigError, parse_config
from .run import Run
from .types import Audience, Manifest, Member, RunContext, Touch

#: The version of the WIT package this SDK builds plugins against.
API_VERSION = "0.4.0"
#: Every day at 10:00 in the brand's time zone (the default).
DAILY_AT_10 = "0 10 * * *"
#: Every hour, on the hour.
HOURLY = "0 * * * *"
#: The first day of every month at 10:00.
MONTHLY_ON_THE_1ST_AT_10 = "0 10 1 * *"
#: Never on a schedule: the strategy runs only on its audience's triggers.
ONLY_ON_TRIGGERS = ""

Config = Dict[str, Any]


class Plugin:
    """Subclass it as `class Strategy(Plugin)` (the build exports the class of
    that name) and set ID, NAME, VERSION, DESCRIPTION, DEFAULT_CONFIG (a dict)
    and optionally SCHEDULE; implement `audience(config)` and
    `decide_member(run, member)`, optionally `check(config)` and
    `decide_batch(run, members)`."""

    ID = ""
    NAME = ""
    VERSION = "0.1.0"
    DESCRIPTION = ""
    SCHEDULE = DAILY_AT_10
    DEFAULT_CONFIG: Config = {}

    # ---- what an author implements

    def check(self, config: Config) -> None:
        """Refuses a config that parses but makes no sense (a negative
        coupon, a level that does not exist) by raising `ConfigError` with a
        message naming the key and what is allowed (`canvas_sdk.check` has
        the common checks). Called each time the config is read, before
        `audience` and before a batch is decided. The default refuses nothing."""

    def audience(self, config: Config) -> Audience:
        raise NotImplementedError(f"{type(self).__name__}.audience")

    def decide_member(self, run: Run[Config], member: Member) -> List[Touch]:
        raise NotImplementedError(f"{type(self).__name__}.decide_member")

    def decide_batch(self, run: Run[Config], members: Sequence[Member]) -> List[Touch]:
        """The touches for one batch: `decide_member` for each member, in order.
        Override it to work out once per batch what does not depend on the
        member (a catalogue of `run.launches`, a lookup table); keep
        `decide_member` giving each member the same touches."""
        touches: List[Touch] = []
        for member in members:
            touches.extend(self.decide_member(run, member))
        return touches

    # ---- the host's three calls, on the SDK's types

    def config_of(self, raw: str) -> Config:
        """Parses and checks the effective config; every call that reads the
        config comes through here, so none runs on a config the strategy refuses."""
        try:
            config = parse_config(raw, self.DEFAULT_CONFIG)
            self.check(config)
        except ConfigError as e:
            raise ConfigError(f"invalid config for {self.ID}: {e}") from None
        return config

    def describe(self) -> Manifest:
        return Manifest(
            id=self.ID,
            name=self.NAME,
            version=self.VERSION,
            api_version=API_VERSION,
            description=self.DESCRIPTION,
            default_config=json.dumps(self.DEFAULT_CONFIG, ensure_ascii=False),
            schedule=self.SCHEDULE,
        )

    def audience_for(self, raw_config: str) -> Audience:
        """The audience for this effective config; raises ConfigError."""
        return self.audience(self.config_of(raw_config))

    def decide(self, context: RunContext, members: Sequence[Member]) -> List[Touch]:
        """One batch (or, with `context.trigger`, the triggered member) through
        `decide_batch`; raises ConfigError."""
        return self.decide_batch(Run(context, self.config_of(context.config)), members)
