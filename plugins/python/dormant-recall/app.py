"""90-day dormant recall (沉睡老客召回), the Python twin of plugins/dormant-recall:
a member whose latest order was exactly `after_days` days before the run date
is recalled that day with a new-customer-grade benefit."""

from typing import List

from canvas_sdk import *


class Strategy(Plugin):
    ID = "dormant-recall"
    NAME = "90-day dormant recall"
    VERSION = "0.1.0"
    DESCRIPTION = "Recalls members whose last purchase was exactly `after_days` days ago, with a new-customer benefit."
    DEFAULT_CONFIG = {
        "after_days": 90,
        "channel": "wecom",
        "template": "dormant_recall",
        # "Treat like a new customer": a free gift or a lottery entry.
        "benefit": {"kind": "gift", "value": 30.0, "gift": "new-customer gift"},
    }

    def check(self, config: Config) -> None:
        # 0 days would recall members on the day they bought.
        check.at_least("after_days", config["after_days"], 1)
        check.channel("channel", config["channel"])
        check.template("template", config["template"])
        BenefitSpec.from_config("benefit", config["benefit"]).check("benefit")

    def audience(self, config: Config) -> Audience:
        return Audience.when(last_order(exactly(config["after_days"])))

    def decide_member(self, run: Run[Config], member: Member) -> List[Touch]:
        c = run.config
        last = member.orders.last_order_day
        if last is None or run.days_since(last) != c["after_days"]:
            return []
        recall = coupon(member, "recall", c["channel"], c["template"], benefit(c["benefit"]))
        return [recall.var("days_since_last_order", c["after_days"])]
