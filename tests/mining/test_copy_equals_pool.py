"""The portal's copy equals the pool (issue 16): every account series and every worker's hourly series, point by
point, over the pool's own windows, against a sandbox that follows the clock (not a frozen one).

The sync is not handed `now=`: it reads the wall clock, as in production. The same test runs on the real clock and
with the wall clock faked just before a day's and a month's edge, and exactly on a window's edge, and its second
cycle runs on time (real clock) or late (more than the pool's 3-day 5-minute window later).
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from mining.models import AccountHashrateSample, Interval, SyncDataset, SyncState, Worker, WorkerHashrateSample
from mining.services.sync import mining_account_sync
from mining.upstream import client_for_provider
from tests.fixtures.mining import pool_provider_make
from tests.fixtures.sandbox import sandbox_config, start_sandbox

# interval -> (the pool's name, bucket length, the pool's window) — whitebit-mining-api.md §3.4
ACCOUNT_SERIES = {
    Interval.M5: ("5m", timedelta(minutes=5), timedelta(days=3)),
    Interval.H1: ("1h", timedelta(hours=1), timedelta(days=7)),
    Interval.D1: ("24h", timedelta(days=1), timedelta(days=30)),
}
WORKER_WINDOW = timedelta(days=7)
HOUR = timedelta(hours=1)

CLOCKS = {
    # start instant (None: the real clock), delay before the second cycle
    "real-clock": (None, None),
    "day-and-month-edge": (datetime(2026, 11, 30, 23, 59, 59, 500000, tzinfo=UTC), timedelta(minutes=7)),
    "window-edge-late-cycle": (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), timedelta(days=3, hours=2, minutes=13)),
}


def _second(when: datetime) -> datetime:
    """The instant as the pool sees it (integer Unix seconds, floored), as the client sends it."""
    return when.replace(microsecond=0)


def _diff(held: dict, pool: dict) -> dict:
    return {
        "missing": sorted(set(pool) - set(held)),
        "extra": sorted(set(held) - set(pool)),
        "different": sorted(at for at in set(held) & set(pool) if held[at] != pool[at]),
    }


def _assert_copy_equals_pool(pp) -> int:
    """Compare every series with the pool's answer for the window as of the sync's own `now`; returns points compared.

    The pool's window at instant t holds the buckets starting in [t - window, t - bucket] (complete at t); asking
    with `to = t - bucket` gets that same set again later, so the comparison does not depend on when it runs.
    """
    client = client_for_provider(pp.provider)
    compared = 0
    for account in pp.accounts:
        states = {s.dataset: s for s in SyncState.objects.filter(account=account)}
        now = states[SyncDataset.HASHRATE_5M].last_success_at
        for interval, (name, step, window) in ACCOUNT_SERIES.items():
            start, end = _second(now - window), _second(now) - step
            pool = {p.at: (p.hashrate_hs, p.reject_rate) for p in client.account_hashrate(
                account=account.name, interval=name, from_at=start, to_at=end).points}
            assert len(pool) >= window / step - 1, (account.name, interval)  # the window is full: not vacuous
            held = {s.at: (s.hashrate_hs, s.reject_rate) for s in AccountHashrateSample.objects.filter(
                account=account, interval=interval, at__gte=start, at__lte=end)}
            diff = _diff(held, pool)
            assert diff == {"missing": [], "extra": [], "different": []}, (account.name, interval, diff)
            compared += len(pool)
        now = states[SyncDataset.WORKER_HASHRATE].last_success_at
        start, end = _second(now - WORKER_WINDOW), _second(now) - HOUR
        workers = list(Worker.objects.filter(account=account))
        assert workers
        for worker in workers:
            pool = {p.at: p.hashrate_hs for p in client.worker_hashrate(
                account=account.name, worker=worker.name, interval="1h", from_at=start, to_at=end).points}
            assert len(pool) >= WORKER_WINDOW / HOUR - 1, (account.name, worker.name)
            held = dict(WorkerHashrateSample.objects.filter(
                worker=worker, interval=Interval.H1, at__gte=start, at__lte=end).values_list("at", "hashrate_hs"))
            diff = _diff(held, pool)
            assert diff == {"missing": [], "extra": [], "different": []}, (account.name, worker.name, diff)
            compared += len(pool)
    return compared


def _cycle(pp) -> None:
    for account in pp.accounts:
        report = mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk)  # the wall clock
        assert report.accounts_synced == 1, report.errors


@pytest.mark.parametrize("clock", list(CLOCKS))
def test_the_copy_equals_the_pool_after_the_first_sync_and_the_next_cycle(db, settings, fast_upstream_retries,
                                                                          clock):
    settings.MINING_WORKER_HASHRATE_EVERY_S = 0  # the next cycle reads the workers' series too, however soon
    start_at, delay = CLOCKS[clock]
    travel = time_machine.travel(start_at, tick=True) if start_at else nullcontext()
    with travel as traveller:
        # Its own key: nonces follow this (possibly faked) clock without meeting the session's.
        pool = start_sandbox(sandbox_config(now=None, api_key=f"live-{uuid.uuid4().hex[:12]}", history_days=40,
                                            accounts=2, workers=3))
        try:
            pp = pool_provider_make(pool)
            _cycle(pp)
            _assert_copy_equals_pool(pp)
            if delay is not None:
                traveller.shift(delay)
            _cycle(pp)
            _assert_copy_equals_pool(pp)
        finally:
            pool.session.close()
            pool.server.stop()


def test_an_account_without_points_asks_for_its_hourly_and_daily_series_once_per_bucket(pool_provider, sandbox_pool):
    """An account created empty on the pool costs one hashrate call per cycle, not three (the rate budget)."""
    from mining.services.accounts import mining_accounts_import

    pp = pool_provider
    client = client_for_provider(pp.provider)
    name = sandbox_pool.unique_name("empty")
    client.account_create(name=name)
    upstream = [a for a in client.accounts_iter() if a.name == name]
    [account], _ = mining_accounts_import(scope=pp.scope, upstream=upstream)

    def hashrate_calls(now):
        report = mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=now)
        assert report.accounts_synced == 1, report.errors
        return sum(n for path, n in report.requests.items() if path.endswith("/mining/hashrate"))

    start = pp.data_now
    assert hashrate_calls(start) == 3  # 5 m, 1 h and 24 h: the first sync reads every window
    assert hashrate_calls(start + timedelta(minutes=5)) == 1
    assert hashrate_calls(start + timedelta(hours=1)) == 2  # an hour on: the hourly window again, not the daily
    assert AccountHashrateSample.objects.filter(account=account).count() == 0
