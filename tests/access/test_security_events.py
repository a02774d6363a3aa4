"""Personal security events leave a trail (issue 15 item 9).

Each change to a person's sign-in (second factor on, replaced, off, reset by a teammate; new recovery codes; a
recovery code used; password changed or reset; signed out everywhere; a provider's pool secret replaced) is one
`SecurityEvent` of that person, shown on their security page, and one audit entry in each tenant it concerns:
every provider where they are staff, every customer they belong to elsewhere, or the provider whose pool secret was
replaced. An unrelated tenant gets nothing, and no password, code, key or secret is ever in either record.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants import services
from tenants.models import AuditEntry, CustomerRole, SecurityEvent
from tenants.services.two_factor import recovery_codes_issue, staff_second_factor_reset, totp_secret_b32
from tests.fixtures.access import login_verified, totp_code, totp_device_for
from tests.fixtures.tenancy import PASSWORD

START = dt.datetime(2026, 11, 3, 10, 0, 5, tzinfo=dt.UTC)
IP, AGENT = "198.51.100.23", "TestBrowser/1.0 (security trail)"
Kind = SecurityEvent.Kind


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(world, clock):
    """Dave: staff of A and a viewer of B's customer. Carol: admin of A's customer and a viewer of B's customer.
    Gamma (a third provider) has nothing to do with either."""
    services.customer_membership_grant(customer=world.customer_b1, user=world.dave, role=CustomerRole.VIEWER)
    services.customer_membership_grant(customer=world.customer_b1, user=world.carol, role=CustomerRole.VIEWER)
    gamma = services.provider_create(name="Gamma Hosting", slug="gamma", upstream_base_url="https://whitebit.com")
    return world, gamma


def _browser() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT)


def _last_entry_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _assert_trail(user, kind, *, since: int, tenants: set[tuple[int, int | None]], gamma, secrets=()) -> SecurityEvent:
    """Exactly one event of `kind` for `user`, from the browser's address; one `user.<kind>` entry in each tenant."""
    event = SecurityEvent.objects.get(user=user, kind=kind)
    assert event.ip == IP and event.user_agent == AGENT
    entries = list(AuditEntry.objects.filter(pk__gt=since, action=f"user.{kind.value}"))
    assert {(e.provider_id, e.customer_id) for e in entries} == tenants and len(entries) == len(tenants)
    for entry in entries:
        assert entry.actor_user_id == user.pk and entry.object_id == str(user.pk) and entry.ip_address == IP
        assert entry.changes["event"] == [None, kind.label]
    assert not AuditEntry.objects.filter(pk__gt=since, provider=gamma).exists()
    _no_secret(user, since, secrets)
    return event


def _no_secret(user, since: int, secrets) -> None:
    stored = str(list(SecurityEvent.objects.filter(user=user).values())) + str(
        list(AuditEntry.objects.filter(pk__gt=since).values()))
    for secret in [PASSWORD, *secrets]:
        assert secret and secret not in stored and secret.replace("-", "") not in stored


def _codes_on_page(page) -> list[str]:
    return [c.decode() for c in re.findall(rb"<code>([A-Z0-9]{4}(?:-[A-Z0-9]{4}){3})</code>", page.content)]


def test_enrolling_the_second_factor(people):
    world, gamma = people
    browser = _browser()
    browser.force_login(world.dave)
    browser.get("/account/two-factor/setup/")
    device = TOTPDevice.objects.get(user=world.dave, confirmed=False)
    since = _last_entry_pk()
    page = browser.post("/account/two-factor/setup/", {"code": totp_code(device)})
    codes = _codes_on_page(page)
    assert len(codes) == 10
    event = _assert_trail(world.dave, Kind.SECOND_FACTOR_ENROL, since=since, gamma=gamma,
                          tenants={(world.provider_a.pk, None), (world.provider_b.pk, world.customer_b1.pk)},
                          secrets=[*codes, device.key, totp_secret_b32(device=device)])
    assert event.detail == {"codes_issued": 10}


def test_moving_to_a_new_phone(people):
    world, gamma = people
    old = totp_device_for(world.dave)
    browser = _browser()
    login_verified(browser, world.dave)
    browser.get("/account/two-factor/setup/")
    new = TOTPDevice.objects.get(user=world.dave, confirmed=False)
    since = _last_entry_pk()
    page = browser.post("/account/two-factor/setup/", {"code": totp_code(new), "current_password": PASSWORD,
                                                       "current_code": totp_code(old)})
    codes = _codes_on_page(page)
    event = _assert_trail(world.dave, Kind.SECOND_FACTOR_REPLACE, since=since, gamma=gamma,
                          tenants={(world.provider_a.pk, None), (world.provider_b.pk, world.customer_b1.pk)},
                          secrets=[*codes, new.key, old.key, totp_code(old)])
    assert event.detail == {"confirmed_with": "authenticator code", "codes_issued": 10}


