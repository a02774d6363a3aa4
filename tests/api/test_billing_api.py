"""The billing resources: contracts and their versions, BTC prices, maintenance windows, statements and downloads.

Built on tests/api/conftest.py's billing_world: provider A bills customer A1 (20% share, 2 machines at 0.0001 BTC),
three October 2026 rewards of 100,000 sats, October closed at the fixed clock (2026-11-20 12:00 UTC).
"""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from openpyxl import load_workbook

from billing.models import BtcPrice, ContractVersion, MaintenanceWindow, StatementLine
from tenants.models import AuditEntry
from tests.api.conftest import BILLING_NOW
from tests.fixtures.access import login_verified

pytestmark = pytest.mark.django_db

TERMS = {"revenue_share_bps": 1500, "machine_count": 4, "machine_fee_monthly": "0.00012"}


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def billing_rows():
    return (list(ContractVersion.objects.order_by("pk").values()), list(BtcPrice.objects.values()),
            list(MaintenanceWindow.objects.values()))


# ------------------------------------------------------------------------------------------------ scopes


@pytest.mark.parametrize("url", ["/api/v1/contracts/", "/api/v1/statements/", "/api/v1/btc-prices/",
                                 "/api/v1/maintenance-windows/"])
def test_a_token_without_the_billing_scope_gets_403_on_billing(billing_world, url):
    response = billing_world.api.client("a_write").get(url)
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error"
    assert "billing" in response.json()["error"]["message"]


def test_a_billing_token_without_write_reads_but_cannot_write(billing_world):
    client = billing_world.api.client("a_billing_read")
    assert client.get("/api/v1/contracts/").status_code == 200
    before = billing_rows()
    response = client.post("/api/v1/contracts/", {"customer_id": billing_world.api.world.customer_a2.pk,
                                                  "effective_from": "2026-12-01"}, format="json")
    assert response.status_code == 403
    assert "billing and write" in response.json()["error"]["message"]
    assert billing_rows() == before


def test_a_read_only_staff_session_reads_but_cannot_write(billing_world):
    w = billing_world.api.world
    client = billing_world.api.client()
    login_verified(client, w.dave)
    assert client.get("/api/v1/contracts/").status_code == 200
    before = billing_rows()
    response = client.post(f"/api/v1/contracts/{billing_world.contract.pk}/versions/",
                           {"effective_from": "2026-12-01"}, format="json")
    assert response.status_code == 403
    assert billing_rows() == before


# ------------------------------------------------------------------------------------------------ contracts


def test_contracts_list_with_versions_and_exact_amounts(billing_world):
    results = billing_world.api.client("a_billing").get("/api/v1/contracts/").json()["results"]
    assert [c["customer_id"] for c in results] == [billing_world.api.world.customer_a1.pk]
    (version,) = results[0]["versions"]
    assert version["effective_from"] == "2026-10-01" and version["effective_until"] is None
    assert version["machine_fee_monthly"] == "0.00010000"
    assert version["price_per_kwh"] == "0.00000000"
    assert version["revenue_share_bps"] == 2000


def test_a_customer_token_sees_its_own_contract_read_only(billing_world):
    client = billing_world.api.client("a1_billing")
    contract = billing_world.contract
    assert client.get(f"/api/v1/contracts/{contract.pk}/").json()["customer_id"] == contract.customer_id
    before = billing_rows()
    response = client.post(f"/api/v1/contracts/{contract.pk}/versions/", {"effective_from": "2026-12-01",
                                                                         "machine_count": 9}, format="json")
    assert response.status_code == 403
    assert client.patch(f"/api/v1/contract-versions/{billing_world.version.pk}/", {"machine_count": 9},
                        format="json").status_code == 403
    assert billing_rows() == before


def test_create_a_contract_audited_as_the_token_and_a_second_is_409(billing_world):
    w = billing_world.api.world
    client = billing_world.api.client("a_billing")
    response = client.post("/api/v1/contracts/", {"customer_id": w.customer_a2.pk, "effective_from": "2026-12-01",
                                                  "fee_currency": "usd", **TERMS}, format="json")
    assert response.status_code == 201, response.json()
    (version,) = response.json()["versions"]
    assert (version["fee_currency"], version["machine_fee_monthly"], version["machine_count"]) == \
        ("USD", "0.00012000", 4)
    entry = AuditEntry.objects.filter(action="contract.create").latest("pk")
    assert entry.actor_kind == "token" and entry.actor_label.startswith("token “accounting”")
    again = client.post("/api/v1/contracts/", {"customer_id": w.customer_a2.pk, "effective_from": "2027-01-01"},
                        format="json")
    assert again.status_code == 409
    assert f"/api/v1/contracts/{response.json()['id']}/versions/" in again.json()["error"]["message"]


