"""`hashrate` (an account's series) and `workers/hashrate` (one worker's), each with its own window limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox.endpoints.common import require_account, series_starts, timestamps
from mining.whitebit.sandbox.fields import Errors, enum_field, string_field
from mining.whitebit.sandbox.http import Reply, json_reply, validation_failed
from mining.whitebit.sandbox.worker_model import DAY, INTERVAL_SECONDS, hs_str

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp

# Maximum `to - from` per interval (contract §3.4 and §3.9, from the 2026-03 SME note).
ACCOUNT_HASHRATE_MAX_WINDOW = {"5m": 3 * DAY, "1h": 7 * DAY, "24h": 30 * DAY}
WORKER_HASHRATE_MAX_WINDOW = {"5m": 3 * DAY, "1h": 7 * DAY, "24h": 14 * DAY}


def account_hashrate(app: SandboxApp, body: dict[str, Any]) -> Reply:
    errors = Errors()
    account = string_field(body, "account", errors, required=True)
    interval = enum_field(body, "interval", errors, INTERVAL_SECONDS, default="1h")
    errors.raise_if_any()
    assert account is not None and interval is not None
    if not app.state.account_exists(account):
        raise validation_failed({"account": ["Account not found"]})
    start, end = timestamps(app, body, max_window=ACCOUNT_HASHRATE_MAX_WINDOW, interval=interval)
    points = app.fleet.account_points(account, interval, series_starts(app, interval, start, end))
    data = [
        # rejectRate is a ratio with 4 decimals; float's shortest repr prints exactly those digits.
        {"timestamp": p.timestamp, "hashrate": hs_str(p.hashrate_hs), "rejectRate": float(p.reject_rate)}
        for p in points
    ]
    return json_reply(200, {"data": {"account": account, "hashrate": data}})


def worker_hashrate(app: SandboxApp, body: dict[str, Any]) -> Reply:
    found: dict[str, Any] = {}

    def fields(errors: Errors) -> None:
        found["worker"] = string_field(body, "worker", errors, required=True)
        found["interval"] = enum_field(body, "interval", errors, INTERVAL_SECONDS, default="1h")

    account = require_account(app, body, extra=fields)
    worker, interval = found["worker"], found["interval"]
    start, end = timestamps(app, body, max_window=WORKER_HASHRATE_MAX_WINDOW, interval=interval)
    points = app.fleet.worker_points(account, worker, interval, series_starts(app, interval, start, end))
    data = [{"time": p.timestamp, "hashrate": hs_str(p.hashrate_hs)} for p in points]
    return json_reply(200, {"data": {"hashrates": data}})
