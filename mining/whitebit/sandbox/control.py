"""The control plane: loopback-only endpoints that steer the sandbox (anyone else gets 404).

Why: tests, benchmarks and the demo need failures, a fixed data clock and particular worker states on demand,
over the same HTTP the client uses, without touching the pool's own endpoints.

* `POST /_sandbox/faults` `{"endpoint": "/api/v4/mining/hashrate" | "*", "fault": KIND, "count": N, "hang_s": S}`
  queues the next N requests to that endpoint (or any endpoint for "*") to fail (`faults.py` lists the kinds).
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

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mining.whitebit.sandbox import worker_control
from mining.whitebit.sandbox.faults import DEFAULT_HANG_S
from mining.whitebit.sandbox.http import ApiError, Reply, is_loopback, json_reply, read_body

if TYPE_CHECKING:
    from mining.whitebit.sandbox.app import SandboxApp

Handler = Callable[["SandboxApp", dict[str, Any]], Reply]


def control_reply(app: SandboxApp, environ: dict[str, Any], path: str, method: str) -> Reply:
    """Route a `/_sandbox/...` request: 404 off loopback or for unknown paths, 405 for a wrong method."""
    if not is_loopback(environ.get("REMOTE_ADDR", "")):
        return Reply(404, content_type=None)
    if not any(route_path == path for route_path, _ in ROUTES):
        return Reply(404, content_type=None)
    handler = ROUTES.get((path, method))
    if handler is None:
        allowed = ", ".join(m for p, m in ROUTES if p == path)
        return Reply(405, content_type=None, headers=[("Allow", allowed)])
    try:
        raw = read_body(environ)
    except ApiError as exc:
        return exc.reply
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return json_reply(400, {"error": "body is not JSON"})
    if not isinstance(body, dict):
        return json_reply(400, {"error": "body must be a JSON object"})
    return handler(app, body)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).isoformat().replace("+00:00", "Z")


def _fault_add(app: SandboxApp, body: dict[str, Any]) -> Reply:
    try:
        app.faults.add(
            str(body.get("endpoint", "")),
            str(body.get("fault", "")),
            body.get("count", 1),
            body.get("hang_s", DEFAULT_HANG_S),
        )
    except ValueError as exc:
        return json_reply(400, {"error": str(exc)})
    return _fault_list(app, {})


def _fault_list(app: SandboxApp, _body: dict[str, Any]) -> Reply:
    return json_reply(200, {"faults": app.faults.as_json()})


def _fault_clear(app: SandboxApp, _body: dict[str, Any]) -> Reply:
    app.faults.clear()
    return json_reply(200, {"faults": {}})


def _stats(app: SandboxApp, _body: dict[str, Any]) -> Reply:
    with app.lock:
        return json_reply(200, app.stats.as_json())


def _stats_reset(app: SandboxApp, _body: dict[str, Any]) -> Reply:
    with app.lock:
        app.stats.reset()
        return json_reply(200, app.stats.as_json())


def _clock_set(app: SandboxApp, body: dict[str, Any]) -> Reply:
    if "now" not in body:
        return json_reply(400, {"error": "give 'now': an ISO 8601 time with a UTC offset, or null"})
    raw = body["now"]
    if raw is None:
        app.set_data_clock(None)
        return _clock(app, {})
    try:
        when = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        return json_reply(400, {"error": "'now' must be an ISO 8601 time with a UTC offset, e.g. 2026-11-15T00:00:00Z"})
    app.set_data_clock(when)
    return _clock(app, {})


def _clock(app: SandboxApp, _body: dict[str, Any]) -> Reply:
    frozen = app.data_clock_frozen
    return json_reply(
        200,
        {"now": _iso(app.data_now()), "frozen": frozen, "real_now": _iso(app.real_now()), "epoch": app.fleet.epoch},
    )


def _accounts(app: SandboxApp, _body: dict[str, Any]) -> Reply:
    seeded = [
        {"name": a.name, "createdAt": a.created_at, "fee": a.fee_percent, "workers": list(a.workers)}
        for a in app.fleet.accounts.values()
    ]
    return json_reply(200, {"accounts": seeded})


ROUTES: dict[tuple[str, str], Handler] = {
    ("/_sandbox/faults", "POST"): _fault_add,
    ("/_sandbox/faults", "GET"): _fault_list,
    ("/_sandbox/faults", "DELETE"): _fault_clear,
    ("/_sandbox/stats", "GET"): _stats,
    ("/_sandbox/stats/reset", "POST"): _stats_reset,
    ("/_sandbox/clock", "POST"): _clock_set,
    ("/_sandbox/clock", "GET"): _clock,
    ("/_sandbox/accounts", "GET"): _accounts,
    ("/_sandbox/workers", "POST"): lambda app, b: json_reply(*worker_control.worker_state_post(app, b)),
    ("/_sandbox/workers", "GET"): lambda app, _b: json_reply(*worker_control.worker_state_list(app)),
    ("/_sandbox/workers", "DELETE"): lambda app, _b: json_reply(*worker_control.worker_state_clear(app)),
}
