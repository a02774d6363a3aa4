"""Payout destination on the customer pages: shown to everyone; changed by the customer's admin where the provider
allows it (and by the provider's staff). The address check, the provider's permission and the e-mail are the
service's (mining.services.upstream_writes.payout_destination_set): this view only shapes the form."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from mining.models import MiningAccount, PayoutDestination
from mining.services.upstream_writes import CUSTOMER_PAYOUT_REFUSED, payout_destination_set
from mining.whitebit.errors import WhiteBitError
from portal.access_forms import form_errors_from
from portal.views.customer.common import customer_context
from tenants.access import Capability, ScopeKind, get_in_scope, scoped


class PayoutForm(forms.Form):
    account_id = forms.TypedChoiceField(coerce=int, label="Account")
    destination = forms.ChoiceField(choices=PayoutDestination.choices, widget=forms.RadioSelect, label="Pay to",
                                    initial=PayoutDestination.EXTERNAL_ADDRESS)
    address = forms.CharField(required=False, max_length=100, strip=True, label="Bitcoin address",
                              help_text="Starts with 1, 3 or bc1; only needed for an external address. Its checksum "
                                        "is checked before anything is sent.",
                              widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                            "autocapitalize": "off"}))

    def __init__(self, *args, accounts: list[MiningAccount], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_id"].choices = [(a.pk, a.name) for a in accounts]


@login_required
def payout(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope, provider = ctx["scope"], ctx["provider"]
    provider_allows = scope.kind != ScopeKind.CUSTOMER or provider.customers_may_change_payout
    can_change = scope.can(Capability.MANAGE_PAYOUT) and provider_allows
    accounts = list(scoped(MiningAccount, scope).filter(customer_id=ctx["customer"].pk).order_by("name"))
    form = PayoutForm(request.POST or None, accounts=accounts) if can_change else None
    if request.method == "POST":
        scope.require(Capability.MANAGE_PAYOUT)  # viewers: 403 (the service checks again, with the provider's rule)
        if not provider_allows:
            raise PermissionDenied(CUSTOMER_PAYOUT_REFUSED)
        # Another customer's account is not among the choices: 404 like any object outside the scope.
        get_in_scope(MiningAccount, scope, pk=request.POST.get("account_id") or 0)
        if form.is_valid():
            data = form.cleaned_data
            try:
                account = payout_destination_set(scope=scope, account_id=data["account_id"],
                                                 destination=data["destination"], address=data["address"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            except WhiteBitError as exc:
                form.add_error(None, f"{exc.user_message} Nothing was changed; try again.")
            else:
                messages.success(request, f"Saved: {account.name} is paid there from now on. Your provider's "
                                          "staff and your contacts were e-mailed about the change.")
                return redirect("customer:payout", provider_slug=provider_slug, customer_slug=customer_slug)
    ctx.update({"accounts": accounts, "form": form, "can_change": can_change, "provider_allows": provider_allows,
                "refused_words": CUSTOMER_PAYOUT_REFUSED})
    return render(request, "portal/customer/payout.html", ctx, status=400 if form and form.errors else 200)
