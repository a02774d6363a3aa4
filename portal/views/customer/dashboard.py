"""The customer's dashboard: hashrate chart, reject rate, workers by status, the month to date (the statement's
own figures, `_month_to_date.html`, the same partial the statements page shows), the last days' rewards.

The chart is `portal/_hashrate_chart.html`, also served alone (`customer:hashrate`) for htmx when the range changes.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from billing.selectors.statements import statement_month_to_date
from mining.selectors import rewards as reward_selectors
from mining.selectors import workers as worker_selectors
from portal.views.customer.common import customer_context
from portal.views.hashrate_chart import hashrate_chart_context

RECENT_REWARDS = 7


def _chart_context(request: HttpRequest, ctx: dict) -> dict:
    args = [ctx["provider"].slug, ctx["customer"].slug]
    return hashrate_chart_context(request, ctx["scope"], page_url=reverse("customer:dashboard", args=args),
                                  fragment_url=reverse("customer:hashrate", args=args), title="Hashrate",
                                  data_id="hashrate-data")


@login_required
def dashboard(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope = ctx["scope"]
    ctx.update(_chart_context(request, ctx))
    ctx.update({
        "counts": worker_selectors.worker_state_counts(scope=scope),
        "mtd": statement_month_to_date(scope=scope, customer_id=ctx["customer"].pk, today=timezone.now().date()),
        "rewards": reward_selectors.reward_list_for_page(scope=scope)[:RECENT_REWARDS],
    })
    return render(request, "portal/customer/dashboard.html", ctx)


@login_required
def hashrate(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    ctx.update(_chart_context(request, ctx))
    return render(request, "portal/_hashrate_chart.html", ctx)
