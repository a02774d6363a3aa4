"""Reads for the staff console's billing set-up pages (contracts, BTC prices, maintenance windows, adjustments).

Why separate from billing.selectors: these are the console's lists, each costing a fixed number of queries
whatever the number of rows (a page's customers, then their versions in one query; never one query per row).
Everything goes through tenants.access, so another tenant's rows cannot appear.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from billing.models import Adjustment, BtcPrice, ContractVersion, EnergyEntry, MaintenanceWindow, Statement
from tenants.access import Scope, scoped


@dataclass(frozen=True)
class VersionRow:
    """A contract version as the console lists it: whether it is in force today, and why it cannot change."""

    version: ContractVersion
    state: str  # "current", "past" or "future"
    locked_by: date | None  # the first closed statement month that used it (then it cannot be edited)


def _in_force(today: date) -> Q:
    return Q(effective_from__lte=today) & (Q(effective_until__isnull=True) | Q(effective_until__gt=today))


def contract_current_by_customer(*, scope: Scope, customer_ids: Iterable[int],
                                 today: date) -> dict[int, ContractVersion]:
    """The version in force on `today` for each of the customers (one query; customers without one are absent)."""
    versions = scoped(ContractVersion, scope).filter(_in_force(today), customer_id__in=list(customer_ids))
    return {v.customer_id: v for v in versions}


def contract_version_rows(*, scope: Scope, customer_id: int, today: date) -> list[VersionRow]:
    """A customer's versions, oldest first, each marked current / past / future and locked where a closed
    statement used it (the same rule `contract_version_update` enforces). Two queries."""
    versions = list(scoped(ContractVersion, scope).filter(customer_id=customer_id).order_by("effective_from"))
    closed = list(scoped(Statement, scope).filter(customer_id=customer_id).order_by("period")
                  .values_list("period", "period_end"))
    rows = []
    for v in versions:
        until = v.effective_until or date.max
        used = next((p for p, end in closed if p < until and end > v.effective_from), None)
        if v.effective_from > today:
            state = "future"
        elif until > today:
            state = "current"
        else:
            state = "past"
        rows.append(VersionRow(v, state, used))
    return rows


def btc_price_list(*, scope: Scope) -> QuerySet[BtcPrice]:
    """Recorded BTC prices, newest month first, then by currency."""
    return scoped(BtcPrice, scope).order_by("-period", "currency")


def maintenance_windows_upcoming(*, scope: Scope, now: datetime) -> QuerySet[MaintenanceWindow]:
    """Windows not yet over (running or planned), soonest first."""
    return scoped(MaintenanceWindow, scope).filter(ends_at__gt=now).select_related("customer").order_by("starts_at")


def maintenance_windows_past(*, scope: Scope, now: datetime) -> QuerySet[MaintenanceWindow]:
    """Windows that are over, most recent first."""
    return scoped(MaintenanceWindow, scope).filter(ends_at__lte=now).select_related("customer").order_by(
        "-starts_at")


def energy_entry_list(*, scope: Scope, customer_id: int) -> QuerySet[EnergyEntry]:
    """A customer's entered monthly energy, newest month first."""
    return scoped(EnergyEntry, scope).filter(customer_id=customer_id).order_by("-period")


def adjustment_list(*, scope: Scope, customer_id: int) -> QuerySet[Adjustment]:
    """A customer's adjustments, newest month first."""
    return scoped(Adjustment, scope).filter(customer_id=customer_id).order_by("-period", "-created_at", "-id")
