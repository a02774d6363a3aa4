"""The staff fleet overview: hashrate per customer, workers by status, rewards, sync health with "sync now", alerts.

The chart is `portal/_hashrate_chart.html`, also served alone (`staff:fleet_hashrate`) for htmx when the range changes.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from mining.models import MiningAccount
from mining.selectors import alerts as alert_selectors
from mining.selectors import rewards as reward_selectors
from mining.selectors import sync as sync_selectors
from mining.selectors import workers as worker_selectors
from mining.services.operations import mining_account_sync_request
from portal.views.access_common import scope_or_404
from portal.views.actions import post_action
from portal.views.hashrate_chart import hashrate_chart_context
from tenants import selectors
from tenants.access import Capability, Scope, get_in_scope

FLEET_ALERTS = 10


def _chart_context(request: HttpRequest, scope: Scope, provider_slug: str) -> dict:
    return hashrate_chart_context(request, scope, page_url=reverse("staff:fleet", args=[provider_slug]),
                                  fragment_url=reverse("staff:fleet_hashrate", args=[provider_slug]),
                                  title="Hashrate per customer", data_id="fleet-data")


@login_required
def fleet(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    now = timezone.now()
    ctx = {
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        **_chart_context(request, scope, provider_slug),
        "counts": worker_selectors.worker_state_counts(scope=scope),
        "totals": reward_selectors.reward_totals(scope=scope, today=now.date()),
        "problems": sync_selectors.sync_problem_list(scope=scope, now=now),
        "alerts": alert_selectors.alert_list(scope=scope)[:FLEET_ALERTS],
        "open_alerts": alert_selectors.open_alert_count(scope=scope),
        "can_onboard": scope.can(Capability.MANAGE_ACCOUNTS),
    }
    return render(request, "portal/staff/fleet.html", ctx)


@login_required
def fleet_hashrate(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    ctx = {"scope": scope, "provider": selectors.provider_get(scope=scope),
           **_chart_context(request, scope, provider_slug)}
    return render(request, "portal/_hashrate_chart.html", ctx)


@login_required
def account_sync(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(MiningAccount, scope, pk=pk)  # outsiders get 404 before they learn which methods the route takes

    def sync() -> str:
        account = mining_account_sync_request(scope=scope, account_id=pk)
        return f"A sync of {account.name} is queued; this page shows the result once it ran."

    return post_action(request, sync, back=reverse("staff:fleet", args=[provider_slug]))
