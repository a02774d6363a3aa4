"""Beat: exactly one at a time, and a schedule that survives restarts (issue 17, item 5).

Why a scheduler of our own (a thin subclass of django-celery-beat's DatabaseScheduler):
* **One beat.** Two beats enqueue every sync twice (harmless for the data, double the pool traffic), and compose's
  `replicas: 1` does not stop a second `celery beat` started by hand or on another host. So a beat takes a lock in
  Redis (`SET key token NX EX ttl`), renews it while it ticks, and a second beat that finds it taken exits at once
  with a message naming the holder. A killed beat's lock expires after `BEAT_LOCK_TTL_S`. Without Redis (the
  embedded `make run`) the lock is an exclusive `flock` on a file in VAR_DIR, released by the kernel when the
  process dies.
* **State that survives a restart.** Stock DatabaseScheduler re-saves every entry of CELERY_BEAT_SCHEDULE at each
  start; an entry that never ran (`last_run_at` NULL) then counts from that save (`date_changed`), so a daily
  task of a beat restarted more often than daily never ran, and a crontab missed while beat was down was skipped.
  Here an entry whose definition did not change is not saved, so it counts from when it was created or last ran;
  and `CELERY_BEAT_SYNC_EVERY = 1` writes `last_run_at` right after each send (stock: every 3 minutes, so a beat
  killed early forgot what it had sent).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ADD_ENTRY_ERROR, DatabaseScheduler

logger = logging.getLogger(__name__)

# Renew the lock if we still hold it, take it again if it expired meanwhile (a Redis restart); 0 if another holds it.
_RENEW = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not current then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') and 1 or 0 end
return 0
"""
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class BeatLockHeld(SystemExit):
    """Another beat holds the lock: this one stops (SystemExit, so Celery does not log it as a crash)."""


def _holder_id() -> str:
    return f"{socket.gethostname()}|{os.getpid()}|{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _holder_words(value: str) -> str:
    parts = value.split("|")
    return f"host {parts[0]}, pid {parts[1]}, since {parts[2]}" if len(parts) >= 3 else value


class RedisBeatLock:
    def __init__(self, *, url: str, key: str, ttl_s: int) -> None:
        import redis

        timeout = settings.REDIS_SOCKET_TIMEOUT_S
        self.client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.key, self.ttl_ms = key, int(ttl_s * 1000)
        self.token = f"{_holder_id()}|{uuid.uuid4().hex}"

    def acquire(self) -> str | None:
        """None when taken; else who holds it, in words."""
        if self.client.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return None
        holder = self.client.get(self.key)
        left_ms = self.client.pttl(self.key)
        words = _holder_words(holder.decode()) if holder else "unknown"
        return f"{words}; it expires in {max(0, left_ms) / 1000:.0f} s unless that beat renews it"

    def renew(self) -> bool:
        return bool(self.client.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.token)

    def describe(self) -> str:
        return f"Redis key {self.key!r}"


class FileBeatLock:
    """The embedded default's lock: an exclusive flock, dropped by the kernel with the process."""

    def __init__(self, *, path: Path) -> None:
        self.path = path
        self.handle: Any = None

    def acquire(self) -> str | None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            return _holder_words(holder) if holder else "another process"
        handle.seek(0)
        handle.truncate()
        handle.write(_holder_id())
        handle.flush()
        self.handle = handle
        return None

    def renew(self) -> bool:
        return True

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def describe(self) -> str:
        return f"lock file {self.path}"


def beat_lock() -> RedisBeatLock | FileBeatLock:
    if settings.REDIS_URL:
        return RedisBeatLock(url=settings.REDIS_URL, key=settings.BEAT_LOCK_KEY, ttl_s=settings.BEAT_LOCK_TTL_S)
    return FileBeatLock(path=Path(settings.VAR_DIR) / "celerybeat.lock")


class DurableScheduler(DatabaseScheduler):
    """DatabaseScheduler that runs alone (a lock) and does not reset its entries' state at each start."""

    _lock: RedisBeatLock | FileBeatLock | None = None
    _renewed_at = 0.0

    def setup_schedule(self) -> None:
        lock = beat_lock()
        holder = lock.acquire()
        if holder is not None:
            message = (f"Another beat is already running ({lock.describe()} held by {holder}). Run exactly one "
                       "beat (docs/OPERATIONS.md); this one exits.")
            logger.error(message)
            raise BeatLockHeld(message)
        self._lock, self._renewed_at = lock, time.monotonic()
        logger.info("beat: holding the beat lock (%s)", lock.describe())
        super().setup_schedule()

    def _renew_every_s(self) -> float:
        return max(0.2, settings.BEAT_LOCK_TTL_S / 3)

    def _lock_renew(self) -> None:
        if self._lock is None or time.monotonic() - self._renewed_at < self._renew_every_s():
            return
        try:
            held = self._lock.renew()
        except Exception:  # Redis down: nothing can be published either; keep ticking and try again
            logger.warning("beat: could not renew the beat lock (Redis unavailable?); will try again", exc_info=True)
            return
        if not held:
            message = "Another beat took the beat lock (this one lost it, e.g. while Redis was away); this one exits."
            logger.error(message)
            self._lock = None
            raise BeatLockHeld(message)
        self._renewed_at = time.monotonic()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        self._lock_renew()
        return min(super().tick(*args, **kwargs), self._renew_every_s())

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._lock is not None:
                with contextlib.suppress(Exception):
                    self._lock.release()
                self._lock = None

    def update_from_dict(self, mapping: dict) -> None:
        """As the parent, except that an entry whose definition is unchanged is read, not saved again."""
        entries = {}
        for name, fields in mapping.items():
            try:
                entry = self._unchanged_entry(name, fields) or self.Entry.from_entry(name, app=self.app, **fields)
                if entry.model.enabled:
                    entries[name] = entry
            except Exception as exc:  # as the parent: one bad entry must not stop beat
                logger.exception(ADD_ENTRY_ERROR, name, exc, fields)
        self.schedule.update(entries)

    def _unchanged_entry(self, name: str, fields: dict) -> Any:
        model = PeriodicTask.objects.filter(name=name).first()
        if model is None:
            return None
        wanted = self.Entry._unpack_fields(**fields)
        for key, value in wanted.items():
            current = getattr(model, f"{key}_id") if key in ("interval", "crontab", "solar", "clocked") else \
                getattr(model, key)
            if key in ("interval", "crontab", "solar", "clocked"):
                value = value.pk if value is not None else None
            if current != value:
                return None
        return self.Entry(model, app=self.app)
