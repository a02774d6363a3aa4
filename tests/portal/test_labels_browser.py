"""Real headless Chromium at phone size (390×844): staff tag workers with a label from the workers list, and the
staff fleet, accounts, workers and labels pages and the customer's dashboard and workers fit the screen (no page
wider than the phone: wide tables scroll inside their card), show times in the user's zone (charts included),
with no JavaScript error and no request to another host. Screenshots: var/screenshots/labelstz-*.png."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from mining.models import WorkerLabel
from mining.services.labels import label_create, labels_set_for_account
from tenants import services
from tenants.models import CustomerRole, StaffRole, UserPreference
from tests.access.test_browser_flow import SHOTS, _current_code, browser_page  # noqa: F401 (fixture)
from tests.fixtures.access import totp_device_for
from tests.portal.browser import Watch, chart_points, sign_in, staff_sign_in
from tests.portal.test_portal_browser import PASSWORD

pytestmark = pytest.mark.xdist_group("browser")
PHONE = {"width": 390, "height": 844}


def _fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"


def _tokyo_axis(page) -> None:
    """uPlot is given the reader's zone: 17:00 UTC is 02:00 the next day in Tokyo, whatever the browser's zone."""
    assert page.get_attribute("[data-chart]", "data-tz") == "Asia/Tokyo"
    hour = page.evaluate("uPlot.tzDate(new Date(Date.UTC(2026, 10, 15, 17)), 'Asia/Tokyo').getHours()")
    assert hour == 2


def test_staff_on_a_phone_tag_workers_and_read_times_in_their_zone(fleet, live_server, browser_page):  # noqa: F811
    pp, page = fleet, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    owner = services.user_get_or_create(email="owner@pool.example", password=PASSWORD)
    services.provider_membership_grant(provider=pp.provider, user=owner, role=StaffRole.OWNER)
    UserPreference.objects.create(user=owner, timezone="Asia/Tokyo")
    device = totp_device_for(owner)
    site = label_create(scope=pp.scope, kind="site", name="Kyiv north")
    rack = label_create(scope=pp.scope, kind="rack", name="R12")
    label_create(scope=pp.scope, kind="batch", name="S21 2025-03")
    labels_set_for_account(scope=pp.scope, account_id=pp.accounts[0].pk, label_ids=[site.pk])
    watch = Watch(page, urlsplit(live_server.url).netloc)
    page.set_viewport_size(PHONE)
    slug = pp.provider.slug

    staff_sign_in(page, live_server.url, "owner@pool.example", PASSWORD, device)
    page.wait_for_url(f"{live_server.url}/p/{slug}/fleet/")

    page.goto(f"{live_server.url}/p/{slug}/fleet/")
    assert chart_points(page) == 288
    _tokyo_axis(page)
    assert "Times in Asia/Tokyo" in page.inner_text("header")
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "labelstz-01-staff-fleet-phone.png"), full_page=True)

    page.goto(f"{live_server.url}/p/{slug}/accounts/?label={site.pk}")
    assert page.locator("tbody tr").count() == 1 and pp.accounts[0].name in page.inner_text("tbody")
    page.goto(f"{live_server.url}/p/{slug}/accounts/")
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "labelstz-02-staff-accounts-phone.png"), full_page=True)

    page.goto(f"{live_server.url}/p/{slug}/workers/")
    boxes = page.locator("tbody input[name=workers]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.select_option("fieldset.bulk select[name=label]", str(rack.pk))
    page.click("fieldset.bulk >> text=Add label")
    page.wait_for_selector("text=2 workers now carry")
    assert WorkerLabel.objects.filter(label=rack).count() == 2
    assert "JST" in page.inner_text("#workers-count")  # the 24 h mean's end, in the staff member's zone
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "labelstz-03-staff-workers-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/p/{slug}/workers/?label={rack.pk}")
    assert page.locator("tbody input[name=workers]").count() == 2

    page.goto(f"{live_server.url}/p/{slug}/labels/")
    page.fill("#id_name", "")
    page.click("text=Create label")
    page.wait_for_selector("text=Give the label a name.")
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "labelstz-04-staff-labels-phone.png"), full_page=True)

    # Every other staff page fits the phone too (tables scroll inside their card, the header wraps).
    for i, path in enumerate(["", "customers/", "customers/miner-co/", "customers/new/", "alerts/", "alerts/rules/",
                              "team/", "audit/", "api-tokens/", "customers/miner-co/users/"], start=10):
        page.goto(f"{live_server.url}/p/{slug}/{path}")
        page.screenshot(path=str(SHOTS / f"labelstz-{i}-staff-{path.strip('/').replace('/', '-') or 'home'}-phone.png"),
                        full_page=True)
        _fits_the_phone(page)
    watch.assert_clean()


def test_customer_on_a_phone_sees_labels_and_times_in_their_zone(fleet, live_server, browser_page):  # noqa: F811
    pp, page = fleet, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    user = services.user_get_or_create(email="admin@miner.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=user, role=CustomerRole.ADMIN)
    site = label_create(scope=pp.scope, kind="site", name="Kyiv north")
    labels_set_for_account(scope=pp.scope, account_id=pp.accounts[0].pk, label_ids=[site.pk])
    watch = Watch(page, urlsplit(live_server.url).netloc)
    page.set_viewport_size(PHONE)
    base = f"{live_server.url}/c/{pp.provider.slug}/miner-co/"

    sign_in(page, live_server.url, "admin@miner.example", PASSWORD)
    page.wait_for_url(base + "dashboard/")
    page.goto(f"{live_server.url}/account/preferences/")
    page.fill("#id_timezone", "Asia/Tokyo")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Times are now shown in Asia/Tokyo.")
    page.screenshot(path=str(SHOTS / "labelstz-07-preferences-phone.png"), full_page=True)

    page.goto(base + "dashboard/")
    assert chart_points(page) == 288
    _tokyo_axis(page)
    assert "JST" in page.inner_text("#hashrate")
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "labelstz-05-customer-dashboard-phone.png"), full_page=True)

    page.goto(base + "workers/")
    page.select_option("select[name=label]", str(site.pk))
    page.wait_for_function("() => document.querySelector('#workers-count').innerText.includes('worker')")
    page.wait_for_url(f"**label={site.pk}**")
    assert "Kyiv north" in page.inner_text("#workers-table")
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "labelstz-06-customer-workers-phone.png"), full_page=True)

    worker = page.locator("#workers-table tbody a").first
    worker.click()
    assert chart_points(page) > 0
    _tokyo_axis(page)
    pages = ["", "rewards/", "watcher-links/", "alert-settings/", "team/", "audit/", "api-tokens/"]
    for i, path in enumerate(pages, start=30):
        page.goto(base + path)
        page.screenshot(path=str(SHOTS / f"labelstz-{i}-customer-{path.strip('/') or 'home'}-phone.png"),
                        full_page=True)
        _fits_the_phone(page)
    page.goto(f"{live_server.url}/account/security/")
    _fits_the_phone(page)
    watch.assert_clean()
