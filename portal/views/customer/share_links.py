"""The customer's share links page (issue 21): the portal's own read-only links, beside the pool's watcher links.

The admin creates a link (accounts, what it shows, expiry) and sees its URL once, on the answer to the form (only
a hash of the token is stored); the list shows each link's state, views and last view, with Revoke. The rules are
the service's (mining/services/share_links.py); viewers see the list and create nothing.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from mining.models import MiningAccount
from mining.models.shares import ShareLevel, ShareLink
from mining.selectors import shares as selectors_share
from mining.services.share_links import SHARE_LIFETIME_LABELS, share_link_create, share_link_revoke
from portal.access_forms import form_errors_from
from portal.views.customer.common import customer_context
from tenants.access import Capability, get_in_scope, scoped


class ShareLinkForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name", help_text="Who the link is for, e.g. “Investor Q4”.",
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))
    account_ids = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple, label="Accounts",
                                                 error_messages={"required": "Choose at least one account."})
    level = forms.ChoiceField(choices=ShareLevel.choices, widget=forms.RadioSelect, label="The link shows",
                              initial=ShareLevel.HASHRATE)
    lifetime = forms.ChoiceField(choices=list(SHARE_LIFETIME_LABELS.items()), widget=forms.RadioSelect,
                                 label="Expires after", initial="30d")

    def __init__(self, *args, accounts: list[MiningAccount], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_ids"].choices = [(a.pk, a.name) for a in accounts]
        if len(accounts) == 1:
            self.fields["account_ids"].initial = [accounts[0].pk]


@login_required
def share_links(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)
    scope, customer = ctx["scope"], ctx["customer"]
    can_create = scope.can(Capability.MANAGE_WATCHER_LINKS)
    accounts = list(scoped(MiningAccount, scope).filter(customer_id=customer.pk).order_by("name"))
    form = ShareLinkForm(request.POST or None, accounts=accounts) if can_create else None
    new_url = ""
    status = 200
    if request.method == "POST":
        scope.require(Capability.MANAGE_WATCHER_LINKS)  # viewers: 403 (the service checks again)
        if form.is_valid():
            d = form.cleaned_data
            try:
                created = share_link_create(scope=scope, customer_id=customer.pk, name=d["name"],
                                            account_ids=d["account_ids"], level=d["level"], lifetime=d["lifetime"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                new_url = request.build_absolute_uri(reverse("share:page", args=[created.token]))
                ctx["new_link"] = created.link
                form = ShareLinkForm(accounts=accounts)
                status = 201
        if form is not None and form.errors:
            status = 400
    now = timezone.now()
    links = list(selectors_share.share_link_list(scope=scope, customer_id=customer.pk))
    for link in links:
        link.state = selectors_share.share_link_state(link, now=now)
    ctx.update({"links": links, "form": form, "can_create": can_create, "has_accounts": bool(accounts),
                "new_url": new_url, "now": now})
    response = render(request, "portal/customer/share_links.html", ctx, status=status)
    if new_url:
        response["Cache-Control"] = "no-store"  # the one page that carries the token
    return response


@login_required
def share_link_revoke_view(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
    ctx = customer_context(request, provider_slug, customer_slug)  # outsiders: 404 before anything else
    get_in_scope(ShareLink, ctx["scope"], pk=pk)  # another customer's link: 404, whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    link = share_link_revoke(scope=ctx["scope"], customer_id=ctx["customer"].pk, link_id=pk)
    messages.success(request, f"Revoked the share link “{link.name}”: it answers “not found” from now on.")
    return redirect("customer:share_links", provider_slug=provider_slug, customer_slug=customer_slug)
