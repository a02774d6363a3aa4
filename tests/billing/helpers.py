"""Shared bits of the billing tests: a fixed clock, terms, and statement shortcuts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from billing.services.closing import billing_month_close
from billing.services.contracts import ContractTerms, contract_version_create
from billing.statements import statements_compute
from tenants.access import scope_for_system

# Every billing test runs at this instant: months up to February 2026 are over.
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def system_scope(provider):
    return scope_for_system(provider_id=provider.pk, actor="test")


def contract(scope, customer, effective_from: date, **terms):
    return contract_version_create(scope=scope, customer_id=customer.pk, effective_from=effective_from,
                                   terms=ContractTerms(**terms), now=NOW)


def statement(scope, customer, period: date, period_end: date | None = None):
    found = list(statements_compute(scope=scope, period=period, period_end=period_end, customer_ids=[customer.pk]))
    return found[0] if found else None


def close(scope, period: date, now: datetime = NOW):
    return billing_month_close(scope=scope, period=period, now=now)


def shares(data):
    return [(ln.date.isoformat(), ln.net_sats, ln.provider_share_sats, ln.customer_share_sats, ln.paid_to)
            for ln in data.billed_lines]


def fees(data):
    return [(f.kind, f.start.isoformat(), f.end.isoformat(), str(f.amount), f.currency, f.amount_sats)
            for f in data.fees]
