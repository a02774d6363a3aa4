"""The e-mail outbox: queued with the caller's write, sent once per recipient, retried, recovered, never lost.

Sending goes through Django's real SMTP backend to a real SMTP server on loopback (`smtp_server`), or through
the locmem backend where only the messages matter. Every clock is fixed: services take `now=`.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.exceptions import Retry
from celery.signals import after_task_publish
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from portal.celery import app
from tenants import tasks
from tenants.access import scope_for_system, scoped
from tenants.email import email_enqueue, email_outbox_sweep, email_retry_failed, email_send
from tenants.models import AuditEntry, OutboundEmail
from tests.fixtures.access import login_verified
from tests.fixtures.mail import free_port, outbox_deliver, use_smtp

NOW = datetime(2026, 2, 28, 23, 59, tzinfo=UTC)
Status = OutboundEmail.Status


@pytest.fixture
def published():
    """The send tasks this process handed to the (real) broker, as (task name, args)."""
    seen: list[tuple[str, list]] = []

    def record(sender=None, headers=None, body=None, **_):
        seen.append((headers["task"], list(body[0])))

    after_task_publish.connect(record, weak=False)
    yield seen
    after_task_publish.disconnect(record)


def _enqueue(world, recipients, *, key="notice:1", customer=None, now=NOW):
    return email_enqueue(provider_id=world.provider_a.pk, customer_id=customer.pk if customer else None,
                         recipients=recipients, subject="Hashrate is low", body="Site 1 is under its floor.",
                         dedupe_key=key, now=now)


def test_each_recipient_gets_a_message_of_their_own(world, smtp_server, django_capture_on_commit_callbacks,
                                                    published):
    with django_capture_on_commit_callbacks(execute=True):
        ids = _enqueue(world, ["a@one.example", "b@two.example", "c@three.example"])
    assert sorted(published) == sorted(("tenants.tasks.email_send_task", [i]) for i in ids)  # after commit
    assert {r.outcome for r in outbox_deliver(now=NOW)} == {"sent"}
    assert smtp_server.to() == ["a@one.example", "b@two.example", "c@three.example"]
    for item in smtp_server.received:
        assert len(item.envelope_to) == 1
        assert item.message["To"] == item.envelope_to[0] and item.message["Cc"] is None
        assert item.message["Subject"] == "Hashrate is low"
        assert item.message["Message-ID"].startswith("<outbox-")
    assert set(OutboundEmail.objects.values_list("status", "attempts", "sent_at")) == {(Status.SENT, 1, NOW)}


def test_queuing_the_same_notice_again_sends_it_once(world, django_capture_on_commit_callbacks, published):
    with django_capture_on_commit_callbacks(execute=True):
        first = _enqueue(world, ["ops@carol.example", "alice@alpha.example"])
        again = _enqueue(world, ["OPS@carol.example", "alice@alpha.example", "alice@alpha.example"])
    assert len(first) == 2 and again == []
    assert len(published) == 2
    outbox_deliver(now=NOW)
    for email_id in first:  # a duplicated task message finds nothing left to claim
        assert email_send(email_id=email_id, now=NOW).outcome == "skipped"
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@alpha.example", "ops@carol.example"]


def test_a_refused_notice_is_retried_with_backoff_and_sent_once(world, smtp_server, settings):
    settings.EMAIL_OUTBOX_BACKOFF_BASE_S = 60
    [email_id] = _enqueue(world, ["ops@carol.example"])
    smtp_server.refuse["*"] = "421 4.7.0 Too busy, come back later"
    result = email_send(email_id=email_id, now=NOW)
    assert (result.outcome, result.retry_in_s) == ("retry", 60)
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.status, row.attempts, row.next_attempt_at, row.sent_at) == (Status.QUEUED, 1, NOW + timedelta(
        seconds=60), None)
    assert row.last_error == "The mail server refused the recipient (421 4.7.0 Too busy, come back later)."
    assert email_send(email_id=email_id, now=NOW + timedelta(minutes=1)).retry_in_s == 120  # doubles
    smtp_server.refuse.clear()
    assert email_send(email_id=email_id, now=NOW + timedelta(minutes=3)).outcome == "sent"
    assert email_send(email_id=email_id, now=NOW + timedelta(minutes=4)).outcome == "skipped"
    assert smtp_server.to() == ["ops@carol.example"]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 3, "")


def test_a_permanent_refusal_fails_at_once_and_only_that_recipient(world, smtp_server):
    _enqueue(world, ["gone@carol.example", "ops@carol.example"])
    smtp_server.refuse["gone@carol.example"] = "550 5.1.1 No such user"
    assert sorted(r.outcome for r in outbox_deliver(now=NOW)) == ["failed", "sent"]
    gone = OutboundEmail.objects.get(recipient="gone@carol.example")
    assert (gone.status, gone.attempts) == (Status.FAILED, 1)
    assert gone.last_error == "The mail server refused the recipient (550 5.1.1 No such user)."
    assert smtp_server.to() == ["ops@carol.example"]


def test_an_unreachable_server_is_retried_then_marked_failed(world, settings):
    settings.EMAIL_OUTBOX_GIVE_UP_AFTER_S = 3600  # the horizon, not a count of attempts (issue 17)
    use_smtp(settings, free_port())  # nothing listens there
    [email_id] = _enqueue(world, ["ops@carol.example"])
    assert email_send(email_id=email_id, now=NOW).outcome == "retry"
    assert OutboundEmail.objects.get(pk=email_id).last_error == "Could not reach the mail server (Connection refused)."
    assert email_send(email_id=email_id, now=NOW + timedelta(hours=1)).outcome == "failed"
    assert email_send(email_id=email_id, now=NOW + timedelta(hours=2)).outcome == "skipped"
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.status, row.attempts) == (Status.FAILED, 2)


def test_a_server_that_never_answers_times_out_instead_of_hanging(world, settings):
    """No EMAIL_TIMEOUT configured: the outbox still bounds each SMTP call (issue 7, item 4)."""
    settings.EMAIL_OUTBOX_SEND_TIMEOUT_S = 1
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        use_smtp(settings, silent.getsockname()[1], timeout=None)
        [email_id] = _enqueue(world, ["ops@carol.example"])
        result = email_send(email_id=email_id, now=NOW)
    assert (result.outcome, result.error) == ("retry", "The mail server did not answer in time.")


def test_the_task_retries_transient_failures_and_reports_sends(world, settings):
    use_smtp(settings, free_port())
    # Queued now: the task attempts at the wall clock, well inside the message's give-up horizon.
    [email_id] = _enqueue(world, ["ops@carol.example"], now=timezone.now())
    with pytest.raises(Retry):
        tasks.email_send_task(email_id)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.email_send_task(email_id) == "skipped"  # the retry's countdown is not over: nothing is sent
    with time_machine.travel(OutboundEmail.objects.get(pk=email_id).next_attempt_at):
        assert tasks.email_send_task(email_id) == "sent"
    assert [m.to for m in mail.outbox] == [["ops@carol.example"]]


def test_the_tasks_survive_a_killed_worker_and_beat_sweeps_the_outbox():
    for task in (tasks.email_send_task, tasks.email_outbox_sweep_task):
        assert task.acks_late is True and task.reject_on_worker_lost is True
    # A stuck send is killed before its lease lets another worker claim the same row.
    assert tasks.email_send_task.time_limit < django_settings.EMAIL_OUTBOX_CLAIM_S
    assert django_settings.EMAIL_OUTBOX_SEND_TIMEOUT_S * 8 < tasks.email_send_task.time_limit
    # A retry's countdown stays under the broker's visibility timeout (or Redis would redeliver it early).
    assert django_settings.EMAIL_OUTBOX_BACKOFF_CAP_S < django_settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
        "visibility_timeout", 3600)
    entry = app.conf.beat_schedule["tenants-email-outbox-sweep"]
    assert entry["task"] == "tenants.tasks.email_outbox_sweep_task" and entry["task"] in app.tasks
    assert entry["schedule"] == float(django_settings.EMAIL_OUTBOX_SWEEP_EVERY_S)
    assert "tenants.tasks.email_send_task" in app.tasks


def test_a_lost_queue_is_recovered_by_the_sweep(world, settings, published):
    settings.EMAIL_OUTBOX_SWEEP_AFTER_S = 300
    # The commit's publish never reached a worker (a flushed broker): the row is all that is left.
    [email_id] = _enqueue(world, ["ops@carol.example"])
    assert email_outbox_sweep(now=NOW + timedelta(minutes=4)) == []  # its own task may still be on its way
    assert email_outbox_sweep(now=NOW + timedelta(minutes=6)) == [email_id]
    assert published == [("tenants.tasks.email_send_task", [email_id])]
    assert tasks.email_send_task(email_id) == "sent"
    assert email_outbox_sweep(now=NOW + timedelta(hours=1)) == []
    assert [m.to for m in mail.outbox] == [["ops@carol.example"]]


def test_a_killed_workers_message_is_picked_up_after_its_lease(world, settings):
    settings.EMAIL_OUTBOX_CLAIM_S = 300
    [email_id] = _enqueue(world, ["ops@carol.example"])
    # A worker claimed it and was killed before it could send or record anything.
    OutboundEmail.objects.filter(pk=email_id).update(status=Status.SENDING, attempts=1,
                                                     claimed_until=NOW + timedelta(minutes=5))
    assert email_send(email_id=email_id, now=NOW + timedelta(minutes=1)).outcome == "skipped"  # lease still held
    assert email_outbox_sweep(now=NOW + timedelta(minutes=1)) == []
    later = NOW + timedelta(minutes=6)
    assert email_outbox_sweep(now=later) == [email_id]
    assert email_send(email_id=email_id, now=later).outcome == "sent"
    assert [m.to for m in mail.outbox] == [["ops@carol.example"]]
    assert OutboundEmail.objects.get(pk=email_id).attempts == 2


def test_a_worker_killed_past_the_give_up_time_leaves_a_failed_row_not_a_loop(world, settings):
    settings.EMAIL_OUTBOX_GIVE_UP_AFTER_S = 3600
    [email_id] = _enqueue(world, ["ops@carol.example"])
    later = NOW + timedelta(hours=1)
    OutboundEmail.objects.filter(pk=email_id).update(status=Status.SENDING, attempts=3, claimed_until=later)
    assert email_outbox_sweep(now=later + timedelta(minutes=1)) == []
    row = OutboundEmail.objects.get(pk=email_id)
    assert row.status == Status.FAILED and "after its give-up time" in row.last_error
    assert row.failed_at == later + timedelta(minutes=1)
    assert mail.outbox == []


def test_bad_input_is_refused_field_by_field_and_queues_nothing(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError) as caught:
        email_enqueue(provider_id=world.provider_a.pk, customer_id=world.customer_b1.pk,
                      recipients=["ops@carol.example", "not-an-address"], subject="Two\nlines", body="x",
                      dedupe_key="k")
    assert set(caught.value.message_dict) == {"recipients", "subject", "customer_id"}
    assert "'not-an-address'" in caught.value.message_dict["recipients"][0]
    assert not OutboundEmail.objects.exists() and callbacks == []


def test_queued_mail_rolls_back_with_the_callers_write(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        _enqueue(world, ["ops@carol.example"])
        raise RuntimeError("the write that raised the notice fails")
    assert not OutboundEmail.objects.exists() and callbacks == []


def test_outbox_rows_are_tenant_owned(world):
    _enqueue(world, ["alice@alpha.example"], key="staff")
    _enqueue(world, ["carol@carol.example"], key="cust", customer=world.customer_a1)
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    assert list(scoped(OutboundEmail, carol).values_list("recipient", flat=True)) == ["carol@carol.example"]
    assert scoped(OutboundEmail, world.scope(world.bob, world.provider_b)).count() == 0
    assert scoped(OutboundEmail, world.scope(world.alice, world.provider_a)).count() == 2


def _failed_row(world, recipient="ops@carol.example", key="notice:1"):
    [email_id] = _enqueue(world, [recipient], key=key)
    OutboundEmail.objects.filter(pk=email_id).update(status=Status.FAILED, attempts=6, last_error="550 gone")
    return email_id


def test_an_operator_retries_failed_mail_and_it_is_audited(world, django_capture_on_commit_callbacks, published):
    email_id = _failed_row(world)
    alice = world.scope(world.alice, world.provider_a)
    with django_capture_on_commit_callbacks(execute=True):
        assert email_retry_failed(scope=alice, email_ids=[email_id], now=NOW) == [email_id]
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.status, row.attempts, row.last_error, row.next_attempt_at) == (Status.QUEUED, 0, "", NOW)
    assert published == [("tenants.tasks.email_send_task", [email_id])]
    entry = AuditEntry.objects.get(action="email.retry")
    assert (entry.actor_user_id, entry.object_id) == (world.alice.pk, str(email_id))
    assert entry.changes["status"] == ["failed", "queued"] and entry.changes["attempts"] == [6, 0]
    assert email_send(email_id=email_id, now=NOW).outcome == "sent"


def test_retrying_mail_that_is_not_failed_or_not_ours_changes_nothing(world):
    email_id = _failed_row(world)
    [queued_id] = _enqueue(world, ["alice@alpha.example"], key="other")
    bob_row = email_enqueue(provider_id=world.provider_b.pk, recipients=["bob@beta.example"], subject="s",
                            body="b", dedupe_key="k", now=NOW)[0]
    OutboundEmail.objects.filter(pk=bob_row).update(status=Status.FAILED)
    alice = world.scope(world.alice, world.provider_a)
    with pytest.raises(ValidationError) as caught:
        email_retry_failed(scope=alice, email_ids=[email_id, queued_id, bob_row], now=NOW)
    assert caught.value.message_dict["email_ids"] == [f"Not failed e-mail of this provider: {min(queued_id, bob_row)}"
                                                      f", {max(queued_id, bob_row)}."]
    assert OutboundEmail.objects.get(pk=email_id).status == Status.FAILED
    assert not AuditEntry.objects.filter(action="email.retry").exists()
    with pytest.raises(PermissionDenied):
        email_retry_failed(scope=world.scope(world.dave, world.provider_a), now=NOW)  # read-only staff


def test_the_retry_command_requeues_a_providers_failed_mail(world, capsys):
    email_id = _failed_row(world)
    with pytest.raises(CommandError):
        call_command("email_retry_failed", "--provider", "alpha")  # neither --all nor --id: refuse to guess
    call_command("email_retry_failed", "--provider", "alpha", "--all")
    assert "1 failed e-mail queued again" in capsys.readouterr().out
    assert OutboundEmail.objects.get(pk=email_id).status == Status.QUEUED
    assert AuditEntry.objects.get(action="email.retry").actor_label == "command:email_retry_failed"
    with pytest.raises(CommandError, match="No provider"):
        call_command("email_retry_failed", "--provider", "nope", "--all")


def test_dedupe_keys_belong_to_their_provider(world):
    """Two providers may use the same key for the same address; each gets its own message."""
    [a] = _enqueue(world, ["ops@shared.example"], key="invoice:1")
    [b] = email_enqueue(provider_id=world.provider_b.pk, recipients=["ops@shared.example"], subject="s", body="b",
                        dedupe_key="invoice:1", now=NOW)
    assert email_send(email_id=a, now=NOW).outcome == "sent"
    assert OutboundEmail.objects.get(pk=b).status == Status.QUEUED  # sending one row touches no other
    assert scoped(OutboundEmail, scope_for_system(provider_id=world.provider_b.pk)).get().pk == b


def test_superusers_see_the_outbox_in_the_admin_but_cannot_edit_it(world, client, django_user_model):
    [email_id] = _enqueue(world, ["ops@carol.example"])
    root = django_user_model.objects.create_superuser("root", "root@platform.example", "x")
    login_verified(client, root)  # the admin sits behind the second factor
    page = client.get("/admin/tenants/outboundemail/")
    assert page.status_code == 200 and b"ops@carol.example" in page.content
    assert client.get(f"/admin/tenants/outboundemail/{email_id}/change/").status_code == 200  # view only
    assert client.post(f"/admin/tenants/outboundemail/{email_id}/change/", {"status": "sent"}).status_code == 403
    assert client.post(f"/admin/tenants/outboundemail/{email_id}/delete/", {"post": "yes"}).status_code == 403
    assert OutboundEmail.objects.get(pk=email_id).status == Status.QUEUED


def test_last_error_never_records_the_mail_password(settings):
    """A server that echoes the login back in its refusal must not put the password into the outbox."""
    import smtplib

    from tenants.email import _classify

    settings.EMAIL_HOST_PASSWORD = "s3cret-mail-pass"
    permanent, why = _classify(smtplib.SMTPDataError(554, b"5.7.1 rejected for portal:s3cret-mail-pass"))
    assert permanent and "s3cret-mail-pass" not in why and why.startswith("The mail server refused the message (554")
