"""Retention for hashrate series: fine points are only needed while someone looks at them closely.

5-minute points are kept `MINING_RETENTION_5M_DAYS` (35), an account's hourly ones `MINING_RETENTION_1H_DAYS` (400),
a worker's hourly ones `MINING_RETENTION_WORKER_1H_DAYS` (35: there are ~20 workers per account, and 400 days of them
would be ~192 M rows for 1,000 accounts; 35 days is ~17 M rows, ~3.8 GB, docs/OPERATIONS.md); daily points are kept
for ever (a few hundred rows per account per year). The hourly and daily series are the pool's own, copied alongside
the 5-minute ones (docs/SYNC.md), so dropping old 5-minute points loses no resolution anyone bills on.

The tables are partitioned by month (`mining/services/partitions.py`): a month past its retention is dropped whole
(`DROP TABLE`, no row deletes, no bloat). With `MINING_RETENTION_EXACT_DAYS` (the default) the oldest kept month is
also trimmed to the exact day count, a delete that touches only that one month (and the default partition);
without it, points leave with their whole month, up to a month after their day count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from mining.models import AccountHashrateSample, WorkerHashrateSample
from mining.services.partitions import RANGED_INTERVALS, hashrate_partitions_drop_expired, retention_days
from tenants.access import UNSCOPED_across_all_tenants


def hashrate_retention_apply(*, now: datetime) -> dict[str, int]:
    """Remove points past retention, for every tenant at once (a platform job; it returns only counts)."""
    dropped = hashrate_partitions_drop_expired(now=now)
    deleted = {}
    for model in (AccountHashrateSample, WorkerHashrateSample):
        table = model._meta.db_table
        for interval in RANGED_INTERVALS:
            cutoff = now - timedelta(days=retention_days(table, interval))
            if settings.MINING_RETENTION_EXACT_DAYS:
                qs = UNSCOPED_across_all_tenants(model, reason="retention: delete old points").filter(
                    interval=interval, at__lt=cutoff
                )  # pruned by PostgreSQL to the months before the cutoff that are still there: one, and the default
                trimmed = qs.delete()[0]
            else:
                with connection.cursor() as cursor:
                    cursor.execute(f'DELETE FROM "{table}_{interval}_default" WHERE "at" < %s', [cutoff])  # noqa: S608
                    trimmed = cursor.rowcount
            deleted[f"{model.__name__}:{interval}"] = dropped[f"{table}:{interval}"] + trimmed
    return deleted
