"""Billing set-up in the staff console: contracts (dated versions), BTC prices, maintenance windows, adjustments.

At a fixed clock (2026-11-20 12:00 UTC): Carol Mining has a contract from 2026-10-01 (20 %, 2 machines at 0.0001
BTC) and October is closed, so that version is locked. Every form: the happy path writes the row exactly (human
units in, exact units stored) with an audit entry; each bad field is named and nothing is written; a double submit
writes once; read-only staff see the lists without the forms and their POST is refused; another provider gets 404.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from billing.models import Adjustment, BtcPrice, Contract, ContractVersion, MaintenanceWindow, Statement
from billing.services.closing import billing_month_close
from billing.services.contracts import ContractTerms, contract_version_create
from portal.views.staff.billing_forms import BtcPriceForm
from tenants.access import scope_for_system, scope_for_user
from tenants.idempotency import idempotency_claim
from tenants.models import AuditEntry
from tests.fixtures.access import login_verified

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BASE = "/p/alpha/billing/"
TERMS_FORM = {"revenue_share_percent": "25.5", "fee_currency": "usd", "machine_count": "12",
              "machine_fee_monthly": "45.50", "power_mode": "hashrate", "power_kw": "", "efficiency_j_per_th": "21.5",
              "price_per_kwh": "0.065", "minimum_monthly_fee": "100", "sla_uptime_percent": "95",
              "sla_hashrate_ths": "1234.5", "sla_credit_cap_percent": "10",
              "customer_addresses": "bc1qcustomeraddress0000000000000000000000\n"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def billed(world):
    """Carol Mining's contract from October (closed: a statement used it)."""
    scope = scope_for_system(provider_id=world.provider_a.pk, actor="test")
    version = contract_version_create(
        scope=scope, customer_id=world.customer_a1.pk, effective_from=date(2026, 10, 1), now=NOW,
        terms=ContractTerms(revenue_share_bps=2000, machine_count=2, machine_fee_monthly=Decimal("0.0001")))
    billing_month_close(scope=scope, period=date(2026, 10, 1), now=NOW)
    assert Statement.objects.filter(customer=world.customer_a1, period=date(2026, 10, 1)).exists()
    return version


def rows() -> tuple:
    return (list(ContractVersion.objects.order_by("pk").values()), list(BtcPrice.objects.values()),
            list(MaintenanceWindow.objects.values()), list(Adjustment.objects.values()),
            AuditEntry.objects.count())


def post(client, url: str, data: dict, key: str = "k1"):
    return client.post(url, {**data, "idempotency_key": key})


# ------------------------------------------------------------------------------------------------ pages


@pytest.mark.parametrize("page,heading", [
    ("", "<h1>Billing</h1>"), ("contracts/", "<h1>Contracts</h1>"),
    ("contracts/carol-mining/", "Contract of Carol Mining"), ("contracts/carol-mining/new/", "New contract version"),
    ("btc-prices/", "<h1>BTC prices</h1>"), ("maintenance/", "<h1>Maintenance windows</h1>"),
])
def test_each_page_renders_for_staff_under_the_billing_nav(world, billed, client, page, heading):
    login_verified(client, world.alice)
    response = client.get(BASE + page)
    assert response.status_code == 200
    html = response.content.decode()
    assert heading in html
    assert '<a href="/p/alpha/billing/" aria-current="page">Billing</a>' in html


def test_the_landing_page_links_every_billing_page(world, client):
    login_verified(client, world.alice)
    html = client.get(BASE).content.decode()
    for href in ('href="statements/"', 'href="/p/alpha/billing/contracts/"', 'href="/p/alpha/billing/btc-prices/"',
                 'href="/p/alpha/billing/maintenance/"'):
        assert href in html
    assert "/p/alpha/billing/contracts/carol-mining/" in client.get("/p/alpha/customers/carol-mining/").content.decode()


