"""Unredeemed coupon reminder, triggered: the Python twin of
plugins/coupon-reminder. `remind_after_hours` after a `coupon_issued` event
the host calls the strategy for that member — unless a `coupon_redeemed` with
the same `coupon_id` came first — and it sends one reminder of that coupon. A
call later than `give_up_after_hours` after the coupon reminds nobody. It
never runs on a schedule."""

from typing import List

from canvas_sdk import *

STEP = "reminder"
ISSUED = "coupon_issued"
REDEEMED = "coupon_redeemed"
COUPON_ID = "coupon_id"


class Strategy(Plugin):
    ID = "coupon-reminder"
    NAME = "Unredeemed coupon reminder"
    VERSION = "0.1.0"
    DESCRIPTION = "Reminds a member once of a coupon not redeemed within the hour."
    SCHEDULE = ONLY_ON_TRIGGERS
    DEFAULT_CONFIG = {
        "remind_after_hours": 1,
        "give_up_after_hours": 24,
        "channel": "wecom",
        "template": "coupon_reminder",
    }

    def check(self, config: Config) -> None:
        # At once would remind a member still reading the coupon; giving up
        # no later than reminding would remind of no coupon ever.
        check.at_least("remind_after_hours", config["remind_after_hours"], 1)
        remind, give_up = config["remind_after_hours"], config["give_up_after_hours"]
        if give_up <= remind:
            raise ConfigError(f"give_up_after_hours: must be more than remind_after_hours, {remind} (is {give_up})")
        check.channel("channel", config["channel"])
        check.template("template", config["template"])

    def audience(self, config: Config) -> Audience:
        trigger = (on_event(ISSUED).requires(COUPON_ID).after_hours(config["remind_after_hours"])
                   .unless_event(REDEEMED, same_attr=COUPON_ID))
        return Audience.nobody().on(trigger)

    def decide_member(self, run: Run[Config], member: Member) -> List[Touch]:
        c = run.config
        issued = run.trigger
        coupon_id = run.trigger_attr(COUPON_ID)
        if issued is None or coupon_id is None or run.minutes_since(issued.at) > c["give_up_after_hours"] * 60:
            return []
        return [message(member, STEP, c["channel"], c["template"]).var(COUPON_ID, coupon_id)]
