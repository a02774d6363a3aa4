"""Keeps Postgres in step with the pool, one mining account at a time.

Shape of one account sync (`mining_account_sync`):

1. Claim the account's lease with a conditional UPDATE. If another worker holds a live lease, do nothing: one
   sync per account at a time, across every worker on every machine. The lease expires by itself, so a worker
   killed mid-sync blocks the account for at most `MINING_SYNC_LEASE_S`.
2. For each dataset, read from the pool first (all pages), then write every row *and* the dataset's watermark
   in one transaction. A crash between datasets leaves each one either fully applied or not at all; the next
   sync re-reads an overlap window before the watermark, so nothing is lost and (upserts on natural keys)
   nothing is doubled.
3. Release the lease, record the outcome on the account, evaluate its alerts.

Errors: a retryable upstream error (429, 5xx, timeout, malformed body) propagates after the account is marked
"retrying", so the Celery task can retry with backoff; a permanent one (bad key, account gone) marks the account
"needs attention" with a readable reason and the sync of other accounts carries on.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count, Min, Q
from django.db.models.functions import Trunc
from django.utils import timezone

from mining.models import (
    AccountHashrateSample,
    Interval,
    MiningAccount,
    Reward,
    RewardStatus,
    RewardStatusChange,
    SyncDataset,
    SyncState,
    WatcherLink,
    Worker,
    WorkerHashrateSample,
)
from mining.services.upsert import RowCounts, rows_upsert
from mining.upstream import client_for_provider
from mining.whitebit.amounts import btc_to_sats
from mining.whitebit.client import WhiteBitClient
from mining.whitebit.errors import WhiteBitError
from tenants.access import Scope, UNSCOPED_across_all_tenants, get_in_scope, scope_for_system, scoped

logger = logging.getLogger(__name__)

HS_PLACES = Decimal("0.000001")
REJECT_PLACES = Decimal("0.00000001")
FPPS_PLACES = Decimal("1e-24")
FIVE_MIN_WINDOW = timedelta(days=3)  # the pool's maximum window per interval (contract §3.4)
HOUR_WINDOW = timedelta(days=7)
DAY_WINDOW = timedelta(days=30)
FINAL_STATUSES = {RewardStatus.SUCCESSFUL, RewardStatus.CANCELED}


@dataclass
class SyncReport:
    """What one or many account syncs did; `sync_accounts --json` prints it."""

    accounts_synced: int = 0
    accounts_skipped: int = 0
    accounts_failed: int = 0
    rows: dict[str, RowCounts] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def count(self, model_name: str, counts: RowCounts) -> None:
        self.rows.setdefault(model_name, RowCounts()).add(counts)

    def merge(self, other: SyncReport) -> None:
        self.accounts_synced += other.accounts_synced
        self.accounts_skipped += other.accounts_skipped
        self.accounts_failed += other.accounts_failed
        for name, counts in other.rows.items():
            self.count(name, counts)
        self.requests.update(other.requests)
        self.errors.extend(other.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": {
                "synced": self.accounts_synced,
                "skipped_busy": self.accounts_skipped,
                "failed": self.accounts_failed,
            },
            "rows": {name: c.as_dict() for name, c in sorted(self.rows.items())},
            "requests": dict(sorted(self.requests.items())),
            "errors": self.errors,
        }


@dataclass
class SyncRun:
    """One account's sync in progress: the client, the account, the report, and its SyncState rows (loaded once)."""

    client: WhiteBitClient
    account: MiningAccount
    report: SyncReport
    states: dict[str, SyncState] = field(default_factory=dict)

    def state(self, dataset: str) -> SyncState:
        if not self.states:
            existing = {s.dataset: s for s in SyncState.objects.filter(account=self.account)}
            missing = [d for d in SyncDataset.values if d not in existing]
            if missing:
                SyncState.objects.bulk_create(
                    [SyncState(account=self.account, dataset=d, **_owner(self.account)) for d in missing],
                    ignore_conflicts=True,
                )
                existing = {s.dataset: s for s in SyncState.objects.filter(account=self.account)}
            self.states = existing
        return self.states[dataset]


# --- the lease ---------------------------------------------------------------------------------------------------


def mining_account_lease_claim(*, scope: Scope, account_id: int, now: datetime | None = None) -> str | None:
    """Claim the account's sync lease; the token, or None when a live lease is held by someone else."""
    now = now or timezone.now()
    token = secrets.token_hex(16)
    claimed = (
        scoped(MiningAccount, scope)
        .filter(pk=account_id, is_active=True)
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
        .update(sync_lease_token=token, sync_lease_until=now + timedelta(seconds=settings.MINING_SYNC_LEASE_S))
    )
    return token if claimed else None


