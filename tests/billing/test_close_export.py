"""Closing (idempotent, concurrent, immutable, audited) and the exports (CSV, XLSX, PDF), incl. conservation."""

from __future__ import annotations

import csv
import threading
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from billing.exports.month import DETAIL_COLUMNS, SUMMARY_COLUMNS, month_verify
from billing.exports.typed import MONTH_SUMMARY_COLS
from billing.models import BillingMonth, Statement, StatementLine
from billing.money import btc_str
from billing.periods import month_end, month_start
from billing.selectors.statements import statement_get, statement_list
from billing.services.contracts import adjustment_create, btc_price_record
from mining.models import PayoutDestination, Reward, RewardStatus
from tenants.models import AuditEntry
from tests.billing.factories import account_make, reward_make
from tests.billing.helpers import NOW, close, contract, system_scope

NOV = date(2025, 11, 1)


def _month(world):
    """Two customers in November: Carol with a revenue share and a fee, Eve with USD fees and an adjustment."""
    scope = system_scope(world.provider_a)
    a1 = account_make(world.provider_a, world.customer_a1)
    a2 = account_make(world.provider_a, world.customer_a2)
    contract(scope, world.customer_a1, NOV, revenue_share_bps=2500, machine_count=1, machine_fee_monthly="0.0001",
             customer_addresses=["bc1qcarol"])
    contract(scope, world.customer_a2, NOV, fee_currency="USD", machine_count=1, machine_fee_monthly="90")
    btc_price_record(scope=scope, currency="USD", period=NOV, price="90000", as_of=date(2025, 11, 30),
                     source="test", now=NOW)
    for day in range(1, 31):
        reward_make(a1, date(2025, 11, day), 1000 + day * 7,
                    **({"payout_destination": PayoutDestination.EXTERNAL_ADDRESS, "payout_address": "bc1qcarol"}
                       if day % 3 == 0 else {}))
        reward_make(a2, date(2025, 11, day), 2000 + day)
    adjustment_create(scope=scope, customer_id=world.customer_a2.pk, period=NOV, amount_sats=-123,
                      memo="Cable replaced", now=NOW)
    return scope


@pytest.mark.django_db
def test_close_twice_gives_the_same_statements_and_one_audit_entry(world):
    scope = _month(world)
    first = close(scope, NOV)
    rows = list(Statement.objects.order_by("pk").values())
    second = close(scope, NOV)
    assert (first.statements, first.already_closed, second.already_closed) == (2, False, True)
    assert list(Statement.objects.order_by("pk").values()) == rows
    assert first.customer_net_sats == second.customer_net_sats
    entries = AuditEntry.objects.filter(action="billing_month.close")
    assert entries.count() == 1 and entries.get().actor_label == "test"
    eve = Statement.objects.get(customer=world.customer_a2)
    # 90 USD at 90,000 USD/BTC = 100,000 sats; no share; adjustment −123.
    assert (eve.hosting_fee_sats, eve.adjustments_sats, eve.customer_net_sats) == (100_000, -123, 2000 * 30 + 465
                                                                                  - 100_000 - 123)
    assert eve.rates == [{"currency": "USD", "price": "90000", "as_of": "2025-11-30", "source": "test"}]


@pytest.mark.django_db(transaction=True)
def test_two_closes_at_once_produce_one_set_of_statements(world):
    scope = _month(world)
    results, errors = [], []

    def run():
        try:
            results.append(close(scope, NOV))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.already_closed for r in results) == [False, True]
    assert Statement.objects.count() == 2 and BillingMonth.objects.get().statement_count == 2
    assert StatementLine.objects.count() == 61  # 60 rewards + 1 adjustment


