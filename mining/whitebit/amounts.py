"""Exact parsing of the pool's decimal strings, and BTC <-> satoshi conversion.

Billing conserves every satoshi, so nothing on this path may pass through a binary float: amounts and hashrates
arrive as JSON strings and are parsed with `Decimal(str)`; the few JSON numbers (`rejectRate`) are parsed by
`json.loads(..., parse_float=Decimal)` in the client, so a float never exists. `decimal_from_api` refuses floats
outright, which turns a regression (someone parsing JSON without `parse_float`) into a loud error, not a rounding bug.
"""

from __future__ import annotations

import re
from decimal import Decimal

SATS_PER_BTC = 100_000_000
BTC_DECIMALS = 8
# Guards `10**exponent` against a hostile "1e999999999"; 21 million BTC needs an exponent of 8 at most.
_MAX_EXPONENT = 30

# A plain decimal literal: optional sign, digits, optional fraction, optional exponent. Excludes NaN, Infinity,
# whitespace and underscores, all of which `Decimal()` would otherwise accept.
_DECIMAL_LITERAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class AmountError(ValueError):
    """A value that cannot be an exact amount (not a decimal, not finite, or finer than one satoshi)."""


def decimal_from_api(value: object, *, field: str = "value") -> Decimal:
    """Parse a decimal string (or an int / a Decimal produced by `parse_float=Decimal`) exactly."""
    if isinstance(value, bool):
        raise AmountError(f"{field}: expected a decimal, got a boolean")
    if isinstance(value, float):
        raise AmountError(f"{field}: refusing a float ({value!r}); parse JSON with parse_float=Decimal")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise AmountError(f"{field}: not a finite number ({value!r})")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL_LITERAL.match(value):
        return Decimal(value)
    raise AmountError(f"{field}: not a decimal literal ({value!r})")


def btc_to_sats(amount: Decimal) -> int:
    """Exact integer satoshis for a BTC amount; raises if the amount has a non-zero digit beyond the 8th decimal.

    Trailing zeros past the 8th decimal ("0.100000000") are accepted: the value is still a whole number of sats.
    Works on the digit tuple, never the decimal context, so no precision limit or rounding mode can interfere.
    """
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise AmountError(f"expected Decimal, got {type(amount).__name__}")
    if isinstance(amount, int):
        return amount * SATS_PER_BTC
    if not amount.is_finite():
        raise AmountError(f"not a finite amount: {amount!r}")
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    coefficient = int("".join(map(str, digits))) if digits else 0
    if exponent > _MAX_EXPONENT:
        raise AmountError(f"implausibly large amount: {amount!r}")
    shift = exponent + BTC_DECIMALS
    if shift >= 0:
        sats = coefficient * 10**shift
    else:
        divisor = 10**-shift
        if coefficient % divisor:
            raise AmountError(f"{amount} BTC has more than {BTC_DECIMALS} decimals (finer than one satoshi)")
        sats = coefficient // divisor
    return -sats if sign else sats


def sats_to_btc(sats: int) -> Decimal:
    """The exact BTC Decimal for an integer of satoshis, always with 8 decimals."""
    if isinstance(sats, bool) or not isinstance(sats, int):
        raise AmountError(f"expected int satoshis, got {type(sats).__name__}")
    digits = tuple(int(d) for d in str(abs(sats)))
    return Decimal((1 if sats < 0 else 0, digits, -BTC_DECIMALS))
