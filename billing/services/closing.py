"""Closing a month: freeze every customer's statement, once.

Why one transaction per provider and month, holding the month's row lock: a second close (or two at once) waits
for the first, then finds the month closed and returns the same statements. Nothing is half-written: a missing
BTC price for one customer's fiat fees refuses the whole close with that customer named.
The work is chunked (500 customers: a handful of queries and bulk inserts each) so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import BillingMonth, Statement, StatementFee, StatementLine
from billing.periods import month_end
from billing.snapshot import FEE_FIELDS, HEADER_FIELDS, LINE_FIELDS, statement_hash
from billing.statements import StatementData, statements_compute
from tenants.access import Capability, Scope, scoped
from tenants.audit import audit_record
from tenants.models import Customer

CHUNK = 500
BATCH = 5000


@dataclass(frozen=True)
class CloseResult:
    period: date
    statements: int
    already_closed: bool
    customer_net_sats: int


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _persist(month: BillingMonth, datas: list[StatementData], now: datetime) -> None:
    statements = []
    for data in datas:
        data.content_hash = statement_hash(data)
        statements.append(Statement(
            provider_id=data.provider_id, billing_month=month, content_hash=data.content_hash, closed_at=now,
            **{f: getattr(data, f) for f in HEADER_FIELDS}))
    Statement.objects.bulk_create(statements, batch_size=BATCH)
    lines, fees = [], []
    for data, statement in zip(datas, statements, strict=True):
        for line in data.lines:
            lines.append(StatementLine(provider_id=data.provider_id, customer_id=data.customer_id,
                                       statement_id=statement.pk, **{f: getattr(line, f) for f in LINE_FIELDS}))
        for fee in data.fees:
            fees.append(StatementFee(provider_id=data.provider_id, customer_id=data.customer_id,
                                     statement_id=statement.pk, **{f: getattr(fee, f) for f in FEE_FIELDS}))
        if len(lines) >= BATCH:
            StatementLine.objects.bulk_create(lines, batch_size=BATCH)
            lines = []
    StatementLine.objects.bulk_create(lines, batch_size=BATCH)
    StatementFee.objects.bulk_create(fees, batch_size=BATCH)


def billing_month_close(*, scope: Scope, period: date, now: datetime) -> CloseResult:
    """Finalize every statement of the provider's month. Idempotent; refuses a month that has not ended."""
    scope.require(Capability.MANAGE_BILLING)
    if not isinstance(period, date) or period.day != 1:
        raise ValidationError({"period": "Give the month as its first day."})
    end = month_end(period)
    if end > now.date():
        raise ValidationError({"period": (
            f"{period:%Y-%m} has not ended yet: its last settlement day is {end.fromordinal(end.toordinal() - 1)} "
            f"(UTC). It can be closed from {end} on.")})
    with transaction.atomic():
        month, _ = BillingMonth.objects.get_or_create(provider_id=scope.provider_id, period=period)
        month = scoped(BillingMonth, scope).select_for_update().get(pk=month.pk)
        if month.closed_at is not None:
            total = sum(scoped(Statement, scope).filter(period=period).values_list("customer_net_sats", flat=True))
            return CloseResult(period, month.statement_count, True, total)
        ids = list(scoped(Customer, scope).order_by("pk").values_list("pk", flat=True))
        count = net = 0
        for chunk in _chunks(ids, CHUNK):
            datas = list(statements_compute(scope=scope, period=period, period_end=end, customer_ids=chunk))
            _persist(month, datas, now)
            count += len(datas)
            net += sum(d.customer_net_sats for d in datas)
        month.closed_at = now
        month.statement_count = count
        month.save(update_fields=["closed_at", "statement_count"])
        audit_record(scope=scope, action="billing_month.close", target=month, before={"closed_at": None},
                     after={"closed_at": now, "statements": count, "customer_net_sats": net})
    return CloseResult(period, count, False, net)
