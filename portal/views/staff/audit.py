"""The audit log pages: staff read their provider's log, a customer admin the entries about their customer.

Read-only by construction: there is no view, form or admin action that edits or deletes an entry.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render

from portal.access_forms import AuditFilterForm
from portal.views.access_common import scope_or_404
from tenants import access_selectors, selectors
from tenants.access import Capability, Scope

PAGE_SIZE = 50


def _render_log(request: HttpRequest, scope: Scope, template: str, extra: dict) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = access_selectors.audit_entry_list(scope=scope, **{k: v for k, v in filters.items() if v})
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, template, {
        "scope": scope, "form": form, "page": page, "query": query.urlencode(),
        "object_types": access_selectors.audit_object_types(scope=scope),
        "provider": selectors.provider_get(scope=scope), **extra,
    }, status=400 if form.errors else 200)


@login_required
def staff_audit_log(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    scope.require(Capability.VIEW)
    return _render_log(request, scope, "portal/staff/audit_log.html", {})
