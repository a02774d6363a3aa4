"""Dataset: miners/info (pool fee, stratum URLs, worker counts) onto the account row."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from mining.models import MiningAccount, SyncDataset
from mining.services.sync.run import SyncRun, state_done, states_flush
from mining.services.upsert import RowCounts
from mining.whitebit.types import UpstreamMinerInfo


def miner_info_values(info: UpstreamMinerInfo) -> dict:
    """The account row's fields that miners/info fills (the sync and the onboarding hand-over share them)."""
    return {
        "pool_fee_percent": info.fee_percent,
        "workers_online": info.workers_online,
        "workers_offline": info.workers_offline,
        "workers_low": info.workers_low,
        "stratum_urls": [{"url": s.url, "workers_count": s.workers_count} for s in info.stratum],
    }


def fetch_miner_info(run: SyncRun, now: datetime) -> UpstreamMinerInfo:
    return run.client.miner_info(account=run.account.name)


def write_miner_info(run: SyncRun, now: datetime, info: UpstreamMinerInfo) -> None:
    """Inside the sync's write transaction (the account row locked): only the fields that changed are written."""
    account, report = run.account, run.report
    values = miner_info_values(info)
    changed = [k for k, v in values.items() if getattr(account, k) != v]
    for k in changed:
        setattr(account, k, values[k])
    if changed:
        MiningAccount.objects.filter(pk=account.pk).update(**{k: values[k] for k in changed})
    counts = RowCounts(updated=1) if changed else RowCounts(unchanged=1)
    report.count("MiningAccount", counts)
    state_done(run, SyncDataset.MINER_INFO, now=now, counts=counts, watermark_at=now)


def sync_miner_info(run: SyncRun, now: datetime) -> None:
    info = fetch_miner_info(run, now)
    with transaction.atomic():
        run.lock_owner()
        write_miner_info(run, now, info)
        states_flush(run)
