"""Shared set-ups of the invoice tests: a closed month for one customer, held by the provider or by the customer."""

from __future__ import annotations

from datetime import date

from billing.services.billing_details import (
    DetailsInput,
    ProfileInput,
    billing_profile_set,
    customer_billing_details_set,
)
from billing.services.contracts import btc_price_record
from billing.services.invoices import invoices_issue_month
from mining.models import PayoutDestination
from tests.billing.factories import account_make, reward_make
from tests.billing.helpers import NOW, close, contract, system_scope

OCT = date(2025, 10, 1)
NOV = date(2025, 11, 1)


def profile(scope, **kw):
    values = {"legal_name": "Alpha Hosting Ltd", "address": "1 Rack Street\nReykjavik", "tax_id": "IS123456",
              "payment_instructions": "IBAN IS00 0000 0000 0000 0000 00", "footer": "Thank you.",
              "invoice_prefix": "DH", **kw}
    return billing_profile_set(scope=scope, data=ProfileInput(**values), now=NOW)


def details(scope, customer, **kw):
    values = {"legal_name": f"{customer.name} LLC", "address": "2 Hash Road", "billing_email": "ap@carol.example",
              "currency": "BTC", **kw}
    return customer_billing_details_set(scope=scope, customer_id=customer.pk, data=DetailsInput(**values), now=NOW)


def provider_held_month(world, period=OCT):
    """20 % share, 2 machines at 0.0001 BTC; three rewards of 100,000 sats on the provider's balance."""
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, period, revenue_share_bps=2000, machine_count=2, machine_fee_monthly="0.0001")
    for d in (1, 2, 3):
        reward_make(acct, period.replace(day=d), 100_000)
    return scope, acct


def customer_held_usd_month(world, period=OCT):
    """10 % share, 2 machines at 150 USD; three rewards of 0.01 BTC paid to the customer's own address; 1 BTC is
    60,000 USD."""
    scope = system_scope(world.provider_a)
    acct = account_make(world.provider_a, world.customer_a1)
    contract(scope, world.customer_a1, period, revenue_share_bps=1000, fee_currency="USD", machine_count=2,
             machine_fee_monthly="150", customer_addresses=["bc1qcustomer"])
    for d in (1, 2, 3):
        reward_make(acct, period.replace(day=d), 1_000_000, payout_destination=PayoutDestination.EXTERNAL_ADDRESS,
                    payout_address="bc1qcustomer")
    btc_price_record(scope=scope, currency="USD", period=period, price="60000", as_of=date(2025, 10, 31),
                     source="WhiteBIT BTC/USD close", now=NOW)
    return scope, acct


def close_and_issue(scope, period=OCT, now=NOW):
    close(scope, period)
    return invoices_issue_month(scope=scope, period=period, now=now)
