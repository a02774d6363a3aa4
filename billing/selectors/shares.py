"""The statements part of a share link (issue 21): per closed month, the billed lines of the shared accounts only.

Why not the statement itself: a statement covers every account of the customer, and a link may name only some of
them. The month's own lines, summed over the shared accounts, show what was billed for those accounts and nothing
about the others (the fees of the whole statement are not apportioned: they are left out, and the page says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Sum

from billing.models import LineKind, StatementLine
from tenants.access import Scope, scoped

SHARE_STATEMENT_MONTHS = 24


@dataclass(frozen=True)
class SharedMonth:
    period: date
    lines: int
    gross_sats: int
    pool_fee_sats: int
    net_sats: int
    customer_share_sats: int


def share_statement_months(*, reader: Scope, account_ids: list[int]) -> list[SharedMonth]:
    """Closed months, newest first, with the reward lines (late ones too) of the shared accounts. One query."""
    rows = (
        scoped(StatementLine, reader)
        .filter(account_id__in=account_ids, kind__in=[LineKind.REWARD, LineKind.LATE_REWARD])
        .values("statement__period")
        .annotate(n=Count("pk"), gross=Sum("gross_sats"), fee=Sum("pool_fee_sats"), net=Sum("net_sats"),
                  customer=Sum("customer_share_sats"))
        .order_by("-statement__period")[:SHARE_STATEMENT_MONTHS]
    )
    return [SharedMonth(r["statement__period"], r["n"], r["gross"] or 0, r["fee"] or 0, r["net"] or 0,
                        r["customer"] or 0) for r in rows]
