"""A user's global credentials belong to the user: when a tenant's staff may touch them, and when not.

Why: a user is one row for the whole platform. Their password, second factor, sign-in lockout and sessions guard
every membership they hold, so a provider that resets one of them weakens the account at every other provider and
customer too (issue 15: a provider's owner could reset another tenant's user's authenticator and take over a
platform superuser). A tenant may therefore use these powers only on a user who is wholly its own: every membership
of the user lies inside the acting tenant, and the user is neither staff nor superuser of the platform. Anyone else
resets their own credentials, or a platform administrator does.

A refusal is audited in the acting tenant's log in its own transaction, so it is kept although the request fails.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.access import Scope, ScopeKind
from tenants.audit import audit_record
from tenants.models import CustomerMembership, ProviderMembership

OTHER_ORGANISATION = ("This person also belongs to another organisation: they reset it themselves, or a platform "
                      "administrator does.")
PLATFORM_ACCOUNT = ("This is a platform administrator's account: only they, or another platform administrator, can "
                    "change its sign-in.")


def user_is_wholly_within(*, scope: Scope, user: Any) -> bool:
    """Whether every membership of `user` lies inside the acting tenant (a provider, or one customer for a customer
    admin), and the user holds no platform role. A system scope (a platform task) counts as the platform."""
    if user.is_staff or user.is_superuser:
        return False
    if scope.kind == ScopeKind.SYSTEM:
        return True
    if scope.kind == ScopeKind.CUSTOMER:
        return (not ProviderMembership.objects.filter(user=user).exists()
                and not CustomerMembership.objects.filter(user=user).exclude(customer_id=scope.customer_id).exists())
    return (not ProviderMembership.objects.filter(user=user).exclude(provider_id=scope.provider_id).exists()
            and not CustomerMembership.objects.filter(user=user).exclude(provider_id=scope.provider_id).exists())


def user_power_require(*, scope: Scope, user: Any, action: str, customer_id: int | None = None) -> None:
    """Refuse (ValidationError, in words) and audit the refusal unless `user` is wholly this tenant's.

    Call it before the write's own transaction: the refusal's entry must commit although the caller then fails.
    """
    if user_is_wholly_within(scope=scope, user=user):
        return
    reason = PLATFORM_ACCOUNT if (user.is_staff or user.is_superuser) else OTHER_ORGANISATION
    with transaction.atomic():
        audit_record(scope=scope, action=f"{action}.refused", target=user, object_repr=user.email,
                     customer_id=customer_id, after={"refused": reason})
    raise ValidationError(reason)
