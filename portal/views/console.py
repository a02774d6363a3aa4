"""Signed-in landing pages: the scopes a user holds, a provider's customers, one customer's summary.

Thin views: resolve the scope with tenants.access, read through selectors, render.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from mining import selectors as mining_selectors
from mining.selectors_sync import with_sync_health
from tenants import selectors
from tenants.access import Scope, scope_for_user, scopes_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scopes = scopes_for_user(request.user)
    entries = selectors.scope_entries_for_user(scopes=scopes)
    if len(entries) == 1:
        return redirect(entries[0]["url"])
    return render(request, "portal/home.html", {"entries": entries})


def _fleet_context(scope: Scope) -> dict:
    """What both the staff and the customer page show: the scope's accounts and their totals."""
    accounts = with_sync_health(mining_selectors.mining_account_list(scope=scope), now=timezone.now())
    return {
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        "accounts": accounts,
        "summary": mining_selectors.fleet_summary(scope=scope, accounts=accounts),
    }


@login_required
def provider_home(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_for_user(request.user, provider_slug=provider_slug)
    context = {**_fleet_context(scope), "customers": selectors.customer_list(scope=scope)}
    return render(request, "portal/provider_home.html", context)


@login_required
def customer_home(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    scope = scope_for_user(request.user, provider_slug=provider_slug, customer_slug=customer_slug)
    context = {
        **_fleet_context(scope),
        "customer": selectors.customer_get(scope=scope),
        "rewards": mining_selectors.reward_list(scope=scope),
    }
    return render(request, "portal/customer_home.html", context)
