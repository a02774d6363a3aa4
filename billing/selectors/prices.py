"""Reads of the provider's BTC prices (the console's list and the API's), always through tenants.access.
"""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import BtcPrice
from tenants.access import Scope, scoped


def btc_price_list_api(*, scope: Scope) -> QuerySet[BtcPrice]:
    """The provider's recorded BTC prices. Provider-wide rows: a customer scope sees none (fail closed)."""
    return scoped(BtcPrice, scope)


def btc_price_list(*, scope: Scope) -> QuerySet[BtcPrice]:
    """Recorded BTC prices, newest month first, then by currency."""
    return scoped(BtcPrice, scope).order_by("-period", "currency")
