"""__NAME__: members who added the brand on WeCom exactly `after_days` days
ago and have not ordered yet get a welcome message. Replace with your rule."""

from canvas_sdk import *


class Strategy(Plugin):  # componentize-py exports the class named `Strategy`
    ID = "__ID__"
    NAME = "__NAME__"
    VERSION = "0.1.0"
    DESCRIPTION = "Welcomes members who added the brand on WeCom and have not ordered yet."
    # What operators may change without a rebuild (`canvas plugin config`).
    DEFAULT_CONFIG = {"after_days": 3, "channel": "wecom", "template": "__TEMPLATE__"}

    def audience(self, config):
        # The host evaluates this over the member base; only these members reach decide_member.
        return Audience.when(wecom_added(exactly(config["after_days"])), none_of=[has_ordered()])

    def decide_member(self, run, member):
        c = run.config
        return [message(member, "welcome", c["channel"], c["template"], [("name", member.profile.name)])]
