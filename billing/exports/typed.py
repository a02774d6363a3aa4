"""Typed XLSX sheets an accountant opens (issue 19): human headers, column widths, a frozen header row, dates as
dates, amounts as numbers with a number format, percentages as percentages.

Why one writer: every workbook the product makes (the month workbook, one customer's statement) describes its
columns once (`Col`) and writes through `typed_sheet`, so a date is never text in one file and a date in another.
Every cell still passes `tenants.exports_safety.xlsx_cell` (text typed as a string, never a formula). Values are
exact: satoshis become a Decimal of BTC (`sats_to_btc`), basis points a Decimal ratio; nothing goes through a float
before openpyxl writes the number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from billing.money import sats_to_btc
from tenants.exports_safety import xlsx_cell

BTC_FORMAT = "#,##0.00000000"
DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = "yyyy-mm"
PERCENT_FORMAT = "0.00%"
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00######"
FIAT_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Col:
    """One column: the row key it reads, its header in words, its type and its width (in characters)."""

    key: str
    header: str
    kind: str = "text"  # text | date | month | btc (sats in) | bps (basis points in) | int | decimal | fiat
    width: int = 14


def _typed(ws: Any, col: Col, value: Any) -> Any:
    if value is None or value == "":
        return None
    if col.kind == "btc":
        return xlsx_cell(ws, sats_to_btc(int(value)), number_format=BTC_FORMAT)
    if col.kind in ("date", "month"):
        if isinstance(value, str):
            value = date.fromisoformat(value if col.kind == "date" else f"{value}-01")
        if isinstance(value, datetime):
            value = value.replace(tzinfo=None)
        return xlsx_cell(ws, value, number_format=DATE_FORMAT if col.kind == "date" else MONTH_FORMAT)
    if col.kind == "bps":
        return xlsx_cell(ws, Decimal(int(value)) / 10_000, number_format=PERCENT_FORMAT)
    if col.kind == "int":
        return xlsx_cell(ws, int(value), number_format=INTEGER_FORMAT)
    if col.kind in ("decimal", "fiat"):
        return xlsx_cell(ws, Decimal(value), number_format=FIAT_FORMAT if col.kind == "fiat" else DECIMAL_FORMAT)
    return xlsx_cell(ws, value)


def typed_sheet(wb: Any, title: str, cols: list[Col], rows: Iterable[dict[str, Any]], *,
                after_row: Callable[[int], None] | None = None, total_label: tuple[str, str] | None = None,
                total_keys: set[str] | None = None, in_total: Callable[[dict], bool] | None = None) -> int:
    """Write a sheet to a write-only workbook: header (bold, frozen), widths, one typed row per dict. With
    `total_label` (key, words), a bold total row ends the sheet: every BTC column summed in satoshis, exactly, as the
    rows stream (memory stays flat); `total_keys` narrows the columns summed, `in_total(row)` the rows.
    Returns how many data rows were written; `after_row(n)` is told after each."""
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for i, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    bold = Font(bold=True)
    header = []
    for col in cols:
        cell = xlsx_cell(ws, col.header)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    ws.append(header)
    sums = {col.key: 0 for col in cols if col.kind == "btc" and (total_keys is None or col.key in total_keys)}
    count = 0
    for row in rows:
        ws.append([_typed(ws, col, row.get(col.key)) for col in cols])
        for key in sums if in_total is None or in_total(row) else ():
            if row.get(key) not in (None, ""):
                sums[key] += int(row[key])
        count += 1
        if after_row is not None:
            after_row(count)
    if total_label is not None:
        total = {**sums, total_label[0]: total_label[1]}
        cells = [_typed(ws, col, total.get(col.key)) for col in cols]
        for cell in cells:
            if cell is not None:
                cell.font = bold
        ws.append(cells)
    return count


# The columns of the month workbook and of one customer's statement, in words (the CSVs keep their snake_case
# names: scripts and the REST API read those; docs/BILLING.md lists both).
MONTH_SUMMARY_COLS = [
    Col("customer", "Customer", width=28), Col("period", "Month", "month", 10),
    Col("gross_reward_btc", "Gross reward (BTC)", "btc", 16), Col("pool_fee_btc", "Pool fee (BTC)", "btc", 15),
    Col("net_reward_btc", "Net reward (BTC)", "btc", 16), Col("provider_share_btc", "Provider share (BTC)", "btc", 16),
    Col("customer_share_btc", "Customer share (BTC)", "btc", 16),
    Col("held_by_provider_btc", "Held by provider (BTC)", "btc", 16),
    Col("held_by_customer_btc", "Held by customer (BTC)", "btc", 16),
    Col("hosting_fee_btc", "Hosting fees (BTC)", "btc", 16), Col("sla_credit_btc", "SLA credit (BTC)", "btc", 15),
    Col("adjustments_btc", "Adjustments (BTC)", "btc", 15), Col("pending_reward_btc", "Pending, not billed (BTC)",
                                                                 "btc", 16),
    Col("customer_net_btc", "Customer net (BTC)", "btc", 16), Col("content_hash", "Content hash (SHA-256)", width=24),
]
_LINE_COMMON = [
    Col("account", "Account", width=18), Col("date", "Date (UTC)", "date", 12), Col("kind", "Kind", width=14),
    Col("gross_reward_btc", "Gross reward (BTC)", "btc", 16), Col("pool_fee_btc", "Pool fee (BTC)", "btc", 15),
    Col("net_reward_btc", "Net reward (BTC)", "btc", 16), Col("revenue_share_bps", "Revenue share", "bps", 10),
    Col("provider_share_btc", "Provider share (BTC)", "btc", 16),
    Col("customer_share_btc", "Customer share (BTC)", "btc", 16), Col("paid_to", "Paid to", width=10),
    Col("payout_address", "Payout address", width=24), Col("tx_hash", "Transaction", width=24),
    Col("fpps_rate", "FPPS rate (BTC per H/s per day)", "decimal", 16), Col("hashrate_hs", "Hashrate (H/s)",
                                                                             "decimal", 20),
    Col("description", "Description", width=40), Col("quantity", "Quantity", "decimal", 10),
    Col("unit", "Unit", width=10), Col("rate", "Rate", "decimal", 12), Col("currency", "Currency", width=9),
    Col("amount", "Amount (in currency)", "decimal", 14), Col("amount_btc", "Charged (BTC)", "btc", 16),
    Col("coverage_percent", "Coverage (%)", "decimal", 10),
]
MONTH_DETAIL_COLS = [Col("customer", "Customer", width=28), *_LINE_COMMON]
STATEMENT_LINE_COLS = [Col("position", "No.", "int", 6), *_LINE_COMMON]
