"""Each channel against a loopback stub (issue 20): Slack, Teams, Discord, the signed webhook (verified with the
`standardwebhooks` library), Telegram (binding by `/start <code>`, then sendMessage), e-mail through the outbox;
retries keep one webhook-id, a killed or doubled worker never sends an event twice, a failing channel pauses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from standardwebhooks.webhooks import Webhook

from mining.models import AlertChannel, AlertDelivery, ChannelKind, TelegramBot
from mining.services.alert_channels import (
    alert_channel_create,
    alert_channel_test,
    telegram_bot_set,
    telegram_poll,
)
from mining.services.alert_transport import alert_deliveries_sweep, alert_delivery_send
from tenants.models import OutboundEmail
from tests.fixtures.mail import outbox_deliver
from tests.mining.alert_helpers import deliver_due

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(world):
    return world.scope(world.alice, world.provider_a)


def _create_and_test(scope, **kw):
    with time_machine.travel(NOW, tick=False):
        created = alert_channel_create(scope=scope, **kw)
        delivery_id = alert_channel_test(scope=scope, channel_id=created.channel.pk)
        outcomes = deliver_due()
    return created, AlertDelivery.objects.get(pk=delivery_id), outcomes


@pytest.mark.parametrize(("kind", "field"), [(ChannelKind.SLACK, "text"), (ChannelKind.DISCORD, "content"),
                                             (ChannelKind.TEAMS, "text")])
def test_chat_webhooks_get_the_message_in_their_own_shape(world, staff, alert_stub, kind, field):
    created, delivery, outcomes = _create_and_test(staff, kind=kind, name="Night shift",
                                                   url=alert_stub.base + "/hook/x")
    assert outcomes == ["sent"]
    [seen] = alert_stub.seen
    assert seen.path == "/hook/x" and "test of the channel “Night shift”" in seen.json()[field]
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 1 and delivery.log[0]["status"] == "200"
    channel = AlertChannel.objects.get(pk=created.channel.pk)
    assert alert_stub.base not in channel.target_encrypted and created.secret == ""  # the URL is stored encrypted


def test_the_generic_webhook_is_signed_per_standard_webhooks(world, staff, alert_stub):
    created, delivery, _ = _create_and_test(staff, kind=ChannelKind.WEBHOOK, name="Our NOC",
                                            url=alert_stub.base + "/in")
    assert created.secret.startswith("whsec_")
    assert created.secret not in AlertChannel.objects.get(pk=created.channel.pk).secret_encrypted
    [seen] = alert_stub.seen
    assert seen.headers["webhook-id"] == delivery.webhook_id
    with time_machine.travel(NOW, tick=False):
        body = Webhook(created.secret).verify(seen.body, seen.headers)
    assert body["type"] == "test" and body["data"]["test"] is True and "title" in body["data"]
    with pytest.raises(Exception, match="signature"), time_machine.travel(NOW, tick=False):
        Webhook("whsec_" + "A" * 43).verify(seen.body, seen.headers)  # another secret does not verify


def test_telegram_binds_a_chat_by_code_then_sends_to_it(world, staff, alert_stub):
    with pytest.raises(ValidationError, match="Telegram bot"):
        alert_channel_create(scope=staff, kind=ChannelKind.TELEGRAM, name="Ops chat")
    telegram_bot_set(scope=staff, token="123456:ABC-secret-token")
    assert "ABC-secret-token" not in TelegramBot.objects.get().token_encrypted
    with time_machine.travel(NOW, tick=False):
        created = alert_channel_create(scope=staff, kind=ChannelKind.TELEGRAM, name="Ops chat")
        assert created.channel.status == "pending" and len(created.bind_code) == 8
        with pytest.raises(ValidationError, match="Bind the chat"):
            alert_channel_test(scope=staff, channel_id=created.channel.pk)
        alert_stub.updates = [
            {"update_id": 7, "message": {"text": "/start wrongcode", "chat": {"id": 111}}},
            {"update_id": 8, "message": {"text": f"/start {created.bind_code}", "chat": {"id": 4242}}},
        ]
        assert telegram_poll() == {"read": 2, "bound": 1}
        assert telegram_poll() == {"read": 0, "bound": 0}  # the offset moved on: nothing read twice
    channel = AlertChannel.objects.get(pk=created.channel.pk)
    assert channel.status == "active" and channel.chat_id == "4242" and TelegramBot.objects.get().update_offset == 9
    [confirmation] = alert_stub.posts("/sendMessage")
    assert confirmation.path == "/bot123456:ABC-secret-token/sendMessage" and confirmation.json()["chat_id"] == 4242
    with time_machine.travel(NOW, tick=False):
        alert_channel_test(scope=staff, channel_id=channel.pk)
        assert deliver_due() == ["sent"]
    sent = alert_stub.posts("/sendMessage")[-1].json()
    assert sent["chat_id"] == "4242" and sent["text"].startswith("Test message from the portal")


def test_a_used_or_expired_code_binds_nothing(world, staff, alert_stub):
    telegram_bot_set(scope=staff, token="123456:ABC")
    with time_machine.travel(NOW, tick=False):
        created = alert_channel_create(scope=staff, kind=ChannelKind.TELEGRAM, name="Ops chat")
    alert_stub.updates = [{"update_id": 1, "message": {"text": f"/start {created.bind_code}", "chat": {"id": 9}}}]
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        assert telegram_poll()["bound"] == 0
    assert AlertChannel.objects.get(pk=created.channel.pk).status == "pending"


def test_the_email_channel_goes_through_the_outbox(world, staff, alert_stub):
    _, delivery, outcomes = _create_and_test(staff, kind=ChannelKind.EMAIL, name="NOC list",
                                             emails=["noc@alpha.example", "pager@alpha.example"])
    assert outcomes == ["sent"] and "outbox (2 messages)" in AlertDelivery.objects.get(pk=delivery.pk).last_answer
    outbox_deliver()
    assert sorted(m.to[0] for m in mail.outbox) == ["noc@alpha.example", "pager@alpha.example"]


def test_a_transient_failure_retries_with_backoff_and_the_same_webhook_id(world, staff, alert_stub):
    alert_stub.answers = [(503, "busy"), (502, "bad gateway")]
    created, delivery, outcomes = _create_and_test(staff, kind=ChannelKind.WEBHOOK, name="NOC",
                                                   url=alert_stub.base + "/in")
    assert outcomes == ["retry"]
    delivery.refresh_from_db()
    assert delivery.status == "queued" and delivery.next_attempt_at == NOW + timedelta(seconds=30)
    assert alert_delivery_send(delivery_id=delivery.pk, now=NOW + timedelta(seconds=10)).outcome == "skipped"
    assert alert_delivery_send(delivery_id=delivery.pk, now=NOW + timedelta(seconds=31)).outcome == "retry"
    assert alert_delivery_send(delivery_id=delivery.pk, now=NOW + timedelta(seconds=95)).outcome == "sent"
    delivery.refresh_from_db()
    assert [e["status"] for e in delivery.log] == ["503", "502", "200"] and delivery.attempts == 3
    assert {s.headers["webhook-id"] for s in alert_stub.seen} == {delivery.webhook_id}  # one id on every retry


def test_a_killed_worker_or_a_doubled_task_never_sends_an_event_twice(world, staff, alert_stub):
    with time_machine.travel(NOW, tick=False):
        created = alert_channel_create(scope=staff, kind=ChannelKind.SLACK, name="S", url=alert_stub.base + "/s")
        delivery_id = alert_channel_test(scope=staff, channel_id=created.channel.pk)
    # A worker claims the delivery and is killed before it posts: the row is "sending" under its lease.
    AlertDelivery.objects.filter(pk=delivery_id).update(status="sending", claimed_until=NOW + timedelta(seconds=60),
                                                        attempts=1)
    assert alert_delivery_send(delivery_id=delivery_id, now=NOW + timedelta(seconds=5)).outcome == "skipped"
    assert alert_deliveries_sweep(now=NOW + timedelta(seconds=30)) == []  # the lease still holds
    assert alert_deliveries_sweep(now=NOW + timedelta(seconds=61)) == [delivery_id]  # re-enqueued after it
    # The redelivered task and a duplicate of it run: one post.
    outcomes = [alert_delivery_send(delivery_id=delivery_id, now=NOW + timedelta(seconds=62)).outcome
                for _ in range(2)]
    assert outcomes == ["sent", "skipped"] and len(alert_stub.seen) == 1
    assert AlertDelivery.objects.get(pk=delivery_id).attempts == 2


def test_a_channel_that_keeps_failing_is_paused_and_its_owner_told(world, staff, alert_stub):
    alert_stub.default = (404, "no_such_hook")
    with time_machine.travel(NOW, tick=False):
        created = alert_channel_create(scope=staff, kind=ChannelKind.SLACK, name="Old hook",
                                       url=alert_stub.base + "/gone")
        for i in range(3):
            with time_machine.travel(NOW + timedelta(seconds=i), tick=False):
                alert_channel_test(scope=staff, channel_id=created.channel.pk)
                assert deliver_due() == ["failed"]  # a 404 is permanent: no retry
    channel = AlertChannel.objects.get(pk=created.channel.pk)
    assert channel.status == "paused" and "404" in channel.paused_reason
    [notice] = OutboundEmail.objects.filter(subject__startswith="Alert channel paused")
    assert notice.recipient == "alice@alpha.example" and "failed 3 times in a row" in notice.body
    first = AlertDelivery.objects.filter(channel=channel).order_by("pk").first()
    assert first.log[0]["answer"].startswith("The channel answered 404: no_such_hook")


def test_fields_are_checked_and_outsiders_get_404(world, staff):
    with pytest.raises(ValidationError) as exc:
        alert_channel_create(scope=staff, kind=ChannelKind.SLACK, name="", url="ftp://x")
    assert set(exc.value.message_dict) == {"name", "url"}
    created = alert_channel_create(scope=staff, kind=ChannelKind.EMAIL, name="x", emails=["a@alpha.example"])
    with pytest.raises(Http404):
        alert_channel_test(scope=world.scope(world.bob, world.provider_b), channel_id=created.channel.pk)
    with pytest.raises(PermissionDenied):
        alert_channel_create(scope=world.scope(world.dave, world.provider_a), kind=ChannelKind.EMAIL, name="x",
                             emails=["a@alpha.example"])


def test_a_customer_admin_manages_its_own_channels_only(world):
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    mine = alert_channel_create(scope=carol, kind=ChannelKind.EMAIL, name="Ours", emails=["ops@carol.example"],
                                customer_id=world.customer_a2.pk)  # a customer cannot aim at another customer
    assert mine.channel.customer_id == world.customer_a1.pk
    staff_channel = alert_channel_create(scope=world.scope(world.alice, world.provider_a), kind=ChannelKind.EMAIL,
                                         name="Staff", emails=["noc@alpha.example"])
    with pytest.raises(Http404):
        alert_channel_test(scope=carol, channel_id=staff_channel.channel.pk)
    with pytest.raises(PermissionDenied):
        alert_channel_create(scope=world.scope(world.eve, world.provider_a, world.customer_a2), kind="email",
                             name="x", emails=["e@eve.example"])
