"""A month export built by a real `celery worker` process (not eager): the page's job row goes from queued to done
with the progress written by the worker, and the file it wrote is served after its SHA-256 check."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.utils import timezone

from billing.models import ExportJob, ExportStatus
from billing.services.exports import export_job_start
from tests.fixtures.access import login_verified
from tests.mining.test_sync_durability import _REDIS_BASE, WorkerProcess, publish, wait_for
from tests.portal.statements_world import OCTOBER, bill, customers_make, system

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
BROKER_URL = f"{_REDIS_BASE}/11"  # a database of its own: the durability tests flush theirs


def test_a_real_worker_builds_the_pdf_zip_with_progress(world, client, tmp_path):
    customers = [world.customer_a1, *customers_make(world.provider_a, 3)]
    bill(world.provider_a, customers)
    job, created = export_job_start(scope=system(world.provider_a), period=OCTOBER, kind="month_pdf_zip",
                                    now=timezone.now())
    assert created and job.total == 4
    queue = f"test-export-{job.pk}-{world.provider_a.pk}"
    worker = WorkerProcess(queue, BROKER_URL, BILLING_EXPORT_DIR=str(tmp_path)).start()
    try:
        publish("billing.tasks.billing_export_build_task", queue, BROKER_URL, args=[world.provider_a.pk, job.pk])
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).status == ExportStatus.DONE, 120, "the export job")
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.done == job.total == 4 and job.attempts == 1 and job.file_path.startswith(str(tmp_path))
    login_verified(client, world.alice)
    html = client.get(f"/p/alpha/billing/exports/{job.pk}/").content.decode()
    assert "Download" in html and job.file_sha256 in html
    response = client.get(f"/p/alpha/billing/exports/{job.pk}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == sorted(f"{c.slug}-2026-10.pdf" for c in customers)
    assert all(archive.read(name).startswith(b"%PDF") for name in archive.namelist())
