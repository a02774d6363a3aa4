"""Dataset: daily FPPS rewards, upserted on (account, date); statuses only move forward."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Min

from mining.models import Reward, RewardStatus, RewardStatusChange, SyncDataset
from mining.services.sync.run import SyncRun, quantize, state_success
from mining.services.upsert import RowCounts, rows_upsert
from mining.whitebit.amounts import btc_to_sats

HS_PLACES = Decimal("0.000001")
FPPS_PLACES = Decimal("1e-24")
FINAL_STATUSES = {RewardStatus.SUCCESSFUL, RewardStatus.CANCELED}


def _reward_row(run: SyncRun, r) -> dict[str, Any]:
    account = run.account
    return {
        **run.owner_on(r.date_at.date()),
        "account_id": account.pk,
        "date": r.date_at.date(),
        "reward_at": r.date_at,
        "currency": r.currency,
        "total_reward_sats": btc_to_sats(r.total_reward),
        "reward_sats": btc_to_sats(r.reward),
        "fee_sats": btc_to_sats(r.fee),
        "fpps_rate": quantize(r.fpps_rate, FPPS_PLACES),
        "hashrate_hs": quantize(r.hashrate_hs, HS_PLACES),
        "status": r.status or RewardStatus.SUCCESSFUL,
        "payout_destination": r.payout_destination or "",
        "payout_address": r.payout_address or "",
        "payout_tx_hash": r.payout_tx_hash or "",
        "payout_at": r.payout_at,
    }


REWARD_FIELDS = [
    "reward_at", "currency", "total_reward_sats", "reward_sats", "fee_sats", "fpps_rate", "hashrate_hs", "status",
    "payout_destination", "payout_address", "payout_tx_hash", "payout_at", "status_changed_at",
]


def sync_rewards(run: SyncRun, now: datetime) -> None:
    """Re-read from the watermark minus an overlap, and from the oldest reward still pending, until final."""
    client, account, report = run.client, run.account, run.report
    state = run.state(SyncDataset.REWARDS)
    from_at = None
    if state.watermark_at is not None:
        from_at = state.watermark_at - timedelta(days=settings.MINING_REWARDS_OVERLAP_DAYS)
        oldest_pending = Reward.objects.filter(account=account, status=RewardStatus.PENDING).aggregate(
            d=Min("reward_at")
        )["d"]
        if oldest_pending is not None and oldest_pending < from_at:
            from_at = oldest_pending
    fetched = list(client.rewards_iter(account=account.name, from_at=from_at, to_at=now))
    rows = [r for r in fetched if r.account == account.name]
    changes: list[RewardStatusChange] = []

    def on_update(obj: Reward, row: dict[str, Any]) -> None:
        old, new = obj.status, row["status"]
        if old == new:
            return
        if old in FINAL_STATUSES:
            # Final is final: the pool reporting a move back is recorded, never applied.
            row["status"] = old
            last = obj.status_changes.order_by("-at").first()
            if not (last and not last.applied and last.to_status == new):
                changes.append(RewardStatusChange(provider_id=obj.provider_id, customer_id=obj.customer_id, reward=obj,
                                                  from_status=old, to_status=new,
                                                  applied=False))
            return
        row["status_changed_at"] = now
        changes.append(RewardStatusChange(provider_id=obj.provider_id, customer_id=obj.customer_id, reward=obj,
                                          from_status=old, to_status=new))

    with transaction.atomic():
        run.lock_owner()
        rows = [_reward_row(run, r) for r in rows]  # owners resolved under the lock
        dates = [r["date"] for r in rows]
        existing = Reward.objects.filter(account=account, date__in=dates) if dates else []
        counts = rows_upsert(
            model=Reward,
            existing=existing,
            key=lambda o: o["date"] if isinstance(o, dict) else o.date,
            rows=rows,
            unique_fields=["account", "date"],
            compare_fields=REWARD_FIELDS,
            on_update=on_update,
        )
        RewardStatusChange.objects.bulk_create(changes)
        report.count("Reward", counts)
        if changes:
            report.count("RewardStatusChange", RowCounts(created=len(changes)))
        watermark = max((r.date_at for r in fetched), default=None)
        state_success(state, now=now, counts=counts, watermark_at=watermark)
