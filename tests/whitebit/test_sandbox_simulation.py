"""Property tests of the simulated fleet's agreement rules (see the `simulation` module docstring), run directly
on the simulation so hypothesis can explore many seeds, accounts and times cheaply."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mining.whitebit.sandbox.simulation import Fleet
from mining.whitebit.sandbox.worker_model import (
    DAY,
    FIVE_MINUTES,
    HASHRATE_QUANTUM,
    HOUR,
    btc_str,
    worker_hour,
    worker_nominal_hs,
)

ANCHOR = datetime(2026, 11, 15, 12, tzinfo=UTC)
HISTORY_DAYS = 10
NOW = int(ANCHOR.timestamp())

seeds = st.integers(min_value=0, max_value=2**32)
account_index = st.integers(min_value=1, max_value=3)
hours_back = st.integers(min_value=1, max_value=HISTORY_DAYS * 24 - 1)
days_back = st.integers(min_value=1, max_value=HISTORY_DAYS)
FAST = settings(max_examples=50, deadline=None)


def fleet(seed: int) -> Fleet:
    return Fleet(seed=seed, accounts=3, workers=4, history_days=HISTORY_DAYS, anchor=ANCHOR)


def hour_start(back: int) -> int:
    return NOW - NOW % HOUR - back * HOUR


def day_start(back: int) -> int:
    return NOW - NOW % DAY - back * DAY


@FAST
@given(seeds, account_index, hours_back)
def test_hour_point_is_exact_mean_of_its_twelve_5_minute_points(seed, idx, back):
    f = fleet(seed)
    account = f"acct_00{idx}"
    start = hour_start(back)
    fives = f.account_points(account, "5m", range(start, start + HOUR, FIVE_MINUTES))
    (hour,) = f.account_points(account, "1h", [start])
    assert len(fives) == 12
    assert sum(p.hashrate_hs for p in fives) / 12 == hour.hashrate_hs
    for worker in f.accounts[account].workers:
        w_fives = f.worker_points(account, worker, "5m", range(start, start + HOUR, FIVE_MINUTES))
        (w_hour,) = f.worker_points(account, worker, "1h", [start])
        assert sum(p.hashrate_hs for p in w_fives) / 12 == w_hour.hashrate_hs


@FAST
@given(seeds, account_index, days_back)
def test_day_point_is_exact_mean_of_its_hours(seed, idx, back):
    f = fleet(seed)
    account = f"acct_00{idx}"
    start = day_start(back)
    hours = f.account_points(account, "1h", range(start, start + DAY, HOUR))
    (day,) = f.account_points(account, "24h", [start])
    assert len(hours) == 24
    assert sum(p.hashrate_hs for p in hours) / 24 == day.hashrate_hs


@FAST
@given(seeds, account_index, hours_back, st.sampled_from(["5m", "1h", "24h"]))
def test_account_point_is_exact_sum_of_its_workers(seed, idx, back, interval):
    f = fleet(seed)
    account = f"acct_00{idx}"
    start = hour_start(back) if interval != "24h" else day_start(max(1, back // 24))
    (account_point,) = f.account_points(account, interval, [start])
    workers = [f.worker_points(account, w, interval, [start])[0] for w in f.accounts[account].workers]
    assert sum(p.hashrate_hs for p in workers) == account_point.hashrate_hs


@FAST
@given(seeds, account_index, hours_back)
def test_5_minute_points_are_integer_multiples_of_the_quantum_in_asic_range(seed, idx, back):
    f = fleet(seed)
    account = f"acct_00{idx}"
    for worker in f.accounts[account].workers:
        nominal = worker_nominal_hs(seed, account, worker)
        assert 90 * 10**12 <= nominal <= 250 * 10**12
        sample = worker_hour(seed, account, worker, hour_start(back) // HOUR)
        for value in sample.points:
            assert isinstance(value, int) and value % HASHRATE_QUANTUM == 0
            assert value == 0 or value >= nominal * 3 // 10 - HASHRATE_QUANTUM
            assert value <= nominal * 104 // 100


@FAST
@given(seeds, account_index, days_back)
def test_reward_total_is_reward_plus_fee_at_the_account_fee(seed, idx, back):
    f = fleet(seed)
    account = f"acct_00{idx}"
    reward = f.daily_reward(account, day_start(back))
    assert reward is not None
    total, fee, net = (Decimal(btc_str(s)) for s in (reward.total_sats, reward.fee_sats, reward.reward_sats))
    for amount in (total, fee, net):
        assert -amount.as_tuple().exponent <= 8  # whole satoshis
    assert net + fee == total
    fee_percent = Decimal(f.accounts[account].fee_percent)
    assert fee == (total * fee_percent / 100).quantize(Decimal("0.00000001"), ROUND_HALF_UP)
    gross = reward.hashrate_hs * reward.fpps_rate_sats_per_ph / Decimal(10**15)  # in satoshis
    assert Decimal(reward.total_sats) <= gross < reward.total_sats + 1


@FAST
@given(seeds, account_index, days_back)
def test_reward_hashrate_is_the_day_point(seed, idx, back):
    f = fleet(seed)
    account = f"acct_00{idx}"
    day = day_start(back)
    reward = f.daily_reward(account, day)
    (point,) = f.account_points(account, "24h", [day])
    assert reward is not None and reward.hashrate_hs == point.hashrate_hs


@FAST
@given(seeds)
def test_same_seed_same_fleet_different_seed_different_fleet(seed):
    a, b = fleet(seed), fleet(seed)
    start = hour_start(7)
    assert a.accounts == b.accounts
    assert a.account_points("acct_001", "5m", [start]) == b.account_points("acct_001", "5m", [start])
    assert a.daily_reward("acct_002", day_start(3)) == b.daily_reward("acct_002", day_start(3))
    other = fleet(seed + 1)
    assert other.account_points("acct_001", "5m", [start]) != a.account_points("acct_001", "5m", [start])


@FAST
@given(seeds, account_index)
def test_status_moves_from_pending_to_final(seed, idx):
    f = fleet(seed)
    reward = f.daily_reward(f"acct_00{idx}", day_start(3))
    assert reward is not None
    assert reward.status(reward.date + DAY) == "pending"
    assert reward.status(reward.settle_at - 1) == "pending"
    assert reward.status(reward.settle_at) in {"successful", "canceled"}


def test_fleet_shape_and_realism():
    f = fleet(1)
    assert list(f.accounts) == ["acct_001", "acct_002", "acct_003"]
    created = [a.created_at for a in f.accounts.values()]
    assert created == sorted(created) and created[-1] < f.epoch
    # A 100 TH/s account earns about 0.0005 BTC a day at the default FPPS rate.
    reward = f.daily_reward("acct_001", day_start(2))
    assert reward is not None
    per_100_th = Decimal(reward.total_sats) / reward.hashrate_hs * 10**14 / 10**8
    assert Decimal("0.0004") < per_100_th < Decimal("0.0006")


def test_some_workers_go_offline_or_low_and_come_back():
    f = Fleet(seed=7, accounts=4, workers=5, history_days=10, anchor=ANCHOR)
    states = set()
    recovered = False
    for name, account in f.accounts.items():
        for worker in account.workers:
            seen = [f.worker_status(name, worker, day_start(10) + h * HOUR) for h in range(240)]
            states.update(seen)
            if "offline" in seen and seen[-1] != "offline":
                recovered = True
    assert states == {"online", "low", "offline"}
    assert recovered


def test_about_two_percent_of_rewards_are_canceled():
    f = Fleet(seed=3, accounts=20, workers=1, history_days=60, anchor=ANCHOR)
    rewards = [f.daily_reward(name, day_start(d)) for name in f.accounts for d in range(1, 61)]
    canceled = sum(1 for r in rewards if r is not None and r.canceled)
    assert 0 < canceled < len(rewards) * 0.06


def test_incomplete_buckets_are_not_reported():
    f = fleet(1)
    now = hour_start(0) + 10 * 60  # ten minutes into an hour
    assert list(f.bucket_starts("1h", hour_start(3), now, now)) == [hour_start(3), hour_start(2), hour_start(1)]
    assert list(f.bucket_starts("1h", hour_start(3) + 1, now, now)) == [hour_start(2), hour_start(1)]
    assert list(f.bucket_starts("5m", now - 600, now, now)) == [now - 600, now - 300]
    assert list(f.bucket_starts("24h", f.epoch - DAY, f.epoch + DAY, now)) == [f.epoch, f.epoch + DAY]
