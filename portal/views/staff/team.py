"""Staff team pages: the provider's staff and roles, invitations, second-factor resets, sign-in unlocks, and the
users of each customer. Every view resolves the scope first (outsiders get a 404), then calls one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from portal.access_forms import CustomerUserInviteForm, RoleForm, StaffInviteForm, form_errors_from
from portal.views.access_common import scope_or_404
from portal.views.accounts.auth import safe_next
from tenants import access_selectors, selectors
from tenants.access import Capability, get_in_scope
from tenants.models import CustomerMembership, Invitation, ProviderMembership
from tenants.services import invitations, lockout, team, two_factor


def _done(request: HttpRequest, message: str, to: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(to)


def _refused(request: HttpRequest, exc: ValidationError, to: str) -> HttpResponse:
    messages.error(request, " ".join(exc.messages))
    return redirect(to)


@login_required
def team_page(request: HttpRequest, provider_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST":
        scope.require(Capability.MANAGE_STAFF)
        if form.is_valid():
            try:
                result = invitations.invitation_create(scope=scope, email=form.cleaned_data["email"],
                                                       role=form.cleaned_data["role"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                text = (f"Invitation sent to {form.cleaned_data['email']}"
                        + (": they already have an account and accept it while signed in." if result.existing_account
                           else "."))
                return _done(request, text, request.path)
    return render(request, "portal/staff/team.html", {
        "scope": scope,
        "provider": selectors.provider_get(scope=scope),
        "members": access_selectors.staff_member_list(scope=scope),
        "invitations": access_selectors.invitation_pending_list(scope=scope, customer_id=None),
        "form": form,
        "role_form": RoleForm(),
        "can_manage": scope.can(Capability.MANAGE_STAFF),
    }, status=400 if form.errors else 200)


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


@login_required
def team_role(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(ProviderMembership, scope, pk=pk)
    back = reverse("staff:team", args=[provider_slug])
    if refusal := _post_only(request):
        return refusal
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, ValidationError("Choose owner, admin, operator or read-only."), back)
    try:
        team.staff_role_change(scope=scope, membership_id=pk, role=form.cleaned_data["role"])
    except ValidationError as exc:
        return _refused(request, exc, back)
    return _done(request, "Role changed.", back)


@login_required
def team_remove(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    get_in_scope(ProviderMembership, scope, pk=pk)
    back = reverse("staff:team", args=[provider_slug])
    if refusal := _post_only(request):
        return refusal
    try:
        team.staff_remove(scope=scope, membership_id=pk)
    except ValidationError as exc:
        return _refused(request, exc, back)
    return _done(request, "Removed from the team. Their access ended at once.", back)


@login_required
def team_second_factor_reset(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    membership = get_in_scope(ProviderMembership, scope, pk=pk)
    back = reverse("staff:team", args=[provider_slug])
    if refusal := _post_only(request):
        return refusal
    try:
        two_factor.staff_second_factor_reset(scope=scope, user_id=membership.user_id)
    except ValidationError as exc:
        return _refused(request, exc, back)
    return _done(request, "Second factor reset: they set up a new one at their next sign-in.", back)


@login_required
def invitation_revoke(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    invitation = get_in_scope(Invitation, scope, pk=pk)
    if refusal := _post_only(request):
        return refusal
    to = (reverse("staff:customer_users", args=[provider_slug, invitation.customer.slug]) if invitation.customer_id
          else reverse("staff:team", args=[provider_slug]))
    try:
        invitations.invitation_revoke(scope=scope, invitation_id=pk)
    except ValidationError as exc:
        return _refused(request, exc, to)
    return _done(request, "Invitation withdrawn; its link no longer works.", to)


@login_required
def lockout_clear(request: HttpRequest, provider_slug: str, pk: int) -> HttpResponse:
    """pk is the user's id; the service checks they are a member of this provider or of one of its customers."""
    scope = scope_or_404(request, provider_slug=provider_slug)
    scope.require(Capability.MANAGE_STAFF)
    if not access_selectors.user_is_member(scope=scope, user_id=pk):
        raise Http404("No such user here.")  # the same as a missing user
    if refusal := _post_only(request):
        return refusal
    back = safe_next(request, reverse("staff:team", args=[provider_slug]))
    try:
        lockout.lockout_clear(scope=scope, user_id=pk)
    except ValidationError as exc:
        return _refused(request, exc, back)
    return _done(request, "Sign-in unlocked.", back)


@login_required
def customer_users(request: HttpRequest, provider_slug: str, customer_slug: str) -> HttpResponse:
    scope = scope_or_404(request, provider_slug=provider_slug)
    customer = selectors.customer_get(scope=scope, slug=customer_slug)
    form = CustomerUserInviteForm(request.POST or None)
    if request.method == "POST":
        scope.require(Capability.MANAGE_CUSTOMER_USERS)
        if form.is_valid():
            try:
                result = invitations.invitation_create(scope=scope, email=form.cleaned_data["email"],
                                                       role=form.cleaned_data["role"], customer_id=customer.pk)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                text = (f"Invitation sent to {form.cleaned_data['email']}"
                        + (": they already have an account and accept it while signed in." if result.existing_account
                           else "."))
                return _done(request, text, request.path)
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
    back = reverse("staff:customer_users", args=[provider_slug, customer_slug])
    if refusal := _post_only(request):
        return refusal
    try:
        team.customer_user_remove(scope=scope, membership_id=pk)
    except ValidationError as exc:
        return _refused(request, exc, back)
    return _done(request, "User removed; their access ended at once.", back)
