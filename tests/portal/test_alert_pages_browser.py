"""Real headless Chromium over the alert pages (issue 20): staff add a signed webhook, copy its secret from the
one page that shows it, send a test and see the channel's answer in the delivery log; the incidents page; a
customer's admin sees its open alerts and history. No JavaScript error, no request to another host.
Screenshots in var/screenshots/alerts-*.png."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from mining.models import Incident, MiningAccount
from tests.access.test_browser_flow import SHOTS, browser_page  # noqa: F401 (fixture)
from tests.fixtures.access import totp_device_for
from tests.fixtures.tenancy import PASSWORD
from tests.mining.alert_helpers import deliver_due
from tests.portal.browser import Watch, sign_in, staff_sign_in

pytestmark = pytest.mark.xdist_group("browser")


def test_channel_and_alert_pages(world, alert_stub, live_server, browser_page):  # noqa: F811
    page = browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    watch = Watch(page, urlsplit(live_server.url).netloc)
    account = MiningAccount.objects.create(provider=world.provider_a, customer=world.customer_a1, name="acct_004")
    now = timezone.now()
    Incident.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account,
                            kind="worker_offline", group_key="a", summary="3 workers offline on acct_004",
                            members=["worker_001", "worker_003", "worker_007"], opened_at=now - timedelta(minutes=12))
    Incident.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account,
                            kind="worker_offline", group_key="b", summary="1 worker offline on acct_004",
                            members=["worker_002"], opened_at=now - timedelta(days=1),
                            resolved_at=now - timedelta(days=1) + timedelta(minutes=40))

    staff_sign_in(page, live_server.url, "alice@alpha.example", PASSWORD, totp_device_for(world.alice))
    page.wait_for_url(f"{live_server.url}/p/alpha/**")
    page.goto(f"{live_server.url}/p/alpha/alerts/channels/")
    page.select_option("#id_kind", "webhook")
    page.fill("#id_name", "NOC webhook")
    page.fill("#id_url", alert_stub.base + "/in")
    page.check("input[name=kinds][value=worker_offline]")
    page.screenshot(path=str(SHOTS / "alerts-01-channel-form.png"), full_page=True)
    page.click("main button:has-text('Add channel')")
    page.wait_for_selector("#whsec")
    assert page.inner_text("#whsec").startswith("whsec_")
    page.screenshot(path=str(SHOTS / "alerts-02-secret-shown-once.png"), full_page=True)
    page.click("#send-test")
    page.wait_for_selector("#delivery-log >> text=Test message from the portal")
    deliver_due()
    page.reload()
    page.wait_for_selector("#delivery-log >> text=200: ok")
    assert page.locator("#whsec").count() == 0  # shown once
    page.screenshot(path=str(SHOTS / "alerts-03-delivery-log.png"), full_page=True)
    page.goto(f"{live_server.url}/p/alpha/alerts/channels/")
    page.screenshot(path=str(SHOTS / "alerts-04-channel-list.png"), full_page=True)
    page.goto(f"{live_server.url}/p/alpha/alerts/incidents/")
    assert "3 workers offline on acct_004" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "alerts-05-staff-incidents.png"), full_page=True)
    page.context.clear_cookies()

    sign_in(page, live_server.url, "carol@carol.example", PASSWORD)
    page.wait_for_url(f"{live_server.url}/c/alpha/carol-mining/**")
    page.click("nav.sub >> text=Alerts")
    page.wait_for_url(f"{live_server.url}/c/alpha/carol-mining/alerts/")
    text = page.inner_text("main")
    assert "worker_001, worker_003, worker_007" in text and "cleared" in text
    page.screenshot(path=str(SHOTS / "alerts-06-customer-alerts.png"), full_page=True)
    page.goto(f"{live_server.url}/c/alpha/carol-mining/alerts/channels/")
    page.screenshot(path=str(SHOTS / "alerts-07-customer-channels.png"), full_page=True)
    watch.assert_clean()
