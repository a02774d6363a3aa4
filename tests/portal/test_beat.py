"""One beat, a durable schedule (issue 17, item 5), with real `celery beat` processes.

* A second beat finds the lock in Redis taken and exits at once, saying who holds it; the first keeps running and
  releases the lock when stopped.
* A beat SIGKILLed and restarted every six hours (its clock moved with `tests.fake_clock_run`) still runs the daily
  tasks: the 24-hour hashrate retention and the 03:30 platform retention. Before, every start re-saved every entry,
  and an entry that had never run counted from that save, so neither ever ran.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection
from django_celery_beat.models import PeriodicTask

from tests.mining.test_sync_durability import _REDIS_BASE, wait_for

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = f"{_REDIS_BASE}/8"  # a broker database of this module's own; nothing consumes what beat sends here

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:8]
    yield {"queue": f"beat-test-{tag}", "lock": f"beat-test-{tag}:lock"}
    broker = redis.Redis.from_url(BROKER_URL)
    for key in broker.scan_iter(f"*beat-test-{tag}*"):
        broker.delete(key)


def _offset_to(when: datetime) -> float:
    """The clock offset that puts a child process at `when` (on top of this run's own faked clock, if any)."""
    real_now = time.time() - float(os.environ.get("TEST_CLOCK_OFFSET_S", "0"))
    return when.timestamp() - real_now


class Beat:
    def __init__(self, names: dict, log: Path, *, at: datetime | None = None, ttl_s: int = 60) -> None:
        db = connection.settings_dict
        self.env = {
            **os.environ, "DJANGO_ENV": "test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": BROKER_URL, "CELERY_QUEUE": names["queue"], "BEAT_LOCK_KEY": names["lock"],
            "BEAT_LOCK_TTL_S": str(ttl_s),
        }
        if at is not None:
            self.env["TEST_CLOCK_OFFSET_S"] = str(_offset_to(at))
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.fake_clock_run", "-m", "celery", "-A", "portal", "beat", "--loglevel",
                 "INFO"], cwd=ROOT, env=self.env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT)

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=20)

    def output(self) -> str:
        return self.log.read_text()

    def wait_started(self) -> None:
        wait_for(lambda: "beat: Starting..." in self.output(), timeout_s=60, what="beat to start")


def _lock_value(names: dict) -> bytes | None:
    return redis.Redis.from_url(os.environ["REDIS_URL"]).get(names["lock"])


def test_a_second_beat_exits_with_a_clear_message_and_the_first_keeps_the_lock(names, tmp_path):
    first = Beat(names, tmp_path / "first.log")
    try:
        wait_for(lambda: _lock_value(names) is not None, timeout_s=60, what="the first beat to take the lock")
        holder = _lock_value(names).decode()
        second = Beat(names, tmp_path / "second.log")
        assert second.proc.wait(timeout=60) != 0
        said = second.output()
        assert "Another beat is already running" in said
        assert f"Redis key '{names['lock']}' held by host" in said and "this one exits" in said
        assert first.proc.poll() is None and _lock_value(names).decode() == holder  # the first runs on
    finally:
        first.signal(signal.SIGTERM)
    assert _lock_value(names) is None  # a beat that stops releases its lock at once


def _ran(name: str) -> int:
    task = PeriodicTask.objects.filter(name=name).first()
    return task.total_run_count if task else 0


def test_a_beat_restarted_every_six_hours_still_runs_the_daily_tasks(names, tmp_path):
    day = (datetime.now(UTC) + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [day + timedelta(hours=h) for h in (0, 6, 12, 18, 25)]
    for i, at in enumerate(starts):
        beat = Beat(names, tmp_path / f"beat-{i}.log", at=at, ttl_s=2)
        try:
            beat.wait_started()
            if at.hour == 6:  # past 03:30 of the day the schedule was created: the platform retention is due
                wait_for(lambda: _ran("tenants-platform-retention") >= 1, timeout_s=30,
                         what="the 03:30 retention to be sent after a restart at 06:00")
            elif i == len(starts) - 1:  # 25 h after the schedule was created: the 24-hour retention is due
                wait_for(lambda: _ran("mining-hashrate-retention") >= 1, timeout_s=30,
                         what="the daily hashrate retention to be sent although beat never lived a day")
            else:
                time.sleep(3)
        finally:
            beat.signal(signal.SIGKILL)  # no goodbye: its lock stays until the TTL runs out
        wait_for(lambda: _lock_value(names) is None, timeout_s=10, what="the killed beat's lock to expire")
    daily = PeriodicTask.objects.get(name="mining-hashrate-retention")
    assert daily.total_run_count == 1 and daily.last_run_at >= starts[-1]
    assert _ran("tenants-platform-retention") == 1  # once that day, not once per restart
