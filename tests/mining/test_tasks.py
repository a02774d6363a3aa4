"""The Celery wiring the durability guarantees rest on: late acks, redelivery on worker loss, time limits below
the lease and the broker's visibility timeout, and a beat schedule that fans the sync out."""

from __future__ import annotations

from django.conf import settings

from mining import tasks
from portal.celery import app


def test_sync_tasks_ack_late_and_are_redelivered_when_a_worker_dies():
    for task in (tasks.sync_account, tasks.sync_fanout, tasks.hashrate_retention):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True


def test_time_limits_sit_below_the_visibility_timeout_and_the_renewed_lease_below_them():
    hard = tasks.sync_account.time_limit
    assert settings.MINING_SYNC_LEASE_S < tasks.sync_account.soft_time_limit < hard
    assert hard < settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    assert app.conf.worker_prefetch_multiplier == 1


def test_beat_fans_the_sync_out_every_interval():
    schedule = app.conf.beat_schedule
    assert schedule["mining-sync-fanout"]["task"] == "mining.tasks.sync_fanout"
    assert schedule["mining-sync-fanout"]["schedule"] == float(settings.MINING_SYNC_INTERVAL_S)
    assert "mining.tasks.sync_account" in app.tasks and "mining.tasks.hashrate_retention" in app.tasks


def test_retention_drops_only_fine_points_past_their_age(world):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from mining.models import AccountHashrateSample, Interval, MiningAccount
    from mining.services.retention import hashrate_retention_apply

    account = MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name="ret")
    now = timezone.now()
    for interval, age_days in ((Interval.M5, 40), (Interval.M5, 1), (Interval.H1, 500), (Interval.H1, 40),
                               (Interval.D1, 900)):
        AccountHashrateSample.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account,
                                             interval=interval, at=now - timedelta(days=age_days),
                                             hashrate_hs=Decimal(1))
    deleted = hashrate_retention_apply(now=now)
    assert deleted["AccountHashrateSample:5m"] == 1 and deleted["AccountHashrateSample:1h"] == 1
    left = sorted(AccountHashrateSample.objects.values_list("interval", flat=True))
    assert left == ["1h", "24h", "5m"]
