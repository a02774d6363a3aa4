"""The hashrate tables are partitioned by month (issue 22): months are created ahead by beat, a month past its
retention is dropped whole, no row of a kept month is lost, and a point with no month yet is kept and moved in
when its month is created. All under a moved clock: the partitions the migration made do not reach these years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine
from django.db import connection

from mining import tasks
from mining.models import AccountHashrateSample, Interval, MiningAccount, Worker, WorkerHashrateSample
from mining.services.partitions import hashrate_partitions_ensure, month_partitions
from mining.services.retention import hashrate_retention_apply

T = "mining_accounthashratesample"


def _where(sample_id: int) -> str:
    """The partition a row is stored in."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT tableoid::regclass::text FROM "{T}" WHERE id = %s', [sample_id])
        return cursor.fetchone()[0]


def _exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def _account(world, name="part") -> MiningAccount:
    return MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name=name)


def _point(account, interval, at, hs=1) -> AccountHashrateSample:
    return AccountHashrateSample.objects.create(provider=account.provider, customer=account.customer,
                                                account=account, interval=interval, at=at, hashrate_hs=Decimal(hs))


def test_beat_creates_next_months_ahead_and_a_new_month_lands_in_its_own_partition(world):
    account = _account(world)
    with time_machine.travel(datetime(2031, 1, 30, 12, tzinfo=UTC), tick=False):
        assert not _exists(f"{T}_5m_p2031_02")
        created = tasks.hashrate_partitions_ensure.apply().get()
        assert f"{T}_5m_p2031_02" in created and f"{T}_5m_p2031_03" in created  # two months ahead
        assert f"{T}_1h_p2031_03" in created and "mining_workerhashratesample_1h_p2031_03" in created
        assert f"{T}_5m_p2031_04" not in created
        assert tasks.hashrate_partitions_ensure.apply().get() == []  # idempotent
    with time_machine.travel(datetime(2031, 2, 1, 0, 5, tzinfo=UTC), tick=False):  # the month rolled over
        first = _point(account, Interval.M5, datetime(2031, 2, 1, tzinfo=UTC))
        last_of_january = _point(account, Interval.M5, datetime(2031, 1, 31, 23, 55, tzinfo=UTC))
        assert _where(first.pk) == f"{T}_5m_p2031_02"
        assert _where(last_of_january.pk) == f"{T}_5m_p2031_01"
        assert f"{T}_5m_p2031_04" in hashrate_partitions_ensure(now=datetime(2031, 2, 1, 0, 5, tzinfo=UTC))
    daily = _point(account, Interval.D1, datetime(2031, 2, 1, tzinfo=UTC))
    assert _where(daily.pk) == f"{T}_24h"  # daily points: one partition, kept for ever


def test_a_point_without_its_month_is_kept_and_moved_in_when_the_month_is_created(world):
    account = _account(world)
    far = datetime(2033, 6, 15, 10, tzinfo=UTC)
    stray = _point(account, Interval.H1, far, hs=7)  # no month partition for 2033 yet: the sync must not fail
    assert _where(stray.pk) == f"{T}_1h_default"
    hashrate_partitions_ensure(now=far)
    assert _where(stray.pk) == f"{T}_1h_p2033_06"
    moved = AccountHashrateSample.objects.get(pk=stray.pk)
    assert (moved.account_id, moved.interval, moved.at, moved.hashrate_hs) == (account.pk, "1h", far, Decimal(7))
    # the natural key still holds across the move: an upsert of the same point updates it, no second row
    AccountHashrateSample.objects.bulk_create(
        [AccountHashrateSample(provider=account.provider, customer=account.customer, account=account,
                               interval=Interval.H1, at=far, hashrate_hs=Decimal(8))],
        update_conflicts=True, unique_fields=["account", "interval", "at"], update_fields=["hashrate_hs"],
    )
    assert list(AccountHashrateSample.objects.filter(account=account).values_list("pk", "hashrate_hs")) == [
        (stray.pk, Decimal(8))]


