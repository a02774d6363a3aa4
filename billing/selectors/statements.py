"""Reads of statements, always through tenants.access (a customer sees only its own): the frozen statement of a
closed month, the one computed the same way for an open month, and the API's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from billing.models import Statement
from billing.periods import month_end, month_start
from billing.selectors.months import billing_month_is_closed
from billing.snapshot import statement_load
from billing.statements import StatementData, statements_compute
from tenants.access import Scope, get_in_scope, scoped
from tenants.models import Customer


def statement_list(*, scope: Scope, period: date | None = None) -> QuerySet[Statement]:
    """Closed statements in the scope (a customer scope: its own), newest month first."""
    qs = scoped(Statement, scope).order_by("-period", "customer_name")
    return qs.filter(period=period) if period else qs


def statement_get(*, scope: Scope, customer_id: int, period: date, today: date) -> StatementData | None:
    """One customer's statement for a month: the frozen one once closed, else computed the same way.

    For the running month it is a month-to-date statement over the completed UTC days (up to `today`, exclusive).
    None when there is nothing to bill (no contract, rewards or adjustments).
    """
    customer = get_in_scope(Customer, scope, pk=customer_id)
    period = month_start(period)
    closed = scoped(Statement, scope).filter(customer=customer, period=period).first()
    if closed is not None:
        return statement_load(closed)
    if billing_month_is_closed(scope=scope, period=period):
        return None
    end = min(month_end(period), max(today, period))
    return next(iter(statements_compute(scope=scope, period=period, period_end=end, customer_ids=[customer.pk])),
                None)


@dataclass(frozen=True)
class MonthToDate:
    """The running month's statement so far, or why there is none (nothing billed yet, or no BTC price recorded
    for the month's fiat fees)."""

    period: date
    statement: StatementData | None
    price_missing: bool = False


def statement_month_to_date(*, scope: Scope, customer_id: int, today: date) -> MonthToDate:
    """The one "this month" figure a customer sees: the statement's month to date, whichever page shows it.

    Why one selector: the dashboard once showed the pool's net (pending and today included) beside a statement
    that bills completed days only, and the two disagreed with no word on why (issue 16)."""
    period = today.replace(day=1)
    try:
        data = statement_get(scope=scope, customer_id=customer_id, period=period, today=today)
    except ValidationError:  # the provider has not recorded the month's BTC price for fiat fees yet
        return MonthToDate(period, None, price_missing=True)
    return MonthToDate(period, data)


def statement_list_api(*, scope: Scope) -> QuerySet[Statement]:
    """Closed statements in the scope (a customer scope: its own)."""
    return scoped(Statement, scope)
