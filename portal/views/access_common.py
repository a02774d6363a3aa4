"""What the access pages share: resolving the caller's scope from the URL (404 for everyone else), and sending
an invitation from an invite form (the staff team page, a customer's users, the customer's own team page)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from portal.access_forms import form_errors_from
from tenants.access import Scope, scope_for_user
from tenants.services import invitations


def scope_or_404(request: HttpRequest, *, provider_slug: str, customer_slug: str | None = None) -> Scope:
    """Without a customer slug only provider staff get a scope; with one, staff of the provider or the customer's
    own users. Anyone else gets the same 404 as for a missing provider."""
    return scope_for_user(request.user, provider_slug=provider_slug, customer_slug=customer_slug)


def invite_from_form(request: HttpRequest, scope: Scope, form: forms.Form, *,
                     customer_id: int | None = None) -> HttpResponse | None:
    """Send the invitation a valid invite form asks for (staff when `customer_id` is None); the redirect back with
    what happened, or None with the service's refusal on the form."""
    if not form.is_valid():
        return None
    email = form.cleaned_data["email"]
    try:
        result = invitations.invitation_create(scope=scope, email=email, role=form.cleaned_data["role"],
                                               **({"customer_id": customer_id} if customer_id is not None else {}))
    except ValidationError as exc:
        form_errors_from(form, exc)
        return None
    messages.success(request, f"Invitation sent to {email}"
                     + (": they already have an account and accept it while signed in." if result.existing_account
                        else "."))
    return redirect(request.path)
