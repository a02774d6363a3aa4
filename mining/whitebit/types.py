"""Typed, immutable results of the 11 mining endpoints, parsed strictly from the pool's JSON.

The pool's wire names differ between endpoints (`accountName` vs `account`, `hashrates`/`time` vs
`hashrate`/`timestamp`, wrapped vs unwrapped bodies); those quirks stop in the `from_api` constructors here, so the
rest of the portal sees one vocabulary with unit-suffixed names. Amounts and hashrates are exact `Decimal`s
(see `amounts.py`), times are aware UTC datetimes. A body of the wrong shape raises `UnexpectedResponse`.

Every type is named `Upstream…` so that it never reads like our models of the same thing (`mining.models.Reward`
is the stored, tenant-owned row; `UpstreamReward` is what the pool said).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from mining.whitebit.amounts import AmountError, decimal_from_api
from mining.whitebit.errors import UnexpectedResponse

PAYOUT_DESTINATIONS = ("main_balance", "external_address")
REWARD_STATUSES = ("pending", "successful", "canceled")
HASHRATE_INTERVALS = ("5m", "1h", "24h")
WATCHER_PERMISSIONS = ("dashboard", "rewards", "workers")
WATCHER_LIFETIMES = ("1h", "24h", "7d", "always")


def _shape_error(what: str) -> UnexpectedResponse:
    return UnexpectedResponse(f"response shape: {what}")


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _shape_error(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _shape_error(f"{what} is not a list")
    return value


def _get(obj: Mapping[str, Any], key: str) -> Any:
    if key not in obj:
        raise _shape_error(f"missing {key!r}")
    return obj[key]


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _shape_error(f"{what} is not a string")
    return value


def _opt_str(value: Any, what: str) -> str | None:
    return None if value is None else _str(value, what)


def _int(value: Any, what: str) -> int:
    """Integers, tolerating digit strings (the pool sends some numbers as strings elsewhere in v4)."""
    if isinstance(value, bool):
        raise _shape_error(f"{what} is a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit():
        return int(value)
    raise _shape_error(f"{what} is not an integer")


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return decimal_from_api(value, field=what)
    except AmountError as exc:
        raise _shape_error(str(exc)) from exc


def _opt_decimal(value: Any, what: str) -> Decimal | None:
    return None if value is None else _decimal(value, what)


def timestamp_to_datetime(value: Any, what: str = "timestamp") -> datetime:
    """Unix seconds (int or digit string) to an aware UTC datetime."""
    seconds = _int(value, what)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _shape_error(f"{what} out of range ({seconds})") from exc


def _opt_timestamp(value: Any, what: str) -> datetime | None:
    return None if value is None else timestamp_to_datetime(value, what)


def _data(body: Mapping[str, Any]) -> Any:
    return _get(body, "data")


@dataclass(frozen=True)
class UpstreamMiningAccount:
    name: str
    created_at: datetime

    @classmethod
    def from_api(cls, raw: Any) -> UpstreamMiningAccount:
        obj = _obj(raw, "account")
        return cls(
            name=_str(_get(obj, "name"), "name"),
            created_at=timestamp_to_datetime(_get(obj, "createdAt"), "createdAt"),
        )


@dataclass(frozen=True)
class UpstreamMiningAccountsPage:
    accounts: tuple[UpstreamMiningAccount, ...]
    limit: int
    offset: int

    @classmethod
    def from_api(cls, body: Mapping[str, Any], *, limit: int | None, offset: int | None) -> UpstreamMiningAccountsPage:
        """`limit`/`offset` are echoed by the pool; fall back to what was sent (or the defaults) if absent."""
        items = _list(_data(body), "data")
        return cls(
            accounts=tuple(UpstreamMiningAccount.from_api(i) for i in items),
            limit=_int(body.get("limit", limit if limit is not None else 30), "limit"),
            offset=_int(body.get("offset", offset or 0), "offset"),
        )


@dataclass(frozen=True)
class UpstreamReward:
    """One daily FPPS reward. Identity is (account, date_at): the sync layer upserts on it."""

    account: str
    date_at: datetime
    total_reward: Decimal
    reward: Decimal
    fee: Decimal
    fpps_rate: Decimal
    hashrate_hs: Decimal
    status: str | None
    payout_destination: str | None
    payout_address: str | None
    payout_tx_hash: str | None
    payout_at: datetime | None
    currency: str

    @property
    def key(self) -> tuple[str, datetime]:
        return (self.account, self.date_at)

    @classmethod
    def from_api(cls, raw: Any) -> UpstreamReward:
        """`status`, the payout fields and `rewardCurrency` are absent in pre-2026 responses: tolerate that."""
        o = _obj(raw, "reward")
        return cls(
            account=_str(_get(o, "miningAccountName"), "miningAccountName"),
            date_at=timestamp_to_datetime(_get(o, "date"), "date"),
            total_reward=_decimal(_get(o, "totalReward"), "totalReward"),
            reward=_decimal(_get(o, "reward"), "reward"),
            fee=_decimal(_get(o, "fee"), "fee"),
            fpps_rate=_decimal(_get(o, "fppsRate"), "fppsRate"),
            hashrate_hs=_decimal(_get(o, "hashRate"), "hashRate"),
            status=_opt_str(o.get("status"), "status"),
            payout_destination=_opt_str(o.get("payoutDestination"), "payoutDestination"),
            payout_address=_opt_str(o.get("payoutAddress"), "payoutAddress"),
            payout_tx_hash=_opt_str(o.get("payoutTransactionHash"), "payoutTransactionHash"),
            payout_at=_opt_timestamp(o.get("payoutTime"), "payoutTime"),
            currency=_str(o.get("rewardCurrency") or "BTC", "rewardCurrency"),
        )


@dataclass(frozen=True)
class UpstreamRewardsPage:
    rewards: tuple[UpstreamReward, ...]
    limit: int
    offset: int

    @classmethod
    def from_api(cls, body: Mapping[str, Any], *, limit: int | None, offset: int | None) -> UpstreamRewardsPage:
        items = _list(_data(body), "data")
        return cls(
            rewards=tuple(UpstreamReward.from_api(i) for i in items),
            limit=_int(body.get("limit", limit if limit is not None else 30), "limit"),
            offset=_int(body.get("offset", offset or 0), "offset"),
        )


@dataclass(frozen=True)
class UpstreamHashratePoint:
    """`hashrate_hs` is H/s. On worker hashrate the unit is disputed in the docs (TH/s vs H/s, contract §3.9); the
    SME correction says H/s everywhere, so both endpoints are read as H/s. `reject_rate` is a fraction (0.01 = 1%),
    only reported by account hashrate."""

    at: datetime
    hashrate_hs: Decimal
    reject_rate: Decimal | None = None


@dataclass(frozen=True)
class UpstreamAccountHashrate:
    account: str
    points: tuple[UpstreamHashratePoint, ...]

    @classmethod
    def from_api(cls, body: Mapping[str, Any], *, account: str) -> UpstreamAccountHashrate:
        """An account disabled for mining may come back with an empty or missing list: both mean no points."""
        data = _data(body)
        if isinstance(data, list) and not data:  # [I] empty-data shape for a disabled account
            return cls(account=account, points=())
        d = _obj(data, "data")
        points = []
        for raw in _list(d.get("hashrate") or [], "hashrate"):
            p = _obj(raw, "hashrate point")
            points.append(
                UpstreamHashratePoint(
                    at=timestamp_to_datetime(_get(p, "timestamp"), "timestamp"),
                    hashrate_hs=_decimal(_get(p, "hashrate"), "hashrate"),
                    reject_rate=_opt_decimal(p.get("rejectRate"), "rejectRate"),
                )
            )
        return cls(account=_str(d.get("account") or account, "account"), points=tuple(points))


@dataclass(frozen=True)
class UpstreamWorkerHashrate:
    account: str
    worker: str
    points: tuple[UpstreamHashratePoint, ...]

    @classmethod
    def from_api(cls, body: Mapping[str, Any], *, account: str, worker: str) -> UpstreamWorkerHashrate:
        data = _data(body)
        if isinstance(data, list) and not data:
            return cls(account=account, worker=worker, points=())
        d = _obj(data, "data")
        points = []
        for raw in _list(d.get("hashrates") or [], "hashrates"):
            p = _obj(raw, "hashrate point")
            points.append(
                UpstreamHashratePoint(
                    at=timestamp_to_datetime(_get(p, "time"), "time"),
                    hashrate_hs=_decimal(_get(p, "hashrate"), "hashrate"),
                    reject_rate=_opt_decimal(p.get("rejectRate"), "rejectRate"),
                )
            )
        return cls(account=account, worker=worker, points=tuple(points))


@dataclass(frozen=True)
class UpstreamPayoutDestination:
    destination: str
    address: str | None

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> UpstreamPayoutDestination:
        """The payout endpoints answer without a `data` wrapper; accept a wrapped body too, in case that changes."""
        obj = body["data"] if isinstance(body.get("data"), Mapping) else body
        return cls(
            destination=_str(_get(obj, "payoutDestination"), "payoutDestination"),
            address=_opt_str(obj.get("externalAddress"), "externalAddress"),
        )


@dataclass(frozen=True)
class UpstreamStratumEndpoint:
    url: str
    workers_count: int


@dataclass(frozen=True)
class UpstreamMinerInfo:
    fee_percent: Decimal
    workers_online: int
    workers_offline: int
    workers_low: int
    stratum: tuple[UpstreamStratumEndpoint, ...]

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> UpstreamMinerInfo:
        d = _obj(_data(body), "data")
        workers = _obj(d.get("workers") or {}, "workers")  # `workers` was added 2026-04-02; absent means unknown
        return cls(
            fee_percent=_decimal(_get(d, "fee"), "fee"),
            workers_online=_int(workers.get("online", 0), "workers.online"),
            workers_offline=_int(workers.get("offline", 0), "workers.offline"),
            workers_low=_int(workers.get("low", 0), "workers.low"),
            stratum=tuple(
                UpstreamStratumEndpoint(
                    url=_str(_get(_obj(s, "stratum"), "url"), "stratum.url"),
                    workers_count=_int(_obj(s, "stratum").get("workersCount", 0), "stratum.workersCount"),
                )
                for s in _list(d.get("stratum") or [], "stratum")
            ),
        )


@dataclass(frozen=True)
class UpstreamWorkerNamesPage:
    workers: tuple[str, ...]
    limit: int
    offset: int

    @classmethod
    def from_api(cls, body: Mapping[str, Any], *, limit: int | None, offset: int | None) -> UpstreamWorkerNamesPage:
        """Tolerates the unpaginated variant of §3.8 (no echoed limit): then the whole list is one page."""
        data = _data(body)
        names = data if isinstance(data, list) else _get(_obj(data, "data"), "workers")
        workers = tuple(_str(n, "worker name") for n in _list(names, "workers"))
        default_limit = limit if limit is not None else 100
        return cls(
            workers=workers,
            limit=_int(body.get("limit", default_limit), "limit"),
            offset=_int(body.get("offset", offset or 0), "offset"),
        )


@dataclass(frozen=True)
class UpstreamWatcherLink:
    """An active read-only link. `live_until_at` is None for links that never expire ("always").

    The create call's response carries only id, link and times, so `UpstreamWatcherLink` objects it returns take
    `accounts`, `name` and `permissions` from the request the pool accepted.
    """

    id: str
    link: str
    accounts: tuple[str, ...]
    name: str
    permissions: tuple[str, ...]
    live_until_at: datetime | None
    created_at: datetime

    @classmethod
    def from_api(cls, raw: Any, *, defaults: Mapping[str, Any] | None = None) -> UpstreamWatcherLink:
        o = _obj(raw, "watcher link")
        defaults = defaults or {}
        accounts = o.get("accounts", defaults.get("accounts"))
        permissions = o.get("permissions", defaults.get("permissions"))
        return cls(
            id=_str(_get(o, "id"), "id"),
            link=_str(_get(o, "link"), "link"),
            accounts=tuple(_str(a, "accounts[]") for a in _list(accounts, "accounts")),
            name=_str(o.get("name", defaults.get("name")), "name"),
            permissions=tuple(_str(p, "permissions[]") for p in _list(permissions, "permissions")),
            live_until_at=_opt_timestamp(o.get("liveUntil"), "liveUntil"),
            created_at=timestamp_to_datetime(_get(o, "createdAt"), "createdAt"),
        )
