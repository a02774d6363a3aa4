"""WSGI application of the sandbox pool: the 11 mining endpoints plus loopback-only control endpoints.

Every API request goes through the same gauntlet as on the real pool (contract §1.7), in this order: payload header,
API key, HMAC, body == decoded payload and compact JSON, `request` == path, nonce present, `nonceWindow` boolean,
nonce rules, per-(IP, endpoint) rate limit, then the endpoint's own validation. Getting the order right matters
because the client classifies errors by status and code, and an out-of-order check would teach it the wrong thing.

Two clocks: the *real* clock judges nonces and "timestamp in the future"; the *data* clock (`SandboxConfig.now`,
movable through `/_sandbox/clock`) decides how much of the simulated history exists and stamps created objects.
A client asking for data up to its own now against a frozen data clock gets data up to the frozen time, no error.

Control endpoints (answer only to loopback clients; anyone else gets 404):

* `POST /_sandbox/faults` `{"endpoint": "/api/v4/mining/hashrate" | "*", "fault": KIND, "count": N, "hang_s": S}`
  queues the next N requests to that endpoint (or any endpoint for "*") to fail. KIND is one of
  `429` (plain-text gateway 429), `429_json` (`{"code":0,"errors":{},"message":"Too many requests."}`),
  `500` (`{"error":["Internal server error."]}`), `503` (HTML body), `hang` (wait `hang_s`, default 30, then answer
  normally, judging the nonce by the arrival time), `malformed_json` (200 with truncated JSON).
  Endpoint-specific faults are served before "*" ones; faults are served before authentication, like a gateway.
* `GET /_sandbox/faults` lists the queue; `DELETE /_sandbox/faults` clears it.
* `GET /_sandbox/stats`: request counts per endpoint and per status, 429s caused by the rate limit, nonce
  rejections and faults served. `POST /_sandbox/stats/reset` zeroes them.
* `POST /_sandbox/clock` `{"now": "2026-11-15T00:00:00Z" | null}` freezes the data clock there (null: follow the
  real clock). `GET /_sandbox/clock` reports it.
* `GET /_sandbox/accounts`: the seeded fleet (names, workers), for tooling and humans.
* `POST /_sandbox/workers` `{"account", "worker", "state": "online" | "low" | "zero" | "offline", "since"?}` sets a
  worker's state; `GET` lists the workers and their states, `DELETE` returns to the pure simulation
  (`worker_control.py`).
"""

from __future__ import annotations

import base64
import binascii
import heapq
import hmac
import ipaddress
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from mining.whitebit.sandbox import worker_control
from mining.whitebit.sandbox.btc_address import MAX_ADDRESS_LENGTH, is_valid_btc_address
from mining.whitebit.sandbox.config import SandboxConfig
from mining.whitebit.sandbox.simulation import (
    DAY,
    HOUR,
    INTERVAL_SECONDS,
    POOL_COUNT_OF_STATE,
    DailyReward,
    Fleet,
    btc_str,
    hs_str,
)
from mining.whitebit.signing import signature_compute

logger = logging.getLogger(__name__)

PREFIX = "/api/v4/mining"
P_ACCOUNTS_CREATE = f"{PREFIX}/accounts/create"
P_ACCOUNTS = f"{PREFIX}/accounts"
P_REWARDS = f"{PREFIX}/rewards"
P_HASHRATE = f"{PREFIX}/hashrate"
P_PAYOUT = f"{PREFIX}/payout-destination"
P_PAYOUT_EDIT = f"{PREFIX}/payout-destination/edit"
P_MINER_INFO = f"{PREFIX}/miners/info"
P_WORKER_NAMES = f"{PREFIX}/workers/names"
P_WORKER_HASHRATE = f"{PREFIX}/workers/hashrate"
P_WATCHER_CREATE = f"{PREFIX}/watcher-links/create"
P_WATCHER_LIST = f"{PREFIX}/watcher-links/list"
ENDPOINTS = (
    P_ACCOUNTS_CREATE,
    P_ACCOUNTS,
    P_REWARDS,
    P_HASHRATE,
    P_PAYOUT,
    P_PAYOUT_EDIT,
    P_MINER_INFO,
    P_WORKER_NAMES,
    P_WORKER_HASHRATE,
    P_WATCHER_CREATE,
    P_WATCHER_LIST,
)

FAULT_KINDS = ("429", "429_json", "500", "503", "hang", "malformed_json")
DEFAULT_HANG_S = 30.0
MAX_BODY_BYTES = 1 << 20

