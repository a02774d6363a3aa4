"""Month exports built in the background (XLSX workbook, every customer's PDF in a ZIP), with progress.

Why a job row: a month of thousands of customers takes minutes to render, longer than a page request may take.
Staff start a job; a Celery task builds the file with `billing.exports` (the same code as `export_billing`,
which checks every statement's content hash first) and writes `done`/`total` and a heartbeat as it goes; the page
polls the row. The file's SHA-256 is recorded when it is finished and checked again before it is served.

Failure rules (docs/BILLING.md, "Exports that take a while"):
* one queued or running job per provider, month and kind (a partial unique index): a double click, a second tab
  or a second person gets the same job;
* a worker claims the job with a conditional UPDATE (queued, or running with a heartbeat older than the lease),
  so a redelivered message never builds the same job twice at once;
* a job whose heartbeat is older than `BILLING_EXPORT_LEASE_S` (the worker was killed) or that no worker picked up
  within five leases (the queue was lost) is marked failed with that reason in words; staff press "Build again".
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.exports import export_pdf, export_xlsx
from billing.models import ExportJob, ExportKind, ExportStatus, Statement
from billing.selectors import billing_month_is_closed
from tenants.access import Capability, Scope, UNSCOPED_across_all_tenants, get_in_scope, scope_for_system, scoped
from tenants.audit import audit_record
from tenants.errors import NotAllowed
from tenants.models import Provider

logger = logging.getLogger(__name__)

ACTIVE = (ExportStatus.QUEUED, ExportStatus.RUNNING)
SUFFIX = {ExportKind.MONTH_XLSX: "xlsx", ExportKind.MONTH_PDF_ZIP: "zip"}
CONTENT_TYPE = {ExportKind.MONTH_XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ExportKind.MONTH_PDF_ZIP: "application/zip"}
HEARTBEAT_EVERY_S = 1.0


class ExportLost(Exception):
    """The job was taken away from this worker (marked failed after a missed heartbeat): stop building."""


def _lease() -> timedelta:
    return timedelta(seconds=settings.BILLING_EXPORT_LEASE_S)


def _staff_only(scope: Scope) -> None:
    scope.require(Capability.VIEW)
    if scope.customer_id is not None:
        raise NotAllowed("A month's exports cover every customer: provider staff only.")


def export_job_is_stale(job: ExportJob, *, now: datetime) -> bool:
    """Whether `export_jobs_expire` would fail this job now: the page polling it every second asks this first, so
    a healthy job's poll is a read, not two UPDATEs (the beat sweep does the rest)."""
    if job.status == ExportStatus.RUNNING:
        return job.heartbeat_at is not None and job.heartbeat_at < now - _lease()
    return job.status == ExportStatus.QUEUED and job.created_at < now - 5 * _lease()


def export_jobs_expire(*, now: datetime, provider_id: int | None = None) -> int:
    """Mark failed, with the reason, the jobs a dead worker or a lost queue left behind. Returns how many."""
    qs = UNSCOPED_across_all_tenants(ExportJob, reason="export job lease sweep")
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    died = qs.filter(status=ExportStatus.RUNNING, heartbeat_at__lt=now - _lease()).update(
        status=ExportStatus.FAILED, finished_at=now,
        error=(f"The worker building this export stopped answering (no sign of life for "
               f"{settings.BILLING_EXPORT_LEASE_S} s: it was killed or restarted). Nothing half-built is kept; "
               "build it again."))
    lost = qs.filter(status=ExportStatus.QUEUED, created_at__lt=now - 5 * _lease()).update(
        status=ExportStatus.FAILED, finished_at=now,
        error=(f"No worker picked this export up within {5 * settings.BILLING_EXPORT_LEASE_S // 60} minutes (the "
               "task queue was lost, or no worker is running). Build it again; if it stays queued, check the "
               "workers (docs/OPERATIONS.md)."))
    export_temp_sweep(now=now, provider_id=provider_id)
    return died + lost


_TEMP_NAMES = (re.compile(r"^\.job-(\d+)-"), re.compile(r"^\..*-(\d+)\.[a-z]+\.partial$"))


def export_temp_sweep(*, now: datetime, provider_id: int | None = None) -> int:
    """Remove what a killed build left behind: its `.job-<id>-…/` work folder (PDFs of some customers) and its
    `.….partial` file. Both carry the job's id; a live build's (running, heartbeat within the lease) are kept.

    Why: a build removes its temp files itself on any failure it sees (`finally`), but a worker that is SIGKILLed
    or loses its machine runs no `finally`; the job then says nothing half-built is kept, and this makes it so.
    Returns how many leftovers were removed.
    """
    root = Path(settings.BILLING_EXPORT_DIR)
    if provider_id is not None:
        folders = [root / str(provider_id)]
    else:
        folders = [d for d in root.iterdir() if d.is_dir()] if root.is_dir() else []
    live = set(UNSCOPED_across_all_tenants(ExportJob, reason="export temp sweep: live builds' ids").filter(
        status=ExportStatus.RUNNING, heartbeat_at__gte=now - _lease()).values_list("pk", flat=True))
    removed = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            match = next((m for m in (p.match(entry.name) for p in _TEMP_NAMES) if m), None)
            if match is None or int(match.group(1)) in live:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            logger.warning("billing export: removed %s, left behind by a build that stopped", entry)
            removed += 1
    return removed


def _enqueue(job: ExportJob) -> None:
    from billing.tasks import billing_export_build_task

    transaction.on_commit(lambda: billing_export_build_task.delay(job.provider_id, job.pk))


