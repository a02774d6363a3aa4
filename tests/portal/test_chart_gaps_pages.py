"""The chart pages carry the gaps (issue 16): the JSON each chart reads has None at every missing slot and the runs
to shade, and the caption says since when the portal holds the series, in the reader's own zone, and when a range
reaches back further than that. Rows written straight to the tables at fixed instants (tests/mining/test_chart_gaps)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from mining.models import Interval, Worker, WorkerHashrateSample
from tenants.models import UserPreference
from tests.billing.factories import account_make
from tests.fixtures.access import login_verified
from tests.mining.test_chart_gaps import FIRST, HS, LAST, MISSING, hourly_points

pytestmark = pytest.mark.django_db
BASE = "/c/alpha/carol-mining/"
FIVE = timedelta(minutes=5)
# The hour 05:00–06:00 UTC on 15 Nov missing from the 5-minute series: 12 slots.
MISSING_5M = {MISSING + i * FIVE for i in range(12)}


def chart_json(html: str, element_id: str) -> dict:
    opening = f'<script id="{element_id}" type="application/json">'
    start = html.index(opening) + len(opening)
    return json.loads(html[start:html.index("</script>", start)])


def nulls(data: dict, series: int = 0) -> list[int]:
    return [t for t, v in zip(data["times"], data["series"][series]["values"], strict=True) if v is None]


@pytest.fixture
def gapped(world):
    """Carol's account: 5-minute points for the last two days (one hour missing) and hourly points since FIRST
    (the same hour missing); Carol reads times in Tokyo."""
    account = account_make(world.provider_a, world.customer_a1)
    hourly_points(account)
    hourly_points(account, first=LAST - timedelta(days=2) + FIVE, missing=MISSING_5M, interval=Interval.M5, step=FIVE)
    UserPreference.objects.create(user=world.carol, timezone="Asia/Tokyo")
    return account


def test_the_dashboards_chart_json_carries_a_null_at_each_missing_slot(gapped, client, world):
    client.force_login(world.carol)
    html = client.get(BASE + "dashboard/").content.decode()
    data = chart_json(html, "hashrate-data")
    assert len(data["times"]) == 288 and data["step"] == 300  # 24 hours of 5-minute slots, the gap included
    assert nulls(data) == sorted(int(t.timestamp()) for t in MISSING_5M)
    assert data["gaps"] == [[int((MISSING - FIVE).timestamp()), int((MISSING + 12 * FIVE).timestamp())]]
    caption = html[html.index('class="muted small chart-history"'):]
    caption = caption[:caption.index("</p>")]
    # History since the first 5-minute point, 2 days back: 13 Nov 17:05 UTC is 14 Nov 02:05 in Tokyo.
    assert "history since" in caption and "14 Nov 02:05 JST" in caption
    assert "1 gap in the range (12 5-minute points missing), shaded: no data, not zero" in caption
    assert "Showing" not in html  # 24 hours asked, more held
    assert "issue 16" not in html and "#}" not in html  # the partials' comments stay comments


def test_a_range_longer_than_the_history_says_so(gapped, client, world):
    client.force_login(world.carol)
    html = client.get(BASE + "dashboard/hashrate/?range=30d").content.decode()  # the htmx fragment
    data = chart_json(html, "hashrate-data")
    assert data["step"] == 3600 and len(data["times"]) == 42 and nulls(data) == [int(MISSING.timestamp())]
    # The hourly history starts at FIRST (14 Nov 00:00 UTC = 09:00 in Tokyo): 42 hours, not 30 days.
    assert "Showing 42 hours: the portal holds hourly history since" in html
    assert "14 Nov 2026 09:00 JST" in html and "not the 30 days asked for" in html


def test_the_fleet_chart_and_a_workers_chart_carry_their_gaps(gapped, client, world):
    login_verified(client, world.alice)
    fleet = client.get("/p/alpha/fleet/?range=24h&interval=1h").content.decode()
    data = chart_json(fleet, "fleet-data")
    assert nulls(data) == [int(MISSING.timestamp())] and len(data["gaps"]) == 1
    assert "history since" in fleet

    worker = Worker.objects.create(provider=world.provider_a, customer=world.customer_a1, account=gapped,
                                   name="rig1", first_seen_at=FIRST)
    WorkerHashrateSample.objects.bulk_create(
        WorkerHashrateSample(provider=world.provider_a, customer=world.customer_a1, account=gapped, worker=worker,
                             interval=Interval.H1, at=LAST - timedelta(hours=h), hashrate_hs=HS)
        for h in range(24) if h not in (3, 4))
    client.force_login(world.carol)
    page = client.get(BASE + f"workers/{worker.pk}/").content.decode()
    data = chart_json(page, "worker-data")
    assert nulls(data) == sorted(int((LAST - timedelta(hours=h)).timestamp()) for h in (3, 4))
    assert "1 gap in the range (2 hourly points missing)" in page
    assert "Showing 24 hours: the portal holds hourly history since" in page  # 7 days asked (the default)
