"""The hashrate chart card both the staff fleet console and the customer dashboard show (one partial,
`portal/_hashrate_chart.html`), and its context: the chart for the scope, the ranges, the resolutions, and the two
URLs its controls need (the whole page for a plain link, the card alone for htmx)."""

from __future__ import annotations

from django.http import HttpRequest

from mining.selectors import charts
from tenants.access import Scope


def hashrate_chart_context(request: HttpRequest, scope: Scope, *, page_url: str, fragment_url: str, title: str,
                           data_id: str, account_ids: list[int] | None = None, per_customer: bool = True) -> dict:
    """Per customer (staff: a line each; a customer: its own line), in the range and resolution asked for; a share
    link passes its accounts and one total line."""
    choice = charts.chart_choice(range_key=request.GET.get("range"), interval=request.GET.get("interval"))
    return {
        "chart": charts.account_hashrate_chart(scope=scope, choice=choice, account_ids=account_ids,
                                               per_customer=per_customer),
        "ranges": charts.RANGE_LABELS,
        "allowed_intervals": charts.ALLOWED_INTERVALS[choice.range_key],
        "chart_page_url": page_url,
        "chart_fragment_url": fragment_url,
        "chart_title": title,
        "chart_data_id": data_id,
    }
