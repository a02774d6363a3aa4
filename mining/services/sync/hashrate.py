"""Dataset: the account's hashrate series (5-minute points from the pool, hourly and daily rolled up here)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count
from django.db.models.functions import Trunc

from mining.models import AccountHashrateSample, Interval, MiningAccount, SyncDataset
from mining.services.sync.run import SyncRun, quantize, state_success
from mining.services.upsert import RowCounts, rows_upsert

HS_PLACES = Decimal("0.000001")
REJECT_PLACES = Decimal("0.00000001")
FIVE_MIN_WINDOW = timedelta(days=3)  # the pool's maximum window per interval (contract §3.4)
HOUR_WINDOW = timedelta(days=7)
DAY_WINDOW = timedelta(days=30)


def _hashrate_rows(run: SyncRun, interval: str, points) -> list[dict[str, Any]]:
    account = run.account
    return [
        {
            **run.owner_at(p.at),
            "account_id": account.pk,
            "interval": interval,
            "at": p.at,
            "hashrate_hs": quantize(p.hashrate_hs, HS_PLACES),
            "reject_rate": quantize(p.reject_rate, REJECT_PLACES),
        }
        for p in points
    ]


def _account_samples_upsert(account: MiningAccount, interval: str, rows: list[dict[str, Any]]) -> RowCounts:
    if not rows:
        return RowCounts()
    ats = [r["at"] for r in rows]
    existing = AccountHashrateSample.objects.filter(
        account=account, interval=interval, at__gte=min(ats), at__lte=max(ats)
    )
    return rows_upsert(
        model=AccountHashrateSample,
        existing=existing,
        key=lambda o: o["at"] if isinstance(o, dict) else o.at,
        rows=rows,
        unique_fields=["account", "interval", "at"],
        compare_fields=["hashrate_hs", "reject_rate"],
    )


def _rollup(run: SyncRun, *, source: str, target: str, unit: str, points_per_bucket: int,
            since: datetime, now: datetime) -> RowCounts:
    """Derive hourly (daily) points from complete sets of 5-minute (hourly) points, as the pool does.

    Only complete buckets, plus the current incomplete one, are written, so an hour whose 5-minute points are
    partly outside our data keeps the value the pool gave for it.
    """
    account = run.account
    start = since.replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        start = start.replace(hour=0)
    buckets = (
        AccountHashrateSample.objects.filter(account=account, interval=source, at__gte=start)
        .annotate(bucket=Trunc("at", unit))
        .values("bucket")
        .annotate(mean=Avg("hashrate_hs"), reject=Avg("reject_rate"), n=Count("id"))
        .order_by("bucket")
    )
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    rows = []
    for b in buckets:
        is_current = b["bucket"] + step > now
        if b["n"] < points_per_bucket and not is_current:
            continue
        rows.append({
            **run.owner_at(b["bucket"]),
            "account_id": account.pk,
            "interval": target,
            "at": b["bucket"],
            "hashrate_hs": quantize(Decimal(b["mean"]), HS_PLACES),
            "reject_rate": quantize(Decimal(b["reject"]), REJECT_PLACES) if b["reject"] is not None else None,
        })
    return _account_samples_upsert(account, target, rows)


def sync_account_hashrate(run: SyncRun, now: datetime) -> None:
    client, account, report = run.client, run.account, run.report
    state = run.state(SyncDataset.HASHRATE_5M)
    overlap = timedelta(seconds=settings.MINING_HASHRATE_OVERLAP_S)
    floor = now - FIVE_MIN_WINDOW + timedelta(minutes=5)
    first_sync = state.watermark_at is None
    from_at = floor if first_sync else max(floor, state.watermark_at - overlap)
    five = client.account_hashrate(account=account.name, interval="5m", from_at=from_at, to_at=now)
    backfill = {}
    if first_sync:
        # History older than the 5-minute window comes at coarser grain, once.
        backfill[Interval.H1] = client.account_hashrate(
            account=account.name, interval="1h", from_at=now - HOUR_WINDOW, to_at=from_at
        ).points
        backfill[Interval.D1] = client.account_hashrate(
            account=account.name, interval="24h", from_at=now - DAY_WINDOW, to_at=now - HOUR_WINDOW
        ).points
    with transaction.atomic():
        run.lock_owner()
        counts = RowCounts()
        for interval, points in backfill.items():
            counts.add(_account_samples_upsert(account, interval, _hashrate_rows(run, interval, points)))
        rows = _hashrate_rows(run, Interval.M5, five.points)
        five_counts = _account_samples_upsert(account, Interval.M5, rows)
        counts.add(five_counts)
        # Roll up only what changed: a re-read of unchanged points costs no aggregate queries.
        if five_counts.created or five_counts.updated:
            since = min(r["at"] for r in rows)
            hour_counts = _rollup(run, source=Interval.M5, target=Interval.H1, unit="hour",
                                  points_per_bucket=12, since=since, now=now)
            counts.add(hour_counts)
            if hour_counts.created or hour_counts.updated or backfill:
                counts.add(_rollup(run, source=Interval.H1, target=Interval.D1, unit="day",
                                   points_per_bucket=24, since=since, now=now))
        report.count("AccountHashrateSample", counts)
        watermark = max((p.at for p in five.points), default=None)
        state_success(state, now=now, counts=counts, watermark_at=watermark)
