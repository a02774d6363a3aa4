"""Exports of a closed month: summary and detail as CSV (streamed) or XLSX, and one PDF statement per customer.

Why verify first: every closed statement's content hash is recomputed from the stored rows before anything is
written, so an export never carries a statement that differs from the one closed. Rows are read with
`.iterator()` and written as they come, so a CSV of 10,000 customers costs the same memory as one of 10.
Files are written beside the target and renamed into place: a failed export leaves no partial file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from billing.exports.typed import MONTH_DETAIL_COLS, MONTH_SUMMARY_COLS, typed_sheet
from billing.models import FeeKind, LineKind, Statement, StatementFee, StatementLine
from billing.money import btc_str
from billing.selectors.months import billing_month_is_closed
from billing.snapshot import FEE_FIELDS, FEE_STORED_FIELDS, LINE_FIELDS, StatementHasher, statement_load
from tenants.access import Scope, scoped
from tenants.exports_safety import safe_csv_writer

SUMMARY_COLUMNS = [
    "customer", "period", "gross_reward_btc", "pool_fee_btc", "net_reward_btc", "provider_share_btc",
    "customer_share_btc", "held_by_provider_btc", "held_by_customer_btc", "hosting_fee_btc", "sla_credit_btc",
    "adjustments_btc", "pending_reward_btc", "customer_net_btc", "content_hash",
]
_SUMMARY_SATS = [
    ("gross_reward_btc", "gross_sats"), ("pool_fee_btc", "pool_fee_sats"), ("net_reward_btc", "net_sats"),
    ("provider_share_btc", "provider_share_sats"), ("customer_share_btc", "customer_share_sats"),
    ("held_by_provider_btc", "held_by_provider_sats"), ("held_by_customer_btc", "held_by_customer_sats"),
    ("hosting_fee_btc", "hosting_fee_sats"), ("sla_credit_btc", "sla_credit_sats"),
    ("adjustments_btc", "adjustments_sats"), ("pending_reward_btc", "pending_sats"),
    ("customer_net_btc", "customer_net_sats"),
]
DETAIL_COLUMNS = [
    "customer", "account", "date", "kind", "gross_reward_btc", "pool_fee_btc", "net_reward_btc", "revenue_share_bps",
    "provider_share_btc", "customer_share_btc", "paid_to", "payout_address", "tx_hash", "fpps_rate", "hashrate_hs",
    # Fee and adjustment lines (empty on reward lines): what was counted, at what rate, in the fee currency, and the
    # satoshis charged (negative for credits and for adjustments in the customer's favour).
    "description", "quantity", "unit", "rate", "currency", "amount", "amount_btc", "coverage_percent",
]
# A fee line's `kind` in the detail export: one name per meaning, beside the reward kinds.
FEE_EXPORT_KIND = {FeeKind.MACHINES: "machine_fee", FeeKind.POWER: "power_fee", FeeKind.MINIMUM: "minimum_fee",
                   FeeKind.SLA_CREDIT: "sla_credit"}
BTC_COLUMNS = {c for c in SUMMARY_COLUMNS + DETAIL_COLUMNS if c.endswith("_btc")}


class ExportRefused(ValidationError):
    """The month cannot be exported (not closed, or a statement fails its content hash)."""


def _statements(scope: Scope, period: date):
    return scoped(Statement, scope).filter(period=period)


_LINE = {name: i + 1 for i, name in enumerate(LINE_FIELDS)}  # positions in the streamed line tuples
_FEE = {name: i + 1 for i, name in enumerate(FEE_STORED_FIELDS)}  # positions in the streamed fee tuples
_HASHED_FEE = slice(1, len(FEE_FIELDS) + 1)


def _verified_lines(scope: Scope, period: date, *, fees_too: bool = False) -> Iterator[tuple[Statement, tuple]]:
    """Every stored line of the month's statements, each statement's hash checked at its end.

    One streamed pass over statements, lines and fees in statement id order (a close writes statements in
    customer-name order, so this is also the bookkeeper's order), merged by statement: the detail export writes
    while it verifies, and its temporary file is dropped if any statement fails. Lines come as tuples
    (statement_id, *LINE_FIELDS); with `fees_too`, each statement's fees follow its lines as
    ("fee", statement_id, *FEE_STORED_FIELDS).
    """
    if not billing_month_is_closed(scope=scope, period=period):
        raise ExportRefused({"period": f"{period:%Y-%m} is not closed yet; run close_month {period:%Y-%m} first."})
    statements = _statements(scope, period).order_by("pk").iterator(chunk_size=2000)
    lines = (StatementLine.objects.filter(statement__in=_statements(scope, period))
             .order_by("statement_id", "position").values_list("statement_id", *LINE_FIELDS).iterator(chunk_size=5000))
    fees = (StatementFee.objects.filter(statement__in=_statements(scope, period))
            .order_by("statement_id", "position").values_list("statement_id", *FEE_STORED_FIELDS)
            .iterator(chunk_size=5000))
    line, fee = next(lines, None), next(fees, None)
    for statement in statements:
        hasher = StatementHasher(statement)
        while line is not None and line[0] == statement.pk:
            hasher.line_values(line[1:])
            yield statement, line
            line = next(lines, None)
        while fee is not None and fee[0] == statement.pk:
            hasher.fee_values(fee[_HASHED_FEE])
            if fees_too:
                yield statement, ("fee", *fee)
            fee = next(fees, None)
        if hasher.hexdigest() != statement.content_hash:
            raise ExportRefused({"statement": (
                f"The closed statement of {statement.customer_name} for {period:%Y-%m} no longer matches the content "
                f"hash recorded at close: its stored rows were changed outside the portal. Nothing was exported.")})


def month_verify(*, scope: Scope, period: date) -> int:
    """Recompute every closed statement's hash from its stored rows (streamed); raise on the first mismatch."""
    for _ in _verified_lines(scope, period):
        pass
    return _statements(scope, period).count()


def summary_rows(*, scope: Scope, period: date) -> Iterator[dict[str, Any]]:
    for s in _statements(scope, period).order_by("pk").iterator(chunk_size=2000):
        row: dict[str, Any] = {"customer": s.customer_name, "period": f"{s.period:%Y-%m}",
                               "content_hash": s.content_hash}
        for column, attr in _SUMMARY_SATS:
            row[column] = getattr(s, attr)
        yield row


def summary_rows_with_total(*, scope: Scope, period: date) -> Iterator[dict[str, Any]]:
    """The summary rows, then one "Total" row: every BTC column summed exactly over the customers (no hash)."""
    sums = dict.fromkeys((c for c, _ in _SUMMARY_SATS), 0)
    n = 0
    for row in summary_rows(scope=scope, period=period):
        for column in sums:
            sums[column] += row[column]
        n += 1
        yield row
    yield {"customer": f"Total ({n} customers)", "period": f"{period:%Y-%m}", "content_hash": "", **sums}


def _dec(value: Any) -> str:
    return f"{value.normalize():f}" if value is not None else ""


def detail_rows(*, scope: Scope, period: date) -> Iterator[dict[str, Any]]:
    """Every line of the month's statements, verified as it streams: reward lines billed in the month (late rewards
    of earlier months marked by `kind`), adjustments, then each fee and credit line with its quantity, unit, rate
    and, for usage-based lines, the coverage it was priced on. Pending rewards are not billed and not listed."""
    billed = (LineKind.REWARD, LineKind.LATE_REWARD)
    blank = dict.fromkeys(DETAIL_COLUMNS, "")
    c, f = _LINE, _FEE
    for statement, r in _verified_lines(scope, period, fees_too=True):
        if r[0] == "fee":
            r = r[1:]
            coverage = r[f["coverage_bps"]]
            yield {**blank, "customer": statement.customer_name, "date": r[f["start"]].isoformat(),
                   "kind": FEE_EXPORT_KIND.get(r[f["kind"]], r[f["kind"]]), "description": r[f["description"]],
                   "quantity": _dec(r[f["quantity"]]), "unit": r[f["unit"]], "rate": _dec(r[f["unit_price"]]),
                   "currency": r[f["currency"]], "amount": _dec(r[f["amount"]]), "amount_btc": r[f["amount_sats"]],
                   "coverage_percent": f"{coverage / 100:.2f}" if coverage is not None else "",
                   **{col: None for col in _REWARD_BTC}}
            continue
        if r[c["kind"]] == LineKind.ADJUSTMENT:
            yield {**blank, "customer": statement.customer_name, "kind": "adjustment", "description": r[c["memo"]],
                   "quantity": "1", "currency": "BTC", "amount_btc": r[c["amount_sats"]],
                   **{col: None for col in _REWARD_BTC}}
            continue
        if r[c["kind"]] not in billed:
            continue
        fpps, hs = r[c["fpps_rate"]], r[c["hashrate_hs"]]
        yield {**blank, "customer": statement.customer_name, "account": r[c["account_name"]],
               "date": r[c["date"]].isoformat(), "kind": r[c["kind"]], "gross_reward_btc": r[c["gross_sats"]],
               "pool_fee_btc": r[c["pool_fee_sats"]], "net_reward_btc": r[c["net_sats"]],
               "revenue_share_bps": r[c["revenue_share_bps"]], "provider_share_btc": r[c["provider_share_sats"]],
               "customer_share_btc": r[c["customer_share_sats"]], "paid_to": r[c["paid_to"]],
               "payout_address": r[c["payout_address"]], "tx_hash": r[c["tx_hash"]],
               "fpps_rate": f"{fpps.normalize():f}" if fpps is not None else "",
               "hashrate_hs": f"{hs.normalize():f}" if hs is not None else "", "amount_btc": None}


_REWARD_BTC = ("gross_reward_btc", "pool_fee_btc", "net_reward_btc", "provider_share_btc", "customer_share_btc")


def _atomic_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def export_csv(*, scope: Scope, period: date, path: Path, detail: bool = False) -> int:
    if not detail:  # the detail verifies as it streams
        month_verify(scope=scope, period=period)
    tmp = _atomic_path(path)
    rows = detail_rows(scope=scope, period=period) if detail else summary_rows_with_total(scope=scope, period=period)
    count = 0
    try:
        columns = DETAIL_COLUMNS if detail else SUMMARY_COLUMNS
        btc = [c in BTC_COLUMNS for c in columns]
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = safe_csv_writer(fh)  # every text cell inert (tenants/exports_safety.py)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([(btc_str(row[c]) if row[c] is not None else "") if is_btc else row[c]
                                 for c, is_btc in zip(columns, btc, strict=True)])
                count += 1
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def export_xlsx(*, scope: Scope, period: date, path: Path, detail: bool = False,
                progress: Callable[[int], None] | None = None) -> int:
    """Summary sheet with a total row (and a Detail sheet with --detail: every reward, adjustment and fee line),
    typed for an accountant (billing/exports_typed.py): human headers, widths, a frozen header, dates as dates,
    BTC as exact numbers shown with 8 places.

    `progress(n)` is told after each customer's summary row (the portal's export job shows "3 of 40 customers").
    """
    from openpyxl import Workbook

    month_verify(scope=scope, period=period)  # (the Detail sheet verifies again as it streams)
    wb = Workbook(write_only=True)
    count = typed_sheet(wb, "Summary", MONTH_SUMMARY_COLS, summary_rows(scope=scope, period=period),
                        after_row=progress, total_label=("customer", "Total"))
    if detail:
        count += typed_sheet(wb, "Detail", MONTH_DETAIL_COLS, detail_rows(scope=scope, period=period))
    tmp = _atomic_path(path)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def statement_html(data: Any, *, provider_name: str, standalone: bool = True) -> str:
    """The statement as HTML: the fragment the portal shows, wrapped as a document for the PDF."""
    template = "portal/billing/statement_document.html" if standalone else "portal/billing/_statement.html"
    context = {"statement": data, "provider_name": provider_name}
    if standalone and getattr(data, "provider_id", None):  # the document carries the provider's brand (issue 21)
        from tenants.brand import brand_for_provider_id, brand_logo_data_uri

        context.update(provider_name=brand_for_provider_id(data.provider_id).name,
                       brand_logo=brand_logo_data_uri(data.provider_id))
    return render_to_string(template, context)


def export_pdf(*, scope: Scope, period: date, directory: Path, provider_name: str,
               progress: Callable[[int], None] | None = None) -> list[Path]:
    """One PDF per customer, `<customer-slug>-<YYYY-MM>.pdf`, from the portal's statement template.

    `progress(n)` is told after each customer's PDF is written.
    """
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(max(logging.WARNING, logging.getLogger("weasyprint").level))
    logging.getLogger("fontTools").setLevel(max(logging.WARNING, logging.getLogger("fontTools").level))
    month_verify(scope=scope, period=period)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for statement in _statements(scope, period).select_related("customer").order_by("customer_name").iterator():
        data = statement_load(statement)
        target = directory / f"{statement.customer.slug}-{period:%Y-%m}.pdf"
        tmp = _atomic_path(target)
        try:
            HTML(string=statement_html(data, provider_name=provider_name)).write_pdf(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(target)
        if progress is not None:
            progress(len(written))
    return written
