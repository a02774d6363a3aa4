"""What the access pages share: resolving the caller's scope from the URL (404 for everyone else)."""

from __future__ import annotations

from django.http import HttpRequest

from tenants.access import Scope, scope_for_user


def scope_or_404(request: HttpRequest, *, provider_slug: str, customer_slug: str | None = None) -> Scope:
    """Without a customer slug only provider staff get a scope; with one, staff of the provider or the customer's
    own users. Anyone else gets the same 404 as for a missing provider."""
    return scope_for_user(request.user, provider_slug=provider_slug, customer_slug=customer_slug)
