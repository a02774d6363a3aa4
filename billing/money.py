"""Billing's money, in one place: rounding (one named mode), fiat conversion, largest-remainder allocation, display.

Why one module: a bill is only checkable if every figure on it was rounded the same way, once. Everything that
billing, its templates and its exports show goes through here; the pool's decimal parsing and the exact
satoshi/BTC conversion are reused from `mining.whitebit.amounts` (never a second converter).

Arithmetic is done on `Fraction`s (exact rationals): a revenue share of 2,500 bps of 12,345 sats is exactly
3086.25 sats until the one place it becomes an integer. Nothing here ever touches a float.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from mining.whitebit.amounts import SATS_PER_BTC, btc_to_sats, sats_to_btc

__all__ = [
    "ROUNDING",
    "ROUNDING_NAME",
    "SATS_PER_BTC",
    "allocate",
    "allocate_rounded",
    "allocate_scaled",
    "btc_str",
    "btc_to_sats",
    "exact",
    "fiat_to_sats_exact",
    "provider_shares",
    "quantize",
    "round_sats",
    "sats_to_btc",
]

# The one rounding mode of billing: half to even ("banker's rounding"), so ties do not drift one way over many
# statements. Written on every statement and in docs/BILLING.md.
ROUNDING = ROUND_HALF_EVEN
ROUNDING_NAME = "half to even"
BPS = 10_000


class AllocationError(ValueError):
    """The total cannot be spread over the lines within one unit of each exact share (a programming error)."""


def exact(value: Decimal | int | Fraction) -> Fraction:
    """The exact rational of a Decimal or int (a Decimal converts without loss; floats are refused)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"refusing {type(value).__name__} in money arithmetic")
    if isinstance(value, Fraction):
        return value
    return Fraction(value)


def round_sats(value: Fraction | Decimal | int) -> int:
    """The integer nearest to `value`, ties to even: the only place billing turns an exact amount into satoshis."""
    q = exact(value)
    floor, rem = divmod(q.numerator, q.denominator)
    twice = 2 * rem
    if twice > q.denominator or (twice == q.denominator and floor % 2 == 1):
        return floor + 1
    return floor


def quantize(value: Fraction | Decimal | int, places: int) -> Decimal:
    """An exact amount shown with `places` decimals, rounded with the same mode (fiat, kWh, percentages)."""
    q = exact(value)
    scaled = round_sats(q * 10**places)
    return Decimal(scaled).scaleb(-places).quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)


def allocate(total: int, shares: Sequence[Fraction]) -> list[int]:
    """Spread an integer `total` over lines whose exact shares are `shares`, by largest remainder.

    Each line gets the floor of its exact share; the units still missing go to the lines with the largest
    fractional parts (ties: the earlier line), so the parts sum to `total` exactly and each is within one unit of
    its exact share. Deterministic: the same input always gives the same parts. Works for negative shares
    (adjustments) because floor and the fractional part are taken on the rationals.
    """
    exacts = [exact(s) for s in shares]
    denominator = math.lcm(*(q.denominator for q in exacts)) if exacts else 1
    return allocate_scaled(total, [q.numerator * (denominator // q.denominator) for q in exacts], denominator)


def allocate_scaled(total: int, numerators: Sequence[int], denominator: int) -> list[int]:
    """`allocate` for shares numerators[i] / denominator, in integers only (the fast path for revenue shares)."""
    floors = []
    remainders = []
    for n in numerators:
        f, r = divmod(n, denominator)  # floor division: r is in [0, denominator) for negatives too
        floors.append(f)
        remainders.append(r)
    missing = total - sum(floors)
    if missing < 0 or missing > sum(1 for r in remainders if r):
        raise AllocationError(f"cannot spread {total} over shares summing to {Fraction(sum(numerators), denominator)}")
    if missing:
        order = sorted(range(len(remainders)), key=lambda i: (-remainders[i], i))
        for i in order[:missing]:
            floors[i] += 1
    return floors


def allocate_rounded(shares: Sequence[Fraction]) -> tuple[int, list[int]]:
    """Round the total of the exact shares once, then spread it over the lines: (total, parts)."""
    total = round_sats(sum((exact(s) for s in shares), Fraction(0)))
    return total, allocate(total, shares)


def provider_shares(nets_sats: Sequence[int], bps: Sequence[int]) -> tuple[int, list[int]]:
    """The provider's share of each line, allocated on the statement's total (see `allocate`).

    The customer's share of a line is its net minus this, so the two always add up to the net exactly.
    """
    numerators = [n * b for n, b in zip(nets_sats, bps, strict=True)]
    total = round_sats(Fraction(sum(numerators), BPS))
    return total, allocate_scaled(total, numerators, BPS)


def fiat_to_sats_exact(amount: Fraction | Decimal, btc_price: Decimal) -> Fraction:
    """The exact satoshis of a fiat amount at a BTC price (fiat per BTC); round it with `round_sats` once."""
    price = exact(btc_price)
    if price <= 0:
        raise ValueError("a BTC price must be positive")
    return exact(amount) * SATS_PER_BTC / price


def btc_str(sats: int) -> str:
    """A satoshi integer as a BTC decimal string with exactly 8 places ("-0.00012345"): exports and pages.

    Integer division only (exports call it millions of times); equal to `sats_to_btc` formatted with 8 places.
    """
    if isinstance(sats, bool) or not isinstance(sats, int):
        raise TypeError(f"expected int satoshis, got {type(sats).__name__}")
    whole, frac = divmod(abs(sats), SATS_PER_BTC)
    return f"{'-' if sats < 0 else ''}{whole}.{frac:08d}"


def fiat_str(amount: Fraction | Decimal | int, places: int = 2) -> str:
    """A fiat amount with `places` decimals, rounded with the one mode."""
    return f"{quantize(amount, places):.{places}f}"
