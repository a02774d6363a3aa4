"""The pool client's transport: one signed POST with a fresh nonce, under the rate budget, retried when retryable.

Every call (`WhiteBitTransport.call`), for each HTTP attempt (first try and every retry):
  1. takes a token from the rate budget (shared across processes when it is a `RateBudget`),
  2. signs a fresh body with a new nonce (a retried body must not reuse a nonce: the pool would call it a replay),
  3. sends it with a timeout, no redirects, and a bounded body size,
  4. classifies the outcome (`errors.error_from_response`) and retries only what is retryable, with exponential
     backoff and full jitter, at most `max_retries` times.

Why apart from the endpoints (`client.py`): this is the part every endpoint shares and the part that must be right
for the pool not to ban the key; the endpoints only name a path, its parameters and the typed result.

The secret lives only in `_api_secret`; it is never logged, never in `repr`, and the signature and payload headers
are not logged either (the payload is reversible and the signature is a credential for one request).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from mining.whitebit.errors import (
    MalformedReply,
    UnexpectedResponse,
    UpstreamUnavailable,
    WhiteBitError,
    error_from_response,
)
from mining.whitebit.nonce import LocalNonceSource, NonceSource
from mining.whitebit.ratelimit import Budget, LocalRateBudget, key_fingerprint
from mining.whitebit.signing import request_sign

logger = logging.getLogger(__name__)

#: A mining API response is a few KB; anything far larger is not the pool talking.
MAX_BODY_BYTES = 8 * 1024 * 1024

# In one process, transports built without explicit sources share these, so two clients with one key neither reuse
# a nonce nor double the request rate. Several processes need `RedisNonceSource` / `RateBudget`.
_PROCESS_NONCES = LocalNonceSource()
_PROCESS_BUDGET = LocalRateBudget()


class ClientStats(Mapping[str, int]):
    """Thread-safe counters, read like a dict: `requests`, `requests:<path>`, `status:<code>`, `retries`,
    `rate_limited` (429s seen), `timeouts`, `connection_errors`, `errors:<class>` (raised to the caller),
    `budget_wait_ms`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def incr(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def __getitem__(self, key: str) -> int:
        with self._lock:
            if key not in self._counts:
                raise KeyError(key)
            return self._counts[key]

    def get(self, key: str, default: Any = 0) -> Any:  # type: ignore[override]
        with self._lock:
            return self._counts.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._counts)

    def __repr__(self) -> str:
        return f"ClientStats({self.snapshot()!r})"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} in JSON")


def json_parse(raw: bytes) -> Any:
    """Numbers with a fraction become Decimal (never float); NaN/Infinity are refused."""
    return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)


