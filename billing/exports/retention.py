"""Built export files are kept `RETENTION_EXPORT_DAYS` (90) and then removed; the job row stays as the record.

Why: a closed month never changes (its content hash is checked on every export), so an old workbook or PDF archive
can always be built again with the same figures; keeping every build for ever only fills the disk. The job is marked
failed with the reason in words, and the page offers "Build again" (templates/portal/staff/billing/_export_job.html).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings

from billing.models import ExportJob, ExportStatus
from tenants.access import UNSCOPED_across_all_tenants


def export_files_prune(*, now: datetime, days: int | None = None) -> int:
    """Remove the files of jobs finished more than `days` ago. Returns how many jobs lost their file."""
    days = settings.RETENTION_EXPORT_DAYS if days is None else days
    old = UNSCOPED_across_all_tenants(ExportJob, reason="retention: old export files").filter(
        status=ExportStatus.DONE, finished_at__lt=now - timedelta(days=days))
    removed = 0
    for job in old.iterator():
        if job.file_path:
            Path(job.file_path).unlink(missing_ok=True)
        # Conditional on the state read: a job rebuilt meanwhile is a new row, so this touches only this one.
        removed += ExportJob.objects.filter(pk=job.pk, status=ExportStatus.DONE).update(
            status=ExportStatus.FAILED, file_path="", error=(
                f"The file was removed {days} days after it was built, to bound storage. The month is closed and "
                "its figures cannot change: build it again to download the same export."))
    return removed
