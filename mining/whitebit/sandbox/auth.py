"""The pool's gate for every API request (contract §1.7): signature, payload, nonce rules and the rate limit.

The order of the checks is the pool's, because the client classifies errors by status and code, and an
out-of-order check would teach it the wrong thing: payload header, API key, HMAC, body == decoded payload and
compact JSON, `request` == path, nonce present, `nonceWindow` boolean, nonce rules; then (after a successful
authentication) the per-(IP, endpoint) rate limit. Nonces are judged by the *real* clock at the request's arrival.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import hmac
import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mining.whitebit.sandbox.config import SandboxConfig
from mining.whitebit.sandbox.fields import is_int_like
from mining.whitebit.sandbox.http import NONCE_REPLAY_BODY, ApiError, auth_error, gateway_429, json_reply
from mining.whitebit.sandbox.state import Stats
from mining.whitebit.signing import signature_compute

_JSON_WHITESPACE = frozenset(" \t\n\r")


@dataclass
class NonceState:
    last: int = -1
    seen: set[int] = field(default_factory=set)
    heap: list[int] = field(default_factory=list)


def is_compact_json(text: str) -> bool:
    """True if no whitespace appears outside string literals (the pool rejects spaced JSON, contract §1.3)."""
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _JSON_WHITESPACE:
            return False
    return True


class Gate:
    """Authenticates requests and applies the rate limit. Nonce and rate state live under the app's shared lock."""

    def __init__(
        self, config: SandboxConfig, lock: threading.Lock, stats: Stats, real_now: Callable[[], float]
    ) -> None:
        self.config = config
        self._credentials = config.credentials()
        self._lock = lock
        self._stats = stats
        self._real_now = real_now
        self._nonces: dict[str, NonceState] = defaultdict(NonceState)
        self._rate: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def authenticate(self, environ: dict[str, Any], path: str, body_bytes: bytes, arrived_ms: int) -> dict[str, Any]:
        """The request's JSON body once every check passed; raises `ApiError` with the pool's answer otherwise."""
        payload = environ.get("HTTP_X_TXC_PAYLOAD", "")
        if not payload:
            raise auth_error(400, 0, "Payload not provided.", with_errors=True)
        api_key = environ.get("HTTP_X_TXC_APIKEY", "")
        secret = self._credentials.get(api_key)
        if secret is None:
            raise auth_error(401, 2, "This action is unauthorized. Enable your key in API settings")
        signature = environ.get("HTTP_X_TXC_SIGNATURE", "")
        try:
            expected = signature_compute(secret, payload)
        except UnicodeEncodeError:
            expected = ""
        if not expected or not hmac.compare_digest(expected, signature.lower()):
            raise auth_error(401, 10, "Unauthorized request.")
        invalid_payload = auth_error(400, 9, "Invalid payload.")
        try:
            decoded = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise invalid_payload from None
        if decoded != body_bytes:
            raise invalid_payload
        try:
            text = body_bytes.decode("utf-8")
            body = json.loads(text)
        except (UnicodeDecodeError, ValueError):
            raise invalid_payload from None
        if not isinstance(body, dict) or not is_compact_json(text):
            raise invalid_payload
        request = body.get("request")
        if request is None or request == "":
            raise auth_error(400, 0, "Request not provided.", with_errors=True)
        if request != path:
            raise auth_error(401, 10, "Unauthorized request.")
        raw_nonce = body.get("nonce")
        # A nonce that is not an integer (or a digit string) counts as not provided: there is no usable nonce.
        if raw_nonce is None or not is_int_like(raw_nonce) or int(raw_nonce) < 0:
            raise auth_error(400, 0, "Nonce not provided.", with_errors=True)
        window = body.get("nonceWindow", False)
        if not isinstance(window, bool):
            raise auth_error(400, 0, "Invalid nonceWindow.", with_errors=True)
        self._nonce_check(api_key, int(raw_nonce), window, arrived_ms)
        return body

    def _nonce_check(self, api_key: str, nonce: int, window: bool, arrived_ms: int) -> None:
        width = self.config.nonce_window_ms
        with self._lock:
            state = self._nonces[api_key]
            if window:
                if abs(nonce - arrived_ms) > width:
                    self._stats.nonce_rejected["stale"] += 1
                    raise ApiError(
                        json_reply(
                            429,
                            {
                                "code": 0,
                                "errors": {},
                                "message": "Your nonce is more than 5 seconds lesser than the current nonce",
                            },
                        )
                    )
                while state.heap and state.heap[0] < arrived_ms - width:
                    state.seen.discard(heapq.heappop(state.heap))
                if nonce in state.seen:
                    self._stats.nonce_rejected["replay"] += 1
                    raise ApiError(json_reply(429, NONCE_REPLAY_BODY))
                state.seen.add(nonce)
                heapq.heappush(state.heap, nonce)
            elif nonce <= state.last:
                self._stats.nonce_rejected["not_increasing"] += 1
                raise ApiError(json_reply(429, NONCE_REPLAY_BODY))
            state.last = max(state.last, nonce)

    def rate_check(self, remote_addr: str, path: str) -> None:
        """Sliding window per (IP, endpoint); rejected requests do not count, as on the real gateway."""
        now = self._real_now()
        with self._lock:
            log = self._rate[(remote_addr, path)]
            horizon = now - self.config.rate_window_s
            while log and log[0] <= horizon:
                log.popleft()
            if len(log) >= self.config.rate_limit:
                self._stats.rate_limited[path] += 1
                if self.config.rate_limit_json_body:
                    raise ApiError(json_reply(429, NONCE_REPLAY_BODY))
                raise ApiError(gateway_429())
            log.append(now)
