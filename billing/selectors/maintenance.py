"""Reads of maintenance windows (upcoming and past for the console, the API's list), through tenants.access.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from billing.models import MaintenanceWindow
from tenants.access import Scope, scoped


def maintenance_window_list_api(*, scope: Scope) -> QuerySet[MaintenanceWindow]:
    """Windows in the scope. A customer scope sees the windows entered for it only: provider-wide ones are the
    provider's planning (they show on the customer's statement where they excused downtime)."""
    return scoped(MaintenanceWindow, scope)


def maintenance_windows_upcoming(*, scope: Scope, now: datetime) -> QuerySet[MaintenanceWindow]:
    """Windows not yet over (running or planned), soonest first."""
    return scoped(MaintenanceWindow, scope).filter(ends_at__gt=now).select_related("customer").order_by("starts_at")


def maintenance_windows_past(*, scope: Scope, now: datetime) -> QuerySet[MaintenanceWindow]:
    """Windows that are over, most recent first."""
    return scoped(MaintenanceWindow, scope).filter(ends_at__lte=now).select_related("customer").order_by(
        "-starts_at")