def test_new_recovery_codes(people):
    world, gamma = people
    totp_device_for(world.dave)
    old_codes = recovery_codes_issue(user=world.dave)
    browser = _browser()
    login_verified(browser, world.dave)
    since = _last_entry_pk()
    page = browser.post("/account/two-factor/recovery-codes/", {"current_password": PASSWORD,
                                                                "current_code": old_codes[0]})
    codes = _codes_on_page(page)
    assert len(codes) == 10
    event = _assert_trail(world.dave, Kind.RECOVERY_CODES_REGENERATE, since=since, gamma=gamma,
                          tenants={(world.provider_a.pk, None), (world.provider_b.pk, world.customer_b1.pk)},
                          secrets=[*codes, *old_codes])
    assert event.detail == {"confirmed_with": "recovery code", "codes_issued": 10}
    # The recovery code spent to confirm is an event of its own.
    assert SecurityEvent.objects.get(user=world.dave, kind=Kind.RECOVERY_CODE_USE).detail == {"codes_left": 9}


def test_a_recovery_code_used_at_sign_in(people):
    world, gamma = people
    totp_device_for(world.dave)
    codes = recovery_codes_issue(user=world.dave)
    browser = _browser()
    browser.post("/login/", {"username": "dave@alpha.example", "password": PASSWORD})
    since = _last_entry_pk()
    assert browser.post("/account/two-factor/verify/", {"code": codes[5]}).status_code == 302
    _assert_trail(world.dave, Kind.RECOVERY_CODE_USE, since=since, gamma=gamma,
                  tenants={(world.provider_a.pk, None), (world.provider_b.pk, world.customer_b1.pk)},
                  secrets=codes)


def test_turning_the_second_factor_off(people):
    world, gamma = people
    device = totp_device_for(world.carol)
    browser = _browser()
    login_verified(browser, world.carol)
    since = _last_entry_pk()
    code = totp_code(device)
    assert browser.post("/account/two-factor/disable/", {"current_password": PASSWORD,
                                                         "current_code": code}).status_code == 302
    _assert_trail(world.carol, Kind.SECOND_FACTOR_DISABLE, since=since, gamma=gamma,
                  tenants={(world.provider_a.pk, world.customer_a1.pk), (world.provider_b.pk, world.customer_b1.pk)},
                  secrets=[device.key])


def test_a_password_change(people):
    world, gamma = people
    browser = _browser()
    login_verified(browser, world.dave)
    since = _last_entry_pk()
    new = "a-brand-new-long-passphrase-9"
    page = browser.post("/account/password/", {"old_password": PASSWORD, "new_password1": new,
                                               "new_password2": new})
    assert page.status_code == 302
    _assert_trail(world.dave, Kind.PASSWORD_CHANGE, since=since, gamma=gamma,
                  tenants={(world.provider_a.pk, None), (world.provider_b.pk, world.customer_b1.pk)}, secrets=[new])


def test_a_refused_password_change_leaves_no_event(people):
    world, _gamma = people
    browser = _browser()
    login_verified(browser, world.dave)
    since = _last_entry_pk()
    browser.post("/account/password/", {"old_password": "wrong", "new_password1": "x", "new_password2": "x"})
    assert not SecurityEvent.objects.filter(user=world.dave).exists()
    assert not AuditEntry.objects.filter(pk__gt=since).exists()


def test_a_password_reset_through_the_link(people):
    world, gamma = people
    browser = _browser()
    uid = urlsafe_base64_encode(force_bytes(world.carol.pk))
    form_page = browser.get(f"/account/password/reset/{uid}/{default_token_generator.make_token(world.carol)}/",
                            follow=True)
    set_url = form_page.redirect_chain[-1][0]
    since = _last_entry_pk()
    new = "a-brand-new-long-passphrase-9"
    assert browser.post(set_url, {"new_password1": new, "new_password2": new}).status_code == 302
    _assert_trail(world.carol, Kind.PASSWORD_RESET, since=since, gamma=gamma,
                  tenants={(world.provider_a.pk, world.customer_a1.pk), (world.provider_b.pk, world.customer_b1.pk)},
                  secrets=[new])


def test_signing_out_everywhere(people):
    world, gamma = people
    browser = _browser()
    login_verified(browser, world.dave)
    since = _last_entry_pk()
    assert browser.post("/account/sign-out-everywhere/").status_code == 302
    _assert_trail(world.dave, Kind.SIGN_OUT_EVERYWHERE, since=since, gamma=gamma,
                  tenants={(world.provider_a.pk, None), (world.provider_b.pk, world.customer_b1.pk)})


