"""Alerts after a sync are evaluated only when something they depend on may have changed (issue 22): a cycle that
changes nothing skips the evaluation, and an open alert is still evaluated (so it resolves) on such a cycle."""

from __future__ import annotations

from datetime import timedelta

from mining import tasks
from mining.models import Alert, AlertKind
from mining.services import alerts
from mining.services.sync import account as sync_account_module
from mining.services.sync import mining_account_sync


def test_an_unchanged_cycle_skips_alerts_and_an_open_alert_still_resolves(pool_provider, monkeypatch):
    account, now = pool_provider.accounts[0], pool_provider.data_now
    calls = []
    real = alerts.alerts_evaluate_account

    def spy(**kwargs):
        calls.append(kwargs["account_id"])
        return real(**kwargs)

    monkeypatch.setattr(sync_account_module, "alerts_evaluate_account", spy)  # the name the sync calls
    first = mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=now)
    assert first.accounts_synced == 1 and calls == [account.pk]  # rows written: evaluated

    again = mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=now)
    assert again.accounts_synced == 1 and not any(c.created or c.updated for c in again.rows.values())
    assert calls == [account.pk]  # nothing changed, nothing open: skipped

    # Beat's own check finds it stale an hour later; the next (unchanged) sync must resolve that alert.
    tasks.sync_stale_check(now=now + timedelta(hours=1))
    stale = Alert.objects.get(account=account, kind=AlertKind.SYNC_STALE)
    assert stale.resolved_at is None
    mining_account_sync(provider_id=pool_provider.provider.pk, account_id=account.pk, now=now + timedelta(hours=1))
    assert calls[-1] == account.pk and len(calls) == 2  # an alert was open: evaluated
    stale.refresh_from_db()
    assert stale.resolved_at is not None