@pytest.mark.django_db
def test_a_tampered_statement_stops_every_export(world, tmp_path):
    scope = _month(world)
    close(scope, NOV)
    assert month_verify(scope=scope, period=NOV) == 2
    line = StatementLine.objects.filter(kind="reward").order_by("pk").first()
    StatementLine.objects.filter(pk=line.pk).update(provider_share_sats=line.provider_share_sats + 1,
                                                    customer_share_sats=line.customer_share_sats - 1)
    with pytest.raises(CommandError, match="no longer matches the content hash"):
        call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "csv",
                     "--output", str(tmp_path / "s.csv"))
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db
def test_csv_summary_and_detail_and_xlsx_and_pdf(world, tmp_path):
    _month(world)
    call_command("close_month", "2025-11", "--provider", "alpha")
    summary, detail = tmp_path / "summary.csv", tmp_path / "detail.csv"
    call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "csv", "--output", str(summary))
    call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "csv", "--output", str(detail),
                 "--detail")
    rows = list(csv.DictReader(summary.open()))
    assert list(rows[0]) == SUMMARY_COLUMNS
    carol = next(r for r in rows if r["customer"] == "Carol Mining")
    statement = Statement.objects.get(customer=world.customer_a1)
    assert carol["period"] == "2025-11"
    assert carol["net_reward_btc"] == btc_str(statement.net_sats)
    assert all(len(carol[c].split(".")[1]) == 8 for c in SUMMARY_COLUMNS if c.endswith("_btc"))
    assert carol["customer_net_btc"] == btc_str(statement.customer_net_sats)
    lines = list(csv.DictReader(detail.open()))
    assert list(lines[0]) == DETAIL_COLUMNS
    # 60 reward lines, Eve's adjustment, then each customer's machine fee line.
    assert [ln["kind"] for ln in lines].count("reward") == 60 and len(lines) == 63
    fee_rows = [(ln["customer"], ln["kind"], ln["quantity"], ln["unit"], ln["rate"], ln["currency"], ln["amount"],
                 ln["amount_btc"], ln["coverage_percent"]) for ln in lines if ln["kind"] != "reward"]
    assert fee_rows == [
        ("Carol Mining", "machine_fee", "1", "machines", "0.0001", "BTC", "0.0001", "0.00010000", ""),
        ("Eve Hashing", "adjustment", "1", "", "", "BTC", "", "-0.00000123", ""),
        ("Eve Hashing", "machine_fee", "1", "machines", "90", "USD", "90", "0.00100000", ""),
    ]
    assert {ln["paid_to"] for ln in lines if ln["customer"] == "Carol Mining" and ln["kind"] == "reward"} == \
        {"provider", "customer"}

    call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "xlsx",
                 "--output", str(tmp_path / "b.xlsx"), "--detail")
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "b.xlsx")
    assert wb.sheetnames == ["Summary", "Detail"]
    assert [c.value for c in wb["Summary"][1]] == [c.header for c in MONTH_SUMMARY_COLS]
    assert wb["Detail"].max_row == 64
    assert wb["Summary"]["C2"].number_format == "#,##0.00000000"  # typed cells: tests/billing/test_exports_typed.py

    call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "pdf", "--output",
                 str(tmp_path / "pdf"))
    pdfs = sorted(p.name for p in (tmp_path / "pdf").iterdir())
    assert pdfs == ["carol-mining-2025-11.pdf", "eve-hashing-2025-11.pdf"]
    assert (tmp_path / "pdf" / pdfs[0]).read_bytes().startswith(b"%PDF")


@pytest.mark.django_db
def test_the_statement_template_shows_the_net_figure_and_a_customer_sees_only_its_own(world):
    from billing.exports.month import statement_html

    scope = _month(world)
    close(scope, NOV)
    carol = world.scope(world.carol, world.provider_a, world.customer_a1)
    assert [s.customer_id for s in statement_list(scope=carol)] == [world.customer_a1.pk]
    data = statement_get(scope=carol, customer_id=world.customer_a1.pk, period=NOV, today=NOW.date())
    assert data.is_closed and data.content_hash
    html = statement_html(data, provider_name="Alpha Hosting", standalone=False)
    assert "The provider pays the customer" in html and "bc1qcarol" in html
    from django.http import Http404

    with pytest.raises(Http404):
        statement_get(scope=carol, customer_id=world.customer_a2.pk, period=NOV, today=NOW.date())


@pytest.mark.django_db
def test_conservation_detail_export_equals_the_synced_successful_rewards(pool_provider, tmp_path):
    """On rows the real sync wrote from the sandbox pool: every satoshi of the month is in the detail export."""
    from mining.services.sync import mining_account_sync

    pp = pool_provider
    for account in pp.accounts:
        mining_account_sync(provider_id=pp.provider.pk, account_id=account.pk)
    paid = Reward.objects.filter(provider=pp.provider, status=RewardStatus.SUCCESSFUL)
    assert paid.exists()
    period = month_start(paid.order_by("date").first().date)
    contract(pp.scope, pp.customer, period, revenue_share_bps=3333)
    now = NOW.replace(year=2100)  # the month is over whatever today is
    close(pp.scope, period, now=now)
    out = tmp_path / "detail.csv"
    call_command("export_billing", period.strftime("%Y-%m"), "--provider", pp.provider.slug, "--format", "csv",
                 "--output", str(out), "--detail")
    lines = list(csv.DictReader(out.open()))
    month = paid.filter(date__gte=period, date__lt=month_end(period))

    def sats(column):
        return sum(int(r[column].replace(".", "").replace("-", "")) * (-1 if r[column][0] == "-" else 1)
                   for r in lines)

    assert len(lines) == month.count()
    assert sats("gross_reward_btc") == sum(month.values_list("total_reward_sats", flat=True))
    assert sats("pool_fee_btc") == sum(month.values_list("fee_sats", flat=True))
    assert sats("net_reward_btc") == sum(month.values_list("reward_sats", flat=True))
    assert sats("provider_share_btc") + sats("customer_share_btc") == sats("net_reward_btc")
