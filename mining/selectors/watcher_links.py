"""Reads of watcher links for the API, always through tenants.access.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from mining.models import MiningAccount, WatcherLink
from tenants.access import Scope, scoped


def watcher_link_list_api(*, scope: Scope) -> QuerySet[WatcherLink]:
    return scoped(WatcherLink, scope).prefetch_related(
        Prefetch("accounts", queryset=scoped(MiningAccount, scope).only("id").order_by("id"))
    )
