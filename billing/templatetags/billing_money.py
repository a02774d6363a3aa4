"""Template filters for money: every figure a page or PDF shows goes through billing.money."""

from __future__ import annotations

from django import template

from billing import money

register = template.Library()


@register.filter
def btc(sats: int | None) -> str:
    """Satoshis as BTC with exactly 8 decimals."""
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
