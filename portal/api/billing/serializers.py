"""Billing on the wire: satoshis as `_sats` strings, BTC as `_btc` strings with 8 places, fee-currency amounts as
exact decimal strings. Inputs take decimals as strings only (a JSON number could already have been rounded)."""

from __future__ import annotations

import re
from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import (
    BtcPrice,
    Contract,
    ContractVersion,
    CoverageFallback,
    MaintenanceWindow,
    PowerMode,
    Statement,
)
from billing.money import btc_str
from portal.api.fields import SatsField, exact_decimal


def _decimal_pattern(integer_digits: int, places: int) -> str:
    return rf"[0-9]{{1,{integer_digits}}}(\.[0-9]{{1,{places}}})?"


class DecimalStringField(serializers.Field):
    """A non-negative exact decimal given as a string, no more digits than its column holds."""

    def __init__(self, *, integer_digits: int, places: int, **kwargs):
        self.regex = _decimal_pattern(integer_digits, places)
        self.places = places
        super().__init__(**kwargs)
        self.integer_digits = integer_digits

    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, str) or not re.fullmatch(self.regex, data):
            raise serializers.ValidationError(
                f"Give a non-negative decimal number as a string (e.g. \"45.5\"): at most {self.integer_digits} "
                f"digits before the point and {self.places} after.")
        return Decimal(data)

    def to_representation(self, value) -> str:
        return f"{value:f}"


class _DecimalStringFieldExtension(OpenApiSerializerFieldExtension):
    """drf-spectacular: each field documents its own pattern (the digits its column holds)."""

    target_class = DecimalStringField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": f"^{self.target.regex}$", "example": "45.5"}


@extend_schema_field({"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{8}$", "example": "0.00052341"})
class BtcField(serializers.Field):
    """Satoshis shown as BTC with exactly 8 places, as the exports write them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return btc_str(int(value))


def _bps(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=10_000, **kwargs)


class ContractTermsSerializer(serializers.Serializer):
    """What a version says. Amounts are in `fee_currency` (BTC or a fiat code); bps: 10000 is 100%."""

    revenue_share_bps = _bps(required=False, help_text="The provider's share of the net reward.")
    fee_currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, help_text="BTC, USD, EUR, …")
    machine_count = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)
    machine_fee_monthly = DecimalStringField(integer_digits=16, places=8, required=False,
                                             help_text="Per machine and month, in fee_currency.")
    power_mode = serializers.ChoiceField(choices=PowerMode.choices, required=False)
    power_kw = DecimalStringField(integer_digits=10, places=6, required=False)
    efficiency_j_per_th = DecimalStringField(integer_digits=8, places=4, required=False)
    price_per_kwh = DecimalStringField(integer_digits=16, places=8, required=False)
    minimum_monthly_fee = DecimalStringField(integer_digits=16, places=8, required=False)
    sla_uptime_bps = _bps(required=False, help_text="0: no uptime SLA.")
    sla_hashrate_hs = DecimalStringField(integer_digits=26, places=6, required=False)
    sla_credit_cap_bps = _bps(required=False)
    customer_addresses = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                               max_length=50, help_text="BTC addresses that count as the customer's.")
    coverage_threshold_bps = _bps(required=False, help_text="Below this share of 5-minute slots with data the "
                                  "contract's fallback prices the gap (default 9500).")
    coverage_fallback = serializers.ChoiceField(choices=CoverageFallback.choices, required=False,
                                                help_text="estimate (measured mean, default) or nameplate (power_kw).")


class ContractCreateSerializer(ContractTermsSerializer):
    customer_id = serializers.IntegerField(min_value=1)
    effective_from = serializers.DateField(help_text="First day the terms apply (YYYY-MM-DD).")


class ContractVersionCreateSerializer(ContractTermsSerializer):
    effective_from = serializers.DateField(help_text="First day the new terms apply; the current version ends the "
                                                     "day before.")


class ContractVersionSerializer(serializers.ModelSerializer):
    machine_fee_monthly = exact_decimal(help_text="Per machine and month, in fee_currency.")
    power_kw = exact_decimal()
    efficiency_j_per_th = exact_decimal()
    price_per_kwh = exact_decimal(help_text="In fee_currency.")
    minimum_monthly_fee = exact_decimal(help_text="In fee_currency.")
    sla_hashrate_hs = exact_decimal()
    customer_addresses = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ContractVersion
        fields = ["id", "contract_id", "customer_id", "effective_from", "effective_until", "revenue_share_bps",
                  "fee_currency", "machine_count", "machine_fee_monthly", "power_mode", "power_kw",
                  "efficiency_j_per_th", "price_per_kwh", "minimum_monthly_fee", "sla_uptime_bps", "sla_hashrate_hs",
                  "sla_credit_cap_bps", "customer_addresses", "coverage_threshold_bps", "coverage_fallback",
                  "created_at"]
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer):
    versions = ContractVersionSerializer(many=True, read_only=True, help_text="Oldest first; never overlapping.")

    class Meta:
        model = Contract
        fields = ["id", "customer_id", "created_at", "versions"]
        read_only_fields = fields


class BtcPriceSerializer(serializers.ModelSerializer):
    price = exact_decimal(help_text="Units of `currency` per 1 BTC, exact.")

    class Meta:
        model = BtcPrice
        fields = ["id", "currency", "period", "price", "as_of", "source", "created_at"]
        read_only_fields = fields


class BtcPriceCreateSerializer(serializers.Serializer):
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", help_text="A fiat code (USD, EUR, …).")
    period = serializers.RegexField(r"^[0-9]{4}-(0[1-9]|1[0-2])$", help_text="The month, YYYY-MM.")
    price = DecimalStringField(integer_digits=12, places=8, help_text="Fiat per 1 BTC.")
    as_of = serializers.DateField()
    source = serializers.CharField(max_length=200)


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    class Meta:
        model = MaintenanceWindow
        fields = ["id", "customer_id", "starts_at", "ends_at", "reason", "created_at"]
        read_only_fields = fields


class MaintenanceWindowCreateSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=200)
    customer_id = serializers.IntegerField(min_value=1, required=False, allow_null=True,
                                           help_text="Empty: every customer of the provider.")


# ------------------------------------------------------------------------------------------------ statements

_SATS_TOTALS = ["gross_sats", "pool_fee_sats", "net_sats", "provider_share_sats", "customer_share_sats",
                "held_by_provider_sats", "held_by_customer_sats", "hosting_fee_sats", "sla_credit_sats",
                "adjustments_sats", "pending_sats", "customer_net_sats"]


class _Totals(serializers.Serializer):
    """A statement's totals, integer satoshis as strings."""

    gross_sats = SatsField()
    pool_fee_sats = SatsField()
    net_sats = SatsField()
    provider_share_sats = SatsField()
    customer_share_sats = SatsField()
    held_by_provider_sats = SatsField()
    held_by_customer_sats = SatsField()
    hosting_fee_sats = SatsField()
    sla_credit_sats = SatsField()
    adjustments_sats = SatsField()
    pending_sats = SatsField(help_text="Pending rewards listed, not billed.")
    customer_net_sats = SatsField(help_text="Positive: the provider owes the customer.")


