"""Alert rules from the staff console: what to watch, for one account, one customer's accounts, or all of them."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from mining.models import AlertKind, AlertRule, MiningAccount
from tenants.access import Capability, Scope, get_in_scope
from tenants.audit import audit_record, audit_snapshot
from tenants.models import Customer

_FIELDS = ["customer", "account", "kind", "floor_hs", "drop_bps", "duration_minutes", "notify_customer", "is_enabled"]


def alert_rule_create(
    *, scope: Scope, kind: str, customer_id: int | None = None, account_id: int | None = None,
    floor_hs: Decimal | None = None, drop_bps: int | None = None, duration_minutes: int = 15,
    notify_customer: bool = True,
) -> AlertRule:
    """Check every field first (errors by field, nothing written), then create and audit in one transaction."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    errors: dict[str, str] = {}
    if kind not in AlertKind.values or kind == AlertKind.EMAIL_UNDELIVERED:  # mail failures are always watched
        errors["kind"] = "Choose what to watch."
    if kind == AlertKind.HASHRATE_FLOOR and (floor_hs is None or floor_hs <= 0):
        errors["floor_hs"] = "A floor needs a hashrate above zero."
    if kind == AlertKind.HASHRATE_DROP and (drop_bps is None or not 1 <= drop_bps <= 10000):
        errors["drop_bps"] = "Give the share of the 24-hour mean between 0.01 % and 100 %."
    if not 1 <= duration_minutes <= 24 * 60:
        errors["duration_minutes"] = "Between 1 minute and 24 hours."
    with transaction.atomic():
        customer = get_in_scope(Customer, scope, pk=customer_id) if customer_id else None
        account = get_in_scope(MiningAccount, scope, pk=account_id) if account_id else None
        if account is not None and customer is not None and account.customer_id != customer.pk:
            errors["account"] = f"{account.name} is not held by {customer.name}."
        if errors:
            raise ValidationError(errors)
        rule = AlertRule.objects.create(
            provider_id=scope.provider_id, customer=customer or (account.customer if account else None),
            account=account, kind=kind, floor_hs=floor_hs if kind == AlertKind.HASHRATE_FLOOR else None,
            drop_bps=drop_bps if kind == AlertKind.HASHRATE_DROP else None, duration_minutes=duration_minutes,
            notify_customer=notify_customer,
        )
        audit_record(scope=scope, action="alert_rule.create", target=rule, after=audit_snapshot(rule, _FIELDS))
    return rule


def alert_rule_set_enabled(*, scope: Scope, rule_id: int, enabled: bool) -> AlertRule:
    scope.require(Capability.MANAGE_ACCOUNTS)
    with transaction.atomic():
        rule = get_in_scope(AlertRule.objects.select_for_update(), scope, pk=rule_id)
        if rule.is_enabled != enabled:
            rule.is_enabled = enabled
            rule.save(update_fields=["is_enabled"])
            audit_record(scope=scope, action="alert_rule.enable" if enabled else "alert_rule.disable", target=rule,
                         before={"is_enabled": not enabled}, after={"is_enabled": enabled})
    return rule
