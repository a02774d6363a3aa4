"""Invoices, payments and billing details on the wire: invoice-currency amounts as exact decimal strings (2 places
for fiat, 8 for BTC), satoshis as BTC strings with 8 places. Inputs take amounts as strings only."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.invoicing import places
from billing.models.invoices import (
    CustomerBillingDetails,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
)
from billing.selectors.invoices import invoice_amount_due, invoice_status_on
from portal.api.billing.serializers import BtcField


def _money(value, currency: str) -> str:
    return f"{value:.{places(currency)}f}"


@extend_schema_field(OpenApiTypes.STR)
class AmountField(serializers.Field):
    """An invoice-currency amount, written with the currency's places."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return (super().get_attribute(instance), instance.currency if hasattr(instance, "currency")
                else instance.invoice.currency)

    def to_representation(self, value) -> str:
        amount, currency = value
        return _money(amount, currency)


class InvoiceLineSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField(help_text="In the invoice currency; negative for credits.")
    amount_btc = BtcField(source="amount_sats")
    quantity = serializers.SerializerMethodField()
    rate = serializers.SerializerMethodField()

    class Meta:
        model = InvoiceLine
        fields = ["position", "kind", "description", "quantity", "unit", "rate", "rate_currency", "amount",
                  "amount_btc", "coverage_bps"]
        read_only_fields = fields

    def get_amount(self, obj) -> str:
        return _money(obj.amount, obj.invoice.currency)

    def get_quantity(self, obj) -> str:
        return f"{obj.quantity.normalize():f}"

    def get_rate(self, obj) -> str:
        return f"{obj.rate.normalize():f}"


class InvoiceSummarySerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(help_text="issued, partially_paid, paid, overdue (past its due date "
                                                         "and not paid) or void (fully credited).")
    net_amount = AmountField()
    tax_amount = AmountField()
    total_amount = AmountField()
    amount_due = serializers.SerializerMethodField(help_text="What the customer still owes on it, in `currency`.")
    total_btc = BtcField(source="total_sats")
    period = serializers.DateField(format="%Y-%m")
    credited_invoice_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Invoice
        fields = ["id", "number", "kind", "customer_id", "period", "issue_date", "due_date", "currency",
                  "net_amount", "tax_amount", "total_amount", "total_btc", "amount_due", "status", "settlement",
                  "settlement_text", "credited_invoice_id"]
        read_only_fields = fields

    def get_status(self, obj) -> str:
        return invoice_status_on(obj, self.context["today"])

    def get_amount_due(self, obj) -> str:
        return _money(invoice_amount_due(obj), obj.currency)


class InvoiceSerializer(InvoiceSummarySerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    net_btc = BtcField(source="net_sats")
    tax_btc = BtcField(source="tax_sats")
    held_by_provider_btc = BtcField(source="held_by_provider_sats")
    withheld_btc = BtcField(source="withheld_sats")
    payable_to_customer_btc = BtcField(source="payable_to_customer_sats")
    btc_price = serializers.SerializerMethodField()

    class Meta(InvoiceSummarySerializer.Meta):
        fields = [*InvoiceSummarySerializer.Meta.fields, "period_end", "seller", "buyer", "tax_treatment",
                  "tax_rate_bps", "tax_note", "net_btc", "tax_btc", "held_by_provider_btc", "withheld_btc",
                  "payable_to_customer_btc", "btc_price", "btc_price_as_of", "btc_price_source", "reason", "lines"]
        read_only_fields = fields

    def get_btc_price(self, obj) -> str | None:
        return None if obj.btc_price is None else f"{obj.btc_price.normalize():f}"


class PaymentSerializer(serializers.ModelSerializer):
    amount = AmountField()
    applied_amount = AmountField(help_text="Of the amount, what paid the invoice; the rest is the customer's credit.")
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "invoice_id", "invoice_number", "customer_id", "paid_at", "amount", "applied_amount",
                  "currency", "method", "reference", "txid", "created_at"]
        read_only_fields = fields


class PaymentCreateSerializer(serializers.Serializer):
    invoice_id = serializers.IntegerField(min_value=1)
    amount = serializers.RegexField(r"^[0-9]{1,16}(\.[0-9]{1,8})?$", help_text='A decimal string, e.g. "312.40".')
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", help_text="The invoice's currency.")
    paid_at = serializers.DateField()
    method = serializers.ChoiceField(choices=[c for c in PaymentMethod.choices if c[0] != PaymentMethod.CREDIT])
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    txid = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False, allow_blank=True, default="",
                                  help_text="A Bitcoin payment's transaction id.")


class BillingDetailsSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerBillingDetails
        fields = ["customer_id", "legal_name", "address", "tax_id", "billing_email", "currency",
                  "payment_terms_days", "tax_treatment", "tax_rate_bps"]
        read_only_fields = fields


class BillingDetailsWriteSerializer(serializers.Serializer):
    """Types only: the service checks every value and answers field by field, as the portal's form does."""

    legal_name = serializers.CharField(required=False, allow_blank=True, help_text="At most 200 characters.")
    address = serializers.CharField(required=False, allow_blank=True, help_text="At most 1000 characters.")
    tax_id = serializers.CharField(required=False, allow_blank=True, help_text="Needed for a reverse charge.")
    billing_email = serializers.CharField(required=False, allow_blank=True)
    currency = serializers.CharField(required=False, help_text="BTC or a three-letter fiat code.")
    payment_terms_days = serializers.IntegerField(required=False, help_text="0–365; default 14.")
    tax_treatment = serializers.CharField(required=False, help_text="rate, reverse_charge or outside_scope.")
    tax_rate_bps = serializers.IntegerField(required=False, help_text="With `rate`: 2000 = 20 %.")


STATUS_CHOICES = [c[0] for c in InvoiceStatus.choices]
