"""Issue 15 item 8: a payout change asks for a fresh second factor, is held for the provider's hold time with cancel
links e-mailed at once, and only then reaches the pool (the sandbox over HTTP), exactly once. Each of these failed
on main, where one form sent the change to the pool at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from billing.services.payouts import PayoutApplyRetry, payout_change_apply
from mining.models import MiningAccount, PayoutChange
from tenants import services
from tenants.models import AuditEntry, OutboundEmail, Provider, StaffRole
from tests.fixtures.access import login_verified
from tests.payouts.helpers import GOOD, OTHER, deliver, links_in_mail, pool_start, pool_stop, sweep, world_make


def _ask(client, pw, address=GOOD, **extra):
    return client.post(pw.base, {"account_id": pw.account.pk, "destination": "external_address", "address": address,
                                 **extra})


def test_the_code_is_required_and_a_wrong_or_replayed_one_holds_nothing(pw, client):
    admin = pw.users["admin"]
    login_verified(client, admin)
    page = client.get(pw.base).content.decode()
    assert 'name="code"' in page and "waits 24 hours before it is sent to the pool" in page

    missing = _ask(client, pw)
    assert missing.status_code == 400 and "Enter the 6-digit code" in missing.content.decode()
    wrong = _ask(client, pw, code="000000" if pw.code(admin) != "000000" else "111111")
    assert wrong.status_code == 400 and "That code is not right, or was already used" in wrong.content.decode()
    assert not PayoutChange.objects.exists() and not OutboundEmail.objects.exists()

    pw.clock.shift(timedelta(seconds=3))  # past django-otp's throttle after a wrong code
    code = pw.code(admin)
    held = _ask(client, pw, code=code)
    assert held.status_code == 302
    change = PayoutChange.objects.get()
    assert (change.status, change.address, change.requested_by_id) == ("held", GOOD, admin.pk)
    assert change.due_at == change.confirmed_at + timedelta(hours=24)
    replayed = _ask(client, pw, address=OTHER, code=code)  # the same code again, for another address
    assert replayed.status_code == 400 and "already used" in replayed.content.decode()
    assert PayoutChange.objects.count() == 1
    assert pw.edits() == 0 and pw.upstream()["externalAddress"] is None  # nothing reached the pool

    shown = client.get(pw.base).content.decode()
    assert f'data-payout-change="{change.pk}"' in shown and GOOD in shown and "admin@miner.example" in shown
    assert f"{change.due_at:%Y-%m-%d %H:%M}" in shown and "Cancel change" in shown


def test_an_admin_without_an_authenticator_confirms_by_the_e_mailed_link(pw, client):
    noapp = pw.users["noapp"]
    client.force_login(noapp)  # a customer user without a second factor: no code page
    page = client.get(pw.base).content.decode()
    assert 'name="code"' not in page and "E-mail me a confirmation link" in page
    assert _ask(client, pw).status_code == 302
    change = PayoutChange.objects.get()
    assert change.status == "requested" and change.due_at is None
    deliver()
    assert [m.to for m in mail.outbox] == [["noapp@miner.example"]]  # only the requester, until confirmed
    [confirm] = links_in_mail("noapp@miner.example", "confirm")
    assert confirm.split("/")[-2] not in str(list(change.tokens.values_list("token_hash", flat=True)))

    anonymous = Client()
    assert anonymous.get(confirm).status_code == 200  # opening the link (a mail scanner) changes nothing
    assert PayoutChange.objects.get().status == "requested"
    done = anonymous.post(confirm)
    assert done.status_code == 200 and "Confirmed" in done.content.decode()
    change.refresh_from_db()
    assert change.status == "held" and change.confirmed_by == "email"
    again = anonymous.post(confirm)
    assert again.status_code == 410 and "already used" in again.content.decode()

    deliver()
    told = sorted(to for m in mail.outbox if "held" in m.subject for to in m.to)
    assert told == ["noapp@miner.example", "ops@miner.example", "owner@pool.example", "staffadmin@pool.example"]
    cancels = [links_in_mail(to, "cancel") for to in told]
    assert all(len(c) == 1 for c in cancels) and len({c[0] for c in cancels}) == 4  # one link each
    assert pw.edits() == 0


def test_an_unconfirmed_link_expires_after_30_minutes(pw, client):
    client.force_login(pw.users["noapp"])
    _ask(client, pw)
    deliver()
    [confirm] = links_in_mail("noapp@miner.example", "confirm")
    pw.clock.shift(timedelta(minutes=31))
    expired = Client().post(confirm)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert sweep() == []
    assert PayoutChange.objects.get().status == "canceled"
    assert "Not confirmed within 30 minutes" in PayoutChange.objects.get().outcome


def test_nothing_reaches_the_pool_before_the_hold_ends_then_it_is_applied_once(pw, client):
    owner = pw.users["owner"]
    login_verified(client, owner)
    staff_page = client.get(pw.staff_base).content.decode()
    assert 'name="code"' in staff_page and "held for 24 hours" in staff_page
    asked = client.post(pw.staff_base, {"destination": "external_address", "address": GOOD,
                                        "customer_owns_address": "on", "code": pw.code(owner)})
    assert asked.status_code == 302
    change = PayoutChange.objects.get()
    assert f'data-payout-change="{change.pk}"' in client.get(pw.staff_base).content.decode()

    pw.clock.shift(timedelta(hours=23, minutes=59))
    assert sweep() == [] and payout_change_apply(provider_id=change.provider_id, change_id=change.pk) == "skipped"
    assert pw.edits() == 0 and pw.upstream() == {"payoutDestination": "main_balance", "externalAddress": None}

    pw.clock.shift(timedelta(minutes=2))
    assert sweep() == ["applied"]
    assert sweep() == [] and payout_change_apply(provider_id=change.provider_id, change_id=change.pk) == "skipped"
    assert pw.edits() == 1
    assert pw.upstream() == {"payoutDestination": "external_address", "externalAddress": GOOD}
    account = MiningAccount.objects.get(pk=pw.account.pk)
    assert (account.payout_address, account.upstream_payout_address, account.payout_drift) == (GOOD, GOOD, False)
    change.refresh_from_db()
    assert change.status == "applied" and change.attempts == 1 and "the pool pays the Bitcoin address" in change.outcome
    actions = list(AuditEntry.objects.filter(provider=pw.pp.provider).values_list("action", flat=True))
    assert {"payout_change.request", "payout_change.hold", "payout_change.applied",
            "mining_account.payout_destination_set"} <= set(actions)
    deliver()
    applied = [m for m in mail.outbox if "applied" in m.subject]
    assert sorted(t for m in applied for t in m.to) == ["ops@miner.example", "owner@pool.example",
                                                       "staffadmin@pool.example"]
    login_verified(client, owner)  # a day later: the session's absolute timeout has passed
    assert "Applied at" in client.get(pw.staff_base).content.decode()


def test_a_transient_pool_error_retries_and_a_refusal_is_recorded_in_words(pw, client):
    admin = pw.users["admin"]
    login_verified(client, admin)
    _ask(client, pw, code=pw.code(admin))
    change = PayoutChange.objects.get()
    pw.clock.shift(timedelta(hours=25))
    pw.pool.fault("/api/v4/mining/payout-destination/edit", "500", count=20)
    with pytest.raises(PayoutApplyRetry):  # the task retries this with backoff
        payout_change_apply(provider_id=change.provider_id, change_id=change.pk)
    change.refresh_from_db()
    assert change.status == "held" and "Retrying" in change.outcome and change.lease_token == ""
    pw.pool.clear_faults()
    assert sweep() == ["applied"] and pw.upstream()["externalAddress"] == GOOD

    # A refusal (here: the provider's key no longer works) is permanent: recorded as failed, in words, e-mailed.
    login_verified(client, admin)
    _ask(client, pw, address=OTHER, code=pw.code(admin))
    newer = PayoutChange.objects.get(status="held")
    provider = Provider.objects.get(pk=pw.pp.provider.pk)
    provider.set_api_secret("not-the-secret")
    provider.save(update_fields=["api_secret_ciphertext"])
    pw.clock.shift(timedelta(hours=25))
    assert sweep() == ["failed"]
    newer.refresh_from_db()
    assert newer.status == "failed" and "The pool refused it" in newer.outcome
    assert "Nothing was changed" in newer.outcome
    assert pw.upstream()["externalAddress"] == GOOD
    deliver()
    assert any("failed" in m.subject and newer.outcome in m.body for m in mail.outbox)


def test_a_newer_change_supersedes_the_pending_one(pw, client):
    admin = pw.users["admin"]
    login_verified(client, admin)
    _ask(client, pw, code=pw.code(admin))
    pw.clock.shift(timedelta(seconds=31))  # the next code
    _ask(client, pw, address=OTHER, code=pw.code(admin))
    old, new = PayoutChange.objects.order_by("pk")
    assert (old.status, new.status) == ("canceled", "held") and "Superseded" in old.outcome
    pw.clock.shift(timedelta(hours=25))
    assert sweep() == ["applied"] and pw.upstream()["externalAddress"] == OTHER and pw.edits() == 1


def test_cancel_link_works_once_and_any_admin_may_cancel_but_no_other_tenant(pw, client):
    admin, owner = pw.users["admin"], pw.users["owner"]
    login_verified(client, admin)
    _ask(client, pw, code=pw.code(admin))
    deliver()
    [link] = links_in_mail("ops@miner.example", "cancel")
    change = PayoutChange.objects.get()

    # Another provider's owner and another customer's admin: 404 on both cancel routes, the change stays held.
    bob = services.user_get_or_create(email="bob@other.example", password="x-long-password-1")
    other_provider = services.provider_create(name="Other", slug="other-pool",
                                             upstream_base_url="https://whitebit.com")
    services.provider_membership_grant(provider=other_provider, user=bob, role=StaffRole.OWNER)
    other = services.customer_create(provider=pw.pp.provider, name="Other Co", slug="other-co")
    mallory = services.user_get_or_create(email="mallory@other.example", password="x-long-password-1")
    services.customer_membership_grant(customer=other, user=mallory, role="admin")
    outsider = Client()
    login_verified(outsider, bob)
    assert outsider.post(f"/p/other-pool/payout-changes/{change.pk}/cancel/").status_code == 404
    assert outsider.post(f"/p/{pw.pp.provider.slug}/payout-changes/{change.pk}/cancel/").status_code == 404
    login_verified(outsider, mallory)
    assert outsider.post(f"/c/{pw.pp.provider.slug}/other-co/payout/changes/{change.pk}/cancel/").status_code == 404
    assert outsider.post(f"/c/{pw.pp.provider.slug}/miner-co/payout/changes/{change.pk}/cancel/").status_code == 404
    viewer = Client()
    viewer.force_login(pw.users["viewer"])
    assert viewer.post(f"{pw.base}changes/{change.pk}/cancel/").status_code == 403
    change.refresh_from_db()
    assert change.status == "held"

    anonymous = Client()
    page = anonymous.get(link).content.decode()
    assert "Cancel the change" in page and GOOD in page
    done = anonymous.post(link)
    assert done.status_code == 200 and "Canceled" in done.content.decode()
    assert anonymous.post(link).status_code == 410
    change.refresh_from_db()
    assert change.status == "canceled" and change.finished_by_label == "the cancel link e-mailed to ops@miner.example"
    assert AuditEntry.objects.get(action="payout_change.cancel").actor_label == \
        "the cancel link e-mailed to ops@miner.example"
    assert Client().get("/account/payout-change/cancel/not-a-token/").status_code == 404

    # The provider's owner cancels the next one on the staff route, the customer's admin another on theirs.
    for who, route in ((owner, f"/p/{pw.pp.provider.slug}/payout-changes/{{}}/cancel/"),
                       (admin, f"{pw.base}changes/{{}}/cancel/")):
        pw.clock.shift(timedelta(seconds=31))
        login_verified(client, admin)
        _ask(client, pw, code=pw.code(admin))
        pending = PayoutChange.objects.get(status="held")
        canceller = Client()
        login_verified(canceller, who)
        assert canceller.post(route.format(pending.pk)).status_code == 302
        pending.refresh_from_db()
        assert pending.status == "canceled" and pending.finished_by_label == who.email
    pw.clock.shift(timedelta(hours=25))
    assert sweep() == [] and pw.edits() == 0 and pw.upstream()["externalAddress"] is None
    deliver()
    assert any("canceled" in m.subject.lower() for m in mail.outbox)


def test_the_hold_time_is_a_setting_of_0_to_72_hours(pw, client):
    url = f"/p/{pw.pp.provider.slug}/settings/"
    login_verified(client, pw.users["operator"])
    assert "held for 24 hours" in client.get(url).content.decode()
    assert client.post(url, {"payout_hold_hours": "1"}).status_code == 403
    login_verified(client, pw.users["staffadmin"])
    for bad, words in (("73", "from 0 to 72 hours"), ("-1", "from 0 to 72 hours"), ("abc", "whole number"),
                       ("", "from 0 to 72 hours")):
        refused = client.post(url, {"payout_hold_hours": bad, "customers_may_change_payout": "on"})
        assert refused.status_code == 400 and words in refused.content.decode(), bad
    assert Provider.objects.get(pk=pw.pp.provider.pk).payout_hold_hours == 24
    assert not AuditEntry.objects.filter(action="provider.payout_hold_set").exists()
    assert client.post(url, {"payout_hold_hours": "0", "customers_may_change_payout": "on"}).status_code == 302
    assert Provider.objects.get(pk=pw.pp.provider.pk).payout_hold_hours == 0
    assert AuditEntry.objects.get(action="provider.payout_hold_set").changes == {"payout_hold_hours": [24, 0]}

    admin = pw.users["admin"]
    login_verified(client, admin)
    _ask(client, pw, code=pw.code(admin))
    change = PayoutChange.objects.get()
    assert change.due_at == change.confirmed_at  # no hold: the next sweep sends it
    assert sweep() == ["applied"] and pw.upstream()["externalAddress"] == GOOD


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_the_change_once(clock, fast_upstream_retries):
    pool = pool_start()
    try:
        pw = world_make(pool, clock)
        client = Client()
        login_verified(client, pw.users["admin"])
        assert _ask(client, pw, code=pw.code(pw.users["admin"])).status_code == 302
        change = PayoutChange.objects.get()
        clock.shift(timedelta(hours=25))
        barrier, results = threading.Barrier(2), []

        def worker():
            try:
                barrier.wait()
                results.append(payout_change_apply(provider_id=change.provider_id, change_id=change.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["applied", "skipped"]
        assert pw.edits() == 1 and pw.upstream()["externalAddress"] == GOOD
        assert AuditEntry.objects.filter(action="payout_change.applied").count() == 1
    finally:
        pool_stop(pool)


def test_a_staff_member_needs_the_code_too_and_a_viewer_cannot_ask(pw, client):
    client.force_login(pw.users["viewer"])
    assert _ask(client, pw).status_code == 403
    operator = pw.users["operator"]
    login_verified(client, operator)
    refused = client.post(pw.staff_base, {"destination": "external_address", "address": GOOD})
    assert refused.status_code == 200 and "Enter the 6-digit code" in refused.content.decode()
    assert not PayoutChange.objects.exists()


def test_a_change_for_an_account_that_moved_to_another_customer_is_not_sent(pw, client):
    from mining.services.accounts import mining_account_assign

    admin = pw.users["admin"]
    login_verified(client, admin)
    _ask(client, pw, code=pw.code(admin))
    other = services.customer_create(provider=pw.pp.provider, name="Next Co", slug="next-co")
    mining_account_assign(scope=pw.pp.scope, account_id=pw.account.pk, customer_id=other.pk)
    pw.clock.shift(timedelta(hours=25))
    assert sweep() == ["failed"]
    change = PayoutChange.objects.get()
    assert "moved to another customer" in change.outcome and pw.edits() == 0
