"""Collections in the staff console: the provider's policy for unpaid invoices and every step taken so far.

Setting the policy is a plain, repeatable write (the same values twice change nothing), so it needs no once-only
key; the service validates field by field and audits. Read-only staff see the policy and the steps, not the form.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from billing.selectors.collections import collection_steps_recent
from billing.services.collections import (
    DAYS_WORDS,
    PolicyInput,
    collection_days_parse,
    collection_policy_get,
    collection_policy_set,
)
from portal.views.access_common import scope_or_404
from portal.views.staff.billing_setup import base_ctx
from tenants.access import Capability


class CollectionPolicyForm(forms.Form):
    reminder_days_before_due = forms.IntegerField(label="Remind this many days before the due date (0: never)",
                                                  min_value=0, max_value=60)
    reminder_days_after_due = forms.CharField(label="Remind on these days after the due date", required=False,
                                              max_length=60, help_text="Whole days, separated by commas: 1,7,14.")
    late_fee_pct = forms.DecimalField(label="Late fee, % of the amount due (0: none)", min_value=0, max_value=50,
                                      decimal_places=2)
    late_fee_after_days = forms.IntegerField(label="Charge it this many days after the due date", min_value=1,
                                             max_value=365)
    delinquency_enabled = forms.BooleanField(
        label="Pay a long-overdue customer's rewards to our main balance until settled", required=False)
    delinquency_after_days = forms.IntegerField(label="Days overdue before the customer is warned", min_value=1,
                                                max_value=365)
    delinquency_notice_days = forms.IntegerField(label="Days of notice before payouts are switched", min_value=1,
                                                 max_value=60)

    def clean_reminder_days_after_due(self) -> str:
        value = self.cleaned_data["reminder_days_after_due"]
        try:
            collection_days_parse(value)
        except ValueError:
            raise forms.ValidationError(DAYS_WORDS) from None
        return value


FIELD_OF = {"late_fee_bps": "late_fee_pct"}


@login_required
def collections_page(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    policy = collection_policy_get(scope=scope)
    initial = {name: getattr(policy, name) for name in PolicyInput.__dataclass_fields__ if name != "late_fee_bps"}
    initial["late_fee_pct"] = Decimal(policy.late_fee_bps) / 100  # exact: 150 bps → 1.5, never a float
    form = CollectionPolicyForm(request.POST or None, initial=initial)
    if request.method == "POST":
        scope.require(Capability.MANAGE_BILLING)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["late_fee_bps"] = int(data.pop("late_fee_pct") * 100)
            try:
                collection_policy_set(scope=scope, data=PolicyInput(**data), now=timezone.now())
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(FIELD_OF.get(field, field), errors)
            else:
                messages.success(request, "Collection policy saved.")
                return redirect(request.path)
    steps = collection_steps_recent(scope=scope)
    return render(request, "portal/staff/billing/collections.html",
                  {**base_ctx(scope), "form": form, "policy": policy, "steps": steps})
