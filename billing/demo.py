"""The demo's contracts (called by `seed_demo`): one pricing model per demo customer, from the start of its data.

* Northwind Mining: a pure revenue share of 25.00%.
* Bluefin Hash: a fee per machine and power derived from the pool's hashrate, in USD at a recorded BTC price.
* Cedar Ridge BTC: a revenue share with a minimum monthly charge; from the day 5-minute hashrate begins (the pool
  serves 3 days of 5-minute points, and the sync keeps them from then on) a second version adds a 95% uptime SLA.

Idempotent: a customer that already has a contract keeps it; prices already recorded stay.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from billing.models import BtcPrice, ContractVersion
from billing.periods import month_end, month_start
from billing.services.contracts import ContractTerms, btc_price_record, contract_version_create
from mining.models import MiningAccount
from tenants.access import Scope, scoped
from tenants.models import Customer

DEMO_BTC_PRICE_USD = Decimal("97000")
TERMS = {
    "northwind": [ContractTerms(revenue_share_bps=2500)],
    "bluefin": [ContractTerms(fee_currency="USD", machine_count=8, machine_fee_monthly=Decimal("45"),
                              power_mode="hashrate", efficiency_j_per_th=Decimal("21.5"),
                              price_per_kwh=Decimal("0.065"))],
    "cedar-ridge": [
        ContractTerms(revenue_share_bps=1500, minimum_monthly_fee=Decimal("0.002")),
        ContractTerms(revenue_share_bps=1500, minimum_monthly_fee=Decimal("0.002"), sla_uptime_bps=9500,
                      sla_hashrate_hs=Decimal("1500000000000000"), sla_credit_cap_bps=3000),
    ],
}


def billing_demo_seed(*, scope: Scope, customers: list[Customer], accounts: list[MiningAccount], now: datetime) -> int:
    """Contracts for the demo customers and the USD price of every month from the start of the data to now."""
    data_start = min((a.upstream_created_at.date() for a in accounts if a.upstream_created_at),
                     default=now.date())
    created = 0
    sla_from = max(data_start + timedelta(days=1), now.date() - timedelta(days=2))
    for customer in customers:
        terms = TERMS.get(customer.slug)
        if not terms or scoped(ContractVersion, scope).filter(customer=customer).exists():
            continue
        starts = [data_start, sla_from][: len(terms)]
        for start, t in zip(starts, terms, strict=True):
            contract_version_create(scope=scope, customer_id=customer.pk, effective_from=start, terms=t, now=now)
            created += 1
    month = month_start(data_start)
    while month <= now.date():
        if not scoped(BtcPrice, scope).filter(currency="USD", period=month).exists():
            btc_price_record(scope=scope, currency="USD", period=month, price=DEMO_BTC_PRICE_USD,
                             as_of=min(month_end(month) - timedelta(days=1), now.date()),
                             source="Demo: a fixed price, not a market quote", now=now)
        month = month_end(month)
    return created
