"""The provider's settings in the staff console: whether customers may change their payout destination, and how
long a payout change is held before it is sent to the pool.

Owners and admins change them; other staff read them (so an operator knows why a customer cannot change it).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from portal.access_forms import form_errors_from
from portal.views.access_common import scope_or_404
from tenants import selectors
from tenants.access import Capability
from tenants.models import PAYOUT_HOLD_HOURS_MAX, PAYOUT_HOLD_HOURS_MIN
from tenants.services.provider_settings import provider_payout_hold_set, provider_payout_policy_set


class PayoutSettingsForm(forms.Form):
    customers_may_change_payout = forms.BooleanField(
        required=False, label="Customers' admins may change their payout destination")
    payout_hold_hours = forms.IntegerField(
        label="Hold a payout change for (hours)", min_value=PAYOUT_HOLD_HOURS_MIN, max_value=PAYOUT_HOLD_HOURS_MAX,
        help_text=f"{PAYOUT_HOLD_HOURS_MIN}–{PAYOUT_HOLD_HOURS_MAX} hours. A confirmed change waits this long before "
                  "it is sent to the pool; until then anyone told about it can cancel it.",
        error_messages={"min_value": "Give a hold time from 0 to 72 hours.",
                        "max_value": "Give a hold time from 0 to 72 hours.",
                        "invalid": "Give a whole number of hours from 0 to 72.",
                        "required": "Give a hold time from 0 to 72 hours."})


@login_required
def provider_settings(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    provider = selectors.provider_get(scope=scope)
    form = PayoutSettingsForm(request.POST or None, initial={
        "customers_may_change_payout": provider.customers_may_change_payout,
        "payout_hold_hours": provider.payout_hold_hours})
    if request.method == "POST":
        scope.require(Capability.MANAGE_CREDENTIALS)  # 403 below owner/admin (the services check again)
        if "payout_hold_hours" not in request.POST:  # the switch alone (an older form): keep the hold time
            form = PayoutSettingsForm({**request.POST.dict(), "payout_hold_hours": provider.payout_hold_hours})
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    provider_payout_hold_set(scope=scope, payout_hold_hours=data["payout_hold_hours"])
                    provider_payout_policy_set(scope=scope,
                                               customers_may_change_payout=data["customers_may_change_payout"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                allowed = data["customers_may_change_payout"]
                messages.success(request, ("Saved: customer admins may now change their payout destination." if allowed
                                           else "Saved: only your staff change payout destinations now.")
                                 + f" A payout change is held for {data['payout_hold_hours']} h.")
                return redirect("staff:settings", provider_slug=provider_slug)
    return settings_page(request, scope, form=form, status=400 if form.errors else 200)


def settings_page(request: HttpRequest, scope, *, form: PayoutSettingsForm | None = None, brand: dict | None = None,
                  status: int = 200) -> HttpResponse:
    """The whole Settings page; the Brand section's views show it again with their refused form."""
    from portal.views.staff.brand_settings import brand_section

    provider = selectors.provider_get(scope=scope)
    form = form or PayoutSettingsForm(initial={"customers_may_change_payout": provider.customers_may_change_payout,
                                               "payout_hold_hours": provider.payout_hold_hours})
    return render(request, "portal/staff/settings.html", {
        "scope": scope, "provider": provider, "form": form,
        "can_edit": scope.can(Capability.MANAGE_CREDENTIALS),
        **(brand or brand_section(scope, provider)),
    }, status=status)
