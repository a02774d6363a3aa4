"""The outbox keeps its schedule (issue 17, item 3): the claim honours the backoff, enqueue publishes only the rows
it inserted (two concurrent transactions queuing the same notice publish it once), a message gives up on a time
horizon rather than a count of attempts, and the provider is told when mail is given up.

Real parts: the loopback SMTP server (or a port nobody listens on), real PostgreSQL transactions on two
connections, the real broker for the publishes. Every clock is fixed (`now=`).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from celery.signals import after_task_publish
from django.db import connection, transaction

from mining.models import Alert, AlertKind
from mining.services.mail_alerts import alerts_evaluate_undelivered_mail
from tenants.email import email_enqueue, email_retry_failed, email_send
from tenants.models import OutboundEmail
from tests.fixtures.access import login_verified
from tests.fixtures.mail import free_port, use_smtp

NOW = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
Status = OutboundEmail.Status


@pytest.fixture
def published():
    seen: list[int] = []
    lock = threading.Lock()

    def record(sender=None, headers=None, body=None, **_):
        if headers["task"] == "tenants.tasks.email_send_task":
            with lock:
                seen.append(body[0][0])

    after_task_publish.connect(record, weak=False)
    yield seen
    after_task_publish.disconnect(record)


def _enqueue(provider, recipients=("ops@carol.example",), *, key="notice:1", now=NOW):
    return email_enqueue(provider_id=provider.pk, recipients=list(recipients), subject="Hashrate is low",
                         body="Site 1 is under its floor.", dedupe_key=key, now=now)


def test_a_task_that_arrives_before_the_backoff_is_over_does_nothing(world, smtp_server, settings):
    settings.EMAIL_OUTBOX_BACKOFF_BASE_S = 60
    [email_id] = _enqueue(world.provider_a)
    smtp_server.refuse["*"] = "421 4.7.0 Too busy, come back later"
    assert email_send(email_id=email_id, now=NOW).retry_in_s == 60
    smtp_server.refuse.clear()
    # A second chain's message (a duplicated publish) arrives 20 s later: the row is not due, nothing is sent.
    assert email_send(email_id=email_id, now=NOW + timedelta(seconds=20)).outcome == "skipped"
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.status, row.attempts, row.next_attempt_at) == (Status.QUEUED, 1, NOW + timedelta(seconds=60))
    assert smtp_server.received == []
    # At its time the row's own chain sends it.
    assert email_send(email_id=email_id, now=NOW + timedelta(seconds=60)).outcome == "sent"
    assert smtp_server.to() == ["ops@carol.example"]


@pytest.mark.django_db(transaction=True)
def test_two_transactions_queuing_the_same_notice_publish_it_once(world, published):
    """The stale check and the account's evaluation queue the same alert notice at the same moment."""
    first_inserted, second_started = threading.Event(), threading.Event()
    returned: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                returned["first"] = _enqueue(world.provider_a, ["ops@carol.example", "alice@alpha.example"])
                first_inserted.set()
                second_started.wait(10)
                threading.Event().wait(0.5)  # the second is now blocked on the unique index, waiting for us
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_inserted.wait(10)
            second_started.set()
            with transaction.atomic():
                returned["second"] = _enqueue(world.provider_a, ["OPS@carol.example", "bob@beta.example"])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    rows = {r.recipient.lower(): r.pk for r in OutboundEmail.objects.all()}
    assert sorted(rows) == ["alice@alpha.example", "bob@beta.example", "ops@carol.example"]
    assert sorted(returned["first"]) == sorted([rows["ops@carol.example"], rows["alice@alpha.example"]])
    assert returned["second"] == [rows["bob@beta.example"]]  # not the row the first one inserted
    assert sorted(published) == sorted(rows.values())  # each row handed to a worker exactly once


def _deliver_on_schedule(email_id: int, *, until: datetime) -> list[datetime]:
    """Do what the row's own retry chain does: one attempt at each `next_attempt_at`, until it is final."""
    attempts = []
    row = OutboundEmail.objects.get(pk=email_id)
    while row.status == Status.QUEUED and row.next_attempt_at <= until:
        attempts.append(row.next_attempt_at)
        email_send(email_id=email_id, now=row.next_attempt_at)
        row.refresh_from_db()
    return attempts


