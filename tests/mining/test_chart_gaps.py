"""Gaps are shown as gaps (issue 16): the chart selectors put None at every slot of the series' step the portal
holds no point for, list the runs of such slots to shade, and say since when the portal holds the series and
whether the range asked for reaches back further. Rows written straight to the tables at fixed instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mining.models import AccountHashrateSample, Interval, Worker, WorkerHashrateSample
from mining.selectors.charts import (
    Gap,
    Series,
    account_hashrate_chart,
    chart_choice,
    series_with_gaps,
    worker_hashrate_chart,
)
from tenants.access import scope_for_system
from tests.billing.factories import account_make

pytestmark = pytest.mark.django_db
FIRST = datetime(2026, 11, 14, 0, 0, tzinfo=UTC)  # the portal's first hourly point
LAST = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)  # its newest: 42 hourly slots in all
MISSING = datetime(2026, 11, 15, 5, 0, tzinfo=UTC)  # the hour the portal does not hold
HS = Decimal("100000000000000")


def hourly_points(account, *, first=FIRST, last=LAST, missing=(MISSING,), interval=Interval.H1,
                  step=timedelta(hours=1), customer=None) -> int:
    """`account`'s points every `step` from `first` to `last`, none at the `missing` instants."""
    rows, at = [], first
    while at <= last:
        if at not in missing:
            rows.append(AccountHashrateSample(provider_id=account.provider_id,
                                              customer_id=(customer or account.customer).pk, account=account,
                                              interval=interval, at=at, hashrate_hs=HS, reject_rate=Decimal("0.01")))
        at += step
    AccountHashrateSample.objects.bulk_create(rows)
    return len(rows)


def _scope(world):
    return scope_for_system(provider_id=world.provider_a.pk, actor="test").narrowed_to_customer(world.customer_a1.pk)


def test_a_missing_hour_is_a_null_at_its_slot_and_nowhere_else(world):
    account = account_make(world.provider_a, world.customer_a1)
    hourly_points(account)
    chart = account_hashrate_chart(scope=_scope(world), choice=chart_choice(range_key="24h", interval="1h"))

    # (LAST − 24 h, LAST]: 24 hourly slots, one step apart, the missing hour among them as None.
    assert chart.times == [LAST - timedelta(hours=23 - i) for i in range(24)]
    values = chart.series[0].values
    assert [chart.times[i] for i, v in enumerate(values) if v is None] == [MISSING]
    assert all(v == HS for t, v in zip(chart.times, values, strict=True) if t != MISSING)
    assert chart.gaps == [Gap(MISSING - timedelta(hours=1), MISSING + timedelta(hours=1), 1)]
    assert chart.missing_points == 1
    data = chart.as_json()
    slot = data["times"].index(int(MISSING.timestamp()))
    assert data["series"][0]["values"][slot] is None
    assert [i for i, v in enumerate(data["series"][0]["values"]) if v is None] == [slot]
    assert data["gaps"] == [[int((MISSING - timedelta(hours=1)).timestamp()),
                             int((MISSING + timedelta(hours=1)).timestamp())]]
    assert data["step"] == 3600

    # History since the first point the portal holds (outside this range), and the range is covered.
    assert chart.first_at == FIRST and not chart.history_is_shorter


def test_a_range_longer_than_the_history_says_how_much_it_shows(world):
    account = account_make(world.provider_a, world.customer_a1)
    hourly_points(account)
    week = account_hashrate_chart(scope=_scope(world), choice=chart_choice(range_key="7d", interval="1h"))
    assert week.first_at == FIRST and week.times[0] == FIRST  # the chart starts at the history, not 7 days back
    assert week.history_is_shorter and week.shown_words == "42 hours" and week.range_words == "7 days"
    assert len(week.times) == 42 and week.missing_points == 1


def test_a_complete_series_has_no_null_and_no_gap(world):
    account = account_make(world.provider_a, world.customer_a1)
    hourly_points(account, missing=())
    chart = account_hashrate_chart(scope=_scope(world), choice=chart_choice(range_key="24h", interval="1h"))
    assert len(chart.times) == 24 and None not in chart.series[0].values and chart.gaps == []


