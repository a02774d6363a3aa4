"""Dataset: hourly hashrate per worker, at a slower cadence than the rest (docs/SYNC.md has the budget)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Max

from mining.models import Interval, MiningAccount, SyncDataset, Worker, WorkerHashrateSample
from mining.services.sync.hashrate import complete_at
from mining.services.sync.run import SyncRun, quantize, state_success
from mining.services.sync.workers import worker_states_refresh
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
    floor = now - HOUR_WINDOW  # the window's first edge is a point too
    # Per worker, from its own newest point: a worker first seen late (offline at the first sync) still gets the
    # pool's whole 7-day window, and one seen before resumes with an overlap of at least one point.
    newest = dict(
        WorkerHashrateSample.objects.filter(account=account, interval=Interval.H1)
        .values("worker_id").annotate(newest=Max("at")).values_list("worker_id", "newest")
    )
    from_at = {}
    for w in Worker.objects.filter(account=account):
        start = floor if newest.get(w.pk) is None else max(floor, newest[w.pk] - overlap)
        # An offline worker is read until its points reach past the moment it went offline.
        if w.status == Worker.Status.OFFLINE and w.offline_since_at is not None and w.offline_since_at < start:
            continue
        from_at[w.pk] = (w, start)
    workers = [w for w, _ in from_at.values()]
    fetched = {
        pk: complete_at(client.worker_hashrate(account=account.name, worker=w.name, interval="1h", from_at=start,
                                               to_at=now).points, timedelta(hours=1), now)
        for pk, (w, start) in from_at.items()
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
        worker_means_refresh(account_id=account.pk)
        restated = worker_states_refresh(account_id=account.pk)
        if restated:
            report.count("Worker", RowCounts(updated=restated))
        MiningAccount.objects.filter(pk=account.pk).update(worker_hashrate_synced_at=now)
        report.count("WorkerHashrateSample", counts)
        state_success(state, now=now, counts=counts, watermark_at=watermark)



def worker_means_refresh(*, account_id: int, workers=None, samples=None) -> int:
    """Write each worker's 24 h mean (up to the account's newest hourly point) onto its row; returns rows changed.

    Rows whose mean did not change are not written, so a re-sync changes nothing; a worker with no point in the
    window gets NULL (the table shows "–" rather than a stale mean). `workers`/`samples` are the model classes,
    so the data migration that fills the column for existing data runs this same code.
    """
    workers = workers or Worker
    samples = samples or WorkerHashrateSample
    series = samples.objects.filter(account_id=account_id, interval=Interval.H1)
    anchor = series.order_by("-at").values_list("at", flat=True).first()
    means = {}
    if anchor is not None:
        means = dict(
            series.filter(at__gt=anchor - timedelta(hours=24), at__lte=anchor)
            .values("worker_id").annotate(mean=Avg("hashrate_hs")).values_list("worker_id", "mean")
        )
    changed = []
    for worker in workers.objects.filter(account_id=account_id).only("pk", "hashrate_24h_hs", "hashrate_24h_until_at"):
        mean = means.get(worker.pk)
        value = None if mean is None else quantize(Decimal(mean), HS_PLACES)
        until = None if mean is None else anchor
        if (worker.hashrate_24h_hs, worker.hashrate_24h_until_at) != (value, until):
            worker.hashrate_24h_hs, worker.hashrate_24h_until_at = value, until
            changed.append(worker)
    workers.objects.bulk_update(changed, ["hashrate_24h_hs", "hashrate_24h_until_at"], batch_size=500)
    return len(changed)
