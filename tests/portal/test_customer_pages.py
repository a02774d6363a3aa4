"""A customer's self-service pages on data synced from the sandbox pool: chart, workers, rewards, links, payout."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F

from billing.templatetags.billing_money import btc, btc_hover
from mining.models import (
    AccountHashrateSample,
    Interval,
    MiningAccount,
    Reward,
    WatcherLink,
    Worker,
    WorkerHashrateSample,
)
from mining.selectors.charts import chart_choice
from mining.services.accounts import mining_account_assign
from mining.services.sync.worker_hashrate import worker_means_refresh
from portal.templatetags.units import hashrate, percent
from tenants import services
from tenants.models import CustomerRole
from tests.mining.test_sync import sync_all

PASSWORD = "customer-pages-password"


@pytest.fixture
def synced(pool_provider, client):
    pp = pool_provider
    other = services.customer_create(provider=pp.provider, name="Other Co", slug="other-co")
    moved = pp.accounts[-1]
    mining_account_assign(scope=pp.scope, account_id=moved.pk, customer_id=other.pk,
                          effective_on=pp.data_now.date() - timedelta(days=60), today=pp.data_now.date())
    sync_all(pp)
    viewer = services.user_get_or_create(email="viewer@miner.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=viewer, role=CustomerRole.VIEWER)
    client.force_login(viewer)
    pp.base = f"/c/{pp.provider.slug}/miner-co/"
    pp.moved = moved
    return pp


def _chart_json(html: str, element_id: str) -> dict:
    start = html.index(f'<script id="{element_id}" type="application/json">') + len(
        f'<script id="{element_id}" type="application/json">')
    return json.loads(html[start:html.index("</script>", start)])


def test_dashboard_draws_the_customers_own_hashrate_and_figures(synced, client):
    pp = synced
    html = client.get(pp.base + "dashboard/").content.decode()
    data = _chart_json(html, "hashrate-data")
    own = [a.pk for a in pp.accounts[:-1]]
    newest = AccountHashrateSample.objects.filter(account_id__in=own, interval=Interval.M5).order_by("-at").first().at
    expected = sum(s.hashrate_hs for s in AccountHashrateSample.objects.filter(
        account_id__in=own, interval=Interval.M5, at=newest))
    assert data["times"][-1] == int(newest.timestamp())
    assert data["series"][0]["values"][-1] == pytest.approx(float(expected))
    assert len(data["times"]) == 288  # 24 hours of 5-minute points: the moved account's points are not summed in
    online = Worker.objects.filter(account_id__in=own, status="online").count()
    assert f'<span class="value">{online}</span><span class="label">workers online' in html
    assert "Data up to" in html and "reject rate" in html


def test_range_and_resolution_choices_and_the_fragment(synced, client):
    pp = synced
    week = client.get(pp.base + "dashboard/hashrate/?range=7d").content.decode()
    assert not week.lstrip().startswith("<!doctype") and 'id="hashrate"' in week
    assert len(_chart_json(week, "hashrate-data")["times"]) == 7 * 24  # hourly points by default
    refused = client.get(pp.base + "dashboard/hashrate/?range=1y&interval=5m").content.decode()
    assert "cannot be drawn" in refused
    own = [a.pk for a in pp.accounts[:-1]]
    days = AccountHashrateSample.objects.filter(account_id__in=own, interval=Interval.D1).values("at").distinct()
    assert len(_chart_json(refused, "hashrate-data")["times"]) == days.count() > 0  # fell back to daily points
    assert chart_choice(range_key="forever", interval=None).range_key == "24h"


def test_workers_table_filters_sorts_searches_and_shows_the_24h_mean(synced, client):
    pp = synced
    account = pp.accounts[0]
    page = client.get(pp.base + "workers/").content.decode()
    own_workers = Worker.objects.filter(account__in=pp.accounts[:-1])
    assert f"{own_workers.count()} workers" in page
    assert pp.moved.name + "." not in page
    worker = own_workers.filter(account=account).order_by("name").first()
    rows = client.get(pp.base + f"workers/rows/?q={worker.name}&account={account.pk}").content.decode()
    assert f"{account.name}.{worker.name}" in rows and "1 worker" in rows
    status = client.get(pp.base + "workers/?status=offline").content.decode()
    assert f"{own_workers.filter(status='offline').count()} worker" in status
    by_rate = client.get(pp.base + "workers/rows/?sort=hashrate").content.decode()
    fastest = own_workers.exclude(current_hashrate_hs=None).order_by("-current_hashrate_hs", "name").first()
    assert by_rate.index(f">{fastest.account.name}.{fastest.name}<") < by_rate.index("</tbody>")
    first_row = by_rate[by_rate.index("<tbody>"):].split("</tr>")[0]
    assert f"{fastest.account.name}.{fastest.name}" in first_row and hashrate(fastest.current_hashrate_hs) in first_row


def test_the_24h_mean_is_the_mean_of_the_last_24_hourly_points_and_sorts_the_table(synced, client):
    """The 24 h mean column is a rollup the sync writes: it must equal the mean of the worker's own hourly points
    in the 24 hours up to its account's newest point, sort the table, and not change on a re-sync."""
    pp = synced
    own_workers = Worker.objects.filter(account__in=pp.accounts[:-1])
    checked = 0
    for worker in own_workers:
        newest = WorkerHashrateSample.objects.filter(account=worker.account, interval=Interval.H1).order_by("-at")[0].at
        points = list(WorkerHashrateSample.objects.filter(
            worker=worker, interval=Interval.H1, at__gt=newest - timedelta(hours=24), at__lte=newest
        ).values_list("hashrate_hs", flat=True))
        if points:
            expected = (sum(points) / len(points)).quantize(Decimal("0.000001"))
            assert (worker.hashrate_24h_hs, worker.hashrate_24h_until_at) == (expected, newest)
            checked += 1
        else:
            assert worker.hashrate_24h_hs is None
    assert checked > 0
    rows = client.get(pp.base + "workers/rows/?sort=hashrate_24h").content.decode()
    ranked = own_workers.order_by(F("hashrate_24h_hs").desc(nulls_last=True), "name")
    first_row = rows[rows.index("<tbody>"):].split("</tr>")[0]
    assert f"{ranked[0].account.name}.{ranked[0].name}" in first_row
    assert hashrate(ranked[0].hashrate_24h_hs) in first_row
    before = list(own_workers.order_by("pk").values_list("pk", "hashrate_24h_hs", "hashrate_24h_until_at"))
    for account in pp.accounts[:-1]:
        assert worker_means_refresh(account_id=account.pk) == 0  # nothing changed, nothing written
    assert list(own_workers.order_by("pk").values_list("pk", "hashrate_24h_hs", "hashrate_24h_until_at")) == before


