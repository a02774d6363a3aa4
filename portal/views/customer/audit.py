"""A customer admin's audit log: the entries about their own customer (staff narrowed to the customer see the same)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from portal.views.access_common import scope_or_404
from portal.views.staff.audit import _render_log
from tenants import selectors
from tenants.access import Capability, ScopeKind


@login_required
def customer_audit_log(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug, customer_slug=customer_slug)
    if scope.kind == ScopeKind.CUSTOMER:
        scope.require(Capability.MANAGE_CUSTOMER_USERS)  # the customer's admins, not its viewers
    return _render_log(request, scope, "portal/customer/audit_log.html",
                       {"customer": selectors.customer_get(scope=scope)})
