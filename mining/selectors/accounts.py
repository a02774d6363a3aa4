"""Reads of mining accounts, always through tenants.access: the console's list and the API's list.

The API's list is a lazily evaluated, scoped queryset whose page cost does not grow with the table (cursor-paginated
on an indexed order).
"""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery

from mining.models import AccountHashrateSample, Alert, Interval, MiningAccount
from mining.selectors.labels import with_labels
from mining.selectors.workers import with_worker_states
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


def mining_account_list_api(*, scope: Scope) -> QuerySet[MiningAccount]:
    """With each account's workers by state (`worker_states`), annotated in the same query."""
    return with_worker_states(with_labels(scoped(MiningAccount, scope)))


def mining_account_names(*, account_ids: set[int], provider_ids: set[int]) -> dict[int, str]:
    """Names of accounts, only within the given providers (the audit log's words for ids)."""
    return dict(MiningAccount.objects.filter(pk__in=account_ids, provider_id__in=provider_ids)
                .values_list("pk", "name"))
