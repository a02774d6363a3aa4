"""The control plane's worker states: `POST /_sandbox/workers` sets one worker's state, `GET` lists them all,
`DELETE` returns to the pure simulation.

Why: the simulated fleet decides each worker's state by a hash, so a test (or the demo) that needs a `low`, a `zero`
or an `offline` worker on a given account would have to hunt for one. A set state holds from `since` (default: the
start of the newest complete hour at the data clock, so the hourly point the sync reads already shows it) and
everything the pool reports follows it: the worker's points, `workers/names`, the counts of `miners/info`, the
account's points and the rewards of the days it touches. Each function answers `(status, body)`; `control.py` wraps it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox.worker_model import HOUR, POOL_COUNT_OF_STATE, WORKER_STATES, floor_to

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def worker_state_post(app: SandboxApp, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    errors: dict[str, str] = {}
    account, worker, state = body.get("account"), body.get("worker"), body.get("state")
    seeded = app.fleet.accounts.get(account) if isinstance(account, str) else None
    if seeded is None:
        errors["account"] = "not a seeded account (GET /_sandbox/accounts lists them; created accounts have no workers)"
    elif not isinstance(worker, str) or worker not in seeded.workers:
        errors["worker"] = f"not a worker of {account} (GET /_sandbox/workers lists them)"
    if state not in WORKER_STATES:
        errors["state"] = f"one of {', '.join(WORKER_STATES)}"
    since = floor_to(app.data_now(), HOUR) - HOUR
    raw = body.get("since")
    if raw is not None:
        try:
            when = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            errors["since"] = "an ISO 8601 time with a UTC offset, e.g. 2026-11-15T16:00:00Z"
        else:
            since = int(when.timestamp())
    if errors:
        return 400, {"errors": errors}
    app.fleet.worker_state_set(account, worker, state, since)
    return worker_state_list(app)


def worker_state_list(app: SandboxApp) -> tuple[int, dict[str, Any]]:
    """Every seeded account's workers at the data clock, with the counts `miners/info` answers right now."""
    now = app.data_now()
    overrides = app.fleet.worker_states_set()
    accounts = []
    for seeded in app.fleet.accounts.values():
        counts = {"online": 0, "offline": 0, "low": 0}
        workers = []
        for name in seeded.workers:
            state = app.fleet.worker_status(seeded.name, name, now)
            counts[POOL_COUNT_OF_STATE[state]] += 1
            override = overrides.get((seeded.name, name))
            workers.append({"worker": name, "state": state, "set": override is not None,
                            "since": _iso(override[1]) if override else None})
        accounts.append({"account": seeded.name, "counts": counts, "workers": workers})
    return 200, {"now": _iso(now), "accounts": accounts}


def worker_state_clear(app: SandboxApp) -> tuple[int, dict[str, Any]]:
    app.fleet.worker_states_clear()
    return worker_state_list(app)
