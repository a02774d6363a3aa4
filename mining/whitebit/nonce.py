"""Nonces for `nonceWindow: true` requests: Unix milliseconds that never repeat for one API key.

In window mode the pool accepts any nonce within ±5 s of its clock, but only once (contract §1.4); a duplicate is
answered like a rate-limit hit. Many workers share a key, and several can sign in the same millisecond, so each
source hands out `max(now_ms, last + 1)` under a lock that all of them share:

* `RedisNonceSource`: one Lua script per call, atomic across every process on every machine, using Redis's clock
  (one clock for the whole fleet). The key holds the last nonce and expires after `ttl_s` of silence: by then
  `now_ms` is far past it, so forgetting it cannot produce a repeat.
* `LocalNonceSource`: a thread lock, plus (given `lock_dir`) an `fcntl` lock on a small file per key that stores
  the last nonce, so separate processes on one machine also never collide. Without `lock_dir` it is per-process.

Under sustained bursts above 1000 requests per second for one key, `last + 1` runs ahead of the clock; the budget
keeps the fleet far below that, and the ±5 s window would absorb a short burst anyway.

A collision that slips through (e.g. two machines using `LocalNonceSource` with one key) is not fatal: the pool
answers 429, which the client retries with a fresh nonce.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from mining.whitebit.ratelimit import key_fingerprint

# KEYS[1]: last nonce for one key. ARGV[1]: TTL in ms; ARGV[2]: the caller's clock in ms. Returns the new nonce.
# The nonce is the caller's clock (what the pool compares with its own, within ±5 s; every host runs NTP), made
# strictly increasing across every worker on every machine by Redis.
_NONCE_LUA = """
local now = tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = now
if last >= n then
  n = last + 1
end
redis.call('SET', KEYS[1], string.format('%d', n), 'PX', tonumber(ARGV[1]))
return n
"""


class NonceSource(Protocol):
    def next_nonce(self, api_key: str) -> int: ...


class RedisNonceSource:
    def __init__(self, redis_client: Any, *, key_prefix: str = "whitebit:nonce:", ttl_s: float = 60.0) -> None:
        self._prefix = key_prefix
        self._ttl_ms = int(ttl_s * 1000)
        self._script = redis_client.register_script(_NONCE_LUA)

    def next_nonce(self, api_key: str) -> int:
        now_ms = time.time_ns() // 1_000_000
        return int(self._script(keys=[f"{self._prefix}{key_fingerprint(api_key)}"], args=[self._ttl_ms, now_ms]))


class LocalNonceSource:
    """Thread-safe; also process-safe on one machine when `lock_dir` is given (the directory is created)."""

    def __init__(self, lock_dir: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, int] = {}
        self._dir = Path(lock_dir) if lock_dir is not None else None
        if self._dir is not None:
            self._dir.mkdir(parents=True, exist_ok=True)

    def next_nonce(self, api_key: str) -> int:
        fp = key_fingerprint(api_key)
        with self._lock:
            if self._dir is None:
                nonce = max(time.time_ns() // 1_000_000, self._last.get(fp, 0) + 1)
            else:
                nonce = self._next_from_file(self._dir / f"whitebit-nonce-{fp}")
            self._last[fp] = nonce
            return nonce

    @staticmethod
    def _next_from_file(path: Path) -> int:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed, even if this process dies
            raw = os.read(fd, 32).strip()
            last = int(raw) if raw.isdigit() else 0
            nonce = max(time.time_ns() // 1_000_000, last + 1)
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, str(nonce).encode("ascii"))
            return nonce
        finally:
            os.close(fd)
