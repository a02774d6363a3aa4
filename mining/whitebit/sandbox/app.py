"""WSGI application of the sandbox pool: the 11 mining endpoints plus loopback-only control endpoints.

Every API request goes through the same gauntlet as on the real pool (contract §1.7): queued faults first (like a
gateway), then authentication and nonce rules (`auth.py`), the per-(IP, endpoint) rate limit, then the endpoint's
own validation (`endpoints/`). The control plane (`/_sandbox/...`, `control.py`) answers only to loopback clients.

Two clocks: the *real* clock judges nonces and "timestamp in the future"; the *data* clock (`SandboxConfig.now`,
movable through `/_sandbox/clock`) decides how much of the simulated history exists and stamps created objects.
A client asking for data up to its own now against a frozen data clock gets data up to the frozen time, no error.

Where the parts live: replies and error bodies `http.py`, field rules `fields.py`, accounts/links/counters
`state.py`, faults `faults.py`, the simulated fleet `simulation.py`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mining.whitebit.sandbox.auth import Gate
from mining.whitebit.sandbox.config import SandboxConfig
from mining.whitebit.sandbox.control import control_reply
from mining.whitebit.sandbox.endpoints import ROUTES
from mining.whitebit.sandbox.faults import DEFAULT_HANG_S, FaultQueue, fault_reply
from mining.whitebit.sandbox.http import INTERNAL_ERROR_BODY, ApiError, Reply, json_reply, read_body, status_line
from mining.whitebit.sandbox.simulation import Fleet
from mining.whitebit.sandbox.state import PoolState, Stats

logger = logging.getLogger(__name__)


class SandboxApp:
    """The WSGI callable. All mutable state lives behind `self.lock`; the fleet itself is stateless and pure."""

    def __init__(self, config: SandboxConfig, *, real_clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._real_clock = real_clock
        self.lock = threading.Lock()
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
        self.state = PoolState(self.fleet, self.lock)
        self.stats = Stats()
        self.gate = Gate(config, self.lock, self.stats, self.real_now)
        self.faults = FaultQueue(self.lock, self.stats, ROUTES)

    # -- clocks --

    def real_now(self) -> float:
        return self._real_clock()

    def data_now(self) -> int:
        frozen = self._frozen_now
        return frozen if frozen is not None else int(self._real_clock())

    @property
    def data_clock_frozen(self) -> bool:
        return self._frozen_now is not None

    def set_data_clock(self, when: datetime | None) -> None:
        self._frozen_now = None if when is None else int(when.timestamp())

    def shutdown(self) -> None:
        """Wakes requests sleeping in a `hang` fault so the server can stop promptly."""
        self._stopping.set()

    def control_fault_add(self, endpoint: str, kind: str, count: int = 1, hang_s: float = DEFAULT_HANG_S) -> None:
        """In-process equivalent of `POST /_sandbox/faults`."""
        self.faults.add(endpoint, kind, count, hang_s)

    # -- WSGI entry --

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if path.startswith("/_sandbox/"):
                reply = control_reply(self, environ, path, method)
            elif path in ROUTES:
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
        start_response(status_line(reply.status), headers)
        return [reply.body]

    def _count(self, endpoint: str, status: int) -> None:
        with self.lock:
            self.stats.count(endpoint, status)

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
        fault = self.faults.take(path)
        if fault is not None:
            if fault.kind != "hang":
                return fault_reply(fault.kind)
            self._stopping.wait(fault.hang_s)
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000)
        try:
            body_bytes = read_body(environ)
            body = self.gate.authenticate(environ, path, body_bytes, arrived_ms)
            self.gate.rate_check(environ.get("REMOTE_ADDR", ""), path)
            return ROUTES[path](self, body)
        except ApiError as exc:
            return exc.reply
