"""Reads of a customer's energy entries and adjustments for the console, through tenants.access.
"""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import Adjustment, EnergyEntry
from tenants.access import Scope, scoped


def energy_entry_list(*, scope: Scope, customer_id: int) -> QuerySet[EnergyEntry]:
    """A customer's entered monthly energy, newest month first."""
    return scoped(EnergyEntry, scope).filter(customer_id=customer_id).order_by("-period")


def adjustment_list(*, scope: Scope, customer_id: int) -> QuerySet[Adjustment]:
    """A customer's adjustments, newest month first."""
    return scoped(Adjustment, scope).filter(customer_id=customer_id).order_by("-period", "-created_at", "-id")
