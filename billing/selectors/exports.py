"""Reads of month export jobs: the newest job of each kind for a month (the statements page polls it).
"""

from __future__ import annotations

from datetime import date

from billing.models import ExportJob
from tenants.access import Scope, scoped


def export_jobs_latest(*, scope: Scope, period: date) -> dict[str, ExportJob]:
    """The newest export job of each kind for the month (one query)."""
    latest: dict[str, ExportJob] = {}
    for job in scoped(ExportJob, scope).filter(period=period).order_by("-created_at", "-pk")[:20]:
        latest.setdefault(job.kind, job)
    return latest
