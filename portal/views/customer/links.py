"""Watcher links on the customer pages: the active ones with a copy button, and a form that creates one on the pool.

The form carries a one-time idempotency key (the REST API's mechanism, tenants/idempotency.py): a double click or
a resent form creates one link, and a resend after the pool did not answer adopts the link that attempt made.
The rules (accounts of this customer, name, permissions, lifetime) are the service's: watcher_link_create.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from mining.models import MiningAccount, WatcherLink
from mining.services.upstream_writes import watcher_link_create
from portal.views.customer.common import customer_context
from portal.views.once import OnceForm, Sent, write_once
from tenants.access import Capability, Scope, scoped
from tenants.errors import UpstreamUnavailable

POOL_ACTIVE_LINKS_PER_ACCOUNT = 3
LIFETIMES = [("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days"), ("always", "Always (never expires)")]
PERMISSIONS = [("dashboard", "Dashboard"), ("rewards", "Rewards"), ("workers", "Workers")]


class WatcherLinkForm(OnceForm):
    account_ids = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple, label="Accounts",
                                                 error_messages={"required": "Choose at least one account."})
    name = forms.CharField(max_length=255, label="Name", help_text="Letters, digits and underscores, e.g. "
                           "investor_week.", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    permissions = forms.MultipleChoiceField(choices=PERMISSIONS, widget=forms.CheckboxSelectMultiple,
                                            label="The link shows", initial=["dashboard"],
                                            error_messages={"required": "Choose at least one thing to show."})
    live_until = forms.ChoiceField(choices=LIFETIMES, widget=forms.RadioSelect, label="Expires after",
                                   initial="24h")
    reused_words = "This form was already sent with other values. Reload the page to create another link."

    def __init__(self, *args, accounts: list[MiningAccount], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_ids"].choices = [(a.pk, a.name) for a in accounts]
        if len(accounts) == 1:
            self.fields["account_ids"].initial = [accounts[0].pk]

    def upstream_words(self, exc: UpstreamUnavailable) -> str:
        return f"{exc.user_message} Send the form again: it will not create a second link."


def _create_once(request: HttpRequest, scope: Scope, form: WatcherLinkForm) -> Sent | None:
    """Create the link at most once per form key; None with the errors on the form."""
    data = form.cleaned_data

    def write(attempt) -> tuple[int, dict]:
        link = watcher_link_create(scope=scope, attempt=attempt, account_ids=sorted(data["account_ids"]),
                                   name=data["name"], permissions=data["permissions"], live_until=data["live_until"])
        return 201, {"id": link.pk}

    return write_once(request, scope, form, write)


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
            sent = _create_once(request, scope, form)
            if sent is not None:
                messages.success(request, {
                    "written": f"Created the watcher link “{form.cleaned_data['name']}”: copy it from the list.",
                    "replayed": f"The watcher link “{form.cleaned_data['name']}” was already created: it is listed.",
                    "running": "Your watcher link is being created; reload this page in a moment to see it.",
                }[sent.state])
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
