"""The billing set-up lists cost the same number of queries with 1 row as with 50: contracts of every customer,
one customer's versions and adjustments, BTC prices, maintenance windows (upcoming and past)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from billing.models import Adjustment, BtcPrice, Contract, ContractVersion, MaintenanceWindow
from tenants import services
from tests.fixtures.access import login_verified
from tests.portal.test_portal_queries import _count

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_seq = itertools.count(1)


def billing_rows_add(*, provider, customer, n: int) -> None:
    """`n` more rows on every billing set-up list: customers with a contract in force, versions and adjustments
    of `customer`, BTC prices, upcoming and past maintenance windows."""
    contract, _ = Contract.objects.get_or_create(provider=provider, customer=customer, defaults={"created_at": NOW})
    for _ in range(n):
        i = next(_seq)
        other = services.customer_create(provider=provider, name=f"Customer {i:04d}", slug=f"customer-{i:04d}")
        own = Contract.objects.create(provider=provider, customer=other, created_at=NOW)
        ContractVersion.objects.create(provider=provider, customer=other, contract=own, effective_from=date(2026, 1, 1),
                                       revenue_share_bps=2500, machine_count=i, machine_fee_monthly=Decimal("0.0001"),
                                       created_at=NOW)
        start = date(2000, 1, 1) + timedelta(days=i)
        ContractVersion.objects.create(provider=provider, customer=customer, contract=contract, effective_from=start,
                                       effective_until=start + timedelta(days=1), revenue_share_bps=i,
                                       created_at=NOW)
        Adjustment.objects.create(provider=provider, customer=customer, period=date(2026, 11, 1), amount_sats=i,
                                  memo=f"correction {i}", created_at=NOW)
        BtcPrice.objects.create(provider=provider, currency="USD", period=date(1900 + i // 12, i % 12 + 1, 1),
                                price=Decimal("90000.5"), as_of=date(2026, 11, 1), source="test", created_at=NOW)
        MaintenanceWindow.objects.create(provider=provider, customer=customer, starts_at=NOW + timedelta(hours=i),
                                         ends_at=NOW + timedelta(hours=i, minutes=30), reason=f"up {i}",
                                         created_at=NOW)
        MaintenanceWindow.objects.create(provider=provider, starts_at=NOW - timedelta(hours=i + 1),
                                         ends_at=NOW - timedelta(hours=i), reason=f"past {i}", created_at=NOW)


@pytest.mark.parametrize("page", ["", "contracts/", "contracts/carol-mining/", "btc-prices/", "maintenance/"])
def test_billing_setup_lists_cost_the_same_with_1_and_50_rows(world, client, django_assert_num_queries, page):
    with time_machine.travel(NOW, tick=False):
        billing_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
        login_verified(client, world.alice)
        url = f"/p/alpha/billing/{page}"
        one = _count(client, url)
        billing_rows_add(provider=world.provider_a, customer=world.customer_a1, n=49)
        with django_assert_num_queries(one):
            html = client.get(url).content.decode()
        if page == "contracts/carol-mining/":
            assert html.count("correction ") == 50 and html.count('aria-label="Correct the version') == 50
        if page == "maintenance/":
            assert html.count("up ") >= 50 and html.count("past ") == 50
        if page == "btc-prices/":
            assert html.count("90,000.5") == 50  # grouped by thousands (issue 21)
