"""Display of a contract's terms as staff typed them: exact decimals without trailing zeros or exponents."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def plain(value: Decimal | int | None) -> str:
    """Decimal("100.00000000") → "100", Decimal("0.06500000") → "0.065" (exact, never an exponent)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


@register.filter
def grouped(value: Decimal | int | None) -> str:
    """Like `plain`, with thousands separated: Decimal("97000.00") → "97,000" (exact, never rounded)."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-') or 0):,}"
    return sign + whole + (f".{fraction}" if fraction else "")
