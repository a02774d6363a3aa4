"""Signed-in landing pages: the scopes a user holds, and the older overviews that now lead to the one page each.

The older `/p/<provider>/` and `/c/<provider>/<customer>/` overviews counted workers their own way and disagreed
with the fleet console and the dashboard (issue 16); they are now redirects, after the same access check (an
outsider still gets the 404 it got before).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tenants import selectors
from tenants.access import scope_for_user, scopes_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scopes = scopes_for_user(request.user)
    entries = selectors.scope_entries_for_user(scopes=scopes)
    if len(entries) == 1:
        return redirect(entries[0]["url"])
    return render(request, "portal/home.html", {"entries": entries})


@login_required
def provider_home(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope_for_user(request.user, provider_slug=provider_slug)
    return redirect("staff:fleet", provider_slug=provider_slug)


@login_required
def customer_home(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    scope_for_user(request.user, provider_slug=provider_slug, customer_slug=customer_slug)
    return redirect("customer:dashboard", provider_slug=provider_slug, customer_slug=customer_slug)
