"""Reads for the REST API's billing resources, always through tenants.access (a customer sees only its own).

Why separate from billing.selectors: the API lists are cursor-paginated querysets with their related rows
prefetched in the same scope, which the portal's pages do not need.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from billing.models import BtcPrice, Contract, ContractVersion, MaintenanceWindow, Statement
from tenants.access import Scope, scoped


def contract_list_api(*, scope: Scope) -> QuerySet[Contract]:
    """Contracts with their versions (oldest first), both in the scope."""
    versions = scoped(ContractVersion, scope).order_by("effective_from")
    return scoped(Contract, scope).prefetch_related(Prefetch("versions", queryset=versions))


def contract_version_list_api(*, scope: Scope) -> QuerySet[ContractVersion]:
    return scoped(ContractVersion, scope)


def btc_price_list_api(*, scope: Scope) -> QuerySet[BtcPrice]:
    """The provider's recorded BTC prices. Provider-wide rows: a customer scope sees none (fail closed)."""
    return scoped(BtcPrice, scope)


def maintenance_window_list_api(*, scope: Scope) -> QuerySet[MaintenanceWindow]:
    """Windows in the scope. A customer scope sees the windows entered for it only: provider-wide ones are the
    provider's planning (they show on the customer's statement where they excused downtime)."""
    return scoped(MaintenanceWindow, scope)


def statement_list_api(*, scope: Scope) -> QuerySet[Statement]:
    """Closed statements in the scope (a customer scope: its own)."""
    return scoped(Statement, scope)
