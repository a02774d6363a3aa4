"""Brute force: failures count per (user, address); the sixth attempt from one address is refused with a clear
message while the same user from elsewhere still signs in; staff can unlock; a reset lifts it too."""

from __future__ import annotations

from axes.models import AccessAttempt

from tests.access.helpers import one_audit_entry
from tests.fixtures.access import login_verified
from tests.fixtures.tenancy import PASSWORD

ATTACKER = "203.0.113.9"
VICTIM = "198.51.100.20"


def _attempt(client, password, ip, username="carol@carol.example"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_the_sixth_failure_from_one_address_is_throttled_and_elsewhere_still_works(world, client):
    for _ in range(4):
        page = _attempt(client, "wrong-guess", ATTACKER)
        assert page.status_code == 200 and b"Please enter a correct" in page.content
    assert _attempt(client, "wrong-guess", ATTACKER).status_code == 429  # the fifth failure locks the pair
    page = _attempt(client, PASSWORD, ATTACKER)  # the sixth, even with the right password: refused
    assert page.status_code == 429
    assert b"Too many failed sign-ins" in page.content and b"Try again after" in page.content
    assert b"paused for 15 minutes" in page.content  # says when
    assert "_auth_user_id" not in client.session
    # The same user from another address is not locked out by the attacker.
    page = _attempt(client, PASSWORD, VICTIM)
    assert page.status_code == 302 and client.session["_auth_user_id"] == str(world.carol.pk)


def test_case_changes_do_not_dodge_the_count(world, client):
    for i in range(5):
        _attempt(client, "wrong", ATTACKER, username="Carol@Carol.example" if i % 2 else "carol@carol.example")
    assert _attempt(client, PASSWORD, ATTACKER, username="CAROL@carol.example").status_code == 429


def test_staff_unlock_a_member_and_it_is_audited(world, client):
    for _ in range(5):
        _attempt(client, "wrong", ATTACKER)
    assert _attempt(client, PASSWORD, ATTACKER).status_code == 429
    staff = client.__class__()
    login_verified(staff, world.alice)
    page = staff.get("/p/alpha/customers/carol-mining/users/")
    assert b"locked out" in page.content
    with one_audit_entry("user.lockout_clear"):
        assert staff.post(f"/p/alpha/users/{world.carol.pk}/unlock/").status_code == 302
    assert not AccessAttempt.objects.filter(username="carol@carol.example").exists()
    assert _attempt(client, PASSWORD, ATTACKER).status_code == 302


def test_read_only_staff_and_other_providers_cannot_unlock(world, client):
    for _ in range(5):
        _attempt(client, "wrong", ATTACKER)
    login_verified(client, world.dave)
    assert client.post(f"/p/alpha/users/{world.carol.pk}/unlock/").status_code == 403
    login_verified(client, world.bob)
    assert client.post(f"/p/beta/users/{world.carol.pk}/unlock/").status_code == 404
    assert AccessAttempt.objects.filter(username="carol@carol.example", failures_since_start=5).exists()
