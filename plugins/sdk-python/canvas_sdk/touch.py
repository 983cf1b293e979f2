"""Builders for the touches a strategy proposes, as the Rust SDK's `Touch::*`.
Variables are given as pairs or a dict, or added with `touch.var(key, value)`."""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Tuple, Union

from . import types as t
from .types import Benefit, GroupBuy, Member, Touch

Variables = Union[Mapping[str, object], Iterable[Tuple[str, object]]]


def _touch(member: Member, step: str, channel: str, template: str, action: t.Action, variables: Variables) -> Touch:
    pairs = variables.items() if isinstance(variables, Mapping) else variables
    return Touch(
        member_id=member.profile.id,
        step=step,
        channel=channel,
        template=template,
        variables=[(k, str(v)) for k, v in pairs],
        action=action,
    )


def message(member: Member, step: str, channel: str, template: str, variables: Variables = ()) -> Touch:
    """A message on `channel` using `template`."""
    return _touch(member, step, channel, template, t.Action_Message(), variables)


def coupon(member: Member, step: str, channel: str, template: str, benefit: Benefit,
           variables: Variables = ()) -> Touch:
    """A coupon, announced on `channel` using `template`."""
    return _touch(member, step, channel, template, t.Action_Coupon(benefit), variables)


def staff_task(member: Member, step: str, template: str, benefit: Optional[Benefit] = None,
               variables: Variables = ()) -> Touch:
    """A task for the member's own guide, who contacts them over WeCom."""
    task = t.StaffTask(guide_id=member.profile.guide_id, benefit=benefit)
    return _touch(member, step, "wecom", template, t.Action_StaffTask(task), variables)


def group_buy_invite(member: Member, step: str, channel: str, template: str, group: GroupBuy,
                     variables: Variables = ()) -> Touch:
    """An invitation to open a group buy of `group.sku` for `group.group_size` at `group.price` fen."""
    return _touch(member, step, channel, template, t.Action_GroupBuyInvite(group), variables)


def group_buy(sku: str, group_size: int, price_fen: int) -> GroupBuy:
    return GroupBuy(sku=sku, group_size=group_size, price=price_fen)
