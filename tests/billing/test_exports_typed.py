"""Exports an accountant opens (issue 19): the month workbook and one customer's statement workbook have typed
cells (dates as dates, BTC as numbers with a format, revenue share as a percentage), human headers, widths, a frozen
header row, the fee lines and a total row; read back with openpyxl."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from billing.exports.downloads import closed_statement_verified, statement_xlsx
from billing.exports.typed import BTC_FORMAT, DATE_FORMAT, MONTH_SUMMARY_COLS, PERCENT_FORMAT
from billing.models import Statement
from tests.billing.helpers import system_scope
from tests.billing.test_close_export import _month


def _by_header(ws, row: int) -> dict:
    header = [c.value for c in ws[1]]
    return dict(zip(header, ws[row], strict=True))


@pytest.mark.django_db
def test_the_month_workbook_is_typed(world, tmp_path):
    _month(world)
    call_command("close_month", "2025-11", "--provider", "alpha")
    target = tmp_path / "month.xlsx"
    call_command("export_billing", "2025-11", "--provider", "alpha", "--format", "xlsx", "--output", str(target),
                 "--detail")
    wb = load_workbook(target)
    summary, detail = wb["Summary"], wb["Detail"]
    assert summary.freeze_panes == "A2" and detail.freeze_panes == "A2"
    assert [c.value for c in summary[1]] == [c.header for c in MONTH_SUMMARY_COLS]
    assert summary.column_dimensions["A"].width == 28 and summary[1][0].font.bold
    carol = _by_header(summary, 2)
    statements = {s.customer_name: s for s in Statement.objects.all()}
    assert carol["Customer"].value in statements
    month = carol["Month"]
    assert month.is_date and month.value == datetime(2025, 11, 1) and month.number_format == "yyyy-mm"
    net = carol["Customer net (BTC)"]
    assert net.data_type == "n" and net.number_format == BTC_FORMAT
    assert round(net.value * 100_000_000) == statements[carol["Customer"].value].customer_net_sats
    total = _by_header(summary, summary.max_row)
    assert total["Customer"].value == "Total" and total["Customer"].font.bold
    assert round(total["Net reward (BTC)"].value * 100_000_000) == sum(s.net_sats for s in statements.values())
    reward = next(_by_header(detail, r) for r in range(2, detail.max_row + 1)
                  if detail.cell(r, 4).value == "reward")
    assert reward["Date (UTC)"].is_date and reward["Date (UTC)"].number_format == DATE_FORMAT
    assert reward["Revenue share"].number_format == PERCENT_FORMAT and reward["Revenue share"].data_type == "n"
    assert reward["Gross reward (BTC)"].data_type == "n"
    fees = [_by_header(detail, r) for r in range(2, detail.max_row + 1) if detail.cell(r, 4).value == "machine_fee"]
    assert len(fees) == 2 and all(f["Charged (BTC)"].data_type == "n" and f["Quantity"].value == 1 for f in fees)
    assert {f["Currency"].value for f in fees} == {"BTC", "USD"}


@pytest.mark.django_db
def test_a_customers_statement_workbook_has_its_fee_lines_and_a_total(world):
    _month(world)
    call_command("close_month", "2025-11", "--provider", "alpha")
    data = closed_statement_verified(scope=system_scope(world.provider_a), customer_id=world.customer_a2.pk,
                                     period=datetime(2025, 11, 1).date())
    wb = load_workbook(io.BytesIO(statement_xlsx(data)))
    lines = wb["Lines"]
    assert lines.freeze_panes == "A2"
    kinds = [lines.cell(r, 4).value for r in range(2, lines.max_row + 1)]
    assert "machine_fee" in kinds and "adjustment" in kinds and kinds[-1] == "Total billed rewards"
    fee = next(_by_header(lines, r) for r in range(2, lines.max_row + 1) if lines.cell(r, 4).value == "machine_fee")
    assert fee["Date (UTC)"].is_date and fee["Rate"].value == 90 and fee["Currency"].value == "USD"
    assert fee["Charged (BTC)"].number_format == BTC_FORMAT
    total = _by_header(lines, lines.max_row)
    billed = sum(ln.net_sats for ln in data.billed_lines)
    assert round(total["Net reward (BTC)"].value * 100_000_000) == billed
