"""The white label in a real browser (Debian's chromium): the branded sign-in on the provider's own domain (the
domain mapped to loopback for the browser) and the Settings page's Brand section, at 1366 px and 390 px; the
brand's stylesheet and logo load under the strict CSP with no error and no request to another host."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from portal.hosts import ProviderDomainHosts
from tenants.brand import provider_domains_forget
from tenants.services.brand import provider_brand_image_set, provider_brand_set
from tests.access.test_browser_flow import CHROMIUM, LAUNCH_ARGS, SHOTS
from tests.fixtures.access import totp_device_for
from tests.fixtures.tenancy import PASSWORD
from tests.portal.browser import Watch, staff_sign_in

pytestmark = pytest.mark.xdist_group("browser")
DOMAIN = "mining.alpha-hosting.example"


@pytest.fixture
def branded(world, settings):
    settings.ALLOWED_HOSTS = ProviderDomainHosts(["localhost", "127.0.0.1", "testserver"])
    scope = world.scope(world.alice, world.provider_a)
    provider_brand_set(scope=scope, display_name="Alpha Cloud Mining", accent_colour="#14532d",
                       accent_text_colour="#ffffff", support_email="help@alpha-hosting.example",
                       custom_domain=DOMAIN)
    logo = Image.new("RGB", (360, 90), (20, 83, 45))
    for x in range(20, 80):
        for y in range(20, 70):
            logo.putpixel((x, y), (250, 204, 21))
    out = io.BytesIO()
    logo.save(out, format="PNG")
    provider_brand_image_set(scope=scope, kind="logo", data=out.getvalue())
    provider_domains_forget()
    yield world
    provider_domains_forget()


@pytest.fixture
def browser(monkeypatch, live_server):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                 args=[*LAUNCH_ARGS, f"--host-resolver-rules=MAP {DOMAIN} 127.0.0.1"])


def _no_wider_than_viewport(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [1366, 390])
def test_branded_sign_in_on_the_providers_domain(branded, live_server, browser, width):
    port = live_server.url.rsplit(":", 1)[1]
    host = f"{DOMAIN}:{port}"
    page = browser.new_page(viewport={"width": width, "height": 800})
    watch = Watch(page, host)
    page.goto(f"http://{host}/login/")
    assert page.inner_text("h1") == "Sign in to Alpha Cloud Mining"
    assert page.title() == "Sign in · Alpha Cloud Mining"
    page.wait_for_function("() => document.querySelector('img.signin-logo').naturalWidth > 0")
    accent = page.evaluate("() => getComputedStyle(document.querySelector('main button')).backgroundColor")
    assert accent == "rgb(20, 83, 45)"
    _no_wider_than_viewport(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"brand-sign-in-{width}.png"), full_page=True)
    # Another provider's owner is refused there with the wrong-password words.
    page.fill("#id_username", "bob@beta.example")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector(".errorlist")
    assert "Please enter a correct" in page.inner_text(".errorlist")
    # Chromium warns that COOP is ignored on a plain-http origin other than localhost (production is HTTPS).
    watch.errors = [e for e in watch.errors if "Cross-Origin-Opener-Policy" not in e]
    watch.assert_clean()


def test_settings_brand_section(branded, live_server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    host = live_server.url.split("//")[1]
    watch = Watch(page, host)
    staff_sign_in(page, live_server.url, "alice@alpha.example", PASSWORD, totp_device_for(branded.alice))
    page.wait_for_url("**/p/alpha/**")
    page.goto(f"{live_server.url}/p/alpha/settings/#brand")
    page.wait_for_selector("#brand-title")
    assert "Alpha Cloud Mining" in page.inner_text("header .brand")
    page.locator("#brand").screenshot(path=str(SHOTS / "brand-settings-1366.png"))
    # A colour people could not read is refused in words.
    page.fill("#id_accent_colour", "#93c5fd")
    page.click("#brand form[action$='/settings/brand/'] button[type=submit]")
    page.wait_for_selector("#brand .errorlist")
    assert "WCAG AA needs at least 4.5:1" in page.inner_text("#brand")
    page.locator("#brand").screenshot(path=str(SHOTS / "brand-settings-refused-1366.png"))
    page.set_viewport_size({"width": 390, "height": 900})
    _no_wider_than_viewport(page)
    page.screenshot(path=str(SHOTS / "brand-settings-390.png"), full_page=True)
    watch.errors = [e for e in watch.errors  # the refused form's own answer is a 400, on purpose
                    if not (e.startswith("400 ") or "status of 400 (Bad Request)" in e)]
    watch.assert_clean()
