"""What the platform operator (a superuser, signed in with their second factor) does for providers: create one,
invite its first owner, set its pool credentials. No Django admin needed for daily work.

Why through these: each is the product's own service underneath (provider_create, invitation_create through the
outbox, provider_credentials_set with its write-only secret), acting as a system scope that names the operator, so
the provider's audit log says who did it and the person's own security trail records a replaced secret.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from tenants.access import Scope, ScopeKind
from tenants.models import Provider, StaffRole
from tenants.services.core import provider_create, provider_credentials_set
from tenants.services.invitations import InvitationResult, invitation_create


def _require_operator(operator: Any) -> str:
    if not (getattr(operator, "is_authenticated", False) and operator.is_active and operator.is_superuser):
        raise PermissionDenied("Only a platform operator can do this.")
    return f"platform operator {operator.email or operator.username}"


def platform_provider_create(*, operator: Any, name: str, slug: str, upstream_base_url: str,
                             timezone: str = "UTC") -> Provider:
    """A new provider (its pool credentials come later, write-only); audited in the new provider's log."""
    actor = _require_operator(operator)
    return provider_create(name=(name or "").strip(), slug=(slug or "").strip().lower(),
                           upstream_base_url=(upstream_base_url or "").strip(), timezone=timezone or "UTC",
                           actor=actor)


def _operator_scope(operator: Any, provider: Provider) -> Scope:
    # A system scope with an owner's standing (it may invite an owner), naming the operator in the audit log.
    return Scope(ScopeKind.SYSTEM, provider.pk, None, StaffRole.OWNER, operator.pk,
                 actor_label=_require_operator(operator))


def platform_owner_invite(*, operator: Any, provider: Provider, email: str) -> InvitationResult:
    """Invite the provider's owner through the one invitation service (an e-mail in the outbox, consent needed)."""
    return invitation_create(scope=_operator_scope(operator, provider), email=email, role=StaffRole.OWNER)


def platform_credentials_set(*, operator: Any, provider: Provider, api_key: str, api_secret: str) -> Provider:
    """Replace the provider's WhiteBIT key; the secret only when a new one is typed (blank keeps it)."""
    actor = _require_operator(operator)
    return provider_credentials_set(provider=provider, api_key=(api_key or "").strip() or provider.whitebit_api_key,
                                    api_secret=api_secret or None, actor=actor, person=operator)


# --- reads for the operator console (platform-wide by design: the operator runs every provider) ----------------


def platform_owners_by_provider() -> dict[int, list[str]]:
    """Each provider's owners' e-mail addresses, for the operator's list."""
    from tenants.models import ProviderMembership

    owners: dict[int, list[str]] = {}
    for m in ProviderMembership.objects.filter(role=StaffRole.OWNER).select_related("user").order_by("user__email"):
        owners.setdefault(m.provider_id, []).append(m.user.email)
    return owners


def platform_provider_people(provider: Provider) -> tuple[list, list]:
    """A provider's latest staff invitations and its owners, for the operator's provider page."""
    from tenants.models import Invitation, ProviderMembership

    invitations = list(Invitation.objects.filter(provider=provider, customer=None).order_by("-created_at")[:20])
    owners = list(ProviderMembership.objects.filter(provider=provider, role=StaffRole.OWNER).select_related("user"))
    return invitations, owners