def test_the_contracts_list_shows_each_customers_current_version(world, billed, client):
    login_verified(client, world.alice)
    html = client.get(BASE + "contracts/").content.decode()
    assert "Carol Mining" in html and "2026-10-01" in html and "20.00 %" in html and "2 × 0.0001 BTC/month" in html
    assert "Eve Hashing" in html and "No contract in force" in html


# ------------------------------------------------------------------------------------------------ contracts


def test_a_new_version_in_human_units_is_stored_exactly_and_ends_the_current_one(world, billed, client):
    login_verified(client, world.alice)
    response = post(client, BASE + "contracts/carol-mining/new/", {**TERMS_FORM, "effective_from": "2026-11-16"})
    assert response.status_code == 302 and response["Location"] == BASE + "contracts/carol-mining/"
    new = ContractVersion.objects.get(effective_from=date(2026, 11, 16))
    assert (new.revenue_share_bps, new.fee_currency, new.machine_count) == (2550, "USD", 12)
    assert new.machine_fee_monthly == Decimal("45.50") and new.price_per_kwh == Decimal("0.065")
    assert new.efficiency_j_per_th == Decimal("21.5") and new.minimum_monthly_fee == Decimal(100)
    assert (new.sla_uptime_bps, new.sla_credit_cap_bps) == (9500, 1000)
    assert new.sla_hashrate_hs == Decimal("1234500000000000")  # 1234.5 TH/s, exactly
    assert new.customer_addresses == ["bc1qcustomeraddress0000000000000000000000"]
    billed.refresh_from_db()
    assert billed.effective_until == date(2026, 11, 16)
    assert AuditEntry.objects.filter(action="contract.version_create", object_id=str(new.pk)).count() == 1
    assert AuditEntry.objects.filter(action="contract.version_end", object_id=str(billed.pk)).count() == 1
    html = client.get(BASE + "contracts/carol-mining/").content.decode()
    assert html.count("badge ok") == 1 and html.count("Upcoming") == 0
    assert "25.50 %" in html and "95.00 % of 1.23 PH/s" in html
    assert "Locked: billed in 2026-10" in html
    assert "12 × 45.5 USD/month" in html and "power from hashrate at 21.5 J/TH, 0.065 USD/kWh" in html


def test_the_first_version_creates_the_contract(world, client):
    login_verified(client, world.alice)
    response = post(client, BASE + "contracts/eve-hashing/new/",
                    {"effective_from": "2026-11-01", "revenue_share_percent": "25", "power_mode": "none"})
    assert response.status_code == 302
    assert Contract.objects.filter(customer=world.customer_a2).count() == 1
    assert ContractVersion.objects.get(customer=world.customer_a2).revenue_share_bps == 2500
    assert AuditEntry.objects.filter(action="contract.create").count() == 1


def test_every_bad_term_is_named_on_its_field_and_nothing_is_written(world, billed, client):
    login_verified(client, world.alice)
    before = rows()
    bad = {**TERMS_FORM, "effective_from": "2026-12-01", "revenue_share_percent": "150", "fee_currency": "US",
           "machine_count": "2.5", "machine_fee_monthly": "-1", "power_mode": "contracted", "power_kw": "",
           "price_per_kwh": "0", "minimum_monthly_fee": "0.000000001", "sla_uptime_percent": "95",
           "sla_hashrate_ths": "0", "sla_credit_cap_percent": "100.01"}
    response = post(client, BASE + "contracts/carol-mining/new/", bad)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["revenue_share_percent"] == ["Must be between 0 and 100 %."]
    assert form.errors["sla_credit_cap_percent"] == ["Must be between 0 and 100 %."]
    assert form.errors["fee_currency"] == ["Give BTC or a three-letter currency code such as USD or EUR."]
    assert form.errors["machine_count"] == ["Give a whole number (machines)."]
    assert form.errors["machine_fee_monthly"] == ["Must not be negative."]
    assert form.errors["minimum_monthly_fee"] == ["At most 8 decimals."]
    assert form.errors["price_per_kwh"] == ["A power fee needs a price per kWh."]
    assert form.errors["power_kw"] == ["Contracted power needs the contracted kW."]
    assert form.errors["sla_hashrate_ths"] == ["An uptime SLA needs the contracted hashrate (H/s)."]
    html = response.content.decode()
    assert 'id="id_revenue_share_percent_errors"' in html and "Contracted power needs the contracted kW." in html
    assert rows() == before


