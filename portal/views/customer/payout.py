"""Payout destination on the customer pages: shown to everyone; changed by the customer's admin where the provider
allows it (and by the provider's staff). A change asks for a fresh second-factor code (or is confirmed by an e-mailed
link), is held for the provider's hold time and can be canceled meanwhile; the rules are the service's
(mining.services.payouts): this view only shapes the form."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from mining.models import MiningAccount, PayoutChange, PayoutDestination
from mining.selectors.payouts import payout_changes_pending, payout_changes_recent
from mining.services.payouts import CUSTOMER_PAYOUT_REFUSED, payout_change_cancel, payout_change_request
from portal.access_forms import form_errors_from
from portal.views.actions import post_action
from portal.views.customer.common import customer_context
from portal.views.payout_forms import payout_change_saved_words, payout_code_field_add
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
    has_code = payout_code_field_add(form, request.user) if form is not None else False
    if request.method == "POST":
        scope.require(Capability.MANAGE_PAYOUT)  # viewers: 403 (the service checks again, with the provider's rule)
        if not provider_allows:
            raise PermissionDenied(CUSTOMER_PAYOUT_REFUSED)
        # Another customer's account is not among the choices: 404 like any object outside the scope.
        get_in_scope(MiningAccount, scope, pk=request.POST.get("account_id") or 0)
        if form.is_valid():
            data = form.cleaned_data
            try:
                change = payout_change_request(scope=scope, account_id=data["account_id"],
                                               destination=data["destination"], address=data["address"],
                                               code=data.get("code", ""))
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, payout_change_saved_words(change))
                return redirect("customer:payout", provider_slug=provider_slug, customer_slug=customer_slug)
    ids = [a.pk for a in accounts]
    pending = payout_changes_pending(scope=scope, account_ids=ids)
    for change in pending:
        change.cancel_url = reverse("customer:payout_change_cancel", args=[provider_slug, customer_slug, change.pk])
    ctx.update({"accounts": accounts, "form": form, "can_change": can_change, "provider_allows": provider_allows,
                "refused_words": CUSTOMER_PAYOUT_REFUSED, "has_code": has_code,
                "pending_changes": pending,
                "recent_changes": payout_changes_recent(scope=scope, account_ids=ids),
                "can_cancel": scope.can(Capability.MANAGE_PAYOUT)})
    return render(request, "portal/customer/payout.html", ctx, status=400 if form and form.errors else 200)


@login_required
def payout_change_cancel_view(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
    """Any admin of the customer (or the provider's staff who manage payouts) cancels a pending change."""
    ctx = customer_context(request, provider_slug, customer_slug)  # 404 for outsiders, before anything else
    get_in_scope(PayoutChange, ctx["scope"], pk=pk)  # and for another tenant's change

    def cancel() -> str:
        change = payout_change_cancel(scope=ctx["scope"], change_id=pk)
        return f"Canceled: the change of {change.account.name} will not be sent to the pool."

    return post_action(request, cancel, back=reverse("customer:payout", args=[provider_slug, customer_slug]))