def test_a_message_gives_up_on_its_horizon_not_after_a_count_of_attempts(world, settings):
    settings.EMAIL_OUTBOX_BACKOFF_BASE_S, settings.EMAIL_OUTBOX_BACKOFF_CAP_S = 60, 1800
    assert settings.EMAIL_OUTBOX_GIVE_UP_AFTER_S == 24 * 3600  # the default
    use_smtp(settings, free_port())  # the mail server is down all day
    [email_id] = _enqueue(world.provider_a)
    attempts = _deliver_on_schedule(email_id, until=NOW + timedelta(days=2))
    row = OutboundEmail.objects.get(pk=email_id)
    assert row.status == Status.FAILED
    assert row.failed_at == NOW + timedelta(hours=24)  # the last attempt is on the horizon itself
    assert attempts[-1] == NOW + timedelta(hours=24) and row.attempts == len(attempts) > 6
    gaps = [(b - a).total_seconds() for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[:6] == [60, 120, 240, 480, 960, 1800] and max(gaps) == 1800  # the backoff, capped
    assert row.last_error == "Given up after 24 h of attempts. Could not reach the mail server (Connection refused)."


def test_a_message_queued_while_the_server_is_down_is_sent_when_it_recovers_within_the_day(world, settings,
                                                                                           smtp_server):
    port = settings.EMAIL_PORT
    use_smtp(settings, free_port())
    [email_id] = _enqueue(world.provider_a)
    _deliver_on_schedule(email_id, until=NOW + timedelta(hours=5))  # five hours of refused connections
    assert OutboundEmail.objects.get(pk=email_id).status == Status.QUEUED  # on main: failed after 6 attempts
    use_smtp(settings, port)
    _deliver_on_schedule(email_id, until=NOW + timedelta(hours=6))
    assert OutboundEmail.objects.get(pk=email_id).status == Status.SENT
    assert smtp_server.to() == ["ops@carol.example"]


def test_the_provider_is_told_by_an_alert_and_it_clears_when_the_mail_is_sent_again(
    world, settings, smtp_server, django_capture_on_commit_callbacks, client
):
    smtp_server.refuse["gone@carol.example"] = "550 5.1.1 No such user"
    [gone] = _enqueue(world.provider_a, ["gone@carol.example"])
    assert email_send(email_id=gone, now=NOW).outcome == "failed"
    assert alerts_evaluate_undelivered_mail(now=NOW + timedelta(minutes=2)) == {"opened": 1, "resolved": 0}
    alert = Alert.objects.get(kind=AlertKind.EMAIL_UNDELIVERED)
    assert (alert.provider_id, alert.account_id, alert.resolved_at) == (world.provider_a.pk, None, None)
    assert alert.message == (
        "1 e-mail could not be delivered since 2026-03-31 23:30 UTC (the newest: The mail server refused the "
        "recipient (550 5.1.1 No such user).). Fix the cause (a recipient's address, or the mail server settings "
        "EMAIL_URL / DEFAULT_FROM_EMAIL), then send them again: python manage.py email_retry_failed --provider "
        "alpha --all")
    # Alpha's staff see it on their Alerts page whatever the mail server does …
    login_verified(client, world.alice)
    page = client.get("/p/alpha/alerts/")
    assert page.status_code == 200 and "1 e-mail could not be delivered" in page.content.decode()
    # … and get its notice through the outbox; Beta sees nothing.
    notices = OutboundEmail.objects.filter(dedupe_key=f"alert:{alert.pk}:open")
    assert set(notices.values_list("provider_id", flat=True)) == {world.provider_a.pk}
    assert "alice@alpha.example" in set(notices.values_list("recipient", flat=True))
    assert not Alert.objects.filter(provider=world.provider_b).exists()
    # Another failure while it is open: still one alert.
    [other] = _enqueue(world.provider_a, ["gone@carol.example"], key="notice:2")
    email_send(email_id=other, now=NOW + timedelta(minutes=3))
    assert alerts_evaluate_undelivered_mail(now=NOW + timedelta(minutes=4)) == {"opened": 0, "resolved": 0}
    # The operator fixes the address book and sends them again: the alert resolves.
    smtp_server.refuse.clear()
    alice = world.scope(world.alice, world.provider_a)
    with django_capture_on_commit_callbacks(execute=False):
        assert sorted(email_retry_failed(scope=alice, email_ids=[gone, other], now=NOW + timedelta(minutes=5))) == \
            sorted([gone, other])
    row = OutboundEmail.objects.get(pk=gone)
    assert (row.failed_at, row.give_up_at) == (None, NOW + timedelta(minutes=5, hours=24))  # a fresh horizon
    assert alerts_evaluate_undelivered_mail(now=NOW + timedelta(minutes=6)) == {"opened": 0, "resolved": 1}
    assert Alert.objects.get(pk=alert.pk).resolved_at == NOW + timedelta(minutes=6)


def test_an_old_failure_no_longer_holds_the_alert_open(world, smtp_server, settings):
    settings.EMAIL_OUTBOX_FAILED_ALERT_DAYS = 7
    smtp_server.refuse["*"] = "550 5.1.1 No such user"
    [email_id] = _enqueue(world.provider_a)
    email_send(email_id=email_id, now=NOW)
    assert alerts_evaluate_undelivered_mail(now=NOW + timedelta(days=6))["opened"] == 1
    assert alerts_evaluate_undelivered_mail(now=NOW + timedelta(days=8))["resolved"] == 1
