"""Dataset: the payout destination; adopted when the portal has none, flagged as drift when they differ."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from mining.models import MiningAccount, SyncDataset
from mining.services.sync.run import SyncRun, state_success
from mining.services.upsert import RowCounts


def sync_payout(run: SyncRun, now: datetime) -> None:
    """Read the payout destination; adopt it when the portal has no record, flag drift when they differ."""
    client, account, report = run.client, run.account, run.report
    payout = client.payout_destination_get(account=account.name)
    with transaction.atomic():
        run.lock_owner()
        state = run.state(SyncDataset.PAYOUT)
        # Fresh and locked: a user may be setting the destination through the portal right now.
        current = MiningAccount.objects.select_for_update().get(pk=account.pk)
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
        state_success(state, now=now, counts=counts, watermark_at=now)