def test_replacing_the_pool_secret(people):
    """The event is the owner's; the provider's entry is the credentials write itself (one write, one entry)."""
    world, gamma = people
    since = _last_entry_pk()
    services.provider_credentials_set(provider=world.provider_a, api_key="alpha-key", scope=world.scope(
        world.alice, world.provider_a), api_secret="NEW-POOL-SECRET-PLAINTEXT")
    event = SecurityEvent.objects.get(user=world.alice)
    assert event.kind == Kind.POOL_SECRET_ROTATE and event.detail == {"provider": "Alpha Hosting"}
    entries = list(AuditEntry.objects.filter(pk__gt=since))
    assert [(e.action, e.provider_id, e.actor_user_id) for e in entries] == [
        ("provider.credentials_set", world.provider_a.pk, world.alice.pk)]
    assert entries[0].changes["api_secret_ciphertext"] == [None, "(changed, not recorded)"]
    _no_secret(world.alice, since, ["NEW-POOL-SECRET-PLAINTEXT", world.provider_a.api_secret_ciphertext])
    # Keeping the secret (blank) is no security event.
    services.provider_credentials_set(provider=world.provider_a, api_key="alpha-key-2", api_secret="",
                                      scope=world.scope(world.alice, world.provider_a))
    assert SecurityEvent.objects.filter(user=world.alice).count() == 1


def test_re_encrypting_the_pool_secrets_is_in_each_providers_log(people):
    world, gamma = people
    since = _last_entry_pk()
    assert services.provider_secrets_rotate() == 2  # Gamma has no secret
    entries = AuditEntry.objects.filter(pk__gt=since, action="provider.secret_reencrypt")
    assert sorted(e.provider_id for e in entries) == sorted([world.provider_a.pk, world.provider_b.pk])
    assert all(e.actor_label == "command:rotate_encryption_keys" for e in entries)


def test_a_teammates_reset_is_in_the_persons_trail(people):
    world, _gamma = people
    # Dave is also at B, so a reset by A is refused: a teammate who is wholly A's instead.
    frank = services.user_get_or_create(email="frank@alpha.example", password=PASSWORD)
    services.provider_membership_grant(provider=world.provider_a, user=frank, role="operator")
    totp_device_for(frank)
    staff_second_factor_reset(scope=world.scope(world.alice, world.provider_a), user_id=frank.pk)
    event = SecurityEvent.objects.get(user=frank)
    assert event.kind == Kind.SECOND_FACTOR_RESET and event.detail == {"by": "alice@alpha.example"}


def test_the_security_page_lists_the_own_trail_newest_first_twenty_a_page(people, clock):
    world, _gamma = people
    from tenants.services.security_events import security_event_record

    for i in range(25):
        clock.shift(60)
        security_event_record(user=world.dave, kind=Kind.SIGN_OUT_EVERYWHERE if i % 2 else Kind.PASSWORD_CHANGE,
                              detail={"codes_left": i})
    security_event_record(user=world.carol, kind=Kind.SECOND_FACTOR_DISABLE, detail={"codes_left": 99})
    browser = _browser()
    login_verified(browser, world.dave)
    page = browser.get("/account/security/").content.decode()
    shown = [int(n) for n in re.findall(r"Recovery codes left: (\d+)</div>", page)]
    assert shown == list(range(24, 4, -1))  # the 20 newest, newest first
    assert "Signed out everywhere" in page and "Password changed" in page
    assert "Two-factor authentication turned off" not in page and ": 99<" not in page  # not Carol's
    older = browser.get("/account/security/?page=2").content.decode()
    assert [int(n) for n in re.findall(r"Recovery codes left: (\d+)</div>", older)] == [4, 3, 2, 1, 0]


def test_a_platform_admin_replacing_a_pool_secret_in_the_admin(people):
    """The admin's change form goes through the same service: the provider's log and the admin's own trail."""
    world, _gamma = people
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root@platform.example", "root@platform.example", PASSWORD)
    browser = _browser()
    login_verified(browser, root)
    url = f"/admin/tenants/provider/{world.provider_a.pk}/change/"
    form = browser.get(url)
    assert form.status_code == 200
    prefix = re.search(rb'name="([\w-]+)-TOTAL_FORMS"', form.content).group(1).decode()
    data = {"name": "Alpha Hosting", "slug": "alpha", "timezone": "UTC", "upstream_base_url": "https://whitebit.com",
            "whitebit_api_key": "alpha-key", "api_secret": "ADMIN-NEW-SECRET-PLAINTEXT",
            f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000"}
    since = _last_entry_pk()
    page = browser.post(url, data)
    assert page.status_code == 302, page.content[:2000]
    world.provider_a.refresh_from_db()
    assert world.provider_a.reveal_api_secret() == "ADMIN-NEW-SECRET-PLAINTEXT"
    entries = list(AuditEntry.objects.filter(pk__gt=since))
    assert [(e.action, e.provider_id, e.actor_label) for e in entries] == [
        ("provider.credentials_set", world.provider_a.pk, "admin:root@platform.example")]
    event = SecurityEvent.objects.get(user=root)
    assert event.kind == Kind.POOL_SECRET_ROTATE and event.ip == IP
    _no_secret(root, since, ["ADMIN-NEW-SECRET-PLAINTEXT", world.provider_a.api_secret_ciphertext])
