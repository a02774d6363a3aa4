"""Second factor: required for staff before any staff or admin page, optional for customers, a code works once,
recovery codes work once and are stored hashed, a teammate's reset needs manage_staff and is audited."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.models import RecoveryCode, RecoveryCodeDevice
from tenants.services.two_factor import staff_second_factor_reset
from tests.access.helpers import one_audit_entry
from tests.fixtures.access import login_verified, totp_code, totp_device_for
from tests.fixtures.tenancy import PASSWORD


def _sign_in(client, email):
    page = client.post("/login/", {"username": email, "password": PASSWORD})
    assert page.status_code == 302, page.content[:500]
    return page


def test_staff_without_an_authenticator_reach_only_enrolment(world, client, django_user_model):
    _sign_in(client, "alice@alpha.example")
    for path in ("/", "/p/alpha/fleet/", "/p/alpha/team/", "/p/alpha/audit/", "/admin/", "/account/security/",
                 "/c/alpha/carol-mining/dashboard/"):
        page = client.get(path)
        assert page.status_code == 302 and page["Location"].startswith("/account/two-factor/setup/"), path
    assert client.post("/p/alpha/team/", {"email": "x@alpha.example", "role": "owner"}).status_code == 302
    page = client.get("/account/two-factor/setup/")
    assert page.status_code == 200 and b"<svg" in page.content  # the QR code is drawn by us, inline
    assert b"https://" not in page.content.split(b"<svg")[1].split(b"</svg>")[0]  # no third-party image


def test_a_platform_admin_needs_the_second_factor_for_the_admin(db, client, django_user_model):
    django_user_model.objects.create_superuser("root@platform.example", "root@platform.example", PASSWORD)
    _sign_in(client, "root@platform.example")
    assert client.get("/admin/").status_code == 302
    device = TOTPDevice.objects.create(user=django_user_model.objects.get(), name="phone", confirmed=True)
    page = client.get("/admin/")
    assert page.status_code == 302 and page["Location"].startswith("/account/two-factor/verify/")
    client.post("/account/two-factor/verify/", {"code": totp_code(device)})
    assert client.get("/admin/").status_code == 200


def test_enrolment_with_a_code_from_the_app_then_recovery_codes_shown_once(world, client):
    _sign_in(client, "alice@alpha.example")
    client.get("/account/two-factor/setup/")
    device = TOTPDevice.objects.get(user=world.alice, confirmed=False)
    wrong = client.post("/account/two-factor/setup/", {"code": "000000" if totp_code(device) != "000000" else "1"})
    assert wrong.status_code == 200 and b"not right" in wrong.content
    with time_machine.travel(time.time() + 5, tick=False):  # past the wrong code's throttle (1 s)
        page = client.post("/account/two-factor/setup/", {"code": totp_code(device)})
    assert page.status_code == 200 and b"shown only now" in page.content
    codes = [c.decode() for c in __import__("re").findall(rb"<code>([A-Z0-9-]{19})</code>", page.content)]
    assert len(codes) == 10
    stored = list(RecoveryCode.objects.filter(device__user=world.alice).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not any(code.replace("-", "") in h for code in codes for h in stored)
    assert client.get("/p/alpha/fleet/").status_code == 200  # verified by the enrolment itself


def test_sign_in_needs_the_code_and_a_replayed_code_is_refused(world, client):
    device = totp_device_for(world.alice)
    _sign_in(client, "alice@alpha.example")
    page = client.get("/p/alpha/fleet/")
    assert page.status_code == 302 and page["Location"].startswith("/account/two-factor/verify/")
    code = totp_code(device)
    page = client.post("/account/two-factor/verify/?next=/p/alpha/", {"code": code, "next": "/p/alpha/fleet/"})
    assert page.status_code == 302 and page["Location"] == "/p/alpha/fleet/"
    assert client.get("/p/alpha/fleet/").status_code == 200
    # Someone who saw the code and the password tries it in another browser: refused.
    from django.test import Client

    other = Client()
    _sign_in(other, "alice@alpha.example")
    page = other.post("/account/two-factor/verify/", {"code": code})
    assert page.status_code == 200 and b"already used" in page.content
    assert other.get("/p/alpha/fleet/").status_code == 302


def test_a_recovery_code_works_once(world, client):
    from tenants.services.two_factor import recovery_codes_issue

    totp_device_for(world.alice)
    codes = recovery_codes_issue(user=world.alice)
    _sign_in(client, "alice@alpha.example")
    assert client.post("/account/two-factor/verify/", {"code": codes[3].lower()}).status_code == 302
    assert client.get("/p/alpha/fleet/").status_code == 200
    assert RecoveryCode.objects.filter(device__user=world.alice).count() == 9
    from django.test import Client

    other = Client()
    _sign_in(other, "alice@alpha.example")
    assert other.post("/account/two-factor/verify/", {"code": codes[3]}).status_code == 200
    assert other.get("/p/alpha/fleet/").status_code == 302
    assert RecoveryCode.objects.filter(device__user=world.alice).count() == 9  # a refused code consumes nothing


def test_customers_may_go_without_and_may_opt_in(world, client):
    _sign_in(client, "carol@carol.example")
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    device = TOTPDevice.objects.create(user=world.carol, name="phone", confirmed=True)
    client.logout()
    _sign_in(client, "carol@carol.example")
    assert client.get("/c/alpha/carol-mining/dashboard/")["Location"].startswith("/account/two-factor/verify/")
    client.post("/account/two-factor/verify/", {"code": totp_code(device)})
    assert client.get("/c/alpha/carol-mining/dashboard/").status_code == 200
    client.post("/account/two-factor/disable/", {"current_password": "wrong", "current_code": "123456"})
    assert TOTPDevice.objects.filter(user=world.carol).exists()  # a borrowed session alone cannot turn it off
    with time_machine.travel(time.time() + 60, tick=False):  # the next time step, past the wrong try's throttle
        page = client.post("/account/two-factor/disable/", {"current_password": PASSWORD,
                                                            "current_code": totp_code(device)})
        assert page.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.carol).exists()


def test_staff_cannot_turn_their_second_factor_off(world, client):
    login_verified(client, world.alice)
    client.post("/account/two-factor/disable/", {"current_password": PASSWORD})
    assert TOTPDevice.objects.filter(user=world.alice, confirmed=True).exists()


def test_moving_to_a_new_phone_needs_the_password(world, client):
    old = totp_device_for(world.alice)
    login_verified(client, world.alice)
    page = client.get("/account/two-factor/setup/")
    assert b"Your current password" in page.content
    new = TOTPDevice.objects.get(user=world.alice, confirmed=False)
    page = client.post("/account/two-factor/setup/", {"code": totp_code(new), "current_password": "wrong",
                                                      "current_code": totp_code(old)})
    assert b"not your current password" in page.content
    assert TOTPDevice.objects.get(user=world.alice, confirmed=True).pk == old.pk
    with time_machine.travel(time.time() + 5, tick=False):  # past the wrong password's throttle (1 s)
        page = client.post("/account/two-factor/setup/", {"code": totp_code(new), "current_password": PASSWORD,
                                                          "current_code": totp_code(old)})
    assert b"shown only now" in page.content
    assert TOTPDevice.objects.get(user=world.alice, confirmed=True).pk == new.pk


def test_a_teammate_reset_needs_manage_staff_and_is_audited(world, client):
    totp_device_for(world.dave)
    RecoveryCodeDevice.objects.create(user=world.dave, name="codes", confirmed=True).codes_generate(count=3)
    with pytest.raises(PermissionDenied):
        staff_second_factor_reset(scope=world.scope(world.dave, world.provider_a), user_id=world.alice.pk)
    with pytest.raises(ValidationError, match="your own"):
        staff_second_factor_reset(scope=world.scope(world.alice, world.provider_a), user_id=world.alice.pk)
    from django.http import Http404

    with pytest.raises(Http404):  # Bob (another provider) cannot touch Dave
        staff_second_factor_reset(scope=world.scope(world.bob, world.provider_b), user_id=world.dave.pk)
    login_verified(client, world.alice)
    membership = world.dave.provider_memberships.get()
    with one_audit_entry("user.second_factor_reset") as entries:
        page = client.post(f"/p/alpha/team/{membership.pk}/reset-second-factor/")
    assert page.status_code == 302
    assert entries[0].changes == {"second_factor": [True, False]} and entries[0].actor_user_id == world.alice.pk
    assert not TOTPDevice.objects.filter(user=world.dave).exists()
    assert not RecoveryCode.objects.filter(device__user=world.dave).exists()


def test_a_reset_is_refused_for_someone_who_is_staff_elsewhere_too(world):
    from tenants import services

    services.provider_membership_grant(provider=world.provider_b, user=world.dave, role="admin")
    totp_device_for(world.dave)
    with pytest.raises(ValidationError, match="also belongs to another organisation"):
        staff_second_factor_reset(scope=world.scope(world.alice, world.provider_a), user_id=world.dave.pk)
    assert TOTPDevice.objects.filter(user=world.dave).exists()
