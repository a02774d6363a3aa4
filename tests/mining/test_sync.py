"""The sync keeps Postgres a faithful, idempotent copy of the pool (the live sandbox, over HTTP)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from mining.models import (
    AccountHashrateSample,
    Interval,
    MiningAccount,
    Reward,
    RewardStatus,
    RewardStatusChange,
    SyncState,
    WatcherLink,
    Worker,
    WorkerHashrateSample,
)
from mining.services.sync import mining_account_sync
from mining.upstream import client_for_provider
from mining.whitebit.errors import WhiteBitError
from tests.fixtures.mining import pool_provider_make

SYNCED_MODELS = [MiningAccount, Worker, AccountHashrateSample, WorkerHashrateSample, Reward, WatcherLink, SyncState]


def sync_all(pp, **kwargs):
    from mining.services.sync import SyncReport

    kwargs.setdefault("now", pp.data_now)  # the sandbox's fixed data clock: no result depends on the wall clock
    report = SyncReport()
    for account in pp.accounts:
        report.merge(mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, **kwargs))
    return report


def online_workers(sandbox_pool, account_name: str) -> set[str]:
    """The workers the pool lists as online (or low) at its data clock: what `workers/names` returns."""
    fleet, now = sandbox_pool.server.app.fleet, int(sandbox_pool.frozen_now.timestamp())
    return {w for w in fleet.accounts[account_name].workers if fleet.worker_status(account_name, w, now) != "offline"}


def snapshot(pp, *, since=None) -> dict:
    """Everything a user could see of the provider's synced data, without bookkeeping timestamps.

    Hashrate points are compared from `since` on: where a series starts depends on the wall clock of the first
    sync (the pool's window reaches back from *now*), so two runs seconds apart may differ at the far edge.
    """
    pid = pp.provider.pk
    since = since or (pp.data_now - timedelta(days=2))
    return {
        "accounts": sorted(MiningAccount.objects.filter(provider_id=pid).values_list(
            "name", "pool_fee_percent", "workers_online", "payout_destination", "payout_address", "sync_status")),
        "workers": sorted(Worker.objects.filter(provider_id=pid).values_list("account__name", "name", "status")),
        "samples": sorted(AccountHashrateSample.objects.filter(provider_id=pid, at__gte=since).values_list(
            "account__name", "interval", "at", "hashrate_hs", "reject_rate")),
        "worker_samples": sorted(WorkerHashrateSample.objects.filter(provider_id=pid, at__gte=since).values_list(
            "worker__name", "account__name", "at", "hashrate_hs")),
        "rewards": sorted(Reward.objects.filter(provider_id=pid).values_list(
            "account__name", "date", "total_reward_sats", "reward_sats", "fee_sats", "status", "payout_tx_hash")),
        "links": sorted(WatcherLink.objects.filter(provider_id=pid).values_list("upstream_id", "is_active")),
    }


def test_first_sync_copies_every_dataset(pool_provider, sandbox_pool):
    report = sync_all(pool_provider)
    assert report.accounts_synced == len(pool_provider.accounts) and not report.errors
    account = MiningAccount.objects.get(pk=pool_provider.accounts[0].pk)
    assert account.sync_status == MiningAccount.SyncStatus.OK and account.last_synced_at
    assert account.pool_fee_percent is not None and account.stratum_urls
    assert account.payout_destination in {"main_balance", "external_address"}  # adopted from the pool
    listed = online_workers(sandbox_pool, account.name)
    assert set(Worker.objects.filter(account=account).values_list("name", flat=True)) == listed
    assert 0 < len(listed) < sandbox_pool.config.workers  # the fixed clock sits in a slot with a worker offline
    five = AccountHashrateSample.objects.filter(account=account, interval=Interval.M5)
    hourly = AccountHashrateSample.objects.filter(account=account, interval=Interval.H1)
    assert five.count() > 100 and hourly.count() > 24
    rewards = Reward.objects.filter(account=account)
    assert rewards.count() >= sandbox_pool.config.history_days - 1
    for reward in rewards:
        assert reward.total_reward_sats == reward.reward_sats + reward.fee_sats
    assert WorkerHashrateSample.objects.filter(account=account).exists()
    # Counts per endpoint come from the client: one miners/info call per account.
    assert report.requests["/api/v4/mining/miners/info"] == len(pool_provider.accounts)


def test_resync_changes_zero_rows(pool_provider):
    sync_all(pool_provider)
    before = snapshot(pool_provider)
    report = sync_all(pool_provider)
    for model, counts in report.rows.items():
        assert (counts.created, counts.updated) == (0, 0), (model, counts)
    assert snapshot(pool_provider) == before


def test_hourly_points_are_the_mean_of_their_five_minute_points(pool_provider):
    sync_all(pool_provider)
    account = pool_provider.accounts[0]
    samples = AccountHashrateSample.objects.filter(account=account)
    five = {s.at: s.hashrate_hs for s in samples.filter(interval=Interval.M5)}
    checked = 0
    for hour in samples.filter(interval=Interval.H1):
        points = [five.get(hour.at + timedelta(minutes=5 * i)) for i in range(12)]
        if None in points:
            continue
        assert abs(hour.hashrate_hs - sum(points) / 12) < 1
        checked += 1
    assert checked >= 24


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_syncs_of_one_account_run_once(sandbox_pool, fast_upstream_retries):
    pp = pool_provider_make(sandbox_pool)
    account = pp.accounts[0]
    barrier = threading.Barrier(10)
    reports, errors = [], []

    def run():
        try:
            barrier.wait()
            reports.append(mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk, now=pp.data_now))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r.accounts_synced for r in reports) == 1
    assert sum(r.accounts_skipped for r in reports) == 9
    assert Reward.objects.filter(account=account).count() > 0
    assert MiningAccount.objects.get(pk=account.pk).sync_lease_until is None  # released


@pytest.mark.parametrize("fault", ["429", "429_json", "500", "503", "malformed_json"])
def test_transient_faults_are_retried_and_the_sync_converges(pool_provider, sandbox_pool, fault):
    clean = pool_provider_make(sandbox_pool)
    sync_all(clean)
    sandbox_pool.fault("/api/v4/mining/rewards", fault, count=2)
    sandbox_pool.fault("/api/v4/mining/hashrate", fault, count=1)
    try:
        report = sync_all(pool_provider)
    finally:
        sandbox_pool.clear_faults()
    assert not report.errors and report.requests["retries"] >= 3
    assert _comparable(snapshot(pool_provider)) == _comparable(snapshot(clean))


def test_a_timeout_is_retried(pool_provider, sandbox_pool, settings):
    settings.WHITEBIT_TIMEOUT_S = 0.5
    sandbox_pool.fault("/api/v4/mining/miners/info", "hang", count=1, hang_s=2)
    try:
        report = sync_all(pool_provider)
    finally:
        sandbox_pool.clear_faults()
    assert not report.errors and report.accounts_synced == len(pool_provider.accounts)


def test_persistent_faults_leave_no_partial_rows_and_the_next_cycle_converges(pool_provider, sandbox_pool,
                                                                              settings):
    settings.WHITEBIT_MAX_RETRIES = 1
    account, clock = pool_provider.accounts[0], pool_provider.data_now
    # Rewards fail on every attempt of the first sync; everything before them is committed whole.
    sandbox_pool.fault("/api/v4/mining/rewards", "500", count=2)
    try:
        with pytest.raises(WhiteBitError) as raised:
            mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
    finally:
        sandbox_pool.clear_faults()
    assert raised.value.retryable
    account.refresh_from_db()
    assert account.sync_status == MiningAccount.SyncStatus.RETRYING and "WhiteBIT" in account.sync_error
    assert not Reward.objects.filter(account=account).exists()
    assert SyncState.objects.get(account=account, dataset="rewards").watermark_at is None
    assert Worker.objects.filter(account=account).exists()  # the datasets before it were applied whole
    assert account.sync_lease_until is None
    mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
    clean = pool_provider_make(sandbox_pool)
    mining_account_sync(provider_id=clean.provider.pk, account_id=clean.account(account.name).pk, now=clock)
    assert _account_rewards(account) == _account_rewards(clean.account(account.name))


def test_a_bad_secret_marks_the_accounts_and_others_carry_on(pool_provider, sandbox_pool):
    from tenants.services import provider_credentials_set

    bad = pool_provider_make(sandbox_pool)
    provider_credentials_set(provider=bad.provider, api_key=sandbox_pool.api_key, api_secret="not-the-secret")
    report = sync_all(bad, raise_retryable=False)
    report.merge(sync_all(pool_provider))
    assert report.accounts_failed == len(bad.accounts) and report.accounts_synced == len(pool_provider.accounts)
    failed = MiningAccount.objects.get(pk=bad.accounts[0].pk)
    assert failed.sync_status == MiningAccount.SyncStatus.FAILED
    assert "API key" in failed.sync_error  # words a provider understands, not a status code
    assert not Reward.objects.filter(provider=bad.provider).exists()
    assert Reward.objects.filter(provider=pool_provider.provider).exists()


def test_an_account_gone_from_the_pool_is_marked_with_a_reason(pool_provider):
    ghost = MiningAccount.objects.create(provider=pool_provider.provider, customer=pool_provider.customer,
                                         name="account_that_does_not_exist")
    report = mining_account_sync(provider_id=pool_provider.provider.pk, account_id=ghost.pk,
                                 now=pool_provider.data_now)
    ghost.refresh_from_db()
    assert report.accounts_failed == 1
    assert ghost.sync_status == MiningAccount.SyncStatus.FAILED
    assert "does not know this mining account" in ghost.sync_error


def test_reward_status_moves_are_applied_recorded_and_never_go_back(pool_provider, sandbox_pool):
    account = pool_provider.accounts[0]
    start = clock = sandbox_pool.config.now
    mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
    pending = set(Reward.objects.filter(account=account, status=RewardStatus.PENDING).values_list("date", flat=True))
    assert pending, "the sandbox keeps the newest rewards pending"
    try:
        clock = start + timedelta(days=2)
        sandbox_pool.set_clock(clock)
        mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
        moved = Reward.objects.filter(account=account, date__in=pending)
        assert all(r.status != RewardStatus.PENDING for r in moved)
        changes = RewardStatusChange.objects.filter(reward__account=account, applied=True)
        assert {(c.reward.date, c.from_status) for c in changes} >= {(d, "pending") for d in pending}
        # The pool going back in time reports them pending again (our clock goes on): refused, recorded once.
        sandbox_pool.set_clock(start)
        clock += timedelta(minutes=5)
        mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
        refused = RewardStatusChange.objects.filter(reward__account=account, applied=False)
        assert refused.count() >= 1
        first_count = refused.count()
        clock += timedelta(minutes=5)
        mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
        assert all(r.status != RewardStatus.PENDING for r in moved.all())
        assert refused.count() == first_count  # recorded once, not once per sync
    finally:
        sandbox_pool.set_clock(start)


def test_payout_drift_is_flagged_and_cleared(pool_provider):
    account, clock = pool_provider.accounts[0], pool_provider.data_now
    mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
    account.refresh_from_db()
    assert not account.payout_drift and account.payout_drift_detected_at is None
    pool_record = (account.upstream_payout_destination, account.upstream_payout_address)
    # Someone changes the portal's record so it no longer matches the pool: the sync flags it ...
    other = (("external_address", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
             if pool_record[0] == "main_balance" else ("main_balance", ""))
    MiningAccount.objects.filter(pk=account.pk).update(payout_destination=other[0], payout_address=other[1])
    mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
    account.refresh_from_db()
    assert account.payout_drift and account.payout_drift_detected_at == clock
    assert (account.upstream_payout_destination, account.upstream_payout_address) == pool_record  # not adopted
    # ... keeps the first time it saw it while it lasts ...
    mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk,
                        now=clock + timedelta(minutes=5))
    account.refresh_from_db()
    assert account.payout_drift_detected_at == clock
    # ... and clears it once the two agree again.
    MiningAccount.objects.filter(pk=account.pk).update(payout_destination=pool_record[0],
                                                       payout_address=pool_record[1])
    mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk,
                        now=clock + timedelta(minutes=10))
    account.refresh_from_db()
    assert not account.payout_drift and account.payout_drift_detected_at is None


def test_watcher_links_are_copied_and_deactivated_when_gone(pool_provider, sandbox_pool):
    import uuid

    account = pool_provider.accounts[0]
    client = client_for_provider(pool_provider.provider)
    name = f"link_{uuid.uuid4().hex[:10]}"
    created = client.watcher_link_create(accounts=[account.name], name=name, permissions=["dashboard"],
                                         live_until="1h")
    clock = pool_provider.data_now
    try:
        mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
        link = WatcherLink.objects.get(provider=pool_provider.provider, upstream_id=created.id)
        assert link.is_active and link.name == name and list(link.accounts.all()) == [account]
        clock = sandbox_pool.config.now + timedelta(hours=2)
        sandbox_pool.set_clock(clock)  # the 1-hour link expires
        mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=clock)
        link.refresh_from_db()
        assert not link.is_active
    finally:
        sandbox_pool.set_clock(sandbox_pool.config.now)


def test_sync_accounts_command_prints_one_json_object(pool_provider):
    out = StringIO()
    call_command("sync_accounts", "--provider", pool_provider.provider.slug, "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["accounts"]["synced"] == len(pool_provider.accounts)
    assert result["rows"]["Reward"]["created"] > 0 and result["errors"] == []
    assert result["requests"]["/api/v4/mining/rewards"] >= len(pool_provider.accounts)
    out = StringIO()
    call_command("sync_accounts", "--provider", pool_provider.provider.slug, "--json", stdout=out)
    again = json.loads(out.getvalue())
    assert all(c["created"] == 0 and c["updated"] == 0 for c in again["rows"].values())


def test_sync_accounts_rejects_unknown_names(pool_provider):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no provider"):
        call_command("sync_accounts", "--provider", "nope")
    with pytest.raises(CommandError, match="no active account"):
        call_command("sync_accounts", "--provider", pool_provider.provider.slug, "--account", "nope")
    with pytest.raises(CommandError, match="needs --provider"):
        call_command("sync_accounts", "--account", "x")


def _comparable(snap: dict) -> dict:
    return {k: [row[:-1] if k == "accounts" else row for row in v] for k, v in snap.items() if k != "links"}


def _account_rewards(account) -> list:
    return sorted(Reward.objects.filter(account=account).values_list(
        "date", "total_reward_sats", "reward_sats", "fee_sats", "status"))
