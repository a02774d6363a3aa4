"""The one money template library: every figure a page or PDF shows goes through billing.money.

Each filter has its own name (before, `portal/templatetags/units.py` had another `btc` with other output, and a
template loading both got whichever it loaded last):
* `btc`: satoshis with the unit, "0.00123456 BTC" ("–" for none), for sentences and cards;
* `btc_hover`: the same with the exact satoshis in a tooltip;
* `btc_plain`: the bare 8-decimal number ("" for none), for statement tables whose column says BTC;
* `bps_pct`, `fiat`, `rounding_name`.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from billing import money

register = template.Library()


@register.filter
def btc(sats: int | None) -> str:
    """Satoshis as an exact 8-decimal BTC amount with its unit: 123456 → "0.00123456 BTC"."""
    return "–" if sats is None else f"{money.btc_str(sats)} BTC"


@register.filter
def btc_hover(sats: int | None) -> str:
    """The 8-place BTC amount with the exact satoshis in a tooltip (and for screen readers, in the title)."""
    if sats is None:
        return "–"
    return format_html('<span class="btc" title="{} sats">{}</span>', f"{sats:,}", btc(sats))


@register.filter
def btc_plain(sats: int | None) -> str:
    """Satoshis as BTC with exactly 8 decimals, without the unit."""
    return "" if sats is None else money.btc_str(sats)


@register.filter
def bps_pct(bps: int | None) -> str:
    """Basis points as a percentage with two decimals (2500 → 25.00)."""
    return "" if bps is None else money.fiat_str(money.exact(bps) / 100)


@register.filter
def fiat(amount, places: int = 2) -> str:
    return "" if amount is None else money.fiat_str(amount, int(places))


@register.simple_tag
def rounding_name() -> str:
    return money.ROUNDING_NAME


@register.filter
def plain_decimal(value) -> str:
    """An exact decimal without its padding zeros: the pool's FPPS rate 0.000125000000000000000000 → 0.000125.
    Exact (normalised, never rounded), never in exponent notation."""
    if value is None or value == "":
        return ""
    from decimal import Decimal

    text = format(Decimal(value).normalize(), "f")
    return text
