"""`miners/info` (fee, worker counts, stratum ports) and `workers/names` (the listed workers, paginated)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox.endpoints.common import require_account
from mining.whitebit.sandbox.fields import Errors, page_field
from mining.whitebit.sandbox.http import Reply, json_reply
from mining.whitebit.sandbox.worker_model import POOL_COUNT_OF_STATE

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp

STRATUM_URLS = {3333: "stratum+tcp://pool.whitebit.com:3333", 3334: "stratum+tcp://pool.whitebit.com:3334"}


def miner_info(app: SandboxApp, body: dict[str, Any]) -> Reply:
    account = require_account(app, body)
    with app.state.lock:
        fee = app.state.accounts[account].fee_percent
    seeded = app.fleet.accounts.get(account)
    counts = {"online": 0, "offline": 0, "low": 0}
    ports = dict.fromkeys(STRATUM_URLS, 0)
    if seeded is not None:
        now = app.data_now()
        for worker in seeded.workers:
            # A worker at 0 H/s that is still connected counts as online, as the pool counts it.
            counts[POOL_COUNT_OF_STATE[app.fleet.worker_status(account, worker, now)]] += 1
            ports[app.fleet.stratum_port(account, worker)] += 1
    stratum = [{"url": STRATUM_URLS[port], "workersCount": n} for port, n in ports.items()]
    return json_reply(200, {"data": {"fee": fee, "workers": counts, "stratum": stratum}})


def worker_names(app: SandboxApp, body: dict[str, Any]) -> Reply:
    page: dict[str, int] = {}

    def pagination(errors: Errors) -> None:
        page["limit"] = page_field(body, "limit", errors, default=100, low=1, high=100)
        page["offset"] = page_field(body, "offset", errors, default=0, low=0, high=10000)

    account = require_account(app, body, extra=pagination)
    limit, offset = page["limit"], page["offset"]
    seeded = app.fleet.accounts.get(account)
    listed = {"online", "low", "zero"} if app.config.worker_names_include_low else {"online", "zero"}
    names: list[str] = []
    if seeded is not None:
        now = app.data_now()
        names = sorted(w for w in seeded.workers if app.fleet.worker_status(account, w, now) in listed)
    return json_reply(200, {"data": {"workers": names[offset : offset + limit]}, "limit": limit, "offset": offset})
