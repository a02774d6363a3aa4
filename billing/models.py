"""Billing's tables: contracts (versioned by effective date), BTC prices, maintenance windows, adjustments,
closed months and the statements they froze.

Every row leads with `provider` (and carries `customer` where it belongs to one) and declares
`TENANT_CUSTOMER_FIELD`, so it is read only through `tenants.access`. Written only by `billing.services`.
Amounts: `_sats` integers; fee amounts are exact decimals in the contract's fee currency.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mining.models import HASHRATE, MiningAccount, Reward
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


class BillingMonth(models.Model):
    """A provider's month: closed once; the row a close locks so two closes at once produce one set."""

    TENANT_CUSTOMER_FIELD = None

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    period = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    statement_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "period"], name="billing_month_unique")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} ({'closed' if self.closed_at else 'open'})"


class Statement(models.Model):
    """A closed month's statement of one customer: its totals, frozen; its lines below. Never edited."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    billing_month = models.ForeignKey(BillingMonth, on_delete=models.PROTECT, related_name="statements")
    period = models.DateField()
    period_end = models.DateField(help_text="Exclusive.")
    customer_name = models.CharField(max_length=200)
    gross_sats = models.BigIntegerField()
    pool_fee_sats = models.BigIntegerField()
    net_sats = models.BigIntegerField()
    provider_share_sats = models.BigIntegerField()
    customer_share_sats = models.BigIntegerField()
    held_by_provider_sats = models.BigIntegerField()
    held_by_customer_sats = models.BigIntegerField()
    hosting_fee_sats = models.BigIntegerField()
    sla_credit_sats = models.BigIntegerField()
    adjustments_sats = models.BigIntegerField()
    customer_net_sats = models.BigIntegerField()
    pending_sats = models.BigIntegerField()
    sla = models.JSONField(default=list, blank=True)
    rates = models.JSONField(default=list, blank=True)
    content_hash = models.CharField(max_length=64)
    closed_at = models.DateTimeField()

    class Meta:
        ordering = ["period", "customer_name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "customer", "period"], name="billing_statement_unique"),
            models.CheckConstraint(
                condition=models.Q(net_sats=models.F("provider_share_sats") + models.F("customer_share_sats")),
                name="billing_statement_shares_sum_to_net",
            ),
        ]
        indexes = [models.Index(fields=["provider", "period", "customer_name"])]

    def __str__(self) -> str:
        return f"{self.customer_name} {self.period:%Y-%m}"


class LineKind(models.TextChoices):
    REWARD = "reward", "Reward"
    LATE_REWARD = "late_reward", "Late reward (adjustment)"
    PENDING = "pending", "Pending (not billed)"
    ADJUSTMENT = "adjustment", "Adjustment"


class StatementLine(models.Model):
    """One reward (or adjustment) of a closed statement, as it was billed."""

    TENANT_CUSTOMER_FIELD = "customer"

    # Indexes kept to what is read (by statement; by reward, for "billed once"): a close writes 30 lines a customer.
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines", db_index=False)
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=LineKind.choices)
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               db_index=False)
    account = models.ForeignKey(MiningAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                db_index=False)
    account_name = models.CharField(max_length=255, blank=True)
    date = models.DateField(null=True, blank=True)
    gross_sats = models.BigIntegerField(default=0)
    pool_fee_sats = models.BigIntegerField(default=0)
    net_sats = models.BigIntegerField(default=0)
    revenue_share_bps = models.PositiveIntegerField(default=0)
    provider_share_sats = models.BigIntegerField(default=0)
    customer_share_sats = models.BigIntegerField(default=0)
    fpps_rate = models.DecimalField(max_digits=40, decimal_places=24, null=True, blank=True)
    hashrate_hs = models.DecimalField(**HASHRATE, null=True, blank=True)
    paid_to = models.CharField(max_length=10, blank=True, help_text="provider or customer: who holds it.")
    payout_address = models.CharField(max_length=100, blank=True)
    tx_hash = models.CharField(max_length=128, blank=True)
    memo = models.CharField(max_length=300, blank=True)
    amount_sats = models.BigIntegerField(default=0, help_text="Effect on the net figure (adjustments).")

    class Meta:
        ordering = ["statement_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "position"], name="billing_line_position"),
            # A reward is billed once, ever (pending listings are not billing).
            models.UniqueConstraint(
                fields=["reward"], condition=~models.Q(kind="pending"), name="billing_reward_billed_once"
            ),
            models.CheckConstraint(
                condition=models.Q(net_sats=models.F("provider_share_sats") + models.F("customer_share_sats")),
                name="billing_line_shares_sum_to_net",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.date} {self.net_sats}"


class FeeKind(models.TextChoices):
    MACHINES = "machines", "Hosting (per machine)"
    POWER = "power", "Power"
    MINIMUM = "minimum", "Minimum monthly charge"
    SLA_CREDIT = "sla_credit", "Uptime SLA credit"


class StatementFee(models.Model):
    """One fee (or credit) line of a closed statement: what was counted, at what price, in which currency."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="fees")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=FeeKind.choices)
    version = models.ForeignKey(ContractVersion, on_delete=models.PROTECT, related_name="+")
    start = models.DateField()
    end = models.DateField(help_text="Exclusive.")
    description = models.CharField(max_length=600)
    quantity = models.DecimalField(max_digits=32, decimal_places=8)
    unit = models.CharField(max_length=20)
    unit_price = models.DecimalField(**FIAT)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**FIAT, help_text="In the currency, rounded for display; negative for credits.")
    amount_sats = models.BigIntegerField(help_text="Charged to the customer; negative for credits.")
    coverage_bps = models.PositiveIntegerField(
        null=True, blank=True, help_text="Usage-based lines: share of the period's 5-minute slots with data.")

    class Meta:
        ordering = ["statement_id", "position"]
        constraints = [models.UniqueConstraint(fields=["statement", "position"], name="billing_fee_position")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_sats}"


class ExportKind(models.TextChoices):
    MONTH_XLSX = "month_xlsx", "Month workbook (XLSX: summary and every line)"
    MONTH_PDF_ZIP = "month_pdf_zip", "Every customer's PDF statement (ZIP)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Building"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """A large export of a closed month built by a Celery task, so the page can show its progress.

    Why a row and a lease: the page polls this row; the worker writes `done` and `heartbeat_at` as it goes. A job
    whose heartbeat is older than the lease (a killed worker, a lost queue) is marked failed with the reason, and
    staff retry it. At most one queued or running job per provider, month and kind: a double click reuses it.
    """

    TENANT_CUSTOMER_FIELD = None

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    kind = models.CharField(max_length=16, choices=ExportKind.choices)
    period = models.DateField(help_text="First day of the month.")
    status = models.CharField(max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_size = models.BigIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the building worker.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "period", "kind"], condition=models.Q(status__in=["queued", "running"]),
                name="billing_export_one_active_per_month_kind",
            )
        ]
        indexes = [models.Index(fields=["provider", "period", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.period:%Y-%m} ({self.status})"


# Invoices and payments (issue 19) live in their own module; imported here so Django registers them.
from billing.collection_models import (  # noqa: E402, F401
    CollectionPolicy,
    CollectionStep,
    CollectionStepKind,
    DelinquencySwitch,
)
from billing.invoice_models import (  # noqa: E402, F401
    BillingProfile,
    CustomerBillingDetails,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceSequence,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Settlement,
    TaxTreatment,
)
