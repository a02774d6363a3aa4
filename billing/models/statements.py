"""Closed months and the statements they froze: lines per account and day, and the fee lines.

A statement is an audit trail: once its month is closed nothing in it changes (an invoice is issued from it).
Amounts: `_sats` integers; fee amounts exact decimals.
"""

from __future__ import annotations

from django.db import models

from billing.models.contracts import FIAT, ContractVersion
from mining.models import HASHRATE, MiningAccount, Reward
from tenants.models import Customer, Provider


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
