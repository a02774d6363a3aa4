"""Dataset: workers/names (the online workers) into Worker rows and their online/offline moves."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from mining.models import MiningAccount, SyncDataset, Worker
from mining.selectors.workers import WorkerReading, worker_states_classify
from mining.services.sync.run import SyncRun, state_success
from mining.services.upsert import RowCounts


def sync_workers(run: SyncRun, now: datetime) -> None:
    """`workers/names` lists online workers only: the ones missing from it are offline from now on.

    Three statements at most, whatever the fleet size: new workers, status moves, and the "last seen" stamp.
    """
    client, account, report = run.client, run.account, run.report
    online = set(client.worker_names_all(account=account.name))
    with transaction.atomic():
        run.lock_owner()
        state = run.state(SyncDataset.WORKERS)
        existing = dict(Worker.objects.filter(account=account).values_list("name", "status"))
        new_names = sorted(online - existing.keys())
        back_online = [n for n, st in existing.items() if n in online and st == Worker.Status.OFFLINE]
        gone_offline = [n for n, st in existing.items() if n not in online and st != Worker.Status.OFFLINE]
        if new_names:
            Worker.objects.bulk_create(
                [Worker(**run.owner_at(now), account=account, name=name, status=Worker.Status.ONLINE,
                        first_seen_at=now, last_seen_online_at=now) for name in new_names],
                ignore_conflicts=True,
            )
        workers = Worker.objects.filter(account=account)
        if back_online:
            # Its last 0 H/s was the outage, not a reading of it now: unknown until its next hourly point.
            workers.filter(name__in=back_online).update(status=Worker.Status.ONLINE, offline_since_at=None,
                                                        current_hashrate_hs=None)
        if gone_offline:
            workers.filter(name__in=gone_offline).update(
                status=Worker.Status.OFFLINE, offline_since_at=now, current_hashrate_hs=Decimal(0)
            )
        # Bookkeeping, not a data change: it does not count as an update.
        workers.filter(name__in=online - set(new_names)).update(last_seen_online_at=now)
        restated = worker_states_refresh(account_id=account.pk,
                                         moved=set(back_online) | set(gone_offline) | set(new_names))
        changed = len(back_online) + len(gone_offline) + restated
        counts = RowCounts(created=len(new_names), updated=changed, unchanged=len(existing) - changed)
        report.count("Worker", counts)
        state_success(state, now=now, counts=counts, watermark_at=now)


def worker_states_refresh(*, account_id: int, moved: set[str] = frozenset()) -> int:
    """Write each listed worker's state (online, low, zero) by the one definition (`worker_states_classify`), from
    the pool's low count on the account row and the workers' hourly points; returns how many rows changed, not
    counting the names in `moved` (already counted by the caller as created or moved).

    Runs in the workers dataset (every cycle: the listing and the pool's counts are fresh) and after the
    worker-hashrate read (the points it ranks by are fresh). Rows whose state did not change are not written.
    """
    pool_low = MiningAccount.objects.filter(pk=account_id).values_list("workers_low", flat=True).first() or 0
    rows = list(Worker.objects.filter(account_id=account_id).only("pk", "name", "status", "current_hashrate_hs",
                                                                   "hashrate_24h_hs"))
    states = worker_states_classify(readings=[
        WorkerReading(w.name, w.status != Worker.Status.OFFLINE, w.current_hashrate_hs, w.hashrate_24h_hs)
        for w in rows
    ], pool_low=pool_low)
    changed = [w for w in rows if states[w.name] != w.status]
    for w in changed:
        w.status = states[w.name]
    Worker.objects.bulk_update(changed, ["status"], batch_size=500)
    return len([w for w in changed if w.name not in moved])
