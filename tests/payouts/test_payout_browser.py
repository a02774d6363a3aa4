"""Real headless Chromium walks a held payout change (issue 15): a customer admin asks for one with a code from the
authenticator, sees it held with its due time and who asked, a contact cancels it through the link in the e-mail,
then a second change is asked and applied when its hold ends (the clock moved here, the sweep run here). The pool
is the sandbox over HTTP. No JavaScript error, no request to another host. Screenshots in
var/screenshots/payout-*.png."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail

from mining.models import PayoutChange
from tests.access.test_browser_flow import SHOTS, _current_code, browser_page  # noqa: F401 (fixture)
from tests.fixtures.access import totp_device_for
from tests.payouts.helpers import (
    GOOD,
    OTHER,
    PASSWORD,
    deliver,
    links_in_mail,
    pool_start,
    pool_stop,
    sweep,
    world_make,
)
from tests.portal.browser import Watch, staff_sign_in

pytestmark = pytest.mark.xdist_group("browser")


def _ask(page, account_pk: int, address: str, device) -> None:
    page.select_option("#id_account_id", str(account_pk))
    page.check("input[name=destination][value=external_address]")
    page.fill("#id_address", address)
    page.fill("#id_code", _current_code(device))
    page.click("main button:has-text('Ask for the change')")


def test_a_payout_change_is_held_canceled_by_the_e_mailed_link_and_the_next_applied(
        clock, fast_upstream_retries, live_server, settings, browser_page):  # noqa: F811
    settings.PORTAL_BASE_URL = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser_page
    watch = Watch(page, urlsplit(live_server.url).netloc)
    pool = pool_start()
    try:
        pw = world_make(pool, clock)
        device = totp_device_for(pw.users["admin"])
        base = f"{live_server.url}{pw.base}"

        staff_sign_in(page, live_server.url, "admin@miner.example", PASSWORD, device)
        page.goto(base)
        clock.shift(timedelta(seconds=31))  # the sign-in used this step's code: the change needs a fresh one
        _ask(page, pw.account.pk, GOOD, device)
        page.wait_for_selector("text=Held:")
        change = PayoutChange.objects.get()
        row = page.locator(f"[data-payout-change='{change.pk}']")
        assert GOOD in row.inner_text() and "admin@miner.example" in row.inner_text()
        assert f"{change.due_at:%Y-%m-%d %H:%M}" in row.inner_text() and "Held" in row.inner_text()
        assert pw.edits() == 0
        page.screenshot(path=str(SHOTS / "payout-01-held.png"), full_page=True)

        deliver()
        held = next(m for m in mail.outbox if m.to == ["ops@miner.example"])
        assert "held" in held.subject.lower() and change.due_at.strftime("%Y-%m-%d %H:%M") in held.body
        [cancel] = links_in_mail("ops@miner.example", "cancel")
        page.goto(live_server.url + cancel)
        assert GOOD in page.inner_text("main")
        page.screenshot(path=str(SHOTS / "payout-02-cancel-link.png"), full_page=True)
        page.click("main button:has-text('Cancel the change')")
        page.wait_for_selector("text=Canceled. The change will not be sent to the pool")
        page.screenshot(path=str(SHOTS / "payout-03-canceled.png"), full_page=True)
        change.refresh_from_db()
        assert change.status == "canceled"

        page.goto(base)
        assert page.locator(f"[data-payout-change='{change.pk}']").count() == 0
        assert "Canceled by the cancel link e-mailed to ops@miner.example" in page.inner_text("#payout-changes")
        clock.shift(timedelta(seconds=31))
        _ask(page, pw.account.pk, OTHER, device)
        page.wait_for_selector("text=Held:")
        second = PayoutChange.objects.get(status="held")
        assert second.address == OTHER

        clock.shift(timedelta(hours=24, minutes=1))  # the hold ends; beat's sweep runs
        assert sweep() == ["applied"]
        assert pw.upstream() == {"payoutDestination": "external_address", "externalAddress": OTHER}
        assert pw.edits() == 1
        staff_sign_in(page, live_server.url, "admin@miner.example", PASSWORD, device)  # a day later: signed out
        page.goto(base)
        table = page.inner_text("main")
        assert OTHER in table and "Applied at" in table and "No change is pending." in table
        page.screenshot(path=str(SHOTS / "payout-04-applied.png"), full_page=True)
        watch.assert_clean()
    finally:
        pool_stop(pool)
