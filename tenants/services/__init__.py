"""Writes of the tenant tree and of accounts and access, one module a seam; the public names stay importable here.

`core`: providers, customers, memberships. `invitations`, `team`, `two_factor`, `sessions`, `lockout`: issue 9.
"""

from tenants.services.core import (
    User,
    customer_create,
    customer_membership_grant,
    provider_create,
    provider_credentials_set,
    provider_membership_grant,
    provider_secrets_rotate,
    user_get_or_create,
)

__all__ = [
    "User",
    "customer_create",
    "customer_membership_grant",
    "provider_create",
    "provider_credentials_set",
    "provider_membership_grant",
    "provider_secrets_rotate",
    "user_get_or_create",
]
