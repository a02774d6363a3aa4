"""Dataset: workers/names (the online workers) into Worker rows and their online/offline moves."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from mining.models import SyncDataset, Worker
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
            workers.filter(name__in=back_online).update(status=Worker.Status.ONLINE, offline_since_at=None)
        if gone_offline:
            workers.filter(name__in=gone_offline).update(
                status=Worker.Status.OFFLINE, offline_since_at=now, current_hashrate_hs=Decimal(0)
            )
        # Bookkeeping, not a data change: it does not count as an update.
        workers.filter(name__in=online - set(new_names)).update(last_seen_online_at=now)
        changed = len(back_online) + len(gone_offline)
        counts = RowCounts(created=len(new_names), updated=changed, unchanged=len(existing) - changed)
        report.count("Worker", counts)
        state_success(state, now=now, counts=counts, watermark_at=now)