def test_units_that_cannot_be_exact_and_closed_or_overlapping_dates_are_refused(world, billed, client):
    login_verified(client, world.alice)
    before = rows()
    url = BASE + "contracts/carol-mining/new/"
    form = post(client, url, {**TERMS_FORM, "effective_from": "2026-12-01", "revenue_share_percent": "12.345",
                              "sla_hashrate_ths": "1e3"}).context["form"]
    assert form.errors["revenue_share_percent"] == ["At most two decimals (0.01 % is one basis point)."]
    assert form.errors["sla_hashrate_ths"] == ["“1e3” is not a number (use a dot for decimals, e.g. 12.5)."]
    form = post(client, url, {**TERMS_FORM, "effective_from": "2026-10-15"}).context["form"]
    assert "falls in a closed month (closed up to 2026-11-01)" in form.errors["effective_from"][0]
    form = post(client, url, {**TERMS_FORM, "effective_from": "2026-10-01"}).context["form"]
    assert "closed month" in form.errors["effective_from"][0]
    form = post(client, url, {**TERMS_FORM, "effective_from": ""}).context["form"]
    assert form.errors["effective_from"] == ["This field is required."]
    assert rows() == before


def test_a_version_used_by_a_closed_statement_says_why_it_cannot_change(world, billed, client):
    login_verified(client, world.alice)
    url = f"{BASE}contracts/carol-mining/versions/{billed.pk}/"
    html = client.get(url).content.decode()
    assert "This version cannot change: the closed statement of 2026-10 used it" in html
    assert "Save the correction" not in html
    before = rows()
    response = post(client, url, {**TERMS_FORM, "revenue_share_percent": "30"})
    assert response.status_code == 200
    assert "was used by a closed statement (2026-10)" in response.content.decode()
    assert response.context["form"].non_field_errors() == [
        "The version from 2026-10-01 was used by a closed statement (2026-10) and cannot change. Add a new version "
        "from the next open month instead."]
    assert rows() == before


def test_an_open_version_is_corrected_with_an_audit_entry(world, billed, client):
    scope = scope_for_system(provider_id=world.provider_a.pk, actor="test")
    later = contract_version_create(scope=scope, customer_id=world.customer_a1.pk, effective_from=date(2026, 11, 1),
                                    terms=ContractTerms(revenue_share_bps=2000), now=NOW)
    login_verified(client, world.alice)
    url = f"{BASE}contracts/carol-mining/versions/{later.pk}/"
    html = client.get(url).content.decode()
    assert 'value="20.00"' in html and "Save the correction" in html
    response = post(client, url, {**TERMS_FORM, "revenue_share_percent": "22.75"})
    assert response.status_code == 302
    later.refresh_from_db()
    assert later.revenue_share_bps == 2275 and later.effective_from == date(2026, 11, 1)
    entry = AuditEntry.objects.get(action="contract.version_update", object_id=str(later.pk))
    assert entry.changes["revenue_share_bps"] == [2000, 2275] and entry.actor_user == world.alice
    bad = post(client, url, {**TERMS_FORM, "revenue_share_percent": "-1"})
    assert bad.context["form"].errors["revenue_share_percent"] == ["Must be between 0 and 100 %."]


def test_a_double_submitted_new_version_is_saved_once(world, billed, client):
    login_verified(client, world.alice)
    data = {**TERMS_FORM, "effective_from": "2026-12-01"}
    first = post(client, BASE + "contracts/carol-mining/new/", data, key="same")
    second = post(client, BASE + "contracts/carol-mining/new/", data, key="same")
    assert first.status_code == second.status_code == 302 and second["Location"] == first["Location"]
    assert ContractVersion.objects.filter(customer=world.customer_a1).count() == 2
    assert "This form was already sent; it was saved once." in client.get(second["Location"]).content.decode()


