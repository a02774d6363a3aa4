"""Billing data for the statements pages: contracts, October 2026 rewards (closed) and November ones (to date),
built through billing's own services at a fixed clock (2026-11-20 12:00 UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from billing.models import ExportJob, ExportKind, ExportStatus
from billing.services.closing import billing_month_close
from billing.services.contracts import ContractTerms, adjustment_create, contract_version_create
from tenants.access import scope_for_system
from tests.billing.factories import account_make, reward_make

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # October 2026 is over; November is the running month
OCTOBER = date(2026, 10, 1)
NOVEMBER = date(2026, 11, 1)
SEPTEMBER = date(2026, 9, 1)


def system(provider):
    return scope_for_system(provider_id=provider.pk, actor="test")


def bill(provider, customers, *, close: tuple[date, ...] = (SEPTEMBER, OCTOBER), adjust_november: bool = False,
         fee_currency: str = "BTC", start: date = SEPTEMBER) -> None:
    """Each customer: 20% share and 2 machines at 0.0001 BTC a month; three October and three November rewards
    (a little different per customer, so the rows' figures are told apart), and one on 30 September. `close`
    names the months closed at the end."""
    scope = system(provider)
    for i, customer in enumerate(customers):
        contract_version_create(
            scope=scope, customer_id=customer.pk, effective_from=start, now=NOW,
            terms=ContractTerms(revenue_share_bps=2000, machine_count=2, fee_currency=fee_currency,
                                machine_fee_monthly=Decimal("0.0001") if fee_currency == "BTC" else Decimal(40)))
        account = account_make(provider, customer)
        if start <= date(2026, 9, 30):
            reward_make(account, date(2026, 9, 30), 70_000 + i)
        for day in (1, 2, 3):
            reward_make(account, date(2026, 10, day), 100_000 + 7 * i + day)
            reward_make(account, date(2026, 11, day), 50_000 + 3 * i + day)
        if adjust_november:
            adjustment_create(scope=scope, customer_id=customer.pk, period=NOVEMBER, amount_sats=-1234,
                              memo="Replaced a fan", now=NOW)
    for period in close:
        billing_month_close(scope=scope, period=period, now=NOW)


def victim_export_jobs(world) -> set[int]:
    """For the isolation walk: customer A1 billed and October closed; a finished and a failed export job."""
    bill(world.provider_a, [world.customer_a1])
    done = ExportJob.objects.create(provider=world.provider_a, kind=ExportKind.MONTH_XLSX, period=OCTOBER,
                                    status=ExportStatus.DONE, total=1, done=1, created_at=NOW, finished_at=NOW)
    failed = ExportJob.objects.create(provider=world.provider_a, kind=ExportKind.MONTH_PDF_ZIP, period=OCTOBER,
                                      status=ExportStatus.FAILED, error="killed", created_at=NOW, finished_at=NOW)
    return {done.pk, failed.pk}


def customers_make(provider, n: int, prefix: str = "Client"):
    from tenants import services

    return [services.customer_create(provider=provider, name=f"{prefix} {i:03d}", slug=f"{prefix.lower()}-{i:03d}")
            for i in range(n)]
