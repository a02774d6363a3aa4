"""Closing a month: freeze every customer's statement, once.

Why one transaction per provider and month, holding the month's row lock: a second close (or two at once) waits
for the first, then finds the month closed and returns the same statements. Nothing is half-written: a missing
BTC price for one customer's fiat fees refuses the whole close with that customer named.
The work is chunked (500 customers: a handful of queries and bulk inserts each) so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Min
from psycopg.types.json import Jsonb

from billing.models import Adjustment, BillingMonth, ContractVersion, Statement, StatementFee, StatementLine
from billing.periods import month_end, month_start
from billing.snapshot import FEE_STORED_FIELDS, HEADER_FIELDS, LINE_FIELDS, statement_hash
from billing.statements import StatementData, statements_compute
from mining.models import Reward, RewardStatus
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
    for data in datas:
        data.content_hash = statement_hash(data)
    if connection.vendor == "postgresql":
        _persist_copy(month, datas, now)
    else:
        _persist_orm(month, datas, now)


def _persist_orm(month: BillingMonth, datas: list[StatementData], now: datetime) -> None:
    """The portable path (the embedded SQLite demo): bulk inserts in batches."""
    statements = [Statement(provider_id=d.provider_id, billing_month=month, content_hash=d.content_hash,
                            closed_at=now, **{f: getattr(d, f) for f in HEADER_FIELDS}) for d in datas]
    Statement.objects.bulk_create(statements, batch_size=BATCH)
    lines, fees = [], []
    for data, statement in zip(datas, statements, strict=True):
        owner = {"provider_id": data.provider_id, "customer_id": data.customer_id, "statement_id": statement.pk}
        lines += [StatementLine(**owner, **{f: getattr(ln, f) for f in LINE_FIELDS}) for ln in data.lines]
        fees += [StatementFee(**owner, **{f: getattr(fee, f) for f in FEE_STORED_FIELDS}) for fee in data.fees]
    StatementLine.objects.bulk_create(lines, batch_size=BATCH)
    StatementFee.objects.bulk_create(fees, batch_size=BATCH)


def _copy(model: type, columns: list[str], rows: Iterable[tuple]) -> None:
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)


def _persist_copy(month: BillingMonth, datas: list[StatementData], now: datetime) -> None:
    """PostgreSQL: ids drawn from the table's sequence, rows streamed with COPY (a 10,000-customer close writes
    300,000 lines; building a model instance per line would cost more than the whole calculation)."""
    if not datas:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [Statement._meta.db_table, len(datas)])
        ids = [r[0] for r in cursor.fetchall()]
    header = [f for f in HEADER_FIELDS if f not in ("sla", "rates")]
    _copy(Statement, ["id", "provider_id", "billing_month_id", "content_hash", "closed_at", *header, "sla", "rates"],
          ((pk, d.provider_id, month.pk, d.content_hash, now, *(getattr(d, f) for f in header),
            Jsonb(d.sla), Jsonb(d.rates)) for pk, d in zip(ids, datas, strict=True)))
    line_values = attrgetter(*LINE_FIELDS)
    _copy(StatementLine, ["provider_id", "customer_id", "statement_id", *LINE_FIELDS],
          ((d.provider_id, d.customer_id, pk, *line_values(ln))
           for pk, d in zip(ids, datas, strict=True) for ln in d.lines))
    _copy(StatementFee, ["provider_id", "customer_id", "statement_id", *FEE_STORED_FIELDS],
          ((d.provider_id, d.customer_id, pk, *(getattr(fee, f) for f in FEE_STORED_FIELDS))
           for pk, d in zip(ids, datas, strict=True) for fee in d.fees))


def billing_month_first_open(scope: Scope, period: date) -> date | None:
    """The earliest month before `period` with billable activity (a reward, a contract, an adjustment) that is not
    closed. Why in order: a late reward of an open earlier month would otherwise be billed twice or never, and a
    customer's running balance reads month after month."""
    starts = [
        scoped(Reward, scope).exclude(status=RewardStatus.CANCELED).filter(date__lt=period)
        .aggregate(first=Min("date"))["first"],
        scoped(ContractVersion, scope).filter(effective_from__lt=period)
        .aggregate(first=Min("effective_from"))["first"],
        scoped(Adjustment, scope).filter(period__lt=period).aggregate(first=Min("period"))["first"],
    ]
    found = [d for d in starts if d is not None]
    if not found:
        return None
    closed = set(scoped(BillingMonth, scope).filter(period__lt=period, closed_at__isnull=False)
                 .values_list("period", flat=True))
    month = month_start(min(found))
    while month < period:
        if month not in closed:
            return month
        month = month_end(month)
    return None


def billing_month_close(*, scope: Scope, period: date, now: datetime, accept_estimates: bool = False) -> CloseResult:
    """Finalize every statement of the provider's month. Idempotent; refuses a month that has not ended, a month
    while an earlier one is open, and (unless `accept_estimates`) a month with a usage-based line whose coverage is
    below its contract's threshold, naming each customer, line and coverage."""
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
        earlier = billing_month_first_open(scope, period)
        if earlier is not None:
            raise ValidationError({"period": (
                f"{earlier:%Y-%m} is still open and has billable activity: close {earlier:%Y-%m} first, then "
                f"{period:%Y-%m} (months close in order).")})
        # In name order: statement ids then follow the bookkeeper's order, and exports read them by id.
        ids = list(scoped(Customer, scope).order_by("name", "pk").values_list("pk", flat=True))
        count = net = 0
        short: list[str] = []
        for chunk in _chunks(ids, CHUNK):
            datas = list(statements_compute(scope=scope, period=period, period_end=end, customer_ids=chunk))
            short += [f"{d.customer_name}: {line} at {pct}% coverage" for d in datas for line, pct in d.short_coverage]
            if short and not accept_estimates:
                continue  # keep counting every short line for the refusal; nothing is written
            _persist(month, datas, now)
            count += len(datas)
            net += sum(d.customer_net_sats for d in datas)
        if short and not accept_estimates:
            raise ValidationError({"accept_estimates": (
                f"{period:%Y-%m} has lines priced with missing data (the contract's fallback): " + "; ".join(short)
                + ". Check the data health page, then confirm the estimates to close.")})
        if connection.vendor == "postgresql" and count:
            # Fresh statistics for the rows just written, so the export that often follows plans well.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE billing_statement, billing_statementline, billing_statementfee")
        month.closed_at = now
        month.statement_count = count
        month.save(update_fields=["closed_at", "statement_count"])
        audit_record(scope=scope, action="billing_month.close", target=month, before={"closed_at": None},
                     after={"closed_at": now, "statements": count, "customer_net_sats": net,
                            "estimates_accepted": short})
    return CloseResult(period, count, False, net)
