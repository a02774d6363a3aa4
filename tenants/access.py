"""The one access mechanism: who is asking, which tenant they may see, and the only way to query tenant data.

Every view, API endpoint, task and command turns its caller into a `Scope` (`scope_for_user`,
`scope_for_system`) and reads tenant-owned rows only through `scoped()` / `get_in_scope()`. It fails closed:

* asked without a scope, `scoped()` raises `TenantScopeMissing` (a bug, never an empty or a full result);
* an object outside the scope is `NotFound` (tenants/errors.py, an `Http404`), exactly like a missing one, so
  outsiders learn nothing;
* a model that does not declare how it is owned (`TENANT_CUSTOMER_FIELD`) cannot be queried through it.

Tenant-owned models declare `TENANT_CUSTOMER_FIELD`: the lookup path to the owning customer's id, or `None`
when the row belongs to the provider as a whole (customer users then see none of it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured, MultipleObjectsReturned
from django.db import models

from tenants.errors import NotAllowed, NotFound
from tenants.models import Customer, CustomerMembership, CustomerRole, Provider, ProviderMembership, StaffRole

M = TypeVar("M", bound=models.Model)


class TenantScopeMissing(RuntimeError):
    """Raised when tenant data is asked for without a scope: a programming error, never shown to users."""


class Capability(enum.StrEnum):
    VIEW = "view"
    MANAGE_ACCOUNTS = "manage_accounts"  # create mining accounts, sync, acknowledge alerts
    MANAGE_CUSTOMERS = "manage_customers"
    MANAGE_BILLING = "manage_billing"  # contracts, closing months
    MANAGE_CREDENTIALS = "manage_credentials"  # the provider's WhiteBIT key and secret
    MANAGE_STAFF = "manage_staff"
    MANAGE_PAYOUT = "manage_payout"  # payout destination of a customer's accounts
    MANAGE_WATCHER_LINKS = "manage_watcher_links"
    MANAGE_CUSTOMER_USERS = "manage_customer_users"
    MANAGE_BILLING_DETAILS = "manage_billing_details"  # a customer's own invoice address, tax id, e-mail


_STAFF_CAPS: dict[str, frozenset[Capability]] = {
    StaffRole.OWNER: frozenset(Capability),
    StaffRole.ADMIN: frozenset(Capability),
    StaffRole.OPERATOR: frozenset(
        {Capability.VIEW, Capability.MANAGE_ACCOUNTS, Capability.MANAGE_PAYOUT, Capability.MANAGE_WATCHER_LINKS}
    ),
    StaffRole.READ_ONLY: frozenset({Capability.VIEW}),
}
_CUSTOMER_CAPS: dict[str, frozenset[Capability]] = {
    CustomerRole.ADMIN: frozenset(
        {Capability.VIEW, Capability.MANAGE_PAYOUT, Capability.MANAGE_WATCHER_LINKS, Capability.MANAGE_CUSTOMER_USERS,
         Capability.MANAGE_BILLING_DETAILS}
    ),
    CustomerRole.VIEWER: frozenset({Capability.VIEW}),
}
# API tokens: a token's scopes are its capabilities, never more than a member of its kind could hold, and never
# the keys to the house (credentials, staff): those stay with people signed in to the portal.
_TOKEN_SCOPE_CAPS: dict[str, frozenset[Capability]] = {
    "read": frozenset({Capability.VIEW}),
    "write": frozenset({Capability.MANAGE_ACCOUNTS, Capability.MANAGE_CUSTOMERS, Capability.MANAGE_PAYOUT,
                        Capability.MANAGE_WATCHER_LINKS}),
    "billing": frozenset({Capability.MANAGE_BILLING, Capability.MANAGE_BILLING_DETAILS}),
}
_TOKEN_KIND_CEILING: dict[str, frozenset[Capability]] = {
    "staff": frozenset(Capability) - {Capability.MANAGE_CREDENTIALS, Capability.MANAGE_STAFF},
    "customer": _CUSTOMER_CAPS[CustomerRole.ADMIN] - {Capability.MANAGE_CUSTOMER_USERS},
}


class ScopeKind(enum.StrEnum):
    STAFF = "staff"  # provider staff: the whole provider, or narrowed to one customer
    CUSTOMER = "customer"  # a customer user: exactly one customer
    SYSTEM = "system"  # tasks and commands acting for a provider


@dataclass(frozen=True)
class Scope:
    """What one caller may see. Immutable, cheap, and safe to pass to tasks as ids."""

    kind: ScopeKind
    provider_id: int
    customer_id: int | None = None
    role: str = ""
    user_id: int | None = None
    token_id: int | None = None  # set when the caller is an API token (the token's scopes are its capabilities)
    actor_label: str = ""  # who a system scope acts as, for the audit log (e.g. "task:close_month")
    token_scopes: tuple[str, ...] = ()  # an API token's scopes (read/write/billing): its capabilities
    view_only: bool = False  # a provider-wide reader opened from a customer's scope: it may read, never write

    def __post_init__(self) -> None:
        if not self.provider_id:
            raise TenantScopeMissing("A scope needs a provider")
        if self.kind == ScopeKind.CUSTOMER and not self.customer_id:
            raise TenantScopeMissing("A customer scope needs a customer")

    @property
    def is_staff(self) -> bool:
        return self.kind in (ScopeKind.STAFF, ScopeKind.SYSTEM)

    @property
    def capabilities(self) -> frozenset[Capability]:
        if self.view_only:
            return frozenset({Capability.VIEW})
        if self.kind == ScopeKind.SYSTEM:
            return frozenset(Capability)
        if self.token_id is not None:
            granted = frozenset().union(*(_TOKEN_SCOPE_CAPS.get(s, frozenset()) for s in self.token_scopes))
            return granted & _TOKEN_KIND_CEILING.get(self.kind, frozenset())
        table = _STAFF_CAPS if self.kind == ScopeKind.STAFF else _CUSTOMER_CAPS
        return table.get(self.role, frozenset())

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def require(self, capability: Capability) -> None:
        """403 for a member whose role does not allow this (they already know the object exists)."""
        if not self.can(capability):
            raise NotAllowed(f"Your role does not allow this ({capability.value}).")

    def provider_wide_reads(self) -> Scope:
        """The provider's scope for reading the provider-wide facts a customer's own pages depend on (which months
        are closed, BTC prices, maintenance windows and alert rules for everyone). It grants VIEW only: widening a
        customer's scope to read must never hand it the system's every capability."""
        if self.customer_id is None:
            return self
        return Scope(ScopeKind.SYSTEM, self.provider_id, None, actor_label=f"reader for customer {self.customer_id}",
                     view_only=True)

    def narrowed_to_customer(self, customer_id: int) -> Scope:
        """A staff scope limited to one of its customers (the customer must be checked to be in scope)."""
        if self.kind == ScopeKind.CUSTOMER:
            if customer_id != self.customer_id:
                raise NotFound("No such customer")
            return self
        return Scope(self.kind, self.provider_id, customer_id, self.role, self.user_id, self.token_id,
                     self.actor_label, self.token_scopes, self.view_only)


def scope_for_system(*, provider_id: int, customer_id: int | None = None, actor: str = "system") -> Scope:
    """The scope a task or command opens from the ids it was given; `actor` names it in the audit log."""
    return Scope(ScopeKind.SYSTEM, provider_id, customer_id, actor_label=actor)


def scopes_for_user(user: Any) -> list[Scope]:
    """Every scope a signed-in user holds, staff first; empty for anonymous or inactive users."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    scopes = [
        Scope(ScopeKind.STAFF, m.provider_id, None, m.role, user.pk)
        for m in ProviderMembership.objects.filter(user=user).order_by("provider__name")
    ]
    scopes += [
        Scope(ScopeKind.CUSTOMER, m.provider_id, m.customer_id, m.role, user.pk)
        for m in CustomerMembership.objects.filter(user=user, customer__provider_id=models.F("provider_id")).order_by(
            "customer__name"
        )
    ]
    return scopes


