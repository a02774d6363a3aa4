"""Alerts stay quiet during a maintenance window (issue 20): the check mining's incidents call, registered at start.

Why here: maintenance windows are billing's (they also keep planned work out of the uptime SLA), and mining sits
below billing, so billing hands mining this check (`BillingConfig.ready`) instead of mining importing billing.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from billing.models import MaintenanceWindow
from tenants.access import Scope, scoped


def maintenance_reason_at(scope: Scope, customer_id: int | None, now: datetime) -> str | None:
    """'maintenance: <reason>' while a window of the provider (for everyone, or for this customer) is on."""
    windows = scoped(MaintenanceWindow, scope.provider_wide_reads()).filter(starts_at__lte=now, ends_at__gt=now)
    windows = windows.filter(Q(customer__isnull=True) | Q(customer_id=customer_id)) if customer_id else \
        windows.filter(customer__isnull=True)
    reason = windows.order_by("starts_at").values_list("reason", flat=True).first()
    return f"maintenance: {reason}"[:200] if reason is not None else None
