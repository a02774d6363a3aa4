"""Sessions: a new key at sign-in, idle and absolute timeouts, deactivation and removed memberships take effect at
the next request, sign out everywhere, a password change or reset ends the other sessions, a reset link works once.

Timeouts are tested by dating the session's own timestamps back from the moment of the test: no sleeping, and the
same result at any hour."""

from __future__ import annotations

import re
import time

from django.test import Client

from portal.access_middleware import LAST_SEEN_KEY, STARTED_KEY
from tenants.services.team import staff_remove
from tests.access.helpers import link_in_last_mail
from tests.fixtures.access import login_verified
from tests.fixtures.mail import outbox_deliver
from tests.fixtures.tenancy import PASSWORD


def _age(client, key: str, seconds: float) -> None:
    session = client.session
    session[key] = time.time() - seconds
    session.save()


def test_the_session_key_changes_at_sign_in(world, client):
    session = client.session
    session["visited"] = True
    session.save()
    before = client.session.session_key
    client.post("/login/", {"username": "carol@carol.example", "password": PASSWORD})
    assert client.session.session_key != before and client.session["_auth_user_id"] == str(world.carol.pk)


def test_staff_are_signed_out_after_thirty_idle_minutes(world, client):
    login_verified(client, world.alice)
    assert client.get("/p/alpha/fleet/").status_code == 200
    _age(client, LAST_SEEN_KEY, 29 * 60)
    assert client.get("/p/alpha/fleet/").status_code == 200  # 29 minutes idle: still in, and the clock restarts
    _age(client, LAST_SEEN_KEY, 31 * 60)
    page = client.get("/p/alpha/fleet/")
    assert page.status_code == 302 and page["Location"].startswith("/login/")
    assert b"without activity" in client.get(page["Location"]).content


def test_activity_is_recorded_at_most_once_a_minute(world, client):
    """A page within a minute of the last recorded activity does not write the session (one UPDATE fewer per
    page); after a minute it does, so the idle limit stays exact to within a minute."""
    login_verified(client, world.alice)
    client.get("/p/alpha/fleet/")
    _age(client, LAST_SEEN_KEY, 20)
    recorded = client.session[LAST_SEEN_KEY]
    client.get("/p/alpha/fleet/")
    assert client.session[LAST_SEEN_KEY] == recorded
    _age(client, LAST_SEEN_KEY, 61)
    recorded = client.session[LAST_SEEN_KEY]
    client.get("/p/alpha/fleet/")
    assert client.session[LAST_SEEN_KEY] > recorded + 60


def test_customers_have_their_own_idle_limit(world, client, settings):
    settings.ACCESS_CUSTOMER_IDLE_TIMEOUT_S = 2 * 3600
    client.force_login(world.carol)
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    _age(client, LAST_SEEN_KEY, 90 * 60)
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    _age(client, LAST_SEEN_KEY, 121 * 60)
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 302


def test_the_absolute_limit_ends_even_an_active_session(world, client):
    client.force_login(world.carol)
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    _age(client, STARTED_KEY, 12 * 3600 + 1)
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 302


def test_a_deactivated_user_is_out_at_the_next_request(world, client):
    login_verified(client, world.alice)
    assert client.get("/p/alpha/fleet/").status_code == 200
    world.alice.is_active = False
    world.alice.save(update_fields=["is_active"])
    assert client.get("/p/alpha/fleet/")["Location"].startswith("/login/")


def test_a_removed_membership_ends_access_at_once(world, client):
    login_verified(client, world.dave)
    assert client.get("/p/alpha/fleet/").status_code == 200
    membership = world.dave.provider_memberships.get()
    staff_remove(scope=world.scope(world.alice, world.provider_a), membership_id=membership.pk)
    assert client.get("/p/alpha/fleet/").status_code == 404
    client.force_login(world.eve)
    assert client.get("/c/alpha/eve-hashing/dashboard/").status_code == 200
    world.eve.customer_memberships.all().delete()
    assert client.get("/c/alpha/eve-hashing/dashboard/").status_code == 404


def test_sign_out_everywhere_ends_every_session(world):
    laptop, phone = Client(), Client()
    for c in (laptop, phone):
        c.force_login(world.carol)
        assert c.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    assert phone.post("/account/sign-out-everywhere/").status_code == 302
    assert laptop.get("/c/alpha/carol-mining/dashboard/").status_code == 302
    assert phone.get("/c/alpha/carol-mining/dashboard/").status_code == 302
    assert b"signed out on every device" in laptop.get("/login/").content
    fresh = Client()
    assert fresh.login(username="carol@carol.example", password=PASSWORD)
    assert fresh.get("/c/alpha/carol-mining/dashboard/").status_code == 200  # a new sign-in is fine


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(world):
    here, elsewhere = Client(), Client()
    for c in (here, elsewhere):
        c.force_login(world.carol)
        assert c.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    bad = here.post("/account/password/", {"old_password": "wrong", "new_password1": "x", "new_password2": "y"})
    assert bad.status_code == 200 and b"errorlist" in bad.content
    new = "a-brand-new-long-passphrase-9"
    page = here.post("/account/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert page.status_code == 302
    assert here.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    assert elsewhere.get("/c/alpha/carol-mining/dashboard/").status_code == 302


def test_a_reset_link_works_once(world, client, django_capture_on_commit_callbacks):
    other = Client()
    other.force_login(world.carol)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client.post("/account/password/reset/", {"email": "CAROL@carol.example"})
    assert page.status_code == 302 and len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post("/account/password/reset/", {"email": "nobody@nowhere.example"})  # same answer, no mail
    assert not callbacks
    assert [r.outcome for r in outbox_deliver()] == ["sent"]  # the outbox sends it, like every message
    link = link_in_last_mail("carol@carol.example", r"http://\S+")
    path = re.sub(r"^https?://[^/]+", "", link)
    form_page = client.get(path, follow=True)
    assert b"Choose a new password" in form_page.content
    set_url = form_page.redirect_chain[-1][0]
    new = "a-brand-new-long-passphrase-9"
    assert client.post(set_url, {"new_password1": new, "new_password2": new}).status_code == 302
    world.carol.refresh_from_db()
    assert world.carol.check_password(new)
    again = Client().get(path, follow=True)
    assert b"This link does not work" in again.content
    assert other.get("/c/alpha/carol-mining/dashboard/").status_code == 302  # the reset ended the old sessions too
