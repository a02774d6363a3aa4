"""Alerts for staff: open, unacknowledged or all (`_alert_rows.html` is also served alone), and acknowledge."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from mining.models import Alert
from mining.selectors import alerts as alert_selectors
from mining.selectors import labels as label_selectors
from mining.services.operations import alert_acknowledge
from portal.views.access_common import scope_or_404
from portal.views.actions import post_action
from portal.views.customer.common import int_or_none, page_of
from tenants import selectors
from tenants.access import get_in_scope

STATES = {"open": "Open", "unacknowledged": "Open, nobody on it", "all": "All, with cleared ones"}


def _context(request: HttpRequest, provider_slug: str) -> dict:
    scope = scope_or_404(request, provider_slug=provider_slug)
    state = request.GET.get("state") if request.GET.get("state") in STATES else "open"
    label_id = int_or_none(request.GET.get("label"))
    return {
        "label_id": label_id,
        "labels": label_selectors.label_choices(scope=scope),
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        "state": state,
        "states": STATES,
        "page": page_of(alert_selectors.alert_list(scope=scope, state=state, label_id=label_id), request, per_page=50),
    }


@login_required
def alerts(request: HttpRequest, provider_slug: str) -> HttpResponse:
    return render(request, "portal/staff/alerts.html", _context(request, provider_slug))


@login_required
def alert_rows(request: HttpRequest, provider_slug: str) -> HttpResponse:
    return render(request, "portal/staff/_alert_rows.html", _context(request, provider_slug))


@login_required
def alert_ack(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(Alert, scope, pk=pk)  # outsiders get 404 before they learn which methods the route takes

    def acknowledge() -> str:
        return f"Acknowledged: {alert_acknowledge(scope=scope, alert_id=pk, now=timezone.now()).message}"

    return post_action(request, acknowledge, back=reverse("staff:alerts", args=[provider_slug]))
