"""A silent mail server never stalls the fleet sync (issue 17, item 4): e-mail runs on its own queue and worker.

Real parts: two `celery worker` processes (the sync worker on the default queue, the notify worker on the mail
queue) against the test database and a Redis broker, the sandbox pool over HTTP, and a mail server that accepts
connections and never says a word (a listening socket nobody reads). Before the change the e-mail tasks shared the
sync worker's processes: every process waited `EMAIL_TIMEOUT` on the silent server and no account synced.
"""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from mining.models import MiningAccount
from tenants.models import OutboundEmail
from tests.fixtures.mining import pool_provider_make
from tests.mining.test_sync_durability import (
    _REDIS_BASE,
    WorkerProcess,
    _data_clock_follows_the_wall,
    publish,
    wait_for,
)

BROKER_URL = f"{_REDIS_BASE}/9"  # a broker database of this module's own; queues are per test, never flushed
EMAIL_TIMEOUT_S = 60  # longer than the sync may take here: a worker process stuck on mail would show
PENDING = 8

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue():
    import uuid

    return f"notify-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def silent_mail_server():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # the kernel completes the handshakes; nobody ever reads or writes
        yield silent.getsockname()[1]


def test_a_silent_mail_server_does_not_stall_the_sync(sandbox_clean, fast_upstream_retries, queue,
                                                      silent_mail_server):
    _data_clock_follows_the_wall(sandbox_clean)
    pp = pool_provider_make(sandbox_clean)
    now = timezone.now()
    # Alert notices queued a while ago whose tasks were lost: the outbox sweep hands them to workers again.
    for i in range(PENDING):
        OutboundEmail.objects.create(
            provider=pp.provider, recipient=f"ops{i}@miner.example", subject="Hashrate is low", body="…",
            dedupe_key=f"notice:{i}", next_attempt_at=now - timedelta(minutes=10),
            created_at=now - timedelta(minutes=10))
    env = {"EMAIL_URL": f"smtp://127.0.0.1:{silent_mail_server}", "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT_S),
           "CELERY_NOTIFY_QUEUE": f"{queue}-notify", "EMAIL_OUTBOX_SWEEP_AFTER_S": "0",
           "MINING_SYNC_INTERVAL_S": "60"}
    sync_worker = WorkerProcess(queue, BROKER_URL, **env)
    notify_worker = WorkerProcess(f"{queue}-notify", BROKER_URL, **env)
    pending = OutboundEmail.objects.filter(provider=pp.provider, dedupe_key__startswith="notice:")
    try:
        notify_worker.start()
        sync_worker.start()
        publish("tenants.tasks.email_outbox_sweep_task", queue, BROKER_URL)
        # Every process the mail reaches is now waiting on the silent server.
        wait_for(lambda: pending.filter(status=OutboundEmail.Status.SENDING).count() >= 4, timeout_s=60,
                 what="the mail to be taken by workers")
        publish("mining.tasks.sync_fanout", queue, BROKER_URL)
        wait_for(lambda: MiningAccount.objects.filter(provider=pp.provider, sync_status="ok",
                                                      last_synced_at__isnull=False).count() == len(pp.accounts),
                 timeout_s=EMAIL_TIMEOUT_S - 20, what="every account to sync while the mail server is silent")
        # … and the mail is still pending, not lost: it waits for the server (and then its own retries).
        assert pending.filter(status=OutboundEmail.Status.SENT).count() == 0
        assert pending.filter(status__in=[OutboundEmail.Status.QUEUED, OutboundEmail.Status.SENDING]).count() \
            == PENDING
    finally:
        sync_worker.stop()
        notify_worker.kill()  # its processes are inside a 60 s read; nothing to wait for
