"""Writes for contracts (versioned by effective date), BTC prices, maintenance windows and adjustments.

Each checks `MANAGE_BILLING` itself, validates field by field before writing anything, and records one audit
entry in its own transaction. A closed month never changes: anything that would alter a closed statement (a
version it used, its BTC price, a maintenance window inside it) is refused; corrections are adjustments.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import (
    Adjustment,
    BillingMonth,
    BtcPrice,
    Contract,
    ContractVersion,
    CoverageFallback,
    EnergyEntry,
    MaintenanceWindow,
    PowerMode,
    Statement,
)
from billing.periods import day_start_at, month_end, month_start
from tenants.access import Capability, Scope, get_in_scope, scoped
from tenants.audit import audit_record
from tenants.models import Customer

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DECIMAL_FIELDS = ("machine_fee_monthly", "power_kw", "efficiency_j_per_th", "price_per_kwh", "minimum_monthly_fee",
                   "sla_hashrate_hs")


@dataclass
class ContractTerms:
    """What a contract version says. Amounts are in `fee_currency` (BTC or a fiat code), exact decimals."""

    revenue_share_bps: int = 0
    fee_currency: str = "BTC"
    machine_count: int = 0
    machine_fee_monthly: Decimal | str = Decimal(0)
    power_mode: str = PowerMode.NONE
    power_kw: Decimal | str = Decimal(0)
    efficiency_j_per_th: Decimal | str = Decimal(0)
    price_per_kwh: Decimal | str = Decimal(0)
    minimum_monthly_fee: Decimal | str = Decimal(0)
    sla_uptime_bps: int = 0
    sla_hashrate_hs: Decimal | str = Decimal(0)
    sla_credit_cap_bps: int = 0
    customer_addresses: list[str] = field(default_factory=list)
    coverage_threshold_bps: int = 9500
    coverage_fallback: str = CoverageFallback.ESTIMATE


def _int_field(errors: dict, name: str, value: Any, low: int, high: int | None, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = f"Give a whole number ({what})."
        return 0
    if value < low or (high is not None and value > high):
        errors[name] = f"Must be between {low} and {high} ({what})." if high is not None else \
            f"Must not be negative ({what})."
    return value


def contract_terms_clean(terms: ContractTerms) -> dict[str, Any]:
    """The terms as model fields, or a ValidationError naming every bad field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["revenue_share_bps"] = _int_field(errors, "revenue_share_bps", terms.revenue_share_bps, 0, 10_000,
                                          "basis points: 10000 is 100%")
    out["machine_count"] = _int_field(errors, "machine_count", terms.machine_count, 0, None, "machines")
    out["sla_uptime_bps"] = _int_field(errors, "sla_uptime_bps", terms.sla_uptime_bps, 0, 10_000,
                                       "basis points: 9500 is 95%")
    out["sla_credit_cap_bps"] = _int_field(errors, "sla_credit_cap_bps", terms.sla_credit_cap_bps, 0, 10_000,
                                           "basis points of the hosting fees")
    out["coverage_threshold_bps"] = _int_field(errors, "coverage_threshold_bps", terms.coverage_threshold_bps, 0,
                                               10_000, "basis points of the month's 5-minute slots: 9500 is 95%")
    if terms.coverage_fallback not in CoverageFallback.values:
        errors["coverage_fallback"] = f"Choose one of: {', '.join(CoverageFallback.values)}."
    out["coverage_fallback"] = terms.coverage_fallback
    for name in _DECIMAL_FIELDS:
        raw = getattr(terms, name)
        try:
            if isinstance(raw, float | bool):
                raise InvalidOperation
            value = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
            if not value.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[name] = f"“{raw}” is not a decimal number."
            continue
        if value < 0:
            errors[name] = "Must not be negative."
        elif value.as_tuple().exponent < -8 and name != "sla_hashrate_hs":  # type: ignore[operator]
            errors[name] = "At most 8 decimals."
        out[name] = value
    currency = str(terms.fee_currency or "").strip().upper()
    if not _CURRENCY.match(currency):
        errors["fee_currency"] = "Give BTC or a three-letter currency code such as USD or EUR."
    out["fee_currency"] = currency
    if terms.power_mode not in PowerMode.values:
        errors["power_mode"] = f"Choose one of: {', '.join(PowerMode.values)}."
    out["power_mode"] = terms.power_mode
    if "power_mode" not in errors and terms.power_mode != PowerMode.NONE:
        if not out.get("price_per_kwh"):
            errors.setdefault("price_per_kwh", "A power fee needs a price per kWh.")
        if terms.power_mode == PowerMode.CONTRACTED and not out.get("power_kw"):
            errors.setdefault("power_kw", "Contracted power needs the contracted kW.")
        if terms.power_mode == PowerMode.HASHRATE and not out.get("efficiency_j_per_th"):
            errors.setdefault("efficiency_j_per_th", "Power from hashrate needs the machines' efficiency in J/TH.")
        if (terms.power_mode == PowerMode.HASHRATE and terms.coverage_fallback == CoverageFallback.NAMEPLATE
                and not out.get("power_kw")):
            errors.setdefault("power_kw", "Billing nameplate power for missing data needs the nameplate kW.")
    if out.get("sla_uptime_bps") and not out.get("sla_hashrate_hs"):
        errors.setdefault("sla_hashrate_hs", "An uptime SLA needs the contracted hashrate (H/s).")
    addresses = terms.customer_addresses
    if not isinstance(addresses, list) or not all(isinstance(a, str) and a.strip() for a in addresses):
        errors["customer_addresses"] = "Give a list of BTC addresses (no empty entries)."
    else:
        out["customer_addresses"] = sorted({a.strip() for a in addresses})
    if errors:
        raise ValidationError(errors)
    return out


