"""Dataset: miners/info (pool fee, stratum URLs, worker counts) onto the account row."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from mining.models import MiningAccount, SyncDataset
from mining.services.sync.run import SyncRun, state_success
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


def sync_miner_info(run: SyncRun, now: datetime) -> None:
    client, account, report = run.client, run.account, run.report
    info = client.miner_info(account=account.name)
    with transaction.atomic():
        run.lock_owner()
        state = run.state(SyncDataset.MINER_INFO)
        values = miner_info_values(info)
        changed = [k for k, v in values.items() if getattr(account, k) != v]
        for k in changed:
            setattr(account, k, values[k])
        if changed:
            MiningAccount.objects.filter(pk=account.pk).update(**{k: values[k] for k in changed})
        counts = RowCounts(updated=1) if changed else RowCounts(unchanged=1)
        report.count("MiningAccount", counts)
        state_success(state, now=now, counts=counts, watermark_at=now)
