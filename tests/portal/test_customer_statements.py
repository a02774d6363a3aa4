"""Customer self-service statements: the month to date (not final, no file), past closed months, one statement,
and the closed statement's PDF and CSV; admins and viewers alike; another customer's statements are a 404.
Fixed clock: 2026-11-20 12:00 UTC (October 2026 closed, November running)."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Statement
from billing.selectors.statements import statement_get
from billing.templatetags.billing_money import btc
from tenants import services
from tenants.models import CustomerRole
from tests.portal.statements_world import NOVEMBER, NOW, OCTOBER, SEPTEMBER, bill, system

pytestmark = pytest.mark.django_db
BASE = "/c/alpha/carol-mining/statements/"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def billed(world):
    bill(world.provider_a, [world.customer_a1, world.customer_a2], adjust_november=True)


@pytest.fixture
def viewer(world):
    user = services.user_get_or_create(email="viewer@carol.example", password="x-long-password-1")
    services.customer_membership_grant(customer=world.customer_a1, user=user, role=CustomerRole.VIEWER)
    return user


def body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


@pytest.mark.parametrize("who", ["carol", "viewer"])
def test_admins_and_viewers_see_month_to_date_and_closed_months(client, world, billed, viewer, who):
    client.force_login(world.carol if who == "carol" else viewer)
    html = client.get(BASE).content.decode()
    assert f'href="{BASE}"' in html and 'aria-current="page">Statements' in html  # in the customer's menu
    mtd = statement_get(scope=system(world.provider_a), customer_id=world.customer_a1.pk, period=NOVEMBER,
                        today=NOW.date())
    section = html[html.index('id="month-to-date"'):html.index("Closed months")]
    assert "Not final" in section and btc(mtd.customer_net_sats) in section and btc(mtd.net_sats) in section
    assert "not offered as a file" in section and "/pdf/" not in section
    closed = html[html.index('id="closed-statements"'):]
    for period in (OCTOBER, SEPTEMBER):
        s = Statement.objects.get(customer=world.customer_a1, period=period)
        assert btc(s.customer_net_sats) in closed and f"{BASE}{period:%Y-%m}/pdf/" in closed
    assert closed.index("October 2026") < closed.index("September 2026")
    assert "Eve Hashing" not in html


def test_statement_pages_closed_and_to_date(client, world, billed):
    client.force_login(world.carol)
    october = client.get(f"{BASE}2026-10/").content.decode()
    frozen = Statement.objects.get(customer=world.customer_a1, period=OCTOBER)
    assert frozen.content_hash in october and "Download PDF" in october
    assert all(line.tx_hash in october for line in frozen.lines.filter(kind="reward"))
    november = client.get(f"{BASE}2026-11/").content.decode()
    assert "Not final" in november and "Download PDF" not in november and "Replaced a fan" in november
    assert client.get(f"{BASE}2026-12/").status_code == 404  # nothing billed (yet)
    assert client.get(f"{BASE}not-a-month/").status_code == 404


def test_downloads_of_a_closed_statement_and_none_for_the_month_to_date(client, world, billed, viewer):
    client.force_login(viewer)
    pdf = client.get(f"{BASE}2026-10/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert 'filename="statement-carol-mining-2026-10.pdf"' in pdf["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(client.get(f"{BASE}2026-10/csv/")))))
    frozen = Statement.objects.get(customer=world.customer_a1, period=OCTOBER)
    assert [r["tx_hash"] for r in rows if r["kind"] not in ("total", "machine_fee")] == \
        [ln.tx_hash for ln in frozen.lines.all()]
    assert sum(int(r["net_reward_btc"].replace(".", "")) for r in rows if r["kind"] == "reward") == frozen.net_sats
    refused = client.get(f"{BASE}2026-11/pdf/", follow=True).content.decode()
    assert "There is no closed statement for 2026-11" in refused


def test_another_customers_statements_are_a_404(client, world, billed):
    mallory = services.user_get_or_create(email="mallory@eve.example", password="x-long-password-1")
    services.customer_membership_grant(customer=world.customer_a2, user=mallory, role=CustomerRole.ADMIN)
    client.force_login(mallory)
    for url in (BASE, f"{BASE}2026-10/", f"{BASE}2026-10/pdf/", f"{BASE}2026-10/csv/", f"{BASE}2026-11/"):
        assert client.get(url).status_code == 404, url
    assert client.get("/c/alpha/eve-hashing/statements/2026-10/pdf/").status_code == 200  # their own
    assert client.get("/p/alpha/billing/statements/").status_code == 404  # staff pages are not theirs


def test_the_statements_page_costs_the_same_with_1_and_50_closed_months(client, world):
    from datetime import date

    from billing.periods import month_end
    from billing.services.closing import billing_month_close

    first = date(2022, 8, 1)
    bill(world.provider_a, [world.customer_a1], close=(first,), start=first)
    client.force_login(world.carol)

    def count() -> int:
        client.get(BASE)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(BASE).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    period = first
    for _ in range(49):
        period = month_end(period)
        billing_month_close(scope=system(world.provider_a), period=period, now=NOW)
    assert Statement.objects.filter(customer=world.customer_a1).count() == 50
    assert count() == one
    html = client.get(BASE).content.decode()
    assert html.count("/pdf/") == 24 and "Page 1 of 3" in html  # two years a page
