"""Display filters for the units the models store: H/s and ratios. Exact to the digit shown; no floats.

Money (satoshis as BTC, fiat, basis points) is in the one money library, billing/templatetags/billing_money.py.
"""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

_HASH_UNITS = [("EH/s", 18), ("PH/s", 15), ("TH/s", 12), ("GH/s", 9), ("MH/s", 6), ("kH/s", 3)]


@register.filter
def hashrate(value_hs: Decimal | int | None) -> str:
    """1.23e14 H/s → "123.00 TH/s"."""
    if value_hs is None:
        return "–"
    value = Decimal(value_hs)
    for unit, exponent in _HASH_UNITS:
        if abs(value) >= Decimal(10) ** exponent:
            return f"{(value / Decimal(10) ** exponent).quantize(Decimal('0.01'))} {unit}"
    return f"{value.quantize(Decimal('0.01'))} H/s"


@register.filter
def percent(ratio) -> str:
    """A 0..1 ratio as a percentage with two places ("0.41 %"); exact Decimal rounding."""
    if ratio is None:
        return "–"
    return f"{(Decimal(ratio) * 100).quantize(Decimal('0.01'))} %"
