"""Forms of the billing set-up pages: human units in (percent, BTC, TH/s, local time), exact values out.

Why the forms check so little: the rules live in billing.services.contracts (and `contract_terms_clean`), so the
forms only turn what staff type into the service's units, exactly (Decimal, never float), and the service's
field errors are put back on the field staff typed into (`errors_to_form`). Fields the service checks itself are
optional here, so one submit shows all of its errors at once.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import ContractVersion, CoverageFallback, PowerMode
from billing.periods import month_parse
from billing.services.contracts import ContractTerms
from mining.whitebit.amounts import AmountError, btc_to_sats, decimal_from_api
from portal.access_forms import form_errors_from
from portal.timezones import local_to_utc
from portal.views.once import OnceForm

TH = Decimal(10) ** 12
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")

# The service's field names, where the form's field has another name because it takes other units.
SERVICE_TO_FORM = {
    "revenue_share_bps": "revenue_share_percent",
    "sla_uptime_bps": "sla_uptime_percent",
    "sla_credit_cap_bps": "sla_credit_cap_percent",
    "coverage_threshold_bps": "coverage_threshold_percent",
    "sla_hashrate_hs": "sla_hashrate_ths",
    "amount_sats": "amount_btc",
    "version": "__all__",
}


def _in_form_units(field: str, errors: list[ValidationError]) -> list:
    """The service counts shares in basis points; staff typed percent, so its range error is said in percent."""
    if not field.endswith("_bps"):
        return errors
    return ["Must be between 0 and 100 %." if str(e.message).startswith("Must be between") else e for e in errors]


def errors_to_form(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form, each message on the field staff typed the value into."""
    if hasattr(exc, "error_dict"):
        exc = ValidationError({SERVICE_TO_FORM.get(k, k): _in_form_units(k, v) for k, v in exc.error_dict.items()})
    form_errors_from(form, exc)


def number(raw: str, *, blank: str = "0") -> Decimal:
    """A decimal typed by a person ("25", "0.5", "1,5" is refused): exact, or a ValidationError in words."""
    text = (raw or "").strip() or blank
    if not _NUMBER.match(text):
        raise ValidationError(f"“{raw}” is not a number (use a dot for decimals, e.g. 12.5).")
    return Decimal(text)


def percent_to_bps(raw: str) -> int:
    """25.5 (%) → 2550 basis points, exactly; more than two decimals cannot be a whole basis point."""
    bps = number(raw) * 100
    if bps != bps.to_integral_value():
        raise ValidationError("At most two decimals (0.01 % is one basis point).")
    return int(bps)


def bps_to_percent(bps: int) -> Decimal:
    return (Decimal(bps) / 100).quantize(Decimal("0.01"))


def btc_amount_to_sats(raw: str) -> int:
    """A BTC amount ("-0.00012345") as whole satoshis, exactly; finer than one satoshi is refused."""
    try:
        return btc_to_sats(decimal_from_api((raw or "").strip(), field="amount"))
    except AmountError as exc:
        if "decimals" in str(exc):
            raise ValidationError("At most 8 decimals (one satoshi is 0.00000001 BTC).") from exc
        raise ValidationError(f"“{raw}” is not a BTC amount (e.g. 0.00150000, or -0.001 for a charge).") from exc


class BillingForm(OnceForm):
    """A billing form sent once (portal/views/once.py); the service's refusals land on the fields staff typed into."""

    def errors_from(self, exc: ValidationError) -> None:
        errors_to_form(self, exc)


_DATE = forms.DateInput(attrs={"type": "date"})
_MONTH = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})


def _text(label: str, help_text: str = "", initial: str = "0", **attrs) -> forms.CharField:
    return forms.CharField(label=label, help_text=help_text, initial=initial, required=False, max_length=40,
                           widget=forms.TextInput(attrs={"inputmode": "decimal", **attrs}))


