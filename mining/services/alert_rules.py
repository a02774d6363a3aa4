"""Alert rules from the staff console: what to watch, for one account, one customer's accounts, or all of them."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from mining.models import AlertChannel, AlertKind, AlertRule, MiningAccount
from tenants.access import Capability, Scope, get_in_scope, scoped
from tenants.audit import audit_record, audit_snapshot
from tenants.models import Customer

_FIELDS = ["customer", "account", "kind", "floor_hs", "drop_bps", "duration_minutes", "notify_customer", "is_enabled",
           "repeat_s"]
MAX_REPEAT_S = 7 * 24 * 3600


def alert_rule_create(
    *, scope: Scope, kind: str, customer_id: int | None = None, account_id: int | None = None,
    floor_hs: Decimal | None = None, drop_bps: int | None = None, duration_minutes: int = 10,
    notify_customer: bool = True, repeat_s: int = 3600, channel_ids: list[int] | None = None,
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
    if not (repeat_s == 0 or 300 <= repeat_s <= MAX_REPEAT_S):
        errors["repeat_s"] = "Repeat every 5 minutes to 7 days, or 0 for never."
    with transaction.atomic():
        channels = _channels(scope, channel_ids, errors)
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
            notify_customer=notify_customer, repeat_s=repeat_s,
        )
        rule.channels.set(channels)
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


def _channels(scope: Scope, channel_ids: list[int] | None, errors: dict[str, str]) -> list[AlertChannel]:
    """The provider's own channels named (a rule routes staff alerts; customers route theirs themselves)."""
    if not channel_ids:
        return []
    found = list(scoped(AlertChannel, scope).filter(pk__in=channel_ids, customer__isnull=True))
    missing = sorted(set(channel_ids) - {c.pk for c in found})
    if missing:
        errors["channels"] = "Not channels of this provider: " + ", ".join(map(str, missing)) + "."
    return found


def alert_rule_update(*, scope: Scope, rule_id: int, **changes) -> AlertRule:
    """Change a rule's threshold, sustain time, repeat, channels, customer notice or on/off; audited before/after."""
    scope.require(Capability.MANAGE_ACCOUNTS)
    errors: dict[str, str] = {}
    with transaction.atomic():
        rule = get_in_scope(AlertRule.objects.select_for_update(), scope, pk=rule_id)
        before = audit_snapshot(rule, _FIELDS)
        channel_ids = changes.pop("channel_ids", None)
        for name, value in changes.items():
            if name not in ("floor_hs", "drop_bps", "duration_minutes", "repeat_s", "notify_customer", "is_enabled"):
                errors[name] = "This cannot be changed; make a new rule."
                continue
            setattr(rule, name, value)
        if rule.kind == AlertKind.HASHRATE_FLOOR and (rule.floor_hs is None or rule.floor_hs <= 0):
            errors["floor_hs"] = "A floor needs a hashrate above zero."
        if rule.kind == AlertKind.HASHRATE_DROP and (rule.drop_bps is None or not 1 <= rule.drop_bps <= 10000):
            errors["drop_bps"] = "Give the share of the 24-hour mean between 0.01 % and 100 %."
        if not 1 <= rule.duration_minutes <= 24 * 60:
            errors["duration_minutes"] = "Between 1 minute and 24 hours."
        if not (rule.repeat_s == 0 or 300 <= rule.repeat_s <= MAX_REPEAT_S):
            errors["repeat_s"] = "Repeat every 5 minutes to 7 days, or 0 for never."
        channels = _channels(scope, channel_ids, errors) if channel_ids is not None else None
        if errors:
            raise ValidationError(errors)
        rule.save()
        if channels is not None:
            rule.channels.set(channels)
        audit_record(scope=scope, action="alert_rule.update", target=rule, before=before,
                     after=audit_snapshot(rule, _FIELDS))
    return rule
