"""The portal's page for API tokens: list, create (the token is shown once, on this answer only), revoke.

Thin: the scope comes from tenants.access, the rules live in tenants/tokens.py (who may manage tokens, scopes,
expiry, audit). Provider owners/admins manage the provider's tokens; a customer admin manages their customer's.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from tenants import selectors
from tenants.access import Capability, ScopeKind, scope_for_user
from tenants.models import ApiTokenScope
from tenants.tokens import api_token_create, api_token_list, api_token_revoke


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “CRM” or “Grafana”.")
    scopes = forms.MultipleChoiceField(choices=ApiTokenScope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[ApiTokenScope.READ])
    customer = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                      help_text="Only this customer's data (for the customer's own tools).")
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=3650, help_text="Empty: never.")

    def __init__(self, *args, customers=(), **kwargs):
        super().__init__(*args, **kwargs)
        if customers is None:
            del self.fields["customer"]
        else:
            self.fields["customer"].choices = [("", "The whole provider"), *((c.pk, c.name) for c in customers)]


@never_cache
@login_required
def api_tokens(request: HttpRequest, provider_slug: str, customer_slug: str | None = None) -> HttpResponse:
    scope = scope_for_user(request.user, provider_slug=provider_slug, customer_slug=customer_slug)
    if scope.kind == ScopeKind.CUSTOMER:
        scope.require(Capability.MANAGE_CUSTOMER_USERS)
        customers = None
    else:
        scope.require(Capability.MANAGE_CREDENTIALS)
        customers = selectors.customer_list(scope=scope)
    issued = None
    form = ApiTokenForm(customers=customers)
    if request.method == "POST" and "revoke" in request.POST:
        try:
            api_token_revoke(scope=scope, token_id=int(request.POST["revoke"]))
        except ValueError:
            pass  # not an id: nothing to revoke, the list below shows the truth
    elif request.method == "POST":
        form = ApiTokenForm(request.POST, customers=customers)
        if form.is_valid():
            data = form.cleaned_data
            try:
                issued = api_token_create(scope=scope, name=data["name"], scopes=data["scopes"],
                                          customer_id=data.get("customer"), expires_in_days=data["expires_in_days"])
                form = ApiTokenForm(customers=customers)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
    context = {
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        "customer": selectors.customer_get(scope=scope) if scope.kind == ScopeKind.CUSTOMER else None,
        "tokens": api_token_list(scope=scope).select_related("customer"),
        "form": form,
        "issued": issued,
    }
    return render(request, "portal/api_tokens.html", context)
