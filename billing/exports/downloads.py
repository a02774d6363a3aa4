"""Downloads of one customer's closed statement (CSV streamed, XLSX, PDF) and streamed monthly CSVs for the API.

Why verify before the first byte: an HTTP download cannot be taken back once it started, so the statement's (or
the month's) content hash is recomputed from the stored rows first, like `export_billing` does, and a mismatch is
refused in words with nothing sent. Rows then stream with `.iterator()`, so memory stays flat.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator

from billing.exports.month import (
    BTC_COLUMNS,
    DETAIL_COLUMNS,
    FEE_EXPORT_KIND,
    SUMMARY_COLUMNS,
    ExportRefused,
    detail_rows,
    month_verify,
    statement_html,
    summary_rows_with_total,
)
from billing.exports.typed import MONTH_SUMMARY_COLS, STATEMENT_LINE_COLS, typed_sheet
from billing.models import LineKind, Statement
from billing.money import btc_str
from billing.periods import month_start
from billing.records import StatementData
from billing.snapshot import statement_hash, statement_load
from tenants.access import Scope, get_in_scope, scoped
from tenants.exports_safety import safe_csv_writer
from tenants.models import Provider

STATEMENT_COLUMNS = [
    "position", "kind", "account", "date", "gross_reward_btc", "pool_fee_btc", "net_reward_btc",
    "revenue_share_bps", "provider_share_btc", "customer_share_btc", "paid_to", "payout_address", "tx_hash",
    "fpps_rate", "hashrate_hs", "memo", "amount_btc",
    # Fee and credit lines (issue 19), after the reward lines: what was counted, at what rate, in which currency.
    "description", "quantity", "unit", "rate", "currency", "amount", "coverage_percent",
]
# The statement's totals, after its lines (kind "total"): what each figure is, in words, and its amount.
STATEMENT_TOTALS = [
    ("gross_reward", "Gross reward", "gross_sats"), ("pool_fee", "Pool fee", "pool_fee_sats"),
    ("net_reward", "Net reward", "net_sats"), ("provider_share", "Provider share", "provider_share_sats"),
    ("customer_share", "Customer share", "customer_share_sats"),
    ("held_by_provider", "Held by the provider", "held_by_provider_sats"),
    ("held_by_customer", "Held by the customer", "held_by_customer_sats"),
    ("hosting_fee", "Hosting fees", "hosting_fee_sats"), ("sla_credit", "SLA credit", "sla_credit_sats"),
    ("adjustments", "Adjustments", "adjustments_sats"), ("pending_reward", "Pending (not billed)", "pending_sats"),
    ("customer_net", "Customer net", "customer_net_sats"),
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


def statement_rows(data: StatementData, *, fees: bool = False) -> Iterator[dict]:
    """The statement's lines (rewards, late rewards, pending, adjustments) and, with `fees`, its fee lines."""
    blank = dict.fromkeys(STATEMENT_COLUMNS, "")
    for ln in data.lines:
        yield {**blank, "description": ln.memo if ln.kind == LineKind.ADJUSTMENT else "",
               "position": ln.position, "kind": ln.kind, "account": ln.account_name,
               "date": ln.date.isoformat() if ln.date else "", "gross_reward_btc": ln.gross_sats,
               "pool_fee_btc": ln.pool_fee_sats, "net_reward_btc": ln.net_sats,
               "revenue_share_bps": ln.revenue_share_bps, "provider_share_btc": ln.provider_share_sats,
               "customer_share_btc": ln.customer_share_sats, "paid_to": ln.paid_to,
               "payout_address": ln.payout_address, "tx_hash": ln.tx_hash, "fpps_rate": _decimal(ln.fpps_rate),
               "hashrate_hs": _decimal(ln.hashrate_hs), "memo": ln.memo, "amount_btc": ln.amount_sats}
    if not fees:
        return
    for i, fee in enumerate(data.fees, start=len(data.lines) + 1):
        yield {**blank, **dict.fromkeys(_REWARD_BTC), "position": i,
               "kind": FEE_EXPORT_KIND.get(fee.kind, fee.kind), "date": fee.start.isoformat(),
               "description": fee.description, "quantity": _decimal(fee.quantity), "unit": fee.unit,
               "rate": _decimal(fee.unit_price), "currency": fee.currency, "amount": _decimal(fee.amount),
               "amount_btc": fee.amount_sats,
               "coverage_percent": f"{fee.coverage_bps / 100:.2f}" if fee.coverage_bps is not None else ""}


_REWARD_BTC = ("gross_reward_btc", "pool_fee_btc", "net_reward_btc", "provider_share_btc", "customer_share_btc")


def statement_total_rows(data: StatementData) -> Iterator[dict]:
    """One row per total of the statement (kind "total"), for the CSV's foot."""
    blank = dict.fromkeys(STATEMENT_COLUMNS, "")
    for key, words, attr in STATEMENT_TOTALS:
        yield {**blank, **dict.fromkeys(_REWARD_BTC), "kind": "total", "memo": key, "description": words,
               "currency": "BTC", "amount_btc": getattr(data, attr)}


def _stream(columns: list[str], rows) -> Iterator[str]:
    btc = [c in BTC_COLUMNS or c == "amount_btc" for c in columns]
    yield _csv_line(columns)
    for row in rows:
        yield _csv_line([(btc_str(row[c]) if row[c] is not None else "") if is_btc else row[c]
                         for c, is_btc in zip(columns, btc, strict=True)])


def statement_csv_stream(data: StatementData) -> Iterator[str]:
    """Every line of the statement (rewards, late rewards, pending, adjustments), its fee lines, then its totals
    (kind "total"); BTC with 8 places."""
    return _stream(STATEMENT_COLUMNS, itertools.chain(statement_rows(data, fees=True), statement_total_rows(data)))


def month_csv_stream(*, scope: Scope, period, detail: bool) -> Iterator[str]:
    """The provider's summary (or detail) of a closed month; the whole month is verified before this returns."""
    month_verify(scope=scope, period=period)
    if detail:
        return _stream(DETAIL_COLUMNS, detail_rows(scope=scope, period=period))
    return _stream(SUMMARY_COLUMNS, summary_rows_with_total(scope=scope, period=period))


def statement_xlsx(data: StatementData) -> bytes:
    """A Summary sheet (the totals) and a Lines sheet (every line, its fee lines, a total row), typed for an
    accountant (billing/exports_typed.py): human headers, widths, a frozen header, dates as dates, BTC as numbers."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    summary = {"customer": data.customer_name, "period": f"{data.period:%Y-%m}", "content_hash": data.content_hash}
    summary.update({f"{key}_btc": getattr(data, attr) for key, _, attr in STATEMENT_TOTALS})
    cols = [c for c in MONTH_SUMMARY_COLS if c.key in summary]
    typed_sheet(wb, "Summary", cols, [summary])
    # The total row sums the billed reward lines (pending ones are not billed; fees and adjustments have their
    # own signs and are totalled on the Summary sheet).
    typed_sheet(wb, "Lines", STATEMENT_LINE_COLS, statement_rows(data, fees=True),
                total_label=("kind", "Total billed rewards"), total_keys=set(_REWARD_BTC),
                in_total=lambda row: row["kind"] in (LineKind.REWARD, LineKind.LATE_REWARD))
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

