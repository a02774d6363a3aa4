"""Money properties (Hypothesis, thousands of cases, negative amounts included): exact splits, one-satoshi bound,
determinism, and the one rounding mode."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing import money

nets = st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=0, max_size=60)
bps = st.integers(min_value=0, max_value=10_000)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=-(10**12), max_value=10**12), bps), max_size=60))
def test_shares_sum_to_net_per_line_and_statement_and_stay_within_one_satoshi(lines):
    net = [n for n, _ in lines]
    rate = [b for _, b in lines]
    total, provider = money.provider_shares(net, rate)
    customer = [n - p for n, p in zip(net, provider, strict=True)]
    assert sum(provider) == total
    assert sum(provider) + sum(customer) == sum(net)
    for n, b, p, c in zip(net, rate, provider, customer, strict=True):
        assert p + c == n
        assert abs(p - Fraction(n * b, 10_000)) < 1
    exact_total = sum((Fraction(n * b, 10_000) for n, b in lines), Fraction(0))
    assert abs(total - exact_total) <= Fraction(1, 2)
    # Deterministic: the same input, the same parts, every time.
    assert money.provider_shares(net, rate) == (total, provider)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.fractions(min_value=-(10**9), max_value=10**9, max_denominator=10**6), max_size=40))
def test_allocate_any_exact_shares(shares):
    total, parts = money.allocate_rounded(shares)
    assert sum(parts) == total
    assert all(abs(p - s) < 1 for p, s in zip(parts, shares, strict=True))


def test_rounding_is_half_to_even_and_named_once():
    assert [money.round_sats(Fraction(n, 2)) for n in (1, 3, 5, -1, -3)] == [0, 2, 2, 0, -2]
    assert money.round_sats(Fraction(7, 3)) == 2 and money.round_sats(Fraction(-7, 3)) == -2
    assert money.ROUNDING_NAME == "half to even"
    assert money.quantize(Fraction(1, 8), 2) == Decimal("0.12")  # 0.125 → even


def test_largest_remainder_example_and_ties_go_to_the_earlier_line():
    # 25% of 1000, 2001, 3003: exact 250, 500.25, 750.75 → total 1501; the 0.75 line gets the missing satoshi.
    assert money.provider_shares([1000, 2001, 3003], [2500] * 3) == (1501, [250, 500, 751])
    assert money.allocate(1, [Fraction(1, 2), Fraction(1, 2)]) == [1, 0]


def test_btc_strings_have_exactly_eight_places_and_refuse_floats():
    assert money.btc_str(0) == "0.00000000"
    assert money.btc_str(-12345) == "-0.00012345"
    assert money.btc_str(2_100_000_000_000_000) == "21000000.00000000"
    assert money.fiat_to_sats_exact(Decimal("300"), Decimal("60000")) == 500_000
    with pytest.raises(TypeError):
        money.exact(0.1)


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=-(10**17), max_value=10**17))
def test_btc_string_is_the_exact_conversion(sats):
    assert money.btc_str(sats) == f"{money.sats_to_btc(sats):.8f}"
    assert money.btc_to_sats(Decimal(money.btc_str(sats))) == sats