def test_worker_detail_draws_its_hourly_series_and_another_customers_worker_is_404(synced, client):
    pp = synced
    worker = Worker.objects.filter(account=pp.accounts[0]).first()
    html = client.get(pp.base + f"workers/{worker.pk}/").content.decode()
    points = WorkerHashrateSample.objects.filter(worker=worker, interval=Interval.H1).count()
    assert len(_chart_json(html, "worker-data")["times"]) == points > 0
    theirs = Worker.objects.filter(account=pp.moved).first()
    assert client.get(pp.base + f"workers/{theirs.pk}/").status_code == 404


def test_rewards_page_and_csv_are_exact_and_only_the_customers_own(synced, client):
    pp = synced
    page = client.get(pp.base + "rewards/").content.decode()
    newest = Reward.objects.filter(account=pp.accounts[0]).order_by("-date").first()
    assert btc_hover(newest.reward_sats) in page
    response = client.get(pp.base + "rewards.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    own = Reward.objects.filter(customer=pp.customer)
    assert len(rows) == own.count() and own.count() > 0
    assert {r["account"] for r in rows} == {a.name for a in pp.accounts[:-1]}
    for row in rows:
        assert int(row["gross_sats"]) == int(row["net_sats"]) + int(row["fee_sats"])
        assert row["net_btc"] + " BTC" == btc(int(row["net_sats"]))
    paid = client.get(pp.base + "rewards.csv?status=successful")
    assert {r["status"] for r in csv.DictReader(io.StringIO(b"".join(paid.streaming_content).decode()))} == {"Paid"}


def test_watcher_links_and_payout_destinations_are_listed_read_only(synced, client, time_machine):
    pp = synced
    time_machine.move_to(pp.data_now, tick=False)  # links expire on the pool's clock: the page looks at that instant
    for name, hours in (("gone_1h_ago", -1), ("left_for_1h", 1)):  # the sync may not have dropped one yet
        WatcherLink.objects.create(provider=pp.provider, customer=pp.customer, upstream_id=name, name=name,
                                   url=f"https://whitebit.com/mining-pool/watcher-link/{name}",
                                   permissions=["dashboard"], live_until_at=pp.data_now + timedelta(hours=hours))
    html = client.get(pp.base + "watcher-links/").content.decode()
    assert "3 active links per account" in html and "no way to revoke" in html
    assert "Create link" not in html  # a viewer reads only
    for link in WatcherLink.objects.filter(customer=pp.customer, is_active=True):
        expired = link.live_until_at is not None and link.live_until_at <= pp.data_now
        assert (f'data-copy="{link.url}"' in html) is not expired
    assert "left_for_1h" in html and "in 1\xa0hour</time>" in html and "gone_1h_ago" not in html
    html = client.get(pp.base + "payout/").content.decode()
    assert "Your hosting provider sets the payout destination" in html and "<form" not in html.split("<main")[-1]
    for account in MiningAccount.objects.filter(pk__in=[a.pk for a in pp.accounts[:-1]]):
        assert account.name in html
    assert pp.moved.name not in html


def test_another_customer_of_the_same_provider_is_404(synced, client):
    pp = synced
    for page in ("dashboard/", "workers/", "rewards/", "rewards.csv", "watcher-links/", "dashboard/hashrate/",
                 "payout/"):
        assert client.get(f"/c/{pp.provider.slug}/other-co/{page}").status_code == 404


def test_unit_filters_for_the_pages():
    assert str(btc_hover(123456)) == '<span class="btc" title="123,456 sats">0.00123456 BTC</span>'
    assert percent("0.004125") == "0.41 %" and percent(None) == "–"
