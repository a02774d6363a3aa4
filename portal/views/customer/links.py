"""Watcher links on the customer pages: the active ones with a copy button, and a form that creates one on the pool.

The form carries a one-time idempotency key (the REST API's mechanism, tenants/idempotency.py): a double click or
a resent form creates one link, and a resend after the pool did not answer adopts the link that attempt made.
The rules (accounts of this customer, name, permissions, lifetime) are the service's: watcher_link_create.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from mining.models import MiningAccount, WatcherLink
from mining.services.upstream_writes import watcher_link_create
from mining.whitebit.errors import AuthFailed, WhiteBitError
from portal.access_forms import form_errors_from
from portal.views.customer.common import customer_context
from tenants.access import Capability, Scope, scoped
from tenants.idempotency import (
    IdempotencyError,
    IdempotencyInProgress,
    WriteAttempt,
    idempotency_claim,
    idempotency_complete,
    idempotency_outcome_unknown,
    idempotency_release,
)

POOL_ACTIVE_LINKS_PER_ACCOUNT = 3
LIFETIMES = [("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days"), ("always", "Always (never expires)")]
PERMISSIONS = [("dashboard", "Dashboard"), ("rewards", "Rewards"), ("workers", "Workers")]


class WatcherLinkForm(forms.Form):
    account_ids = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple, label="Accounts",
                                                 error_messages={"required": "Choose at least one account."})
    name = forms.CharField(max_length=255, label="Name", help_text="Letters, digits and underscores, e.g. "
                           "investor_week.", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    permissions = forms.MultipleChoiceField(choices=PERMISSIONS, widget=forms.CheckboxSelectMultiple,
                                            label="The link shows", initial=["dashboard"],
                                            error_messages={"required": "Choose at least one thing to show."})
    live_until = forms.ChoiceField(choices=LIFETIMES, widget=forms.RadioSelect, label="Expires after",
                                   initial="24h")
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255)

    def __init__(self, *args, accounts: list[MiningAccount], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_ids"].choices = [(a.pk, a.name) for a in accounts]
        if len(accounts) == 1:
            self.fields["account_ids"].initial = [accounts[0].pk]
        self.fields["idempotency_key"].initial = uuid.uuid4().hex


def _create_once(request: HttpRequest, scope: Scope, form: WatcherLinkForm) -> str | None:
    """Create the link at most once per form key. Returns "created" / "replayed" / "running", or None with the
    errors on the form."""
    data = form.cleaned_data
    body = {"account_ids": sorted(data["account_ids"]), "name": data["name"], "live_until": data["live_until"],
            "permissions": sorted(data["permissions"])}
    try:
        claim = idempotency_claim(scope=scope, key=data["idempotency_key"], method="POST", path=request.path,
                                  body=body)
    except IdempotencyInProgress:
        return "running"
    except IdempotencyError:
        form.add_error(None, "This form was already sent with other values. Reload the page to create another link.")
        return None
    if claim.replay is not None:
        return "replayed"
    try:
        link = watcher_link_create(scope=scope, attempt=WriteAttempt.for_claim(claim), account_ids=body["account_ids"],
                                   name=body["name"], permissions=data["permissions"], live_until=body["live_until"])
    except (ValidationError, PermissionDenied, Http404) as exc:
        idempotency_release(record=claim.record)  # nothing was written: the corrected form may use the key again
        if not isinstance(exc, ValidationError):
            raise
        form_errors_from(form, exc)
        return None
    except WhiteBitError as exc:
        if isinstance(exc, AuthFailed):
            idempotency_release(record=claim.record)
        else:
            idempotency_outcome_unknown(record=claim.record)
        form.add_error(None, f"{exc.user_message} Send the form again: it will not create a second link.")
        return None
    except BaseException:
        idempotency_outcome_unknown(record=claim.record)
        raise
    idempotency_complete(record=claim.record, status=201, body={"id": link.pk})
    return "created"


@login_required
def watcher_links(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope = ctx["scope"]
    can_create = scope.can(Capability.MANAGE_WATCHER_LINKS)
    accounts = list(scoped(MiningAccount, scope).filter(customer_id=ctx["customer"].pk).order_by("name"))
    form = WatcherLinkForm(request.POST or None, accounts=accounts) if can_create else None
    if request.method == "POST":
        scope.require(Capability.MANAGE_WATCHER_LINKS)  # viewers: 403 (the service checks again)
        if form.is_valid():
            outcome = _create_once(request, scope, form)
            if outcome is not None:
                messages.success(request, {
                    "created": f"Created the watcher link “{form.cleaned_data['name']}”: copy it from the list.",
                    "replayed": f"The watcher link “{form.cleaned_data['name']}” was already created: it is listed.",
                    "running": "Your watcher link is being created; reload this page in a moment to see it.",
                }[outcome])
                return redirect("customer:watcher_links", provider_slug=provider_slug, customer_slug=customer_slug)
    now = timezone.now()
    links = scoped(WatcherLink, scope).filter(is_active=True).filter(
        Q(live_until_at__isnull=True) | Q(live_until_at__gt=now)
    ).prefetch_related(
        # Scoped too: an account moved to another customer since the link was made is not named here.
        Prefetch("accounts", queryset=scoped(MiningAccount, scope).only("pk", "name"))
    ).order_by("-upstream_created_at", "pk")
    ctx.update({"links": links, "form": form, "can_create": can_create, "has_accounts": bool(accounts),
                "max_links": POOL_ACTIVE_LINKS_PER_ACCOUNT, "now": now})
    return render(request, "portal/customer/watcher_links.html", ctx, status=400 if form and form.errors else 200)