def _daily_points(account, interval, start, end) -> list[datetime]:
    ats, at = [], start
    while at < end:
        ats.append(at)
        at += timedelta(days=1)
    AccountHashrateSample.objects.bulk_create([
        AccountHashrateSample(provider=account.provider, customer=account.customer, account=account,
                              interval=interval, at=a, hashrate_hs=Decimal(1)) for a in ats])
    return ats


def test_retention_drops_a_month_past_its_age_whole_and_loses_no_row_of_a_kept_month(world, settings):
    settings.MINING_RETENTION_EXACT_DAYS = False  # months only: what is kept is every row of a kept month
    account = _account(world)
    now = datetime(2031, 3, 15, 3, tzinfo=UTC)  # 5-minute cutoff (35 days): 2031-02-08 03:00
    with time_machine.travel(now, tick=False):
        hashrate_partitions_ensure(now=datetime(2030, 12, 20, tzinfo=UTC))  # December 2030 onwards exist
        hashrate_partitions_ensure(now=now)
        ats = _daily_points(account, Interval.M5, datetime(2030, 12, 20, tzinfo=UTC), now)
        hourly = _daily_points(account, Interval.H1, datetime(2030, 12, 20, tzinfo=UTC), now)
        assert _exists(f"{T}_5m_p2030_12") and _exists(f"{T}_5m_p2031_01")
        deleted = tasks.hashrate_retention.apply().get()
    assert not _exists(f"{T}_5m_p2030_12") and not _exists(f"{T}_5m_p2031_01")  # wholly past the cutoff
    assert _exists(f"{T}_5m_p2031_02")  # holds points younger than 35 days: kept, with every row
    kept = [a for a in ats if a >= datetime(2031, 2, 1, tzinfo=UTC)]
    assert deleted["AccountHashrateSample:5m"] == len(ats) - len(kept) == 12 + 31
    assert list(AccountHashrateSample.objects.filter(interval=Interval.M5).order_by("at")
                .values_list("at", flat=True)) == kept
    assert deleted["AccountHashrateSample:1h"] == 0  # 400 days: nothing of these months is due
    assert AccountHashrateSample.objects.filter(interval=Interval.H1).count() == len(hourly)
    assert datetime(2031, 2, 1, tzinfo=UTC) in month_partitions(T, "5m")


def test_exact_retention_trims_only_the_oldest_kept_month_to_the_day(world):
    account = _account(world)
    worker = Worker.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account,
                                   name="rig1", first_seen_at=datetime(2030, 1, 1, tzinfo=UTC))
    now = datetime(2031, 3, 15, 3, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        hashrate_partitions_ensure(now=datetime(2031, 1, 10, tzinfo=UTC))
        ats = _daily_points(account, Interval.M5, datetime(2031, 1, 10, tzinfo=UTC), now)
        WorkerHashrateSample.objects.bulk_create([
            WorkerHashrateSample(provider=account.provider, customer=account.customer, account=account,
                                 worker=worker, interval=Interval.H1, at=a, hashrate_hs=Decimal(1)) for a in ats])
        deleted = hashrate_retention_apply(now=now)
    cutoff = now - timedelta(days=35)
    assert deleted["AccountHashrateSample:5m"] == len([a for a in ats if a < cutoff])
    assert deleted["WorkerHashrateSample:1h"] == len([a for a in ats if a < cutoff])
    first_kept = min(a for a in ats if a >= cutoff)
    assert first_kept == datetime(2031, 2, 9, tzinfo=UTC)
    assert min(AccountHashrateSample.objects.values_list("at", flat=True)) == first_kept
    assert min(WorkerHashrateSample.objects.values_list("at", flat=True)) == first_kept
    assert AccountHashrateSample.objects.count() == len([a for a in ats if a >= cutoff])


def test_beat_schedules_the_partitions_daily():
    from portal.celery import app

    entry = app.conf.beat_schedule["mining-hashrate-partitions"]
    assert entry["task"] == "mining.tasks.hashrate_partitions_ensure" and entry["schedule"] == 86400.0
