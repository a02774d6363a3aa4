"""Mining accounts in the staff console: import what the pool already has, assign accounts to customers (dated)."""

from __future__ import annotations

from datetime import UTC, date

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from mining.models import MiningAccount
from mining.selectors import accounts as account_selectors
from mining.selectors import labels as label_selectors
from mining.selectors.sync import with_sync_health
from mining.services.accounts import mining_account_assign
from mining.services.operations import mining_accounts_import_request
from portal.views.access_common import scope_or_404
from portal.views.actions import post_action
from portal.views.customer.common import int_or_none
from tenants import selectors
from tenants.access import Capability, get_in_scope, scoped
from tenants.models import Customer


class AssignForm(forms.Form):
    customer = forms.IntegerField(required=False)
    effective_on = forms.DateField(required=False, label="From (UTC day)")


@login_required
def accounts(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    label_id = int_or_none(request.GET.get("label"))
    listed = label_selectors.with_labels(account_selectors.mining_account_list(scope=scope), as_list=True)
    ctx = {
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        "accounts": with_sync_health(label_selectors.accounts_with_label(listed, label_id), now=timezone.now()),
        "labels": label_selectors.label_choices(scope=scope),
        "label_id": label_id,
        "customers": scoped(Customer, scope).order_by("name").only("pk", "name"),
        "today": timezone.now().astimezone(UTC).date(),
        "can_manage": scope.can(Capability.MANAGE_ACCOUNTS),
    }
    return render(request, "portal/staff/accounts.html", ctx)


@login_required
def accounts_import(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)

    def queue() -> str:
        mining_accounts_import_request(scope=scope)
        return "The import is queued: accounts the pool lists appear here, unassigned, in a moment."

    return post_action(request, queue, back=reverse("staff:accounts", args=[provider_slug]))


@login_required
def account_assign(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    account = get_in_scope(MiningAccount, scope, pk=pk)

    def assign() -> str:
        form = AssignForm(request.POST)
        if not form.is_valid():
            raise ValidationError("the day must look like 2026-11-15.")
        today: date = timezone.now().astimezone(UTC).date()
        held = mining_account_assign(scope=scope, account_id=account.pk, customer_id=form.cleaned_data["customer"],
                                     effective_on=form.cleaned_data["effective_on"], today=today)
        return f"{held.name} is now held by {held.customer.name if held.customer_id else 'nobody'}."

    return post_action(request, assign, back=reverse("staff:accounts", args=[provider_slug]),
                       refused=f"{account.name}: ")
