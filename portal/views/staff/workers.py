"""The provider's workers in the staff console: status, hashrate, account, customer, labels; search, filters,
pages of 100, and tagging the selected workers with a label (posted to `staff:worker_labels`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mining.models import Worker
from mining.selectors import labels as label_selectors
from mining.selectors import workers as worker_selectors
from portal.views.access_common import scope_or_404
from portal.views.customer.common import int_or_none, page_of, unnamed_offline_rows
from tenants import selectors
from tenants.access import Capability


@login_required
def workers(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    params = {"q": request.GET.get("q", "").strip()[:100], "status": request.GET.get("status", ""),
              "label": int_or_none(request.GET.get("label")), "sort": request.GET.get("sort", "name")}
    anchor = worker_selectors.worker_hashrate_anchor(scope=scope)
    qs = worker_selectors.worker_list(scope=scope, search=params["q"], status=params["status"],
                                      sort=params["sort"], label_id=params["label"])
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "scope": scope, "provider": selectors.provider_get(scope=scope), "params": params,
        "page": page_of(qs, request), "anchor_at": anchor, "statuses": Worker.Status.choices,
        "labels": label_selectors.label_choices(scope=scope), "query": query.urlencode(),
        "can_manage": scope.can(Capability.MANAGE_ACCOUNTS),
        "counts": worker_selectors.worker_state_counts(scope=scope),
        "unnamed": unnamed_offline_rows(scope, params),
    }
    return render(request, "portal/staff/workers.html", ctx)

