"""No fault wedges a sync: whatever stops it, the account gets a reason in words and its lease back at once, and
`sync_accounts` carries on with the next account (issue 7, item 5)."""

from __future__ import annotations

import json
import socket
import threading
import time
from io import StringIO

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from mining.models import MiningAccount, Reward, SyncState, Worker
from mining.services.sync import SyncInterrupted, mining_account_sync
from mining.upstream import _shared_parts
from tests.fixtures.mining import pool_provider_make


def _break_secret(provider) -> None:
    """The secret was stored under a key that is no longer configured (a botched rotation)."""
    foreign = Fernet(Fernet.generate_key()).encrypt(b"the-real-secret").decode()
    type(provider).objects.filter(pk=provider.pk).update(api_secret_ciphertext=foreign)


def _assert_released_with(account, status, words):
    account.refresh_from_db()
    assert account.sync_status == status
    assert words in account.sync_error
    assert account.sync_lease_until is None and account.sync_lease_token == ""


def test_a_wrong_encryption_key_marks_the_account_and_frees_its_lease(pool_provider):
    _break_secret(pool_provider.provider)
    account = pool_provider.accounts[0]
    report = mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk,
                                 now=pool_provider.data_now)
    assert report.accounts_failed == 1
    assert report.errors[0]["retryable"] is False and "FIELD_ENCRYPTION_KEYS" in report.errors[0]["error"]
    _assert_released_with(account, MiningAccount.SyncStatus.FAILED, "FIELD_ENCRYPTION_KEYS")


def test_sync_accounts_carries_on_past_a_broken_provider(sandbox_pool, db, fast_upstream_retries):
    broken = pool_provider_make(sandbox_pool, slug="broken-first")
    healthy = pool_provider_make(sandbox_pool, slug="healthy-second")
    _break_secret(broken.provider)
    out = StringIO()
    call_command("sync_accounts", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["accounts"]["failed"] >= len(broken.accounts)
    assert result["accounts"]["synced"] >= len(healthy.accounts)
    for account in broken.accounts:
        _assert_released_with(account, MiningAccount.SyncStatus.FAILED, "FIELD_ENCRYPTION_KEYS")
    for account in healthy.accounts:
        account.refresh_from_db()
        assert account.sync_status == MiningAccount.SyncStatus.OK
    assert Reward.objects.filter(provider=healthy.provider).exists()


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: a wedged Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def test_a_redis_that_never_answers_fails_the_sync_quickly_and_retryably(pool_provider, settings, silent_server):
    settings.REDIS_URL = f"redis://127.0.0.1:{silent_server}/0"
    settings.REDIS_SOCKET_TIMEOUT_S = 0.3
    _shared_parts.cache_clear()
    account = pool_provider.accounts[0]
    try:
        with pytest.raises(SyncInterrupted) as raised:
            mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk,
                                now=pool_provider.data_now)
    finally:
        _shared_parts.cache_clear()
    assert raised.value.retryable
    _assert_released_with(account, MiningAccount.SyncStatus.RETRYING, "Redis")
    failed = SyncState.objects.get(account=account, dataset="miner_info")
    assert failed.consecutive_failures == 1 and "Redis" in failed.last_error


@pytest.mark.django_db(transaction=True)
def test_a_lost_database_connection_mid_sync_frees_the_lease_and_says_so(sandbox_pool, fast_upstream_retries,
                                                                          settings):
    pp = pool_provider_make(sandbox_pool)
    account = pp.accounts[0]
    settings.WHITEBIT_TIMEOUT_S = 10
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db = connection.settings_dict
    dsn = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432}

    def kill_when_reading_rewards() -> None:
        deadline = time.monotonic() + 30
        # The hang fault is taken when the rewards request arrives: from then on the sync waits on the pool.
        while "rewards" in json.dumps(sandbox_pool.control("GET", "/_sandbox/faults")):
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        with psycopg.connect(**dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    sandbox_pool.fault("/api/v4/mining/rewards", "hang", count=1, hang_s=2)
    killer = threading.Thread(target=kill_when_reading_rewards)
    killer.start()
    try:
        report = mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now,
                                     raise_retryable=False)
    finally:
        killer.join()
        sandbox_pool.clear_faults()
    assert report.accounts_failed == 1 and report.errors[0]["dataset"] == "rewards"
    _assert_released_with(account, MiningAccount.SyncStatus.RETRYING, "database connection was lost")
    assert Worker.objects.filter(account=account).exists()  # what committed before stays
    assert not Reward.objects.filter(account=account).exists()  # nothing half-written
    # The next cycle converges.
    mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now)
    account.refresh_from_db()
    assert account.sync_status == MiningAccount.SyncStatus.OK and Reward.objects.filter(account=account).exists()
