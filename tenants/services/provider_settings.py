"""A provider's own settings that owners and admins change in the console (not its WhiteBIT credentials' values):
whether customers may change their payout destination, and how long a payout change is held.

Why MANAGE_CREDENTIALS: it is the capability of "the provider's own configuration", held by owners and admins
only and never by an API token, which is exactly who may decide what the provider's customers may do.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.access import Capability, Scope, get_in_scope
from tenants.audit import audit_record
from tenants.models import PAYOUT_HOLD_HOURS_MAX, PAYOUT_HOLD_HOURS_MIN, Provider


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


def provider_payout_hold_set(*, scope: Scope, payout_hold_hours: object) -> Provider:
    """How long a confirmed payout change waits, cancelable, before it is sent to the pool (0–72 hours).

    Applies to changes confirmed from now on; one already held keeps the due time it was announced with."""
    scope.require(Capability.MANAGE_CREDENTIALS)
    try:
        hours = int(str(payout_hold_hours).strip())
    except (TypeError, ValueError):
        raise ValidationError({"payout_hold_hours": "Give a whole number of hours from 0 to 72."}) from None
    if not PAYOUT_HOLD_HOURS_MIN <= hours <= PAYOUT_HOLD_HOURS_MAX:
        raise ValidationError({"payout_hold_hours": (
            f"Give a hold time from {PAYOUT_HOLD_HOURS_MIN} to {PAYOUT_HOLD_HOURS_MAX} hours (you gave {hours}).")})
    with transaction.atomic():
        provider = get_in_scope(Provider.objects.select_for_update(), scope, pk=scope.provider_id)
        if provider.payout_hold_hours == hours:
            return provider
        before = provider.payout_hold_hours
        provider.payout_hold_hours = hours
        provider.save(update_fields=["payout_hold_hours"])
        audit_record(scope=scope, action="provider.payout_hold_set", target=provider,
                     before={"payout_hold_hours": before}, after={"payout_hold_hours": hours})
    return provider
