"""A password reset is an outbox row like every other message (issue 18): sent by the outbox's task, retried when
the mail server refuses it, never lost, and carried by the tenant the person belongs to.

The mail server is a real SMTP server on loopback (`smtp_server`, aiosmtpd) spoken to by Django's SMTP backend;
the clock is fixed (the reset token and the outbox's schedule both read it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tenants import services
from tenants.models import OutboundEmail
from tests.fixtures.mail import outbox_deliver

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
Status = OutboundEmail.Status


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _ask_for_reset(address: str) -> None:
    page = Client().post("/account/password/reset/", {"email": address})
    assert page.status_code == 302  # the same answer whether or not the address has an account


def test_a_password_reset_survives_a_mail_server_that_refuses_it(world, smtp_server, clock):
    smtp_server.refuse["*"] = "451 4.3.0 Mail server busy, try again later"
    _ask_for_reset("carol@carol.example")
    row = OutboundEmail.objects.get(recipient="carol@carol.example")
    assert (row.provider_id, row.customer_id) == (world.provider_a.pk, world.customer_a1.pk)

    assert [r.outcome for r in outbox_deliver(now=NOW)] == ["retry"]  # refused: kept, not lost
    row.refresh_from_db()
    assert row.status == Status.QUEUED and row.attempts == 1 and "451" in row.last_error
    assert smtp_server.received == []

    smtp_server.refuse.clear()  # the server recovers; the next attempt is due after the outbox's backoff
    later = row.next_attempt_at
    clock.move_to(later)
    assert [r.outcome for r in outbox_deliver(now=later)] == ["sent"]
    [message] = smtp_server.received
    assert message.envelope_to == ["carol@carol.example"]
    body = message.message.get_payload(decode=True).decode()
    link = re.search(r"http://\S+/account/password/reset/\S+", body).group(0)

    browser = Client()
    form_page = browser.get(re.sub(r"^https?://[^/]+", "", link), follow=True)
    assert b"Choose a new password" in form_page.content  # the link delivered late still works (within its timeout)
    new = "a-brand-new-long-passphrase-9"
    done = browser.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    world.carol.refresh_from_db()
    assert world.carol.check_password(new)


def test_a_staff_reset_is_a_row_of_their_provider_and_a_stranger_gets_none(world, clock):
    _ask_for_reset("alice@alpha.example")
    _ask_for_reset("nobody@nowhere.example")
    loner = services.user_get_or_create(email="loner@nowhere.example", password="a-long-enough-passphrase-1")
    _ask_for_reset(loner.email)  # belongs to no tenant: no outbox carries it
    rows = list(OutboundEmail.objects.values_list("recipient", "provider_id", "customer_id"))
    assert rows == [("alice@alpha.example", world.provider_a.pk, None)]


def test_asking_twice_sends_two_links_and_both_go_through_the_outbox(world, clock):
    _ask_for_reset("alice@alpha.example")
    clock.shift(timedelta(seconds=5))  # a new token (its timestamp moved on), so a new row
    _ask_for_reset("alice@alpha.example")
    assert OutboundEmail.objects.filter(recipient="alice@alpha.example").count() == 2
    assert {r.outcome for r in outbox_deliver(now=NOW + timedelta(seconds=5))} == {"sent"}
