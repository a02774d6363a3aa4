"""A customer's alerts (open incidents and history) and, for its admin, its own alert channels (issue 20)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mining.selectors import incidents as selectors_alerts
from portal.views import alert_channels_common as common
from portal.views.customer.common import customer_context
from tenants.access import Capability


def _ctx(request: HttpRequest, provider_slug: str, customer_slug: str) -> dict:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope = ctx["scope"]
    ctx.update(side="customer", customer_id=ctx["customer"].pk,
               can_manage=scope.can(Capability.MANAGE_CUSTOMER_USERS) or scope.can(Capability.MANAGE_ACCOUNTS))
    return ctx


@login_required
def alerts(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = _ctx(request, provider_slug, customer_slug)
    scope = ctx["scope"]
    return render(request, "portal/customer/alerts.html", {
        **ctx, "open": selectors_alerts.incident_list(scope=scope, state="open"),
        "history": selectors_alerts.incident_list(scope=scope, state="history", limit=50),
    })


@login_required
def alert_channels(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = _ctx(request, provider_slug, customer_slug)
    return common.channels_page(request, scope=ctx["scope"], ctx=ctx, url_ns="customer",
                                url_args=[provider_slug, customer_slug], template_extra={})


@login_required
def alert_channel(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
    ctx = _ctx(request, provider_slug, customer_slug)
    return common.channel_detail(request, scope=ctx["scope"], ctx=ctx, url_ns="customer",
                                 url_args=[provider_slug, customer_slug], pk=pk)


def _action(name: str):
    @login_required
    def view(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
        ctx = _ctx(request, provider_slug, customer_slug)
        return common.channel_action(request, scope=ctx["scope"], url_ns="customer",
                                     url_args=[provider_slug, customer_slug], pk=pk, action=name)
    view.__name__ = f"alert_channel_{name}"
    return view


alert_channel_test = _action("test")
alert_channel_delete = _action("delete")
alert_channel_resume = _action("resume")
