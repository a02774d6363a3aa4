"""A month with lines priced on missing data: flagged on the staff month page before closing, and closed from the
page only with the explicit confirmation. Clock fixed at 2026-11-20 12:00 UTC (October over)."""

from __future__ import annotations

import pytest
import time_machine

from billing.models import Statement, StatementFee
from billing.services.contracts import ContractTerms, contract_version_create
from tests.billing.factories import account_make, samples_make
from tests.fixtures.access import login_verified
from tests.portal.statements_world import NOVEMBER, NOW, OCTOBER, system

pytestmark = pytest.mark.django_db
BASE = "/p/alpha/billing/statements/"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_short_coverage_is_flagged_and_the_close_needs_the_confirmation(client, world):
    contract_version_create(scope=system(world.provider_a), customer_id=world.customer_a1.pk,
                            effective_from=OCTOBER, now=NOW,
                            terms=ContractTerms(power_mode="hashrate", efficiency_j_per_th="20",
                                                price_per_kwh="0.000001"))
    samples_make(account_make(world.provider_a, world.customer_a1), OCTOBER, 15, "100000000000000")  # 15 of 31 days
    login_verified(client, world.alice)
    page = client.get(f"{BASE}2026-10/").content.decode()
    assert 'id="short-coverage"' in page and "Carol Mining: power fee 2026-10-01–2026-11-01 at 48.38% coverage" in page
    assert 'name="accept_estimates"' in page

    refused = client.post(f"{BASE}2026-10/close/", follow=True).content.decode()
    assert "October 2026 was not closed" in refused and "Carol Mining: power fee 2026-10-01–2026-11-01 at 48.38% " \
        "coverage" in refused
    assert not Statement.objects.exists()

    done = client.post(f"{BASE}2026-10/close/", {"accept_estimates": "yes"}, follow=True).content.decode()
    assert "Closed October 2026: 1 statements frozen." in done
    assert StatementFee.objects.get(statement__customer=world.customer_a1).coverage_bps == 4838


def test_the_customer_dashboards_month_figure_says_what_it_is_and_links_the_statement(client, world):
    from tests.billing.factories import reward_make

    account = account_make(world.provider_a, world.customer_a1)
    reward_make(account, NOW.date().replace(day=2), 40_000)
    login_verified(client, world.carol)
    html = client.get("/c/alpha/carol-mining/dashboard/").content.decode()
    # The pool's net (pending included), not the statement's figure: labelled so, with the statement one click away.
    assert "pool net this month, before fees and shares (since 1 Nov, pending included)" in html
    assert 'href="/c/alpha/carol-mining/statements/"' in html


def test_the_contract_form_sets_the_coverage_threshold_and_fallback_and_names_a_missing_nameplate(client, world):
    from billing.models import ContractVersion

    login_verified(client, world.alice)
    url = "/p/alpha/billing/contracts/carol-mining/new/"
    terms = {"effective_from": "2026-11-01", "power_mode": "hashrate", "efficiency_j_per_th": "21.5",
             "price_per_kwh": "0.065", "coverage_threshold_percent": "90", "coverage_fallback": "nameplate",
             "submit_key": "k1"}
    assert 'name="coverage_threshold_percent"' in client.get(url).content.decode()
    form = client.post(url, terms).context["form"]
    assert "power_kw" in form.errors and not ContractVersion.objects.exists()
    assert client.post(url, {**terms, "power_kw": "3.5", "submit_key": "k2"}).status_code == 302
    version = ContractVersion.objects.get()
    assert (version.coverage_threshold_bps, version.coverage_fallback, version.power_kw) == (9000, "nameplate", 3.5)


def test_data_health_shows_each_accounts_coverage_and_gaps_this_month_and_last(client, world):
    account = account_make(world.provider_a, world.customer_a1, name="rig-north")
    samples_make(account, OCTOBER, 10, "100000000000000")  # 1–10 Oct held, 11–31 Oct missing
    samples_make(account, NOVEMBER, 5, "100000000000000")  # 1–5 Nov of the 19 completed days
    login_verified(client, world.alice)
    html = client.get("/p/alpha/billing/data-health/").content.decode()
    table = html[html.index('id="data-health"'):]
    october = table[table.index("October 2026"):table.index("</tr>", table.index("October 2026"))]
    november = table[table.index("November 2026"):table.index("</tr>", table.index("November 2026"))]
    # 10 of 31 days = 32.25% (floored); 5 of 19 completed November days = 26.31%.
    assert "32.25%" in october and "2880" in october and "11 Oct–31 Oct" in october
    assert "26.31%" in november and "6 Nov–19 Nov" in november
    assert "rig-north" in table


def test_a_short_account_beyond_the_first_page_is_flagged_and_the_confirmation_offered_on_every_page(client, world):
    """The month page lists 50 customers a page; the close refuses for a short line of any customer, so the
    warning and the confirmation box cover the whole month (before: only the page shown, so a short line of the
    51st customer made the month impossible to close from the portal)."""
    from tenants import services
    from tests.portal.statements_world import customers_make

    customers_make(world.provider_a, 55)
    zed = services.customer_create(provider=world.provider_a, name="Zed Mining", slug="zed-mining")
    contract_version_create(scope=system(world.provider_a), customer_id=zed.pk, effective_from=OCTOBER, now=NOW,
                            terms=ContractTerms(power_mode="hashrate", efficiency_j_per_th="20",
                                                price_per_kwh="0.000001"))
    samples_make(account_make(world.provider_a, zed, name="zed-rig"), OCTOBER, 15, "100000000000000")
    login_verified(client, world.alice)
    page = client.get(f"{BASE}2026-10/").content.decode()
    assert "Zed Mining" not in page  # not on the first page of statements
    assert 'id="short-accounts"' in page and "zed-rig: 48.38%" in page
    assert 'name="accept_estimates"' in page
    done = client.post(f"{BASE}2026-10/close/", {"accept_estimates": "yes"}, follow=True).content.decode()
    assert "Closed October 2026:" in done
    assert StatementFee.objects.get(statement__customer=zed).coverage_bps == 4838
