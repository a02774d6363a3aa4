"""The public share pages (issue 21): `/s/<token>/`, no sign-in, read-only, `noindex`, rate-limited.

A wrong, revoked or expired token is one 404; every answer carries `X-Robots-Tag: noindex` (the page also has the
meta tag), `Referrer-Policy: no-referrer` (the token is in the URL: it must not leak to another site through a
link) and `Cache-Control: no-store` (a revoked link must not live on in a cache).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from billing.selectors.shares import share_statement_months
from mining.models.shares import ShareLevel, ShareLink
from mining.selectors import shares as selectors_share
from mining.services.share_links import share_link_open, share_link_peek, share_reader_scope
from portal.views.hashrate_chart import hashrate_chart_context
from portal.views.share.ratelimit import share_rate_exceeded

ROBOTS = "noindex, nofollow, noarchive"


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = ROBOTS
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _refused(request: HttpRequest, retry_after: int = 0) -> HttpResponse:
    if retry_after:
        response = render(request, "portal/share/unavailable.html", {"too_many": True}, status=429)
        response["Retry-After"] = str(retry_after)
    else:
        response = render(request, "portal/share/unavailable.html", {"too_many": False}, status=404)
    return _private(response)


def _chart(request: HttpRequest, link: ShareLink, token: str, account_ids: list[int]) -> dict:
    return hashrate_chart_context(
        request, share_reader_scope(link), page_url=reverse("share:page", args=[token]),
        fragment_url=reverse("share:hashrate", args=[token]), title="Hashrate", data_id="share-hashrate",
        account_ids=account_ids, per_customer=False)


def share_page(request: HttpRequest, token: str) -> HttpResponse:
    retry = share_rate_exceeded(request)
    if retry:
        return _refused(request, retry)
    now = timezone.now()
    try:
        link = share_link_open(token=token, now=now)
    except Http404:
        return _refused(request)
    reader = share_reader_scope(link)
    accounts = selectors_share.share_accounts(reader=reader, link=link)
    ids = [a.pk for a in accounts]
    ctx = {"link": link, "accounts": accounts, "customer_name": link.customer.name,
           "provider_name": link.provider.name, "now": now,
           "shows_workers": link.shows(ShareLevel.WORKERS), "shows_rewards": link.shows(ShareLevel.REWARDS)}
    ctx.update(_chart(request, link, token, ids))
    if ctx["shows_workers"]:
        ctx["workers"] = selectors_share.share_workers(reader=reader, account_ids=ids)
    if ctx["shows_rewards"]:
        ctx["rewards"] = selectors_share.share_rewards(reader=reader, account_ids=ids)
        ctx["months"] = share_statement_months(reader=reader, account_ids=ids)
    return _private(render(request, "portal/share/page.html", ctx))


def share_hashrate(request: HttpRequest, token: str) -> HttpResponse:
    """The chart card alone, for htmx when the range changes (not counted as another view)."""
    retry = share_rate_exceeded(request)
    if retry:
        return _refused(request, retry)
    try:
        link = share_link_peek(token=token)
    except Http404:
        return _refused(request)
    ids = [a.pk for a in selectors_share.share_accounts(reader=share_reader_scope(link), link=link)]
    return _private(render(request, "portal/_hashrate_chart.html", _chart(request, link, token, ids)))
