"""A provider's own settings that owners and admins change in the console (not its WhiteBIT credentials' values).

Why MANAGE_CREDENTIALS: it is the capability of "the provider's own configuration", held by owners and admins
only and never by an API token, which is exactly who may decide what the provider's customers may do.
"""

from __future__ import annotations

from django.db import transaction

from tenants.access import Capability, Scope, get_in_scope
from tenants.audit import audit_record
from tenants.models import Provider


def provider_payout_policy_set(*, scope: Scope, customers_may_change_payout: bool) -> Provider:
    """Allow or forbid customer admins to change their accounts' payout destination themselves."""
    scope.require(Capability.MANAGE_CREDENTIALS)
    with transaction.atomic():
        provider = get_in_scope(Provider.objects.select_for_update(), scope, pk=scope.provider_id)
        if provider.customers_may_change_payout == customers_may_change_payout:
            return provider
        provider.customers_may_change_payout = customers_may_change_payout
        provider.save(update_fields=["customers_may_change_payout"])
        audit_record(scope=scope, action="provider.payout_policy_set", target=provider,
                     before={"customers_may_change_payout": not customers_may_change_payout},
                     after={"customers_may_change_payout": customers_may_change_payout})
    return provider
