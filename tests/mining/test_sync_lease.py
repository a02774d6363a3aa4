"""An honest lease (issue 17 item 1): short and renewed, carried by the task's retry, released as soon as the
database answers again; and an account's displayed sync state is derived when it is read, so a dead sync or a
dead fleet never reads "In step"."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection

from mining.models import MiningAccount, Reward
from mining.selectors.sync import sync_health
from mining.services.sync import SyncInterrupted, mining_account_lease_claim, mining_account_sync
from tests.fixtures.mining import pool_provider_make


def _admin_dsn() -> dict:
    db = connection.settings_dict
    return {"dbname": "postgres", "user": db["USER"], "host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432}


class DatabaseOutage:
    """The test database refuses every connection for `seconds`, and the sync's own connection is cut: what
    `pg_ctl stop -m immediate` … `start` looks like to a worker, confined to this test's database."""

    def __init__(self, pid: int, seconds: float) -> None:
        self.pid, self.seconds, self.name = pid, seconds, connection.settings_dict["NAME"]
        self.back_at: float | None = None

    def _allow(self, admin, allowed: bool) -> None:
        admin.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS {"true" if allowed else "false"}')

    def run(self) -> None:
        with psycopg.connect(**_admin_dsn(), autocommit=True) as admin:
            self._allow(admin, False)
            try:
                admin.execute("SELECT pg_terminate_backend(%s)", [self.pid])
                time.sleep(self.seconds)
            finally:
                self._allow(admin, True)
                self.back_at = time.monotonic()

    def restore(self) -> None:
        with psycopg.connect(**_admin_dsn(), autocommit=True) as admin:
            self._allow(admin, True)


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_mid_sync_releases_the_lease_when_it_answers_and_the_retry_proceeds(
        sandbox_pool, fast_upstream_retries, settings):
    pp = pool_provider_make(sandbox_pool)
    account = pp.accounts[0]
    mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now)  # in step before
    later = pp.data_now + timedelta(minutes=5)
    settings.WHITEBIT_TIMEOUT_S = 10
    settings.MINING_SYNC_RELEASE_WAIT_S = 20
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    outage = DatabaseOutage(pid, seconds=4)

    def cut_when_reading_rewards() -> None:
        deadline = time.monotonic() + 30
        while "rewards" in json.dumps(sandbox_pool.control("GET", "/_sandbox/faults")):
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        outage.run()

    # The rewards request hangs for 1 s; the database goes away while it does and stays away for 4 s.
    sandbox_pool.fault("/api/v4/mining/rewards", "hang", count=1, hang_s=1)
    killer = threading.Thread(target=cut_when_reading_rewards)
    killer.start()
    token = "task-token-1"
    try:
        with pytest.raises(SyncInterrupted) as raised:
            mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=later, lease_token=token)
        returned_at = time.monotonic()
    finally:
        killer.join()
        outage.restore()
        sandbox_pool.clear_faults()
    assert raised.value.retryable
    assert outage.back_at is not None and returned_at - outage.back_at < 5  # released within seconds of its return
    account.refresh_from_db()
    assert account.sync_lease_until is None and account.sync_lease_token == ""
    assert account.sync_status == MiningAccount.SyncStatus.RETRYING
    assert "database connection was lost" in account.sync_error
    health = sync_health(account, now=later + timedelta(seconds=1))
    assert health.label == "Retrying" and "database connection was lost" in health.reason
    # The task's retry, with its token, proceeds at once.
    report = mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=later + timedelta(seconds=15),
                                 lease_token=token)
    assert report.accounts_synced == 1 and report.accounts_skipped == 0
    account.refresh_from_db()
    assert account.sync_status == MiningAccount.SyncStatus.OK and Reward.objects.filter(account=account).exists()
    assert sync_health(account, now=later + timedelta(seconds=20)).label == "In step"


def test_a_retry_re_takes_the_lease_its_first_attempt_could_not_release_and_no_one_else_does(pool_provider):
    pp = pool_provider
    account = pp.accounts[0]
    # The first attempt claimed, then the database went away before it could release: its lease still stands.
    assert mining_account_lease_claim(scope=pp.scope, account_id=account.pk, now=pp.data_now, token="first-try")
    account.refresh_from_db()
    assert account.sync_lease_until == pp.data_now + timedelta(seconds=90)  # a short lease, not ten minutes
    soon = pp.data_now + timedelta(seconds=15)
    busy = mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=soon, lease_token="other")
    assert busy.accounts_skipped == 1  # someone else's sync still waits for it
    retry = mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=soon, lease_token="first-try")
    assert retry.accounts_synced == 1 and retry.accounts_skipped == 0
    account.refresh_from_db()
    assert account.sync_lease_token == "" and account.sync_status == MiningAccount.SyncStatus.OK


