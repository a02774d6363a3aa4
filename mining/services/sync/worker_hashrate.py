"""Dataset: hourly hashrate per worker, at a slower cadence than the rest (docs/SYNC.md has the budget)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from mining.models import Interval, MiningAccount, SyncDataset, Worker, WorkerHashrateSample
from mining.services.sync.run import SyncRun, quantize, state_success
from mining.services.upsert import RowCounts, rows_upsert

HS_PLACES = Decimal("0.000001")
HOUR_WINDOW = timedelta(days=7)


def sync_worker_hashrate(run: SyncRun, now: datetime) -> None:
    """Hourly points per worker, at a slower cadence than the rest (see docs/SYNC.md for the budget math).

    One request per worker (the pool has no batch call); one read and one bulk upsert for all of them.
    """
    client, account, report = run.client, run.account, run.report
    every = timedelta(seconds=settings.MINING_WORKER_HASHRATE_EVERY_S)
    if account.worker_hashrate_synced_at and account.worker_hashrate_synced_at + every > now:
        return
    state = run.state(SyncDataset.WORKER_HASHRATE)
    overlap = timedelta(seconds=settings.MINING_HASHRATE_OVERLAP_S) + timedelta(hours=1)
    floor = now - HOUR_WINDOW + timedelta(hours=1)
    backfill = now - timedelta(hours=settings.MINING_WORKER_HASHRATE_BACKFILL_H)
    from_at = backfill if state.watermark_at is None else max(floor, state.watermark_at - overlap)
    workers = list(
        Worker.objects.filter(account=account).exclude(status=Worker.Status.OFFLINE, offline_since_at__lt=from_at)
    )
    fetched = {
        w.pk: client.worker_hashrate(account=account.name, worker=w.name, interval="1h", from_at=from_at,
                                     to_at=now).points
        for w in workers
    }
    with transaction.atomic():
        run.lock_owner()
        rows = [
            {**run.owner_at(p.at), "account_id": account.pk, "worker_id": worker.pk, "interval": Interval.H1,
             "at": p.at, "hashrate_hs": quantize(p.hashrate_hs, HS_PLACES)}
            for worker in workers for p in fetched[worker.pk]
        ]
        counts = RowCounts()
        watermark = None
        if rows:
            existing = WorkerHashrateSample.objects.filter(
                account=account, interval=Interval.H1, at__gte=min(r["at"] for r in rows)
            )
            counts = rows_upsert(
                model=WorkerHashrateSample, existing=existing,
                key=lambda o: (o["worker_id"], o["at"]) if isinstance(o, dict) else (o.worker_id, o.at), rows=rows,
                unique_fields=["worker", "interval", "at"], compare_fields=["hashrate_hs"],
            )
            watermark = max(r["at"] for r in rows)
        latest = {}
        for worker in workers:
            points = fetched[worker.pk]
            if points and worker.status != Worker.Status.OFFLINE:
                value = quantize(max(points, key=lambda p: p.at).hashrate_hs, HS_PLACES)
                if worker.current_hashrate_hs != value:
                    latest[worker.pk] = value
        for pk, value in latest.items():
            Worker.objects.filter(pk=pk).update(current_hashrate_hs=value)
        MiningAccount.objects.filter(pk=account.pk).update(worker_hashrate_synced_at=now)
        report.count("WorkerHashrateSample", counts)
        state_success(state, now=now, counts=counts, watermark_at=watermark)
