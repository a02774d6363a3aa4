"""The shared rate budget and the nonce sources, against the real Redis and across real processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mining.whitebit.errors import RateBudgetExhausted
from mining.whitebit.nonce import LocalNonceSource, RedisNonceSource
from mining.whitebit.ratelimit import LocalRateBudget, RateBudget, bucket_sizing, key_fingerprint
from tests.whitebit import _workers

ENDPOINT = "/api/v4/mining/rewards"


class RecordingSleep:
    """Stands in for time.sleep where only the requested waits matter (the budget's clock is Redis's)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.asked_at: list[float] = []  # when each wait was asked for (monotonic): wait + asked_at = the slot
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
            self.asked_at.append(time.monotonic())


@pytest.fixture
def spawn():
    return multiprocessing.get_context("spawn")


@given(st.integers(2, 100_000), st.floats(0.1, 60.0), st.floats(0.01, 1.0))
def test_sizing_never_grants_more_than_the_fraction_in_a_window(limit, window_s, fraction):
    assume(limit * fraction >= 2)
    burst, rate = bucket_sizing(limit, window_s, fraction)
    assert burst >= 1 and rate > 0
    assert burst + rate * window_s <= limit * fraction + 1e-6


@pytest.mark.parametrize(("limit", "fraction"), [(1, 1.0), (3, 0.5), (1000, 0.0), (1000, 1.5), (0, 0.5)])
def test_sizing_refuses_budgets_it_cannot_honour(limit, fraction):
    with pytest.raises(ValueError):
        bucket_sizing(limit, 10.0, fraction)


def test_default_sizing():
    assert bucket_sizing(1000, 10.0, 0.5) == (50, 45.0)


def test_redis_bucket_paces_requests_at_the_refill_rate(redis_client, redis_prefix):
    budget = RateBudget(redis_client, limit=100, window_s=1.0, fraction=1.0, key_prefix=redis_prefix)
    assert (budget.burst, budget.refill_per_s) == (10, 90.0)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda _: budget.acquire("key-a", ENDPOINT, timeout_s=5), range(27)))
    # A new bucket starts empty: 27 grants need 27 refill intervals of 1/90 s, however many threads ask.
    assert 0.28 <= time.monotonic() - started < 0.45


def test_redis_bucket_reserves_up_to_one_burst_then_waits(redis_client, redis_prefix):
    sleep = RecordingSleep()
    budget = RateBudget(redis_client, limit=100, window_s=1.0, fraction=1.0, key_prefix=redis_prefix, sleep=sleep)
    for _ in range(10):  # a burst's worth of reservations is granted at once, each told its exact wait
        budget.acquire("key-a", ENDPOINT, timeout_s=5)
    assert len(sleep.waits) == 10
    # Each wait ends at its own slot, however long a busy machine took between the calls: slots are 1/90 s apart.
    # (A wait is measured from Redis' reply; a descheduled test process may ask for it a few ms late, hence the
    # tolerance: the slots themselves are exact in Redis.)
    slots = [asked + wait for asked, wait in zip(sleep.asked_at, sleep.waits, strict=True)]
    assert all(later > earlier - 0.02 for earlier, later in zip(slots, slots[1:], strict=False))
    assert slots[-1] - slots[0] == pytest.approx(9 / 90, abs=0.03)
    assert sleep.waits[0] <= 1 / 90 + 0.005  # the first reservation is the first slot
    with pytest.raises(RateBudgetExhausted):  # the 11th slot is further than a 50 ms timeout
        budget.acquire("key-a", ENDPOINT, timeout_s=0.05)


def test_redis_bucket_timeout_raises_without_taking_a_token(redis_client, redis_prefix):
    budget = RateBudget(redis_client, limit=10, window_s=1.0, fraction=1.0, key_prefix=redis_prefix)
    assert (budget.burst, budget.refill_per_s) == (1, 9.0)
    started = time.monotonic()
    budget.acquire("key-a", ENDPOINT, timeout_s=5)  # slot 1 at 1/9 s
    with pytest.raises(RateBudgetExhausted) as exc:
        budget.acquire("key-a", ENDPOINT, timeout_s=0.01)
    assert exc.value.retryable and exc.value.status is None
    budget.acquire("key-a", ENDPOINT, timeout_s=5)
    # The refused call reserved nothing: the second grant came at slot 2 (2/9 s), not slot 3.
    assert 0.2 <= time.monotonic() - started < 0.31


