"""Downloads of one customer's closed statement (CSV streamed, XLSX, PDF) and streamed monthly CSVs for the API.

Why verify before the first byte: an HTTP download cannot be taken back once it started, so the statement's (or
the month's) content hash is recomputed from the stored rows first, like `export_billing` does, and a mismatch is
refused in words with nothing sent. Rows then stream with `.iterator()`, so memory stays flat.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from billing.exports.month import (
    BTC_COLUMNS,
    DETAIL_COLUMNS,
    SUMMARY_COLUMNS,
    ExportRefused,
    detail_rows,
    month_verify,
    statement_html,
    summary_rows,
)
from billing.models import Statement
from billing.money import btc_str, sats_to_btc
from billing.periods import month_start
from billing.records import StatementData
from billing.snapshot import statement_hash, statement_load
from tenants.access import Scope, get_in_scope, scoped
from tenants.exports_safety import safe_csv_writer, xlsx_cell, xlsx_row
from tenants.models import Provider

STATEMENT_COLUMNS = [
    "position", "kind", "account", "date", "gross_reward_btc", "pool_fee_btc", "net_reward_btc",
    "revenue_share_bps", "provider_share_btc", "customer_share_btc", "paid_to", "payout_address", "tx_hash",
    "fpps_rate", "hashrate_hs", "memo", "amount_btc",
]


def closed_statement_verified(*, scope: Scope, customer_id: int, period) -> StatementData:
    """The customer's closed statement of the month, its content hash checked; refused in words otherwise."""
    statement = scoped(Statement, scope).filter(customer_id=customer_id, period=month_start(period)).first()
    if statement is None:
        raise ExportRefused({"period": (
            f"There is no closed statement for {period:%Y-%m}: a statement can be downloaded once its month is "
            "closed (the month to date is in the statement's JSON).")})
    data = statement_load(statement)
    if statement_hash(data) != statement.content_hash:
        raise ExportRefused({"statement": (
            f"The closed statement of {statement.customer_name} for {period:%Y-%m} no longer matches the content "
            "hash recorded at close: its stored rows were changed outside the portal. Nothing was exported.")})
    return data


def _csv_line(values: list) -> str:
    buffer = io.StringIO()
    safe_csv_writer(buffer).writerow(values)  # every text cell inert (tenants/exports_safety.py)
    return buffer.getvalue()


def _decimal(value) -> str:
    return "" if value is None else f"{value.normalize():f}"


def statement_rows(data: StatementData) -> Iterator[dict]:
    for ln in data.lines:
        yield {"position": ln.position, "kind": ln.kind, "account": ln.account_name,
               "date": ln.date.isoformat() if ln.date else "", "gross_reward_btc": ln.gross_sats,
               "pool_fee_btc": ln.pool_fee_sats, "net_reward_btc": ln.net_sats,
               "revenue_share_bps": ln.revenue_share_bps, "provider_share_btc": ln.provider_share_sats,
               "customer_share_btc": ln.customer_share_sats, "paid_to": ln.paid_to,
               "payout_address": ln.payout_address, "tx_hash": ln.tx_hash, "fpps_rate": _decimal(ln.fpps_rate),
               "hashrate_hs": _decimal(ln.hashrate_hs), "memo": ln.memo, "amount_btc": ln.amount_sats}


def _stream(columns: list[str], rows) -> Iterator[str]:
    btc = [c in BTC_COLUMNS or c == "amount_btc" for c in columns]
    yield _csv_line(columns)
    for row in rows:
        yield _csv_line([(btc_str(row[c]) if row[c] is not None else "") if is_btc else row[c]
                         for c, is_btc in zip(columns, btc, strict=True)])


def statement_csv_stream(data: StatementData) -> Iterator[str]:
    """Every line of the statement (rewards, late rewards, pending, adjustments), BTC with 8 places."""
    return _stream(STATEMENT_COLUMNS, statement_rows(data))


def month_csv_stream(*, scope: Scope, period, detail: bool) -> Iterator[str]:
    """The provider's summary (or detail) of a closed month; the whole month is verified before this returns."""
    month_verify(scope=scope, period=period)
    if detail:
        return _stream(DETAIL_COLUMNS, detail_rows(scope=scope, period=period))
    return _stream(SUMMARY_COLUMNS, summary_rows(scope=scope, period=period))


def statement_xlsx(data: StatementData) -> bytes:
    """A Summary sheet (the totals) and a Lines sheet; BTC amounts are exact decimals shown with 8 places."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    totals = [(column, getattr(data, attr)) for column, attr in (
        ("gross_reward_btc", "gross_sats"), ("pool_fee_btc", "pool_fee_sats"), ("net_reward_btc", "net_sats"),
        ("provider_share_btc", "provider_share_sats"), ("customer_share_btc", "customer_share_sats"),
        ("hosting_fee_btc", "hosting_fee_sats"), ("sla_credit_btc", "sla_credit_sats"),
        ("adjustments_btc", "adjustments_sats"), ("pending_reward_btc", "pending_sats"),
        ("customer_net_btc", "customer_net_sats"))]
    summary = wb.create_sheet("Summary")
    summary.append(xlsx_row(summary, ["customer", "period", *[c for c, _ in totals], "content_hash"]))
    cells = [xlsx_cell(summary, sats_to_btc(sats), number_format="0.00000000") for _, sats in totals]
    summary.append(xlsx_row(summary, [data.customer_name, f"{data.period:%Y-%m}", *cells, data.content_hash]))
    lines = wb.create_sheet("Lines")
    lines.append(xlsx_row(lines, STATEMENT_COLUMNS))
    for row in statement_rows(data):
        out = []
        for column in STATEMENT_COLUMNS:
            if column in BTC_COLUMNS or column == "amount_btc":
                out.append(xlsx_cell(lines, sats_to_btc(row[column]), number_format="0.00000000"))
            else:
                out.append(row[column])
        lines.append(xlsx_row(lines, out))  # text typed as strings and neutralised: never a formula
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def statement_pdf(data: StatementData, *, provider_name: str) -> bytes:
    """The portal's statement template as a PDF (the same document `export_billing --format pdf` writes)."""
    import logging

    from weasyprint import HTML

    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).level))
    return HTML(string=statement_html(data, provider_name=provider_name)).write_pdf()


def provider_name(scope: Scope) -> str:
    return get_in_scope(Provider, scope, pk=scope.provider_id).name

