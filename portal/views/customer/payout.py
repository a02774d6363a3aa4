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
    destination = forms.ChoiceField(choices=PayoutDestination.choices, widget=forms.RadioSelect, label="Pay to")
    address = forms.CharField(required=False, max_length=100, strip=True, label="Bitcoin address",
                              help_text="Starts with 1, 3 or bc1. Its checksum is checked before anything is sent.",
                              widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                            "autocapitalize": "off"}))


def _form(account: MiningAccount, data=None) -> PayoutForm:
    return PayoutForm(data, auto_id=f"id_{account.pk}_%s", initial={
        "destination": account.payout_destination or PayoutDestination.MAIN_BALANCE,
        "address": account.payout_address,
    })


@login_required
def payout(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope, provider = ctx["scope"], ctx["provider"]
    provider_allows = scope.kind != ScopeKind.CUSTOMER or provider.customers_may_change_payout
    can_change = scope.can(Capability.MANAGE_PAYOUT) and provider_allows
    posted: tuple[int, PayoutForm] | None = None
    if request.method == "POST":
        scope.require(Capability.MANAGE_PAYOUT)  # viewers: 403 (the service checks again, with the provider's rule)
        if not provider_allows:
            raise PermissionDenied(CUSTOMER_PAYOUT_REFUSED)
        account = get_in_scope(MiningAccount, scope, pk=request.POST.get("account_id") or 0)
        form = _form(account, request.POST)
        if form.is_valid():
            try:
                payout_destination_set(scope=scope, account_id=account.pk, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            except WhiteBitError as exc:
                form.add_error(None, f"{exc.user_message} Nothing was changed; try again.")
            else:
                messages.success(request, f"Saved: {account.name} is paid there from now on. Your provider's "
                                          "staff and your contacts were e-mailed about the change.")
                return redirect("customer:payout", provider_slug=provider_slug, customer_slug=customer_slug)
        posted = (account.pk, form)
    accounts = list(scoped(MiningAccount, scope).order_by("name"))
    rows = [(a, (posted[1] if posted and posted[0] == a.pk else _form(a)) if can_change else None) for a in accounts]
    ctx.update({"rows": rows, "can_change": can_change, "provider_allows": provider_allows,
                "refused_words": CUSTOMER_PAYOUT_REFUSED})
    return render(request, "portal/customer/payout.html", ctx, status=400 if posted else 200)
