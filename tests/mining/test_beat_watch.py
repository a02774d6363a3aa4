"""The stale-sync alert is raised by beat itself (issue 17 items 1-2): with no worker alive, nothing a worker runs
can notice that nothing syncs, so a real `celery beat` process, and no worker at all, must open the alert."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.utils import timezone

from mining.models import Alert, AlertKind, MiningAccount
from mining.tasks import sync_stale_check
from tests.mining.test_sync_durability import _REDIS_BASE, ROOT, wait_for

BEAT_BROKER_URL = f"{_REDIS_BASE}/12"
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _quiet_account(world, name: str, *, synced_ago: timedelta) -> MiningAccount:
    return MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name=name,
                                        sync_status=MiningAccount.SyncStatus.OK,
                                        last_synced_at=timezone.now() - synced_ago)


def test_beat_alone_raises_the_stale_sync_alert_with_no_worker_running(world):
    stale = _quiet_account(world, "quiet_for_an_hour", synced_ago=timedelta(hours=1))
    fresh = _quiet_account(world, "synced_a_minute_ago", synced_ago=timedelta(minutes=1))
    db = connection.settings_dict
    queue = f"beat-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": BEAT_BROKER_URL,
        "CELERY_QUEUE": queue,  # what beat enqueues goes where no worker listens: there is none anyway
        "MINING_SYNC_WATCH_S": "1",
    }
    beat = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_clock_run", "-m", "celery", "-A", "portal", "beat", "--loglevel", "INFO",
         "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        wait_for(lambda: Alert.objects.filter(account=stale, kind=AlertKind.SYNC_STALE,
                                              resolved_at__isnull=True).exists(),
                 timeout_s=90, what="beat's stale-sync alert")
        assert beat.poll() is None
    finally:
        if beat.poll() is None:
            os.killpg(beat.pid, signal.SIGTERM)
            try:
                beat.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(beat.pid, signal.SIGKILL)
                beat.wait(timeout=10)
        redis.Redis.from_url(BEAT_BROKER_URL).flushdb()
    alert = Alert.objects.get(account=stale, kind=AlertKind.SYNC_STALE)
    assert "not synced since" in alert.message
    assert not Alert.objects.filter(account=fresh).exists()


def test_the_stale_check_opens_one_alert_however_often_it_runs(world):
    stale = _quiet_account(world, "quiet", synced_ago=timedelta(hours=1))
    assert sync_stale_check() == 1 and sync_stale_check() == 1
    assert Alert.objects.filter(account=stale, kind=AlertKind.SYNC_STALE).count() == 1
