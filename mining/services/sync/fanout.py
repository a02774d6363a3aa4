"""Which accounts the beat fan-out syncs, and which have gone stale: platform-wide on purpose, ids only."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mining.models import MiningAccount
from tenants.access import UNSCOPED_across_all_tenants


def mining_accounts_due(*, provider_id: int | None = None, account_name: str | None = None) -> list[tuple[int, int]]:
    """(provider_id, account_id) of every active account, for the fan-out. Platform-wide by design: it returns
    only ids, and each sync opens its own provider scope from them."""
    qs = UNSCOPED_across_all_tenants(MiningAccount, reason="sync fan-out: ids only").filter(is_active=True)
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    if account_name is not None:
        qs = qs.filter(name=account_name)
    return list(qs.order_by("provider_id", "pk").values_list("provider_id", "pk"))


def mining_accounts_stale(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """Active accounts not synced for three cycles, whose sync may not even be running to notice it."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.MINING_SYNC_INTERVAL_S * 3)
    qs = UNSCOPED_across_all_tenants(MiningAccount, reason="stale-sync alerts: ids only").filter(
        Q(last_synced_at__lt=cutoff) | Q(last_synced_at__isnull=True, created_at__lt=cutoff), is_active=True
    )
    return list(qs.values_list("provider_id", "pk"))
