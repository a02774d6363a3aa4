"""Dark mode and accessibility (issue 21), in Debian's Chromium: every page of each role's navigation, in the light
and the dark theme, at 1366 px and at 390 px, has no serious or critical axe-core violation, no element that widens
the page past the viewport, no JS error and no request to another host; the theme toggle overrides the system
setting and survives a reload. Screenshots in var/screenshots/theme-*.png."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from tenants import services
from tenants.models import CustomerRole, StaffRole
from tests.access.test_browser_flow import SHOTS, browser_page  # noqa: F401 (fixture)
from tests.fixtures.access import totp_device_for
from tests.portal.browser import Watch, sign_in, staff_sign_in

pytestmark = pytest.mark.xdist_group("browser")
PASSWORD = "portal-theme-passphrase-31"
WIDTHS = (1366, 390)
THEMES = ("light", "dark")
AXE = Axe()




def _nav_pages(page, base: str) -> list[str]:
    """Every page the role's navigation links to, from the landing page itself: a page added to the menu is
    walked without touching this test."""
    hrefs = page.eval_on_selector_all("nav.sub a[href]", "els => els.map(e => e.getAttribute('href'))")
    pages = [base]
    for href in hrefs:
        url = href if href.startswith("http") else base.split("/", 3)[0] + "//" + urlsplit(base).netloc + href
        if url not in pages:
            pages.append(url)
    return pages


def _serious(results) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def _walk(page, pages: list[str], role: str) -> list[str]:
    problems: list[str] = []
    for theme in THEMES:
        page.emulate_media(color_scheme=theme)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for n, url in enumerate(pages):
                page.goto(url)
                page.wait_for_load_state("networkidle")
                path = urlsplit(url).path
                wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                if wide > 0:
                    problems.append(f"{theme} {width}px {path}: the page is {wide}px wider than the viewport")
                problems += [f"{theme} {width}px {path}: {v}" for v in _serious(AXE.run(page))]
                if n < 3:
                    page.screenshot(path=str(SHOTS / f"theme-{role}-{theme}-{width}-{n}.png"), full_page=True)
    print("\n".join(problems))  # the whole list on failure (the assertion shows the first item only)
    return problems


def test_staff_pages_in_both_themes_and_both_widths_are_accessible(fleet, live_server, browser_page):  # noqa: F811
    pp, page = fleet, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    owner = services.user_get_or_create(email="owner@theme.example", password=PASSWORD)
    services.provider_membership_grant(provider=pp.provider, user=owner, role=StaffRole.OWNER)
    watch = Watch(page, urlsplit(live_server.url).netloc)
    staff_sign_in(page, live_server.url, "owner@theme.example", PASSWORD, totp_device_for(owner))
    page.wait_for_url(f"{live_server.url}/p/{pp.provider.slug}/fleet/")
    pages = _nav_pages(page, page.url) + [f"{live_server.url}/account/security/"]
    assert len(pages) >= 6
    assert _walk(page, pages, "staff") == []
    watch.assert_clean()


def test_customer_pages_in_both_themes_and_both_widths_are_accessible(fleet, live_server, browser_page):  # noqa: F811
    pp, page = fleet, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    user = services.user_get_or_create(email="admin@theme.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=user, role=CustomerRole.ADMIN)
    watch = Watch(page, urlsplit(live_server.url).netloc)
    sign_in(page, live_server.url, "admin@theme.example", PASSWORD)
    page.wait_for_url(f"{live_server.url}/c/{pp.provider.slug}/{pp.customer.slug}/dashboard/")
    pages = _nav_pages(page, page.url)
    assert len(pages) >= 4
    assert _walk(page, pages, "customer") == []
    watch.assert_clean()


def test_the_theme_toggle_overrides_the_system_setting_and_is_remembered(fleet, live_server, browser_page):  # noqa: F811
    pp, page = fleet, browser_page
    user = services.user_get_or_create(email="toggle@theme.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=user, role=CustomerRole.ADMIN)
    page.emulate_media(color_scheme="light")
    sign_in(page, live_server.url, "toggle@theme.example", PASSWORD)
    page.wait_for_url("**/dashboard/")
    page.wait_for_selector("[data-chart][data-drawn]")

    def background() -> str:
        return page.evaluate("() => getComputedStyle(document.body).backgroundColor")

    toggle = page.locator("[data-theme-toggle]")
    assert toggle.inner_text() == "Theme: system" and background() == "rgb(246, 248, 250)"
    toggle.click()  # system → dark, whatever the system says
    assert toggle.inner_text() == "Theme: dark" and background() == "rgb(13, 17, 23)"
    page.wait_for_selector("[data-chart][data-drawn]")  # the chart is drawn again in the dark palette
    page.screenshot(path=str(SHOTS / "theme-toggle-dark.png"), full_page=True)
    page.reload()
    assert page.get_attribute("html", "data-theme") == "dark" and background() == "rgb(13, 17, 23)"
    page.locator("[data-theme-toggle]").click()  # dark → light, even on a dark system
    page.emulate_media(color_scheme="dark")
    assert background() == "rgb(246, 248, 250)"
    page.locator("[data-theme-toggle]").click()  # light → system: now dark
    assert page.locator("[data-theme-toggle]").inner_text() == "Theme: system"
    assert background() == "rgb(13, 17, 23)"