def mining_account_lease_release(*, scope: Scope, account_id: int, token: str, **fields: Any) -> None:
    """Release only our own lease (a late finisher must not free a newer holder's), recording the outcome."""
    scoped(MiningAccount, scope).filter(pk=account_id, sync_lease_token=token).update(
        sync_lease_token="", sync_lease_until=None, **fields
    )


# --- helpers -----------------------------------------------------------------------------------------------------


def _q(value: Decimal | None, places: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(places)


def _state_success(state: SyncState, *, now: datetime, counts: RowCounts, watermark_at: datetime | None) -> None:
    state.last_attempt_at = now
    state.last_success_at = now
    state.last_error = ""
    state.consecutive_failures = 0
    state.rows_created, state.rows_updated, state.rows_unchanged = counts.created, counts.updated, counts.unchanged
    if watermark_at is not None and (state.watermark_at is None or watermark_at > state.watermark_at):
        state.watermark_at = watermark_at
    state.save(update_fields=[
        "last_attempt_at", "last_success_at", "last_error", "consecutive_failures", "rows_created", "rows_updated",
        "rows_unchanged", "watermark_at",
    ])


def _owner(account: MiningAccount) -> dict[str, Any]:
    return {"provider_id": account.provider_id, "customer_id": account.customer_id}


# --- datasets ----------------------------------------------------------------------------------------------------


def _sync_miner_info(run: SyncRun, now: datetime) -> None:
    client, account, report = run.client, run.account, run.report
    info = client.miner_info(account=account.name)
    with transaction.atomic():
        state = run.state(SyncDataset.MINER_INFO)
        values = {
            "pool_fee_percent": info.fee_percent,
            "workers_online": info.workers_online,
            "workers_offline": info.workers_offline,
            "workers_low": info.workers_low,
            "stratum_urls": [{"url": s.url, "workers_count": s.workers_count} for s in info.stratum],
        }
        changed = [k for k, v in values.items() if getattr(account, k) != v]
        for k in changed:
            setattr(account, k, values[k])
        if changed:
            MiningAccount.objects.filter(pk=account.pk).update(**{k: values[k] for k in changed})
        counts = RowCounts(updated=1) if changed else RowCounts(unchanged=1)
        report.count("MiningAccount", counts)
        _state_success(state, now=now, counts=counts, watermark_at=now)


def _sync_workers(run: SyncRun, now: datetime) -> None:
    """`workers/names` lists online workers only: the ones missing from it are offline from now on.

    Three statements at most, whatever the fleet size: new workers, status moves, and the "last seen" stamp.
    """
    client, account, report = run.client, run.account, run.report
    online = set(client.worker_names_all(account=account.name))
    with transaction.atomic():
        state = run.state(SyncDataset.WORKERS)
        existing = dict(Worker.objects.filter(account=account).values_list("name", "status"))
        new_names = sorted(online - existing.keys())
        back_online = [n for n, st in existing.items() if n in online and st == Worker.Status.OFFLINE]
        gone_offline = [n for n, st in existing.items() if n not in online and st != Worker.Status.OFFLINE]
        if new_names:
            Worker.objects.bulk_create(
                [Worker(**_owner(account), account=account, name=name, status=Worker.Status.ONLINE,
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
        _state_success(state, now=now, counts=counts, watermark_at=now)


def _hashrate_rows(account: MiningAccount, interval: str, points) -> list[dict[str, Any]]:
    return [
        {
            **_owner(account),
            "account_id": account.pk,
            "interval": interval,
            "at": p.at,
            "hashrate_hs": _q(p.hashrate_hs, HS_PLACES),
            "reject_rate": _q(p.reject_rate, REJECT_PLACES),
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


def _rollup(account: MiningAccount, *, source: str, target: str, unit: str, points_per_bucket: int,
            since: datetime, now: datetime) -> RowCounts:
    """Derive hourly (daily) points from complete sets of 5-minute (hourly) points, as the pool does.

    Only complete buckets, plus the current incomplete one, are written, so an hour whose 5-minute points are
    partly outside our data keeps the value the pool gave for it.
    """
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
            **_owner(account),
            "account_id": account.pk,
            "interval": target,
            "at": b["bucket"],
            "hashrate_hs": _q(Decimal(b["mean"]), HS_PLACES),
            "reject_rate": _q(Decimal(b["reject"]), REJECT_PLACES) if b["reject"] is not None else None,
        })
    return _account_samples_upsert(account, target, rows)


def _sync_account_hashrate(run: SyncRun, now: datetime) -> None:
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
        counts = RowCounts()
        for interval, points in backfill.items():
            counts.add(_account_samples_upsert(account, interval, _hashrate_rows(account, interval, points)))
        rows = _hashrate_rows(account, Interval.M5, five.points)
        five_counts = _account_samples_upsert(account, Interval.M5, rows)
        counts.add(five_counts)
        # Roll up only what changed: a re-read of unchanged points costs no aggregate queries.
        if five_counts.created or five_counts.updated:
            since = min(r["at"] for r in rows)
            hour_counts = _rollup(account, source=Interval.M5, target=Interval.H1, unit="hour",
                                  points_per_bucket=12, since=since, now=now)
            counts.add(hour_counts)
            if hour_counts.created or hour_counts.updated or backfill:
                counts.add(_rollup(account, source=Interval.H1, target=Interval.D1, unit="day",
                                   points_per_bucket=24, since=since, now=now))
        report.count("AccountHashrateSample", counts)
        watermark = max((p.at for p in five.points), default=None)
        _state_success(state, now=now, counts=counts, watermark_at=watermark)


def _reward_row(account: MiningAccount, r) -> dict[str, Any]:
    return {
        **_owner(account),
        "account_id": account.pk,
        "date": r.date_at.date(),
        "reward_at": r.date_at,
        "currency": r.currency,
        "total_reward_sats": btc_to_sats(r.total_reward),
        "reward_sats": btc_to_sats(r.reward),
        "fee_sats": btc_to_sats(r.fee),
        "fpps_rate": _q(r.fpps_rate, FPPS_PLACES),
        "hashrate_hs": _q(r.hashrate_hs, HS_PLACES),
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


def _sync_rewards(run: SyncRun, now: datetime) -> None:
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
    rows = [_reward_row(account, r) for r in fetched if r.account == account.name]
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
                changes.append(RewardStatusChange(**_owner(account), reward=obj, from_status=old, to_status=new,
                                                  applied=False))
            return
        row["status_changed_at"] = now
        changes.append(RewardStatusChange(**_owner(account), reward=obj, from_status=old, to_status=new))

    with transaction.atomic():
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
        _state_success(state, now=now, counts=counts, watermark_at=watermark)


def _sync_payout(run: SyncRun, now: datetime) -> None:
    """Read the payout destination; adopt it when the portal has no record, flag drift when they differ."""
    client, account, report = run.client, run.account, run.report
    payout = client.payout_destination_get(account=account.name)
    with transaction.atomic():
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
        _state_success(state, now=now, counts=counts, watermark_at=now)


def _sync_watcher_links(run: SyncRun, now: datetime) -> None:
    """Upsert the links the pool lists; ones it no longer lists (expired, revoked) become inactive."""
    client, account, report = run.client, run.account, run.report
    links = client.watcher_links_list(account=account.name)
    with transaction.atomic():
        state = run.state(SyncDataset.WATCHER_LINKS)
        existing, names = {}, {}
        if links:
            existing = {w.upstream_id: w for w in WatcherLink.objects.filter(
                provider_id=account.provider_id, upstream_id__in=[x.id for x in links])}
            names = {a.name: a for a in MiningAccount.objects.filter(
                provider_id=account.provider_id, name__in={n for x in links for n in x.accounts} | {account.name}
            )}
        counts = RowCounts()
        seen = set()
        for link in links:
            seen.add(link.id)
            values = {
                "name": link.name, "url": link.link, "permissions": list(link.permissions),
                "live_until_at": link.live_until_at, "upstream_created_at": link.created_at, "is_active": True,
            }
            obj = existing.get(link.id)
            if obj is None:
                obj = WatcherLink.objects.create(
                    **_owner(account), upstream_id=link.id, last_seen_at=now, **values
                )
                counts.created += 1
            else:
                diff = {k: v for k, v in values.items() if getattr(obj, k) != v}
                WatcherLink.objects.filter(pk=obj.pk).update(last_seen_at=now, **diff)
                counts.updated += bool(diff)
                counts.unchanged += not diff
            wanted = {names[n].pk for n in link.accounts if n in names}
            have = set(obj.accounts.values_list("pk", flat=True))
            if wanted - have:
                obj.accounts.add(*(wanted - have))
        gone = WatcherLink.objects.filter(accounts=account, is_active=True).exclude(upstream_id__in=seen)
        counts.updated += gone.update(is_active=False)
        report.count("WatcherLink", counts)
        _state_success(state, now=now, counts=counts, watermark_at=now)


def _sync_worker_hashrate(run: SyncRun, now: datetime) -> None:
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
    rows = [
        {**_owner(account), "account_id": account.pk, "worker_id": worker.pk, "interval": Interval.H1, "at": p.at,
         "hashrate_hs": _q(p.hashrate_hs, HS_PLACES)}
        for worker in workers for p in fetched[worker.pk]
    ]
    with transaction.atomic():
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
                value = _q(max(points, key=lambda p: p.at).hashrate_hs, HS_PLACES)
                if worker.current_hashrate_hs != value:
                    latest[worker.pk] = value
        for pk, value in latest.items():
            Worker.objects.filter(pk=pk).update(current_hashrate_hs=value)
        MiningAccount.objects.filter(pk=account.pk).update(worker_hashrate_synced_at=now)
        report.count("WorkerHashrateSample", counts)
        _state_success(state, now=now, counts=counts, watermark_at=watermark)


DATASETS = [
    (SyncDataset.MINER_INFO, _sync_miner_info),
    (SyncDataset.WORKERS, _sync_workers),
    (SyncDataset.HASHRATE_5M, _sync_account_hashrate),
    (SyncDataset.REWARDS, _sync_rewards),
    (SyncDataset.PAYOUT, _sync_payout),
    (SyncDataset.WATCHER_LINKS, _sync_watcher_links),
    (SyncDataset.WORKER_HASHRATE, _sync_worker_hashrate),
]


def _record_failure(run: SyncRun, dataset: str, exc: WhiteBitError, now: datetime) -> None:
    state = run.state(dataset)
    SyncState.objects.filter(pk=state.pk).update(
        last_attempt_at=now, last_error=exc.user_message[:2000], consecutive_failures=state.consecutive_failures + 1
    )


def _request_counts(client: WhiteBitClient) -> Counter:
    """Requests per endpoint path, plus retries and 429s seen, from the client's counters."""
    snapshot = client.stats.snapshot()
    counts = Counter({k.removeprefix("requests:"): v for k, v in snapshot.items() if k.startswith("requests:")})
    counts["retries"] = snapshot.get("retries", 0)
    counts["rate_limited_429"] = snapshot.get("rate_limited", 0)
    return counts


# --- entry points ------------------------------------------------------------------------------------------------


def mining_account_sync(*, provider_id: int, account_id: int, client: WhiteBitClient | None = None,
                        raise_retryable: bool = True) -> SyncReport:
    """Sync one account. Busy → skipped; permanent upstream error → recorded; retryable → recorded and raised."""
    scope = scope_for_system(provider_id=provider_id)
    report = SyncReport()
    token = mining_account_lease_claim(scope=scope, account_id=account_id)
    if token is None:
        report.accounts_skipped += 1
        return report
    account = get_in_scope(MiningAccount.objects.select_related("provider", "customer"), scope, pk=account_id)
    client = client or client_for_provider(account.provider)
    before = _request_counts(client)
    run = SyncRun(client=client, account=account, report=report)
    outcome: dict[str, Any] = {}
    try:
        for dataset, step in DATASETS:
            now = timezone.now()
            try:
                step(run, now)
            except WhiteBitError as exc:
                _record_failure(run, dataset, exc, now)
                report.errors.append({
                    "account": account.name, "dataset": str(dataset), "error": exc.user_message,
                    "retryable": exc.retryable,
                })
                raise
        outcome = {"sync_status": MiningAccount.SyncStatus.OK, "sync_error": "", "last_synced_at": timezone.now()}
        report.accounts_synced += 1
    except WhiteBitError as exc:
        report.accounts_failed += 1
        status = MiningAccount.SyncStatus.RETRYING if exc.retryable else MiningAccount.SyncStatus.FAILED
        outcome = {"sync_status": status, "sync_error": exc.user_message[:2000]}
        if exc.retryable and raise_retryable:
            raise
    finally:
        report.requests.update(_request_counts(client) - before)
        mining_account_lease_release(scope=scope, account_id=account_id, token=token, **outcome)
    from mining.services.alerts import alerts_evaluate_account

    alerts_evaluate_account(scope=scope, account_id=account_id)
    return report


def mining_accounts_due(*, provider_id: int | None = None, account_name: str | None = None) -> list[tuple[int, int]]:
    """(provider_id, account_id) of every active account, for the fan-out. Platform-wide by design: it returns
    only ids, and each sync opens its own provider scope from them."""
    qs = UNSCOPED_across_all_tenants(MiningAccount, reason="sync fan-out: ids only").filter(is_active=True)
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    if account_name is not None:
        qs = qs.filter(name=account_name)
    return list(qs.order_by("provider_id", "pk").values_list("provider_id", "pk"))


def mining_accounts_stale(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """Active accounts not synced for three cycles, whose sync may not even be running to notice it."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.MINING_SYNC_INTERVAL_S * 3)
    qs = UNSCOPED_across_all_tenants(MiningAccount, reason="stale-sync alerts: ids only").filter(
        Q(last_synced_at__lt=cutoff) | Q(last_synced_at__isnull=True, created_at__lt=cutoff), is_active=True
    )
    return list(qs.values_list("provider_id", "pk"))