def _closed_until(scope: Scope, customer_id: int) -> date | None:
    """The end (exclusive) of the customer's last closed statement, or of the provider's last closed month."""
    last = scoped(Statement, scope).filter(customer_id=customer_id).order_by("-period_end").values_list(
        "period_end", flat=True).first()
    month = scoped(BillingMonth, scope).filter(closed_at__isnull=False).order_by("-period").values_list(
        "period", flat=True).first()
    ends = [d for d in (last, month_end(month) if month else None) if d]
    return max(ends) if ends else None


def _version_snapshot(v: ContractVersion) -> dict[str, Any]:
    return {f: getattr(v, f) for f in ("effective_from", "effective_until", *asdict(ContractTerms()).keys())}


def contract_version_create(*, scope: Scope, customer_id: int, effective_from: date, terms: ContractTerms,
                            now: datetime) -> ContractVersion:
    """A customer's contract (first version) or a new version of it from `effective_from`.

    A version from a day inside the open-ended current version ends that one the day before (a mid-month change
    splits the month there). Anything that would overlap a bounded version, or reach back into a closed month,
    is refused.
    """
    scope.require(Capability.MANAGE_BILLING)
    customer = get_in_scope(Customer, scope, pk=customer_id)
    fields = contract_terms_clean(terms)
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        raise ValidationError({"effective_from": "Give a date (YYYY-MM-DD)."})
    with transaction.atomic():
        contract, created = Contract.objects.get_or_create(
            provider_id=scope.provider_id, customer=customer, defaults={"created_at": now})
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        closed_until = _closed_until(scope, customer.pk)
        if closed_until and effective_from < closed_until:
            raise ValidationError({"effective_from": (
                f"{effective_from} falls in a closed month (closed up to {closed_until}); a closed statement never "
                f"changes. Start the version on {closed_until} or later, and correct the past with an adjustment.")})
        versions = list(scoped(ContractVersion, scope).filter(contract=contract).order_by("effective_from"))
        trimmed = None
        for v in versions:
            if v.effective_from >= effective_from or (v.effective_until and v.effective_until > effective_from):
                raise ValidationError({"effective_from": (
                    f"A version from {effective_from} would overlap the version from {v.effective_from} "
                    f"to {v.effective_until or 'open-ended'}; contract versions never overlap.")})
            if v.effective_until is None:
                trimmed = v
        if trimmed is not None:
            before = _version_snapshot(trimmed)
            trimmed.effective_until = effective_from
            trimmed.save(update_fields=["effective_until"])
            audit_record(scope=scope, action="contract.version_end", target=trimmed, before=before,
                         after=_version_snapshot(trimmed))
        version = ContractVersion.objects.create(
            provider_id=scope.provider_id, customer=customer, contract=contract, effective_from=effective_from,
            created_at=now, **fields)
        audit_record(scope=scope, action="contract.create" if created else "contract.version_create",
                     target=version, after=_version_snapshot(version))
    return version


