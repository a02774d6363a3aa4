"""Reads of rewards, always through tenants.access: the rewards page, its totals and the API's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Max, Q, QuerySet, Sum

from mining.models import Reward, RewardStatus
from tenants.access import Scope, scoped


def reward_list_api(*, scope: Scope) -> QuerySet[Reward]:
    return scoped(Reward, scope)


def reward_list_for_page(*, scope: Scope, status: str = "") -> QuerySet[Reward]:
    qs = scoped(Reward, scope).select_related("account").order_by("-date", "account__name")
    if status in RewardStatus.values:
        qs = qs.filter(status=status)
    return qs


@dataclass(frozen=True)
class RewardTotals:
    latest_day: date | None
    latest_day_net_sats: int
    month_start: date
    month_to_date_net_sats: int
    pending_net_sats: int


def reward_totals(*, scope: Scope, today: date) -> RewardTotals:
    """Net rewards (after the pool fee) of the newest day and of `today`'s month, canceled ones left out. Two
    queries."""
    live = scoped(Reward, scope).exclude(status=RewardStatus.CANCELED)
    month_start = today.replace(day=1)
    agg = live.aggregate(
        latest=Max("date"),
        mtd=Sum("reward_sats", filter=Q(date__gte=month_start, date__lte=today)),
        pending=Sum("reward_sats", filter=Q(status=RewardStatus.PENDING)),
    )
    latest_net = 0
    if agg["latest"] is not None:
        latest_net = live.filter(date=agg["latest"]).aggregate(s=Sum("reward_sats"))["s"] or 0
    return RewardTotals(agg["latest"], latest_net, month_start, agg["mtd"] or 0, agg["pending"] or 0)