def test_redis_keys_are_per_key_and_endpoint_and_hide_the_api_key(redis_client, redis_prefix):
    budget = RateBudget(redis_client, key_prefix=redis_prefix, sleep=RecordingSleep())
    budget.acquire("SECRET-LOOKING-KEY", ENDPOINT)
    budget.acquire("SECRET-LOOKING-KEY", "/api/v4/mining/hashrate")
    budget.acquire("other-key", ENDPOINT)
    keys = sorted(k.decode() for k in redis_client.keys(redis_prefix + "*"))
    assert len(keys) == 3
    assert not any("SECRET-LOOKING-KEY" in k for k in keys)
    fingerprint = key_fingerprint("SECRET-LOOKING-KEY")
    assert budget.bucket_key("SECRET-LOOKING-KEY", ENDPOINT) == f"{redis_prefix}{fingerprint}:{ENDPOINT}"
    assert all(0 < redis_client.pttl(k) <= 13_000 for k in keys)  # refill time + window + 1 s
    shared = RateBudget(redis_client, key_prefix=redis_prefix, per_key=False)
    assert shared.bucket_key("a", ENDPOINT) == shared.bucket_key("b", ENDPOINT)


def test_a_flushed_bucket_restarts_empty(redis_client, redis_prefix):
    sleep = RecordingSleep()
    budget = RateBudget(redis_client, limit=100, window_s=1.0, fraction=1.0, key_prefix=redis_prefix, sleep=sleep)
    budget.acquire("k", ENDPOINT)
    redis_client.delete(budget.bucket_key("k", ENDPOINT))
    budget.acquire("k", ENDPOINT)
    assert len(sleep.waits) == 2 and all(w > 0 for w in sleep.waits)  # no free burst after losing state


def test_processes_sharing_the_redis_budget_stay_under_it(redis_url, redis_prefix, spawn):
    limit, window_s, fraction = 30, 0.5, 0.8
    budget = max(1, int(limit * fraction))
    with spawn.Pool(3) as pool:
        results = pool.starmap(_workers.budget_grants,
                               [(redis_url, redis_prefix, limit, window_s, fraction, 1.5)] * 3)
    grants = sorted(t for r in results for t in r)
    assert all(results), "every process got grants"
    window_us = int(window_s * 1_000_000)
    worst = max(sum(1 for u in grants[i:] if u < t + window_us) for i, t in enumerate(grants))
    # Grant times are read after the sleep returns, so scheduling can bunch them by a request or two.
    assert worst <= budget + 2, (worst, budget)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_processes_sharing_one_budget_never_trip_the_pools_limit(redis_url, redis_prefix, spawn, fraction):
    """4 processes x 2 threads hammer one endpoint of a sandbox limited to 60 requests / 2 s, through clients that
    share a Redis budget: every request must succeed and the pool must never have answered 429."""
    from tests.fixtures.sandbox import sandbox_config, start_sandbox

    limit, window_s, seconds = 60, 2.0, 3.0
    handle = start_sandbox(sandbox_config(rate_limit=limit, rate_window_s=window_s))
    try:
        args = (handle.base_url, handle.api_key, handle.api_secret, redis_url, redis_prefix,
                limit, window_s, fraction, seconds)
        with spawn.Pool(4) as pool:
            results = pool.starmap(_workers.hammer_sandbox, [args] * 4)
        pool_stats = handle.stats()
    finally:
        handle.server.stop()
    assert [r["failures"] for r in results] == [0, 0, 0, 0], results
    assert pool_stats["rate_limited"] == 0 and "429" not in pool_stats["by_status"]
    sent = sum(r["requests"] for r in results)
    assert sent == pool_stats["total"] == pool_stats["by_status"]["200"]
    # The budget was the bottleneck (more than one window's worth went through, paced), not idle capacity.
    assert sent > limit * fraction
    assert sum(r.get("budget_wait_ms", 0) for r in results) > 0


