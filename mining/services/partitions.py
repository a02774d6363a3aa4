"""The hashrate sample tables are partitioned by time, so years of history cost what one month costs.

Layout (PostgreSQL declarative partitioning, made by migration `hashrate_samples_partitioned_by_month`):

    mining_accounthashratesample            PARTITION BY LIST (interval)
      mining_accounthashratesample_5m       PARTITION BY RANGE (at): one table per UTC month, plus a default
      mining_accounthashratesample_1h       PARTITION BY RANGE (at): one table per UTC month, plus a default
      mining_accounthashratesample_24h      one table, kept for ever (a few hundred rows per account per year)
    mining_workerhashratesample             the same shape

Why: inserts and reads touch only the current months' small indexes, retention drops a whole month with one
`DROP TABLE` instead of deleting millions of rows out of one ever-growing table (and leaving bloat behind), and a
plan for "this account's last 24 hours" prunes every other month away. The primary key is (id, interval, at) in the
database (a partitioned table's unique keys must contain the partition key); Django still addresses rows by `id`.

Months are created ahead by beat (`mining.tasks.hashrate_partitions_ensure`, daily, `MINING_PARTITIONS_AHEAD_MONTHS`
ahead). A point outside every month (an old one re-read, or beat stopped for months) lands in the interval's default
partition rather than failing the sync; creating its month later moves those rows in (`month_partition_create`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

TABLES = ("mining_accounthashratesample", "mining_workerhashratesample")
RANGED_INTERVALS = ("5m", "1h")  # month partitions; "24h" is one partition kept for ever
ALL_INTERVALS = ("5m", "1h", "24h")
_MONTH_RE = re.compile(r"_p(\d{4})_(\d{2})$")


def retention_days(table: str, interval: str) -> int:
    """How long points of `interval` are kept in `table` (docs/SYNC.md: 5 m 35 days, 1 h 400 (workers 35))."""
    if interval == "5m":
        return settings.MINING_RETENTION_5M_DAYS
    if table == "mining_workerhashratesample":
        return settings.MINING_RETENTION_WORKER_1H_DAYS
    return settings.MINING_RETENTION_1H_DAYS


def month_start(at: datetime | date) -> datetime:
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def month_partition_name(table: str, interval: str, start: datetime) -> str:
    return f"{table}_{interval}_p{start.year:04d}_{start.month:02d}"


def month_partitions(table: str, interval: str) -> dict[datetime, str]:
    """The month partitions that exist for one table and interval: {first instant of the month: table name}."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass", [f"{table}_{interval}"],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = {}
    for name in names:
        match = _MONTH_RE.search(name)
        if match:
            found[datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)] = name
    return found


def month_partition_create(table: str, interval: str, start: datetime) -> bool:
    """Create the month partition starting at `start`; True when it was created (False: it already existed).

    Rows of that month already sitting in the default partition are moved into the new month in the same
    transaction, so none is lost and PostgreSQL's check that the default holds nothing of the month passes.
    """
    name = month_partition_name(table, interval, start)
    parent, default = f"{table}_{interval}", f"{table}_{interval}_default"
    lo, hi = start, next_month(start)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{default}" WHERE "at" >= %s AND "at" < %s)', [lo, hi])  # noqa: S608
        if not cursor.fetchone()[0]:
            cursor.execute(f'CREATE TABLE "{name}" PARTITION OF "{parent}" FOR VALUES FROM (%s) TO (%s)', [lo, hi])
            return True
        cursor.execute(f'CREATE TABLE "{name}" (LIKE "{parent}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        cursor.execute(
            f'WITH moved AS (DELETE FROM "{default}" WHERE "at" >= %s AND "at" < %s RETURNING *) '  # noqa: S608
            f'INSERT INTO "{name}" SELECT * FROM moved', [lo, hi],
        )
        cursor.execute(f'ALTER TABLE "{parent}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)', [lo, hi])
    return True


def months_wanted(table: str, interval: str, now: datetime, ahead: int | None = None) -> list[datetime]:
    """Every month that may hold points still kept at `now`, through `ahead` months after the current one."""
    ahead = settings.MINING_PARTITIONS_AHEAD_MONTHS if ahead is None else ahead
    start = month_start(now - timedelta(days=retention_days(table, interval)))
    last = month_start(now)
    for _ in range(ahead):
        last = next_month(last)
    months = []
    while start <= last:
        months.append(start)
        start = next_month(start)
    return months


def hashrate_partitions_ensure(*, now: datetime, ahead: int | None = None) -> list[str]:
    """Create every month partition that should exist at `now` (kept months and `ahead` to come); the new names.

    Idempotent: beat runs it daily, so a month exists weeks before its first point arrives.
    """
    created = []
    for table in TABLES:
        for interval in RANGED_INTERVALS:
            have = month_partitions(table, interval)
            for start in months_wanted(table, interval, now, ahead):
                if start not in have and month_partition_create(table, interval, start):
                    created.append(month_partition_name(table, interval, start))
    return created


def hashrate_partitions_drop_expired(*, now: datetime) -> dict[str, int]:
    """Drop each month partition whose whole month is past its retention at `now`; rows removed per table:interval.

    A month is dropped once its last instant is older than the cutoff, never earlier: a partition holding any
    point younger than the retention stays.
    """
    dropped: dict[str, int] = {}
    for table in TABLES:
        for interval in RANGED_INTERVALS:
            cutoff = now - timedelta(days=retention_days(table, interval))
            rows = 0
            for start, name in sorted(month_partitions(table, interval).items()):
                if next_month(start) > cutoff:
                    continue
                with transaction.atomic(), connection.cursor() as cursor:
                    # Rows written earlier in the caller's transaction have deferred foreign-key checks pending,
                    # and PostgreSQL refuses to drop a table with pending trigger events: run them now.
                    connection.check_constraints()
                    cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608
                    rows += cursor.fetchone()[0]
                    cursor.execute(f'DROP TABLE "{name}"')
            dropped[f"{table}:{interval}"] = rows
    return dropped