def contract_version_update(*, scope: Scope, version_id: int, terms: ContractTerms) -> ContractVersion:
    """Correct a version's terms; refused once a closed statement has used it (add a new version instead)."""
    scope.require(Capability.MANAGE_BILLING)
    fields = contract_terms_clean(terms)
    with transaction.atomic():
        version = get_in_scope(ContractVersion.objects.select_for_update(), scope, pk=version_id)
        used = scoped(Statement, scope).filter(customer_id=version.customer_id, period__lt=version.effective_until
                                               or date.max, period_end__gt=version.effective_from)
        if used.exists():
            raise ValidationError({"version": (
                f"The version from {version.effective_from} was used by a closed statement "
                f"({used.order_by('period').first().period:%Y-%m}) and cannot change. Add a new version from the "
                f"next open month instead.")})
        before = _version_snapshot(version)
        for name, value in fields.items():
            setattr(version, name, value)
        version.save(update_fields=list(fields))
        audit_record(scope=scope, action="contract.version_update", target=version, before=before,
                     after=_version_snapshot(version))
    return version


def _month_is_closed(scope: Scope, period: date) -> bool:
    return scoped(BillingMonth, scope).filter(period=period, closed_at__isnull=False).exists()


def btc_price_record(*, scope: Scope, currency: str, period: date, price: Decimal | str, as_of: date, source: str,
                     now: datetime) -> BtcPrice:
    """The month's BTC price in a fiat currency (fiat fees of that month convert at it); refused once closed."""
    scope.require(Capability.MANAGE_BILLING)
    errors: dict[str, str] = {}
    currency = str(currency or "").strip().upper()
    if not _CURRENCY.match(currency) or currency == "BTC":
        errors["currency"] = "Give a three-letter fiat currency code such as USD or EUR."
    try:
        value = price if isinstance(price, Decimal) else Decimal(str(price).strip())
        if not value.is_finite() or value <= 0:
            errors["price"] = "The price of one BTC must be a positive number."
    except (InvalidOperation, ValueError):
        errors["price"] = f"“{price}” is not a decimal number."
        value = Decimal(0)
    if not isinstance(period, date) or period.day != 1:
        errors["period"] = "Give the month as its first day."
    if not isinstance(as_of, date):
        errors["as_of"] = "Give the date the price is from."
    if not str(source or "").strip():
        errors["source"] = "Say where the price comes from (e.g. WhiteBIT BTC/USD close)."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if _month_is_closed(scope, period):
            raise ValidationError({"period": f"{period:%Y-%m} is closed; its BTC price can no longer change."})
        existing = scoped(BtcPrice, scope).select_for_update().filter(currency=currency, period=period).first()
        before = {"price": existing.price, "as_of": existing.as_of, "source": existing.source} if existing else None
        obj, _ = BtcPrice.objects.update_or_create(
            provider_id=scope.provider_id, currency=currency, period=period,
            defaults={"price": value, "as_of": as_of, "source": source.strip(), "created_at": now})
        audit_record(scope=scope, action="btc_price.record", target=obj, before=before,
                     after={"price": value, "as_of": as_of, "source": source.strip()})
    return obj