def export_job_start(*, scope: Scope, period: date, kind: str, now: datetime) -> tuple[ExportJob, bool]:
    """Start building an export of a closed month, or return the one already queued or running (created=False)."""
    _staff_only(scope)
    if kind not in ExportKind.values:
        raise ValidationError({"kind": f"“{kind}” is not an export this page builds."})
    if not billing_month_is_closed(scope=scope, period=period):
        raise ValidationError({"period": f"{period:%Y-%m} is not closed yet: close the month first, then export it."})
    export_jobs_expire(now=now, provider_id=scope.provider_id)
    active = scoped(ExportJob, scope).filter(period=period, kind=kind, status__in=ACTIVE)
    with transaction.atomic():
        existing = active.first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                job = ExportJob.objects.create(
                    provider_id=scope.provider_id, requested_by_id=scope.user_id, kind=kind, period=period,
                    total=scoped(Statement, scope).filter(period=period).count(), created_at=now)
        except IntegrityError:  # a second click won the race by a hair: its job is the one
            return active.get(), False
        audit_record(scope=scope, action="billing_export.start", target=job,
                     after={"kind": kind, "period": f"{period:%Y-%m}"})
        _enqueue(job)
    return job, True


def export_job_retry(*, scope: Scope, job_id: int, now: datetime) -> tuple[ExportJob, bool]:
    """Build a failed job's export again (a new job; the failed one stays as the record of what happened)."""
    _staff_only(scope)
    job = get_in_scope(ExportJob, scope, pk=job_id)
    return export_job_start(scope=scope, period=job.period, kind=job.kind, now=now)


@dataclass(frozen=True)
class ExportFile:
    path: Path
    filename: str
    content_type: str


def export_job_file(*, scope: Scope, job_id: int) -> ExportFile:
    """The finished file of a job, its SHA-256 checked against the one recorded when it was built."""
    _staff_only(scope)
    job = get_in_scope(ExportJob, scope, pk=job_id)
    if job.status != ExportStatus.DONE:
        raise ValidationError({"job": "This export is not ready yet."})
    path = Path(job.file_path)
    if not path.is_file() or _sha256(path) != job.file_sha256:
        raise ValidationError({"job": (
            "The built file is missing or no longer matches the SHA-256 recorded when it was built; nothing was "
            "sent. Build the export again.")})
    label = "statements-pdf" if job.kind == ExportKind.MONTH_PDF_ZIP else "workbook"
    return ExportFile(path, f"billing-{job.period:%Y-%m}-{label}.{SUFFIX[job.kind]}", CONTENT_TYPE[job.kind])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _claim(scope: Scope, job_id: int, now: datetime) -> ExportJob | None:
    from django.db.models import F, Q

    claimable = Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=now - _lease())
    claimed = scoped(ExportJob, scope).filter(claimable, pk=job_id).update(
        status=ExportStatus.RUNNING, heartbeat_at=now, done=0, attempts=F("attempts") + 1)
    return scoped(ExportJob, scope).get(pk=job_id) if claimed else None


def _progress(scope: Scope, job: ExportJob, clock: Callable[[], datetime]) -> Callable[[int], None]:
    """Report `done` and a heartbeat: the first customer, then at most once a second, and the last one."""
    last: list[datetime | None] = [None]

    def report(done: int) -> None:
        now = clock()
        if last[0] is not None and done < job.total and (now - last[0]).total_seconds() < HEARTBEAT_EVERY_S:
            return
        last[0] = now
        if not scoped(ExportJob, scope).filter(pk=job.pk, status=ExportStatus.RUNNING).update(
                done=min(done, job.total), heartbeat_at=now):
            raise ExportLost(job.pk)

    return report


def _build(scope: Scope, job: ExportJob, target: Path, report: Callable[[int], None]) -> None:
    if job.kind == ExportKind.MONTH_XLSX:
        export_xlsx(scope=scope, period=job.period, path=target, detail=True, progress=report)
        return
    name = get_in_scope(Provider, scope, pk=scope.provider_id).name
    workdir = Path(tempfile.mkdtemp(prefix=f".job-{job.pk}-", dir=target.parent))
    partial = target.with_name(f".{target.name}.partial")
    try:
        pdfs = export_pdf(scope=scope, period=job.period, directory=workdir, provider_name=name, progress=report)
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for pdf in pdfs:
                archive.write(pdf, arcname=pdf.name)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


def export_job_run(*, provider_id: int, job_id: int, clock: Callable[[], datetime] = timezone.now) -> str:
    """Build one job's file (the task's body). Returns what happened: done, failed, skipped or lost."""
    scope = scope_for_system(provider_id=provider_id, actor="task:billing_export")
    job = _claim(scope, job_id, clock())
    if job is None:
        return "skipped"  # done, failed, or being built by a live worker: a redelivered message does nothing
    directory = Path(settings.BILLING_EXPORT_DIR) / str(provider_id)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{job.period:%Y-%m}-{job.kind}-{job.pk}.{SUFFIX[job.kind]}"
    try:
        _build(scope, job, target, _progress(scope, job, clock))
    except ExportLost:
        target.unlink(missing_ok=True)
        return "lost"
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except Exception as exc:  # recorded on the row in words; the traceback goes to the log
        logger.exception("billing export job %s failed", job.pk)
        error = f"Building the export failed unexpectedly ({type(exc).__name__}); the worker's log has the details."
    else:
        finished = scoped(ExportJob, scope).filter(pk=job.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.DONE, done=job.total, file_path=str(target), file_sha256=_sha256(target),
            file_size=target.stat().st_size, finished_at=clock(), heartbeat_at=clock(), error="")
        if not finished:
            target.unlink(missing_ok=True)
            return "lost"
        return "done"
    target.unlink(missing_ok=True)
    scoped(ExportJob, scope).filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.FAILED, error=error[:500], finished_at=clock())
    return "failed"
