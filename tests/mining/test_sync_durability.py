"""Nothing is lost, nothing doubled: a SIGKILLed worker, a flushed Redis, real Celery worker processes."""

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
from kombu import Connection

from mining.models import MiningAccount, Reward, SyncState, Worker
from mining.selectors.sync import sync_health
from mining.services.sync import mining_account_sync
from tests.fixtures.mining import pool_provider_make
from tests.mining.test_sync import snapshot, sync_all

ROOT = Path(__file__).resolve().parents[2]
# Each test gets a Redis database of its own for the broker (they flush it), so they can run in parallel.
# The Redis server is the suite's own (REDIS_URL), so parallel checkouts can run on servers of their own.
_REDIS_BASE = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
KILL_BROKER_URL = f"{_REDIS_BASE}/14"
FLUSH_BROKER_URL = f"{_REDIS_BASE}/13"
DATABASE_BROKER_URL = f"{_REDIS_BASE}/12"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class WorkerProcess:
    """A real `celery worker` against the test database, consuming its own queue."""

    def __init__(self, queue: str, broker_url: str, **env: str) -> None:
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_ENV": "test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_QUEUE": queue,
            "WHITEBIT_REDIS_PREFIX": f"{queue}:",
            "WHITEBIT_BACKOFF_BASE_S": "0.01",
            "WHITEBIT_BACKOFF_CAP_S": "0.05",
            **env,
        }
        self.queue = queue
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fake_clock_run", "-m", "celery", "-A", "portal", "worker",
             "--pool", "threads", "--concurrency", "4",
             "-Q", self.queue, "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
            cwd=ROOT, env=self.env, start_new_session=True,
        )
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def publish(task: str, queue: str, broker_url: str, args: list | None = None, **options) -> None:
    """Declare the queue first: a message published before the worker has bound its queue would be dropped."""
    from kombu import Exchange, Queue

    from portal.celery import app

    with Connection(broker_url) as conn:
        Queue(queue, Exchange(queue, type="direct"), routing_key=queue)(conn.default_channel).declare()
        app.send_task(task, args=args or [], queue=queue, connection=conn, **options)


