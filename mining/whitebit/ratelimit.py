"""A request budget shared by every process on every machine, so the fleet stays under the pool's rate limit.

The pool allows 1000 requests per 10 s per endpoint (contract §5) and answers 429 beyond that; repeated 429s can get
the key or IP restricted. Each worker counting on its own cannot know what the others send, so the budget lives in
Redis as one token bucket per (API key, endpoint), updated by a single Lua script: the read-refill-take sequence is
atomic, and the script reads Redis's own clock (`TIME`), so skewed worker clocks cannot mint tokens.

Sizing. With `budget = floor(limit * fraction)`, the bucket holds at most `burst = max(1, budget // 10)` tokens and
refills at `(budget - burst) / window_s` per second. Any interval of `window_s` seconds can then grant at most
`burst + rate * window_s = budget` requests, whether the pool counts in fixed or sliding windows. `fraction < 1`
leaves room for network jitter bunching requests up and for traffic the budget does not see.

Reservation. A caller whose slot is at most one burst away (`burst / refill` seconds) takes its token at once, the
balance going negative, and is told exactly how long to wait for its slot: it sleeps that long and sends. One Redis
round trip, first come first served. A caller further back is told how long until it could reserve, sleeps exactly
that, and asks again; if its slot is beyond its timeout it gets `RateBudgetExhausted` (retryable) at once. Capping
reservations at one burst bounds what a lost key can cost (below).

New and flushed buckets start empty, and an idle key expires only once it would be full. So losing the key (FLUSHDB,
failover to an empty replica, eviction) can add at most the outstanding reservations, at most one `burst`, to one
window: with `fraction < 1` and `burst` a tenth of the budget, still below the pool's own limit.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from mining.whitebit.errors import RateBudgetExhausted

DEFAULT_LIMIT = 1000
DEFAULT_WINDOW_S = 10.0
DEFAULT_FRACTION = 0.5

# KEYS[1]: bucket hash. ARGV: burst, refill per second, longest wait to reserve (µs), extra TTL in ms.
# Returns {granted (0/1), wait in µs until the token is available}; nothing is taken when not granted.
# Floats are stored with %.17g: Lua's tostring keeps only 14 digits, which would truncate a µs timestamp.
_BUCKET_LUA = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local max_wait_us = tonumber(ARGV[3])
local extra_ttl_ms = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = 0
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
  ts = now
end
local wait = 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) * 1000000 / rate)
end
local granted = 0
if wait <= max_wait_us then
  granted = 1
  tokens = tokens - 1
end
-- Stored even when nothing is granted: a new bucket must start counting its refill from its first request.
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + extra_ttl_ms)
return {granted, wait}
"""


class Budget(Protocol):
    def acquire(self, api_key: str, endpoint: str, timeout_s: float = ...) -> float: ...


