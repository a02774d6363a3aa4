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
from tenants.models import OutboundEmail
from tests.fixtures.mail import outbox_deliver

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
    """Evaluate, commit (publishing the send tasks to the real broker), then do what the workers would."""
    with django_capture_on_commit_callbacks(execute=True):
        report = alerts_evaluate_account(scope=scope_for_system(provider_id=world.provider_a.pk),
                                         account_id=account.pk, now=now)
    outbox_deliver(now=now)
    return report


def _sent_to(messages) -> list[str]:
    """Every message's recipients, one list per message (To, Cc and Bcc together)."""
    return [sorted(m.to + m.cc + m.bcc) for m in messages]


def test_hashrate_floor_opens_once_and_resolves_with_emails(world, account, django_capture_on_commit_callbacks):
    AlertRule.objects.create(provider=world.provider_a, customer=world.customer_a1, kind=AlertKind.HASHRATE_FLOOR,
                             floor_hs=500 * TH, duration_minutes=15)
    _series(account, [900, 900, 400, 300, 200, 100])  # the last 15 minutes are under 500 TH/s
    assert _evaluate(world, account, django_capture_on_commit_callbacks) == {"opened": 1, "resolved": 0}
    assert _evaluate(world, account, django_capture_on_commit_callbacks) == {"opened": 0, "resolved": 0}
    alert = Alert.objects.get(account=account)
    assert alert.resolved_at is None and "under 500.00 TH/s" in alert.message
    # Staff who act (the owner) and the customer's contacts and users; not read-only staff, not other tenants.
    # Each gets a message of their own that names only them: nobody sees anyone else's address.
    assert sorted(_sent_to(mail.outbox)) == [["alice@alpha.example"], ["carol@carol.example"], ["ops@carol.example"]]
    assert all("Alert" in m.subject and "under 500.00 TH/s" in m.body for m in mail.outbox)
    assert all(m.extra_headers.get("Cc") is None and m.extra_headers.get("To") is None for m in mail.outbox)
    _series(account, [800, 800, 800], end=NOW + timedelta(minutes=15))
    assert _evaluate(world, account, django_capture_on_commit_callbacks) == {"opened": 0, "resolved": 1}
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    resolved = [m for m in mail.outbox if "Resolved" in m.subject]
    assert len(mail.outbox) == 6 and sorted(_sent_to(resolved)) == [
        ["alice@alpha.example"], ["carol@carol.example"], ["ops@carol.example"]]


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
    assert _sent_to(mail.outbox) == [["alice@alpha.example"]]  # notify_customer off: staff only
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


# --- the notice goes through the e-mail outbox (issue 7, item 6) ---------------------------------------------------


def _floor_rule_that_holds(world, account):
    AlertRule.objects.create(provider=world.provider_a, customer=world.customer_a1, kind=AlertKind.HASHRATE_FLOOR,
                             floor_hs=500 * TH, duration_minutes=15)
    _series(account, [100, 100, 100, 100])


def test_a_refusing_mail_server_delays_the_notice_and_it_is_sent_once_per_recipient(
    world, account, smtp_server, django_capture_on_commit_callbacks
):
    _floor_rule_that_holds(world, account)
    smtp_server.refuse["*"] = "451 4.3.0 Mailbox busy, try again later"
    # The evaluation opens the alert and carries on although every delivery is refused.
    assert _evaluate(world, account, django_capture_on_commit_callbacks) == {"opened": 1, "resolved": 0}
    alert = Alert.objects.get(account=account)
    assert alert.notified_open_at == NOW  # "queued", not "sent"
    rows = OutboundEmail.objects.filter(dedupe_key=f"alert:{alert.pk}:open")
    assert smtp_server.received == []
    assert {(r.status, r.attempts) for r in rows} == {(OutboundEmail.Status.QUEUED, 1)}
    assert all("451" in r.last_error and "refused the recipient" in r.last_error for r in rows)
    # Re-evaluating while the condition holds queues nothing new.
    assert _evaluate(world, account, django_capture_on_commit_callbacks, now=NOW + timedelta(minutes=1)) == {
        "opened": 0, "resolved": 0}
    smtp_server.refuse.clear()  # the server recovers; the retry sends each notice once
    outbox_deliver(now=NOW + timedelta(minutes=10))
    outbox_deliver(now=NOW + timedelta(minutes=20))
    assert smtp_server.to() == ["alice@alpha.example", "carol@carol.example", "ops@carol.example"]
    for item in smtp_server.received:  # one envelope recipient, and the headers name only that one
        assert item.message["To"] == item.envelope_to[0] and item.message["Cc"] is None
        assert "Alert" in item.message["Subject"]
    assert set(rows.values_list("status", flat=True)) == {OutboundEmail.Status.SENT}


