"""Real headless Chromium on the statements pages: staff sign in with a code, open a closed month, build the XLSX
and watch its progress turn into a download link (htmx polling); a customer signs in, opens Statements and
downloads the PDF of a closed month. No JavaScript error, no request to another host. Screenshots in
var/screenshots/statements-*.png."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from billing.exports.jobs import _claim, _progress, export_job_run
from billing.models import ExportJob, ExportStatus
from tenants import services
from tenants.models import CustomerRole, StaffRole
from tests.access.test_browser_flow import SHOTS, _current_code, browser_page  # noqa: F401 (fixture)
from tests.fixtures.access import totp_device_for
from tests.portal.browser import Watch, sign_in, staff_sign_in
from tests.portal.statements_world import bill, customers_make, system

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]
PASSWORD = "statements-browser-passphrase-31"


@pytest.fixture
def billed(world, settings, tmp_path):
    settings.BILLING_EXPORT_DIR = tmp_path / "exports"
    bill(world.provider_a, [world.customer_a1, world.customer_a2, *customers_make(world.provider_a, 2)],
         adjust_november=True)
    return world



def test_staff_close_view_and_build_an_export_with_progress(billed, live_server, browser_page):  # noqa: F811
    w, page = billed, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    owner = services.user_get_or_create(email="books@alpha.example", password=PASSWORD)
    services.provider_membership_grant(provider=w.provider_a, user=owner, role=StaffRole.OWNER)
    device = totp_device_for(owner)
    watch = Watch(page, urlsplit(live_server.url).netloc)
    staff_sign_in(page, live_server.url, "books@alpha.example", PASSWORD, device)
    page.wait_for_url(f"{live_server.url}/p/alpha/fleet/")

    page.goto(f"{live_server.url}/p/alpha/billing/statements/")
    assert "Closed" in page.inner_text("#months")
    page.screenshot(path=str(SHOTS / "statements-01-staff-months.png"), full_page=True)
    page.click("#months >> text=October 2026")
    page.wait_for_url("**/billing/statements/2026-10/")
    page.screenshot(path=str(SHOTS / "statements-02-staff-month-closed.png"), full_page=True)

    page.click("#export-month_xlsx button")  # htmx posts and swaps in the job, which polls every second
    page.wait_for_selector("#export-month_xlsx:has-text('Queued')")
    job = ExportJob.objects.get(kind="month_xlsx")
    scope = system(w.provider_a)
    _progress(scope, _claim(scope, job.pk, job.created_at), lambda: job.created_at)(2)  # a worker, mid-way
    page.wait_for_selector("#export-month_xlsx:has-text('Building… 2 of 4 customers')")
    page.screenshot(path=str(SHOTS / "statements-03-staff-export-progress.png"), full_page=True)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.QUEUED)
    assert export_job_run(provider_id=w.provider_a.pk, job_id=job.pk) == "done"
    page.wait_for_selector("#export-month_xlsx a:has-text('Download')")
    with page.expect_download() as download:
        page.click("#export-month_xlsx a:has-text('Download')")
    assert download.value.suggested_filename == "billing-2026-10-workbook.xlsx"
    page.screenshot(path=str(SHOTS / "statements-04-staff-export-ready.png"), full_page=True)

    page.click("#month-statements >> text=Carol Mining")
    page.wait_for_url("**/billing/statements/2026-10/carol-mining/")
    page.screenshot(path=str(SHOTS / "statements-05-staff-customer-statement.png"), full_page=True)
    page.goto(f"{live_server.url}/p/alpha/billing/statements/2026-11/")
    page.screenshot(path=str(SHOTS / "statements-06-staff-month-draft.png"), full_page=True)
    watch.assert_clean()


def test_customer_opens_statements_and_downloads_a_closed_months_pdf(billed, live_server, browser_page):  # noqa: F811
    w, page = billed, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    user = services.user_get_or_create(email="viewer@carol.example", password=PASSWORD)
    services.customer_membership_grant(customer=w.customer_a1, user=user, role=CustomerRole.VIEWER)
    watch = Watch(page, urlsplit(live_server.url).netloc)
    base = f"{live_server.url}/c/alpha/carol-mining/"
    sign_in(page, live_server.url, "viewer@carol.example", PASSWORD)
    page.wait_for_url(base + "dashboard/")
    page.click("nav.sub >> text=Statements")
    page.wait_for_url(base + "statements/")
    assert "Not final" in page.inner_text("#month-to-date")
    page.screenshot(path=str(SHOTS / "statements-07-customer-statements.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#closed-statements tr:has-text('October 2026') >> text=PDF")
    assert download.value.suggested_filename == "statement-carol-mining-2026-10.pdf"
    with open(download.value.path(), "rb") as fh:
        assert fh.read(4) == b"%PDF"
    page.click("#closed-statements >> text=October 2026")
    page.wait_for_url(base + "statements/2026-10/")
    page.screenshot(path=str(SHOTS / "statements-08-customer-statement.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "statements/")
    page.screenshot(path=str(SHOTS / "statements-09-customer-statements-phone.png"), full_page=True)
    watch.assert_clean()
