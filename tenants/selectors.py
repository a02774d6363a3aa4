"""Reads of the tenant tree, always through tenants.access."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse

from tenants.access import Scope, ScopeKind, get_in_scope, scoped
from tenants.models import Customer, CustomerMembership, Provider, ProviderMembership, UserPreference


def user_timezone_own(*, user) -> str:
    """The zone the user chose on their preferences page ('' for none). User-scoped: a user's own row."""
    return UserPreference.objects.filter(user=user).values_list("timezone", flat=True).first() or ""


def user_timezone_of_first_provider(*, user) -> str:
    """The zone of the first provider the user belongs to (as staff, else as a customer's user), '' for none."""
    return (ProviderMembership.objects.filter(user=user).order_by("provider__name")
            .values_list("provider__timezone", flat=True).first()
            or CustomerMembership.objects.filter(user=user).order_by("customer__name")
            .values_list("provider__timezone", flat=True).first() or "")


def provider_get(*, scope: Scope) -> Provider:
    return get_in_scope(Provider, scope, pk=scope.provider_id)


def customer_list(*, scope: Scope) -> QuerySet[Customer]:
    return scoped(Customer, scope).order_by("name")


def customer_get(*, scope: Scope, slug: str | None = None) -> Customer:
    """The scope's own customer, or (for staff) one of the provider's customers by slug."""
    qs = Customer.objects.select_related("provider")  # pages show both: one query, not two
    if slug is not None:
        return get_in_scope(qs, scope, slug=slug)
    return get_in_scope(qs, scope, pk=scope.customer_id)


def scope_entries_for_user(*, scopes: list[Scope]) -> list[dict]:
    """One line per scope for the landing page: a label and where it leads."""
    entries = []
    for scope in scopes:
        provider = provider_get(scope=scope)
        if scope.kind == ScopeKind.CUSTOMER:
            customer = customer_get(scope=scope)
            entries.append({
                "label": f"{customer.name} at {provider.name}",
                "role": scope.role,
                "url": reverse("customer:dashboard", args=[provider.slug, customer.slug]),
            })
        else:
            entries.append({
                "label": f"{provider.name} (staff)",
                "role": scope.role,
                "url": reverse("staff:fleet", args=[provider.slug]),
            })
    return entries


def customer_names(*, customer_ids: set[int], provider_ids: set[int]) -> dict[int, str]:
    """Names of customers, only within the given providers (the audit log's words for ids)."""
    return dict(Customer.objects.filter(pk__in=customer_ids, provider_id__in=provider_ids).values_list("pk", "name"))
