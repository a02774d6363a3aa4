"""Writes to the tenant tree. Views, forms, commands and the API call these; they hold the rules.

Each write records one audit entry in its own transaction. Callers pass `scope=` (a member acting through a page
or a token; its capability is checked here); commands and tasks that predate scopes may leave it out and are
recorded as the system actor they name (`actor=`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants.access import Capability, Scope, ScopeKind, scope_for_system, scoped
from tenants.audit import audit_record, audit_snapshot
from tenants.crypto import secret_rotate
from tenants.errors import NotFound
from tenants.models import (
    Customer,
    CustomerMembership,
    CustomerRole,
    Provider,
    ProviderMembership,
    SecurityEvent,
    StaffRole,
)
from tenants.services.security_events import security_event_record

User = get_user_model()

_PROVIDER_FIELDS = ["name", "slug", "timezone", "upstream_base_url", "whitebit_api_key", "api_secret_ciphertext"]
_CUSTOMER_FIELDS = ["name", "slug", "contact_emails", "status"]


def _acting(scope: Scope | None, *, provider_id: int, capability: Capability, actor: str) -> Scope:
    """The caller's scope after checking it may do this at this provider; a system scope when none is given."""
    if scope is None:
        return scope_for_system(provider_id=provider_id, actor=actor)
    if scope.provider_id != provider_id:
        raise NotFound("Not found")
    scope.require(capability)
    return scope


@transaction.atomic
def provider_secrets_rotate(*, actor: str = "command:rotate_encryption_keys") -> int:
    """Re-encrypt every provider's secret under the first key, all or nothing, rows locked in id order.

    The secret itself is unchanged; each provider's log still records that its stored secret was rewritten.
    """
    rotated = 0
    for provider in Provider.objects.select_for_update().exclude(api_secret_ciphertext="").order_by("pk"):
        before = audit_snapshot(provider, ["api_secret_ciphertext"])
        provider.api_secret_ciphertext = secret_rotate(provider.api_secret_ciphertext)
        provider.save(update_fields=["api_secret_ciphertext"])
        audit_record(scope=scope_for_system(provider_id=provider.pk, actor=actor), action="provider.secret_reencrypt",
                     target=provider, before=before, after=audit_snapshot(provider, ["api_secret_ciphertext"]))
        rotated += 1
    return rotated


@transaction.atomic
def provider_create(
    *,
    name: str,
    slug: str,
    upstream_base_url: str,
    api_key: str = "",
    api_secret: str = "",
    timezone: str = "UTC",
    actor: str = "system",
) -> Provider:
    provider = Provider(name=name, slug=slug, upstream_base_url=upstream_base_url, whitebit_api_key=api_key,
                        timezone=timezone)
    provider.set_api_secret(api_secret)
    provider.full_clean()
    provider.save()
    audit_record(scope=scope_for_system(provider_id=provider.pk, actor=actor), action="provider.create",
                 target=provider, after=audit_snapshot(provider, _PROVIDER_FIELDS))
    return provider


@transaction.atomic
def provider_credentials_set(
    *, provider: Provider, api_key: str, api_secret: str | None, scope: Scope | None = None, actor: str = "system",
    clear_secret: bool = False, person: Any | None = None,
) -> Provider:
    """Replace the key; replace the secret only when a new one is given (write-only: blank keeps it), or remove it
    (`clear_secret`).

    The person who replaces the secret (the scope's user, or `person`: a platform administrator acting through the
    Django admin as a system actor) gets it in their own security trail too (`pool_secret_rotate`); the provider's
    entry is this write's `provider.credentials_set`.
    """
    acting = _acting(scope, provider_id=provider.pk, capability=Capability.MANAGE_CREDENTIALS, actor=actor)
    before = audit_snapshot(provider, ["whitebit_api_key", "api_secret_ciphertext"])
    provider.whitebit_api_key = api_key
    if clear_secret:
        provider.set_api_secret("")
    elif api_secret:
        provider.set_api_secret(api_secret)
    provider.full_clean()
    provider.save(update_fields=["whitebit_api_key", "api_secret_ciphertext"])
    audit_record(scope=acting, action="provider.credentials_set", target=provider, before=before,
                 after=audit_snapshot(provider, ["whitebit_api_key", "api_secret_ciphertext"]))
    if person is None and acting.user_id is not None:
        person = User.objects.get(pk=acting.user_id)
    if (api_secret or clear_secret) and person is not None:
        security_event_record(user=person, kind=SecurityEvent.Kind.POOL_SECRET_ROTATE,
                              detail={"provider": provider.name, **({"removed": True} if clear_secret else {})},
                              tenant_scopes=[])
    return provider


