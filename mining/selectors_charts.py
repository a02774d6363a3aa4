"""Hashrate series for the portal's charts, read from the pool's three series the sync copies (5 min, 1 h, 24 h).

A chart ends at the newest point the portal holds for the scope, not at the wall clock: a page then shows the data
it has (and says up to when), and the same data always draws the same chart. Every read here is a fixed number of
queries whatever the number of accounts, workers or points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F, Max, Q, QuerySet, Sum

from mining.models import AccountHashrateSample, Interval, WorkerHashrateSample
from tenants.access import Scope, scoped
from tenants.models import Customer

RANGES: dict[str, timedelta] = {
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "1y": timedelta(days=365),
}
RANGE_LABELS = {"6h": "6 hours", "24h": "24 hours", "7d": "7 days", "30d": "30 days", "1y": "1 year"}
# Which resolutions each range may be drawn at: the retention keeps 5-minute points 35 days, and a chart of more
# than a few thousand points says nothing more on a screen.
ALLOWED_INTERVALS: dict[str, tuple[str, ...]] = {
    "6h": (Interval.M5, Interval.H1),
    "24h": (Interval.M5, Interval.H1),
    "7d": (Interval.M5, Interval.H1, Interval.D1),
    "30d": (Interval.H1, Interval.D1),
    "1y": (Interval.H1, Interval.D1),
}
DEFAULT_INTERVAL = {"6h": Interval.M5, "24h": Interval.M5, "7d": Interval.H1, "30d": Interval.H1, "1y": Interval.D1}


@dataclass(frozen=True)
class ChartChoice:
    """A valid (range, interval) pair, and the words for what was asked and could not be drawn."""

    range_key: str
    interval: str
    problem: str = ""


def chart_choice(*, range_key: str | None, interval: str | None) -> ChartChoice:
    """Turn query parameters into a drawable choice; an impossible one falls back to the range's default and says so."""
    problem = ""
    if range_key not in RANGES:
        if range_key:
            problem = f"“{range_key}” is not a range; showing 24 hours."
        range_key = "24h"
    if interval not in ALLOWED_INTERVALS[range_key]:
        if interval:
            problem = problem or (
                f"{RANGE_LABELS[range_key]} cannot be drawn at “{interval}” points; showing the default resolution."
            )
        interval = DEFAULT_INTERVAL[range_key]
    return ChartChoice(range_key, interval, problem)


@dataclass
class Series:
    label: str
    values: list[Decimal | None]


@dataclass
class HashrateChart:
    choice: ChartChoice
    end_at: datetime | None
    times: list[datetime] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    reject_rate: Decimal | None = None  # hashrate-weighted over the range, 0..1

    @property
    def has_data(self) -> bool:
        return bool(self.times)

    def as_json(self) -> dict:
        """What the chart script reads: unix seconds and H/s as numbers (display only; nothing is summed in JS)."""
        return {
            "times": [int(t.timestamp()) for t in self.times],
            "series": [{"label": s.label, "values": [None if v is None else float(v) for v in s.values]}
                       for s in self.series],
        }


def _pivot(rows: list[dict], key: str, labels: dict) -> tuple[list[datetime], list[Series]]:
    times = sorted({r["at"] for r in rows})
    index = {t: i for i, t in enumerate(times)}
    by_key: dict = {}
    for r in rows:
        values = by_key.setdefault(r[key], [None] * len(times))
        values[index[r["at"]]] = r["hs"]
    series = [Series(labels.get(k, "Unassigned"), v) for k, v in sorted(by_key.items(), key=lambda kv:
                                                                      str(labels.get(kv[0], "~")))]
    return times, series


def _window(qs: QuerySet, choice: ChartChoice) -> tuple[QuerySet, datetime | None]:
    end_at = qs.aggregate(end=Max("at"))["end"]
    if end_at is None:
        return qs.none(), None
    return qs.filter(at__gt=end_at - RANGES[choice.range_key], at__lte=end_at), end_at


def account_hashrate_chart(
    *, scope: Scope, choice: ChartChoice, account_ids: list[int] | None = None, per_customer: bool = False
) -> HashrateChart:
    """The scope's total hashrate (or one line per customer, for staff) over the chosen range. Two queries (three
    with the customers' names)."""
    qs = scoped(AccountHashrateSample, scope).filter(interval=choice.interval)
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    qs, end_at = _window(qs, choice)
    chart = HashrateChart(choice, end_at)
    if end_at is None:
        return chart
    # The reject rate is weighted by hashrate over the same rows, summed in the same grouped read.
    sums = {"hs": Sum("hashrate_hs"), "rejected": Sum(F("hashrate_hs") * F("reject_rate")),
            "weight": Sum("hashrate_hs", filter=Q(reject_rate__isnull=False))}
    if per_customer:
        rows = list(qs.values("at", "customer_id").annotate(**sums).order_by("at"))
        names = dict(scoped(Customer, scope).values_list("pk", "name"))
        chart.times, chart.series = _pivot(rows, "customer_id", names)
    else:
        rows = list(qs.values("at").annotate(**sums).order_by("at"))
        chart.times = [r["at"] for r in rows]
        chart.series = [Series("Total", [r["hs"] for r in rows])]
    weight = sum((r["weight"] or Decimal(0) for r in rows), Decimal(0))
    if weight:
        chart.reject_rate = sum((r["rejected"] or Decimal(0) for r in rows), Decimal(0)) / weight
    return chart


def worker_hashrate_chart(*, scope: Scope, worker_id: int, choice: ChartChoice) -> HashrateChart:
    """One worker's hourly series (the pool gives workers hourly points only). Two queries."""
    qs = scoped(WorkerHashrateSample, scope).filter(worker_id=worker_id, interval=Interval.H1)
    qs, end_at = _window(qs, choice)
    chart = HashrateChart(choice, end_at)
    if end_at is not None:
        rows = list(qs.order_by("at").values_list("at", "hashrate_hs"))
        chart.times = [at for at, _ in rows]
        chart.series = [Series("Worker", [hs for _, hs in rows])]
    return chart