class ContractTermsForm(BillingForm):
    """All the terms of a contract version (`ContractTerms`), in the units staff think in."""

    revenue_share_percent = _text("Revenue share (%)", "The provider's share of the customer's net pool rewards: "
                                  "25 means 25.00 %.")
    fee_currency = forms.CharField(label="Fee currency", initial="BTC", max_length=8, required=False,
                                   help_text="BTC, or a fiat code such as USD (converted at the month's BTC price).")
    machine_count = _text("Machines (contracted count)", inputmode="numeric")
    machine_fee_monthly = _text("Fee per machine and month", "In the fee currency.")
    power_mode = forms.ChoiceField(label="Power fee", choices=PowerMode.choices, initial=PowerMode.NONE)
    power_kw = _text("Contracted power (kW)", "For “contracted kW × hours”.")
    efficiency_j_per_th = _text("Efficiency (J/TH)", "For “energy derived from the pool's hashrate”.")
    price_per_kwh = _text("Price per kWh", "In the fee currency.")
    minimum_monthly_fee = _text("Minimum monthly charge", "In the fee currency; 0 for none.")
    sla_uptime_percent = _text("Uptime SLA (%)", "E.g. 95; 0 for no SLA.")
    sla_hashrate_ths = _text("Contracted hashrate (TH/s)", "What the SLA measures uptime against.")
    sla_credit_cap_percent = _text("SLA credit cap (% of the hosting fees)")
    coverage_threshold_percent = _text(
        "Data coverage threshold (%)", "Below this share of the month's 5-minute slots with hashrate, usage-based "
        "lines are priced by the fallback below and closing asks for confirmation.", initial="95")
    coverage_fallback = forms.ChoiceField(label="When data is missing", choices=CoverageFallback.choices,
                                          initial=CoverageFallback.ESTIMATE, required=False)
    customer_addresses = forms.CharField(
        label="The customer's own payout addresses", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: rewards paid there count as held by the customer.")

    def terms(self) -> ContractTerms:
        """The typed terms in the service's units; a ValidationError naming this form's fields otherwise."""
        data, errors, out = self.cleaned_data, {}, {}
        for name, target in (("revenue_share_percent", "revenue_share_bps"), ("sla_uptime_percent", "sla_uptime_bps"),
                             ("sla_credit_cap_percent", "sla_credit_cap_bps"),
                             ("coverage_threshold_percent", "coverage_threshold_bps")):
            if name == "coverage_threshold_percent" and not (data[name] or "").strip():
                continue  # left empty: the default threshold (95 %)
            try:
                out[target] = percent_to_bps(data[name])
            except ValidationError as exc:
                errors[name] = exc.messages
        try:
            out["sla_hashrate_hs"] = number(data["sla_hashrate_ths"]) * TH
        except ValidationError as exc:
            errors["sla_hashrate_ths"] = exc.messages
        if errors:
            raise ValidationError(errors)
        count = (data["machine_count"] or "0").strip()
        return ContractTerms(
            **out,
            fee_currency=data["fee_currency"] or "BTC",
            machine_count=int(count) if re.fullmatch(r"\d+", count) else count,  # the service names a bad one
            power_mode=data["power_mode"],
            coverage_fallback=data["coverage_fallback"] or CoverageFallback.ESTIMATE,
            **{f: (data[f] or "0").strip() for f in ("machine_fee_monthly", "power_kw", "efficiency_j_per_th",
                                                      "price_per_kwh", "minimum_monthly_fee")},
            customer_addresses=[a.strip() for a in data["customer_addresses"].splitlines() if a.strip()],
        )

    @staticmethod
    def initial_from(version: ContractVersion) -> dict:
        """A version's terms as the form shows them (basis points as percent, H/s as TH/s)."""
        plain = lambda d: format(d.normalize(), "f")  # noqa: E731 (Decimal without exponent or trailing zeros)
        return {
            "revenue_share_percent": bps_to_percent(version.revenue_share_bps),
            "fee_currency": version.fee_currency, "machine_count": version.machine_count,
            "machine_fee_monthly": plain(version.machine_fee_monthly), "power_mode": version.power_mode,
            "power_kw": plain(version.power_kw), "efficiency_j_per_th": plain(version.efficiency_j_per_th),
            "price_per_kwh": plain(version.price_per_kwh), "minimum_monthly_fee": plain(version.minimum_monthly_fee),
            "sla_uptime_percent": bps_to_percent(version.sla_uptime_bps),
            "sla_hashrate_ths": plain(version.sla_hashrate_hs / TH),
            "sla_credit_cap_percent": bps_to_percent(version.sla_credit_cap_bps),
            "customer_addresses": "\n".join(version.customer_addresses or []),
            "coverage_threshold_percent": bps_to_percent(version.coverage_threshold_bps),
            "coverage_fallback": version.coverage_fallback,
        }


class ContractVersionNewForm(ContractTermsForm):
    effective_from = forms.DateField(label="In force from (UTC day)", widget=_DATE,
                                     help_text="A version from a day inside the current one ends that one the day "
                                               "before: the month is split there.")

    field_order = ["effective_from"]


class MonthField(forms.CharField):
    """A month typed as YYYY-MM (the browser's month picker sends that), as its first day."""

    widget = _MONTH

    def to_python(self, value) -> date | None:
        value = super().to_python(value)
        if not value:
            return None
        try:
            return month_parse(value)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["period"]) from exc