def test_five_minute_and_daily_steps():
    start = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
    five = [start + timedelta(minutes=5 * i) for i in (0, 1, 2, 6, 7)]  # 15, 20 and 25 past missing
    times, series, gaps = series_with_gaps(five, [Series("Total", [1, 2, 3, 4, 5])], timedelta(minutes=5))
    assert times == [start + timedelta(minutes=5 * i) for i in range(8)]
    assert series[0].values == [1, 2, 3, None, None, None, 4, 5]
    assert gaps == [Gap(five[2], five[3], 3)]
    days = [datetime(2026, 11, d, tzinfo=UTC) for d in (1, 2, 5)]  # the 3rd and the 4th missing
    times, series, gaps = series_with_gaps(days, [Series("Total", [7, 8, 9])], timedelta(days=1))
    assert len(times) == 5 and series[0].values == [7, 8, None, None, 9] and gaps[0].missing == 2
    assert series_with_gaps([], [], timedelta(hours=1)) == ([], [], [])


def test_per_customer_lines_break_where_their_own_point_is_missing(world):
    scope = scope_for_system(provider_id=world.provider_a.pk, actor="test")
    hourly_points(account_make(world.provider_a, world.customer_a1))  # misses MISSING
    hourly_points(account_make(world.provider_a, world.customer_a2), missing=())
    chart = account_hashrate_chart(scope=scope, choice=chart_choice(range_key="24h", interval="1h"),
                                   per_customer=True)
    by_label = {s.label: s.values for s in chart.series}
    slot = chart.times.index(MISSING)
    assert by_label[world.customer_a1.name][slot] is None and by_label[world.customer_a2.name][slot] == HS
    assert chart.gaps == []  # the fleet holds that hour (another customer's point): nothing to shade
    assert sum(v is None for values in by_label.values() for v in values) == 1


def test_a_workers_missing_hour_is_a_null_too(world):
    account = account_make(world.provider_a, world.customer_a1)
    worker = Worker.objects.create(provider=world.provider_a, customer=world.customer_a1, account=account,
                                   name="rig1", first_seen_at=FIRST)
    at, rows = FIRST, []
    while at <= LAST:
        if at != MISSING:
            rows.append(WorkerHashrateSample(provider=world.provider_a, customer=world.customer_a1, account=account,
                                             worker=worker, interval=Interval.H1, at=at, hashrate_hs=HS))
        at += timedelta(hours=1)
    WorkerHashrateSample.objects.bulk_create(rows)
    chart = worker_hashrate_chart(scope=_scope(world), worker_id=worker.pk,
                                  choice=chart_choice(range_key="7d", interval="1h"))
    assert chart.first_at == FIRST and chart.history_is_shorter and len(chart.times) == 42
    assert [t for t, v in zip(chart.times, chart.series[0].values, strict=True) if v is None] == [MISSING]


def test_a_total_missing_one_accounts_point_is_a_gap_not_a_fall(world):
    """Two accounts of one customer; one misses an hour the other holds. Summing what is there would draw the total
    halved for that hour (the missing account counted as zero): the total is None there and shaded."""
    hourly_points(account_make(world.provider_a, world.customer_a1))  # misses MISSING
    hourly_points(account_make(world.provider_a, world.customer_a1), missing=())
    chart = account_hashrate_chart(scope=_scope(world), choice=chart_choice(range_key="24h", interval="1h"))
    assert [t for t, v in zip(chart.times, chart.series[0].values, strict=True) if v is None] == [MISSING]
    assert all(v == 2 * HS for v in chart.series[0].values if v is not None)
    assert chart.partial_points == 1 and chart.gaps == [Gap(MISSING - timedelta(hours=1),
                                                            MISSING + timedelta(hours=1), 1)]


def test_an_account_that_starts_later_is_not_a_gap_before_its_first_point(world):
    hourly_points(account_make(world.provider_a, world.customer_a1), missing=())
    hourly_points(account_make(world.provider_a, world.customer_a1), first=MISSING, missing=())  # new account
    chart = account_hashrate_chart(scope=_scope(world), choice=chart_choice(range_key="24h", interval="1h"))
    assert None not in chart.series[0].values and chart.partial_points == 0 and chart.gaps == []
    assert chart.series[0].values[chart.times.index(MISSING)] == 2 * HS
