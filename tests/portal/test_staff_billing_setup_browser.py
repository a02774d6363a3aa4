"""The billing set-up pages in real headless Chromium: every page drawn with rows, a contract form answered field
by field, a maintenance window planned through the browser's date-time picker value, the contract page on a phone.
No JavaScript error and no request to another host. Screenshots in var/screenshots/billsetup-*.png."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import MaintenanceWindow
from billing.periods import month_start, previous_month
from billing.services.closing import billing_month_close
from billing.services.contracts import (
    ContractTerms,
    adjustment_create,
    btc_price_record,
    contract_version_create,
    maintenance_window_create,
)
from tenants.access import scope_for_system
from tests.access.test_browser_flow import SHOTS, browser_page  # noqa: F401 (fixture)
from tests.fixtures.access import login_verified
from tests.portal.browser import Watch

pytestmark = pytest.mark.xdist_group("browser")


def _billing_seeded(world) -> None:
    """A closed last month (its version locked), a newer version, prices, windows and an adjustment."""
    now = timezone.now()
    scope = scope_for_system(provider_id=world.provider_a.pk, actor="test")
    last = previous_month(now.date())
    contract_version_create(scope=scope, customer_id=world.customer_a1.pk, effective_from=last, now=now,
                            terms=ContractTerms(revenue_share_bps=2000, machine_count=2,
                                                machine_fee_monthly=Decimal("0.0001")))
    # before the close: two days ago may still be in last month, which the close then freezes
    maintenance_window_create(scope=scope, starts_at=now - timedelta(days=2, hours=3), ends_at=now - timedelta(days=2),
                              reason="Cooling loop service", now=now)
    billing_month_close(scope=scope, period=last, now=now)
    contract_version_create(scope=scope, customer_id=world.customer_a1.pk, effective_from=month_start(now.date()),
                            now=now, terms=ContractTerms(revenue_share_bps=2250, fee_currency="USD", machine_count=12,
                                                         machine_fee_monthly="45", power_mode="hashrate",
                                                         efficiency_j_per_th="21.5", price_per_kwh="0.065",
                                                         sla_uptime_bps=9500, sla_hashrate_hs="1200000000000000",
                                                         sla_credit_cap_bps=1000))
    btc_price_record(scope=scope, currency="USD", period=month_start(now.date()), price="91234.56",
                     as_of=now.date() - timedelta(days=1), source="WhiteBIT BTC/USD close", now=now)
    adjustment_create(scope=scope, customer_id=world.customer_a1.pk, period=month_start(now.date()),
                      amount_sats=-12_345, memo="Rack fee of last month missed", now=now)


def test_staff_see_and_use_the_billing_setup_pages(world, live_server, browser_page):  # noqa: F811
    page = browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    _billing_seeded(world)
    world.provider_a.timezone = "Europe/Berlin"
    world.provider_a.save(update_fields=["timezone"])
    client = Client()
    login_verified(client, world.alice)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    watch = Watch(page, urlsplit(live_server.url).netloc)
    base = f"{live_server.url}/p/alpha/billing/"

    page.goto(base)
    assert page.locator("nav.sub a[aria-current=page]").inner_text() == "Billing"
    page.screenshot(path=str(SHOTS / "billsetup-01-landing.png"), full_page=True)
    page.click("main >> text=Contracts")
    page.wait_for_url(base + "contracts/")
    assert "22.50 %" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "billsetup-02-contracts.png"), full_page=True)
    page.click("main >> text=Carol Mining")
    page.wait_for_url(base + "contracts/carol-mining/")
    assert page.locator("tr.current").count() == 1 and "Locked: billed in" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "billsetup-03-customer-contract.png"), full_page=True)

    page.click("a.button:has-text('New version')")
    page.fill("#id_effective_from", (date.today().replace(day=1) + timedelta(days=40)).replace(day=1).isoformat())
    page.fill("#id_revenue_share_percent", "150")
    page.select_option("#id_power_mode", "contracted")
    page.fill("#id_price_per_kwh", "0")
    page.click("main button[type=submit]")
    page.wait_for_selector("#id_revenue_share_percent_errors")
    assert "Contracted power needs the contracted kW." in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "billsetup-04-version-errors.png"), full_page=True)

    page.goto(base + "contracts/carol-mining/")
    page.click("a[aria-label^='Correct the version']")  # the open version: its form, filled in with its terms
    assert page.input_value("#id_revenue_share_percent") == "22.50"
    page.screenshot(path=str(SHOTS / "billsetup-05-version-correct.png"), full_page=True)

    page.goto(base + "btc-prices/")
    assert "91,234.56" in page.inner_text("main")  # grouped by thousands (issue 21)
    page.screenshot(path=str(SHOTS / "billsetup-06-btc-prices.png"), full_page=True)

    page.goto(base + "maintenance/")
    start = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT09:00")
    page.fill("#id_starts_at", start)
    page.fill("#id_ends_at", start.replace("T09:00", "T11:30"))
    page.fill("#id_reason", "Rack 4 power work")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Planned: Rack 4 power work.")
    window = MaintenanceWindow.objects.get(reason="Rack 4 power work")
    assert window.starts_at.astimezone(ZoneInfo("Europe/Berlin")).hour == 9  # typed in the provider's zone
    page.screenshot(path=str(SHOTS / "billsetup-07-maintenance.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "contracts/carol-mining/")
    page.screenshot(path=str(SHOTS / "billsetup-08-customer-contract-phone.png"), full_page=True)
    watch.assert_clean()