# ------------------------------------------------------------------------------------------------ BTC prices


def test_a_btc_price_is_recorded_exactly_and_listed(world, client):
    login_verified(client, world.alice)
    response = post(client, BASE + "btc-prices/", {"currency": "eur", "period": "2026-11", "price": "84123.45678901",
                                                   "as_of": "2026-11-19", "source": "WhiteBIT BTC/EUR close"})
    assert response.status_code == 302
    price = BtcPrice.objects.get()
    assert (price.currency, price.period, price.price) == ("EUR", date(2026, 11, 1), Decimal("84123.45678901"))
    assert AuditEntry.objects.filter(action="btc_price.record").count() == 1
    html = client.get(BASE + "btc-prices/").content.decode()
    assert "2026-11" in html and "84123.45678901" in html and "WhiteBIT BTC/EUR close" in html


def test_bad_btc_prices_are_named_field_by_field_and_closed_months_refused(world, billed, client):
    login_verified(client, world.alice)
    before = rows()
    form = post(client, BASE + "btc-prices/", {"currency": "BTC", "period": "2026-11", "price": "-5",
                                               "as_of": "2026-11-19", "source": " "}).context["form"]
    assert form.errors["currency"] == ["Give a three-letter fiat currency code such as USD or EUR."]
    assert form.errors["price"] == ["The price of one BTC must be a positive number."]
    assert form.errors["source"] == ["Say where the price comes from (e.g. WhiteBIT BTC/USD close)."]
    form = post(client, BASE + "btc-prices/", {"currency": "USD", "period": "2026-13", "price": "1,5",
                                               "as_of": "", "source": "x"}).context["form"]
    assert form.errors["period"] == ["“2026-13” is not a month; write it as YYYY-MM, e.g. 2026-10."]
    assert form.errors["price"] == ["“1,5” is not a number (use a dot for decimals, e.g. 12.5)."]
    assert form.errors["as_of"] == ["This field is required."]
    form = post(client, BASE + "btc-prices/", {"currency": "USD", "period": "2026-10", "price": "90000",
                                               "as_of": "2026-10-31", "source": "x"}).context["form"]
    assert form.errors["period"] == ["2026-10 is closed; its BTC price can no longer change."]
    assert rows() == before


# ------------------------------------------------------------------------------------------------ maintenance


def test_a_window_typed_in_the_providers_time_zone_is_stored_in_utc(world, client):
    world.provider_a.timezone = "Europe/Berlin"
    world.provider_a.save(update_fields=["timezone"])
    login_verified(client, world.alice)
    response = post(client, BASE + "maintenance/", {"customer_id": world.customer_a1.pk,
                                                    "starts_at": "2026-11-25T08:00", "ends_at": "2026-11-25T10:30",
                                                    "reason": "Rack 4 power work"})
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert window.starts_at == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    assert window.ends_at == datetime(2026, 11, 25, 9, 30, tzinfo=UTC) and window.customer == world.customer_a1
    assert AuditEntry.objects.filter(action="maintenance_window.create").count() == 1
    html = client.get(BASE + "maintenance/").content.decode()
    upcoming, past = html.split('id="past-h"')
    assert "2026-11-25 08:00" in upcoming and "2026-11-25 10:30" in upcoming and "Rack 4 power work" in upcoming
    assert "Times in Europe/Berlin" in html and "Rack 4" not in past


def test_past_windows_are_listed_apart(world, client):
    MaintenanceWindow.objects.create(provider=world.provider_a, starts_at=NOW - timedelta(days=3),
                                     ends_at=NOW - timedelta(days=2), reason="Cooling", created_at=NOW)
    login_verified(client, world.alice)
    upcoming, past = client.get(BASE + "maintenance/").content.decode().split('id="past-h"')
    assert "Nothing planned." in upcoming and "Cooling" in past and "every customer" in past