# Maximum `to - from` per interval (contract §3.4 and §3.9, from the 2026-03 SME note).
ACCOUNT_HASHRATE_MAX_WINDOW = {"5m": 3 * DAY, "1h": 7 * DAY, "24h": 30 * DAY}
WORKER_HASHRATE_MAX_WINDOW = {"5m": 3 * DAY, "1h": 7 * DAY, "24h": 14 * DAY}
DEFAULT_POINTS = 14

NAME_RE = re.compile(r"[a-zA-Z0-9_]+")  # used with fullmatch: "$" would let a trailing newline through
WATCHER_PERMISSIONS = ("dashboard", "rewards", "workers")
WATCHER_LIFETIMES = {"1h": HOUR, "24h": DAY, "7d": 7 * DAY, "always": None}
PAYOUT_DESTINATIONS = ("main_balance", "external_address")
WATCHER_LINK_BASE = "https://whitebit.com/mining-pool/watcher-link/"
STRATUM_URLS = {3333: "stratum+tcp://pool.whitebit.com:3333", 3334: "stratum+tcp://pool.whitebit.com:3334"}
DEFAULT_FEE = "2.5"

NONCE_REPLAY_BODY = {"code": 0, "errors": {}, "message": "Too many requests."}
INTERNAL_ERROR_BODY = {"error": ["Internal server error."]}
GATEWAY_429_TEXT = b"Too Many Requests"
GATEWAY_503_HTML = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
MALFORMED_JSON = b'{"data":{"hashrate":[{"timestamp":17093'

_LABELS = {"accountName": "account name", "liveUntil": "live until", "referralCode": "referral code"}


# ---- replies and errors -----------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_reply(status: int, obj: Any) -> Reply:
    return Reply(status, json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


class ApiError(Exception):
    """Stops handling and answers `reply`."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _validation_failed(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(json_reply(400, {"code": 0, "message": "Validation failed", "errors": errors}))


def _incorrect_timestamp() -> ApiError:
    return ApiError(json_reply(422, {"code": 422, "message": "Incorrect timestamp"}))


def _auth_error(status: int, code: int, message: str, *, with_errors: bool = False) -> ApiError:
    body: dict[str, Any] = {"code": code, "message": message}
    if with_errors:
        body["errors"] = {}
    return ApiError(json_reply(status, body))


class Errors:
    """Field errors collected Laravel-style: every rule is checked and all failures come back at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise _validation_failed(self.fields)


def _label(name: str) -> str:
    return _LABELS.get(name, name)


def _is_int_like(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value) is not None


def _string_field(
    body: dict[str, Any],
    name: str,
    errors: Errors,
    *,
    required: bool,
    max_len: int = 255,
    pattern: re.Pattern | None = None,
) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            errors.add(name, f"The {_label(name)} field is required.")
        return None
    if not isinstance(value, str):
        errors.add(name, f"The {_label(name)} field must be a string.")
        return None
    if len(value) > max_len:
        errors.add(name, f"The {_label(name)} field must not be greater than {max_len} characters.")
        return None
    if pattern is not None and not pattern.fullmatch(value):
        errors.add(name, f"The {_label(name)} format is invalid.")
        return None
    return value


def _enum_field(
    body: dict[str, Any], name: str, errors: Errors, choices: Iterable[str], *, default: str | None
) -> str | None:
    value = body.get(name)
    if value is None:
        if default is None:
            errors.add(name, f"The {_label(name)} field is required.")
        return default
    if not isinstance(value, str) or value not in choices:
        errors.add(name, f"The selected {_label(name)} is invalid.")
        return None
    return value


def _page_field(body: dict[str, Any], name: str, errors: Errors, *, default: int, low: int, high: int) -> int:
    """limit/offset with the pool's raw translation keys (contract §3.3)."""
    value = body.get(name)
    if value is None:
        return default
    if not _is_int_like(value):
        errors.add(name, "validation.integer")
        return default
    number = int(value)
    if number < low:
        errors.add(name, "validation.min")
    elif number > high:
        errors.add(name, "validation.max.integer" if name == "limit" else "validation.max")
    return number


# ---- state ------------------------------------------------------------------------------------------------------


@dataclass
class Account:
    name: str
    created_at: int
    seq: int
    seeded: bool
    fee_percent: str


@dataclass
class WatcherLink:
    id: str
    accounts: list[str]
    name: str
    permissions: list[str]
    live_until: int | None
    created_at: int
    seq: int

    def active(self, now: int) -> bool:
        return self.live_until is None or self.live_until > now

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "accounts": list(self.accounts),
            "name": self.name,
            "link": WATCHER_LINK_BASE + self.id,
            "permissions": list(self.permissions),
            "liveUntil": self.live_until,
            "createdAt": self.created_at,
        }


