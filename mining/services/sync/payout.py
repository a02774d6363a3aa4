"""Dataset: the payout destination; adopted when the portal has none, flagged as drift when they differ."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from mining.models import MiningAccount, SyncDataset
from mining.services.sync.run import SyncRun, state_done, states_flush
from mining.services.upsert import RowCounts


def fetch_payout(run: SyncRun, now: datetime):
    return run.client.payout_destination_get(account=run.account.name)


def write_payout(run: SyncRun, now: datetime, payout) -> None:
    """Adopt the pool's destination when the portal has no record, flag drift when they differ.

    Compared with the row as read under the lock (`run.locked`): a user may be setting the destination through
    the portal right now, and the lock makes that write wait for this transaction or this one wait for it.
    """
    account, report = run.account, run.report
    current = MiningAccount(pk=account.pk, **{k: v for k, v in run.locked.items() if k != "sync_lease_token"})
    values: dict[str, Any] = {
        "upstream_payout_destination": payout.destination,
        "upstream_payout_address": payout.address or "",
    }
    if not current.payout_destination:
        values["payout_destination"] = payout.destination
        values["payout_address"] = payout.address or ""
    diff = {k: v for k, v in values.items() if getattr(current, k) != v}
    for k, v in diff.items():
        setattr(current, k, v)
    drift_at = (current.payout_drift_detected_at or now) if current.payout_drift else None
    if drift_at != current.payout_drift_detected_at:
        diff["payout_drift_detected_at"] = current.payout_drift_detected_at = drift_at
    if diff:
        MiningAccount.objects.filter(pk=account.pk).update(**diff)
        for k, v in diff.items():
            setattr(account, k, v)
    counts = RowCounts(updated=1) if diff else RowCounts(unchanged=1)
    report.count("MiningAccount", counts)
    state_done(run, SyncDataset.PAYOUT, now=now, counts=counts, watermark_at=now)


def sync_payout(run: SyncRun, now: datetime) -> None:
    """Read the payout destination; adopt it when the portal has no record, flag drift when they differ."""
    payout = fetch_payout(run, now)
    with transaction.atomic():
        run.lock_owner()
        write_payout(run, now, payout)
        states_flush(run)