def test_a_new_version_ends_the_current_one_the_day_before(billing_world):
    client = billing_world.api.client("a_billing")
    response = client.post(f"/api/v1/contracts/{billing_world.contract.pk}/versions/",
                           {"effective_from": "2026-12-01", **TERMS}, format="json")
    assert response.status_code == 201, response.json()
    first, second = response.json()["versions"]
    assert first["effective_until"] == "2026-12-01"
    assert (second["effective_from"], second["effective_until"], second["revenue_share_bps"]) == \
        ("2026-12-01", None, 1500)


def test_versions_reaching_into_a_closed_month_or_overlapping_are_refused_in_words(billing_world):
    client = billing_world.api.client("a_billing")
    url = f"/api/v1/contracts/{billing_world.contract.pk}/versions/"
    before = billing_rows()
    closed = client.post(url, {"effective_from": "2026-10-15"}, format="json")
    assert closed.status_code == 400
    assert "closed month" in closed.json()["error"]["fields"]["effective_from"][0]
    assert client.post(url, {"effective_from": "2026-12-01"}, format="json").status_code == 201
    overlap = client.post(url, {"effective_from": "2026-12-01"}, format="json")
    assert overlap.status_code == 400
    assert "overlap" in overlap.json()["error"]["fields"]["effective_from"][0]
    assert len(billing_rows()[0]) == len(before[0]) + 1


