"""Liveness and readiness probes for load balancers and orchestrators (no login, no tenant data).

Anyone can reach them, so the body says only *which* dependency failed ("down"), never why: exception names and
messages go to the log. Each check is bounded by a short timeout, so a dependency that accepts connections and
never answers makes the probe fail in seconds instead of hanging a gunicorn worker.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.celery import app

logger = logging.getLogger(__name__)

#: Seconds each dependency may take to connect and to answer; below compose's 5 s healthcheck timeout together.
PROBE_TIMEOUT_S = 2.0


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving; says nothing about its dependencies, so it never flaps with them."""
    return JsonResponse({"status": "ok"})


def _check_database() -> bool:
    """The connect timeout comes from settings (DB_CONNECT_TIMEOUT_S); the query itself is trivial."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("readyz: the database check failed", exc_info=True)
        return False
    return True


def _check_broker() -> bool:
    """A Redis broker is asked PING with socket timeouts (kombu's own connect has none for a silent server)."""
    url = app.conf.broker_url or ""
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT_S, socket_timeout=PROBE_TIMEOUT_S)
            try:
                client.ping()
            finally:
                client.close()
        else:  # the embedded filesystem broker (development), or another kombu transport
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT_S)
    except Exception:
        logger.warning("readyz: the broker check failed", exc_info=True)
        return False
    return True


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when the database and the broker answer; the body names whichever is down, and nothing more."""
    checks = {
        "database": "ok" if _check_database() else "down",
        "broker": "ok" if _check_broker() else "down",
    }
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
