"""The tenant tree and everything the tenants app stores, one module per entity.

Provider (the tenant root) -> Customer, and who may act in each (memberships); the audit log; the e-mail outbox;
accounts and access (invitations, recovery codes, security events); API tokens and idempotency records; a user's
own preferences. Every tenant-owned model elsewhere carries `provider` (and `customer` where it belongs to one) and
declares `TENANT_CUSTOMER_FIELD` so that `tenants.access.scoped()` can filter it; see that module.

Django finds an app's models by importing `tenants.models`: this module imports each entity's module, and
callers import from here (`from tenants.models import Customer`). `validate_timezone` is here too because the
migrations name it `tenants.models.validate_timezone`.
"""

from tenants.models.access import (
    AccountSecurity,
    Invitation,
    RecoveryCode,
    RecoveryCodeDevice,
    SecurityEvent,
    normalise_recovery_code,
)
from tenants.models.api import ApiToken, ApiTokenScope, IdempotencyRecord
from tenants.models.audit import AuditEntry
from tenants.models.brand import ProviderBrand
from tenants.models.customers import Customer
from tenants.models.email import OutboundEmail
from tenants.models.memberships import CustomerMembership, CustomerRole, ProviderMembership, StaffRole
from tenants.models.preferences import UserPreference
from tenants.models.providers import (
    PAYOUT_HOLD_HOURS_MAX,
    PAYOUT_HOLD_HOURS_MIN,
    Provider,
    Upstream,
    slug_validator,
    validate_timezone,
)

__all__ = [
    "ProviderBrand",
    "AccountSecurity",
    "ApiToken",
    "ApiTokenScope",
    "AuditEntry",
    "Customer",
    "CustomerMembership",
    "CustomerRole",
    "IdempotencyRecord",
    "Invitation",
    "OutboundEmail",
    "PAYOUT_HOLD_HOURS_MAX",
    "PAYOUT_HOLD_HOURS_MIN",
    "Provider",
    "ProviderMembership",
    "RecoveryCode",
    "RecoveryCodeDevice",
    "SecurityEvent",
    "StaffRole",
    "Upstream",
    "UserPreference",
    "normalise_recovery_code",
    "slug_validator",
    "validate_timezone",
]
