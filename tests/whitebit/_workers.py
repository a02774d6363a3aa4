"""Entry points for `multiprocessing` (spawn) children in the rate-budget and nonce tests.

Kept free of Django and pytest so a spawned interpreter imports only what it uses.
"""

from __future__ import annotations

from tests.fake_clock_run import follow_test_clock

follow_test_clock()  # a spawned child lives at the test run's clock, faked or not (once per process)


def nonces_from_redis(redis_url: str, prefix: str, api_key: str, count: int) -> list[int]:
    import redis

    from mining.whitebit.nonce import RedisNonceSource

    source = RedisNonceSource(redis.Redis.from_url(redis_url), key_prefix=prefix)
    return [source.next_nonce(api_key) for _ in range(count)]


def nonces_from_files(lock_dir: str, api_key: str, count: int) -> list[int]:
    from mining.whitebit.nonce import LocalNonceSource

    source = LocalNonceSource(lock_dir)
    return [source.next_nonce(api_key) for _ in range(count)]


def budget_grants(
    redis_url: str, prefix: str, limit: int, window_s: float, fraction: float, seconds: float
) -> list[int]:
    """Acquire as fast as the budget allows for `seconds`; return grant times (Redis clock, µs)."""
    import time

    import redis

    from mining.whitebit.ratelimit import RateBudget

    client = redis.Redis.from_url(redis_url)
    budget = RateBudget(client, limit=limit, window_s=window_s, fraction=fraction, key_prefix=prefix)
    grants = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        budget.acquire("shared-key", "/api/v4/mining/rewards", timeout_s=5)
        sec, usec = client.time()
        grants.append(sec * 1_000_000 + usec)
    return grants


def hammer_sandbox(
    base_url: str, api_key: str, api_secret: str, redis_url: str, prefix: str,
    limit: int, window_s: float, fraction: float, seconds: float, threads: int = 2,
) -> dict[str, int]:
    """Call one endpoint as fast as the shared budget allows; return this process's client stats."""
    import threading
    import time

    import redis

    from mining.whitebit.client import WhiteBitClient
    from mining.whitebit.nonce import RedisNonceSource
    from mining.whitebit.ratelimit import RateBudget

    r = redis.Redis.from_url(redis_url)
    client = WhiteBitClient(
        base_url, api_key, api_secret,
        budget=RateBudget(r, limit=limit, window_s=window_s, fraction=fraction, key_prefix=prefix + "budget:"),
        nonces=RedisNonceSource(r, key_prefix=prefix + "nonce:"),
        max_retries=0, timeout_s=5.0,
    )
    failures: list[BaseException] = []
    end = time.monotonic() + seconds

    def run() -> None:
        while time.monotonic() < end:
            try:
                client.accounts_list(limit=1)
            except Exception as exc:  # noqa: BLE001 -- reported to the parent, which fails the test
                failures.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stats = client.stats.snapshot()
    stats["failures"] = len(failures)
    if failures:
        stats["first_failure:" + repr(failures[0])[:200]] = 1
    return stats
