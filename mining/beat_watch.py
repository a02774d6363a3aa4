"""Beat's own stale-sync check: a thread inside the beat process, not a task a worker has to pick up.

When every worker is dead (or the broker lost them) nothing a worker runs can notice it, so the check that raises
the stale-sync alert lives in the one process that keeps ticking: beat. It opens the alert through the same
`alerts_evaluate_account` a sync uses (one open alert per condition, a unique index), so a second beat or a
worker's own evaluation at the same moment cannot open it twice. Armed by `beat_init`, which only beat sends;
`MiningConfig.ready()` imports this module so the signal is connected in every process that loads Django.
"""

from __future__ import annotations

import logging
import threading

from celery.signals import beat_init
from django.conf import settings
from django.db import close_old_connections, connection

from mining.tasks import sync_stale_check

logger = logging.getLogger(__name__)
_started = threading.Event()


def _watch(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            found = sync_stale_check()
            if found:
                logger.warning("stale-sync check: %s account(s) not synced for three cycles", found)
        except Exception:  # a database outage must not end the watch: the next round tries again
            logger.exception("stale-sync check failed; trying again in %ss", settings.MINING_SYNC_WATCH_S)
            connection.close()
        stop.wait(settings.MINING_SYNC_WATCH_S)


def beat_watch_start() -> threading.Event | None:
    """Start the watch thread once per process; the event stops it (tests)."""
    if _started.is_set():
        return None
    _started.set()
    stop = threading.Event()
    threading.Thread(target=_watch, args=(stop,), name="stale-sync-watch", daemon=True).start()
    return stop


@beat_init.connect
def _on_beat_init(sender=None, **kwargs) -> None:
    beat_watch_start()
