"""A worker that survives its broker, and says when it stops consuming (issue 17 item 2, docs/OPERATIONS.md).

**The guard.** When Redis dies under a worker that holds unacknowledged messages, Celery's consumer collects the
broken connection (which nulls the transport's client) and closes the consuming channel afterwards; kombu's
Redis `QoS.restore_unacked` then builds a new connection pool from the nulled client and raises
`AttributeError: 'NoneType' object has no attribute 'hostname'`, which is not a connection error, so the worker
dies with "Unrecoverable error" (kombu 5.7.0, the newest release: tests/mining/test_broker_loss.py reproduces it).
Nothing is lost by not restoring there: each unacknowledged message is also in the broker's own unacked index, and
a worker's `restore_visible` sweep redelivers it after the visibility timeout (if Redis kept it; if Redis lost its
data, beat's next fan-out enqueues every account again). So a restore that meets a dead connection logs what it
left to the broker and returns, and the consumer reconnects as it does for any connection error.

**The heartbeat.** A consumer bootstep touches `WORKER_HEARTBEAT_FILE` every few seconds while the consumer is
connected and consuming; it stops (and removes the file) when the consumer stops or loses its broker. The compose
healthcheck (`scripts/worker_health.py`) fails when the file is older than a minute.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from celery import bootsteps

logger = logging.getLogger(__name__)
HEARTBEAT_EVERY_S = 10.0


def _connection_gone(channel) -> bool:
    transport = getattr(channel, "connection", None)
    return transport is None or getattr(transport, "client", None) is None


def broker_guard_install() -> None:
    """Make kombu's Redis QoS restore tolerate a connection that is already gone (idempotent)."""
    from kombu.transport import redis as kombu_redis

    qos = kombu_redis.QoS
    if getattr(qos.restore_unacked, "_portal_guarded", False):
        return
    original = qos.restore_unacked
    connection_errors = kombu_redis.Transport.connection_errors

    def restore_unacked(self, client=None):
        pending = len(self._delivered)
        try:
            return original(self, client)
        except (AttributeError, *connection_errors) as exc:
            if isinstance(exc, AttributeError) and not _connection_gone(self.channel):
                raise  # a bug of its own, not the dead connection: let it be seen
            logger.warning(
                "could not give back %s unacknowledged message(s) to the broker (%r): the connection is gone; "
                "they stay in its unacked index and are redelivered after the visibility timeout", pending, exc,
            )
            self._delivered.clear()
            return None

    restore_unacked._portal_guarded = True
    qos.restore_unacked = restore_unacked
    _settle_guard_install(qos)


def _settle_guard_install(qos) -> None:
    """The same hole in `ack` and `reject` (found by scripts/chaos.py, redis_kill): a task that finishes after the
    consumer released its channel (a retry that could not be published because Redis was down is rejected) builds
    a pool from the released connection: `AttributeError: 'NoneType' object has no attribute 'client'`, and the
    worker died. The message is still in the broker's unacked index, so it is redelivered after the visibility
    timeout (a sync done twice is harmless; a rejected retry then runs after all): forget it here and go on."""
    from kombu.transport.virtual import QoS as VirtualQoS

    def guarded(original, verb: str):
        def settle(self, delivery_tag, *args, **kwargs):
            try:
                return original(self, delivery_tag, *args, **kwargs)
            except AttributeError as exc:
                if not _connection_gone(self.channel):
                    raise
                logger.warning("could not %s message %s at the broker (%r): the connection is gone; it stays in "
                               "its unacked index and is redelivered after the visibility timeout",
                               verb, delivery_tag, exc)
                VirtualQoS.ack(self, delivery_tag)  # forget it locally only
                return None

        settle._portal_guarded = True
        return settle

    qos.ack = guarded(qos.ack, "acknowledge")
    qos.reject = guarded(qos.reject, "reject")


class HeartbeatFile(bootsteps.StartStopStep):
    """Touch a file while the consumer runs; the container's healthcheck reads its age."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs) -> None:
        from django.conf import settings

        self.path = Path(settings.WORKER_HEARTBEAT_FILE) if settings.WORKER_HEARTBEAT_FILE else None
        self.tref = None
        super().__init__(parent, **kwargs)

    def _touch(self) -> None:
        try:
            self.path.touch()
        except OSError:
            logger.warning("cannot touch the worker heartbeat file %s", self.path)

    def start(self, parent) -> None:
        if self.path is None:
            return
        self._touch()
        self.tref = parent.timer.call_repeatedly(HEARTBEAT_EVERY_S, self._touch)

    def stop(self, parent) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        if self.path is not None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    shutdown = stop


def worker_health_install(app) -> None:
    broker_guard_install()
    app.steps["consumer"].add(HeartbeatFile)
