"""Retention for hashrate series: fine points are only needed while someone looks at them closely.

5-minute points are kept `MINING_RETENTION_5M_DAYS` (35), an account's hourly ones `MINING_RETENTION_1H_DAYS` (400),
a worker's hourly ones `MINING_RETENTION_WORKER_1H_DAYS` (35: there are ~20 workers per account, and 400 days of them
would be ~192 M rows for 1,000 accounts; 35 days is ~17 M rows, ~3.8 GB, docs/OPERATIONS.md); daily points are kept
for ever (a few hundred rows per account per year). The hourly and daily series are the pool's own, copied alongside
the 5-minute ones (docs/SYNC.md), so dropping old 5-minute points loses no resolution anyone bills on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from mining.models import AccountHashrateSample, Interval, WorkerHashrateSample
from tenants.access import UNSCOPED_across_all_tenants


def hashrate_retention_apply(*, now: datetime) -> dict[str, int]:
    """Delete points past retention, for every tenant at once (a platform job; it returns only counts)."""
    deleted = {}
    hourly_days = {AccountHashrateSample: settings.MINING_RETENTION_1H_DAYS,
                   WorkerHashrateSample: settings.MINING_RETENTION_WORKER_1H_DAYS}
    for model in (AccountHashrateSample, WorkerHashrateSample):
        for interval, days in ((Interval.M5, settings.MINING_RETENTION_5M_DAYS), (Interval.H1, hourly_days[model])):
            qs = UNSCOPED_across_all_tenants(model, reason="retention: delete old points").filter(
                interval=interval, at__lt=now - timedelta(days=days)
            )
            deleted[f"{model.__name__}:{interval}"] = qs.delete()[0]
    return deleted