def maintenance_window_create(*, scope: Scope, starts_at: datetime, ends_at: datetime, reason: str,
                              customer_id: int | None = None, now: datetime) -> MaintenanceWindow:
    """Planned work; its slots do not count against uptime. Refused inside a closed month."""
    scope.require(Capability.MANAGE_BILLING)
    errors: dict[str, str] = {}
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        errors["starts_at"] = "Give an aware date and time (UTC)."
    if not isinstance(ends_at, datetime) or ends_at.tzinfo is None:
        errors["ends_at"] = "Give an aware date and time (UTC)."
    elif "starts_at" not in errors and ends_at <= starts_at:
        errors["ends_at"] = "The window must end after it starts."
    if not str(reason or "").strip():
        errors["reason"] = "Say what the maintenance is."
    if errors:
        raise ValidationError(errors)
    customer = get_in_scope(Customer, scope, pk=customer_id) if customer_id is not None else None
    with transaction.atomic():
        month = month_start(starts_at.astimezone(UTC).date())
        while day_start_at(month) < ends_at:
            if _month_is_closed(scope, month):
                raise ValidationError({"starts_at": f"The window reaches into {month:%Y-%m}, which is closed."})
            month = month_end(month)
        window = MaintenanceWindow.objects.create(provider_id=scope.provider_id, customer=customer,
                                                  starts_at=starts_at, ends_at=ends_at, reason=reason.strip(),
                                                  created_at=now)
        audit_record(scope=scope, action="maintenance_window.create", target=window,
                     after={"starts_at": starts_at, "ends_at": ends_at, "reason": window.reason,
                            "customer": customer_id})
    return window


def adjustment_create(*, scope: Scope, customer_id: int, period: date, amount_sats: int, memo: str,
                      now: datetime) -> Adjustment:
    """A correction billed in an open month: positive means the provider owes the customer more."""
    scope.require(Capability.MANAGE_BILLING)
    errors: dict[str, str] = {}
    if isinstance(amount_sats, bool) or not isinstance(amount_sats, int) or amount_sats == 0:
        errors["amount_sats"] = "Give a non-zero whole number of satoshis (negative: the customer owes more)."
    if not str(memo or "").strip():
        errors["memo"] = "Say why (the customer reads it on the statement)."
    if not isinstance(period, date) or period.day != 1:
        errors["period"] = "Give the month as its first day."
    if errors:
        raise ValidationError(errors)
    customer = get_in_scope(Customer, scope, pk=customer_id)
    with transaction.atomic():
        if _month_is_closed(scope, period):
            raise ValidationError({"period": f"{period:%Y-%m} is closed; put the adjustment in an open month."})
        adjustment = Adjustment.objects.create(provider_id=scope.provider_id, customer=customer, period=period,
                                               amount_sats=amount_sats, memo=memo.strip(), created_at=now)
        audit_record(scope=scope, action="adjustment.create", target=adjustment,
                     after={"amount_sats": amount_sats, "memo": adjustment.memo, "period": period})
    return adjustment


def energy_entry_set(*, scope: Scope, customer_id: int, period: date, kwh: Decimal | str, memo: str,
                     now: datetime) -> EnergyEntry:
    """Enter (or replace) the month's energy for a customer the portal holds no hashrate for. Billing uses it only
    where a power line has no data at all and the contract names no nameplate power (docs/BILLING.md)."""
    scope.require(Capability.MANAGE_BILLING)
    errors: dict[str, str] = {}
    try:
        value = Decimal(str(kwh).strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or value < 0:
        errors["kwh"] = "Give the energy in kWh as a number of zero or more (e.g. 1250.5)."
    elif value.as_tuple().exponent < -3 or value >= Decimal("1e11"):
        errors["kwh"] = "Give at most three decimals and less than 100,000,000,000 kWh."
    if not str(memo or "").strip():
        errors["memo"] = "Say where the figure comes from (the customer reads it on the statement)."
    if not isinstance(period, date) or period.day != 1:
        errors["period"] = "Give the month as its first day."
    if errors:
        raise ValidationError(errors)
    customer = get_in_scope(Customer, scope, pk=customer_id)
    with transaction.atomic():
        if _month_is_closed(scope, period):
            raise ValidationError({"period": f"{period:%Y-%m} is closed; its statements cannot change."})
        before = scoped(EnergyEntry, scope).select_for_update().filter(customer=customer, period=period).first()
        entry, _ = EnergyEntry.objects.update_or_create(
            provider_id=scope.provider_id, customer=customer, period=period,
            defaults={"kwh": value, "memo": memo.strip(), "created_at": now})
        audit_record(scope=scope, action="energy_entry.set", target=entry,
                     before={"kwh": before.kwh, "memo": before.memo} if before else None,
                     after={"kwh": value, "memo": entry.memo, "period": period})
    return entry
