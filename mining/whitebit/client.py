"""The WhiteBIT mining pool client: 11 signed endpoints, typed results, bounded retries, a shared rate budget.

Every call goes through `_call`, which for each HTTP attempt (first try and every retry):
  1. takes a token from the rate budget (shared across processes when it is a `RateBudget`),
  2. signs a fresh body with a new nonce (a retried body must not reuse a nonce: the pool would call it a replay),
  3. sends it with a timeout, no redirects, and a bounded body size,
  4. classifies the outcome (`errors.error_from_response`) and retries only what is retryable, with exponential
     backoff and full jitter, at most `max_retries` times.

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from mining.whitebit.errors import (
    MalformedReply,
    UnexpectedResponse,
    UpstreamUnavailable,
    ValidationFailed,
    WhiteBitError,
    error_from_response,
)
from mining.whitebit.nonce import LocalNonceSource, NonceSource
from mining.whitebit.ratelimit import Budget, LocalRateBudget, key_fingerprint
from mining.whitebit.signing import request_sign
from mining.whitebit.types import (
    AccountHashrate,
    MinerInfo,
    MiningAccount,
    MiningAccountsPage,
    PayoutDestination,
    Reward,
    RewardsPage,
    WatcherLink,
    WorkerHashrate,
    WorkerNamesPage,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

Interval = Literal["5m", "1h", "24h"]
Destination = Literal["main_balance", "external_address"]
Permission = Literal["dashboard", "rewards", "workers"]
LiveUntil = Literal["1h", "24h", "7d", "always"]


class Paths:
    ACCOUNT_CREATE = "/api/v4/mining/accounts/create"
    ACCOUNTS = "/api/v4/mining/accounts"
    REWARDS = "/api/v4/mining/rewards"
    HASHRATE = "/api/v4/mining/hashrate"
    PAYOUT_GET = "/api/v4/mining/payout-destination"
    PAYOUT_SET = "/api/v4/mining/payout-destination/edit"
    MINER_INFO = "/api/v4/mining/miners/info"
    WORKER_NAMES = "/api/v4/mining/workers/names"
    WORKER_HASHRATE = "/api/v4/mining/workers/hashrate"
    WATCHER_CREATE = "/api/v4/mining/watcher-links/create"
    WATCHER_LIST = "/api/v4/mining/watcher-links/list"

    ALL = (
        ACCOUNT_CREATE, ACCOUNTS, REWARDS, HASHRATE, PAYOUT_GET, PAYOUT_SET,
        MINER_INFO, WORKER_NAMES, WORKER_HASHRATE, WATCHER_CREATE, WATCHER_LIST,
    )


#: The pool refuses offsets above this on every paginated endpoint (contract §3.3, §3.8).
MAX_OFFSET = 10_000
MAX_PAGE_SIZE = 100
#: A mining API response is a few KB; anything far larger is not the pool talking.
MAX_BODY_BYTES = 8 * 1024 * 1024

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# In one process, clients built without explicit sources share these, so two clients with one key neither reuse
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


def _unix_seconds(value: datetime, name: str) -> int:
    """Aware datetime to integer Unix seconds (floored), without going through a float."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return (value - _EPOCH) // timedelta(seconds=1)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} in JSON")


def _json_parse(raw: bytes) -> Any:
    """Numbers with a fraction become Decimal (never float); NaN/Infinity are refused."""
    return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)