def test_the_alert_and_its_notice_commit_together_or_not_at_all(world, account, django_capture_on_commit_callbacks):
    _floor_rule_that_holds(world, account)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        alerts_evaluate_account(scope=scope_for_system(provider_id=world.provider_a.pk), account_id=account.pk,
                                now=NOW)
        assert OutboundEmail.objects.count() == 3  # queued inside the evaluation's transaction
        raise RuntimeError("the transaction that opened the alert fails")
    assert not Alert.objects.exists() and not OutboundEmail.objects.exists()
    assert callbacks == []  # no send task is published for mail that was rolled back


def test_a_bad_contact_address_does_not_stop_the_alert_or_the_other_notices(
    world, account, django_capture_on_commit_callbacks
):
    _floor_rule_that_holds(world, account)
    type(world.customer_a1).objects.filter(pk=world.customer_a1.pk).update(
        contact_emails=["not an address", "ops@carol.example", 42])
    assert _evaluate(world, account, django_capture_on_commit_callbacks)["opened"] == 1
    assert sorted(_sent_to(mail.outbox)) == [["alice@alpha.example"], ["carol@carol.example"], ["ops@carol.example"]]


def test_an_alert_never_mails_another_providers_customer(world, account, django_capture_on_commit_callbacks):
    """An account cannot point at Beta's customer (issue 7, item 7: the database refuses it), so Alpha's alert
    reaches Alpha's staff and Alpha's customer only."""
    from django.db import IntegrityError, connection, transaction

    _floor_rule_that_holds(world, account)
    type(world.customer_b1).objects.filter(pk=world.customer_b1.pk).update(contact_emails=["ops@beta-carol.example"])
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        MiningAccount.objects.filter(pk=account.pk).update(customer=world.customer_b1)
    AlertRule.objects.filter(provider=world.provider_a).update(customer=None)
    assert _evaluate(world, account, django_capture_on_commit_callbacks)["opened"] == 1
    recipients = {address for message in _sent_to(mail.outbox) for address in message}
    assert "ops@beta-carol.example" not in recipients and "alice@alpha.example" in recipients


def test_the_sync_carries_on_when_the_mail_server_refuses(pool_provider, smtp_server,
                                                          django_capture_on_commit_callbacks):
    from mining.services.sync import mining_account_sync

    pp = pool_provider
    AlertRule.objects.create(provider=pp.provider, kind=AlertKind.HASHRATE_FLOOR, floor_hs=10**9 * TH,
                             duration_minutes=5)
    smtp_server.refuse["*"] = "550 5.1.1 Mailbox unavailable"
    first, second = pp.accounts[:2]
    with django_capture_on_commit_callbacks(execute=True):
        reports = [mining_account_sync(provider_id=pp.provider.pk, account_id=a.pk, now=pp.data_now)
                   for a in (first, second)]
    assert [r.accounts_synced for r in reports] == [1, 1]
    assert MiningAccount.objects.filter(pk__in=[first.pk, second.pk], sync_status="ok").count() == 2
    assert Alert.objects.filter(account__in=[first, second], resolved_at__isnull=True).count() == 2
    results = outbox_deliver()
    assert [r.outcome for r in results] == ["failed", "failed"]  # a permanent refusal: failed at once, in words
    assert set(OutboundEmail.objects.values_list("recipient", "last_error")) == {
        ("ops@miner.example", "The mail server refused the recipient (550 5.1.1 Mailbox unavailable).")}
    assert smtp_server.received == []
