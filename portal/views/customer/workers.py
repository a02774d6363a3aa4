"""Workers: a sortable, filterable table (`_workers_rows.html`, also served alone for htmx) and one worker's chart."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from mining.models import MiningAccount, Worker
from mining.selectors import charts
from mining.selectors import labels as label_selectors
from mining.selectors import workers as worker_selectors
from portal.views.customer.common import customer_context, int_or_none, page_of, unnamed_offline_rows
from tenants.access import get_in_scope, scoped


def _table_context(request: HttpRequest, scope) -> dict:
    params = {
        "q": request.GET.get("q", "").strip()[:100],
        "status": request.GET.get("status", ""),
        "account": int_or_none(request.GET.get("account")),
        "sort": request.GET.get("sort", "name"),
        "label": int_or_none(request.GET.get("label")),
    }
    anchor = worker_selectors.worker_hashrate_anchor(scope=scope)
    qs = worker_selectors.worker_list(scope=scope, search=params["q"], status=params["status"],
                                      account_id=params["account"], sort=params["sort"], label_id=params["label"])
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sort", None)
    # Each row links to workers/<pk>/: the prefix is reversed once, not once per row (a tenth of the page's time).
    workers_url = reverse("customer:workers", kwargs=request.resolver_match.kwargs)
    return {"params": params, "page": page_of(qs, request), "anchor_at": anchor, "workers_url": workers_url,
            "statuses": Worker.Status.choices,
            "query": query.urlencode(), "sorts": worker_selectors.WORKER_SORTS,
            "counts": worker_selectors.worker_state_counts(scope=scope),
            "unnamed": unnamed_offline_rows(scope, params, account_id=params["account"])}


@login_required
def workers(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    ctx.update(_table_context(request, ctx["scope"]))
    ctx["accounts"] = scoped(MiningAccount, ctx["scope"]).order_by("name").only("pk", "name")
    ctx["labels"] = label_selectors.label_choices(scope=ctx["scope"])
    return render(request, "portal/customer/workers.html", ctx)


@login_required
def workers_rows(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    ctx.update(_table_context(request, ctx["scope"]))
    return render(request, "portal/customer/_workers_rows.html", ctx)


@login_required
def worker_detail(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope = ctx["scope"]
    worker = get_in_scope(Worker.objects.select_related("account"), scope, pk=pk)
    choice = charts.chart_choice(range_key=request.GET.get("range") or "7d", interval="1h")
    ctx.update({
        "worker": worker,
        "chart": charts.worker_hashrate_chart(scope=scope, worker_id=worker.pk, choice=choice),
        "ranges": {k: v for k, v in charts.RANGE_LABELS.items() if k in ("6h", "24h", "7d", "30d")},
    })
    return render(request, "portal/customer/worker_detail.html", ctx)