def key_fingerprint(api_key: str) -> str:
    """A stable, non-reversible stand-in for the API key in Redis keys, file names and logs."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:32]


def bucket_sizing(limit: int, window_s: float, fraction: float) -> tuple[int, float]:
    """(burst, refill per second) such that no `window_s` interval is granted more than `limit * fraction`."""
    if limit < 1 or window_s <= 0:
        raise ValueError("limit must be >= 1 and window_s > 0")
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    budget = math.floor(limit * fraction)
    if budget < 2:
        raise ValueError("limit * fraction must allow at least 2 requests per window")
    burst = max(1, budget // 10)
    return burst, (budget - burst) / window_s


class RateBudget:
    """The Redis-backed shared budget. Thread-safe and process-safe (all state is in Redis)."""

    def __init__(
        self,
        redis_client: Any,
        *,
        limit: int = DEFAULT_LIMIT,
        window_s: float = DEFAULT_WINDOW_S,
        fraction: float = DEFAULT_FRACTION,
        key_prefix: str = "whitebit:budget:",
        per_key: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`per_key=False` shares one bucket per endpoint across all API keys: use it if the pool turns out to
        count per egress IP (contract §5 [I]) and many providers' keys leave through the same IP."""
        self.burst, self.refill_per_s = bucket_sizing(limit, window_s, fraction)
        self.limit, self.window_s, self.fraction = limit, window_s, fraction
        self._redis = redis_client
        self._prefix = key_prefix
        self._per_key = per_key
        self._sleep = sleep
        self._script = redis_client.register_script(_BUCKET_LUA)

    def bucket_key(self, api_key: str, endpoint: str) -> str:
        scope = key_fingerprint(api_key) if self._per_key else "all"
        return f"{self._prefix}{scope}:{endpoint}"

    def acquire(self, api_key: str, endpoint: str, timeout_s: float = 30.0) -> float:
        """Block until this request may be sent; returns the seconds waited. Raises `RateBudgetExhausted` as soon
        as the slot is known to lie beyond `timeout_s`."""
        key = self.bucket_key(api_key, endpoint)
        started = time.monotonic()
        deadline = started + timeout_s
        horizon_us = math.ceil(self.burst / self.refill_per_s * 1_000_000) + 1  # the script rounds waits up
        while True:
            remaining_us = int((deadline - time.monotonic()) * 1_000_000)
            granted, wait_us = self._script(
                keys=[key],
                args=[self.burst, repr(self.refill_per_s), max(0, min(horizon_us, remaining_us)),
                      int(self.window_s * 1000) + 1000],
            )
            wait_us = int(wait_us)
            if granted:
                if wait_us:
                    self._sleep(wait_us / 1_000_000)
                return time.monotonic() - started
            if wait_us > remaining_us:
                raise RateBudgetExhausted(
                    f"rate budget for {endpoint}: next slot in {wait_us / 1e6:.3f}s, beyond the {timeout_s}s allowed",
                    endpoint=endpoint,
                )
            self._sleep(max(wait_us - horizon_us, 1000) / 1_000_000)


class LocalRateBudget:
    """The same bucket in process memory, for the embedded single-process mode (no Redis). Thread-safe.

    It knows nothing of other processes: running several workers against one key needs `RateBudget`.
    """

    def __init__(
        self,
        *,
        limit: int = DEFAULT_LIMIT,
        window_s: float = DEFAULT_WINDOW_S,
        fraction: float = DEFAULT_FRACTION,
        per_key: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.burst, self.refill_per_s = bucket_sizing(limit, window_s, fraction)
        self.limit, self.window_s, self.fraction = limit, window_s, fraction
        self._per_key = per_key
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def acquire(self, api_key: str, endpoint: str, timeout_s: float = 30.0) -> float:
        """Same contract as `RateBudget.acquire`, on this process's clock."""
        key = (key_fingerprint(api_key) if self._per_key else "all", endpoint)
        started = self._clock()
        deadline = started + timeout_s
        horizon_s = self.burst / self.refill_per_s + 1e-9
        while True:
            with self._lock:
                now = self._clock()
                tokens, ts = self._buckets.get(key, (0.0, now))
                if now > ts:
                    tokens = min(self.burst, tokens + (now - ts) * self.refill_per_s)
                    ts = now
                wait_s = 0.0 if tokens >= 1 else (1 - tokens) / self.refill_per_s
                granted = wait_s <= min(horizon_s, deadline - now)
                self._buckets[key] = (tokens - 1 if granted else tokens, ts)
            if granted:
                if wait_s > 0:
                    self._sleep(wait_s)
                return self._clock() - started
            if wait_s > deadline - now:
                raise RateBudgetExhausted(
                    f"rate budget for {endpoint}: next slot in {wait_s:.3f}s, beyond the {timeout_s}s allowed",
                    endpoint=endpoint,
                )
            self._sleep(max(wait_s - horizon_s, 0.001))


class UnlimitedBudget:
    """No client-side limit. For tests of the pool's own 429 handling; never for production traffic."""

    def acquire(self, api_key: str, endpoint: str, timeout_s: float = 30.0) -> float:
        return 0.0
