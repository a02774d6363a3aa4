"""The WhiteBIT mining pool client: the 11 endpoints, each returning a typed, immutable result, plus pagination.

Each method names its path and parameters and parses the reply (`types.py`); signing, nonces, the rate budget,
timeouts, retries and the mapping of HTTP failures to errors are the transport's (`transport.py`), shared by all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from mining.whitebit.errors import UnexpectedResponse, UpstreamUnavailable, ValidationFailed, WhiteBitError
from mining.whitebit.transport import ClientStats, WhiteBitTransport
from mining.whitebit.types import (
    UpstreamAccountHashrate,
    UpstreamMinerInfo,
    UpstreamMiningAccount,
    UpstreamMiningAccountsPage,
    UpstreamPayoutDestination,
    UpstreamReward,
    UpstreamRewardsPage,
    UpstreamWatcherLink,
    UpstreamWorkerHashrate,
    UpstreamWorkerNamesPage,
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
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _unix_seconds(value: datetime, name: str) -> int:
    """Aware datetime to integer Unix seconds (floored), without going through a float."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return (value - _EPOCH) // timedelta(seconds=1)


class WhiteBitClient:
    """Thread-safe: one client may serve many threads (through its transport's connection pool)."""

    def __init__(self, base_url: str, api_key: str, api_secret: str, **options: Any) -> None:
        """`options` are the transport's: `timeout_s`, `budget`, `nonces`, `max_retries`, `backoff_base_s`,
        `backoff_cap_s`, `session`, `sleep`, `budget_timeout_s`, `pool_maxsize` (see `WhiteBitTransport`)."""
        self.transport = WhiteBitTransport(base_url, api_key, api_secret, **options)

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    @property
    def key_fingerprint(self) -> str:
        return self.transport.key_fingerprint

    @property
    def stats(self) -> ClientStats:
        return self.transport.stats

    @property
    def max_retries(self) -> int:
        """Retries per call; a write that must not be repeated blind sets 0 (`upstream_writes`)."""
        return self.transport.max_retries

    @max_retries.setter
    def max_retries(self, value: int) -> None:
        self.transport.max_retries = value

    def __repr__(self) -> str:
        return f"WhiteBitClient(base_url={self.base_url!r}, key={self.key_fingerprint}…)"

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> WhiteBitClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _shape(path: str, parse: Callable[[], T]) -> T:
        try:
            return parse()
        except UnexpectedResponse as exc:
            exc.endpoint = path
            raise

    # ---------------------------------------------------------------- accounts

    def account_create(self, *, name: str, referral_code: str | None = None) -> UpstreamMiningAccount:
        """Create a mining account. Safe to retry: if an earlier attempt timed out or failed server-side and the
        retry is told the name is taken, that attempt did land, and the existing account is returned."""
        retried: list[WhiteBitError] = []
        try:
            params = {"name": name, "referralCode": referral_code}
            body = self.transport.call(Paths.ACCOUNT_CREATE, params, retried=retried)
        except ValidationFailed as exc:
            if not (exc.is_name_taken and any(isinstance(e, UpstreamUnavailable) for e in retried)):
                raise
            existing = [a for a in self.accounts_list(name=name).accounts if a.name == name]
            if not existing:
                raise
            logger.info("whitebit account %s was created by an attempt that timed out; using it", name)
            return existing[0]
        return self._shape(Paths.ACCOUNT_CREATE, lambda: UpstreamMiningAccount.from_api(body.get("data")))

    def accounts_list(
        self, *, name: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> UpstreamMiningAccountsPage:
        body = self.transport.call(Paths.ACCOUNTS, {"name": name, "limit": limit, "offset": offset})
        return self._shape(
            Paths.ACCOUNTS, lambda: UpstreamMiningAccountsPage.from_api(body, limit=limit, offset=offset)
        )

    # ---------------------------------------------------------------- rewards

    def rewards_list(
        self,
        *,
        account: str | None = None,
        from_at: datetime | None = None,
        to_at: datetime | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> UpstreamRewardsPage:
        params = {
            "account": account,
            "from": None if from_at is None else _unix_seconds(from_at, "from_at"),
            "to": None if to_at is None else _unix_seconds(to_at, "to_at"),
            "limit": limit,
            "offset": offset,
        }
        body = self.transport.call(Paths.REWARDS, params)
        return self._shape(Paths.REWARDS, lambda: UpstreamRewardsPage.from_api(body, limit=limit, offset=offset))

    # ---------------------------------------------------------------- hashrate

    def account_hashrate(
        self,
        *,
        account: str,
        interval: Interval = "1h",
        from_at: datetime | None = None,
        to_at: datetime | None = None,
    ) -> UpstreamAccountHashrate:
        params = {
            "account": account,
            "interval": interval,
            "from": None if from_at is None else _unix_seconds(from_at, "from_at"),
            "to": None if to_at is None else _unix_seconds(to_at, "to_at"),
        }
        body = self.transport.call(Paths.HASHRATE, params)
        return self._shape(Paths.HASHRATE, lambda: UpstreamAccountHashrate.from_api(body, account=account))

    def worker_hashrate(
        self,
        *,
        account: str,
        worker: str,
        interval: Interval = "1h",
        from_at: datetime | None = None,
        to_at: datetime | None = None,
    ) -> UpstreamWorkerHashrate:
        params = {
            "account": account,
            "worker": worker,
            "interval": interval,
            "from": None if from_at is None else _unix_seconds(from_at, "from_at"),
            "to": None if to_at is None else _unix_seconds(to_at, "to_at"),
        }
        body = self.transport.call(Paths.WORKER_HASHRATE, params)
        return self._shape(
            Paths.WORKER_HASHRATE, lambda: UpstreamWorkerHashrate.from_api(body, account=account, worker=worker)
        )

    # ---------------------------------------------------------------- payout destination

    def payout_destination_get(self, *, account: str) -> UpstreamPayoutDestination:
        body = self.transport.call(Paths.PAYOUT_GET, {"accountName": account})
        return self._shape(Paths.PAYOUT_GET, lambda: UpstreamPayoutDestination.from_api(body))

    def payout_destination_set(
        self, *, account: str, destination: Destination, address: str | None = None
    ) -> UpstreamPayoutDestination:
        params = {"accountName": account, "destination": destination, "address": address}
        body = self.transport.call(Paths.PAYOUT_SET, params)
        return self._shape(Paths.PAYOUT_SET, lambda: UpstreamPayoutDestination.from_api(body))

    # ---------------------------------------------------------------- miners and workers

    def miner_info(self, *, account: str) -> UpstreamMinerInfo:
        body = self.transport.call(Paths.MINER_INFO, {"account": account})
        return self._shape(Paths.MINER_INFO, lambda: UpstreamMinerInfo.from_api(body))

    def worker_names(
        self, *, account: str, limit: int | None = None, offset: int | None = None
    ) -> UpstreamWorkerNamesPage:
        body = self.transport.call(Paths.WORKER_NAMES, {"account": account, "limit": limit, "offset": offset})
        return self._shape(
            Paths.WORKER_NAMES, lambda: UpstreamWorkerNamesPage.from_api(body, limit=limit, offset=offset)
        )

    # ---------------------------------------------------------------- watcher links

    def watcher_link_create(
        self,
        *,
        accounts: Sequence[str],
        name: str,
        permissions: Sequence[Permission],
        live_until: LiveUntil,
    ) -> UpstreamWatcherLink:
        if isinstance(accounts, str) or isinstance(permissions, str):
            raise TypeError("accounts and permissions are sequences of strings, not a string")
        params = {"accounts": list(accounts), "name": name, "permissions": list(permissions), "liveUntil": live_until}
        body = self.transport.call(Paths.WATCHER_CREATE, params)
        defaults = {"accounts": list(accounts), "name": name, "permissions": list(permissions)}
        return self._shape(
            Paths.WATCHER_CREATE, lambda: UpstreamWatcherLink.from_api(body.get("data"), defaults=defaults)
        )

    def watcher_links_list(self, *, account: str) -> tuple[UpstreamWatcherLink, ...]:
        body = self.transport.call(Paths.WATCHER_LIST, {"account": account})

        def parse() -> tuple[UpstreamWatcherLink, ...]:
            data = body.get("data")
            if not isinstance(data, list):
                raise UnexpectedResponse("response shape: data is not a list")
            return tuple(UpstreamWatcherLink.from_api(item) for item in data)

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
    ) -> Iterator[UpstreamReward]:
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

    def accounts_iter(
        self, *, name: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[UpstreamMiningAccount]:
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
