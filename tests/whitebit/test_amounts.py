"""Exactness of amount parsing: decimal strings to Decimal to integer satoshis, and JSON numbers to Decimal."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mining.whitebit.amounts import AmountError, btc_to_sats, decimal_from_api, sats_to_btc
from mining.whitebit.transport import json_parse
from mining.whitebit.types import UpstreamAccountHashrate, UpstreamReward

int_parts = st.integers(min_value=0, max_value=21_000_000)
signs = st.sampled_from(["", "-"])


@st.composite
def btc_strings(draw, max_decimals=8):
    """A decimal string with at most `max_decimals` decimals, and the satoshis it denotes."""
    sign = draw(signs)
    whole = draw(int_parts)
    frac = draw(st.text(alphabet="0123456789", min_size=0, max_size=max_decimals))
    text = f"{sign}{whole}" + (f".{frac}" if frac else "")
    sats = whole * 100_000_000 + (int(frac.ljust(8, "0")) if frac else 0)
    return text, (-sats if sign else sats)


@given(btc_strings())
def test_up_to_8_decimals_round_trip_to_exact_sats(case):
    text, sats = case
    amount = decimal_from_api(text)
    assert btc_to_sats(amount) == sats
    assert sats_to_btc(sats) == amount
    assert btc_to_sats(sats_to_btc(sats)) == sats


@given(st.integers(min_value=-(21 * 10**14), max_value=21 * 10**14))
def test_sats_to_btc_round_trips(sats):
    btc = sats_to_btc(sats)
    assert btc.as_tuple().exponent == -8
    assert btc_to_sats(btc) == sats


@given(int_parts, st.text(alphabet="0123456789", min_size=8, max_size=20), st.sampled_from("123456789"))
def test_a_nonzero_digit_past_the_8th_decimal_raises(whole, frac, last):
    with pytest.raises(AmountError):
        btc_to_sats(decimal_from_api(f"{whole}.{frac}{last}"))


@given(btc_strings(), st.integers(min_value=1, max_value=10))
def test_trailing_zeros_past_the_8th_decimal_are_still_exact(case, zeros):
    text, sats = case
    padded = text + ("" if "." in text else ".") + "0" * (8 + zeros)
    assert btc_to_sats(decimal_from_api(padded)) == sats


def test_exponent_forms_and_extremes():
    assert btc_to_sats(Decimal("1E-8")) == 1
    assert btc_to_sats(Decimal("1.5E+2")) == 15_000_000_000
    assert btc_to_sats(Decimal("0E-30")) == 0
    assert btc_to_sats(Decimal("-0.00000001")) == -1
    with pytest.raises(AmountError):
        btc_to_sats(Decimal("1E-9"))
    with pytest.raises(AmountError):
        btc_to_sats(Decimal("1E+999999"))


@pytest.mark.parametrize(
    "bad", [0.1, float("nan"), "NaN", "Infinity", "-inf", " 1", "1_000", "", "1,5", "0x10", True, None]
)
def test_decimal_from_api_refuses_floats_and_non_literals(bad):
    with pytest.raises(AmountError):
        decimal_from_api(bad)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), 0.5])
def test_btc_to_sats_refuses_non_finite_and_floats(bad):
    with pytest.raises(AmountError):
        btc_to_sats(bad)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_json_numbers_parse_to_the_exact_decimal(value):
    parsed = json_parse(json.dumps({"rejectRate": "__N__"}).replace('"__N__"', str(value)).encode())
    assert isinstance(parsed["rejectRate"], Decimal | int)
    assert Decimal(parsed["rejectRate"]) == value


def test_json_parse_never_produces_a_float():
    parsed = json_parse(b'{"a":0.1,"b":1e-3,"c":[0.30000000000000004],"d":7}')
    assert parsed == {"a": Decimal("0.1"), "b": Decimal("0.001"), "c": [Decimal("0.30000000000000004")], "d": 7}
    assert not any(isinstance(v, float) for v in (parsed["a"], parsed["b"], parsed["c"][0]))
    with pytest.raises(ValueError):
        json_parse(b'{"a":NaN}')


@given(btc_strings(), btc_strings())
def test_reward_amounts_are_exact(reward_case, fee_case):
    reward_text, reward_sats = reward_case
    fee_text, fee_sats = fee_case
    total = decimal_from_api(reward_text) + decimal_from_api(fee_text)
    raw = {
        "miningAccountName": "m", "date": 1641081600, "totalReward": str(total), "reward": reward_text,
        "fee": fee_text, "fppsRate": "0.000125", "hashRate": "123.4533333333333333",
    }
    r = UpstreamReward.from_api(raw)
    assert btc_to_sats(r.reward) == reward_sats
    assert btc_to_sats(r.fee) == fee_sats
    assert btc_to_sats(r.total_reward) == reward_sats + fee_sats
    assert r.hashrate_hs == Decimal("123.4533333333333333")


def test_reject_rate_number_is_an_exact_decimal():
    body = json_parse(
        b'{"data":{"account":"a","hashrate":[{"timestamp":1709340000,"hashrate":"1.1","rejectRate":0.1},'
        b'{"timestamp":1709343600,"hashrate":"0","rejectRate":0}]}}'
    )
    points = UpstreamAccountHashrate.from_api(body, account="a").points
    assert points[0].reject_rate == Decimal("0.1") and str(points[0].reject_rate) == "0.1"
    assert points[1].reject_rate == 0 and isinstance(points[1].reject_rate, Decimal)
    assert points[0].hashrate_hs == Decimal("1.1")
