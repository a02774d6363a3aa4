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
