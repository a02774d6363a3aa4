"""Hashrate series for the portal's charts and the API, read from the pool's three series the sync copies
(5 min, 1 h, 24 h).

A chart ends at the newest point the portal holds for the scope, not at the wall clock: a page then shows the data
it has (and says up to when), and the same data always draws the same chart. Every read here is a fixed number of
queries whatever the number of accounts, workers or points.

Missing data is shown as missing (issue 16): each chart's times are the series' own step (5 min, 1 h, 24 h) from its
first point in the range to its last, with None at every slot the portal holds no point for, so the chart breaks
its line there and shades the gap; the browser never guesses where a gap is. Each chart also says since when the
portal holds the series (`first_at`), and whether the range asked for reaches back further than that.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum

from mining.models import AccountHashrateSample, Interval, MiningAccount, Worker, WorkerHashrateSample
from tenants.access import Scope, get_in_scope, scoped
from tenants.models import Customer


def account_hashrate_series(*, scope: Scope, account_id: int) -> QuerySet[AccountHashrateSample]:
    """One account's samples (404 when the account is not in the scope); the caller filters interval and range."""
    account = get_in_scope(MiningAccount, scope, pk=account_id)
    return scoped(AccountHashrateSample, scope).filter(account=account)


def worker_hashrate_series(*, scope: Scope, worker_id: int) -> QuerySet[WorkerHashrateSample]:
    worker = get_in_scope(Worker, scope, pk=worker_id)
    return scoped(WorkerHashrateSample, scope).filter(worker=worker)


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


# The pool's step for each series: the distance between two consecutive points when none is missing.
STEPS: dict[str, timedelta] = {Interval.M5: timedelta(minutes=5), Interval.H1: timedelta(hours=1),
                               Interval.D1: timedelta(days=1)}


STEP_WORDS = {Interval.M5: "5-minute", Interval.H1: "hourly", Interval.D1: "daily"}


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


@dataclass(frozen=True)
class Gap:
    """A run of missing slots: the line stops at `after_at` (the last point held before) and resumes at
    `before_at` (the first point held after); `missing` slots of the series' step lie between."""

    after_at: datetime
    before_at: datetime
    missing: int


@dataclass
class HashrateChart:
    choice: ChartChoice
    end_at: datetime | None
    times: list[datetime] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    reject_rate: Decimal | None = None  # hashrate-weighted over the range, 0..1
    first_at: datetime | None = None  # the oldest point the portal holds of this series (any range): history since
    gaps: list[Gap] = field(default_factory=list)
    partial_points: int = 0  # sums blanked because one of their accounts' points is missing

    @property
    def has_data(self) -> bool:
        return bool(self.times)

    @property
    def step(self) -> timedelta:
        return STEPS[self.choice.interval]

    @property
    def step_words(self) -> str:
        return STEP_WORDS[self.choice.interval]

    @property
    def range_words(self) -> str:
        return RANGE_LABELS[self.choice.range_key]

    @property
    def missing_points(self) -> int:
        return sum(g.missing for g in self.gaps)

    @property
    def history_is_shorter(self) -> bool:
        """True when the range asked for starts before the portal's first point of the series: the page then says
        how much it shows instead of drawing a short history as if it were the whole range."""
        if self.end_at is None or self.first_at is None:
            return False
        return self.first_at - self.step > self.end_at - RANGES[self.choice.range_key]

    @property
    def shown_words(self) -> str:
        """How long the history shown is, in words ("12 days", "30 hours", "45 minutes")."""
        if self.end_at is None or self.first_at is None:
            return ""
        return duration_words(self.end_at - self.first_at + self.step)

    def as_json(self) -> dict:
        """What the chart script reads: unix seconds and H/s as numbers (display only; nothing is summed in JS);
        None at each missing slot, and the gaps to shade."""
        return {
            "times": [int(t.timestamp()) for t in self.times],
            "series": [{"label": s.label, "values": [None if v is None else float(v) for v in s.values]}
                       for s in self.series],
            "step": int(self.step.total_seconds()),
            "gaps": [[int(g.after_at.timestamp()), int(g.before_at.timestamp())] for g in self.gaps],
        }