class BtcPriceForm(BillingForm):
    currency = forms.CharField(label="Currency", max_length=8, initial="USD", required=False,
                               help_text="e.g. USD or EUR.")
    period = MonthField(label="Month (YYYY-MM)", help_text="Fiat fees of this month convert at this price.")
    price = forms.CharField(label="Price of 1 BTC", max_length=40,
                            widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    as_of = forms.DateField(label="Price date", widget=_DATE)
    source = forms.CharField(label="Source", max_length=200, required=False,
                             help_text="Named on the statement, e.g. WhiteBIT BTC/USD close.")

    def clean_price(self) -> Decimal:
        return number(self.cleaned_data["price"], blank="")


class WallClockField(forms.DateTimeField):
    """A date and time as typed, without a zone: the form applies the user's zone itself (`local_to_utc`), so a
    daylight-saving gap gets our message instead of Django's, whatever zone the request has active."""

    def to_python(self, value):
        with timezone.override(UTC):
            result = super().to_python(value)
        return None if result is None else result.replace(tzinfo=None)


class MaintenanceWindowForm(BillingForm):
    customer_id = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Customer")
    starts_at = WallClockField(label="Starts", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = WallClockField(label="Ends", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(label="What is done", max_length=200, required=False)

    def __init__(self, *args, customers, zone: ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["customer_id"].choices = [("", "every customer")] + list(customers)
        for name in ("starts_at", "ends_at"):
            self.fields[name].help_text = f"Your time ({zone.key})."

    def _aware(self, name: str) -> datetime:
        value = self.cleaned_data[name]
        return local_to_utc(value, self.zone)

    def clean_starts_at(self) -> datetime:
        return self._aware("starts_at")

    def clean_ends_at(self) -> datetime:
        return self._aware("ends_at")


class AdjustmentForm(BillingForm):
    period = MonthField(label="Billed in month (YYYY-MM)", help_text="An open month.")
    amount_btc = forms.CharField(label="Amount (BTC)", max_length=40,
                                 widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                                 help_text="Positive: the provider owes the customer more; negative: the customer "
                                           "owes more.")
    memo = forms.CharField(label="Why (the customer reads it)", max_length=300, required=False)

    def clean_amount_btc(self) -> int:
        return btc_amount_to_sats(self.cleaned_data["amount_btc"])


class EnergyEntryForm(BillingForm):
    """The month's energy for a customer without hashrate data and without nameplate power on the contract."""

    period = MonthField(label="Month (YYYY-MM)", help_text="An open month whose power line has no hashrate.")
    kwh = forms.CharField(label="Energy (kWh)", max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                          help_text="The month's metered energy, e.g. from the PDU or the utility bill.")
    memo = forms.CharField(label="Where the figure comes from (the customer reads it)", max_length=300,
                           required=False)
