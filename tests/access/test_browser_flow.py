"""A real browser (Debian's chromium, driven by Playwright) walks a new staff member from the invitation e-mail
through choosing a password and enrolling an authenticator, signs out, and signs in again with a code.

Codes are computed from the device's key with django-otp's TOTP helper, for the time step the server expects next,
so the flow never waits for a clock. Screenshots land in var/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.services.invitations import invitation_create
from tests.fixtures.mail import outbox_deliver

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "a-long-and-unusual-passphrase-42"

pytestmark = pytest.mark.xdist_group("browser")


def _code_for_step(device: TOTPDevice, step_index: int) -> str:
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    generator.time = device.t0 + step_index * device.step
    return f"{generator.token():0{device.digits}d}"


def _current_code(device: TOTPDevice) -> str:
    import time

    return _code_for_step(device, int((time.time() - device.t0) // device.step))


@pytest.fixture
def browser_page(monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
    # Playwright's sync API keeps an event loop on this thread; the ORM calls below are still plain sync calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.set_default_timeout(15000)
        yield page
        browser.close()


def test_invitation_password_enrolment_sign_out_and_sign_in_with_a_code(world, live_server, settings, browser_page):
    settings.PORTAL_BASE_URL = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser_page
    invitation_create(scope=world.scope(world.alice, world.provider_a), email="newstaff@alpha.example",
                      role="operator")
    outbox_deliver()  # the outbox worker's job, run here
    link = re.search(r"http://\S+/account/invitation/\S+/", mail.outbox[-1].body).group(0)

    page.goto(link)
    assert "Join Alpha Hosting" in page.content()
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.screenshot(path=str(SHOTS / "01-invitation-choose-password.png"), full_page=True)
    page.click("main button[type=submit]")
    page.wait_for_url("**/account/two-factor/setup/")
    assert page.locator(".qr svg").count() == 1
    page.screenshot(path=str(SHOTS / "02-two-factor-setup.png"), full_page=True)

    device = TOTPDevice.objects.get(user__username="newstaff@alpha.example", confirmed=False)
    page.fill("#id_code", _current_code(device))
    page.click("main button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    page.screenshot(path=str(SHOTS / "03-recovery-codes.png"), full_page=True)
    page.click("text=I have saved them, continue")
    page.wait_for_url(f"{live_server.url}/p/alpha/fleet/")
    assert "Alpha Hosting" in page.content()
    page.screenshot(path=str(SHOTS / "04-staff-console.png"), full_page=True)

    page.click("text=Sign out")
    page.wait_for_url("**/login/")
    page.fill("#id_username", "newstaff@alpha.example")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/account/two-factor/verify/**")
    page.screenshot(path=str(SHOTS / "05-sign-in-code.png"), full_page=True)
    device.refresh_from_db()
    assert device.confirmed
    page.fill("#id_code", _code_for_step(device, device.last_t + 1))  # the enrolment code cannot be used again
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/p/alpha/fleet/")
    assert "newstaff@alpha.example" in page.content()
    page.screenshot(path=str(SHOTS / "06-signed-in-with-code.png"), full_page=True)
