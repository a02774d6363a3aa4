"""Contracts (versioned by effective date), BTC prices, maintenance windows, adjustments and metered energy:
the inputs a month's close prices.

Every row leads with `provider` (and carries `customer` where it belongs to one) and declares
`TENANT_CUSTOMER_FIELD`, so it is read only through `tenants.access`. Written only by `billing.services`.
Fee amounts are exact decimals in the contract's fee currency.
"""

from __future__ import annotations

from django.db import models

from mining.models import HASHRATE
from tenants.models import Customer, Provider

FIAT = {"max_digits": 24, "decimal_places": 8}  # fees in the fee currency (BTC or fiat), exact


class PowerMode(models.TextChoices):
    NONE = "none", "No power fee"
    CONTRACTED = "contracted", "Contracted kW × hours"
    HASHRATE = "hashrate", "Energy derived from the pool's hashrate"


class CoverageFallback(models.TextChoices):
    """How a usage-based line is priced when the portal holds too few of the month's 5-minute slots."""

    ESTIMATE = "estimate", "Estimate the missing slots from the measured mean"
    NAMEPLATE = "nameplate", "Bill the contracted nameplate power for the missing slots"


class Contract(models.Model):
    """One customer's contract: the anchor its dated versions hang from (and the row a version write locks)."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "customer"], name="billing_contract_one_per_customer")
        ]

    def __str__(self) -> str:
        return f"Contract of customer #{self.customer_id}"


class ContractVersion(models.Model):
    """The terms in force from `effective_from` until the day before `effective_until` (open-ended when empty)."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateField()
    effective_until = models.DateField(null=True, blank=True, help_text="Exclusive; empty means open-ended.")
    revenue_share_bps = models.PositiveIntegerField(default=0)
    fee_currency = models.CharField(max_length=3, default="BTC")
    machine_count = models.PositiveIntegerField(default=0)
    machine_fee_monthly = models.DecimalField(**FIAT, default=0)
    power_mode = models.CharField(max_length=12, choices=PowerMode.choices, default=PowerMode.NONE)
    power_kw = models.DecimalField(max_digits=16, decimal_places=6, default=0)
    efficiency_j_per_th = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    price_per_kwh = models.DecimalField(**FIAT, default=0)
    minimum_monthly_fee = models.DecimalField(**FIAT, default=0)
    sla_uptime_bps = models.PositiveIntegerField(default=0, help_text="0 = no SLA.")
    sla_hashrate_hs = models.DecimalField(**HASHRATE, default=0)
    sla_credit_cap_bps = models.PositiveIntegerField(default=0)
    customer_addresses = models.JSONField(default=list, blank=True)
    coverage_threshold_bps = models.PositiveIntegerField(
        default=9500, help_text="Below this share of 5-minute slots with data, the fallback prices the gap.")
    coverage_fallback = models.CharField(max_length=10, choices=CoverageFallback.choices,
                                         default=CoverageFallback.ESTIMATE)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["customer_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "effective_from"], name="billing_version_unique_start"),
            models.CheckConstraint(condition=models.Q(revenue_share_bps__lte=10_000), name="billing_share_max"),
        ]
        indexes = [models.Index(fields=["provider", "customer", "effective_from"])]

    def __str__(self) -> str:
        until = self.effective_until.isoformat() if self.effective_until else "open"
        return f"Contract of customer #{self.customer_id} from {self.effective_from} to {until}"


class BtcPrice(models.Model):
    """The BTC price staff recorded for one fiat currency and month: fiat fees of that month convert at it."""

    TENANT_CUSTOMER_FIELD = None

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    period = models.DateField(help_text="First day of the month.")
    price = models.DecimalField(max_digits=20, decimal_places=8, help_text="Fiat per 1 BTC.")
    as_of = models.DateField()
    source = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "currency", "period"], name="billing_btc_price_per_month")
        ]

    def __str__(self) -> str:
        return f"1 BTC = {self.price} {self.currency} ({self.period:%Y-%m})"


class MaintenanceWindow(models.Model):
    """Planned work entered by staff: its 5-minute slots do not count against the uptime SLA."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Empty: every customer of the provider.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["provider", "starts_at"])]

    def __str__(self) -> str:
        return f"Maintenance {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}: {self.reason}"


class Adjustment(models.Model):
    """A correction entered by staff for a month still open. Positive: the provider owes the customer more."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    period = models.DateField(help_text="First day of the month it is billed in.")
    amount_sats = models.BigIntegerField()
    memo = models.CharField(max_length=300)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["provider", "customer", "period"])]

    def __str__(self) -> str:
        return f"Adjustment {self.amount_sats} sats ({self.period:%Y-%m}): {self.memo}"


class EnergyEntry(models.Model):
    """Energy staff entered for a customer's month that has no hashrate at all and no nameplate power on the
    contract: the explicit choice billing asks for, instead of pricing the gap as zero without a word."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    period = models.DateField(help_text="First day of the month the energy is for.")
    kwh = models.DecimalField(max_digits=14, decimal_places=3)
    memo = models.CharField(max_length=300, help_text="Where the figure comes from (the customer reads it).")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "customer", "period"], name="energy_entry_one_per_month"),
            models.CheckConstraint(condition=models.Q(kwh__gte=0), name="energy_entry_kwh_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Energy {self.kwh} kWh ({self.period:%Y-%m}): {self.memo}"
