"""A month export killed mid-build leaves nothing half-built behind (issue 17, item 6).

A real `celery worker` builds every customer's PDF into the job's temp folder (`.job-<id>-…/`) and is SIGKILLed
after the first few: no `finally` runs, so the folder and its PDFs stay. The beat sweep that fails the dead job
(`export_jobs_expire`) now also removes them; a live build's temp files are never touched.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from billing.exports.jobs import export_jobs_expire
from billing.models import ExportJob, ExportStatus
from billing.services.exports import export_job_start
from tests.mining.test_sync_durability import _REDIS_BASE, WorkerProcess, publish, wait_for
from tests.portal.statements_world import OCTOBER, bill, customers_make, system

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
BROKER_URL = f"{_REDIS_BASE}/11"  # the export worker tests' broker database (never flushed; queues are per test)


def _leftovers(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".")) if folder.is_dir() else []


def test_a_killed_export_leaves_no_temp_folder_after_the_sweep(world, tmp_path, settings):
    customers = [world.customer_a1, *customers_make(world.provider_a, 11)]
    bill(world.provider_a, customers)
    job, _ = export_job_start(scope=system(world.provider_a), period=OCTOBER, kind="month_pdf_zip",
                              now=timezone.now())
    folder = tmp_path / str(world.provider_a.pk)
    queue = f"test-export-kill-{job.pk}-{world.provider_a.pk}"
    worker = WorkerProcess(queue, BROKER_URL, BILLING_EXPORT_DIR=str(tmp_path)).start()
    try:
        publish("billing.tasks.billing_export_build_task", queue, BROKER_URL, args=[world.provider_a.pk, job.pk])
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).done >= 2, 120, "the build to be under way")
        worker.kill()
    finally:
        worker.stop()
    [workdir] = [p for p in _leftovers(folder) if p.name.startswith(f".job-{job.pk}-")]  # the reproduction
    assert any(workdir.glob("*.pdf"))
    # A live build of another job next to it is left alone.
    live, _ = export_job_start(scope=system(world.provider_a), period=OCTOBER, kind="month_xlsx",
                               now=timezone.now())
    later = timezone.now() + timedelta(seconds=settings.BILLING_EXPORT_LEASE_S + 1)
    ExportJob.objects.filter(pk=live.pk).update(status=ExportStatus.RUNNING, heartbeat_at=later)
    live_partial = folder / f".2026-10-month_xlsx-{live.pk}.xlsx.partial"
    live_partial.write_bytes(b"being written")
    settings.BILLING_EXPORT_DIR = tmp_path
    assert export_jobs_expire(now=later) == 1  # the dead job is failed with its reason …
    failed = ExportJob.objects.get(pk=job.pk)
    assert failed.status == ExportStatus.FAILED and "Nothing half-built is kept" in failed.error
    assert _leftovers(folder) == [live_partial]  # … and what it left is gone, the live one's file stays
    assert not [p for p in folder.iterdir() if p.suffix in {".zip", ".pdf"}]
