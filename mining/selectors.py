"""Reads of the synced data, always through tenants.access, shaped for pages and (later) the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum

from mining.models import AccountHashrateSample, Alert, Interval, MiningAccount, Reward, RewardStatus
from tenants.access import Scope, scoped


def mining_account_list(*, scope: Scope) -> QuerySet[MiningAccount]:
    """The scope's accounts with their newest hourly hashrate, for the fleet tables."""
    latest = (
        AccountHashrateSample.objects.filter(account=OuterRef("pk"), interval=Interval.H1)
        .order_by("-at")
        .values("hashrate_hs")[:1]
    )
    open_alerts = (
        Alert.objects.filter(account=OuterRef("pk"), resolved_at__isnull=True)
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return (
        scoped(MiningAccount, scope)
        .select_related("customer")
        .annotate(hashrate_1h_hs=Subquery(latest), open_alerts=Subquery(open_alerts))
        .order_by("customer__name", "name")
    )


@dataclass(frozen=True)
class FleetSummary:
    accounts: int
    workers_online: int
    workers_offline: int
    hashrate_1h_hs: Decimal
    rewards_paid_sats: int
    rewards_pending_sats: int
    open_alerts: int
    last_synced_at: datetime | None


def fleet_summary(*, scope: Scope, accounts: list[MiningAccount]) -> FleetSummary:
    """Totals for the scope; rewards are net of the pool fee, in satoshis."""
    rewards = scoped(Reward, scope).aggregate(
        paid=Sum("reward_sats", filter=Q(status=RewardStatus.SUCCESSFUL)),
        pending=Sum("reward_sats", filter=Q(status=RewardStatus.PENDING)),
    )
    return FleetSummary(
        accounts=len(accounts),
        workers_online=sum(a.workers_online for a in accounts),
        workers_offline=sum(a.workers_offline for a in accounts),
        hashrate_1h_hs=sum((a.hashrate_1h_hs or Decimal(0) for a in accounts), Decimal(0)),
        rewards_paid_sats=rewards["paid"] or 0,
        rewards_pending_sats=rewards["pending"] or 0,
        open_alerts=scoped(Alert, scope).filter(resolved_at__isnull=True).count(),
        last_synced_at=max((a.last_synced_at for a in accounts if a.last_synced_at), default=None),
    )


def reward_list(*, scope: Scope, limit: int = 30) -> QuerySet[Reward]:
    return scoped(Reward, scope).select_related("account").order_by("-date", "account__name")[:limit]
