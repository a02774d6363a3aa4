"""Staff team pages: the provider's staff and roles, invitations, second-factor resets, sign-in unlocks, and the
users of each customer. Every view resolves the scope first (outsiders get a 404), then calls one service."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from portal.access_forms import CustomerUserInviteForm, RoleForm, StaffInviteForm
from portal.views.access_common import invite_from_form, scope_or_404
from portal.views.accounts.auth import safe_next
from portal.views.actions import post_action
from tenants import access_selectors, selectors
from tenants.access import Capability, get_in_scope
from tenants.errors import NotFound
from tenants.models import CustomerMembership, Invitation, ProviderMembership
from tenants.services import invitations, lockout, team, two_factor


@login_required
def team_page(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST":
        scope.require(Capability.MANAGE_STAFF)
        if sent := invite_from_form(request, scope, form):
            return sent
    return render(request, "portal/staff/team.html", {
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        "members": access_selectors.staff_member_list(scope=scope),
        "invitations": access_selectors.invitation_pending_list(scope=scope, customer_id=None),
        "form": form,
        "role_form": RoleForm(),
        "can_manage": scope.can(Capability.MANAGE_STAFF),
    }, status=400 if form.errors else 200)


@login_required
def team_role(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(ProviderMembership, scope, pk=pk)

    def change() -> str:
        form = RoleForm(request.POST)
        if not form.is_valid():
            raise ValidationError("Choose owner, admin, operator or read-only.")
        team.staff_role_change(scope=scope, membership_id=pk, role=form.cleaned_data["role"])
        return "Role changed."

    return post_action(request, change, back=reverse("staff:team", args=[provider_slug]))


@login_required
def team_remove(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(ProviderMembership, scope, pk=pk)

    def remove() -> str:
        team.staff_remove(scope=scope, membership_id=pk)
        return "Removed from the team. Their access ended at once."

    return post_action(request, remove, back=reverse("staff:team", args=[provider_slug]))


@login_required
def team_second_factor_reset(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    membership = get_in_scope(ProviderMembership, scope, pk=pk)

    def reset() -> str:
        two_factor.staff_second_factor_reset(scope=scope, user_id=membership.user_id)
        return "Second factor reset: they set up a new one at their next sign-in."

    return post_action(request, reset, back=reverse("staff:team", args=[provider_slug]))


@login_required
def invitation_revoke(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    invitation = get_in_scope(Invitation, scope, pk=pk)
    to = (reverse("staff:customer_users", args=[provider_slug, invitation.customer.slug]) if invitation.customer_id
          else reverse("staff:team", args=[provider_slug]))

    def revoke() -> str:
        invitations.invitation_revoke(scope=scope, invitation_id=pk)
        return "Invitation withdrawn; its link no longer works."

    return post_action(request, revoke, back=to)


@login_required
def lockout_clear(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    """pk is the user's id; the service checks they are a member of this provider or of one of its customers."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    scope.require(Capability.MANAGE_STAFF)
    if not access_selectors.user_is_member(scope=scope, user_id=pk):
        raise NotFound("No such user here.")  # the same as a missing user

    def unlock() -> str:
        lockout.lockout_clear(scope=scope, user_id=pk)
        return "Sign-in unlocked."

    return post_action(request, unlock, back=safe_next(request, reverse("staff:team", args=[provider_slug])))


@login_required
def customer_users(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    customer = selectors.customer_get(scope=scope, slug=customer_slug)
    form = CustomerUserInviteForm(request.POST or None)
    if request.method == "POST":
        scope.require(Capability.MANAGE_CUSTOMER_USERS)
        if sent := invite_from_form(request, scope, form, customer_id=customer.pk):
            return sent
    return render(request, "portal/staff/customer_users.html", {
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        "customer": customer,
        "members": access_selectors.customer_user_list(scope=scope, customer_id=customer.pk),
        "invitations": access_selectors.invitation_pending_list(scope=scope, customer_id=customer.pk),
        "form": form,
        "can_manage": scope.can(Capability.MANAGE_CUSTOMER_USERS),
        "can_unlock": scope.can(Capability.MANAGE_STAFF),
    }, status=400 if form.errors else 200)


@login_required
def customer_user_remove(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    customer = selectors.customer_get(scope=scope, slug=customer_slug)
    get_in_scope(CustomerMembership.objects.filter(customer=customer), scope, pk=pk)

    def remove() -> str:
        team.customer_user_remove(scope=scope, membership_id=pk)
        return "User removed; their access ended at once."

    return post_action(request, remove, back=reverse("staff:customer_users", args=[provider_slug, customer_slug]))
