"""Changing the second factor needs the password and a current code (issue 15 item 4).

A session can be borrowed (a laptop left open, a stolen cookie): on today's main an empty POST to the recovery-codes
page handed out ten new codes and voided the old ones. Each change (new recovery codes, turning it off, moving to a
new phone) now asks for the password and a current code (the app's, once per time step, or an unused recovery code);
a wrong or missing one is a field error in words and nothing changes. The clock is fixed, so the TOTP time steps
and django-otp's throttling (1 s, 2 s, 4 s … after failures) are the same at any hour.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.models import RecoveryCode
from tenants.services.two_factor import recovery_codes_issue
from tests.fixtures.access import login_verified, totp_code, totp_device_for
from tests.fixtures.tenancy import PASSWORD

START = dt.datetime(2026, 11, 3, 10, 0, 5, tzinfo=dt.UTC)  # 5 s into a 30 s time step
REGENERATE = "/account/two-factor/recovery-codes/"
DISABLE = "/account/two-factor/disable/"
SETUP = "/account/two-factor/setup/"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _codes_on_page(page) -> list[str]:
    return [c.decode() for c in re.findall(rb"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>",
                                           page.content)]


def _state(user) -> dict:
    """Everything a second-factor change could touch: devices, their last used step, the stored code hashes."""
    return {
        "devices": sorted(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed", "last_t")),
        "codes": sorted(RecoveryCode.objects.filter(device__user=user).values_list("code_hash", flat=True)),
    }


@pytest.fixture
def alice(world, client, clock):
    """Alice (staff) signed in and verified, with an authenticator and ten recovery codes."""
    device = totp_device_for(world.alice)
    codes = recovery_codes_issue(user=world.alice)
    login_verified(client, world.alice)
    return device, codes


@pytest.mark.parametrize("body, field_error", [
    ({}, b"Type your current password."),
    ({"current_password": PASSWORD}, b"Type the code your authenticator shows now, or a recovery code."),
    ({"current_password": "not-my-password", "current_code": "RIGHT"}, b"That is not your current password."),
    ({"current_password": PASSWORD, "current_code": "000000"}, b"That code is not right, or it was already used"),
    ({"current_password": PASSWORD, "current_code": "AAAA-BBBB-CCCC-DDDD"}, b"That code is not right"),
])
def test_new_recovery_codes_are_refused_without_the_password_and_a_current_code(world, client, alice, body,
                                                                                 field_error):
    device, codes = alice
    if body.get("current_code") == "RIGHT":  # a right code with a wrong password is not even looked at
        body = {**body, "current_code": totp_code(device)}
    if body.get("current_code") == "000000" and totp_code(device) == "000000":
        body = {**body, "current_code": "000001"}
    before = _state(world.alice)
    page = client.post(REGENERATE, body)
    assert page.status_code == 200 and field_error in page.content
    assert _codes_on_page(page) == []  # no new codes shown
    assert _state(world.alice) == before  # the old codes and the authenticator's step are untouched
    assert not world.alice.security_events.filter(kind="recovery_codes_regenerate").exists()


def test_new_recovery_codes_with_the_password_and_an_authenticator_code(world, client, alice, clock):
    device, old_codes = alice
    code = totp_code(device)
    page = client.post(REGENERATE, {"current_password": PASSWORD, "current_code": code})
    new_codes = _codes_on_page(page)
    assert page.status_code == 200 and len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert b"Your old codes no longer work" in page.content
    # The same code again, in the same time step: a replay, refused; the codes just made stay.
    after = _state(world.alice)
    replay = client.post(REGENERATE, {"current_password": PASSWORD, "current_code": code})
    assert b"already used" in replay.content and _codes_on_page(replay) == []
    assert _state(world.alice)["codes"] == after["codes"]


def test_new_recovery_codes_with_the_password_and_a_recovery_code(world, client, alice, clock):
    _device, old_codes = alice
    page = client.post(REGENERATE, {"current_password": PASSWORD, "current_code": old_codes[4].lower()})
    new_codes = _codes_on_page(page)
    assert len(new_codes) == 10 and RecoveryCode.objects.filter(device__user=world.alice).count() == 10
    # Any old code is void now, the one used included.
    from django.test import Client

    other = Client()
    other.post("/login/", {"username": "alice@alpha.example", "password": PASSWORD})
    for old in (old_codes[4], old_codes[0]):
        clock.shift(60)  # past any throttling: the code itself is refused
        assert other.post("/account/two-factor/verify/", {"code": old}).status_code == 200
    assert other.get("/p/alpha/").status_code == 302


def test_wrong_tries_are_throttled_and_a_password_guess_counts_as_one(world, client, alice, clock):
    device, _codes = alice
    before = _state(world.alice)
    client.post(REGENERATE, {"current_password": "guess-1", "current_code": "123456"})
    page = client.post(REGENERATE, {"current_password": PASSWORD, "current_code": totp_code(device)})
    assert b"Too many wrong tries: wait 1 second, then try again." in page.content
    assert _state(world.alice) == before
    clock.shift(2)
    page = client.post(REGENERATE, {"current_password": PASSWORD, "current_code": totp_code(device)})
    assert len(_codes_on_page(page)) == 10


def _carol_with_second_factor(world, client):
    device = totp_device_for(world.carol)
    codes = recovery_codes_issue(user=world.carol)
    login_verified(client, world.carol)
    return device, codes


@pytest.mark.parametrize("body, field_error", [
    ({}, b"Type your current password."),
    ({"current_password": PASSWORD}, b"Type the code your authenticator shows now"),
    ({"current_password": "not-my-password", "current_code": "RIGHT"}, b"That is not your current password."),
    ({"current_password": PASSWORD, "current_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}, b"That code is not right"),
])
def test_turning_it_off_is_refused_without_the_password_and_a_current_code(world, client, clock, body,
                                                                           field_error):
    device, _codes = _carol_with_second_factor(world, client)
    if body.get("current_code") == "RIGHT":
        body = {**body, "current_code": totp_code(device)}
    before = _state(world.carol)
    page = client.post(DISABLE, body)
    assert page.status_code == 200 and field_error in page.content
    assert _state(world.carol) == before and before["devices"]


def test_turning_it_off_with_the_password_and_a_current_code(world, client, clock):
    device, _codes = _carol_with_second_factor(world, client)
    page = client.post(DISABLE, {"current_password": PASSWORD, "current_code": totp_code(device)})
    assert page.status_code == 302
    assert _state(world.carol) == {"devices": [], "codes": []}
    assert b"Two-factor authentication is off" in client.get(page["Location"]).content


def test_staff_cannot_turn_it_off_even_with_password_and_code(world, client, alice):
    device, _codes = alice
    before = _state(world.alice)
    page = client.post(DISABLE, {"current_password": PASSWORD, "current_code": totp_code(device)})
    assert b"Provider staff must keep a second factor." in page.content
    assert _state(world.alice) == before  # refused before the code was looked at: not even its step is spent


@pytest.mark.parametrize("current", [{}, {"current_password": PASSWORD, "current_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"},
                                     {"current_password": "not-my-password", "current_code": "RIGHT"}])
def test_moving_to_a_new_phone_is_refused_without_the_password_and_a_current_code(world, client, alice, current):
    old, codes = alice
    if current.get("current_code") == "RIGHT":
        current = {**current, "current_code": codes[0]}
    client.get(SETUP)
    new = TOTPDevice.objects.get(user=world.alice, confirmed=False)
    before = _state(world.alice)
    page = client.post(SETUP, {"code": totp_code(new), **current})
    assert page.status_code == 200 and b"shown only now" not in page.content
    assert b"errorlist" in page.content
    after = _state(world.alice)
    assert TOTPDevice.objects.get(user=world.alice, confirmed=True).pk == old.pk
    assert after["codes"] == before["codes"]  # a recovery code given with a wrong password is not spent


def test_moving_to_a_new_phone_with_the_password_and_a_recovery_code(world, client, alice):
    old, codes = alice
    client.get(SETUP)
    new = TOTPDevice.objects.get(user=world.alice, confirmed=False)
    page = client.post(SETUP, {"code": totp_code(new), "current_password": PASSWORD, "current_code": codes[2]})
    assert b"shown only now" in page.content and len(_codes_on_page(page)) == 10
    assert list(TOTPDevice.objects.filter(user=world.alice).values_list("pk", flat=True)) == [new.pk]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_a_mistyped_new_code_spends_no_recovery_code(world, client, alice):
    _old, codes = alice
    client.get(SETUP)
    new = TOTPDevice.objects.get(user=world.alice, confirmed=False)
    wrong = "000000" if totp_code(new) != "000000" else "000001"
    before = _state(world.alice)["codes"]
    page = client.post(SETUP, {"code": wrong, "current_password": PASSWORD, "current_code": codes[1]})
    assert b"That code is not right" in page.content
    assert _state(world.alice)["codes"] == before