def test_bad_windows_are_named_field_by_field_and_nothing_is_written(world, billed, client):
    world.provider_a.timezone = "Europe/Berlin"
    world.provider_a.save(update_fields=["timezone"])
    login_verified(client, world.alice)
    before = rows()
    url = BASE + "maintenance/"
    form = post(client, url, {"starts_at": "2026-11-25T10:00", "ends_at": "2026-11-25T09:00",
                              "reason": "  "}).context["form"]
    assert form.errors["ends_at"] == ["The window must end after it starts."]
    assert form.errors["reason"] == ["Say what the maintenance is."]
    form = post(client, url, {"starts_at": "2027-03-28T02:30", "ends_at": "tomorrow", "reason": "x"}).context["form"]
    assert "happens twice or not at all in Europe/Berlin" in form.errors["starts_at"][0]
    assert form.errors["ends_at"] == ["Enter a valid date/time."]
    form = post(client, url, {"starts_at": "2026-10-30T10:00", "ends_at": "2026-11-02T10:00",
                              "reason": "x"}).context["form"]
    assert form.errors["starts_at"] == ["The window reaches into 2026-10, which is closed."]
    form = post(client, url, {"customer_id": "999999", "starts_at": "2026-12-01T10:00",
                              "ends_at": "2026-12-01T11:00", "reason": "x"}).context["form"]
    assert "customer_id" in form.errors
    assert rows() == before


# ------------------------------------------------------------------------------------------------ adjustments


def test_an_adjustment_in_btc_is_stored_in_exact_satoshis_listed_and_sent_once(world, client):
    login_verified(client, world.alice)
    url = BASE + "contracts/carol-mining/adjustments/"
    data = {"period": "2026-11", "amount_btc": "-0.00012345", "memo": "Rack fee for October missed"}
    first = post(client, url, data, key="adj-1")
    second = post(client, url, data, key="adj-1")
    assert first.status_code == second.status_code == 302
    adjustment = Adjustment.objects.get()
    assert (adjustment.amount_sats, adjustment.period, adjustment.customer) == (-12345, date(2026, 11, 1),
                                                                                world.customer_a1)
    assert AuditEntry.objects.filter(action="adjustment.create").count() == 1
    html = client.get(BASE + "contracts/carol-mining/").content.decode()
    assert 'title="-12,345 sats">-0.00012345 BTC</span>' in html and "Rack fee for October missed" in html
    assert post(client, url, {**data, "amount_btc": "1.5"}, key="adj-2").status_code == 302
    assert Adjustment.objects.get(amount_sats=150_000_000)


def test_bad_adjustments_are_named_on_the_customers_page_and_nothing_is_written(world, billed, client):
    login_verified(client, world.alice)
    before = rows()
    url = BASE + "contracts/carol-mining/adjustments/"
    form = post(client, url, {"period": "2026-11", "amount_btc": "0.000000001", "memo": ""}).context[
        "adjustment_form"]
    assert form.errors["amount_btc"] == ["At most 8 decimals (one satoshi is 0.00000001 BTC)."]
    form = post(client, url, {"period": "2026-11", "amount_btc": "0", "memo": " "}).context["adjustment_form"]
    assert form.errors["amount_btc"] == [
        "Give a non-zero whole number of satoshis (negative: the customer owes more)."]
    assert form.errors["memo"] == ["Say why (the customer reads it on the statement)."]
    form = post(client, url, {"period": "2026-10", "amount_btc": "0.1", "memo": "x"}).context["adjustment_form"]
    assert form.errors["period"] == ["2026-10 is closed; put the adjustment in an open month."]
    form = post(client, url, {"period": "Nov", "amount_btc": "abc", "memo": "x"}).context["adjustment_form"]
    assert form.errors["period"] == ["“Nov” is not a month; write it as YYYY-MM, e.g. 2026-10."]
    assert form.errors["amount_btc"] == ["“abc” is not a BTC amount (e.g. 0.00150000, or -0.001 for a charge)."]
    response = client.post(url, {"period": "2026-11", "amount_btc": "0.1", "memo": "x"})  # no submit key
    errors = response.context["adjustment_form"].errors
    assert errors["idempotency_key"] == ["This form is out of date; reload the page."]
    assert rows() == before


