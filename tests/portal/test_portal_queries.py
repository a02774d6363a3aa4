"""Every list and dashboard of the portal costs the same number of queries with 1 row as with 50."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.fixtures.access import login_verified
from tests.portal.portal_rows import fleet_rows_add

CUSTOMER_PAGES = ["dashboard/", "dashboard/hashrate/?range=6h", "workers/", "workers/rows/?sort=hashrate_24h",
                  "rewards/", "rewards.csv", "watcher-links/", "alert-settings/", "payout/"]
STAFF_PAGES = ["fleet/", "fleet/hashrate/?range=7d", "alerts/", "alerts/rows/?state=all", "customers/",
               "customers/rows/?q=a", "customers/carol-mining/", "accounts/",
               "alerts/rules/", "settings/"]


def _count(client, url: str) -> int:
    client.get(url)  # the first request after signing in may write the session once; count a settled one
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", CUSTOMER_PAGES)
def test_customer_pages_cost_the_same_with_1_and_50_rows(world, client, django_assert_num_queries, page):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    client.force_login(world.carol)
    url = f"/c/alpha/carol-mining/{page}"
    one = _count(client, url)
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=49)
    with django_assert_num_queries(one):
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            body = b"".join(response.streaming_content).decode()
            assert body.count("\n") == 51  # the header and all 50 rewards
        else:
            assert response.status_code == 200


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_staff_pages_cost_the_same_with_1_and_50_rows(world, client, django_assert_num_queries, page):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=1)
    login_verified(client, world.alice)
    url = f"/p/alpha/{page}"
    one = _count(client, url)
    more_for = world.customer_a1 if "carol-mining" in page else world.customer_a2
    fleet_rows_add(provider=world.provider_a, customer=more_for, n=49)
    with django_assert_num_queries(one):
        assert client.get(url).status_code == 200


def test_the_lists_really_show_the_50_rows(world, client):
    fleet_rows_add(provider=world.provider_a, customer=world.customer_a1, n=50)
    client.force_login(world.carol)
    workers = client.get("/c/alpha/carol-mining/workers/").content.decode()
    assert workers.count('class="badge ok">Online') == 50 and "50 workers" in workers
    links = client.get("/c/alpha/carol-mining/watcher-links/").content.decode()
    assert links.count("data-copy=") == 50
    login_verified(client, world.alice)
    fleet = client.get("/p/alpha/fleet/").content.decode()
    assert fleet.count("Sync now</button>") == 50
    assert client.get("/p/alpha/alerts/").content.decode().count(">Acknowledge</button>") == 50
