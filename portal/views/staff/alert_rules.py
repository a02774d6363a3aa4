"""Alert rules in the staff console: the list, a form to add one, and switching one on or off."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from mining.models import AlertKind, AlertRule, MiningAccount
from mining.services.alert_rules import alert_rule_create, alert_rule_set_enabled
from portal.access_forms import form_errors_from
from portal.views.access_common import scope_or_404
from portal.views.actions import post_action
from tenants import selectors
from tenants.access import Capability, get_in_scope, scoped
from tenants.models import Customer

TH = Decimal(10) ** 12


class AlertRuleForm(forms.Form):
    kind = forms.ChoiceField(choices=[c for c in AlertKind.choices if c[0] != AlertKind.EMAIL_UNDELIVERED],
                             label="Watch for")
    customer_id = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Customer")
    account_id = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Account")
    floor_ths = forms.DecimalField(required=False, min_value=Decimal("0.000001"), decimal_places=6,
                                   label="Floor (TH/s)", help_text="For “hashrate under a floor”.")
    drop_percent = forms.DecimalField(required=False, min_value=Decimal("0.01"), max_value=Decimal(100),
                                      decimal_places=2, label="Under this % of the 24 h mean",
                                      help_text="For “hashrate under its 24-hour mean”, e.g. 70.")
    duration_minutes = forms.IntegerField(initial=15, min_value=1, max_value=1440, label="For at least (minutes)")
    notify_customer = forms.BooleanField(required=False, initial=True, label="E-mail the customer too")

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_id"].choices = [("", "all customers")] + list(
            scoped(Customer, scope).order_by("name").values_list("pk", "name"))
        self.fields["account_id"].choices = [("", "all their accounts")] + list(
            scoped(MiningAccount, scope).order_by("name").values_list("pk", "name"))


def _ctx(request: HttpRequest, scope, form: AlertRuleForm) -> dict:
    rules = scoped(AlertRule, scope).select_related("customer", "account").order_by("kind", "pk")
    return {"scope": scope, "provider": selectors.provider_get(scope=scope), "rules": rules, "form": form,
            "can_manage": scope.can(Capability.MANAGE_ACCOUNTS)}


@login_required
def alert_rules(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    form = AlertRuleForm(request.POST or None, scope=scope)
    if request.method == "POST":
        scope.require(Capability.MANAGE_ACCOUNTS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                alert_rule_create(
                    scope=scope, kind=data["kind"], customer_id=data["customer_id"], account_id=data["account_id"],
                    floor_hs=data["floor_ths"] * TH if data["floor_ths"] is not None else None,
                    drop_bps=int(data["drop_percent"] * 100) if data["drop_percent"] is not None else None,
                    duration_minutes=data["duration_minutes"], notify_customer=data["notify_customer"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    exc = ValidationError({{"floor_hs": "floor_ths", "drop_bps": "drop_percent"}.get(k, k): v
                                           for k, v in exc.error_dict.items()})
                form_errors_from(form, exc)
            else:
                messages.success(request, "The rule is on; the next sync evaluates it.")
                return redirect("staff:alert_rules", provider_slug=provider_slug)
    return render(request, "portal/staff/alert_rules.html", _ctx(request, scope, form))


@login_required
def alert_rule_toggle(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(AlertRule, scope, pk=pk)

    def toggle() -> str:
        rule = alert_rule_set_enabled(scope=scope, rule_id=pk, enabled=request.POST.get("enabled") == "1")
        return f"{rule.get_kind_display()}: {'on' if rule.is_enabled else 'off'}."

    return post_action(request, toggle, back=reverse("staff:alert_rules", args=[provider_slug]))
