"""Real headless Chromium: staff sign in with a TOTP code and see the fleet chart drawn with data; a customer signs
in and sees their chart drawn and their workers listed. No JavaScript error and no request to another host on any
page. Screenshots in var/screenshots/portal-*.png."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from mining.models import Worker
from tenants import services
from tenants.models import CustomerRole, StaffRole
from tests.access.test_browser_flow import SHOTS, _current_code, browser_page  # noqa: F401 (fixture)
from tests.fixtures.access import totp_device_for
from tests.portal.browser import Watch, chart_points, sign_in, staff_sign_in

pytestmark = pytest.mark.xdist_group("browser")
PASSWORD = "portal-browser-passphrase-77"





def test_staff_sign_in_with_a_code_and_see_the_fleet_chart(fleet, live_server, browser_page):  # noqa: F811
    pp, page = fleet, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    owner = services.user_get_or_create(email="owner@pool.example", password=PASSWORD)
    services.provider_membership_grant(provider=pp.provider, user=owner, role=StaffRole.OWNER)
    device = totp_device_for(owner)
    watch = Watch(page, urlsplit(live_server.url).netloc)

    staff_sign_in(page, live_server.url, "owner@pool.example", PASSWORD, device)
    page.wait_for_url(f"{live_server.url}/p/{pp.provider.slug}/fleet/")  # the staff landing is the fleet console
    assert chart_points(page) == 288
    assert page.locator(".u-legend .u-series").count() == 3  # time + Miner Co + Other Co
    page.screenshot(path=str(SHOTS / "portal-01-staff-fleet.png"), full_page=True)

    page.click("#hashrate >> text=7 days")  # htmx swaps the chart in place and draws it again
    page.wait_for_selector("#hashrate [aria-current=true]:has-text('7 days')")
    assert chart_points(page) == 7 * 24
    page.goto(f"{live_server.url}/p/{pp.provider.slug}/alerts/")
    page.screenshot(path=str(SHOTS / "portal-02-staff-alerts.png"), full_page=True)
    page.click("nav.sub >> text=Customers")
    page.fill("#id_q", "other")  # htmx narrows the list as staff type
    # A function, not an expression: the strict CSP refuses the eval an expression needs.
    page.wait_for_function("() => !document.querySelector('#customer-rows').innerText.includes('Miner Co')")
    assert "Other Co" in page.inner_text("#customer-rows")
    page.screenshot(path=str(SHOTS / "portal-09-staff-customers.png"), full_page=True)
    page.click("nav.sub >> text=Accounts")
    page.wait_for_url(f"**/p/{pp.provider.slug}/accounts/")
    page.screenshot(path=str(SHOTS / "portal-10-staff-accounts.png"), full_page=True)
    page.goto(f"{live_server.url}/p/{pp.provider.slug}/alerts/rules/")
    page.screenshot(path=str(SHOTS / "portal-11-staff-alert-rules.png"), full_page=True)
    watch.assert_clean()


def test_customer_sees_the_chart_drawn_and_the_workers_listed(fleet, live_server, browser_page):  # noqa: F811
    pp, page = fleet, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    user = services.user_get_or_create(email="admin@miner.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=user, role=CustomerRole.ADMIN)
    watch = Watch(page, urlsplit(live_server.url).netloc)
    base = f"{live_server.url}/c/{pp.provider.slug}/miner-co/"

    sign_in(page, live_server.url, "admin@miner.example", PASSWORD)
    page.wait_for_url(base + "dashboard/")
    page.click("nav.sub >> text=Dashboard")
    page.wait_for_url(base + "dashboard/")
    assert chart_points(page) == 288
    page.screenshot(path=str(SHOTS / "portal-03-customer-dashboard.png"), full_page=True)

    page.click("nav.sub >> text=Workers")
    page.wait_for_url(base + "workers/")
    own = Worker.objects.filter(account__in=pp.accounts[:-1])
    assert page.locator("#workers-table tbody tr:not(.unnamed-offline)").count() == own.count()
    page.screenshot(path=str(SHOTS / "portal-04-customer-workers.png"), full_page=True)
    one = own.order_by("name").first()
    page.fill("#id_q", one.name)  # htmx replaces the table as the customer types
    page.wait_for_function(f"() => document.querySelectorAll('#workers-table tbody tr').length < {own.count()}")
    assert f"{one.account.name}.{one.name}" in page.inner_text("#workers-table")
    page.click(f"#workers-table >> text={one.account.name}.{one.name}")
    assert chart_points(page) > 0
    page.screenshot(path=str(SHOTS / "portal-05-customer-worker.png"), full_page=True)

    page.goto(base + "rewards/")
    page.screenshot(path=str(SHOTS / "portal-06-customer-rewards.png"), full_page=True)
    page.goto(base + "watcher-links/")
    page.screenshot(path=str(SHOTS / "portal-07-customer-links.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "dashboard/")
    assert chart_points(page) == 288
    page.screenshot(path=str(SHOTS / "portal-08-customer-dashboard-phone.png"), full_page=True)
    watch.assert_clean()