# ------------------------------------------------------------------------------------------------ access


def test_read_only_staff_see_the_lists_without_forms_and_their_posts_are_refused(world, billed, client):
    login_verified(client, world.dave)
    for page, form_button in (("", None), ("contracts/", None), ("contracts/carol-mining/", "Add adjustment"),
                              ("btc-prices/", "Record price"), ("maintenance/", "Plan window"),
                              (f"contracts/carol-mining/versions/{billed.pk}/", "Save the correction")):
        html = client.get(BASE + page).content.decode()
        assert "Carol Mining" in html or page in ("", "btc-prices/", "maintenance/")
        if form_button:
            assert form_button not in html and "<form method=\"post\" class=\"stack\"" not in html
    assert "New version" not in client.get(BASE + "contracts/carol-mining/").content.decode()
    before = rows()
    for page, data in (("contracts/carol-mining/new/", {**TERMS_FORM, "effective_from": "2026-12-01"}),
                       (f"contracts/carol-mining/versions/{billed.pk}/", TERMS_FORM),
                       ("contracts/carol-mining/adjustments/", {"period": "2026-11", "amount_btc": "1", "memo": "x"}),
                       ("btc-prices/", {"currency": "USD", "period": "2026-11", "price": "1", "as_of": "2026-11-01",
                                        "source": "x"}),
                       ("maintenance/", {"starts_at": "2026-12-01T10:00", "ends_at": "2026-12-01T11:00",
                                         "reason": "x"})):
        assert post(client, BASE + page, data).status_code == 403, page
    assert client.get(BASE + "contracts/carol-mining/new/").status_code == 403
    assert rows() == before


def test_another_provider_and_another_customers_versions_are_404(world, billed, client):
    login_verified(client, world.bob)
    before = rows()
    for page in ("", "contracts/", "contracts/carol-mining/", "btc-prices/", "maintenance/",
                 f"contracts/carol-mining/versions/{billed.pk}/"):
        assert client.get(BASE + page).status_code == 404
        assert post(client, BASE + page, {**TERMS_FORM, "period": "2026-11"}).status_code == 404
    # Alice's own provider, but the version of Carol Mining under Eve Hashing's address: 404, not a leak.
    login_verified(client, world.alice)
    assert client.get(f"{BASE}contracts/eve-hashing/versions/{billed.pk}/").status_code == 404
    assert post(client, f"{BASE}contracts/eve-hashing/versions/{billed.pk}/", TERMS_FORM).status_code == 404
    assert rows() == before


def test_a_second_send_while_the_first_is_saving_writes_nothing_and_other_values_need_a_new_key(world, client):
    login_verified(client, world.alice)
    url = BASE + "btc-prices/"
    data = {"currency": "USD", "period": "2026-11", "price": "90000", "as_of": "2026-11-19", "source": "close"}
    first = BtcPriceForm({**data, "idempotency_key": "busy"})
    assert first.is_valid()
    scope = scope_for_user(world.alice, provider_slug=world.provider_a.slug)
    idempotency_claim(scope=scope, key=first.once_key(), method="POST", path=url, body=first.once_body())  # running
    busy = post(client, url, data, key="busy")
    assert busy.status_code == 302
    assert "This form was sent twice; the first one is still being saved." in client.get(url).content.decode()
    assert not BtcPrice.objects.exists()
    assert post(client, url, data, key="k9").status_code == 302
    other = post(client, url, {**data, "price": "91000"}, key="k9")
    assert other.status_code == 200 and other.context["form"].non_field_errors() == [
        "This form was already sent with other values. Reload the page to send new ones."]
    assert other.context["form"]["idempotency_key"].value() != "k9" and BtcPrice.objects.count() == 1
