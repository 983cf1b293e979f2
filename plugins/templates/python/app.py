"""__NAME__: members who added the brand on WeCom exactly `after_days` days
ago and have not ordered yet get a welcome message. Replace with your rule."""

from typing import List

from canvas_sdk import *


class Strategy(Plugin):  # the build exports the class named `Strategy`
    ID = "__ID__"
    NAME = "__NAME__"
    VERSION = "0.1.0"
    DESCRIPTION = "Welcomes members who added the brand on WeCom and have not ordered yet."
    # What operators may change without a rebuild (`canvas plugin config`).
    DEFAULT_CONFIG = {"after_days": 3, "channel": "wecom", "template": "__TEMPLATE__"}

    def check(self, config: Config) -> None:
        # Refused at `canvas plugin config`, with this message, not at run time.
        check.at_least("after_days", config["after_days"], 1)
        check.channel("channel", config["channel"])
        check.template("template", config["template"])

    def audience(self, config: Config) -> Audience:
        # The host evaluates this over the member base; only these members reach decide_member.
        return Audience.when(wecom_added(exactly(config["after_days"])), none_of=[has_ordered()])

    def decide_member(self, run: Run[Config], member: Member) -> List[Touch]:
        c = run.config
        return [message(member, "welcome", c["channel"], c["template"]).var("name", member.profile.name)]