class WhiteBitClient:
    """Thread-safe: one client may serve many threads (the connection pool is sized by `pool_maxsize`)."""

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
        return f"WhiteBitClient(base_url={self.base_url!r}, key={self.key_fingerprint}…)"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> WhiteBitClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- transport

    def backoff_delay(self, attempt: int) -> float:
        """Full jitter (AWS): spreads retrying workers out instead of synchronising them on the pool."""
        return self._random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))

    def _call(
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
            parsed: Any = _json_parse(raw) if raw else None
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

    @staticmethod
    def _shape(path: str, parse: Callable[[], T]) -> T:
        try:
            return parse()
        except UnexpectedResponse as exc:
            exc.endpoint = path
            raise

    # ---------------------------------------------------------------- accounts

    def account_create(self, *, name: str, referral_code: str | None = None) -> MiningAccount:
        """Create a mining account. Safe to retry: if an earlier attempt timed out or failed server-side and the
        retry is told the name is taken, that attempt did land, and the existing account is returned."""
        retried: list[WhiteBitError] = []
        try:
            body = self._call(Paths.ACCOUNT_CREATE, {"name": name, "referralCode": referral_code}, retried=retried)
        except ValidationFailed as exc:
            if not (exc.is_name_taken and any(isinstance(e, UpstreamUnavailable) for e in retried)):
                raise
            existing = [a for a in self.accounts_list(name=name).accounts if a.name == name]
            if not existing:
                raise
            logger.info("whitebit account %s was created by an attempt that timed out; using it", name)
            return existing[0]
        return self._shape(Paths.ACCOUNT_CREATE, lambda: MiningAccount.from_api(body.get("data")))

    def accounts_list(
        self, *, name: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> MiningAccountsPage:
        body = self._call(Paths.ACCOUNTS, {"name": name, "limit": limit, "offset": offset})
        return self._shape(Paths.ACCOUNTS, lambda: MiningAccountsPage.from_api(body, limit=limit, offset=offset))

    # ---------------------------------------------------------------- rewards

    def rewards_list(
        self,
        *,
        account: str | None = None,
        from_at: datetime | None = None,
        to_at: datetime | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> RewardsPage:
        params = {
            "account": account,
            "from": None if from_at is None else _unix_seconds(from_at, "from_at"),
            "to": None if to_at is None else _unix_seconds(to_at, "to_at"),
            "limit": limit,
            "offset": offset,
        }
        body = self._call(Paths.REWARDS, params)
        return self._shape(Paths.REWARDS, lambda: RewardsPage.from_api(body, limit=limit, offset=offset))

    # ---------------------------------------------------------------- hashrate

    def account_hashrate(
        self,
        *,
        account: str,
        interval: Interval = "1h",
        from_at: datetime | None = None,
        to_at: datetime | None = None,
    ) -> AccountHashrate:
        params = {
            "account": account,
            "interval": interval,
            "from": None if from_at is None else _unix_seconds(from_at, "from_at"),
            "to": None if to_at is None else _unix_seconds(to_at, "to_at"),
        }
        body = self._call(Paths.HASHRATE, params)
        return self._shape(Paths.HASHRATE, lambda: AccountHashrate.from_api(body, account=account))

    def worker_hashrate(
        self,
        *,
        account: str,
        worker: str,
        interval: Interval = "1h",
        from_at: datetime | None = None,
        to_at: datetime | None = None,
    ) -> WorkerHashrate:
        params = {
            "account": account,
            "worker": worker,
            "interval": interval,
            "from": None if from_at is None else _unix_seconds(from_at, "from_at"),
            "to": None if to_at is None else _unix_seconds(to_at, "to_at"),
        }
        body = self._call(Paths.WORKER_HASHRATE, params)
        return self._shape(
            Paths.WORKER_HASHRATE, lambda: WorkerHashrate.from_api(body, account=account, worker=worker)
        )

    # ---------------------------------------------------------------- payout destination

    def payout_destination_get(self, *, account: str) -> PayoutDestination:
        body = self._call(Paths.PAYOUT_GET, {"accountName": account})
        return self._shape(Paths.PAYOUT_GET, lambda: PayoutDestination.from_api(body))

    def payout_destination_set(
        self, *, account: str, destination: Destination, address: str | None = None
    ) -> PayoutDestination:
        params = {"accountName": account, "destination": destination, "address": address}
        body = self._call(Paths.PAYOUT_SET, params)
        return self._shape(Paths.PAYOUT_SET, lambda: PayoutDestination.from_api(body))

    # ---------------------------------------------------------------- miners and workers

    def miner_info(self, *, account: str) -> MinerInfo:
        body = self._call(Paths.MINER_INFO, {"account": account})
        return self._shape(Paths.MINER_INFO, lambda: MinerInfo.from_api(body))

    def worker_names(
        self, *, account: str, limit: int | None = None, offset: int | None = None
    ) -> WorkerNamesPage:
        body = self._call(Paths.WORKER_NAMES, {"account": account, "limit": limit, "offset": offset})
        return self._shape(Paths.WORKER_NAMES, lambda: WorkerNamesPage.from_api(body, limit=limit, offset=offset))

    # ---------------------------------------------------------------- watcher links

    def watcher_link_create(
        self,
        *,
        accounts: Sequence[str],
        name: str,
        permissions: Sequence[Permission],
        live_until: LiveUntil,
    ) -> WatcherLink:
        if isinstance(accounts, str) or isinstance(permissions, str):
            raise TypeError("accounts and permissions are sequences of strings, not a string")
        params = {"accounts": list(accounts), "name": name, "permissions": list(permissions), "liveUntil": live_until}
        body = self._call(Paths.WATCHER_CREATE, params)
        defaults = {"accounts": list(accounts), "name": name, "permissions": list(permissions)}
        return self._shape(Paths.WATCHER_CREATE, lambda: WatcherLink.from_api(body.get("data"), defaults=defaults))

    def watcher_links_list(self, *, account: str) -> tuple[WatcherLink, ...]:
        body = self._call(Paths.WATCHER_LIST, {"account": account})

        def parse() -> tuple[WatcherLink, ...]:
            data = body.get("data")
            if not isinstance(data, list):
                raise UnexpectedResponse("response shape: data is not a list")
            return tuple(WatcherLink.from_api(item) for item in data)

        return self._shape(Paths.WATCHER_LIST, parse)

    # ---------------------------------------------------------------- pagination

    def rewards_iter(
        self,
        *,
        account: str | None,
        from_at: datetime | None = None,
        to_at: datetime | None = None,
        page_size: int = MAX_PAGE_SIZE,
        offset_cap: int = MAX_OFFSET,
    ) -> Iterator[Reward]:
        """Every reward in [from_at, to_at], newest first, each (account, date) exactly once.

        The pool refuses offsets above `offset_cap` (10,000). When the next page would pass it, the window is
        narrowed to `to = oldest date seen` and paging restarts at offset 0. `to` is inclusive, so rewards on that
        boundary date are read again and dropped by the (account, date) dedupe: nothing is skipped, because every
        reward older than the boundary lies inside the new window, and every reward at the boundary is re-read.
        Rewards arriving mid-walk only push items to later offsets (newest first), which the dedupe also absorbs.
        If more than `offset_cap + page_size` rewards share one date, no narrowing can progress: that raises
        `UnexpectedResponse` rather than looping.
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE or offset_cap < 0:
            raise ValueError("page_size must be 1..100 and offset_cap >= 0")
        seen: set[tuple[str, datetime]] = set()
        window_to = to_at
        offset = 0
        oldest: datetime | None = None
        while True:
            page = self.rewards_list(
                account=account, from_at=from_at, to_at=window_to, limit=page_size, offset=offset
            )
            for reward in page.rewards:
                if oldest is None or reward.date_at < oldest:
                    oldest = reward.date_at
                if reward.key not in seen:
                    seen.add(reward.key)
                    yield reward
            if len(page.rewards) < page_size:
                return
            if offset + page_size <= offset_cap:
                offset += page_size
                continue
            assert oldest is not None  # a full page was just read
            if window_to is not None and oldest >= window_to:
                raise UnexpectedResponse(
                    f"more than {offset_cap + page_size} rewards dated {oldest.isoformat()}: cannot page past them",
                    endpoint=Paths.REWARDS,
                )
            window_to, offset = oldest, 0

    def worker_names_all(self, *, account: str, page_size: int = MAX_PAGE_SIZE) -> tuple[str, ...]:
        """All online workers, sorted and unique. Also copes with the unpaginated variant (§3.8) and with
        workers coming online mid-walk (names shift to later pages; the set absorbs repeats)."""
        names: set[str] = set()
        offset = 0
        while True:
            page = self.worker_names(account=account, limit=page_size, offset=offset)
            new = set(page.workers) - names
            names |= new
            if len(page.workers) < page_size or not new:
                return tuple(sorted(names))
            offset += len(page.workers)
            if offset > MAX_OFFSET:
                raise UnexpectedResponse(
                    f"more than {MAX_OFFSET} online workers: the pool cannot page further", endpoint=Paths.WORKER_NAMES
                )

    def accounts_iter(self, *, name: str | None = None, page_size: int = MAX_PAGE_SIZE) -> Iterator[MiningAccount]:
        """Every mining account of the key's user, newest first, each name once. Stops on a short page, or on a
        page with nothing new (in case the pool ignores `offset` here, contract §3.2 [I])."""
        seen: set[str] = set()
        offset = 0
        while True:
            page = self.accounts_list(name=name, limit=page_size, offset=offset)
            fresh = [a for a in page.accounts if a.name not in seen]
            for account in fresh:
                seen.add(account.name)
                yield account
            if len(page.accounts) < page_size or not fresh:
                return
            offset += len(page.accounts)
            if offset > MAX_OFFSET:
                raise UnexpectedResponse(
                    f"more than {MAX_OFFSET} mining accounts: the pool cannot page further", endpoint=Paths.ACCOUNTS
                )