def duration_words(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds >= 2 * 86400:
        return f"{round(seconds / 86400)} days"
    if seconds >= 2 * 3600:
        return f"{round(seconds / 3600)} hours"
    return f"{max(seconds // 60, 0)} minutes"


def series_with_gaps(
    times: list[datetime], series: list[Series], step: timedelta
) -> tuple[list[datetime], list[Series], list[Gap]]:
    """The same points with a None slot at every step the series has no point for, and the runs of slots where no
    series has a value (to shade).

    `times` is sorted and unique; a slot is missing where two consecutive points are more than one step apart (the
    slots fill from the earlier point on; half a step of slack keeps a point a little off its slot from making one).
    A value already None (a partial sum, see `_blank_partial_sums`) counts as missing too.
    """
    if not times:
        return [], series, []
    filled: list[datetime] = [times[0]]
    source: list[int | None] = [0]
    for i in range(1, len(times)):
        slot = times[i - 1] + step
        while slot < times[i] - step / 2:
            filled.append(slot)
            source.append(None)
            slot += step
        filled.append(times[i])
        source.append(i)
    out = [Series(s.label, [None if j is None else s.values[j] for j in source]) for s in series]
    return filled, out, _gap_runs(filled, out)


def _gap_runs(times: list[datetime], series: list[Series]) -> list[Gap]:
    gaps: list[Gap] = []
    start = None
    for i in range(len(times) + 1):
        empty = i < len(times) and bool(series) and all(s.values[i] is None for s in series)
        if empty and start is None:
            start = i
        elif not empty and start is not None:
            gaps.append(Gap(times[max(start - 1, 0)], times[min(i, len(times) - 1)], i - start))
            start = None
    return gaps


def _blank_partial_sums(qs: QuerySet, rows: list[dict], key: str | None) -> int:
    """Blanks each summed point that lacks an account's point while that account holds points before and after
    it in the range: such a sum would draw a fall in hashrate where a point is only missing. Returns how many were
    blanked. One query (each account's first and last point in the range)."""
    group = [key, "account_id"] if key else ["account_id"]
    firsts: dict = defaultdict(list)
    lasts: dict = defaultdict(list)
    for span in qs.values(*group).annotate(first=Min("at"), last=Max("at")).values_list(*group, "first", "last"):
        g = span[0] if key else None
        firsts[g].append(span[-2])
        lasts[g].append(span[-1])
    for g in firsts:
        firsts[g].sort()
        lasts[g].sort()
    blanked = 0
    for r in rows:
        g = r[key] if key else None
        expected = bisect_right(firsts[g], r["at"]) - bisect_left(lasts[g], r["at"])
        if r["n"] < expected:
            r["hs"] = None
            blanked += 1
    return blanked


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


def _window(qs: QuerySet, choice: ChartChoice) -> tuple[QuerySet, HashrateChart]:
    """The range's rows, and an empty chart that knows where the series ends and since when it is held (one
    query for both)."""
    held = qs.aggregate(end=Max("at"), first=Min("at"))
    chart = HashrateChart(choice, held["end"], first_at=held["first"])
    if held["end"] is None:
        return qs.none(), chart
    return qs.filter(at__gt=held["end"] - RANGES[choice.range_key], at__lte=held["end"]), chart


def _fill_gaps(chart: HashrateChart) -> HashrateChart:
    chart.times, chart.series, chart.gaps = series_with_gaps(chart.times, chart.series, chart.step)
    return chart


def account_hashrate_chart(
    *, scope: Scope, choice: ChartChoice, account_ids: list[int] | None = None, per_customer: bool = False
) -> HashrateChart:
    """The scope's total hashrate (or one line per customer, for staff) over the chosen range. Three queries (four
    with the customers' names). A sum missing one of its accounts' points is a gap, not a lower value."""
    qs = scoped(AccountHashrateSample, scope).filter(interval=choice.interval)
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    qs, chart = _window(qs, choice)
    if chart.end_at is None:
        return chart
    # The reject rate is weighted by hashrate over the same rows, summed in the same grouped read.
    sums = {"hs": Sum("hashrate_hs"), "rejected": Sum(F("hashrate_hs") * F("reject_rate")),
            "weight": Sum("hashrate_hs", filter=Q(reject_rate__isnull=False)), "n": Count("pk")}
    if per_customer:
        rows = list(qs.values("at", "customer_id").annotate(**sums).order_by("at"))
        chart.partial_points = _blank_partial_sums(qs, rows, "customer_id")
        names = dict(scoped(Customer, scope).values_list("pk", "name"))
        chart.times, chart.series = _pivot(rows, "customer_id", names)
    else:
        rows = list(qs.values("at").annotate(**sums).order_by("at"))
        chart.partial_points = _blank_partial_sums(qs, rows, None)
        chart.times = [r["at"] for r in rows]
        chart.series = [Series("Total", [r["hs"] for r in rows])]
    weight = sum((r["weight"] or Decimal(0) for r in rows), Decimal(0))
    if weight:
        chart.reject_rate = sum((r["rejected"] or Decimal(0) for r in rows), Decimal(0)) / weight
    return _fill_gaps(chart)


def worker_hashrate_chart(*, scope: Scope, worker_id: int, choice: ChartChoice) -> HashrateChart:
    """One worker's hourly series (the pool gives workers hourly points only). Two queries."""
    qs = scoped(WorkerHashrateSample, scope).filter(worker_id=worker_id, interval=Interval.H1)
    qs, chart = _window(qs, choice)
    if chart.end_at is not None:
        rows = list(qs.order_by("at").values_list("at", "hashrate_hs"))
        chart.times = [at for at, _ in rows]
        chart.series = [Series("Worker", [hs for _, hs in rows])]
    return _fill_gaps(chart)
