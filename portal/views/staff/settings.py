"""The provider's settings in the staff console: whether customers may change their payout destination.

Owners and admins change it; other staff read it (so an operator knows why a customer cannot change it).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from portal.views.access_common import scope_or_404
from tenants import selectors
from tenants.access import Capability
from tenants.services.provider_settings import provider_payout_policy_set


@login_required
def provider_settings(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    if request.method == "POST":
        allowed = request.POST.get("customers_may_change_payout") == "on"
        provider_payout_policy_set(scope=scope, customers_may_change_payout=allowed)  # 403 below owner/admin
        messages.success(request, "Saved: customer admins may now change their payout destination." if allowed
                         else "Saved: only your staff change payout destinations now.")
        return redirect("staff:settings", provider_slug=provider_slug)
    return render(request, "portal/staff/settings.html", {
        "scope": scope, "provider": selectors.provider_get(scope=scope),
        "can_edit": scope.can(Capability.MANAGE_CREDENTIALS),
    })
