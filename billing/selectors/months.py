"""Reads of billing months: whether one is closed, the statements pages' overview of months and one month's rows.

Each costs a fixed number of queries whatever the number of customers (a page of a draft month is computed for the
customers on that page only); everything goes through tenants.access.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Min, QuerySet, Sum

from billing.models import BillingMonth, ContractVersion, Statement
from billing.periods import month_end, month_start
from billing.selectors.data_health import data_health
from billing.statements import StatementData, statements_compute
from mining.models import Reward
from tenants.access import Scope, scoped
from tenants.models import Customer


def billing_month_is_closed(*, scope: Scope, period: date) -> bool:
    """Whether the provider closed the month (a customer scope may ask: it decides what its statement shows)."""
    return scoped(BillingMonth, scope.provider_wide_reads()).filter(period=period, closed_at__isnull=False).exists()


def billing_month_closed_from(provider_id: int, day: date) -> bool:
    """Whether the provider closed the month of `day` or a later one; registered as mining's account-move rule
    (`mining.account_moves`), which holds the provider's id of an account already read in the caller's scope."""
    return BillingMonth.objects.filter(provider_id=provider_id, period__gte=day.replace(day=1),
                                       closed_at__isnull=False).exists()


MONTH_TOTALS = ("gross_sats", "pool_fee_sats", "net_sats", "provider_share_sats", "customer_share_sats",
                "hosting_fee_sats", "sla_credit_sats", "adjustments_sats", "customer_net_sats")


@dataclass(frozen=True)
class MonthRow:
    period: date
    state: str  # "closed", "open" (the running month: month to date) or "over" (ended, not closed yet)
    closed_at: datetime | None = None
    statement_count: int = 0
    fingerprint: str = ""  # SHA-256 over the month's statement content hashes, in statement order

    @property
    def is_closed(self) -> bool:
        return self.state == "closed"


def month_fingerprint(hashes: list[str]) -> str:
    """One hash a bookkeeper can compare for a whole closed month: SHA-256 of its statements' hashes, joined."""
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest() if hashes else ""


def billing_months_overview(*, scope: Scope, today: date) -> list[MonthRow]:
    """Every month from the first reward or contract to the running one, newest first (three queries)."""
    first_reward = scoped(Reward, scope).aggregate(d=Min("date"))["d"]
    first_contract = scoped(ContractVersion, scope).aggregate(d=Min("effective_from"))["d"]
    current = month_start(today)
    starts = [d for d in (first_reward, first_contract) if d is not None]
    first = month_start(min(starts)) if starts else current
    months = {m.period: m for m in scoped(BillingMonth, scope.provider_wide_reads()).filter(closed_at__isnull=False)}
    hashes: dict[date, list[str]] = {}
    for period, content_hash in scoped(Statement, scope).order_by("period", "pk").values_list(
            "period", "content_hash"):
        hashes.setdefault(period, []).append(content_hash)
    rows: list[MonthRow] = []
    period = min([first, *months]) if months else first
    while period <= current:
        closed = months.get(period)
        if closed is not None:
            rows.append(MonthRow(period, "closed", closed.closed_at, closed.statement_count,
                                 month_fingerprint(hashes.get(period, []))))
        else:
            rows.append(MonthRow(period, "open" if period == current else "over"))
        period = month_end(period)
    return rows[::-1]


def month_statements_closed(*, scope: Scope, period: date) -> QuerySet[Statement]:
    """The closed statements of the month, in the bookkeeper's order (customer name)."""
    return (scoped(Statement, scope).filter(period=period).select_related("customer")
            .order_by("customer_name", "pk"))


def month_totals(*, scope: Scope, period: date) -> dict[str, int]:
    """The closed month's totals over every customer (one aggregate query)."""
    sums = scoped(Statement, scope).filter(period=period).aggregate(**{f: Sum(f) for f in MONTH_TOTALS})
    return {f: v or 0 for f, v in sums.items()}


def month_customers(*, scope: Scope) -> QuerySet[Customer]:
    """The customers a draft month is computed for, paged by the view (name order, as the close writes them)."""
    return scoped(Customer, scope).order_by("name", "pk")


def month_statements_draft(*, scope: Scope, period: date, today: date, customers: list[Customer]) -> list[
        StatementData]:
    """Month-to-date (or not yet closed) statements of `customers`, the calculation the close will freeze."""
    end = min(month_end(period), max(today, period))
    by_id = {c.pk: c for c in customers}
    datas = list(statements_compute(scope=scope, period=period, period_end=end, customer_ids=list(by_id)))
    for data in datas:
        data.customer = by_id[data.customer_id]  # for the row's link (its slug), no query per row
    return datas


def month_accounts_short(*, scope: Scope, period: date, today: date) -> list[tuple[str, str]]:
    """Every account of the scope whose hashrate coverage in `period` is below full (name, percent), by the same
    per-day rule billing prices with; the month page flags them all before anyone closes the month."""
    return [(h.account.name, h.months[0].coverage_pct) for h in data_health(scope=scope, periods=[period], today=today)
            if h.months[0].is_short]