def test_local_budget_paces_at_the_refill_rate():
    clock = FakeClock()
    budget = LocalRateBudget(limit=100, window_s=1.0, fraction=1.0, clock=clock, sleep=clock.sleep)
    for _ in range(45):
        budget.acquire("k", ENDPOINT)
    assert clock.now - 100.0 == pytest.approx(45 / 90)
    clock.now += 10  # long idle: the bucket refills only up to the burst
    clock.waits.clear()
    for _ in range(10):
        budget.acquire("k", ENDPOINT)
    assert clock.waits == []
    budget.acquire("k", ENDPOINT)
    assert clock.waits == [pytest.approx(1 / 90)]
    budget.acquire("other-key", ENDPOINT)  # another key has its own bucket (new, so empty)
    assert clock.waits[-1] == pytest.approx(1 / 90)


def test_local_budget_timeout():
    clock = FakeClock()
    budget = LocalRateBudget(limit=100, window_s=1.0, fraction=1.0, clock=clock, sleep=lambda s: None)
    for _ in range(4):
        budget.acquire("k", ENDPOINT, timeout_s=0.05)  # slots at 1/90 .. 4/90 s
    with pytest.raises(RateBudgetExhausted):
        budget.acquire("k", ENDPOINT, timeout_s=0.05)  # slot 5 is 0.056 s away


def test_local_budget_is_thread_safe():
    waits = RecordingSleep()
    budget = LocalRateBudget(limit=1000, window_s=1.0, fraction=1.0, clock=lambda: 0.0, sleep=waits)
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda _: budget.acquire("k", ENDPOINT, timeout_s=10), range(96)))
    # With a frozen clock every grant is a distinct slot: no two threads were handed the same one.
    assert len({round(w * 900) for w in waits.waits}) == 96


# ----------------------------------------------------------------------------------------------- nonces


def test_redis_nonces_unique_across_threads(redis_client, redis_prefix):
    source = RedisNonceSource(redis_client, key_prefix=redis_prefix)
    with ThreadPoolExecutor(8) as ex:
        batches = list(ex.map(lambda _: [source.next_nonce("k") for _ in range(200)], range(8)))
    nonces = [n for b in batches for n in b]
    assert len(set(nonces)) == len(nonces) == 1600
    assert all(b == sorted(b) for b in batches)
    assert abs(max(nonces) - time.time() * 1000) < 5000  # still our clock, which the pool's ±5 s window accepts
    assert 0 < redis_client.pttl(redis_prefix + key_fingerprint("k")) <= 60_000


def test_redis_nonces_unique_across_processes(redis_url, redis_prefix, spawn):
    with spawn.Pool(4) as pool:
        batches = pool.starmap(_workers.nonces_from_redis, [(redis_url, redis_prefix, "k", 300)] * 4)
    nonces = [n for b in batches for n in b]
    assert len(set(nonces)) == len(nonces) == 1200


def test_redis_nonces_are_per_key(redis_client, redis_prefix):
    source = RedisNonceSource(redis_client, key_prefix=redis_prefix)
    a, b = source.next_nonce("a"), source.next_nonce("b")
    assert abs(a - b) < 1000  # each key follows the clock on its own; no shared counter


def test_local_nonces_unique_across_threads():
    source = LocalNonceSource()
    with ThreadPoolExecutor(8) as ex:
        batches = list(ex.map(lambda _: [source.next_nonce("k") for _ in range(500)], range(8)))
    nonces = [n for b in batches for n in b]
    assert len(set(nonces)) == len(nonces)


def test_local_file_nonces_unique_across_processes(tmp_path, spawn):
    with spawn.Pool(4) as pool:
        batches = pool.starmap(_workers.nonces_from_files, [(str(tmp_path), "k", 300)] * 4)
    nonces = [n for b in batches for n in b]
    assert len(set(nonces)) == len(nonces) == 1200
    assert [p.name for p in tmp_path.iterdir()] == [f"whitebit-nonce-{key_fingerprint('k')}"]