def scope_for_user(user: Any, *, provider_slug: str, customer_slug: str | None = None) -> Scope:
    """Resolve a request's scope from the URL's slugs; 404 unless the user is a member there.

    Staff of the provider get the provider scope (narrowed to the customer when a customer slug is given);
    a customer user gets exactly their customer. Anything else is a 404, the same as a missing provider.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise NotFound("Not found")
    staff = (
        ProviderMembership.objects.filter(user=user, provider__slug=provider_slug).values("provider_id", "role").first()
    )
    if staff:
        scope = Scope(ScopeKind.STAFF, staff["provider_id"], None, staff["role"], user.pk)
        if customer_slug is None:
            return scope
        customer = get_in_scope(Customer, scope, slug=customer_slug)
        return scope.narrowed_to_customer(customer.pk)
    if customer_slug is not None:
        member = (
            CustomerMembership.objects.filter(
                user=user,
                provider__slug=provider_slug,
                customer__slug=customer_slug,
                customer__provider_id=models.F("provider_id"),
            )
            .values("provider_id", "customer_id", "role")
            .first()
        )
        if member:
            return Scope(ScopeKind.CUSTOMER, member["provider_id"], member["customer_id"], member["role"], user.pk)
    raise NotFound("Not found")


def _queryset(model_or_qs: type[M] | models.QuerySet[M]) -> models.QuerySet[M]:
    if isinstance(model_or_qs, models.QuerySet):
        return model_or_qs
    return model_or_qs._default_manager.all()


def scoped(model_or_qs: type[M] | models.QuerySet[M], scope: Scope | None) -> models.QuerySet[M]:
    """The rows of a tenant-owned model that `scope` may see. Raises without a scope; never fails open."""
    if not isinstance(scope, Scope):
        raise TenantScopeMissing("Tenant data was asked for without a scope")
    qs = _queryset(model_or_qs)
    model = qs.model
    if not hasattr(model, "TENANT_CUSTOMER_FIELD"):
        raise ImproperlyConfigured(f"{model.__name__} does not declare TENANT_CUSTOMER_FIELD: not tenant-aware")
    if model is Provider:
        return qs.filter(pk=scope.provider_id)
    qs = qs.filter(provider_id=scope.provider_id)
    if scope.customer_id is not None:
        field = model.TENANT_CUSTOMER_FIELD
        if field is None:
            # Provider-wide rows (staff memberships, credentials …) are invisible to a customer scope, and to
            # staff narrowed to a customer only when they go through the provider scope instead.
            return qs.none() if scope.kind == ScopeKind.CUSTOMER else qs
        qs = qs.filter(**{"pk" if field == "id" else f"{field}_id": scope.customer_id})
    return qs


def get_in_scope(model_or_qs: type[M] | models.QuerySet[M], scope: Scope | None, **lookup: Any) -> M:
    """One object by its lookup, inside the scope; `Http404` when it is missing *or* someone else's."""
    try:
        return scoped(model_or_qs, scope).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("Not found") from exc
    except MultipleObjectsReturned as exc:  # lookups are on unique keys; ambiguity must not leak either
        raise NotFound("Not found") from exc


def UNSCOPED_across_all_tenants(model: type[M], *, reason: str) -> models.QuerySet[M]:
    """Escape hatch for platform jobs (the sync fan-out) that must see every tenant. Alarming on purpose: use it
    only to collect ids that are then opened with their own scope, never to return rows to a user."""
    if not reason:
        raise TenantScopeMissing("Say why the query must cross tenants")
    return model._default_manager.all()
