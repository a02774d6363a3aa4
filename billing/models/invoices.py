"""Invoices and payments: the provider's billing profile, each customer's billing details, the invoices issued
from closed statements (with their credit notes), the per-provider number sequence, and payments.

Why apart from the statements: the statement is an audit trail; an invoice is a legal document that snapshots both
parties at issue and is never edited (a credit note corrects it). Imported by the package so Django sees it.
Amounts: `_sats` integers; invoice-currency amounts exact decimals (2 places for fiat, 8 for BTC).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models import Customer, Provider

AMOUNT = {"max_digits": 24, "decimal_places": 8}


class TaxTreatment(models.TextChoices):
    RATE = "rate", "VAT at a rate"
    REVERSE_CHARGE = "reverse_charge", "Reverse charge (customer's foreign tax id)"
    OUTSIDE_SCOPE = "outside_scope", "Outside the scope of VAT"


class BillingProfile(models.Model):
    """The provider's legal details printed on every invoice (the staff Settings page; one per provider)."""

    TENANT_CUSTOMER_FIELD = None

    provider = models.OneToOneField(Provider, on_delete=models.PROTECT, related_name="+")
    legal_name = models.CharField(max_length=200, blank=True)
    address = models.TextField(max_length=1000, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    logo_data_uri = models.TextField(blank=True, help_text="A PNG or JPEG logo as a data: URI (at most 200 kB).")
    payment_instructions = models.TextField(max_length=2000, blank=True)
    footer = models.TextField(max_length=1000, blank=True)
    invoice_prefix = models.CharField(max_length=12, default="INV")
    default_payment_terms_days = models.PositiveSmallIntegerField(default=14)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Billing profile of provider #{self.provider_id}"


class CustomerBillingDetails(models.Model):
    """Who an invoice is addressed to, in which currency, with which terms and tax treatment."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="+")
    legal_name = models.CharField(max_length=200, blank=True)
    address = models.TextField(max_length=1000, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    billing_email = models.EmailField(blank=True)
    currency = models.CharField(max_length=3, default="BTC")
    payment_terms_days = models.PositiveSmallIntegerField(default=14)
    tax_treatment = models.CharField(max_length=16, choices=TaxTreatment.choices, default=TaxTreatment.OUTSIDE_SCOPE)
    tax_rate_bps = models.PositiveIntegerField(default=0, help_text="With a rate: 2000 = 20.00 %.")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(tax_rate_bps__lte=10_000), name="billing_details_tax_max"),
        ]

    def __str__(self) -> str:
        return f"Billing details of customer #{self.customer_id}"


class InvoiceSequence(models.Model):
    """The last number given per provider and year: locked (SELECT … FOR UPDATE) while a number is drawn, so two
    issues at once can neither skip nor repeat a number."""

    TENANT_CUSTOMER_FIELD = None

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "year"], name="billing_invoice_sequence_year")]

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    OVERDUE = "overdue", "Overdue"
    VOID = "void", "Void"


class Settlement(models.TextChoices):
    CUSTOMER_PAYS = "customer_pays", "The customer pays the amount due"
    PROVIDER_PAYS = "provider_pays", "The provider withheld its fees and pays the rest"


class Invoice(models.Model):
    """An invoice (or a credit note) issued from a closed statement; both parties snapshotted; never edited.

    `status` is stored as issued / partially_paid / paid / void; `overdue` is read at query time (an issued or
    partly paid invoice past its due date), so no clock job has to flip rows.
    """

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    statement = models.ForeignKey("billing.Statement", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    credited_invoice = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="credit_notes")
    number = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    issue_date = models.DateField()
    due_date = models.DateField()
    period = models.DateField()
    period_end = models.DateField(help_text="Exclusive.")
    currency = models.CharField(max_length=3)
    seller = models.JSONField(default=dict)
    buyer = models.JSONField(default=dict)
    tax_treatment = models.CharField(max_length=16, choices=TaxTreatment.choices)
    tax_rate_bps = models.PositiveIntegerField(default=0)
    tax_note = models.CharField(max_length=300, blank=True)
    net_amount = models.DecimalField(**AMOUNT)
    tax_amount = models.DecimalField(**AMOUNT)
    total_amount = models.DecimalField(**AMOUNT)
    net_sats = models.BigIntegerField()
    tax_sats = models.BigIntegerField()
    total_sats = models.BigIntegerField()
    held_by_provider_sats = models.BigIntegerField(default=0, help_text="The customer's coins the provider holds.")
    withheld_sats = models.BigIntegerField(default=0, help_text="Of the total, covered from the coins held.")
    withheld_amount = models.DecimalField(**AMOUNT, default=0)
    payable_to_customer_sats = models.BigIntegerField(default=0)
    settlement = models.CharField(max_length=16, choices=Settlement.choices)
    settlement_text = models.CharField(max_length=400)
    btc_price = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    btc_price_as_of = models.DateField(null=True, blank=True)
    btc_price_source = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED)
    reason = models.CharField(max_length=300, blank=True, help_text="A credit note's reason.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-issue_date", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "number"], name="billing_invoice_number_unique"),
            models.UniqueConstraint(fields=["provider", "year", "sequence"], name="billing_invoice_sequence_unique"),
            models.UniqueConstraint(fields=["provider", "customer", "period"], condition=models.Q(kind="invoice"),
                                    name="billing_invoice_one_per_statement"),
        ]
        indexes = [models.Index(fields=["provider", "period", "customer"]),
                   models.Index(fields=["provider", "customer", "-issue_date"])]

    def __str__(self) -> str:
        return self.number


class InvoiceLineKind(models.TextChoices):
    MACHINE_FEE = "machine_fee", "Hosting (per machine)"
    POWER = "power", "Power"
    MINIMUM = "minimum", "Minimum monthly charge"
    REVENUE_SHARE = "revenue_share", "Revenue share"
    SLA_CREDIT = "sla_credit", "Uptime SLA credit"
    ADJUSTMENT = "adjustment", "Adjustment"
    CORRECTION = "correction", "Correction"


class InvoiceLine(models.Model):
    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=InvoiceLineKind.choices)
    description = models.CharField(max_length=600)
    quantity = models.DecimalField(max_digits=32, decimal_places=8)
    unit = models.CharField(max_length=20)
    rate = models.DecimalField(**AMOUNT)
    rate_currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT, help_text="In the invoice currency; negative for credits.")
    amount_sats = models.BigIntegerField()
    coverage_bps = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["invoice_id", "position"]
        constraints = [models.UniqueConstraint(fields=["invoice", "position"], name="billing_invoice_line_position")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    BTC = "btc", "Bitcoin"
    CARD = "card", "Card"
    CASH = "cash", "Cash"
    OTHER = "other", "Other"
    CREDIT = "credit", "Credit from an earlier overpayment"


class Payment(models.Model):
    """Money received against an invoice. What exceeds the invoice's amount due stays the customer's credit and
    is applied to the next invoice in the same currency (a `credit` payment)."""

    TENANT_CUSTOMER_FIELD = "customer"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    paid_at = models.DateField()
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=200, blank=True)
    txid = models.CharField(max_length=64, blank=True)
    applied_amount = models.DecimalField(**AMOUNT, help_text="Of the amount, what paid the invoice.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-paid_at", "-id"]
        indexes = [models.Index(fields=["provider", "customer", "-paid_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="billing_payment_positive"),
            models.CheckConstraint(condition=models.Q(applied_amount__lte=models.F("amount")),
                                   name="billing_payment_applied_le_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.paid_at}"