def wait_for(predicate, timeout_s: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def queue():
    return f"test-{uuid.uuid4().hex[:8]}"


def _real_now() -> datetime:
    """The wall clock the worker processes see: this run's own (faked with it by tests.fake_clock_run)."""
    return datetime.now(UTC)


def _data_clock_follows_the_wall(sandbox) -> datetime:
    """Worker processes sync at their wall clock; these tests compare two runs at the same data clock, so they
    move the sandbox's data clock to the real present (restored by `sandbox_clean`)."""
    now = _real_now().replace(minute=0, second=0, microsecond=0)
    sandbox.set_clock(now)
    return now


def test_a_worker_killed_mid_sync_loses_and_doubles_nothing(sandbox_clean, fast_upstream_retries, queue, settings):
    sandbox_pool = sandbox_clean
    since = _data_clock_follows_the_wall(sandbox_pool) - timedelta(days=2)
    victim = pool_provider_make(sandbox_pool)
    account = victim.accounts[0]
    # The rewards request hangs, so the worker is caught after committing some datasets and before others.
    sandbox_pool.fault("/api/v4/mining/rewards", "hang", count=1, hang_s=20)
    worker = WorkerProcess(queue, KILL_BROKER_URL, MINING_SYNC_LEASE_S="3", WHITEBIT_TIMEOUT_S="30").start()
    try:
        publish("mining.tasks.sync_account", queue, KILL_BROKER_URL, [victim.provider.pk, account.pk])
        wait_for(lambda: Worker.objects.filter(account=account).exists(), what="the sync to reach rewards")
        time.sleep(0.5)
        worker.kill()
    finally:
        worker.stop()
        sandbox_pool.clear_faults()
    assert not Reward.objects.filter(account=account).exists()  # nothing half-written
    assert SyncState.objects.get(account=account, dataset="rewards").watermark_at is None
    held = MiningAccount.objects.get(pk=account.pk)
    assert held.sync_lease_until is not None  # the dead worker's lease is still there …
    time.sleep(3.5)  # … until it expires by itself, after the lease's short life
    stalled = sync_health(MiningAccount.objects.get(pk=account.pk), now=_real_now())
    assert stalled.label == "Stalled" and "while reading" in stalled.reason  # never "In step" while nothing runs
    # The next cycle, on a fresh worker: beat's fan-out message, consumed by a real worker process.
    second = WorkerProcess(queue, KILL_BROKER_URL, MINING_SYNC_LEASE_S="60").start()
    try:
        publish("mining.tasks.sync_fanout", queue, KILL_BROKER_URL)
        wait_for(lambda: MiningAccount.objects.filter(provider=victim.provider, sync_status="ok").count()
                 == len(victim.accounts), what="every account synced")
    finally:
        second.stop()
    assert sync_health(MiningAccount.objects.get(pk=account.pk), now=_real_now()).label == "In step"
    clean = pool_provider_make(sandbox_pool)
    sync_all(clean, now=_real_now())  # at the wall clock, like the worker
    assert _without_names(snapshot(victim, since=since)) == _without_names(snapshot(clean, since=since))


def test_flushing_redis_mid_cycle_loses_nothing(sandbox_clean, fast_upstream_retries, queue):
    sandbox_pool = sandbox_clean
    since = _data_clock_follows_the_wall(sandbox_pool) - timedelta(days=2)
    pp = pool_provider_make(sandbox_pool)
    sandbox_pool.fault("/api/v4/mining/rewards", "hang", count=2, hang_s=3)
    worker = WorkerProcess(queue, FLUSH_BROKER_URL, WHITEBIT_TIMEOUT_S="10").start()
    try:
        publish("mining.tasks.sync_fanout", queue, FLUSH_BROKER_URL)
        wait_for(lambda: Worker.objects.filter(provider=pp.provider).exists(), what="the cycle to start")
        redis.Redis.from_url(FLUSH_BROKER_URL).flushdb()  # queued and unacknowledged messages: gone
        shared = redis.Redis.from_url(os.environ["REDIS_URL"])  # the rate budget and nonces: gone too
        for key in shared.scan_iter(f"{queue}:*"):
            shared.delete(key)
        # The next beat tick fans out again; every account converges.
        publish("mining.tasks.sync_fanout", queue, FLUSH_BROKER_URL)
        wait_for(lambda: MiningAccount.objects.filter(provider=pp.provider, sync_status="ok").count()
                 == len(pp.accounts), what="every account synced")
    finally:
        worker.stop()
        sandbox_pool.clear_faults()
    clean = pool_provider_make(sandbox_pool)
    for account in clean.accounts:
        mining_account_sync(provider_id=clean.provider.pk, account_id=account.pk, now=_real_now())
    assert _without_names(snapshot(pp, since=since)) == _without_names(snapshot(clean, since=since))


def _without_names(snap: dict) -> dict:
    return {k: v for k, v in snap.items() if k != "links"}


def _database_connections(allowed: bool, application_name: str) -> None:
    """What `pg_ctl stop -m immediate` … `start` looks like to the worker, confined to this test's database: new
    connections refused, and the worker's own connections cut (found by their application name, so no other
    connection, the test's own or a parallel run's, is ever touched)."""
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(dbname="postgres", user=db["USER"], host=db["HOST"] or "127.0.0.1",
                         port=db["PORT"] or 5432, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{db["NAME"]}" WITH ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                          "AND application_name = %s", [db["NAME"], application_name])


def test_a_sync_that_meets_a_dead_database_waits_for_it_and_runs_when_it_is_back(sandbox_clean, queue):
    """Issue 17: after a PostgreSQL outage the task used to be dropped (the claim's OperationalError was not a
    retryable error), leaving the account to the next fan-out a whole interval later. Now it polls the database
    every MINING_SYNC_DATABASE_POLL_S and syncs as soon as it answers; no fan-out runs in this test."""
    pp = pool_provider_make(sandbox_clean)
    warm, victim = pp.accounts[0], pp.accounts[1]
    worker = WorkerProcess(queue, DATABASE_BROKER_URL, MINING_SYNC_DATABASE_POLL_S="0.5", PGAPPNAME=queue).start()
    try:
        publish("mining.tasks.sync_account", queue, DATABASE_BROKER_URL, [pp.provider.pk, warm.pk])
        wait_for(lambda: MiningAccount.objects.get(pk=warm.pk).sync_status == "ok", what="the worker to be up")
        _database_connections(False, queue)
        try:
            publish("mining.tasks.sync_account", queue, DATABASE_BROKER_URL, [pp.provider.pk, victim.pk])
            time.sleep(4)  # several claims refused meanwhile
            assert worker.proc.poll() is None
            assert not Worker.objects.filter(account=victim).exists()
        finally:
            _database_connections(True, queue)
        wait_for(lambda: MiningAccount.objects.get(pk=victim.pk).sync_status == "ok", timeout_s=60,
                 what="the account to sync once the database is back")
    finally:
        worker.stop()
    account = MiningAccount.objects.get(pk=victim.pk)
    assert account.sync_lease_until is None and account.sync_error == ""
    assert Worker.objects.filter(account=victim).exists() and Reward.objects.filter(account=victim).exists()
    assert sync_health(account, now=_real_now()).label == "In step"
