"""Dataset: the account's hashrate series, each interval copied from the pool as-is (docs/SYNC.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from mining.models import AccountHashrateSample, Interval, MiningAccount, SyncDataset
from mining.services.sync.run import SyncRun, quantize, state_success
from mining.services.upsert import RowCounts, rows_upsert

HS_PLACES = Decimal("0.000001")
REJECT_PLACES = Decimal("0.00000001")
# The pool's maximum window per interval (contract §3.4); a read of [now - window, now] is the pool's whole series.
FIVE_MIN_WINDOW = timedelta(days=3)
HOUR_WINDOW = timedelta(days=7)
DAY_WINDOW = timedelta(days=30)
# The coarser series, read whole whenever the pool has completed a bucket we do not hold yet.
COARSE_SERIES = ((Interval.H1, "1h", timedelta(hours=1), HOUR_WINDOW, SyncDataset.HASHRATE_1H),
                 (Interval.D1, "24h", timedelta(days=1), DAY_WINDOW, SyncDataset.HASHRATE_24H))


def complete_at(points, step: timedelta, now: datetime) -> list:
    """The points whose bucket was complete at `now`.

    The pool judges completeness by its own clock, a moment after ours; a bucket it completed in between is left for
    the next cycle (whose overlap re-reads it), so a cycle's copy is the pool's window as of that cycle's `now`.
    """
    return [p for p in points if p.at + step <= now]


def _hashrate_rows(run: SyncRun, interval: str, points) -> list[dict[str, Any]]:
    account = run.account
    return [
        {
            **run.owner_at(p.at),
            "account_id": account.pk,
            "interval": interval,
            "at": p.at,
            "hashrate_hs": quantize(p.hashrate_hs, HS_PLACES),
            "reject_rate": quantize(p.reject_rate, REJECT_PLACES),
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


def _coarse_due(run: SyncRun, interval: str, dataset: str, step: timedelta, now: datetime) -> bool:
    """True when the pool may have completed a bucket newer than the newest we hold.

    A bucket labelled `at` is complete at `at + step`, so after our newest point `at` the next one is complete at
    `at + 2 * step`; until then a re-read could only return what we already hold, so it costs no request. An account
    with no points yet (created empty) is asked once per bucket length, not every cycle.
    """
    newest = (AccountHashrateSample.objects.filter(account=run.account, interval=interval)
              .order_by("-at").values_list("at", flat=True).first())
    if newest is not None:
        return newest + 2 * step <= now
    read_at = run.state(dataset).last_success_at
    return read_at is None or read_at + step <= now


def sync_account_hashrate(run: SyncRun, now: datetime) -> None:
    """Copy the pool's 5-minute, hourly and daily series, each over the pool's own window, edges included.

    Nothing is derived here: the pool is the source of truth, and a rolled-up hour (or day) is neither the pool's
    reject rate nor available where our 5-minute points do not reach (issue 16: days lost from the 30-day window).
    """
    client, account, report = run.client, run.account, run.report
    state = run.state(SyncDataset.HASHRATE_5M)
    overlap = max(timedelta(seconds=settings.MINING_HASHRATE_OVERLAP_S), timedelta(minutes=5))
    floor = now - FIVE_MIN_WINDOW  # the window's first edge is a point too
    first_sync = state.watermark_at is None
    from_at = floor if first_sync else max(floor, state.watermark_at - overlap)
    five = complete_at(client.account_hashrate(account=account.name, interval="5m", from_at=from_at,
                                               to_at=now).points, timedelta(minutes=5), now)
    # The whole hourly (daily) window in one read each: 168 (30) points, compared before any write, so a late
    # cycle, a paused account or a first sync all end holding exactly the pool's series.
    coarse = {
        interval: complete_at(client.account_hashrate(account=account.name, interval=name, from_at=now - window,
                                                      to_at=now).points, step, now)
        for interval, name, step, window, dataset in COARSE_SERIES
        if _coarse_due(run, interval, dataset, step, now)
    }
    with transaction.atomic():
        run.lock_owner()
        counts = RowCounts()
        for interval, _, _, _, dataset in COARSE_SERIES:
            if interval in coarse:
                points = coarse[interval]
                series_counts = _account_samples_upsert(account, interval, _hashrate_rows(run, interval, points))
                state_success(run.state(dataset), now=now, counts=series_counts,
                              watermark_at=max((p.at for p in points), default=None))
                counts.add(series_counts)
        counts.add(_account_samples_upsert(account, Interval.M5, _hashrate_rows(run, Interval.M5, five)))
        report.count("AccountHashrateSample", counts)
        watermark = max((p.at for p in five), default=None)
        state_success(state, now=now, counts=counts, watermark_at=watermark)