class StatementSummarySerializer(_Totals, serializers.ModelSerializer):
    """A closed statement's totals (the list)."""

    period = serializers.SerializerMethodField()
    customer_net_btc = BtcField(source="customer_net_sats")

    class Meta:
        model = Statement
        fields = ["id", "customer_id", "customer_name", "period", "period_end", *_SATS_TOTALS, "customer_net_btc",
                  "content_hash", "closed_at"]
        read_only_fields = fields

    def get_period(self, obj) -> str:
        return f"{obj.period:%Y-%m}"


class StatementLineSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.CharField(help_text="reward, late_reward, pending or adjustment.")
    reward_id = serializers.IntegerField(allow_null=True)
    account_id = serializers.IntegerField(allow_null=True)
    account_name = serializers.CharField()
    date = serializers.DateField(allow_null=True)
    gross_sats = SatsField()
    pool_fee_sats = SatsField()
    net_sats = SatsField()
    net_btc = BtcField(source="net_sats")
    revenue_share_bps = serializers.IntegerField()
    provider_share_sats = SatsField()
    customer_share_sats = SatsField()
    fpps_rate = serializers.SerializerMethodField()
    hashrate_hs = serializers.SerializerMethodField()
    paid_to = serializers.CharField()
    payout_address = serializers.CharField()
    tx_hash = serializers.CharField()
    memo = serializers.CharField()
    amount_sats = SatsField(help_text="Adjustments: the effect on customer_net_sats.")

    def get_fpps_rate(self, obj) -> str | None:
        return None if obj.fpps_rate is None else f"{obj.fpps_rate.normalize():f}"

    def get_hashrate_hs(self, obj) -> str | None:
        return None if obj.hashrate_hs is None else f"{obj.hashrate_hs.normalize():f}"


class StatementFeeSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.CharField(help_text="machines, power, minimum or sla_credit.")
    version_id = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive.")
    description = serializers.CharField()
    quantity = serializers.SerializerMethodField()
    unit = serializers.CharField()
    unit_price = serializers.SerializerMethodField()
    currency = serializers.CharField()
    amount = serializers.SerializerMethodField(help_text="In `currency`, rounded for display; negative for credits.")
    amount_sats = SatsField(help_text="Charged to the customer; negative for credits.")

    def get_quantity(self, obj) -> str:
        return f"{obj.quantity.normalize():f}"

    def get_unit_price(self, obj) -> str:
        return f"{obj.unit_price.normalize():f}"

    def get_amount(self, obj) -> str:
        return f"{obj.amount:f}"


class StatementSerializer(_Totals):
    """One customer's month: frozen once closed (with its content hash), else computed to date."""

    statement_id = serializers.IntegerField(allow_null=True, help_text="Null while the month is open.")
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    period = serializers.SerializerMethodField()
    period_end = serializers.DateField(help_text="Exclusive; before the month's end for a month to date.")
    is_closed = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    content_hash = serializers.CharField(help_text="SHA-256 of the closed content; empty while open.")
    customer_net_btc = BtcField(source="customer_net_sats")
    sla = serializers.ListField(child=serializers.DictField())
    rates = serializers.ListField(child=serializers.DictField())
    lines = StatementLineSerializer(many=True)
    fees = StatementFeeSerializer(many=True)

    def get_period(self, obj) -> str:
        return f"{obj.period:%Y-%m}"