def test_bad_terms_are_field_errors_and_change_nothing(billing_world):
    client = billing_world.api.client("a_billing")
    before = billing_rows()
    response = client.post(f"/api/v1/contracts/{billing_world.contract.pk}/versions/", {
        "effective_from": "2026-12-01", "machine_fee_monthly": 0.1, "revenue_share_bps": 20000,
        "power_kw": "1.1234567", "fee_currency": "dollars"}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"machine_fee_monthly", "revenue_share_bps", "power_kw", "fee_currency"}
    assert "as a string" in fields["machine_fee_monthly"][0]
    # the service's cross-field rules come back the same way
    response = client.post(f"/api/v1/contracts/{billing_world.contract.pk}/versions/",
                           {"effective_from": "2026-12-01", "power_mode": "contracted"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"price_per_kwh", "power_kw"}
    assert billing_rows() == before


def test_a_version_used_by_a_closed_statement_cannot_change_but_a_later_one_can(billing_world):
    client = billing_world.api.client("a_billing")
    before = billing_rows()
    refused = client.patch(f"/api/v1/contract-versions/{billing_world.version.pk}/", {"machine_count": 5},
                           format="json")
    assert refused.status_code == 400
    assert "used by a closed statement (2026-10)" in refused.json()["error"]["message"]
    assert billing_rows() == before
    new = client.post(f"/api/v1/contracts/{billing_world.contract.pk}/versions/", {"effective_from": "2026-12-01",
                                                                                  **TERMS}, format="json")
    new_id = new.json()["versions"][1]["id"]
    fixed = client.patch(f"/api/v1/contract-versions/{new_id}/", {"machine_count": 5}, format="json")
    assert fixed.status_code == 200
    assert (fixed.json()["machine_count"], fixed.json()["revenue_share_bps"]) == (5, 1500)  # the rest kept


# ------------------------------------------------------------------------------------------------ prices, windows


def test_btc_prices_record_in_the_callers_provider_and_closed_months_are_refused(billing_world):
    api = billing_world.api
    price = {"currency": "usd", "period": "2026-11", "price": "91234.5", "as_of": "2026-11-19",
             "source": "WhiteBIT BTC/USD close"}
    response = api.client("a_billing").post("/api/v1/btc-prices/", price, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["currency"], response.json()["price"]) == ("USD", "91234.50000000")
    assert api.client("b_write").post("/api/v1/btc-prices/", {**price, "price": "1"}, format="json").status_code \
        == 201
    a_prices = api.client("a_billing").get("/api/v1/btc-prices/").json()["results"]
    assert [p["price"] for p in a_prices] == ["91234.50000000"]  # provider B's price is not provider A's
    assert api.client("a1_billing").get("/api/v1/btc-prices/").json()["results"] == []  # provider-wide rows
    closed = api.client("a_billing").post("/api/v1/btc-prices/", {**price, "period": "2026-10"}, format="json")
    assert closed.status_code == 400 and "closed" in closed.json()["error"]["fields"]["period"][0]


def test_maintenance_windows_create_list_and_closed_months(billing_world):
    api = billing_world.api
    client = api.client("a_billing")
    window = {"starts_at": "2026-12-03T08:00:00Z", "ends_at": "2026-12-03T10:00:00Z", "reason": "Firmware, hall B",
              "customer_id": api.world.customer_a1.pk}
    assert client.post("/api/v1/maintenance-windows/", window, format="json").status_code == 201
    assert client.post("/api/v1/maintenance-windows/", {**window, "customer_id": None}, format="json"
                       ).status_code == 201
    assert len(client.get("/api/v1/maintenance-windows/").json()["results"]) == 2
    own = api.client("a1_billing").get("/api/v1/maintenance-windows/").json()["results"]
    assert [w["customer_id"] for w in own] == [api.world.customer_a1.pk]
    backwards = client.post("/api/v1/maintenance-windows/", {**window, "ends_at": "2026-12-03T07:00:00Z"},
                            format="json")
    assert backwards.status_code == 400 and set(backwards.json()["error"]["fields"]) == {"ends_at"}
    closed = client.post("/api/v1/maintenance-windows/", {**window, "starts_at": "2026-10-30T08:00:00Z",
                                                          "ends_at": "2026-10-30T09:00:00Z"}, format="json")
    assert closed.status_code == 400 and "closed" in closed.json()["error"]["message"]
    assert MaintenanceWindow.objects.count() == 2


# ------------------------------------------------------------------------------------------------ statements


def test_statement_list_closed_ones_with_exact_totals(billing_world):
    results = billing_world.api.client("a_billing").get("/api/v1/statements/?period=2026-10").json()["results"]
    (row,) = results
    assert (row["period"], row["net_sats"], row["provider_share_sats"], row["hosting_fee_sats"],
            row["customer_net_sats"], row["customer_net_btc"]) == \
        ("2026-10", "300000", "60000", "20000", "220000", "0.00220000")
    assert row["content_hash"] == billing_world.statement.content_hash
    assert billing_world.api.client("a_billing").get("/api/v1/statements/?period=2026-09").json()["results"] == []
    bad = billing_world.api.client("a_billing").get("/api/v1/statements/?period=october")
    assert bad.status_code == 400 and "period" in bad.json()["error"]["fields"]


def test_a_closed_statement_is_the_frozen_one_with_lines_and_fees(billing_world):
    cid = billing_world.api.world.customer_a1.pk
    data = billing_world.api.client("a1_billing").get(f"/api/v1/customers/{cid}/statements/2026-10/").json()
    assert data["is_closed"] is True and data["content_hash"] == billing_world.statement.content_hash
    assert [(ln["date"], ln["net_sats"], ln["provider_share_sats"], ln["customer_share_sats"], ln["net_btc"])
            for ln in data["lines"]] == [(f"2026-10-0{d}", "100000", "20000", "80000", "0.00100000") for d in (1, 2, 3)]
    (fee,) = data["fees"]
    assert (fee["kind"], fee["quantity"], fee["unit_price"], fee["currency"], fee["amount_sats"]) == \
        ("machines", "2", "0.0001", "BTC", "20000")


def test_the_running_month_is_computed_to_date(billing_world):
    cid = billing_world.api.world.customer_a1.pk
    with time_machine.travel(BILLING_NOW, tick=False):
        data = billing_world.api.client("a_billing").get(f"/api/v1/customers/{cid}/statements/2026-11/").json()
    assert (data["is_closed"], data["statement_id"], data["period_end"], data["content_hash"]) == \
        (False, None, "2026-11-20", "")
    # the fleet's November rewards: two successful (billed, one of 2^53 + 1 sats: exact), one pending (listed)
    assert [(ln["kind"], ln["net_sats"]) for ln in data["lines"]] == \
        [("reward", "9007199254740990"), ("reward", "51000"), ("pending", "51000")]
    assert data["pending_sats"] == "51000"


def test_statements_of_nothing_or_bad_months(billing_world):
    client = billing_world.api.client("a_billing")
    a2 = billing_world.api.world.customer_a2.pk
    assert client.get(f"/api/v1/customers/{a2}/statements/2026-10/").status_code == 404  # nothing billed
    bad = client.get(f"/api/v1/customers/{a2}/statements/2026-13/")
    assert bad.status_code == 400 and "YYYY-MM" in bad.json()["error"]["fields"]["period"][0]


# ------------------------------------------------------------------------------------------------ downloads


def test_statement_downloads_csv_xlsx_pdf(billing_world):
    client = billing_world.api.client("a1_billing")
    base = f"/api/v1/customers/{billing_world.api.world.customer_a1.pk}/statements/2026-10/"
    response = client.get(base + "csv/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert [(r["date"], r["net_reward_btc"], r["customer_share_btc"]) for r in rows if r["kind"] == "reward"] == \
        [(f"2026-10-0{d}", "0.00100000", "0.00080000") for d in (1, 2, 3)]
    assert [r["kind"] for r in rows if r["kind"] != "reward"] == ["machine_fee"] + ["total"] * 12  # fees, totals
    totals = {r["memo"]: r["amount_btc"] for r in rows if r["kind"] == "total"}
    assert totals["customer_net"] == "0.00220000" and totals["net_reward"] == "0.00300000"
    xlsx = client.get(base + "xlsx/")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content))["Summary"]
    header, values = list(sheet.iter_rows())
    cell = dict(zip([c.value for c in header], values, strict=True))["Customer net (BTC)"]
    assert (cell.value, cell.number_format) == (0.0022, "#,##0.00000000")  # a number, shown with 8 places
    lines = list(load_workbook(io.BytesIO(xlsx.content))["Lines"].iter_rows(values_only=True))
    assert len(lines) == 1 + 3 + 1 + 1  # header, 3 rewards, the machine fee line, the total row
    pdf = client.get(base + "pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_an_open_month_has_no_download(billing_world):
    client = billing_world.api.client("a_billing")
    response = client.get(f"/api/v1/customers/{billing_world.api.world.customer_a1.pk}/statements/2026-11/csv/")
    assert response.status_code == 400
    assert "no closed statement for 2026-11" in response.json()["error"]["message"]
    month = client.get("/api/v1/billing-months/2026-11/summary-csv/")
    assert month.status_code == 400 and "not closed yet" in month.json()["error"]["message"]


def test_the_providers_month_summary_and_detail(billing_world):
    client = billing_world.api.client("a_billing")
    summary = list(csv.DictReader(io.StringIO(body(client.get("/api/v1/billing-months/2026-10/summary-csv/"))
                                              .decode())))
    assert [(r["customer"], r["customer_net_btc"], r["content_hash"]) for r in summary] == \
        [("Carol Mining", "0.00220000", billing_world.statement.content_hash),
         ("Total (1 customers)", "0.00220000", "")]
    detail = list(csv.DictReader(io.StringIO(body(client.get("/api/v1/billing-months/2026-10/detail-csv/"))
                                             .decode())))
    assert [(r["date"], r["kind"], r["net_reward_btc"]) for r in detail if r["kind"] == "reward"] == \
        [(f"2026-10-0{d}", "reward", "0.00100000") for d in (1, 2, 3)]
    assert [r["kind"] for r in detail if r["kind"] != "reward"] == ["machine_fee"]  # fee lines are listed too
    refused = billing_world.api.client("a1_billing").get("/api/v1/billing-months/2026-10/summary-csv/")
    assert refused.status_code == 403 and "provider staff only" in refused.json()["error"]["message"]


def test_a_tampered_statement_is_not_downloaded(billing_world):
    """A stored line changed behind the portal's back: every download refuses in words, nothing is sent."""
    line = StatementLine.objects.filter(statement=billing_world.statement).order_by("position").first()
    StatementLine.objects.filter(pk=line.pk).update(provider_share_sats=line.provider_share_sats - 1,
                                                    customer_share_sats=line.customer_share_sats + 1)
    client = billing_world.api.client("a_billing")
    base = f"/api/v1/customers/{billing_world.api.world.customer_a1.pk}/statements/2026-10/"
    for url in (base + "csv/", base + "xlsx/", base + "pdf/", "/api/v1/billing-months/2026-10/summary-csv/",
                "/api/v1/billing-months/2026-10/detail-csv/"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "no longer matches the content hash" in response.json()["error"]["message"], url
