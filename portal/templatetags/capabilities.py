"""`{% if scope|can:"manage_accounts" %}`: show an action only to whoever the service would let do it.

The same check as the service's `scope.require(...)` (tenants/access.py), so a read-only member never sees a button
that would answer 403.
"""

from __future__ import annotations

from django import template

from tenants.access import Capability, Scope

register = template.Library()


@register.filter
def can(scope: Scope | None, capability: str) -> bool:
    return isinstance(scope, Scope) and scope.can(Capability(capability))


@register.filter
def role_label(role: str) -> str:
    """A role in words ("Read-only", not `read_only`), staff or customer."""
    from tenants.models import CustomerRole, StaffRole

    for choices in (StaffRole, CustomerRole):
        if role in choices.values:
            return str(choices(role).label)
    return str(role).replace("_", " ").capitalize()


@register.filter
def can_revoke(scope: Scope | None, invitation) -> bool:
    """What `invitation_revoke` checks: staff invitations need manage_staff, a customer's need manage_customer_users."""
    need = Capability.MANAGE_STAFF if getattr(invitation, "customer_id", None) is None else \
        Capability.MANAGE_CUSTOMER_USERS
    return isinstance(scope, Scope) and scope.can(need)
