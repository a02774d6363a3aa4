"""The staff fleet overview: hashrate per customer, workers by status, rewards, sync health with "sync now", alerts.

The chart is `_fleet_hashrate.html`, also served alone (`staff:fleet_hashrate`) for htmx when the range changes.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone

from mining import selectors_charts as charts
from mining import selectors_portal as portal_selectors
from mining import selectors_workers
from mining.models import MiningAccount
from mining.services.operations import mining_account_sync_request
from portal.views.access_common import scope_or_404
from tenants import selectors
from tenants.access import Capability, get_in_scope

FLEET_ALERTS = 10


def _chart_context(request: HttpRequest, scope) -> dict:
    choice = charts.chart_choice(range_key=request.GET.get("range"), interval=request.GET.get("interval"))
    return {
        "chart": charts.account_hashrate_chart(scope=scope, choice=choice, per_customer=True),
        "ranges": charts.RANGE_LABELS,
        "allowed_intervals": charts.ALLOWED_INTERVALS[choice.range_key],
    }


@login_required
def fleet(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    now = timezone.now()
    ctx = {
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        **_chart_context(request, scope),
        "counts": selectors_workers.worker_state_counts(scope=scope),
        "totals": portal_selectors.reward_totals(scope=scope, today=now.date()),
        "problems": portal_selectors.sync_problem_list(scope=scope, now=now),
        "alerts": portal_selectors.alert_list(scope=scope)[:FLEET_ALERTS],
        "open_alerts": portal_selectors.open_alert_count(scope=scope),
        "can_onboard": scope.can(Capability.MANAGE_ACCOUNTS),
    }
    return render(request, "portal/staff/fleet.html", ctx)


@login_required
def fleet_hashrate(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    ctx = {"scope": scope, "provider": selectors.provider_get(scope=scope), **_chart_context(request, scope)}
    return render(request, "portal/staff/_fleet_hashrate.html", ctx)


@login_required
def account_sync(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(MiningAccount, scope, pk=pk)  # outsiders get 404 before they learn which methods the route takes
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        account = mining_account_sync_request(scope=scope, account_id=pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"A sync of {account.name} is queued; this page shows the result once it ran.")
    return redirect("staff:fleet", provider_slug=provider_slug)
