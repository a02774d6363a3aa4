"""Invoices, payments and billing details through the API (billing_world: A1's October 2026 closed; the invoice is
issued here at the fixed clock). Isolation across tenants is in test_isolation.py's walk."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billing.models.invoices import Invoice, Payment
from billing.services.invoices import invoices_issue_month
from tenants.access import scope_for_system
from tenants.models import AuditEntry
from tests.api.conftest import BILLING_NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(billing_world):
    w = billing_world.api.world
    with time_machine.travel(BILLING_NOW, tick=False):
        invoices_issue_month(scope=scope_for_system(provider_id=w.provider_a.pk, actor="test"),
                             period=date(2026, 10, 1), now=BILLING_NOW)
        yield billing_world, Invoice.objects.get(customer=w.customer_a1)


def test_list_filters_and_detail_with_amount_due(issued):
    bw, inv = issued
    api = bw.api
    rows = api.client("a_billing").get("/api/v1/invoices/", {"period": "2026-10", "status": "paid"}).json()
    assert [r["number"] for r in rows["results"]] == [inv.number]
    assert api.client("a_billing").get("/api/v1/invoices/", {"status": "overdue"}).json()["results"] == []
    bad = api.client("a_billing").get("/api/v1/invoices/", {"status": "late", "period": "2026-13"})
    assert bad.status_code == 400
    detail = api.client("a1_billing").get(f"/api/v1/invoices/{inv.pk}/").json()
    # 20 % of 300,000 sats + 2 × 0.0001 BTC: 0.0008 BTC, withheld from the 0.003 BTC the provider holds.
    assert (detail["total_amount"], detail["amount_due"], detail["status"]) == ("0.00080000", "0.00000000", "paid")
    assert detail["payable_to_customer_btc"] == "0.00220000"
    assert [ln["kind"] for ln in detail["lines"]] == ["machine_fee", "revenue_share"]
    assert detail["settlement_text"].startswith("Net payable to you: 0.00220000 BTC")


def test_the_pdf(issued):
    bw, inv = issued
    response = bw.api.client("a1_billing").get(f"/api/v1/invoices/{inv.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and inv.number in response["Content-Disposition"]


def test_a_token_without_billing_cannot_read_invoices(issued):
    bw, inv = issued
    assert bw.api.client("a_write").get("/api/v1/invoices/").status_code == 403
    assert bw.api.client("a_billing_read").get(f"/api/v1/invoices/{inv.pk}/").status_code == 200


def test_recording_a_payment_once_per_idempotency_key(issued):
    bw, inv = issued
    client = bw.api.client("a_billing")
    body = {"invoice_id": inv.pk, "amount": "0.0005", "currency": "BTC", "paid_at": "2026-11-19", "method": "btc",
            "txid": "ab" * 32, "reference": "top-up"}
    assert client.post("/api/v1/payments/", body, format="json").status_code == 400  # the key is required
    first = client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    again = client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == 201 and again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json() and Payment.objects.count() == 1
    # The invoice was settled by withholding: the whole payment is the customer's credit.
    assert (first.json()["amount"], first.json()["applied_amount"]) == ("0.00050000", "0.00000000")
    assert AuditEntry.objects.filter(action="payment.record").count() == 1
    listed = bw.api.client("a1_billing").get("/api/v1/payments/").json()["results"]
    assert [p["id"] for p in listed] == [first.json()["id"]]
    wrong = client.post("/api/v1/payments/", {**body, "currency": "USD", "amount": "1.5"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="pay-2")
    assert wrong.status_code == 400 and "currency" in wrong.json()["error"]["fields"]
    # A customer's token reads its payments but cannot record one.
    assert bw.api.client("a1_billing").post("/api/v1/payments/", body, format="json",
                                            HTTP_IDEMPOTENCY_KEY="pay-3").status_code == 403


def test_billing_details_read_and_change_field_by_field(issued):
    bw, _ = issued
    w = bw.api.world
    url = f"/api/v1/customers/{w.customer_a1.pk}/billing-details/"
    carol = bw.api.client("a1_billing")
    assert carol.get(url).json()["payment_terms_days"] == 14
    bad = carol.patch(url, {"currency": "EURO", "tax_treatment": "reverse_charge", "tax_rate_bps": 20001},
                      format="json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) >= {"currency", "tax_rate_bps", "tax_id"}
    ok = carol.patch(url, {"legal_name": "Carol Mining AG", "tax_id": "CHE-123.456.789", "currency": "chf",
                           "tax_treatment": "reverse_charge"}, format="json")
    assert ok.status_code == 200 and ok.json()["currency"] == "CHF" and ok.json()["legal_name"] == "Carol Mining AG"
    assert AuditEntry.objects.filter(action="customer_billing_details.update").count() == 1
    other = f"/api/v1/customers/{w.customer_a2.pk}/billing-details/"
    assert carol.get(other).status_code == 404


def test_the_schema_names_the_new_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    assert {"/api/v1/invoices/", "/api/v1/invoices/{id}/", "/api/v1/invoices/{id}/pdf/", "/api/v1/payments/",
            "/api/v1/customers/{customer_id}/billing-details/"} <= set(schema["paths"])
    post = schema["paths"]["/api/v1/payments/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in post["parameters"])