SLUG_TAKEN = "This provider already has a customer with that slug."


def customer_create(
    *,
    provider: Provider,
    name: str,
    slug: str,
    contact_emails: list[str] | None = None,
    scope: Scope | None = None,
    actor: str = "system",
) -> Customer:
    """The one customer create (console, onboarding, API, seed): the name trimmed, the slug trimmed and lower-cased
    (so "ACME" is the same customer however it is typed), a taken slug a field error even under a concurrent
    create, and nothing half-written (the row and its audit entry commit together)."""
    acting = _acting(scope, provider_id=provider.pk, capability=Capability.MANAGE_CUSTOMERS, actor=actor)
    customer = Customer(provider=provider, name=(name or "").strip(), slug=(slug or "").strip().lower(),
                        contact_emails=contact_emails or [])
    customer.full_clean(validate_constraints=False)
    if scoped(Customer, acting).filter(slug=customer.slug).exists():
        raise ValidationError({"slug": SLUG_TAKEN})
    try:
        with transaction.atomic():
            customer.save()
            audit_record(scope=acting, action="customer.create", target=customer,
                         after=audit_snapshot(customer, _CUSTOMER_FIELDS))
    except IntegrityError as exc:  # a concurrent create took the slug between the check and the insert
        raise ValidationError({"slug": SLUG_TAKEN}) from exc
    return customer


def user_get_or_create(*, email: str, password: str | None = None) -> User:
    """Users sign in with their e-mail; the username is the lower-cased address."""
    email = email.strip().lower()
    user, created = User.objects.get_or_create(username=email, defaults={"email": email})
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return user


@transaction.atomic
def provider_membership_grant(
    *, provider: Provider, user: User, role: StaffRole | str, scope: Scope | None = None, actor: str = "system"
) -> ProviderMembership:
    """Make `user` staff of `provider` with `role` (or change their role). Only an owner may grant ownership."""
    acting = _acting(scope, provider_id=provider.pk, capability=Capability.MANAGE_STAFF, actor=actor)
    if scope is not None and role == StaffRole.OWNER and scope.role != StaffRole.OWNER:
        raise ValidationError({"role": "Only an owner can make someone an owner."})
    membership = ProviderMembership.objects.select_for_update().filter(provider=provider, user=user).first()
    if membership is not None and membership.role == role:
        return membership
    before = {"role": membership.role} if membership else {}
    if membership is None:
        membership = ProviderMembership.objects.create(provider=provider, user=user, role=role)
        action = "provider_membership.create"
    else:
        membership.role = role
        membership.save(update_fields=["role"])
        action = "provider_membership.update"
    audit_record(scope=acting, action=action, target=membership, before=before,
                 after={"role": membership.role, "user": user.pk})
    return membership


@transaction.atomic
def customer_membership_grant(
    *, customer: Customer, user: User, role: CustomerRole | str, scope: Scope | None = None, actor: str = "system"
) -> CustomerMembership:
    acting = _acting(scope, provider_id=customer.provider_id, capability=Capability.MANAGE_CUSTOMER_USERS,
                     actor=actor)
    if scope is not None and scope.customer_id not in (None, customer.pk):
        raise NotFound("Not found")
    if scope is not None and scope.kind == ScopeKind.CUSTOMER and role != CustomerRole.VIEWER:
        raise ValidationError({"role": "A customer admin can add viewers; ask your provider for another admin."})
    membership = CustomerMembership.objects.select_for_update().filter(customer=customer, user=user).first()
    if membership is not None and membership.role == role:
        return membership
    before = {"role": membership.role} if membership else {}
    if membership is None:
        membership = CustomerMembership.objects.create(customer=customer, user=user, role=role,
                                                       provider_id=customer.provider_id)
        action = "customer_membership.create"
    else:
        membership.role = role
        membership.save(update_fields=["role"])
        action = "customer_membership.update"
    audit_record(scope=acting, action=action, target=membership, before=before,
                 after={"role": membership.role, "user": user.pk})
    return membership
