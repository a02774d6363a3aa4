"""A month with lines priced on missing data: flagged on the staff month page before closing, and closed from the
page only with the explicit confirmation. Clock fixed at 2026-11-20 12:00 UTC (October over)."""

from __future__ import annotations

import pytest
import time_machine

from billing.models import Statement, StatementFee
from billing.selectors.statements import statement_get
from billing.services.contracts import ContractTerms, contract_version_create
from billing.templatetags.billing_money import btc, btc_hover
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


def _figure(html: str, which: str) -> str:
    start = html.index(f'data-mtd="{which}"')
    return html[start:html.index("</div>", start)]


def test_the_dashboards_month_figures_are_the_statements_month_to_date(client, world):
    """One figure per meaning: the dashboard's "this month" is the statement's month to date (completed UTC days,
    settled rewards, fees and adjustments), the same amounts the statements page shows, not the pool's net with
    today's and pending rewards summed in (which main showed, 250,006 sats here, beside a net of 150,006)."""
    from mining.models import RewardStatus
    from tests.billing.factories import reward_make
    from tests.portal.statements_world import bill

    bill(world.provider_a, [world.customer_a1], adjust_november=True)
    account = world.customer_a1.mining_accounts.get()
    reward_make(account, NOW.date(), 60_000)  # today: not a completed day, not in the month to date
    reward_make(account, NOVEMBER.replace(day=4), 40_000, status=RewardStatus.PENDING)  # pending: listed apart
    mtd = statement_get(scope=system(world.provider_a), customer_id=world.customer_a1.pk, period=NOVEMBER,
                        today=NOW.date())
    assert (mtd.net_sats, mtd.pending_sats) == (150_006, 40_000) and mtd.customer_net_sats != mtd.net_sats
    login_verified(client, world.carol)
    dashboard = client.get("/c/alpha/carol-mining/dashboard/").content.decode()
    statements = client.get("/c/alpha/carol-mining/statements/").content.decode()
    for which, sats in (("net", mtd.net_sats), ("customer-net", mtd.customer_net_sats)):
        shown = btc_hover(sats)
        assert shown in _figure(dashboard, which) and shown in _figure(statements, which)
    assert "net rewards this month to date" in _figure(dashboard, "net")
    assert "0.00040000 BTC pending" in _figure(dashboard, "net")
    assert "Alpha Hosting pays you, this month to date" in _figure(dashboard, "customer-net")
    assert 'href="/c/alpha/carol-mining/statements/"' in _figure(dashboard, "customer-net")
    assert btc(250_006) not in dashboard  # the pool's net with today and pending summed in is not shown as "this month"


def test_the_contract_form_sets_the_coverage_threshold_and_fallback_and_names_a_missing_nameplate(client, world):
    from billing.models import ContractVersion

    login_verified(client, world.alice)
    url = "/p/alpha/billing/contracts/carol-mining/new/"
    terms = {"effective_from": "2026-11-01", "power_mode": "hashrate", "efficiency_j_per_th": "21.5",
             "price_per_kwh": "0.065", "coverage_threshold_percent": "90", "coverage_fallback": "nameplate",
             "idempotency_key": "k1"}
    assert 'name="coverage_threshold_percent"' in client.get(url).content.decode()
    form = client.post(url, terms).context["form"]
    assert "power_kw" in form.errors and not ContractVersion.objects.exists()
    assert client.post(url, {**terms, "power_kw": "3.5", "idempotency_key": "k2"}).status_code == 302
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
