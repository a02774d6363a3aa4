"""A customer admin's team page: their customer's users and pending invitations; invite and remove viewers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from portal.access_forms import CustomerUserInviteForm
from portal.views.access_common import invite_from_form, scope_or_404
from portal.views.actions import post_action
from tenants import access_selectors, selectors
from tenants.access import Capability, ScopeKind, get_in_scope
from tenants.models import CustomerMembership, CustomerRole, Invitation
from tenants.services import invitations, team


def _scope(request: HttpRequest, provider_slug: str, customer_slug: str):
    scope = scope_or_404(request, provider_slug=provider_slug, customer_slug=customer_slug)
    scope.require(Capability.MANAGE_CUSTOMER_USERS)
    return scope


@login_required
def team_page(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    scope = _scope(request, provider_slug, customer_slug)
    form = CustomerUserInviteForm(request.POST or None)
    if scope.kind == ScopeKind.CUSTOMER:
        form.fields["role"].choices = [(CustomerRole.VIEWER, CustomerRole.VIEWER.label)]
    if request.method == "POST" and (sent := invite_from_form(request, scope, form, customer_id=scope.customer_id)):
        return sent
    return render(request, "portal/customer/team.html", {
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        "customer": selectors.customer_get(scope=scope),
        "members": access_selectors.customer_user_list(scope=scope, customer_id=scope.customer_id),
        "invitations": access_selectors.invitation_pending_list(scope=scope, customer_id=scope.customer_id),
        "form": form,
    }, status=400 if form.errors else 200)


@login_required
def team_remove(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
    scope = _scope(request, provider_slug, customer_slug)
    get_in_scope(CustomerMembership, scope, pk=pk)

    def remove() -> str:
        team.customer_user_remove(scope=scope, membership_id=pk)
        return "User removed; their access ended at once."

    return post_action(request, remove, back=reverse("customer:team", args=[provider_slug, customer_slug]))


@login_required
def invitation_revoke(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
    scope = _scope(request, provider_slug, customer_slug)
    get_in_scope(Invitation, scope, pk=pk)

    def revoke() -> str:
        invitations.invitation_revoke(scope=scope, invitation_id=pk)
        return "Invitation withdrawn; its link no longer works."

    return post_action(request, revoke, back=reverse("customer:team", args=[provider_slug, customer_slug]))
