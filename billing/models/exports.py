"""Export jobs: the month workbook and the statements ZIP are built by a task, one active job per month and kind.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models import Provider


class ExportKind(models.TextChoices):
    MONTH_XLSX = "month_xlsx", "Month workbook (XLSX: summary and every line)"
    MONTH_PDF_ZIP = "month_pdf_zip", "Every customer's PDF statement (ZIP)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Building"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """A large export of a closed month built by a Celery task, so the page can show its progress.

    Why a row and a lease: the page polls this row; the worker writes `done` and `heartbeat_at` as it goes. A job
    whose heartbeat is older than the lease (a killed worker, a lost queue) is marked failed with the reason, and
    staff retry it. At most one queued or running job per provider, month and kind: a double click reuses it.
    """

    TENANT_CUSTOMER_FIELD = None

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    kind = models.CharField(max_length=16, choices=ExportKind.choices)
    period = models.DateField(help_text="First day of the month.")
    status = models.CharField(max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_size = models.BigIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the building worker.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "period", "kind"], condition=models.Q(status__in=["queued", "running"]),
                name="billing_export_one_active_per_month_kind",
            )
        ]
        indexes = [models.Index(fields=["provider", "period", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.period:%Y-%m} ({self.status})"
