"""A share link's whole life in a real browser (Debian's chromium), as the customer's admin and the person they send it
to would see it: create (the URL shown once), open it without signing in (only the shared account, `noindex`), the
view counted on the admin's list, revoke, and the same URL answers 404 at once. At 1366 px and 390 px, no JS error, no
request to another host, no page wider than the viewport. Screenshots in var/screenshots/share-*.png."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from mining.models import ShareLink
from tests.access.test_browser_flow import CHROMIUM, LAUNCH_ARGS, SHOTS
from tests.fixtures.tenancy import PASSWORD
from tests.portal.browser import Watch, sign_in
from tests.portal.portal_rows import fleet_rows_add

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture
def browser(monkeypatch):
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


def _fits(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "wider than the viewport"


@pytest.mark.parametrize("width", [1366, 390])
def test_a_share_links_life_create_open_count_revoke(world, live_server, browser, width):
    now = timezone.now()
    shared, private = fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=2, now=now)
    host = urlsplit(live_server.url).netloc
    base = f"{live_server.url}/c/{world.provider_a.slug}/{world.customer_a1.slug}/"
    SHOTS.mkdir(parents=True, exist_ok=True)

    admin = browser.new_page(viewport={"width": width, "height": 900})
    admin.set_default_timeout(15000)
    admin_watch = Watch(admin, host)
    sign_in(admin, live_server.url, "carol@carol.example", PASSWORD)
    admin.wait_for_url(base + "dashboard/")
    admin.goto(base + "share-links/")
    assert "No share links yet." in admin.inner_text("#share-links-table")
    admin.fill("#id_name", "Investor Q4")
    admin.check(f"input[name=account_ids][value='{shared.pk}']")
    admin.check("input[name=level][value=workers]")
    admin.check("input[name=lifetime][value='7d']")
    admin.click("main button:has-text('Create share link')")
    admin.wait_for_selector("#share-created")
    url = admin.inner_text("#share-url").strip()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/s/[A-Za-z0-9_-]{{20,}}/", url), url
    assert ShareLink.objects.get(customer=world.customer_a1).token_hash not in url  # only a fingerprint is kept
    _fits(admin)
    admin.screenshot(path=str(SHOTS / f"share-01-created-{width}.png"), full_page=True)

    # The person the link is sent to: another browser context, no session, no cookie.
    visitor_context = browser.new_context(viewport={"width": width, "height": 900})
    visitor = visitor_context.new_page()
    visitor_watch = Watch(visitor, host)
    answer = visitor.goto(url)
    assert answer.status == 200
    assert answer.headers["x-robots-tag"].startswith("noindex")
    assert visitor.get_attribute("meta[name=robots]", "content").startswith("noindex")
    assert visitor.inner_text("h1") == "Carol Mining"
    body = visitor.inner_text("main")
    assert shared.name in body and private.name not in body  # only the shared account
    assert "Workers" in body and "Rewards" not in body  # the level chosen: hashrate and workers
    _fits(visitor)
    visitor.screenshot(path=str(SHOTS / f"share-02-opened-{width}.png"), full_page=True)

    # The admin sees the view counted, then revokes the link.
    admin.goto(base + "share-links/")
    row = admin.locator("#share-links-table tbody tr", has_text="Investor Q4")
    assert row.locator("td.num").inner_text().strip() == "1"
    assert "Active, expires in" in row.inner_text()
    row.locator("button:has-text('Revoke')").click()
    admin.wait_for_selector("#share-links-table tbody tr:has-text('Revoked')")
    _fits(admin)
    admin.screenshot(path=str(SHOTS / f"share-03-revoked-{width}.png"), full_page=True)

    # The same URL is gone at once (no cache keeps it alive).
    visitor_watch.errors.clear()
    gone = visitor.goto(url)
    assert gone.status == 404
    assert shared.name not in visitor.inner_text("body")
    visitor.screenshot(path=str(SHOTS / f"share-04-gone-{width}.png"), full_page=True)
    visitor_watch.errors[:] = [e for e in visitor_watch.errors if not (e.startswith("404 ") or "status of 404" in e)]
    visitor_watch.assert_clean()
    admin_watch.assert_clean()
    assert ShareLink.objects.get(customer=world.customer_a1).view_count == 1
