"""Alerts open once per condition, resolve when it clears, and tell the right people each time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from mining.models import AccountHashrateSample, Alert, AlertKind, AlertRule, Interval, MiningAccount, Worker
from mining.services.alerts import alerts_evaluate_account
from tenants.access import scope_for_system

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TH = Decimal(10) ** 12


@pytest.fixture
def account(world):
    return MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name="carol_site_1",
                                        last_synced_at=NOW)


def _series(account, values_th, *, end=NOW):
    start = end - timedelta(minutes=5 * (len(values_th) - 1))
    AccountHashrateSample.objects.bulk_create([
        AccountHashrateSample(provider=account.provider, customer=account.customer, account=account,
                              interval=Interval.M5, at=start + timedelta(minutes=5 * i), hashrate_hs=v * TH)
        for i, v in enumerate(values_th)
    ])


def _evaluate(world, account, django_capture_on_commit_callbacks, now=NOW):
    with django_capture_on_commit_callbacks(execute=True):
        return alerts_evaluate_account(scope=scope_for_system(provider_id=world.provider_a.pk),
                                       account_id=account.pk, now=now)


def test_hashrate_floor_opens_once_and_resolves_with_emails(world, account, django_capture_on_commit_callbacks):
    AlertRule.objects.create(provider=world.provider_a, customer=world.customer_a1, kind=AlertKind.HASHRATE_FLOOR,
                             floor_hs=500 * TH, duration_minutes=15)
    _series(account, [900, 900, 400, 300, 200, 100])  # the last 15 minutes are under 500 TH/s
    assert _evaluate(world, account, django_capture_on_commit_callbacks) == {"opened": 1, "resolved": 0}
    assert _evaluate(world, account, django_capture_on_commit_callbacks) == {"opened": 0, "resolved": 0}
    alert = Alert.objects.get(account=account)
    assert alert.resolved_at is None and "under 500.00 TH/s" in alert.message
    assert len(mail.outbox) == 1
    recipients = set(mail.outbox[0].to)
    # Staff who act (the owner) and the customer's contacts and users; not read-only staff, not other tenants.
    assert recipients == {"alice@alpha.example", "ops@carol.example", "carol@carol.example"}
    assert "Alert" in mail.outbox[0].subject
    _series(account, [800, 800, 800], end=NOW + timedelta(minutes=15))
    assert _evaluate(world, account, django_capture_on_commit_callbacks) == {"opened": 0, "resolved": 1}
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert len(mail.outbox) == 2 and "Resolved" in mail.outbox[1].subject


def test_drop_under_share_of_24h_mean(world, account, django_capture_on_commit_callbacks):
    AlertRule.objects.create(provider=world.provider_a, account=account, kind=AlertKind.HASHRATE_DROP,
                             drop_bps=5000, duration_minutes=10)
    _series(account, [1000] * 30 + [400, 400])
    assert _evaluate(world, account, django_capture_on_commit_callbacks)["opened"] == 1
    assert Alert.objects.get(account=account).kind == AlertKind.HASHRATE_DROP


def test_a_short_dip_does_not_alert(world, account, django_capture_on_commit_callbacks):
    AlertRule.objects.create(provider=world.provider_a, kind=AlertKind.HASHRATE_FLOOR, floor_hs=500 * TH,
                             duration_minutes=15)
    _series(account, [900, 900, 900, 100])
    assert _evaluate(world, account, django_capture_on_commit_callbacks)["opened"] == 0


def test_worker_offline_for_n_minutes(world, account, django_capture_on_commit_callbacks):
    AlertRule.objects.create(provider=world.provider_a, kind=AlertKind.WORKER_OFFLINE, duration_minutes=30,
                             notify_customer=False)
    Worker.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account, name="rig01",
                          status=Worker.Status.OFFLINE, first_seen_at=NOW - timedelta(days=1),
                          offline_since_at=NOW - timedelta(minutes=45))
    Worker.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account, name="rig02",
                          status=Worker.Status.OFFLINE, first_seen_at=NOW - timedelta(days=1),
                          offline_since_at=NOW - timedelta(minutes=10))
    assert _evaluate(world, account, django_capture_on_commit_callbacks)["opened"] == 1
    alert = Alert.objects.get(account=account)
    assert alert.worker.name == "rig01"
    assert set(mail.outbox[0].to) == {"alice@alpha.example"}  # notify_customer off: staff only
    Worker.objects.filter(name="rig01").update(status=Worker.Status.ONLINE, offline_since_at=None)
    assert _evaluate(world, account, django_capture_on_commit_callbacks)["resolved"] == 1


def test_stale_sync_after_three_cycles(world, account, settings, django_capture_on_commit_callbacks):
    settings.MINING_SYNC_INTERVAL_S = 300
    later = NOW + timedelta(minutes=16)
    MiningAccount.objects.filter(pk=account.pk).update(sync_error="WhiteBIT is not answering")
    assert _evaluate(world, account, django_capture_on_commit_callbacks, now=later)["opened"] == 1
    alert = Alert.objects.get(account=account)
    assert alert.kind == AlertKind.SYNC_STALE and "not answering" in alert.message
    MiningAccount.objects.filter(pk=account.pk).update(last_synced_at=later)
    assert _evaluate(world, account, django_capture_on_commit_callbacks, now=later)["resolved"] == 1


def test_one_open_alert_per_condition_is_enforced_by_the_database(world, account):
    Alert.objects.create(provider=world.provider_a, account=account, kind=AlertKind.SYNC_STALE,
                         condition_key="stale:1", message="x", opened_at=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(provider=world.provider_a, account=account, kind=AlertKind.SYNC_STALE,
                             condition_key="stale:1", message="x", opened_at=NOW)


def test_rules_of_another_provider_never_apply(world, account, django_capture_on_commit_callbacks):
    AlertRule.objects.create(provider=world.provider_b, kind=AlertKind.HASHRATE_FLOOR, floor_hs=10**9 * TH,
                             duration_minutes=5)
    _series(account, [100, 100, 100])
    assert _evaluate(world, account, django_capture_on_commit_callbacks)["opened"] == 0
