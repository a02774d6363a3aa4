"""Display filters for the units the models store: H/s and satoshis. Exact to the digit shown; no floats."""

from __future__ import annotations

from decimal import Decimal

from django import template

from billing import money

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
def btc(sats: int | None) -> str:
    """Satoshis as an exact 8-decimal BTC amount with its unit: 123456 → "0.00123456 BTC" (billing.money)."""
    return "–" if sats is None else f"{money.btc_str(sats)} BTC"


@register.filter
def btc_hover(sats: int | None) -> str:
    """The 8-place BTC amount with the exact satoshis in a tooltip (and for screen readers, in the title)."""
    from django.utils.html import format_html

    if sats is None:
        return "–"
    return format_html('<span class="btc" title="{} sats">{}</span>', f"{sats:,}", btc(sats))


@register.filter
def percent(ratio) -> str:
    """A 0..1 ratio as a percentage with two places ("0.41 %"); exact Decimal rounding."""
    if ratio is None:
        return "–"
    return f"{(Decimal(ratio) * 100).quantize(Decimal('0.01'))} %"
