"""Reads for alert channels, incidents, deliveries and mutes (issue 20): every one through the caller's scope.

A customer's scope sees its own channels and incidents only (`scoped` filters by customer); staff see their
provider's, customers' included. Lists are bounded and joined up front so a page costs the same few queries
whatever its length.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from mining.models import AlertChannel, AlertDelivery, AlertMute, AlertRule, Incident
from tenants.access import Scope, get_in_scope, scoped


def alert_channel_list(*, scope: Scope, own_only: bool = False) -> QuerySet[AlertChannel]:
    """Channels in scope, newest first, with how many deliveries failed; `own_only`: the provider's own (staff)."""
    qs = scoped(AlertChannel, scope).select_related("customer").annotate(
        failed=Count("deliveries", filter=Q(deliveries__status=AlertDelivery.Status.FAILED)))
    if own_only and scope.is_staff:
        qs = qs.filter(customer__isnull=True)
    return qs.order_by("customer__name", "name", "pk")


def alert_channel_get(*, scope: Scope, channel_id: int) -> AlertChannel:
    return get_in_scope(AlertChannel.objects.select_related("customer"), scope, pk=channel_id)


def alert_delivery_log(*, scope: Scope, channel_id: int, limit: int = 50) -> list[AlertDelivery]:
    """A channel's newest deliveries: event, attempts, status and the channel's last answer."""
    channel = alert_channel_get(scope=scope, channel_id=channel_id)
    return list(scoped(AlertDelivery, scope).filter(channel=channel).select_related("incident")
                .order_by("-created_at", "-pk")[:limit])


def incident_list(*, scope: Scope, state: str = "open", limit: int = 200) -> QuerySet[Incident]:
    """Open incidents (or cleared ones, 'history'; or 'all'), newest first."""
    qs = scoped(Incident, scope).select_related("account", "rule", "customer", "acknowledged_by")
    if state == "open":
        qs = qs.filter(resolved_at__isnull=True)
    elif state == "history":
        qs = qs.filter(resolved_at__isnull=False)
    return qs.order_by("-opened_at", "-pk")[:limit]


def alert_mute_list(*, scope: Scope, now: datetime) -> QuerySet[AlertMute]:
    return scoped(AlertMute, scope).filter(until_at__gt=now).select_related("worker", "account", "rule").order_by(
        "until_at")


def alert_rule_list(*, scope: Scope) -> QuerySet[AlertRule]:
    return scoped(AlertRule, scope).select_related("customer", "account").prefetch_related("channels").order_by(
        "kind", "pk")
