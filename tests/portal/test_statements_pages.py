"""Staff statements pages: months, a month's statements (closed and draft), one customer's statement, closing a
month from the page (once, under a double submit), refusals in words, downloads, and month exports built by the
task with progress, completion and recovery from a dead worker. Figures are compared with billing's own
calculation, not typed in. The clock is fixed at 2026-11-20 12:00 UTC (October over, November running)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from billing.exports.jobs import _claim, _progress
from billing.models import BillingMonth, BtcPrice, ExportJob, ExportStatus, Statement, StatementLine
from billing.selectors.months import month_fingerprint
from billing.selectors.statements import statement_get
from billing.services.exports import export_job_start
from billing.statements import statements_compute
from billing.tasks import billing_export_build_task
from billing.templatetags.billing_money import btc
from tenants.models import AuditEntry
from tests.fixtures.access import login_verified
from tests.portal.statements_world import NOVEMBER, NOW, OCTOBER, SEPTEMBER, bill, customers_make, system

pytestmark = pytest.mark.django_db
BASE = "/p/alpha/billing/statements/"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def exports_dir(settings, tmp_path):
    settings.BILLING_EXPORT_DIR = tmp_path / "exports"
    return settings.BILLING_EXPORT_DIR


@pytest.fixture
def billed(world):
    """Provider A bills three customers; September and October closed; a November adjustment for each."""
    extra = customers_make(world.provider_a, 1, prefix="Dune")
    customers = [world.customer_a1, world.customer_a2, *extra]
    bill(world.provider_a, customers, adjust_november=True)
    return customers


@pytest.fixture
def staff(client, world):
    login_verified(client, world.alice)
    return client


def body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


def row_of(html: str, table_id: str, text: str) -> str:
    table = html[html.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    rows = [r for r in re.split(r"<tr[ >]", table) if text in r]
    assert len(rows) == 1, (text, rows)
    return rows[0]


# ------------------------------------------------------------------------------------------------ pages


def test_months_list_shows_draft_closed_with_time_and_fingerprint(staff, world, billed):
    html = staff.get(BASE).content.decode()
    october = row_of(html, "months", "October 2026")
    hashes = list(Statement.objects.filter(period=OCTOBER).order_by("pk").values_list("content_hash", flat=True))
    assert "Closed" in october and "2026-11-20 12:00 UTC" in october and month_fingerprint(hashes) in october
    assert len(hashes) == 3 and ">3<" in october
    assert "Draft" in row_of(html, "months", "November 2026") and "not final" in row_of(html, "months", "November")


def test_closed_month_page_shows_each_customers_frozen_figures_and_the_totals(staff, world, billed):
    html = staff.get(f"{BASE}2026-10/").content.decode()
    statements = list(Statement.objects.filter(period=OCTOBER))
    assert len(statements) == 3
    for s in statements:
        row = row_of(html, "month-statements", s.customer_name)
        for sats in (s.gross_sats, s.pool_fee_sats, s.provider_share_sats, s.hosting_fee_sats, s.customer_net_sats):
            assert btc(sats) in row
        assert f"/p/alpha/billing/statements/2026-10/{s.customer.slug}/pdf/" in row
    footer = html[html.index("<tfoot>"):html.index("</tfoot>")]
    assert btc(sum(s.customer_net_sats for s in statements)) in footer
    assert "Close October" not in html and "Summary CSV" in html


def test_draft_month_shows_the_calculation_to_date_with_adjustments(staff, world, billed):
    html = staff.get(f"{BASE}2026-11/").content.decode()
    assert "Draft" in html and "Not final" in html
    expected = list(statements_compute(scope=system(world.provider_a), period=NOVEMBER,
                                       period_end=NOW.date(), customer_ids=[c.pk for c in billed]))
    assert len(expected) == 3
    for data in expected:
        row = row_of(html, "month-statements", data.customer_name)
        assert data.adjustments_sats == -1234 and btc(-1234) in row
        assert btc(data.customer_net_sats) in row and btc(data.gross_sats) in row


def test_customer_statement_page_renders_the_statement_fragment(staff, world, billed):
    html = staff.get(f"{BASE}2026-10/carol-mining/").content.decode()
    data = statement_get(scope=system(world.provider_a), customer_id=world.customer_a1.pk, period=OCTOBER,
                         today=NOW.date())
    assert data.is_closed and data.content_hash in html
    assert btc(data.customer_net_sats).split(" ")[0] in html
    assert all(line.tx_hash in html for line in data.billed_lines)
    assert "Download PDF" in html
    draft = staff.get(f"{BASE}2026-11/carol-mining/").content.decode()
    assert "Draft: not final" in draft and "Download PDF" not in draft and "Replaced a fan" in draft


# ------------------------------------------------------------------------------------------------ closing


def test_close_month_from_the_page_once_under_a_double_submit(staff, world):
    bill(world.provider_a, [world.customer_a1, world.customer_a2], close=(SEPTEMBER,))
    page = staff.get(f"{BASE}2026-10/").content.decode()
    assert "Over, not closed" in page and "Close October 2026 now" in page
    first = staff.post(f"{BASE}2026-10/close/", follow=True).content.decode()
    second = staff.post(f"{BASE}2026-10/close/", follow=True).content.decode()  # the double click, a second tab
    assert "Closed October 2026: 2 statements frozen." in first
    assert "October 2026 was already closed; nothing changed (2 statements)." in second
    assert Statement.objects.filter(period=OCTOBER).count() == 2
    assert BillingMonth.objects.get(provider=world.provider_a, period=OCTOBER).closed_at == NOW
    assert AuditEntry.objects.filter(action="billing_month.close", object_id=str(BillingMonth.objects.get(
        provider=world.provider_a, period=OCTOBER).pk)).count() == 1
    assert "Closed" in row_of(staff.get(BASE).content.decode(), "months", "October 2026")


def test_closing_is_refused_in_words(staff, client, world):
    bill(world.provider_a, [world.customer_a1], close=(), fee_currency="USD", start=OCTOBER)
    before = Statement.objects.count()
    running = staff.post(f"{BASE}2026-11/close/", follow=True).content.decode()
    assert "November 2026 was not closed: 2026-11 has not ended yet" in running
    fiat = staff.post(f"{BASE}2026-10/close/", follow=True).content.decode()
    assert "October 2026 was not closed: No BTC price in USD is recorded for 2026-10" in fiat
    assert "Carol Mining are in USD" in fiat
    # The draft says the same instead of failing.
    assert "The draft cannot be computed: No BTC price in USD" in staff.get(f"{BASE}2026-10/").content.decode()
    client.logout()
    login_verified(client, world.dave)  # read-only staff read, and may not close
    assert client.get(f"{BASE}2026-10/").status_code == 200
    assert client.post(f"{BASE}2026-10/close/").status_code == 403
    assert Statement.objects.count() == before == 0 and not BtcPrice.objects.exists()


# ------------------------------------------------------------------------------------------------ downloads


def test_month_and_customer_downloads(staff, world, billed):
    summary = list(csv.DictReader(io.StringIO(body(staff.get(f"{BASE}2026-10/summary.csv")))))
    frozen = {s.customer_name: s for s in Statement.objects.filter(period=OCTOBER)}
    *summary, total = summary  # the last row is the month's total
    assert total["customer"] == "Total (3 customers)"
    assert total["customer_net_btc"] == btc(sum(s.customer_net_sats for s in frozen.values())).split(" ")[0]
    assert {r["customer"] for r in summary} == set(frozen)
    for r in summary:
        assert r["customer_net_btc"] == btc(frozen[r["customer"]].customer_net_sats).split(" ")[0]
        assert r["content_hash"] == frozen[r["customer"]].content_hash
    detail = list(csv.DictReader(io.StringIO(body(staff.get(f"{BASE}2026-10/detail.csv")))))
    rewards = [r for r in detail if r["kind"] == "reward"]
    assert len(rewards) == StatementLine.objects.filter(statement__period=OCTOBER, kind="reward").count() == 9
    assert [r["kind"] for r in detail].count("machine_fee") == 3  # every statement line, fee lines included
    pdf = staff.get(f"{BASE}2026-10/carol-mining/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    lines = list(csv.DictReader(io.StringIO(body(staff.get(f"{BASE}2026-10/carol-mining/csv/")))))
    assert [ln["tx_hash"] for ln in lines if ln["kind"] not in ("total", "machine_fee")] == [
        ln.tx_hash for ln in Statement.objects.get(customer=world.customer_a1, period=OCTOBER).lines.all()]
    # Not closed: refused in words on the page; nothing sent.
    refused = staff.get(f"{BASE}2026-11/carol-mining/pdf/", follow=True).content.decode()
    assert "There is no closed statement for 2026-11" in refused
    assert "is not closed yet" in staff.get(f"{BASE}2026-11/summary.csv", follow=True).content.decode()


def test_a_tampered_statement_is_not_downloaded(staff, world, billed):
    line = StatementLine.objects.filter(statement__customer=world.customer_a1, statement__period=OCTOBER,
                                       kind="reward").first()
    StatementLine.objects.filter(pk=line.pk).update(tx_hash="f" * 64)  # behind the product's back
    refused = staff.get(f"{BASE}2026-10/carol-mining/pdf/", follow=True).content.decode()
    assert "no longer matches the content hash recorded at close" in refused
    assert "no longer matches" in staff.get(f"{BASE}2026-10/summary.csv", follow=True).content.decode()


# ------------------------------------------------------------------------------------------------ export jobs


def _job_html(client, job) -> str:
    return client.get(f"/p/alpha/billing/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()


def test_an_export_job_starts_once_shows_progress_and_offers_a_checked_file(staff, world, billed, exports_dir,
                                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as published:
        first = staff.post(f"{BASE}2026-10/exports/", {"kind": "month_xlsx"}, HTTP_HX_REQUEST="true")
        second = staff.post(f"{BASE}2026-10/exports/", {"kind": "month_xlsx"}, HTTP_HX_REQUEST="true")
    job = ExportJob.objects.get()
    assert len(published) == 1 and job.status == ExportStatus.QUEUED and job.total == 3
    for response in (first, second):
        html = response.content.decode()
        assert "Queued" in html and 'hx-trigger="every 1s"' in html and f"/billing/exports/{job.pk}/" in html

    # A worker picks it up and reports as it goes (the task's own progress reporter).
    claimed = _claim(system(world.provider_a), job.pk, NOW)
    _progress(system(world.provider_a), claimed, lambda: NOW + timedelta(seconds=5))(2)
    html = _job_html(staff, job)
    assert "Building… 2 of 3 customers" in html and 'value="2"' in html and "every 1s" in html
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.QUEUED)  # hand it back to the real task

    assert billing_export_build_task(world.provider_a.pk, job.pk) == "done"
    assert billing_export_build_task(world.provider_a.pk, job.pk) == "skipped"  # a redelivered message
    html = _job_html(staff, job)
    assert "every 1s" not in html and "Download" in html
    job.refresh_from_db()
    assert job.done == job.total == 3 and job.file_sha256 in html
    download = staff.get(f"/p/alpha/billing/exports/{job.pk}/download/")
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    rows = list(workbook["Summary"].iter_rows(values_only=True))
    frozen = {s.customer_name: s for s in Statement.objects.filter(period=OCTOBER)}
    *rows, total = rows  # the last row is the month's total
    assert {r[0] for r in rows[1:]} == set(frozen) and total[0] == "Total"
    net = rows[0].index("Customer net (BTC)")
    assert all(round(r[net] * 100_000_000) == frozen[r[0]].customer_net_sats for r in rows[1:])
    assert len(list(workbook["Detail"].iter_rows())) == 1 + 9 + 3  # header, 9 rewards, 3 machine fee lines

    # The file changed on disk after it was built: not served.
    with open(job.file_path, "ab") as fh:
        fh.write(b"x")
    refused = staff.get(f"/p/alpha/billing/exports/{job.pk}/download/", follow=True).content.decode()
    assert "no longer matches the SHA-256 recorded when it was built" in refused


def test_the_pdf_zip_holds_one_pdf_per_customer(staff, world, billed, exports_dir):
    job, created = export_job_start(scope=system(world.provider_a), period=OCTOBER, kind="month_pdf_zip", now=NOW)
    assert created and billing_export_build_task(world.provider_a.pk, job.pk) == "done"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(
        staff.get(f"/p/alpha/billing/exports/{job.pk}/download/").streaming_content)))
    assert sorted(archive.namelist()) == sorted(f"{c.slug}-2026-10.pdf" for c in billed)
    assert all(archive.read(name).startswith(b"%PDF") for name in archive.namelist())


def test_a_job_whose_worker_died_is_failed_with_a_reason_and_built_again(staff, world, billed, exports_dir, settings):
    settings.BILLING_EXPORT_LEASE_S = 60
    job, _ = export_job_start(scope=system(world.provider_a), period=OCTOBER, kind="month_xlsx", now=NOW)
    assert _claim(system(world.provider_a), job.pk, NOW) is not None  # a worker took it, then was SIGKILLed
    assert "Building" in _job_html(staff, job)
    with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
        html = _job_html(staff, job)
        assert "Failed: The worker building this export stopped answering" in html and "Build again" in html
        assert "every 1s" not in html
        retried = staff.post(f"/p/alpha/billing/exports/{job.pk}/retry/", HTTP_HX_REQUEST="true").content.decode()
    new = ExportJob.objects.exclude(pk=job.pk).get()
    assert "Queued" in retried and new.status == ExportStatus.QUEUED
    assert billing_export_build_task(world.provider_a.pk, job.pk) == "skipped"  # the dead worker's redelivery
    assert billing_export_build_task(world.provider_a.pk, new.pk) == "done"
    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.FAILED


def test_a_job_on_a_lost_queue_is_failed_and_refusals_are_in_words(staff, world, billed, exports_dir, settings):
    settings.BILLING_EXPORT_LEASE_S = 60
    job, _ = export_job_start(scope=system(world.provider_a), period=OCTOBER, kind="month_pdf_zip", now=NOW)
    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        assert "No worker picked this export up within 5 minutes" in _job_html(staff, job)
    refused = staff.post(f"{BASE}2026-11/exports/", {"kind": "month_xlsx"}, follow=True).content.decode()
    assert "2026-11 is not closed yet: close the month first" in refused
    assert ExportJob.objects.count() == 1


def test_another_providers_staff_and_customers_get_404(client, world, billed, exports_dir):
    job, _ = export_job_start(scope=system(world.provider_a), period=OCTOBER, kind="month_xlsx", now=NOW)
    billing_export_build_task(world.provider_a.pk, job.pk)
    login_verified(client, world.bob)
    for url in (f"/p/alpha/billing/exports/{job.pk}/", f"/p/alpha/billing/exports/{job.pk}/download/",
                f"/p/beta/billing/exports/{job.pk}/", f"/p/beta/billing/exports/{job.pk}/download/",
                f"{BASE}2026-10/", f"{BASE}2026-10/carol-mining/pdf/", f"{BASE}2026-10/summary.csv"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/p/beta/billing/exports/{job.pk}/retry/").status_code == 404
    client.logout()
    client.force_login(world.carol)  # a customer's admin: staff pages do not exist for them
    assert client.get(BASE).status_code == 404
    assert client.get(f"/p/alpha/billing/exports/{job.pk}/download/").status_code == 404
    assert ExportJob.objects.count() == 1


# ------------------------------------------------------------------------------------------------ query counts


def _count(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_month_pages_cost_the_same_with_1_and_50_customers(staff, world):
    bill(world.provider_a, [world.customer_a1], close=(SEPTEMBER,))
    one = {"closed": _count(staff, f"{BASE}2026-09/"), "draft": _count(staff, f"{BASE}2026-11/"),
           "months": _count(staff, BASE)}
    more = customers_make(world.provider_a, 49)
    bill(world.provider_a, more, close=(OCTOBER,), start=OCTOBER)
    assert Statement.objects.filter(period=OCTOBER).count() == 50
    fifty = {"closed": _count(staff, f"{BASE}2026-10/"), "draft": _count(staff, f"{BASE}2026-11/"),
             "months": _count(staff, BASE)}
    assert fifty == one
    assert "Client 048" in staff.get(f"{BASE}2026-11/").content.decode()


def test_the_export_tasks_ack_late_stay_under_the_visibility_timeout_and_beat_sweeps():
    from django.conf import settings as django_settings

    from billing import tasks
    from portal.celery import app

    for task in (tasks.billing_export_build_task, tasks.billing_export_sweep_task):
        assert task.acks_late is True and task.reject_on_worker_lost is True and task.name in app.tasks
    assert tasks.billing_export_build_task.time_limit < django_settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
        "visibility_timeout", 3600)
    entry = app.conf.beat_schedule["billing-export-sweep"]
    assert entry["task"] == "billing.tasks.billing_export_sweep_task"