class WhiteBitTransport:
    """Thread-safe: one transport may serve many threads (the connection pool is sized by `pool_maxsize`)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        timeout_s: float = 10.0,
        budget: Budget | None = None,
        nonces: NonceSource | None = None,
        max_retries: int = 4,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 30.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        budget_timeout_s: float = 30.0,
        pool_maxsize: int = 32,
    ) -> None:
        """`budget=None` and `nonces=None` mean the process-wide in-memory defaults: right for one process, not
        for a fleet (pass `RateBudget` and `RedisNonceSource` built on the shared Redis there)."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("base_url must be an http(s) origin such as https://whitebit.com")
        if not api_key or not api_secret:
            raise ValueError("api_key and api_secret are required")
        if timeout_s <= 0 or max_retries < 0 or backoff_base_s < 0 or backoff_cap_s < 0:
            raise ValueError("timeouts, retries and backoff must not be negative")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._api_secret = api_secret
        self.key_fingerprint = key_fingerprint(api_key)[:12]
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.budget_timeout_s = budget_timeout_s
        self._budget: Budget = budget if budget is not None else _PROCESS_BUDGET
        self._nonces: NonceSource = nonces if nonces is not None else _PROCESS_NONCES
        self._sleep = sleep
        self._random = random.Random()
        self.stats = ClientStats()
        if session is None:
            session = requests.Session()
            # Retries are ours (re-signed, budgeted); urllib3 must never resend a signed body on its own.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session

    def __repr__(self) -> str:
        return f"WhiteBitTransport(base_url={self.base_url!r}, key={self.key_fingerprint}…)"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> WhiteBitTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def backoff_delay(self, attempt: int) -> float:
        """Full jitter (AWS): spreads retrying workers out instead of synchronising them on the pool."""
        return self._random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))

    def call(
        self, path: str, params: Mapping[str, Any], *, retried: list[WhiteBitError] | None = None
    ) -> dict[str, Any]:
        """`retried`, if given, collects the errors that were retried (to tell whether a write may have landed)."""
        clean = {k: v for k, v in params.items() if v is not None}
        for attempt in range(self.max_retries + 1):
            if attempt:
                delay = self.backoff_delay(attempt - 1)
                self.stats.incr("retries")
                self._sleep(delay)
            waited_s = self._budget.acquire(self._api_key, path, timeout_s=self.budget_timeout_s)
            if waited_s:
                self.stats.incr("budget_wait_ms", int(waited_s * 1000))
            try:
                return self._attempt(path, clean)
            except WhiteBitError as exc:
                if not exc.retryable or attempt >= self.max_retries:
                    self.stats.incr(f"errors:{type(exc).__name__}")
                    raise
                if retried is not None:
                    retried.append(exc)
                logger.warning(
                    "whitebit %s failed (%s: %s), retry %d/%d",
                    path, type(exc).__name__, exc.message, attempt + 1, self.max_retries,
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        body = {"request": path, "nonce": self._nonces.next_nonce(self._api_key), "nonceWindow": True, **params}
        signed = request_sign(api_key=self._api_key, api_secret=self._api_secret, body=body)
        self.stats.incr("requests")
        self.stats.incr(f"requests:{path}")
        started = time.monotonic()
        try:
            status, raw = self._send(self.base_url + path, signed.body, signed.headers)
        except requests.Timeout as exc:
            self.stats.incr("timeouts")
            raise UpstreamUnavailable(f"timed out after {self.timeout_s}s", endpoint=path) from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            # requests reports a read timeout inside the body as ConnectionError; both are transient.
            self.stats.incr("connection_errors")
            raise UpstreamUnavailable(f"connection failed: {type(exc).__name__}", endpoint=path) from exc
        except requests.RequestException as exc:
            raise UnexpectedResponse(f"request failed: {type(exc).__name__}", endpoint=path) from exc
        elapsed_ms = int((time.monotonic() - started) * 1000)
        self.stats.incr(f"status:{status}")
        logger.debug("whitebit %s -> %s in %dms (key %s)", path, status, elapsed_ms, self.key_fingerprint)

        try:
            parsed: Any = json_parse(raw) if raw else None
        except ValueError:  # includes UnicodeDecodeError and JSONDecodeError
            parsed = None

        if 200 <= status < 300:
            if not isinstance(parsed, dict):
                raise MalformedReply("malformed response body (not a JSON object)", status=status, endpoint=path)
            return parsed
        if status == 429:
            self.stats.incr("rate_limited")
        raise error_from_response(status, parsed, endpoint=path)

    def _send(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """POST with a per-read timeout and an overall deadline, reading at most MAX_BODY_BYTES."""
        deadline = time.monotonic() + self.timeout_s
        response = self._session.post(
            url, data=body, headers=dict(headers), timeout=(self.timeout_s, self.timeout_s),
            allow_redirects=False, stream=True,
        )
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise UnexpectedResponse("response body too large", status=response.status_code)
                if time.monotonic() > deadline:
                    raise requests.Timeout("response body not received within the deadline")
                chunks.append(chunk)
            return response.status_code, b"".join(chunks)
        finally:
            response.close()
