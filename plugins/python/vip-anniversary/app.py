"""VIP membership anniversary (会员周年礼): on the anniversary of the day a
member of a VIP level joined, they get a thank-you benefit; milestone years
(1, 3, 5, 10 by default) get a bigger one. Once per member per year.
Written only in Python, to show a strategy needs no Rust."""

from typing import List

from canvas_sdk import *

STEP = "anniversary"
MAX_YEARS = 50


def _years_ago(k: int) -> DaysAgo:
    """The days back an anniversary k years on can lie: 365·k plus the 29 Februaries
    between, which are k/4 rounded down or up, one fewer when the years cross a
    century that is not a leap year (2100). Wider asks Python about members it
    turns away: each one passed costs more than deciding."""
    return between(365 * k + max(k // 4 - 1, 0), 365 * k + (k + 3) // 4)


class Strategy(Plugin):
    ID = "vip-anniversary"
    NAME = "VIP membership anniversary"
    VERSION = "0.2.0"
    DESCRIPTION = "On the anniversary of joining, members of VIP levels get a thank-you benefit; milestone years more."
    DEFAULT_CONFIG = {
        "levels": [3, 4],
        "channel": "wecom",
        "template": "vip_anniversary",
        "benefit": {"kind": "points", "value": 20.0},
        "milestone_years": [1, 3, 5, 10],
        "milestone_benefit": {"kind": "coupon", "value": 50.0},
    }

    def check(self, config: Config) -> None:
        if not config["levels"]:
            raise ConfigError("levels: must list at least one member level; levels are 1–4")
        for i, level in enumerate(config["levels"]):
            check.member_level(f"levels.{i}", level)
        for i, years in enumerate(config["milestone_years"]):
            if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_YEARS:
                raise ConfigError(f"milestone_years.{i}: must be a whole number of years from 1 to {MAX_YEARS}")
        check.channel("channel", config["channel"])
        check.template("template", config["template"])
        for key in ("benefit", "milestone_benefit"):
            BenefitSpec.from_config(key, config[key]).check(key)

    def audience(self, config: Config) -> Audience:
        # Anniversaries are not a declarative condition. A join k years before
        # the run lies 365·k days back plus the leap days between, so ask for
        # those narrow day ranges (the host reads them off its join-day index)
        # and pick the exact anniversaries in decide_member.
        levels = config["levels"]
        return Audience.any(*[clause(level_in(*levels), joined(_years_ago(k))) for k in range(1, MAX_YEARS + 1)])

    def decide_member(self, run: Run[Config], member: Member) -> List[Touch]:
        c = run.config
        joined_on = date_of(member.profile.joined_day)
        years = whole_years(joined_on, run.date)
        if years < 1 or not run.is_anniversary_of(joined_on) or member.profile.level not in c["levels"]:
            return []
        if any(date_of(d.day).year == run.date.year for d in member.decisions_at(STEP)):
            return []
        spec = c["milestone_benefit"] if years in c["milestone_years"] else c["benefit"]
        return [coupon(member, STEP, c["channel"], c["template"], benefit(spec)).var("years", years)]
