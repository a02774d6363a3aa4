"""Reads of contracts and their versions: the one in force per customer, a customer's version history, the API's
lists. A page's customers, then their versions in one query; never one query per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q, QuerySet

from billing.models import Contract, ContractVersion, Statement
from tenants.access import Scope, scoped


def contract_list_api(*, scope: Scope) -> QuerySet[Contract]:
    """Contracts with their versions (oldest first), both in the scope."""
    versions = scoped(ContractVersion, scope).order_by("effective_from")
    return scoped(Contract, scope).prefetch_related(Prefetch("versions", queryset=versions))


def contract_version_list_api(*, scope: Scope) -> QuerySet[ContractVersion]:
    return scoped(ContractVersion, scope)


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
