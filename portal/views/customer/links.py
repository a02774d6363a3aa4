"""Watcher links and payout destinations, read-only in this slice (creating and changing them come with the
pool-write services)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mining.models import MiningAccount, WatcherLink
from portal.views.customer.common import customer_context
from tenants.access import scoped

POOL_ACTIVE_LINKS_PER_ACCOUNT = 3


@login_required
def watcher_links(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope = ctx["scope"]
    links = scoped(WatcherLink, scope).filter(is_active=True).prefetch_related(
        # Scoped too: an account moved to another customer since the link was made is not named here.
        Prefetch("accounts", queryset=scoped(MiningAccount, scope).only("pk", "name"))
    ).order_by("-upstream_created_at", "pk")
    ctx.update({
        "links": links,
        "accounts": scoped(MiningAccount, scope).order_by("name"),
        "max_links": POOL_ACTIVE_LINKS_PER_ACCOUNT,
    })
    return render(request, "portal/customer/watcher_links.html", ctx)
