"""Queued faults: the next N requests to an endpoint (or to any, "*") fail the way the real pool's gateway fails.

Why: the client's retry, backoff and error classification can only be proven against the failures production
sees: `429` (plain-text gateway 429), `429_json` (the JSON "Too many requests." envelope), `500` (the pool's JSON
500), `503` (an HTML page), `hang` (wait `hang_s`, default 30, then answer normally, the nonce judged by the
arrival time) and `malformed_json` (200 with truncated JSON). Endpoint-specific faults are served before "*" ones;
faults are served before authentication, like a gateway.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from mining.whitebit.sandbox.http import (
    GATEWAY_503_HTML,
    INTERNAL_ERROR_BODY,
    MALFORMED_JSON,
    NONCE_REPLAY_BODY,
    Reply,
    gateway_429,
    json_reply,
)
from mining.whitebit.sandbox.state import Stats

FAULT_KINDS = ("429", "429_json", "500", "503", "hang", "malformed_json")
DEFAULT_HANG_S = 30.0


@dataclass
class Fault:
    kind: str
    remaining: int
    hang_s: float

    def as_json(self) -> dict[str, Any]:
        return {"fault": self.kind, "remaining": self.remaining, "hang_s": self.hang_s}


def fault_reply(kind: str) -> Reply:
    """The answer of a fault other than `hang` (which delays the normal answer instead)."""
    if kind == "429":
        return gateway_429()
    if kind == "429_json":
        return json_reply(429, NONCE_REPLAY_BODY)
    if kind == "500":
        return json_reply(500, INTERNAL_ERROR_BODY)
    if kind == "503":
        return Reply(503, GATEWAY_503_HTML, "text/html; charset=utf-8")
    return Reply(200, MALFORMED_JSON)


class FaultQueue:
    """Faults per endpoint path (or "*"), oldest first, under the app's shared lock."""

    def __init__(self, lock: threading.Lock, stats: Stats, endpoints: Collection[str]) -> None:
        self._lock = lock
        self._stats = stats
        self._endpoints = endpoints
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)

    def add(self, endpoint: str, kind: str, count: int = 1, hang_s: float = DEFAULT_HANG_S) -> None:
        """Queue `count` faults of `kind`; `ValueError` (worded for the control plane's 400) on bad arguments."""
        if endpoint != "*" and endpoint not in self._endpoints:
            raise ValueError(f"unknown endpoint {endpoint!r}; use one of the API paths or '*'")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        if isinstance(hang_s, bool) or not isinstance(hang_s, int | float) or hang_s < 0:
            raise ValueError("hang_s must be a non-negative number")
        with self._lock:
            self._faults[endpoint].append(Fault(kind, count, float(hang_s)))

    def take(self, path: str) -> Fault | None:
        """The fault to serve to this request, if any (counted in the stats as served)."""
        with self._lock:
            for key in (path, "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.popleft()
                    self._stats.faults_served[fault.kind] += 1
                    return fault
        return None

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {ep: [f.as_json() for f in q] for ep, q in self._faults.items() if q}

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