def test_the_lease_is_renewed_before_each_dataset_and_says_which_one_runs(pool_provider, settings):
    """A sync longer than one lease keeps its account: each dataset extends the lease from its own start."""
    pp = pool_provider
    account = pp.accounts[0]
    seen: list[tuple[str, object]] = []
    from mining.services.sync import account as sync_account_module

    real = sync_account_module.mining_account_lease_renew

    def spy(**kwargs):
        renewed = real(**kwargs)
        row = MiningAccount.objects.get(pk=account.pk)
        seen.append((row.sync_step, sync_health(row, now=pp.data_now).label))
        return renewed

    sync_account_module.mining_account_lease_renew = spy
    try:
        mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now)
    finally:
        sync_account_module.mining_account_lease_renew = real
    assert [step for step, _ in seen] == [d for d, _ in sync_account_module.DATASETS]
    assert {label for _, label in seen} == {"Syncing"}  # while it runs, never "In step"


def test_an_expired_lease_that_was_never_released_reads_stalled_with_its_reason(pool_provider):
    pp = pool_provider
    account = pp.accounts[0]
    mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now)
    # A worker claims the next cycle, reaches rewards, and is SIGKILLed there: nothing releases its lease.
    claim_at = pp.data_now + timedelta(minutes=5)
    MiningAccount.objects.filter(pk=account.pk).update(
        sync_lease_token="dead-worker", sync_lease_until=claim_at + timedelta(seconds=90), sync_step="rewards")
    account.refresh_from_db()
    assert account.sync_status == MiningAccount.SyncStatus.OK  # the stored outcome still says so …
    live = sync_health(account, now=claim_at + timedelta(seconds=60))
    assert live.label == "Syncing" and "rewards" in live.reason
    dead = sync_health(account, now=claim_at + timedelta(seconds=91))
    assert dead.label == "Stalled" and "rewards" in dead.reason and "worker" in dead.reason  # … the page does not
    # A fleet with no live worker at all: no lease, nothing written for two intervals.
    MiningAccount.objects.filter(pk=account.pk).update(sync_lease_token="", sync_lease_until=None, sync_step="")
    account.refresh_from_db()
    assert sync_health(account, now=pp.data_now + timedelta(minutes=9)).label == "In step"
    idle = sync_health(account, now=pp.data_now + timedelta(minutes=11))
    assert idle.label == "Stalled" and "Last in step 11 minutes ago" in idle.reason


def test_a_dead_sync_is_resynced_by_the_next_fanout_within_one_interval(settings):
    assert settings.MINING_SYNC_LEASE_S * 2 < settings.MINING_SYNC_INTERVAL_S


def test_the_retry_waits_for_a_lost_database_briefly_and_backs_off_from_a_failing_pool(settings):
    from mining.services.sync import SyncFailure
    from mining.tasks import sync_retry_plan
    from mining.whitebit.errors import UpstreamUnavailable

    settings.MINING_SYNC_DATABASE_POLL_S, settings.MINING_SYNC_DATABASE_WAIT_S = 2.0, 10.0
    lost = SyncInterrupted(SyncFailure("The database connection was lost during the sync; it will be retried.",
                                       retryable=True, database_lost=True))
    pool = UpstreamUnavailable("The pool did not answer", status=503)
    # A lost database: polled every 2 s, and those waits never use up the pool's three retries …
    first = sync_retry_plan(lost, retries=0)
    assert (first.countdown_s, first.database_waits) == (2.0, 1)
    assert sync_retry_plan(lost, retries=4, database_waits=4).countdown_s == 2.0
    after_waits = sync_retry_plan(pool, retries=5, database_waits=5)
    assert after_waits.countdown_s == 15 and after_waits.max_retries == 8
    # … up to its horizon (10 s here), when the task gives up and the next fan-out takes the account.
    assert sync_retry_plan(lost, retries=5, database_waits=5) is None
    # A failing pool backs off 15, 30, 60 s, three times.
    assert [sync_retry_plan(pool, retries=n).countdown_s for n in range(3)] == [15, 30, 60]
    assert sync_retry_plan(pool, retries=3) is None
