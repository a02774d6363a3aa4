"""Staff's side of month exports built in the background: start a job, build a failed one again, fetch the file.

Why apart from the build (`billing.exports.jobs`): starting a job enqueues the task, and the task runs the build;
keeping the two in separate modules keeps the arrows one way (`services.exports -> tasks -> exports.jobs`).
* one queued or running job per provider, month and kind (a partial unique index): a double click, a second tab
  or a second person gets the same job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.exports.jobs import (
    ACTIVE,
    CONTENT_TYPE,
    SUFFIX,
    export_jobs_expire,
    file_sha256,
)
from billing.models import ExportJob, ExportKind, ExportStatus, Statement
from billing.selectors.months import billing_month_is_closed
from billing.tasks import billing_export_build_task
from tenants.access import Capability, Scope, get_in_scope, scoped
from tenants.audit import audit_record
from tenants.errors import NotAllowed


def _staff_only(scope: Scope) -> None:
    scope.require(Capability.VIEW)
    if scope.customer_id is not None:
        raise NotAllowed("A month's exports cover every customer: provider staff only.")


def _enqueue(job: ExportJob) -> None:
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
    if not path.is_file() or file_sha256(path) != job.file_sha256:
        raise ValidationError({"job": (
            "The built file is missing or no longer matches the SHA-256 recorded when it was built; nothing was "
            "sent. Build the export again.")})
    label = "statements-pdf" if job.kind == ExportKind.MONTH_PDF_ZIP else "workbook"
    return ExportFile(path, f"billing-{job.period:%Y-%m}-{label}.{SUFFIX[job.kind]}", CONTENT_TYPE[job.kind])