@dataclass
class Fault:
    kind: str
    remaining: int
    hang_s: float

    def as_json(self) -> dict[str, Any]:
        return {"fault": self.kind, "remaining": self.remaining, "hang_s": self.hang_s}


@dataclass
class NonceState:
    last: int = -1
    seen: set[int] = field(default_factory=set)
    heap: list[int] = field(default_factory=list)


class Stats:
    def __init__(self) -> None:
        self.by_endpoint: dict[str, Counter[str]] = defaultdict(Counter)
        self.by_status: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.nonce_rejected: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()

    def as_json(self) -> dict[str, Any]:
        return {
            "total": sum(self.by_status.values()),
            "by_status": dict(self.by_status),
            "by_endpoint": {
                ep: {"total": sum(c.values()), "by_status": dict(c)} for ep, c in sorted(self.by_endpoint.items())
            },
            "rate_limited": sum(self.rate_limited.values()),
            "rate_limited_by_endpoint": dict(self.rate_limited),
            "nonce_rejected": sum(self.nonce_rejected.values()),
            "faults_served": dict(self.faults_served),
        }


# ---- the application --------------------------------------------------------------------------------------------


class SandboxApp:
    """The WSGI callable. All mutable state lives behind `self._lock`; the fleet itself is stateless and pure."""

    def __init__(self, config: SandboxConfig, *, real_clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._real_clock = real_clock
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._frozen_now: int | None = int(config.now.timestamp()) if config.now is not None else None
        anchor = config.now or datetime.fromtimestamp(real_clock(), UTC)
        self.fleet = Fleet(
            seed=config.seed,
            accounts=config.accounts,
            workers=config.workers,
            history_days=config.history_days,
            anchor=anchor,
            fpps_btc_per_ph_day=config.fpps_btc_per_ph_day,
        )
        self._credentials = config.credentials()
        self._seq = 0
        self._accounts: dict[str, Account] = {}
        # account -> [(effective_from, destination, address)], oldest first; rewards read it at their settle time.
        self._destinations: dict[str, list[tuple[int, str, str | None]]] = {}
        for seeded in self.fleet.accounts.values():
            self._accounts[seeded.name] = Account(
                seeded.name, seeded.created_at, self._next_seq(), seeded=True, fee_percent=seeded.fee_percent
            )
            self._destinations[seeded.name] = [(-(2**62), seeded.destination, seeded.address)]
        self._links: list[WatcherLink] = []
        self._nonces: dict[str, NonceState] = defaultdict(NonceState)
        self._rate: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._stats = Stats()
        self._handlers: dict[str, Callable[[dict[str, Any]], Reply]] = {
            P_ACCOUNTS_CREATE: self._accounts_create,
            P_ACCOUNTS: self._accounts_list,
            P_REWARDS: self._rewards,
            P_HASHRATE: self._account_hashrate,
            P_PAYOUT: self._payout_get,
            P_PAYOUT_EDIT: self._payout_edit,
            P_MINER_INFO: self._miner_info,
            P_WORKER_NAMES: self._worker_names,
            P_WORKER_HASHRATE: self._worker_hashrate,
            P_WATCHER_CREATE: self._watcher_create,
            P_WATCHER_LIST: self._watcher_list,
        }

    # -- clocks --

    def real_now(self) -> float:
        return self._real_clock()

    def data_now(self) -> int:
        frozen = self._frozen_now
        return frozen if frozen is not None else int(self._real_clock())

    def set_data_clock(self, when: datetime | None) -> None:
        self._frozen_now = None if when is None else int(when.timestamp())

    def shutdown(self) -> None:
        """Wakes requests sleeping in a `hang` fault so the server can stop promptly."""
        self._stopping.set()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- WSGI entry --

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if path.startswith("/_sandbox/"):
                reply = self._control(environ, path, method)
            elif path in self._handlers:
                reply = self._api(environ, path, method)
            else:
                reply = Reply(404, content_type=None)
                if path.startswith("/api/"):
                    self._count("<unknown>", 404)
        except Exception:
            logger.exception("sandbox: unhandled error on %s %s", method, path)
            reply = json_reply(500, INTERNAL_ERROR_BODY)
        headers = list(reply.headers)
        if reply.content_type:
            headers.append(("Content-Type", reply.content_type))
        headers.append(("Content-Length", str(len(reply.body))))
        start_response(_status_line(reply.status), headers)
        return [reply.body]

    def _count(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._stats.by_endpoint[endpoint][str(status)] += 1
            self._stats.by_status[str(status)] += 1

    def _api(self, environ: dict[str, Any], path: str, method: str) -> Reply:
        arrived_ms = int(self.real_now() * 1000)
        try:
            if method != "POST":
                reply = Reply(405, content_type=None, headers=[("Allow", "POST")])
            else:
                reply = self._api_post(environ, path, arrived_ms)
        except Exception:
            logger.exception("sandbox: unhandled error on %s", path)
            reply = json_reply(500, INTERNAL_ERROR_BODY)
        self._count(path, reply.status)
        return reply

    def _api_post(self, environ: dict[str, Any], path: str, arrived_ms: int) -> Reply:
        fault = self._fault_take(path)
        if fault is not None:
            if fault.kind != "hang":
                return self._fault_reply(fault.kind)
            self._stopping.wait(fault.hang_s)
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000)
        try:
            body_bytes = _read_body(environ)
            body = self._authenticate(environ, path, body_bytes, arrived_ms)
            self._rate_check(environ.get("REMOTE_ADDR", ""), path)
            return self._handlers[path](body)
        except ApiError as exc:
            return exc.reply

    # -- faults --

    def _fault_take(self, path: str) -> Fault | None:
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

    @staticmethod
    def _fault_reply(kind: str) -> Reply:
        if kind == "429":
            return Reply(429, GATEWAY_429_TEXT, "text/plain; charset=utf-8")
        if kind == "429_json":
            return json_reply(429, NONCE_REPLAY_BODY)
        if kind == "500":
            return json_reply(500, INTERNAL_ERROR_BODY)
        if kind == "503":
            return Reply(503, GATEWAY_503_HTML, "text/html; charset=utf-8")
        return Reply(200, MALFORMED_JSON)

    # -- authentication (§1.7) --

    def _authenticate(self, environ: dict[str, Any], path: str, body_bytes: bytes, arrived_ms: int) -> dict[str, Any]:
        payload = environ.get("HTTP_X_TXC_PAYLOAD", "")
        if not payload:
            raise _auth_error(400, 0, "Payload not provided.", with_errors=True)
        api_key = environ.get("HTTP_X_TXC_APIKEY", "")
        secret = self._credentials.get(api_key)
        if secret is None:
            raise _auth_error(401, 2, "This action is unauthorized. Enable your key in API settings")
        signature = environ.get("HTTP_X_TXC_SIGNATURE", "")
        try:
            expected = signature_compute(secret, payload)
        except UnicodeEncodeError:
            expected = ""
        if not expected or not hmac.compare_digest(expected, signature.lower()):
            raise _auth_error(401, 10, "Unauthorized request.")
        invalid_payload = _auth_error(400, 9, "Invalid payload.")
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
        if not isinstance(body, dict) or not _is_compact_json(text):
            raise invalid_payload
        request = body.get("request")
        if request is None or request == "":
            raise _auth_error(400, 0, "Request not provided.", with_errors=True)
        if request != path:
            raise _auth_error(401, 10, "Unauthorized request.")
        raw_nonce = body.get("nonce")
        # A nonce that is not an integer (or a digit string) counts as not provided: there is no usable nonce.
        if raw_nonce is None or not _is_int_like(raw_nonce) or int(raw_nonce) < 0:
            raise _auth_error(400, 0, "Nonce not provided.", with_errors=True)
        window = body.get("nonceWindow", False)
        if not isinstance(window, bool):
            raise _auth_error(400, 0, "Invalid nonceWindow.", with_errors=True)
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

    def _rate_check(self, remote_addr: str, path: str) -> None:
        """Sliding window per (IP, endpoint); rejected requests do not count, as on the real gateway."""
        now = self.real_now()
        with self._lock:
            log = self._rate[(remote_addr, path)]
            horizon = now - self.config.rate_window_s
            while log and log[0] <= horizon:
                log.popleft()
            if len(log) >= self.config.rate_limit:
                self._stats.rate_limited[path] += 1
                if self.config.rate_limit_json_body:
                    raise ApiError(json_reply(429, NONCE_REPLAY_BODY))
                raise ApiError(Reply(429, GATEWAY_429_TEXT, "text/plain; charset=utf-8"))
            log.append(now)

    # -- shared request pieces --

    def _timestamps(
        self, body: dict[str, Any], *, max_window: dict[str, int] | None, interval: str | None
    ) -> tuple[int | None, int | None]:
        """from/to after the 422 rules: integers, not negative, not in the future, from <= to, window <= max."""
        limit = max(int(self.real_now()), self.data_now()) + self.config.clock_skew_s
        parsed: list[int | None] = []
        for name in ("from", "to"):
            value = body.get(name)
            if value is None:
                parsed.append(None)
                continue
            if not _is_int_like(value):
                raise _incorrect_timestamp()
            number = int(value)
            if number < 0 or number > limit:
                raise _incorrect_timestamp()
            parsed.append(number)
        start, end = parsed
        if start is not None and end is not None and start > end:
            raise _incorrect_timestamp()
        if max_window is not None and interval is not None and start is not None:
            effective_end = end if end is not None else self.data_now()
            if effective_end - start > max_window[interval]:
                raise _incorrect_timestamp()
        return start, end

    def _account_exists(self, name: str) -> bool:
        with self._lock:
            return name in self._accounts

    def _series_starts(self, interval: str, start: int | None, end: int | None) -> range:
        now = self.data_now()
        end = end if end is not None else now
        if start is None:
            last = self.fleet.latest_bucket_start(interval, end, now)
            start = last - (DEFAULT_POINTS - 1) * INTERVAL_SECONDS[interval]
        return self.fleet.bucket_starts(interval, start, end, now)

    # -- endpoints --

    def _accounts_create(self, body: dict[str, Any]) -> Reply:
        errors = Errors()
        name = _string_field(body, "name", errors, required=True, pattern=NAME_RE)
        _string_field(body, "referralCode", errors, required=False, max_len=50)
        with self._lock:
            if name is not None and name in self._accounts:
                errors.add("name", "The name has already been taken.")
            errors.raise_if_any()
            assert name is not None
            if len(self._accounts) >= self.config.max_accounts:
                raise _validation_failed({"error": ["miningPool.validation.maxAccounts"]})
            account = Account(name, self.data_now(), self._next_seq(), seeded=False, fee_percent=DEFAULT_FEE)
            self._accounts[name] = account
            self._destinations[name] = [(-(2**62), "main_balance", None)]
        return json_reply(200, {"data": {"name": account.name, "createdAt": account.created_at}})

    def _accounts_list(self, body: dict[str, Any]) -> Reply:
        errors = Errors()
        name = _string_field(body, "name", errors, required=False)
        limit = _page_field(body, "limit", errors, default=30, low=1, high=100)
        offset = _page_field(body, "offset", errors, default=0, low=0, high=10000)
        errors.raise_if_any()
        with self._lock:
            accounts = [a for a in self._accounts.values() if name is None or a.name == name]
        accounts.sort(key=lambda a: (a.created_at, a.seq), reverse=True)
        page = accounts[offset : offset + limit]
        data = [{"name": a.name, "createdAt": a.created_at} for a in page]
        return json_reply(200, {"data": data, "limit": limit, "offset": offset})

    def _rewards(self, body: dict[str, Any]) -> Reply:
        errors = Errors()
        account = body.get("account")
        if account is not None and not isinstance(account, str):
            errors.add("account", "The account field must be a string.")
        limit = _page_field(body, "limit", errors, default=30, low=1, high=100)
        offset = _page_field(body, "offset", errors, default=0, low=0, high=10000)
        errors.raise_if_any()
        start, end = self._timestamps(body, max_window=None, interval=None)
        now = self.data_now()
        names = list(self.fleet.accounts) if account in (None, "") else [account]
        data = []
        for i, reward in enumerate(self.fleet.rewards(names, start, end if end is not None else now, now)):
            if i < offset:
                continue
            if len(data) >= limit:
                break
            data.append(self._reward_json(reward, now))
        return json_reply(200, {"offset": offset, "limit": limit, "data": data})

    def _reward_json(self, reward: DailyReward, now: int) -> dict[str, Any]:
        status = reward.status(now)
        destination, address = self._destination_at(reward.account, min(reward.settle_at, now))
        external = destination == "external_address"
        paid = external and status == "successful"
        return {
            "miningAccountName": reward.account,
            "payoutDestination": destination,
            "payoutTransactionHash": reward.tx_hash if paid else None,
            "payoutAddress": address if external else None,
            "payoutTime": reward.settle_at if paid else None,
            "rewardCurrency": "BTC",
            "totalReward": btc_str(reward.total_sats),
            "reward": btc_str(reward.reward_sats),
            "fee": btc_str(reward.fee_sats),
            "fppsRate": btc_str(reward.fpps_rate_sats_per_ph),
            "hashRate": hs_str(reward.hashrate_hs),
            "date": reward.date,
            "status": status,
        }

    def _destination_at(self, account: str, when: int) -> tuple[str, str | None]:
        with self._lock:
            timeline = self._destinations.get(account, [(0, "main_balance", None)])
            current = timeline[0]
            for entry in timeline:
                if entry[0] <= when:
                    current = entry
            return current[1], current[2]

    def _account_hashrate(self, body: dict[str, Any]) -> Reply:
        errors = Errors()
        account = _string_field(body, "account", errors, required=True)
        interval = _enum_field(body, "interval", errors, INTERVAL_SECONDS, default="1h")
        errors.raise_if_any()
        assert account is not None and interval is not None
        if not self._account_exists(account):
            raise _validation_failed({"account": ["Account not found"]})
        start, end = self._timestamps(body, max_window=ACCOUNT_HASHRATE_MAX_WINDOW, interval=interval)
        points = self.fleet.account_points(account, interval, self._series_starts(interval, start, end))
        data = [
            # rejectRate is a ratio with 4 decimals; float's shortest repr prints exactly those digits.
            {"timestamp": p.timestamp, "hashrate": hs_str(p.hashrate_hs), "rejectRate": float(p.reject_rate)}
            for p in points
        ]
        return json_reply(200, {"data": {"account": account, "hashrate": data}})

    def _payout_get(self, body: dict[str, Any]) -> Reply:
        errors = Errors()
        account = _string_field(body, "accountName", errors, required=True)
        errors.raise_if_any()
        assert account is not None
        if not self._account_exists(account):
            raise _validation_failed({"user": ["Mining account not found."]})
        destination, address = self._current_destination(account)
        return json_reply(200, {"payoutDestination": destination, "externalAddress": address})

    def _current_destination(self, account: str) -> tuple[str, str | None]:
        with self._lock:
            _, destination, address = self._destinations[account][-1]
        return destination, address

    def _payout_edit(self, body: dict[str, Any]) -> Reply:
        errors = Errors()
        account = _string_field(body, "accountName", errors, required=True)
        destination = _enum_field(body, "destination", errors, PAYOUT_DESTINATIONS, default=None)
        address = None
        if destination == "external_address":
            raw = body.get("address")
            if raw is None or raw == "":
                errors.add("address", "miningPool.validation.payoutDestination.btcAddressRequired")
            elif not isinstance(raw, str) or len(raw) > MAX_ADDRESS_LENGTH or not is_valid_btc_address(raw):
                errors.add("address", "miningPool.validation.payoutDestination.invalidBtcAddress")
            else:
                address = raw
        errors.raise_if_any()
        assert account is not None and destination is not None
        with self._lock:
            if account not in self._accounts:
                raise _validation_failed({"user": ["Mining account not found."]})
            self._destinations[account].append((self.data_now(), destination, address))
        return json_reply(200, {"payoutDestination": destination, "externalAddress": address})

    def _require_account(self, body: dict[str, Any], *, extra: Callable[[Errors], None] | None = None) -> str:
        """`account` required; an unknown one is the miners/workers/watcher "not found" error under `user`."""
        errors = Errors()
        account = _string_field(body, "account", errors, required=True)
        if extra is not None:
            extra(errors)
        errors.raise_if_any()
        assert account is not None
        if not self._account_exists(account):
            raise _validation_failed({"user": [f"Mining pool account '{account}' not found"]})
        return account

    def _miner_info(self, body: dict[str, Any]) -> Reply:
        account = self._require_account(body)
        with self._lock:
            fee = self._accounts[account].fee_percent
        seeded = self.fleet.accounts.get(account)
        counts = {"online": 0, "offline": 0, "low": 0}
        ports = dict.fromkeys(STRATUM_URLS, 0)
        if seeded is not None:
            now = self.data_now()
            for worker in seeded.workers:
                # A worker at 0 H/s that is still connected counts as online, as the pool counts it.
                counts[POOL_COUNT_OF_STATE[self.fleet.worker_status(account, worker, now)]] += 1
                ports[self.fleet.stratum_port(account, worker)] += 1
        stratum = [{"url": STRATUM_URLS[port], "workersCount": n} for port, n in ports.items()]
        return json_reply(200, {"data": {"fee": fee, "workers": counts, "stratum": stratum}})

    def _worker_names(self, body: dict[str, Any]) -> Reply:
        page: dict[str, int] = {}

        def pagination(errors: Errors) -> None:
            page["limit"] = _page_field(body, "limit", errors, default=100, low=1, high=100)
            page["offset"] = _page_field(body, "offset", errors, default=0, low=0, high=10000)

        account = self._require_account(body, extra=pagination)
        limit, offset = page["limit"], page["offset"]
        seeded = self.fleet.accounts.get(account)
        listed = {"online", "low", "zero"} if self.config.worker_names_include_low else {"online", "zero"}
        names: list[str] = []
        if seeded is not None:
            now = self.data_now()
            names = sorted(w for w in seeded.workers if self.fleet.worker_status(account, w, now) in listed)
        return json_reply(200, {"data": {"workers": names[offset : offset + limit]}, "limit": limit, "offset": offset})

    def _worker_hashrate(self, body: dict[str, Any]) -> Reply:
        found: dict[str, Any] = {}

        def fields(errors: Errors) -> None:
            found["worker"] = _string_field(body, "worker", errors, required=True)
            found["interval"] = _enum_field(body, "interval", errors, INTERVAL_SECONDS, default="1h")

        account = self._require_account(body, extra=fields)
        worker, interval = found["worker"], found["interval"]
        start, end = self._timestamps(body, max_window=WORKER_HASHRATE_MAX_WINDOW, interval=interval)
        points = self.fleet.worker_points(account, worker, interval, self._series_starts(interval, start, end))
        data = [{"time": p.timestamp, "hashrate": hs_str(p.hashrate_hs)} for p in points]
        return json_reply(200, {"data": {"hashrates": data}})

    def _watcher_create(self, body: dict[str, Any]) -> Reply:
        errors = Errors()
        accounts = body.get("accounts")
        if accounts is None:
            errors.add("accounts", "The accounts field is required.")
        elif not isinstance(accounts, list):
            errors.add("accounts", "The accounts field must be an array.")
        elif not accounts:
            errors.add("accounts", "The accounts field must have at least 1 items.")
        else:
            for i, item in enumerate(accounts):
                if not isinstance(item, str) or not item:
                    errors.add(f"accounts.{i}", f"The accounts.{i} field must be a string.")
                elif len(item) > 255:
                    errors.add(f"accounts.{i}", f"The accounts.{i} field must not be greater than 255 characters.")
        name = _string_field(body, "name", errors, required=True, pattern=NAME_RE)
        permissions = body.get("permissions")
        if permissions is None:
            errors.add("permissions", "The permissions field is required.")
        elif not isinstance(permissions, list):
            errors.add("permissions", "The permissions field must be an array.")
        elif not 1 <= len(permissions) <= 3:
            errors.add(
                "permissions",
                "The permissions field must have at least 1 items."
                if not permissions
                else "The permissions field must not have more than 3 items.",
            )
        else:
            for i, item in enumerate(permissions):
                if item not in WATCHER_PERMISSIONS:
                    errors.add(f"permissions.{i}", f"The selected permissions.{i} is invalid.")
                elif permissions.index(item) != i:
                    errors.add(f"permissions.{i}", f"The permissions.{i} field has a duplicate value.")
        live_until = _enum_field(body, "liveUntil", errors, WATCHER_LIFETIMES, default=None)
        errors.raise_if_any()
        assert isinstance(accounts, list) and isinstance(permissions, list) and name is not None
        assert live_until is not None
        targets = list(dict.fromkeys(accounts))
        with self._lock:
            for account in targets:
                if account not in self._accounts:
                    raise _validation_failed({"user": [f"Mining pool account '{account}' not found"]})
            now = self.data_now()
            for account in targets:
                active = sum(1 for link in self._links if account in link.accounts and link.active(now))
                if active >= self.config.watcher_link_cap:
                    raise _validation_failed({"user": ["Limit exceeded"]})
            lifetime = WATCHER_LIFETIMES[live_until]
            link = WatcherLink(
                id=str(uuid.uuid4()),
                accounts=targets,
                name=name,
                permissions=list(permissions),
                live_until=None if lifetime is None else now + lifetime,
                created_at=now,
                seq=self._next_seq(),
            )
            self._links.append(link)
        data = {"id": link.id, "link": WATCHER_LINK_BASE + link.id, "liveUntil": link.live_until, "createdAt": now}
        return json_reply(201, {"data": data})

    def _watcher_list(self, body: dict[str, Any]) -> Reply:
        account = self._require_account(body)
        now = self.data_now()
        with self._lock:
            links = [link for link in self._links if account in link.accounts and link.active(now)]
        links.sort(key=lambda link: (link.created_at, link.seq), reverse=True)
        return json_reply(200, {"data": [link.as_json() for link in links]})

    # -- control endpoints --

    def _control(self, environ: dict[str, Any], path: str, method: str) -> Reply:
        if not _is_loopback(environ.get("REMOTE_ADDR", "")):
            return Reply(404, content_type=None)
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], Reply]] = {
            ("/_sandbox/faults", "POST"): self._control_fault_add,
            ("/_sandbox/faults", "GET"): lambda _b: self._control_fault_list(),
            ("/_sandbox/faults", "DELETE"): lambda _b: self._control_fault_clear(),
            ("/_sandbox/stats", "GET"): lambda _b: self._control_stats(),
            ("/_sandbox/stats/reset", "POST"): lambda _b: self._control_stats_reset(),
            ("/_sandbox/clock", "POST"): self._control_clock_set,
            ("/_sandbox/clock", "GET"): lambda _b: self._control_clock(),
            ("/_sandbox/accounts", "GET"): lambda _b: self._control_accounts(),
            ("/_sandbox/workers", "POST"): lambda b: json_reply(*worker_control.worker_state_post(self, b)),
            ("/_sandbox/workers", "GET"): lambda _b: json_reply(*worker_control.worker_state_list(self)),
            ("/_sandbox/workers", "DELETE"): lambda _b: json_reply(*worker_control.worker_state_clear(self)),
        }
        if not any(route_path == path for route_path, _ in routes):
            return Reply(404, content_type=None)
        handler = routes.get((path, method))
        if handler is None:
            allowed = ", ".join(m for p, m in routes if p == path)
            return Reply(405, content_type=None, headers=[("Allow", allowed)])
        try:
            raw = _read_body(environ)
        except ApiError as exc:
            return exc.reply
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return json_reply(400, {"error": "body is not JSON"})
        if not isinstance(body, dict):
            return json_reply(400, {"error": "body must be a JSON object"})
        return handler(body)

    def control_fault_add(self, endpoint: str, kind: str, count: int = 1, hang_s: float = DEFAULT_HANG_S) -> None:
        """In-process equivalent of `POST /_sandbox/faults`."""
        if endpoint != "*" and endpoint not in self._handlers:
            raise ValueError(f"unknown endpoint {endpoint!r}; use one of the API paths or '*'")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        if isinstance(hang_s, bool) or not isinstance(hang_s, int | float) or hang_s < 0:
            raise ValueError("hang_s must be a non-negative number")
        with self._lock:
            self._faults[endpoint].append(Fault(kind, count, float(hang_s)))

    def _control_fault_add(self, body: dict[str, Any]) -> Reply:
        try:
            self.control_fault_add(
                str(body.get("endpoint", "")),
                str(body.get("fault", "")),
                body.get("count", 1),
                body.get("hang_s", DEFAULT_HANG_S),
            )
        except ValueError as exc:
            return json_reply(400, {"error": str(exc)})
        return self._control_fault_list()

    def _control_fault_list(self) -> Reply:
        with self._lock:
            queued = {ep: [f.as_json() for f in q] for ep, q in self._faults.items() if q}
        return json_reply(200, {"faults": queued})

    def _control_fault_clear(self) -> Reply:
        with self._lock:
            self._faults.clear()
        return json_reply(200, {"faults": {}})

    def _control_stats(self) -> Reply:
        with self._lock:
            return json_reply(200, self._stats.as_json())

    def _control_stats_reset(self) -> Reply:
        with self._lock:
            self._stats = Stats()
            return json_reply(200, self._stats.as_json())

    def _control_clock_set(self, body: dict[str, Any]) -> Reply:
        if "now" not in body:
            return json_reply(400, {"error": "give 'now': an ISO 8601 time with a UTC offset, or null"})
        raw = body["now"]
        if raw is None:
            self.set_data_clock(None)
            return self._control_clock()
        try:
            when = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            return json_reply(
                400, {"error": "'now' must be an ISO 8601 time with a UTC offset, e.g. 2026-11-15T00:00:00Z"}
            )
        self.set_data_clock(when)
        return self._control_clock()

    def _control_clock(self) -> Reply:
        frozen = self._frozen_now is not None
        return json_reply(
            200,
            {
                "now": datetime.fromtimestamp(self.data_now(), UTC).isoformat().replace("+00:00", "Z"),
                "frozen": frozen,
                "real_now": datetime.fromtimestamp(int(self.real_now()), UTC).isoformat().replace("+00:00", "Z"),
                "epoch": self.fleet.epoch,
            },
        )

    def _control_accounts(self) -> Reply:
        seeded = [
            {"name": a.name, "createdAt": a.created_at, "fee": a.fee_percent, "workers": list(a.workers)}
            for a in self.fleet.accounts.values()
        ]
        return json_reply(200, {"accounts": seeded})


def _is_loopback(remote_addr: str) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length_text = environ.get("CONTENT_LENGTH") or ""
    if length_text.isdigit():
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise ApiError(Reply(413, content_type=None))
        return stream.read(length) if length else b""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        data = stream.read(MAX_BODY_BYTES + 1)
        if len(data) > MAX_BODY_BYTES:
            raise ApiError(Reply(413, content_type=None))
        return data
    return b""


_JSON_WHITESPACE = frozenset(" \t\n\r")


def _is_compact_json(text: str) -> bool:
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
