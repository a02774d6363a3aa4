"""A customer admin's team page: their customer's users and pending invitations; invite and remove viewers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from portal.access_forms import CustomerUserInviteForm, form_errors_from
from portal.views.access_common import scope_or_404
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
    if request.method == "POST" and form.is_valid():
        try:
            result = invitations.invitation_create(scope=scope, email=form.cleaned_data["email"],
                                                   role=form.cleaned_data["role"], customer_id=scope.customer_id)
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}"
                             + (": they already have an account and accept it while signed in."
                                if result.existing_account else "."))
            return redirect(request.path)
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
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        team.customer_user_remove(scope=scope, membership_id=pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "User removed; their access ended at once.")
    return redirect(reverse("customer:team", args=[provider_slug, customer_slug]))


@login_required
def invitation_revoke(request: HttpRequest, provider_slug: str, customer_slug: str, pk: int) -> HttpResponse:
    scope = _scope(request, provider_slug, customer_slug)
    get_in_scope(Invitation, scope, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        invitations.invitation_revoke(scope=scope, invitation_id=pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Invitation withdrawn; its link no longer works.")
    return redirect(reverse("customer:team", args=[provider_slug, customer_slug]))
