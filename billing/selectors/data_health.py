"""Data health for staff: how much of each month's hashrate the portal holds per account, and where the gaps are.

Why here: billing prices a gap by the contract's fallback (docs/BILLING.md, "Missing data is never billed as
zero"); staff need to see the same coverage, by the same per-day rule, before they close a month.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate

from billing.fees import SLOTS_PER_DAY, day_covered_slots
from billing.periods import day_start_at, month_end
from mining.models import AccountHashrateSample, Interval, MiningAccount
from tenants.access import Scope, scoped


@dataclass
class SeriesMonth:
    """One account's month: points held per series, the billing coverage, and the days not fully covered."""

    period: date
    days: int
    points: dict[str, int] = field(default_factory=dict)
    covered_slots: int = 0
    gaps: list[tuple[date, date]] = field(default_factory=list)  # [first, last] days, inclusive

    @property
    def coverage_pct(self) -> str:
        bps = self.covered_slots * 10_000 // (self.days * SLOTS_PER_DAY) if self.days else 10_000
        return f"{bps // 100}.{bps % 100:02d}"

    @property
    def is_short(self) -> bool:
        return self.days > 0 and self.covered_slots < self.days * SLOTS_PER_DAY


@dataclass
class AccountHealth:
    account: MiningAccount
    months: list[SeriesMonth]


_NAMES = {Interval.M5: "five_minute", Interval.H1: "hourly", Interval.D1: "daily"}


def data_health(*, scope: Scope, periods: list[date], today: date) -> list[AccountHealth]:
    """Per account of the scope, for each month in `periods` (up to `today`'s completed days): points held per
    series, billing coverage and gaps. One query over the daily point counts."""
    accounts = list(scoped(MiningAccount, scope).order_by("name", "pk"))
    first, last = min(periods), max(month_end(p) for p in periods)
    counts: dict[int, dict[date, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    rows = (scoped(AccountHashrateSample, scope)
            .filter(at__gte=day_start_at(first), at__lt=day_start_at(last))
            .annotate(day=TruncDate("at", tzinfo=UTC)).values("account_id", "interval", "day")
            .annotate(n=Count("at", distinct=True)).values_list("account_id", "interval", "day", "n"))
    for account_id, interval, day, n in rows:
        counts[account_id][day][interval] = n
    out = []
    for account in accounts:
        months = []
        for period in periods:
            end = min(month_end(period), max(today, period))
            sm = SeriesMonth(period, (end - period).days, {name: 0 for name in _NAMES.values()})
            gap_start = None
            day = period
            while day < end:
                held = counts[account.pk].get(day, {})
                for interval, name in _NAMES.items():
                    sm.points[name] += held.get(interval, 0)
                slots = day_covered_slots(held.get(Interval.M5, 0), held.get(Interval.H1, 0),
                                          held.get(Interval.D1, 0) > 0)
                sm.covered_slots += slots
                if slots < SLOTS_PER_DAY and gap_start is None:
                    gap_start = day
                elif slots >= SLOTS_PER_DAY and gap_start is not None:
                    sm.gaps.append((gap_start, day - timedelta(days=1)))
                    gap_start = None
                day += timedelta(days=1)
            if gap_start is not None:
                sm.gaps.append((gap_start, end - timedelta(days=1)))
            months.append(sm)
        out.append(AccountHealth(account, months))
    return out
